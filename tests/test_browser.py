"""End-to-end tests in a real browser: Debian's Chromium driven by Playwright against
`streamlit run` on a free localhost port, over a small demo warehouse, in public mode.

Every request that leaves localhost is blocked and recorded: the dashboard must work offline in
a meeting room. Screenshots of every page go to artifacts/e2e/ (git-ignored).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from shapely.geometry import Point, shape

from core import alerts, disclosure, fmt, geo, municipality, rates, warehouse
from core.filters import Filters, filter_options
from core.load.demo import build_demo

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "e2e"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
DECK = '[data-testid="stDeckGlJsonChart"]'
CHART = '[data-testid="stVegaLiteChart"]'
TIMEOUT_MS = 60_000
# Playwright's assertions wait 5 s by default, whatever the context's timeout: on a busy machine a
# map canvas or a rerun takes longer. Every `expect` here waits as long as the other steps.
expect.set_options(timeout=TIMEOUT_MS)

# (URL path, title, maps, charts) of every page, as drawn with the default filters and controls.
PAGES = [
    ("", "Resumen", 0, 1),
    ("mapa", "Mapa nacional", 1, 0),
    ("municipio", "Municipio", 1, 4),
    ("escuelas", "Centros educativos", 1, 1),
    ("informes", "Constructor de informes", 0, 1),
    ("comparar", "Comparar", 1, 0),  # the chart of the other view is checked in its own test
    ("alertas", "Alertas tempranas", 0, None),  # one trend per alert (up to 12, then one more to choose)
    ("mujeres", "Violencia contra las mujeres", 0, 3),
    ("encuestas", "Encuestas de victimización y percepción", 0, 0),
    ("seguimiento", "Seguimiento de planes", 0, 1),
    ("datos_abiertos", "Datos abiertos", 0, 0),
    ("boletin", "Boletín", 0, 0),
    ("calidad", "Calidad de datos", 0, 2),
    ("metodologia", "Metodología y definiciones", 0, 0),
    ("presentacion", "Presentación", 0, 0),
]


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Falta Chromium en {CHROMIUM}: .ci/run lo instala con apt-get")
        pytest.skip("sin Chromium (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Routes every request of a browser context: localhost goes through, anything else is
    aborted and recorded."""

    def __init__(self, context: BrowserContext):
        self.local: list[str] = []
        self.external: list[str] = []
        context.route("**/*", self._route)
        context.on("page", self.watch)

    def _route(self, route) -> None:
        url = route.request.url
        if urlparse(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:")):
            self.local.append(url)
            route.continue_()
        else:
            self.external.append(url)
            route.abort("blockedbyclient")

    def watch(self, page: Page) -> None:
        # WebSockets do not pass through context.route: record them when opened.
        page.on("websocket", lambda ws: (self.local if urlparse(ws.url).hostname in LOCAL_HOSTS
                                         else self.external).append(ws.url))


@pytest.fixture(scope="module")
def e2e_warehouse(tmp_path_factory) -> Path:
    """The demo at scale 0.05: real geography, ~36,000 synthetic incidents (built in ~10 s)."""
    path = tmp_path_factory.mktemp("e2e") / "warehouse.duckdb"
    build_demo(path, seed=2024, scale=0.05, progress=None)
    return path


def start_server(tmp: Path, warehouse_path: Path, mode: str, *extra: str):
    """`streamlit run app.py` on a free localhost port over ``warehouse_path`` in ``mode`` (extra
    Streamlit options in ``extra``), once it answers its health check: (process, url, log path)."""
    port = _free_port()
    log_path = tmp / "streamlit.log"
    env = dict(os.environ, ATALAYA_WAREHOUSE=str(warehouse_path), ATALAYA_MODO=mode)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             *extra],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, url, log_path
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit no arrancó en {url}:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(e2e_warehouse, tmp_path_factory):
    """`streamlit run app.py` on a free localhost port, in public mode (the default deployment)."""
    _require_chromium()
    proc, url, _log = start_server(tmp_path_factory.mktemp("e2e_log"), e2e_warehouse, "publico")
    yield url
    stop_server(proc)


