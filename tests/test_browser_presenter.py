"""Presenter mode in a real browser, at the two screens of a meeting room (1280 x 720 projector,
1920 x 1080 screen): the picture (title with its period, map or chart, legend, source) fits the
screen without the sidebar; a presentation plays with the keyboard (→ ← Page Down Page Up, Esc to
leave); views are gathered from the pages into the Presentación page; the map names its top and
selected municipalities, finds one from the search box, zooms and resets. Offline: every request
outside localhost is blocked and fails the test. Screenshots go to artifacts/e2e/.
"""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from core import municipality, presentation, views
from core.filters import Filters
from core.presentation import Slide
from tests.test_browser import (  # noqa: F401  (the suite's server, browser and offline guard)
    CHART,
    DECK,
    IDLE,
    SHOTS,
    TIMEOUT_MS,
    Recorder,
    browser,
    core_on_e2e,
    e2e_warehouse,
    server,
    wait_until_drawn,
)

SCREENS = [(1280, 720), (1920, 1080)]
SIDEBAR = '[data-testid="stSidebar"]'
PAGES = ["resumen", "mapa", "municipio", "escuelas", "informes", "comparar", "alertas", "mujeres", "encuestas",
         "seguimiento", "datos_abiertos", "boletin", "calidad", "metodologia", "presentacion"]


class Frames:
    """The messages the server sends to the page (the map's JSON travels in them)."""

    def __init__(self, page: Page):
        self.received: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._got))

    def _got(self, payload) -> None:
        self.received.append(payload if isinstance(payload, bytes) else payload.encode())

    def text_layer_with(self, name: str) -> bool:
        written = json.dumps(name)[1:-1].encode()  # as the map's JSON writes it (accents escaped)
        return any(b"TextLayer" in f and written in f for f in self.received)


def new_page(browser: Browser, width: int, height: int) -> tuple[Page, Recorder]:
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True, locale="es-GT")
    context.set_default_timeout(TIMEOUT_MS)
    recorder = Recorder(context)
    return context.new_page(), recorder


def close(page: Page, recorder: Recorder) -> None:
    page.context.close()
    assert recorder.external == [], f"peticiones fuera de localhost: {recorder.external}"


def inside(page: Page, selector_or_locator, width: int, height: int, what: str) -> dict:
    locator = page.locator(selector_or_locator) if isinstance(selector_or_locator, str) else selector_or_locator
    box = locator.bounding_box()
    assert box is not None, f"{what}: no se ve"
    assert box["x"] >= 0 and box["y"] >= 0, f"{what} empieza fuera de la pantalla: {box}"
    assert box["x"] + box["width"] <= width + 1 and box["y"] + box["height"] <= height + 1, (
        f"{what} no cabe en {width}x{height}: {box}")
    return box


def settle(page: Page) -> None:
    """Idle, and idle again after the rerun the screen size may cause (the browser reports it once)."""
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(1_500)
    page.wait_for_selector(IDLE)


def top_municipalities() -> list[tuple[str, str]]:
    """(code, name) of the municipalities by the map's default measure (rate), highest first, public mode."""
    table = views.municipalities(Filters())
    table = table.assign(value=views.numeric(table["rate"])).dropna(subset=["value"])
    ranked = table.sort_values(["value", "code"], ascending=[False, True])
    return list(zip(ranked["code"], ranked["name"]))


