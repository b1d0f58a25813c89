"""Login for the internal mode: password hashes, the account table, the throttle (core/auth.py) and the
gate in app.py under AppTest (the real browser is in test_browser_login.py)."""
from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from tests.apptest import ENTRY

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "faro-de-la-atalaya-7"
STORED = auth.hash_password(PASSWORD)  # computed once: each hash costs 600,000 iterations


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_hash_round_trip_and_format():
    scheme, iterations, salt, digest = STORED.split("$")
    assert scheme == "pbkdf2_sha256" and int(iterations) >= 600_000
    # An independent computation with the standard library gives the stored hash.
    expected = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), base64.b64decode(salt), int(iterations))
    assert base64.b64decode(digest) == expected
    assert auth.verify_password(PASSWORD, STORED)
    assert auth.hash_password(PASSWORD) != STORED  # a fresh random salt every time


def test_wrong_password_is_refused():
    assert not auth.verify_password(PASSWORD + "x", STORED)
    assert not auth.verify_password("", STORED)
    assert not auth.verify_password(PASSWORD.upper(), STORED)


def test_too_few_iterations_are_refused_when_hashing():
    with pytest.raises(auth.AccountError, match="600,000"):
        auth.hash_password(PASSWORD, iterations=1000)


@pytest.mark.parametrize("stored, message", [
    ("", "cuatro partes"),
    ("hunter2", "cuatro partes"),
    ("md5$600000$c2FsdHNhbHQ=$aGFzaA==", "Esquema «md5» desconocido"),
    ("pbkdf2_sha256$muchas$c2FsdHNhbHQ=$aGFzaA==", "no es un entero"),
    ("pbkdf2_sha256$1000$c2FsdHNhbHQ=$" + "A" * 43 + "=", "1,000 iteraciones"),
    ("pbkdf2_sha256$99999999999$c2FsdHNhbHQ=$" + "A" * 43 + "=", "se admiten"),
    ("pbkdf2_sha256$600000$no base64!$" + "A" * 43 + "=", "La sal no está en base64"),
    ("pbkdf2_sha256$600000$c2FsdHNhbHQ=$aGFzaA==", "largo inválido"),
])
def test_malformed_hash_is_refused_with_a_clear_error(stored, message):
    with pytest.raises(auth.AccountError, match=message):
        auth.parse_hash(stored)
    with pytest.raises(auth.AccountError):
        auth.verify_password(PASSWORD, stored)


def test_account_table_parsing():
    accounts = auth.load_accounts({"cuentas": {"ana": STORED, " Luis.P ": STORED}, "modo": "interno"})
    assert set(accounts) == {"ana", "luis.p"}
    assert accounts["ana"].iterations == 600_000 and len(accounts["ana"].digest) == 32
    assert auth.load_accounts({}) == {}
    assert auth.load_accounts({"cuentas": {}}) == {}
    with pytest.raises(auth.AccountError, match="«ana»: hash de contraseña inválido") as err:
        auth.load_accounts({"cuentas": {"ana": "secreto"}})
    assert "secreto" not in str(err.value)  # the message names the user, never the stored value
    with pytest.raises(auth.AccountError, match="solo puede tener"):
        auth.load_accounts({"cuentas": {"ana maría": STORED}})
    with pytest.raises(auth.AccountError, match="repetido"):
        auth.load_accounts({"cuentas": {"Ana": STORED, "ana": STORED}})
    with pytest.raises(auth.AccountError, match=r"tabla \[cuentas\]"):
        auth.load_accounts({"cuentas": "ana"})


def test_oidc_is_detected_from_the_auth_table():
    assert auth.oidc_configured({"auth": {"redirect_uri": "https://x/oauth2callback", "client_id": "a"}})
    assert not auth.oidc_configured({"auth": {}})
    assert not auth.oidc_configured({"cuentas": {"ana": STORED}})


def test_login_with_the_same_message_for_unknown_user_and_wrong_password():
    accounts = auth.load_accounts({"cuentas": {"ana": STORED}})
    throttle = auth.Throttle(clock=Clock())
    wrong = auth.attempt_login(accounts, throttle, "ana", "otra-contraseña")
    unknown = auth.attempt_login(accounts, throttle, "nadie", "otra-contraseña")
    assert not wrong.ok and not unknown.ok
    assert wrong.message == unknown.message
    assert wrong.message.startswith("Usuario o contraseña incorrectos.")
    ok = auth.attempt_login(accounts, auth.Throttle(clock=Clock()), "  ANA ", PASSWORD)
    assert ok.ok and ok.user == "ana"