@pytest.fixture()
def fresh_server(e2e_warehouse, tmp_path):
    """A server of its own, just started: the page opened on it is the first session it serves."""
    _require_chromium()
    proc, url, _log = start_server(tmp_path, e2e_warehouse, "publico")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Browser:
    _require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale="es-GT")
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.recorder = Recorder(ctx)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context) -> Page:
    p = context.new_page()
    yield p
    p.close()
    assert context.recorder.external == [], f"peticiones fuera de localhost: {context.recorder.external}"


@pytest.fixture(scope="module")
def core_on_e2e(e2e_warehouse):
    """The core of this test process reading the same warehouse as the server, for expected figures
    (tests that use it also take ``public_mode``: the server publishes in public mode)."""
    previous = os.environ.get("ATALAYA_WAREHOUSE")
    os.environ["ATALAYA_WAREHOUSE"] = str(e2e_warehouse)
    warehouse.close_all()
    yield
    if previous is None:
        os.environ.pop("ATALAYA_WAREHOUSE", None)
    else:
        os.environ["ATALAYA_WAREHOUSE"] = previous
    warehouse.close_all()


def open_page(page: Page, server: str, path: str, title: str) -> None:
    page.goto(f"{server}/{path}")
    expect(page.locator("h1").first).to_have_text(title, timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE)


def metric_value(page: Page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)).locator('[data-testid="stMetricValue"]')


def distinct_colours(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 24))


