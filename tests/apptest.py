"""Running the dashboard under streamlit.testing.v1.AppTest."""
from __future__ import annotations

import functools
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import auth

ENTRY = str(Path(__file__).resolve().parent.parent / "app.py")


TEST_USER = "prueba"


@functools.lru_cache(maxsize=1)
def _test_account() -> str:
    """A local account for the page tests (internal mode opens only after a login)."""
    return auth.hash_password("clave-de-las-pruebas")


def run_app(query_params: dict | None = None, page: str | None = None) -> AppTest:
    """Start the app (optionally on ``app_pages/<page>.py``) with the given URL parameters, logged in
    with a local test account (what the login form leaves in the session after a right password)."""
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.secrets["cuentas"] = {TEST_USER: _test_account()}
    at.session_state["auth_user"] = TEST_USER
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def deck_spec(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[index].proto.json)


def features(at: AppTest, layer_id: str) -> list[dict]:
    for layer in deck_spec(at)["layers"]:
        if layer["id"] == layer_id:
            return layer["data"]["features"]
    raise AssertionError(f"no layer {layer_id!r} on the map")
