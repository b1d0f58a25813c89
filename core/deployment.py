"""The deployment mode: ``publico`` (the default: statistical disclosure control applies) or
``interno`` (every figure exact, for staff behind a login).

Read from the environment variable ``ATALAYA_MODO`` or, if it is not set, the key ``modo`` of
``.streamlit/secrets.toml``. Cached results are kept per mode (``warehouse.cached``), so a figure
computed for one mode is never served in the other.
"""
from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

ENV_VAR = "ATALAYA_MODO"
SECRETS_KEY = "modo"
PUBLIC, INTERNAL = "publico", "interno"
_ALIASES = {"publico": PUBLIC, "público": PUBLIC, "public": PUBLIC,
            "interno": INTERNAL, "internal": INTERNAL}
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ModeError(ValueError):
    """The deployment mode is set to a value that is neither 'publico' nor 'interno'."""


def _secrets_paths() -> list[Path]:
    return [Path.cwd() / ".streamlit" / "secrets.toml", PROJECT_ROOT / ".streamlit" / "secrets.toml",
            Path.home() / ".streamlit" / "secrets.toml"]


@functools.lru_cache(maxsize=8)
def _secrets_mode(path: Path, mtime: float) -> str | None:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ModeError(f"{path}: no es TOML válido ({exc}).") from None
    value = data.get(SECRETS_KEY)
    if value is None:
        return None
    return _normalise(value, f"{path}, clave '{SECRETS_KEY}'")


def _normalise(value, where: str) -> str:
    mode = _ALIASES.get(str(value).strip().lower())
    if mode is None:
        raise ModeError(f"{where} = {value!r}: se esperaba 'publico' o 'interno'.")
    return mode


def mode() -> str:
    """'publico' or 'interno': the environment variable wins over the secrets file; default public."""
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        return _normalise(value, f"Variable de entorno {ENV_VAR}")
    for path in _secrets_paths():
        if path.is_file():
            found = _secrets_mode(path, path.stat().st_mtime)
            if found is not None:
                return found
    return PUBLIC


def is_public() -> bool:
    return mode() == PUBLIC
