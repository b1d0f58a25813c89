"""The deployment mode (core/deployment.py): public by default, set by ATALAYA_MODO or secrets.toml."""
from __future__ import annotations

import pytest

from core import deployment


@pytest.fixture()
def no_env(monkeypatch, tmp_path):
    """No environment variable and no secrets file anywhere but the ones a test writes."""
    monkeypatch.delenv(deployment.ENV_VAR, raising=False)
    monkeypatch.setattr(deployment, "_secrets_paths", lambda: [tmp_path / ".streamlit" / "secrets.toml"])
    return tmp_path / ".streamlit" / "secrets.toml"


def test_public_is_the_default(no_env):
    assert deployment.mode() == "publico"
    assert deployment.is_public()


@pytest.mark.parametrize("value,expected", [("interno", "interno"), ("internal", "interno"), (" Interno ", "interno"),
                                            ("publico", "publico"), ("público", "publico"), ("public", "publico")])
def test_environment_variable(no_env, monkeypatch, value, expected):
    monkeypatch.setenv(deployment.ENV_VAR, value)
    assert deployment.mode() == expected


def test_secrets_file_and_the_variable_wins(no_env, monkeypatch):
    no_env.parent.mkdir()
    no_env.write_text('modo = "interno"\n', encoding="utf-8")
    assert deployment.mode() == "interno"
    monkeypatch.setenv(deployment.ENV_VAR, "publico")
    assert deployment.mode() == "publico"


def test_secrets_file_in_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(deployment.ENV_VAR, raising=False)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('otra = 1\nmodo = "internal"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert deployment.mode() == "interno"


def test_bad_values_name_where_they_come_from(no_env, monkeypatch):
    monkeypatch.setenv(deployment.ENV_VAR, "abierto")
    with pytest.raises(deployment.ModeError, match="ATALAYA_MODO.*'abierto'.*publico.*interno"):
        deployment.mode()
    monkeypatch.delenv(deployment.ENV_VAR)
    no_env.parent.mkdir()
    no_env.write_text('modo = "todo"\n', encoding="utf-8")
    with pytest.raises(deployment.ModeError, match=r"secrets\.toml, clave 'modo'.*'todo'"):
        deployment.mode()
    no_env.write_text('modo = "interno\n', encoding="utf-8")
    with pytest.raises(deployment.ModeError, match="no es TOML válido"):
        deployment.mode()
