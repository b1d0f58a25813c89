"""A regional deployment in a real browser (the suite's Chromium, offline guard and server), in
public mode: the Región page draws both countries' rates and department maps, and the country
chosen in the sidebar changes what every page reads."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from core import countries
from tests.test_browser import (  # noqa: F401  (the suite's browser, offline guard and helpers)
    CHART,
    DECK,
    IDLE,
    SHOTS,
    TIMEOUT_MS,
    Recorder,
    browser,
    start_server,
    stop_server,
    wait_until_drawn,
)
from tests.test_regional import write_registry


@pytest.fixture(scope="module")
def region_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("region_e2e")
    registry = write_registry(folder, 0.05, 2024)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(countries.ENV_VAR, str(registry))
        proc, url, _log = start_server(folder, folder / "gt.duckdb", "publico")
    yield url
    stop_server(proc)


def test_region_page_and_country_switch_in_a_browser(browser, region_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-GT")
    context.set_default_timeout(TIMEOUT_MS)
    recorder = Recorder(context)
    page = context.new_page()

    page.goto(f"{region_server}/region")
    expect(page.locator("h1").first).to_have_text("Región")
    chart = page.locator(CHART).first
    expect(chart.locator("svg")).to_have_count(1)
    assert chart.locator("svg g[class*='mark-'] > *").count() > 0
    expect(chart).to_contain_text("Homicidio doloso")
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_contain_text("Guatemala")
    expect(table).to_contain_text("Honduras")
    canvases = page.locator(f"{DECK} canvas")
    expect(canvases).to_have_count(2)
    for i in range(2):
        wait_until_drawn(canvases.nth(i), f"el mapa {i} de la región")
    page.wait_for_selector(IDLE)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "region.png"), full_page=True)

    # the sidebar's country: the summary of Honduras, with its own period
    page.goto(f"{region_server}/")
    expect(page.locator("h1").first).to_have_text("Resumen")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="País").click()
    page.get_by_role("option", name="Honduras", exact=True).click()
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("Honduras")
    page.wait_for_selector(IDLE)
    assert parse_qs(urlparse(page.url).query).get("pais") == ["HN"]
    expect(page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first).to_contain_text("2020–2022")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    context.close()
    assert recorder.external == [], recorder.external
