"""Login for the internal mode: local accounts, password hashes and the failed-attempt throttle.

Pure Python (no Streamlit): app.py draws the form and passes the secrets mapping in.

Two ways in, chosen by the secrets (``.streamlit/secrets.toml``, never versioned):

- an ``[auth]`` table: the ministry's identity provider through Streamlit's native OIDC login
  (``st.login``); it wins when present;
- otherwise a ``[cuentas]`` table of local accounts for an offline laptop, one line per user::

      [cuentas]
      ana = "pbkdf2_sha256$600000$<salt base64>$<hash base64>"

  The line is printed by ``python -m core.auth nueva-cuenta ana`` (asks the password twice).

Failed attempts are slowed down per user name (known or not): after the n-th failure in a row the
next attempt for that name is refused for min(1 s · 2^(n-1), 30 s), kept in process memory. The
message never says whether the user exists.
"""
from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import math
import re
import secrets as _secrets
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SCHEME = "pbkdf2_sha256"
ITERATIONS = 600_000          # OWASP 2023 minimum for PBKDF2-HMAC-SHA256
MAX_ITERATIONS = 10_000_000   # a larger count in the secrets would let one attempt tie up the server
SALT_BYTES = 16
ACCOUNTS_KEY = "cuentas"
OIDC_KEY = "auth"
USER_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10

BAD_CREDENTIALS = "Usuario o contraseña incorrectos."
FIRST_DELAY = 1.0
MAX_DELAY = 30.0
MAX_TRACKED = 10_000          # user names remembered by the throttle (oldest forgotten first)


class AccountError(ValueError):
    """The account table or a stored password hash is not usable (a configuration error)."""


def normalise_user(name: str) -> str:
    return str(name).strip().lower()


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise AccountError(f"{what} no está en base64.") from None


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>`` for a new password."""
    if iterations < ITERATIONS:
        raise AccountError(f"Se necesitan al menos {ITERATIONS:,} iteraciones.")
    if not password:
        raise AccountError("La contraseña está vacía.")
    salt = _secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{SCHEME}${iterations}${_b64encode(salt)}${_b64encode(digest)}"


@dataclass(frozen=True)
class PasswordHash:
    iterations: int
    salt: bytes
    digest: bytes


def parse_hash(stored: str) -> PasswordHash:
    """Parse a stored hash; :class:`AccountError` (in Spanish) when it is not a usable one."""
    if not isinstance(stored, str):
        raise AccountError("El valor no es un texto.")
    parts = stored.strip().split("$")
    if len(parts) != 4:
        raise AccountError(f"Se esperaba «{SCHEME}$<iteraciones>$<sal>$<hash>» (cuatro partes separadas por $).")
    scheme, iterations, salt, digest = parts
    if scheme != SCHEME:
        raise AccountError(f"Esquema «{scheme}» desconocido: se esperaba «{SCHEME}».")
    if not iterations.isdigit():
        raise AccountError("El número de iteraciones no es un entero.")
    count = int(iterations)
    if not ITERATIONS <= count <= MAX_ITERATIONS:
        raise AccountError(f"{count:,} iteraciones: se admiten de {ITERATIONS:,} a {MAX_ITERATIONS:,}.")
    salt_bytes = _b64decode(salt, "La sal")
    digest_bytes = _b64decode(digest, "El hash")
    if len(salt_bytes) < 8 or len(digest_bytes) != hashlib.sha256().digest_size:
        raise AccountError("La sal o el hash tienen un largo inválido.")
    return PasswordHash(count, salt_bytes, digest_bytes)


def verify_password(password: str, stored: str | PasswordHash) -> bool:
    """True when ``password`` matches; a malformed ``stored`` raises :class:`AccountError`."""
    parsed = stored if isinstance(stored, PasswordHash) else parse_hash(stored)
    candidate = hashlib.pbkdf2_hmac("sha256", str(password).encode("utf-8"), parsed.salt, parsed.iterations)
    return hmac.compare_digest(candidate, parsed.digest)


# An unknown user is checked against this hash, so that answering takes as long as for a known one.
_DUMMY = PasswordHash(ITERATIONS, b"atalaya-dummy-salt", hashlib.sha256(b"no account").digest())


def load_accounts(secrets: Mapping) -> dict[str, PasswordHash]:
    """The ``[cuentas]`` table of the secrets, validated: user name -> parsed hash.

    An empty or missing table gives ``{}``; any bad entry raises :class:`AccountError` naming the
    user (never the hash)."""
    table = secrets.get(ACCOUNTS_KEY) if secrets is not None else None
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise AccountError(f"«{ACCOUNTS_KEY}» debe ser una tabla [{ACCOUNTS_KEY}] con una línea usuario = \"hash\".")
    accounts: dict[str, PasswordHash] = {}
    for raw_name, stored in table.items():
        name = normalise_user(raw_name)
        if not USER_PATTERN.match(name):
            raise AccountError(f"[{ACCOUNTS_KEY}] «{raw_name}»: el usuario solo puede tener letras a-z, "
                               "cifras, punto, guion y guion bajo.")
        if name in accounts:
            raise AccountError(f"[{ACCOUNTS_KEY}] «{raw_name}» está repetido.")
        try:
            accounts[name] = parse_hash(stored)
        except AccountError as exc:
            raise AccountError(f"[{ACCOUNTS_KEY}] «{raw_name}»: hash de contraseña inválido. {exc} "
                               "Genere la línea con «python -m core.auth nueva-cuenta " f"{name}».") from None
    return accounts


def oidc_configured(secrets: Mapping) -> bool:
    """True when the secrets hold an ``[auth]`` table for Streamlit's OIDC login (``st.login``)."""
    table = secrets.get(OIDC_KEY) if secrets is not None else None
    return isinstance(table, Mapping) and len(table) > 0