@pytest.mark.parametrize("width,height", SCREENS, ids=[f"{w}x{h}" for w, h in SCREENS])
def test_the_map_fills_the_screen_with_title_period_legend_and_source(browser, server, core_on_e2e, public_mode,
                                                                      width, height):
    ranked = top_municipalities()
    selected = ranked[-1] if width > 1280 else None  # at 1920: the lowest one is selected and named
    page, recorder = new_page(browser, width, height)
    frames = Frames(page)
    page.goto(f"{server}/mapa?presentar=1" + (f"&muni={selected[0]}" if selected else ""))
    canvas = page.locator(f"{DECK} canvas")
    expect(canvas).to_have_count(1)
    settle(page)
    wait_until_drawn(canvas.first, "el mapa de la presentación")

    expect(page.locator(SIDEBAR)).to_be_hidden()  # no sidebar, no filters: the picture only
    title = page.locator("h3").filter(has_text="Tasa por 100,000")
    expect(title).to_contain_text("Incidencia delictiva")
    expect(title).to_contain_text("2013–2022")
    inside(page, title, width, height, "el título")
    map_box = inside(page, canvas.first, width, height, "el mapa")
    assert map_box["height"] >= height - 200 and map_box["width"] >= width * 0.6, map_box  # fills the screen
    legend = page.locator('[data-testid="stDataFrame"]').first
    inside(page, legend, width, height, "la leyenda")
    expect(legend).to_contain_text("Alta")
    source = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Fuente:").first
    expect(source).to_contain_text("DATOS SINTÉTICOS DE DEMOSTRACIÓN")
    inside(page, source, width, height, "la fuente")
    expect(page.get_by_role("button", name="Salir de la presentación")).to_be_visible()

    # the names written on the map: the highest rate, or the selected municipality
    name = selected[1] if selected else ranked[0][1]
    deadline = time.monotonic() + 20
    while not frames.text_layer_with(name):
        assert time.monotonic() < deadline, f"el mapa no escribe «{name}»"
        page.wait_for_timeout(200)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"presentar_mapa_{width}x{height}.png"))
    close(page, recorder)


def test_a_presentation_plays_with_the_keyboard_and_esc_leaves_it(browser, server):
    slides = [Slide("mapa", (("medida", "n"),)), Slide("informes", ()), Slide("resumen", ())]
    page, recorder = new_page(browser, 1280, 720)
    page.goto(f"{server}/mapa?{urlencode(presentation.slide_params(slides, 0))}")
    bar = page.locator(".st-key-presenter_bar")
    expect(bar).to_contain_text("Vista 1 de 3")
    expect(page.locator("h3").filter(has_text="Víctimas")).to_be_visible()
    settle(page)

    page.keyboard.press("ArrowRight")
    expect(bar).to_contain_text("Vista 2 de 3")
    assert urlparse(page.url).path == "/informes"
    chart = page.locator(CHART).first
    expect(chart.locator("svg")).to_have_count(1)
    assert chart.locator("svg g[class*='mark-'] > *").count() > 0
    settle(page)
    chart_box = inside(page, chart, 1280, 720, "el gráfico del informe")
    assert chart_box["height"] >= 720 - 260, chart_box
    expect(chart).to_contain_text("Fuente:")  # title and source inside the picture
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "presentar_informe_1280x720.png"))

    page.keyboard.press("PageDown")  # what a wireless presenter sends
    expect(bar).to_contain_text("Vista 3 de 3")
    assert urlparse(page.url).path in ("/", "")
    settle(page)
    page.keyboard.press("ArrowRight")  # the last slide: nothing after it
    page.wait_for_timeout(1_000)
    expect(bar).to_contain_text("Vista 3 de 3")
    page.keyboard.press("PageUp")
    expect(bar).to_contain_text("Vista 2 de 3")
    settle(page)

    page.keyboard.press("Escape")
    expect(page.locator("h1").first).to_have_text("Constructor de informes")
    expect(page.locator(SIDEBAR)).to_be_visible()
    query = parse_qs(urlparse(page.url).query)
    assert not set(query) & set(presentation.PRESENTER_PARAMS), page.url
    close(page, recorder)