def wait_until_drawn(canvas, what: str) -> None:
    """Drawn, not just present: a choropleth has its class colours and borders."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while distinct_colours(canvas.screenshot()) < 4:
        assert time.monotonic() < deadline, f"{what} sigue en blanco"
        time.sleep(0.5)


@pytest.mark.parametrize("path,title,maps,charts", PAGES, ids=[p[0] or "resumen" for p in PAGES])
def test_every_page_draws_its_maps_and_charts(page, server, path, title, maps, charts, request):
    if charts is None:  # the alerts page: as many trends as the data has alerts
        request.getfixturevalue("core_on_e2e")
        pairs = alerts.scan(Filters()).table.query("alert").drop_duplicates(["code", "crime_group"])
        charts = min(len(pairs), 12) + (len(pairs) > 12)
    open_page(page, server, path, title)
    if maps:
        canvas = page.locator(f"{DECK} canvas")
        expect(canvas).to_have_count(maps, timeout=TIMEOUT_MS)
        for i in range(maps):
            wait_until_drawn(canvas.nth(i), f"el mapa {i} de /{path}")
    if charts:
        expect(page.locator(f"{CHART} svg")).to_have_count(charts, timeout=TIMEOUT_MS)
        for i in range(charts):
            marks = page.locator(CHART).nth(i).locator("svg g[class*='mark-'] > *")
            assert marks.count() > 0, f"el gráfico {i} de /{path} no tiene marcas"
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.wait_for_selector(IDLE)
    screenshot(page, path or "resumen")


def screenshot(page: Page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window is made as tall."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height), 12_000))})
    page.wait_for_timeout(500)  # let maps and charts redraw at the new size
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_changing_a_filter_updates_the_page_and_the_url(page, fresh_server, core_on_e2e, public_mode):
    """On a server just started: with the pages in a folder named `pages/`, Streamlit ran the first session
    in its legacy mode and lost the first choice made in the sidebar."""
    server = fresh_server
    opts = filter_options()
    everyone = rates.total_count(Filters().resolved(opts))
    women = rates.total_count(Filters(sexes=("M",)).resolved(opts))
    assert 0 < women < everyone
    open_page(page, server, "", "Resumen")
    value = metric_value(page, "Víctimas registradas")
    expect(value).to_have_text(fmt.integer(everyone))

    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Sexo de la víctima").click()
    page.get_by_role("option", name="Mujeres", exact=True).click()
    page.keyboard.press("Escape")

    expect(value).to_have_text(fmt.integer(women), timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE)
    assert parse_qs(urlparse(page.url).query).get("sexo") == ["M"]
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    expect(caption).to_have_text(Filters(sexes=("M",)).describe(opts))


def _municipality_at(lon: float, lat: float) -> tuple[str, str]:
    """(code, label) of the municipality whose displayed polygon contains the point."""
    point = Point(lon, lat)
    munis = municipality.municipalities().set_index("code")
    for code, text in warehouse.query(
            "SELECT code, geojson FROM territory WHERE level = 'municipio'").itertuples(index=False):
        if shape(json.loads(text)).contains(point):
            return code, munis.loc[code, "label"]
    raise AssertionError(f"ningún municipio contiene ({lon}, {lat})")


class SentFrames:
    """Counts the messages the page sends to the server over its WebSocket (a widget event is one)."""

    def __init__(self, page: Page):
        self.count = 0
        page.on("websocket", lambda ws: ws.on("framesent", self._sent))

    def _sent(self, _payload) -> None:
        self.count += 1


def click_map(page: Page, frames: SentFrames, x: float, y: float, name: str) -> None:
    """Hover (x, y) until deck.gl's tooltip names ``name``, then click once so that the map sends its selection.

    deck.gl answers the pointer only once its first frames are in, hence the hovering. The click is
    repeated only when the map sent nothing: deck.gl takes a press for a click only if the button
    comes up within 250 ms, and with both cores busy the browser may deliver the release later (the
    press was never a click). A click that the map did send is never repeated: in «single-object»
    mode a second click on the same municipality would undo the selection and hide a lost first click."""
    tooltip = page.locator(".deck-tooltip")
    for attempt in range(20):
        page.mouse.move(x + attempt % 2, y)
        try:
            expect(tooltip).to_contain_text(name, timeout=3_000)
            break
        except AssertionError:
            continue
    expect(tooltip).to_contain_text(name)
    for _ in range(3):
        before = frames.count
        page.mouse.click(x, y)
        deadline = time.monotonic() + 10
        while frames.count == before and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        if frames.count > before:
            return
    raise AssertionError(f"tres clics sobre {name} y el mapa no envió ninguna selección")


def test_click_on_the_map_reaches_the_municipality_drilldown(page, server, core_on_e2e, public_mode):
    view = geo.view_state(geo.bounds("municipio"))
    code, label = _municipality_at(view.longitude, view.latitude)  # the centre of the canvas
    name = municipality.municipalities().set_index("code").loc[code, "name"]
    frames = SentFrames(page)
    open_page(page, server, "mapa", "Mapa nacional")
    canvas = page.locator(f"{DECK} canvas").first
    expect(canvas).to_be_visible()
    wait_until_drawn(canvas, "el mapa nacional")
    # the whole map in the window (the controls above it may push it down), then its centre
    page.locator(DECK).first.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    # One click selects: the page then reruns (about 2 s here, more on a busy machine).
    click_map(page, frames, x, y, name)
    expect(page.locator("h3", has_text=label)).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE)
    assert parse_qs(urlparse(page.url).query).get("muni") == [code]

    # Another municipality chosen in the box, then a click on the first one again selects it (the map
    # used to keep the first click as its own selection, so this click undid it and nothing changed).
    other = municipality.municipalities().query("code != @code")["label"].sort_values().iloc[0]
    box_input = page.get_by_role("combobox", name="Municipio seleccionado", exact=True)
    box_input.click()
    box_input.fill(other)
    page.get_by_role("option", name=other, exact=True).click()
    expect(page.locator("h3", has_text=other)).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE)
    wait_until_drawn(page.locator(f"{DECK} canvas").first, "el mapa nacional")
    page.locator(DECK).first.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = page.locator(f"{DECK} canvas").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    click_map(page, frames, x, y, name)
    expect(page.locator("h3", has_text=label)).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE)
    assert parse_qs(urlparse(page.url).query).get("muni") == [code]

    page.get_by_role("link", name="Ver el municipio en detalle").click()
    page.wait_for_url(f"**/municipio?*muni={code}*")
    expect(page.locator("h1").first).to_have_text("Municipio")
    expect(page.get_by_role("combobox", name="Municipio", exact=True)).to_have_value(label)
    expect(metric_value(page, "Víctimas registradas")).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_csv_download_holds_the_table_shown(page, server, core_on_e2e, public_mode, tmp_path):
    opts = filter_options()
    f = Filters().resolved(opts)
    table = disclosure.protect_territories(f, rates.by_municipality(f))  # as the page publishes it
    open_page(page, server, "mapa", "Mapa nacional")
    with page.expect_download() as info:
        page.get_by_role("button", name="Descargar CSV").first.click()
    download = info.value
    assert download.suggested_filename.startswith("atalaya_mapa_incidencia_municipio_")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel in Spanish
    csv = pd.read_csv(target, encoding="utf-8-sig", dtype={"Código": str, "Víctimas": str})
    assert len(csv) == len(table) == 340
    by_code = table.set_index("code")
    assert dict(zip(csv["Código"], csv["Víctimas"])) == {c: str(n) for c, n in by_code["n"].items()}
    assert csv["Víctimas"].str.fullmatch(r"\d+|<5").all()  # plain integers (no separators) or the reserved mark


def test_comparison_of_two_territories_draws_both_lines(page, server, core_on_e2e, public_mode):
    open_page(page, server, "comparar", "Comparar")
    page.get_by_text("Dos territorios", exact=True).click()
    chart = page.locator(CHART).filter(has=page.locator("svg")).last
    expect(chart.locator("svg g[class*='mark-line'] path")).to_have_count(2, timeout=TIMEOUT_MS)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    for label in ("Territorio 1", "Territorio 2"):
        expect(page.get_by_role("combobox", name=label)).to_be_visible()
    screenshot(page, "comparar-territorios")


def test_bulletin_pdf_downloads_and_reads_back(page, server, core_on_e2e, public_mode, tmp_path):
    """The Boletín page's PDF, as a person downloads it: the municipality, its key figures and the map."""
    from pypdf import PdfReader

    from core import bulletin

    open_page(page, server, "boletin?muni=0108", "Boletín")
    with page.expect_download() as info:
        page.get_by_role("button", name="Descargar el boletín (PDF)").click()
    download = info.value
    f = Filters().resolved(filter_options())
    assert download.suggested_filename == f"boletin_0108_{f.year_from}-{f.year_to}.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    reader = PdfReader(target)
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Boletín de seguridad ciudadana" in text and "Mixco (depto. de Guatemala)" in text
    shown = dict(re.findall(r"<div class='kpi'>(.*?)<b>(.*?)</b></div>", bulletin.render(f, "0108")))
    assert shown["Víctimas registradas"] in text
    assert "Mapa" in text and sum(len(p.images) for p in reader.pages) == 2  # the map and the yearly chart
    assert "None" not in text