class Throttle:
    """Per-user-name delay after failed attempts, in process memory (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, first: float = FIRST_DELAY,
                 cap: float = MAX_DELAY, max_tracked: int = MAX_TRACKED):
        self._clock = clock
        self._first = first
        self._cap = cap
        self._max = max_tracked
        self._lock = threading.Lock()
        self._state: OrderedDict[str, tuple[int, float]] = OrderedDict()  # name -> (failures, not before)

    def delay_after(self, failures: int) -> float:
        return 0.0 if failures <= 0 else min(self._cap, self._first * 2 ** (failures - 1))

    def wait(self, name: str) -> float:
        """Seconds left before ``name`` may try again (0 when it may)."""
        with self._lock:
            entry = self._state.get(normalise_user(name))
        return 0.0 if entry is None else max(0.0, entry[1] - self._clock())

    def failures(self, name: str) -> int:
        with self._lock:
            entry = self._state.get(normalise_user(name))
        return 0 if entry is None else entry[0]

    def fail(self, name: str) -> float:
        """Record a failure; returns the delay imposed before the next attempt."""
        key = normalise_user(name)
        with self._lock:
            count = self._state.pop(key, (0, 0.0))[0] + 1
            delay = self.delay_after(count)
            self._state[key] = (count, self._clock() + delay)
            while len(self._state) > self._max:
                self._state.popitem(last=False)
        return delay

    def reset(self, name: str) -> None:
        with self._lock:
            self._state.pop(normalise_user(name), None)


@dataclass(frozen=True)
class LoginResult:
    user: str | None       # the normalised user name when the login succeeded
    message: str = ""      # Spanish, for the form when it failed

    @property
    def ok(self) -> bool:
        return self.user is not None


def _seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def _failed_message(delay: float) -> str:
    return f"{BAD_CREDENTIALS} Podrá volver a intentarlo en {_seconds(delay)} s."


def _waiting_message(seconds: float) -> str:
    return (f"Demasiados intentos fallidos con este usuario: espere {_seconds(seconds)} s y vuelva a intentarlo "
            "(la contraseña no se revisó).")


def attempt_login(accounts: Mapping[str, PasswordHash], throttle: Throttle, name: str, password: str) -> LoginResult:
    """Check a login against the local accounts, with the throttle.

    Same message for an unknown user and a wrong password; while the name is being slowed down the
    password is not even checked."""
    key = normalise_user(name)
    waiting = throttle.wait(key)
    if waiting > 0:
        return LoginResult(None, _waiting_message(waiting))
    stored = accounts.get(key)
    matched = verify_password(password, stored if stored is not None else _DUMMY)
    if stored is not None and matched and key:
        throttle.reset(key)
        return LoginResult(key)
    return LoginResult(None, _failed_message(throttle.fail(key)))


THROTTLE = Throttle()  # the server process's one throttle


def account_line(name: str, password: str) -> str:
    """The line to paste under ``[cuentas]`` in secrets.toml."""
    key = normalise_user(name)
    if not USER_PATTERN.match(key):
        raise AccountError("El usuario solo puede tener letras a-z, cifras, punto, guion y guion bajo "
                           "(hasta 64 caracteres).")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")
    return f'{key} = "{hash_password(password)}"'


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "nueva-cuenta":
        print("Uso: python -m core.auth nueva-cuenta USUARIO", file=sys.stderr)
        return 2
    first = getpass.getpass("Contraseña: ")
    if getpass.getpass("Repita la contraseña: ") != first:
        print("Las contraseñas no coinciden.", file=sys.stderr)
        return 1
    try:
        line = account_line(argv[1], first)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"# Pegue esta línea bajo [{ACCOUNTS_KEY}] en .streamlit/secrets.toml:", file=sys.stderr)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