def test_views_gathered_from_the_pages_start_a_presentation(browser, server):
    page, recorder = new_page(browser, 1400, 1000)
    page.goto(f"{server}/mapa?medida=n")
    expect(page.locator("h1").first).to_have_text("Mapa nacional")
    settle(page)
    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_role("button", name="Añadir a la presentación").click()
    expect(page.get_by_text("Vista añadida a la presentación (1 en total).")).to_be_visible()
    settle(page)
    sidebar.get_by_role("link", name="Comparar").click()
    expect(page.locator("h1").first).to_have_text("Comparar")
    settle(page)
    sidebar.get_by_role("button", name="Añadir a la presentación").click()
    expect(page.get_by_text("Vista añadida a la presentación (2 en total).")).to_be_visible()
    settle(page)

    sidebar.get_by_role("link", name="Presentación").click()
    expect(page.locator("h1").first).to_have_text("Presentación")
    editor = page.get_by_role("textbox", name="Vistas de la presentación (una dirección por línea)")
    lines = editor.input_value().splitlines()
    assert lines[0] == "/mapa?medida=n" and lines[1].startswith("/comparar"), lines
    table = page.locator('[data-testid="stDataFrame"]')
    expect(table).to_contain_text("Mapa nacional")
    expect(table).to_contain_text("Comparar")
    with page.expect_download() as info:
        page.get_by_role("button", name="Archivo de la presentación (.txt)").click()
    saved = open(info.value.path(), encoding="utf-8").read()
    assert saved.splitlines()[1:] == lines

    page.get_by_role("link", name="Empezar la presentación").click()
    bar = page.locator(".st-key-presenter_bar")
    expect(bar).to_contain_text("Vista 1 de 2")
    assert presentation.is_on(parse_qs(urlparse(page.url).query))
    expect(page.locator(SIDEBAR)).to_be_hidden()
    settle(page)
    page.keyboard.press("ArrowRight")
    expect(bar).to_contain_text("Vista 2 de 2")
    assert urlparse(page.url).path == "/comparar"
    close(page, recorder)


def test_the_search_box_finds_a_municipality_and_the_zoom_buttons_move_the_map(browser, server, core_on_e2e,
                                                                               public_mode):
    code, name = top_municipalities()[0]
    label = municipality.municipalities().set_index("code").loc[code, "label"]
    page, recorder = new_page(browser, 1280, 720)
    page.goto(f"{server}/mapa?presentar=1")
    canvas = page.locator(f"{DECK} canvas")
    expect(canvas).to_have_count(1)
    settle(page)
    wait_until_drawn(canvas.first, "el mapa")
    whole = canvas.first.screenshot()

    search = page.locator('[data-testid="stSelectbox"]').filter(has_text="Buscar un municipio")
    search.click()
    page.keyboard.type(name)
    page.get_by_role("option", name=label, exact=True).click()
    settle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query.get("muni") == [code] and query.get("zoom") == ["2"], page.url  # found, highlighted, zoomed in
    wait_until_drawn(page.locator(f"{DECK} canvas").first, "el mapa acercado")
    closer = page.locator(f"{DECK} canvas").first.screenshot()
    assert closer != whole

    page.get_by_role("button", name="Acercar").click()
    settle(page)
    assert parse_qs(urlparse(page.url).query).get("zoom") == ["3"]
    page.get_by_role("button", name="Restablecer").click()
    settle(page)
    query = parse_qs(urlparse(page.url).query)
    assert "zoom" not in query and query.get("muni") == [code], page.url  # the whole country, still highlighted
    close(page, recorder)


def test_every_page_opens_in_presenter_mode_without_the_sidebar_or_an_error(browser, server):
    page, recorder = new_page(browser, 1280, 720)
    for path in PAGES:
        page.goto(f"{server}/{path}?presentar=1")
        expect(page.locator(".st-key-presenter_bar")).to_contain_text("Salir de la presentación")
        page.wait_for_selector(IDLE)
        expect(page.locator(SIDEBAR)).to_be_hidden()
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert "None" not in page.locator('[data-testid="stMain"]').inner_text(), path
    close(page, recorder)