def test_offline_guard_blocks_and_records_requests_that_leave_localhost(browser, server):
    """The guard the other tests rely on: a request to another host is stopped and recorded."""
    ctx = browser.new_context()
    recorder = Recorder(ctx)
    try:
        p = ctx.new_page()
        p.goto(server)
        p.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        failed = p.evaluate("fetch('https://tiles.example.org/x.png').then(() => false, () => true)")
        assert failed
        assert recorder.external == ["https://tiles.example.org/x.png"]
        assert any(urlparse(u).path == "/_stcore/stream" for u in recorder.local)  # the app's WebSocket
    finally:
        ctx.close()


def test_map_measure_survives_switching_views(page, server):
    """A control hidden by another view keeps its value: Prioridad → Vulnerabilidad → Incidencia
    used to reset «Medida» (Streamlit drops the state of widgets not drawn in a run)."""
    open_page(page, server, "mapa?medida=eb", "Mapa nacional")
    measure = page.get_by_role("combobox", name="Medida", exact=True)
    expect(measure).to_have_value("Tasa suavizada (Bayes empírico)")
    for view in ("Índice de prioridad", "Vulnerabilidad", "Incidencia delictiva"):
        page.get_by_role("combobox", name="Vista", exact=True).click()
        page.get_by_role("option", name=view, exact=True).click()
        page.wait_for_selector(IDLE)
    expect(measure).to_have_value("Tasa suavizada (Bayes empírico)")
    assert parse_qs(urlparse(page.url).query).get("medida") == ["eb"]
