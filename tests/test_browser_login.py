"""The login of the internal mode and the error screen of the public mode in a real browser
(Debian's Chromium through Playwright against `streamlit run`), reusing test_browser.py's helpers.

The internal server reads a secrets file in a temporary folder (`--secrets.files`): the
repository's .streamlit/secrets.toml is never written.
"""
from __future__ import annotations

import re
import shutil
import time

import duckdb
import pytest
from playwright.sync_api import Page, expect

from core import auth, fmt, rates, warehouse
from core.filters import Filters
from tests.test_browser import (  # noqa: F401  (browser and e2e_warehouse are fixtures)
    IDLE,
    ROOT,
    TIMEOUT_MS,
    Recorder,
    _require_chromium,
    browser,
    e2e_warehouse,
    metric_value,
    start_server,
    stop_server,
)

USER, PASSWORD = "ana", "faro-de-la-atalaya-7"
LOGIN_TITLE = "Atalaya · acceso interno"


@pytest.fixture(scope="module")
def internal_server(e2e_warehouse, tmp_path_factory):
    """Internal mode with one local account in a secrets file outside the repository."""
    _require_chromium()
    tmp = tmp_path_factory.mktemp("login")
    secrets = tmp / "secrets.toml"
    secrets.write_text(f"[{auth.ACCOUNTS_KEY}]\n{auth.account_line(USER, PASSWORD)}\n", encoding="utf-8")
    proc, url, log_path = start_server(tmp, e2e_warehouse, "interno", "--secrets.files", str(secrets))
    yield url
    stop_server(proc)
    assert PASSWORD not in log_path.read_text()


@pytest.fixture(scope="module")
def broken_public_server(e2e_warehouse, tmp_path_factory):
    """Public mode over a copy of the warehouse without its population table: the Resumen page fails."""
    _require_chromium()
    tmp = tmp_path_factory.mktemp("broken")
    path = tmp / "warehouse.duckdb"
    shutil.copy(e2e_warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE population")
    proc, url, log_path = start_server(tmp, path, "publico")
    yield url, log_path
    stop_server(proc)


@pytest.fixture()
def page(browser, request) -> Page:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-GT")
    ctx.set_default_timeout(TIMEOUT_MS)
    recorder = Recorder(ctx)
    p = ctx.new_page()
    yield p
    ctx.close()
    assert recorder.external == [], f"peticiones fuera de localhost: {recorder.external}"


def _settled(page: Page) -> None:
    page.wait_for_selector(IDLE)


def _login(page: Page, user: str, password: str) -> None:
    page.get_by_label("Usuario").fill(user)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()


def _municipality_names() -> list[str]:
    return warehouse.query("SELECT name FROM territory WHERE level = 'municipio' AND length(name) >= 8")["name"].tolist()


def test_internal_mode_shows_nothing_before_login_then_the_right_password_enters(
        page, internal_server, e2e_warehouse, monkeypatch):
    monkeypatch.setenv("ATALAYA_WAREHOUSE", str(e2e_warehouse))
    monkeypatch.setenv("ATALAYA_MODO", "interno")  # exact figures, as the internal server shows them
    warehouse.close_all()
    try:
        names = _municipality_names()
        expected = fmt.integer(rates.headline(Filters()).count)
    finally:
        warehouse.close_all()

    # A deep link to another page does not get past the login either.
    for path in ("mapa", ""):
        page.goto(f"{internal_server}/{path}")
        expect(page.locator("h1").first).to_have_text(LOGIN_TITLE)
        _settled(page)
        assert page.locator('[data-testid="stMetric"], [data-testid="stVegaLiteChart"], '
                            '[data-testid="stDeckGlJsonChart"], [data-testid="stDataFrame"]').count() == 0
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.count() == 0, nav.inner_text()
        text = page.locator("body").inner_text()
        assert "Filtros" not in text and "Resumen" not in text
        assert not [n for n in names if n in text], "un nombre de municipio llegó a la página sin iniciar sesión"

    _login(page, USER, "contraseña-equivocada")
    expect(page.get_by_text("Usuario o contraseña incorrectos.")).to_be_visible()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    _login(page, "alguien-que-no-existe", "contraseña-equivocada")
    expect(page.locator('[data-testid="stAlert"]')).to_contain_text("Usuario o contraseña incorrectos.")

    time.sleep(1.2)  # the first failure slows the name down for 1 s
    _login(page, USER, PASSWORD)
    expect(page.locator("h1").first).to_have_text("Resumen")
    _settled(page)
    expect(metric_value(page, "Víctimas registradas")).to_have_text(expected)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_contain_text(f"Sesión iniciada: {USER}")

    sidebar.get_by_role("button", name="Salir").click()
    expect(page.locator("h1").first).to_have_text(LOGIN_TITLE)
    _settled(page)
    assert page.locator('[data-testid="stMetric"]').count() == 0


def test_public_mode_page_error_shows_a_spanish_message_without_details(page, broken_public_server):
    url, log_path = broken_public_server
    page.goto(url)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="no pudo completarse")
    expect(alert).to_be_visible()
    _settled(page)
    text = page.locator("body").inner_text()
    for leak in ("population", "Catalog", "Traceback", "duckdb", "SELECT", str(ROOT), "/tmp", "Error:"):
        assert leak not in text, f"«{leak}» llegó a la pantalla"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "population" in log_path.read_text()  # the detail is in the server log


def test_internal_mode_surveys_and_plans_show_every_estimate_with_its_interval(page, internal_server):
    page.goto(f"{internal_server}/encuestas?por=dept_code")
    expect(page.locator("h1").first).to_have_text(LOGIN_TITLE)
    _login(page, USER, PASSWORD)
    expect(page.locator("h1").first).to_have_text("Encuestas de victimización y percepción")
    _settled(page)
    interval = metric_value(page, "Intervalo de confianza del 95 %")
    expect(interval).to_have_text(re.compile(r"^\d+\.\d % a \d+\.\d %$"))
    expect(page.locator('[data-testid="stDeckGlJsonChart"] canvas')).to_have_count(1)
    table = page.locator('[data-testid="stDataFrame"]').last
    expect(table).to_contain_text("IC 95 % inferior")
    expect(table).to_contain_text("Guatemala")

    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Seguimiento de planes").click()
    expect(page.locator("h1").first).to_have_text("Seguimiento de planes")
    _settled(page)
    expect(page.locator('[data-testid="stVegaLiteChart"] svg')).to_have_count(1)
    body = page.locator('[data-testid="stMain"]')
    expect(body).to_contain_text("PV-01")
    expect(body).to_contain_text("Regla del estado.")
    assert "None" not in body.inner_text()