def test_throttle_delays_grow_per_user_and_reset_after_success():
    clock = Clock()
    throttle = auth.Throttle(clock=clock)
    accounts = auth.load_accounts({"cuentas": {"ana": STORED}})
    delays = []
    for _ in range(7):
        result = auth.attempt_login(accounts, throttle, "ana", "mala")
        assert not result.ok
        delays.append(throttle.wait("ana"))
        clock.now += delays[-1]  # wait exactly as long as asked
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert throttle.failures("ana") == 7
    # Another user name is not slowed down by ana's failures.
    assert throttle.wait("luis") == 0
    # While slowed down, even the right password is not checked.
    auth.attempt_login(accounts, throttle, "ana", "mala")
    blocked = auth.attempt_login(accounts, throttle, "ana", PASSWORD)
    assert not blocked.ok and "espere 30 s" in blocked.message and "no se revisó" in blocked.message
    assert throttle.failures("ana") == 8  # a refused attempt is not counted again
    clock.now += 30
    assert auth.attempt_login(accounts, throttle, "ana", PASSWORD).ok
    assert throttle.failures("ana") == 0 and throttle.wait("ana") == 0
    assert auth.attempt_login(accounts, throttle, "ana", "mala").message.endswith("en 1 s.")


def test_unknown_users_are_slowed_down_like_known_ones():
    clock = Clock()
    throttle = auth.Throttle(clock=clock)
    for name in ("ana", "nadie"):
        auth.attempt_login({"ana": auth.parse_hash(STORED)}, throttle, name, "mala")
        auth.attempt_login({"ana": auth.parse_hash(STORED)}, throttle, name, "mala")
    assert throttle.wait("ana") == throttle.wait("nadie") == 1  # second attempt was refused while waiting 1 s


def test_throttle_memory_is_bounded():
    throttle = auth.Throttle(clock=Clock(), max_tracked=3)
    for name in ("a", "b", "c", "d"):
        throttle.fail(name)
    assert throttle.failures("a") == 0 and throttle.failures("d") == 1


def test_new_account_command_prints_a_line_that_verifies():
    script = ("import getpass, sys; from core import auth; getpass.getpass = lambda prompt='': 'clave-larga-123';"
              "sys.exit(auth.main(['nueva-cuenta', 'Ana']))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name, value = done.stdout.strip().split(" = ")
    assert name == "ana"
    assert auth.verify_password("clave-larga-123", value.strip('"'))
    assert "[cuentas]" in done.stderr
    # The command refuses short passwords and bad user names.
    with pytest.raises(auth.AccountError, match="al menos 10"):
        auth.account_line("ana", "corta")
    with pytest.raises(auth.AccountError, match="solo puede tener"):
        auth.account_line("ana maría", "clave-larga-123")


# --- the gate in app.py under AppTest (internal mode: the autouse fixture of conftest.py) ---

def _app(secrets: dict) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    for key, value in secrets.items():
        at.secrets[key] = value
    return at


def test_internal_mode_without_accounts_stops_with_instructions(demo):
    at = _app({"modo": "interno", "cuentas": {}})
    at.run()
    assert not at.exception
    assert "python -m core.auth nueva-cuenta" in at.error[0].value and "[cuentas]" in at.error[0].value
    assert not at.metric and not at.multiselect and not at.text_input and not at.title


def test_internal_mode_shows_only_the_login_until_the_password_is_right(demo):
    at = _app({"cuentas": {"ana": STORED}})
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Atalaya · acceso interno"]
    assert not at.metric and not at.multiselect and not at.get("vega_lite_chart") and not at.warning
    at.text_input[0].input("ana")
    at.text_input[1].input("mala")
    at.button[0].click().run()
    assert at.error[0].value.startswith("Usuario o contraseña incorrectos.")
    assert not at.metric
    auth.THROTTLE.reset("ana")
    at.text_input[0].input("ana")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Resumen" and "Víctimas registradas" in {m.label for m in at.metric}
    assert any("ana" in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="logout").click().run()
    assert [t.value for t in at.title] == ["Atalaya · acceso interno"] and not at.metric


def test_broken_account_table_lets_nobody_in(demo):
    at = _app({"cuentas": {"ana": "secreto"}})
    at.run()
    assert not at.exception
    assert "tienen un error" in at.error[0].value and "secreto" not in at.error[0].value
    assert not at.text_input and not at.metric


def test_oidc_shows_the_institutional_button(demo):
    at = _app({"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                        "client_id": "atalaya", "client_secret": "y",
                        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"},
               "cuentas": {"ana": STORED}})
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Entrar con la cuenta institucional"]  # OIDC wins over [cuentas]
    assert not at.text_input and not at.metric
    at.user = {"is_logged_in": True, "name": "Ana Pérez", "email": "ana@ministerio.example"}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Resumen" and at.metric
    assert any("Ana Pérez" in c.value for c in at.sidebar.caption)


def test_public_mode_needs_no_login(demo, public_mode):
    at = _app({"cuentas": {"ana": STORED}})
    at.run()
    assert not at.exception
    assert at.title[0].value == "Resumen" and at.metric


def test_public_mode_does_not_show_the_warehouse_path(tmp_path, use_warehouse, public_mode):
    missing = use_warehouse(tmp_path / "no-existe.duckdb")
    at = _app({})
    at.run()
    assert not at.exception
    assert "no están disponibles" in at.error[0].value
    assert str(missing) not in at.error[0].value and "atalaya-load" not in at.error[0].value
