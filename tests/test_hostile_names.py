"""Hostile names loaded through the real loader (`atalaya-load build`), then downloaded and shown.

1. A name that is markup (an HTML tag with a script, a Markdown image that the page would fetch,
   template braces the map tooltip would fill) in a school, an indicator or an institution stops the
   load at the data test `textos_sin_marcas`; the message names the test and the text, and the
   warehouse already published at the target is left byte for byte as it was.
2. A name that is only a spreadsheet formula (`=HYPERLINK(...)`, `@SUM(1)`, `+1`) is not markup: the
   load publishes it. Every download the pages offer that holds it (recorded from the pages
   themselves under AppTest) keeps it as text: in Excel a string cell (no `<f>` formula in the
   sheet XML), in CSV with the apostrophe `core/export.py` puts before text that would start a
   formula.
3. In a real browser (the server, Chromium and request recorder of tests/test_browser.py), in public
   mode, the pages that show those names raise no dialog, make no request outside localhost, log no
   console error and show each name as the literal text it is.

Also checked: a name that is a CSV column title (institutions in the reconciliation tables, the
indicator in the map table) is neutralised like any cell (core/export.py), and a URL inside a name
that a page writes with st.markdown / st.caption / st.subheader stays text, not a link to another
site (core/fmt.literal_markdown).

The country is the tiny synthetic one of the loader tests (tests/source_files.py: 2 departments x 2
municipalities, squares), with two institutions that both register homicides (a reconciliation
rule, so their names also become column titles), three schools and one indicator.
"""
from __future__ import annotations

import csv
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from core import warehouse
from core.export import FORMULA_START
from core.load import cli
from tests.source_files import TINY_COLUMNS, TINY_MUNICIPALITIES, tiny_geography_files, tiny_geography_toml, tiny_population_toml, write_csv

# the server (it serves `e2e_warehouse`, overridden below), Chromium and the request recorder of the browser tests
from tests.test_browser import DECK, IDLE, browser, context, open_page, page, server, wait_until_drawn  # noqa: F401  (fixtures)
from tests.test_browser_sweep import _listen

# Formula-like names (loaded and published) ...
INSTITUTION_LINK = '=HYPERLINK("http://example.invalid","Guatemala")'   # the reference institution
INSTITUTION_SUM = "@SUM(1) Policía"
INDICATOR_LINK = '=HYPERLINK("http://example.invalid","Pobreza")'
INDICATOR_SOURCE = "+1 Censo"
SCHOOL_PLUS = "+1 Escuela Oficial"
SCHOOL_SUM = "@SUM(1) Instituto"
SCHOOL_LINK = '=HYPERLINK("http://example.invalid","Escuela")'
FORMULA_NAMES = (INSTITUTION_LINK, INSTITUTION_SUM, INDICATOR_LINK, INDICATOR_SOURCE, SCHOOL_PLUS, SCHOOL_SUM,
                 SCHOOL_LINK)
# ... and markup (refused by the data test before publishing).
MARKUP_NAMES = {"html": "<img src=x onerror=alert(1)>",
                "imagen_markdown": "![t](http://example.invalid/t.png)",
                "llaves": "{name}"}


def _toml_text(text: str) -> str:
    """A TOML literal string (no escapes: the name reaches the loader exactly as written)."""
    assert "'" not in text
    return f"'{text}'"


def write_project(d: Path, institution: str = INSTITUTION_LINK, indicator: str = INDICATOR_LINK,
                  school: str = SCHOOL_LINK) -> Path:
    """The files and the TOML configuration a technician would write; returns the configuration."""
    files = tiny_geography_files(d)
    munis = list(TINY_MUNICIPALITIES)

    def rows(prefix: str, n: int, crimes: list[str]) -> list[list[str]]:
        return [[f"{prefix}-{i}", f"{i % 27 + 1:02d}/{i % 12 + 1:02d}/{2020 + i % 2}", munis[i % 4],
                 crimes[i % len(crimes)], "MF"[i % 2], str(20 + i % 40)] for i in range(n)]

    police = write_csv(d / "policia.csv", rows("P", 160, ["HOMICIDIO", "ROBO"]))
    forensic = write_csv(d / "forense.csv", rows("F", 60, ["HOMICIDIO"]))
    schools = write_csv(d / "centros.csv", [["E1", SCHOOL_PLUS, "0101", "-87.7", "15.5"],
                                            ["E2", SCHOOL_SUM, "0102", "-87.2", "15.4"],
                                            ["E3", school, "0201", "-86.7", "15.6"]],
                        header=["CODIGO", "NOMBRE", "MUNI", "LON", "LAT"])
    poverty = write_csv(d / "indicadores.csv", [["0101", "30.5"], ["0102", "20.1"], ["0201", "45.0"], ["0202", "10.0"]],
                        header=["MUNI", "POBREZA"])

    def source(sid: str, name: str, path: Path, crimes: str) -> str:
        return f'''
[[incidentes]]
fuente = "{sid}"
institucion = {_toml_text(name)}
archivos = ["{path}"]
[incidentes.columnas]
{TINY_COLUMNS}
[incidentes.valores.delito]
{crimes}
[incidentes.valores.sexo]
H = ["M"]
M = ["F"]
'''
    text = (tiny_geography_toml(files) + tiny_population_toml(files["poblacion"])
            + source("policia", INSTITUTION_SUM, police, 'homicidio = ["HOMICIDIO"]\nrobo = ["ROBO"]')
            + source("forense", institution, forensic, 'homicidio = ["HOMICIDIO"]')
            + f'''
[centros_educativos]
archivo = "{schools}"
[centros_educativos.columnas]
codigo = "CODIGO"
nombre = "NOMBRE"
municipio_codigo = "MUNI"
longitud = "LON"
latitud = "LAT"

[[indicadores]]
archivo = "{poverty}"
municipio_codigo = "MUNI"
anio = 2021
fuente = {_toml_text(INDICATOR_SOURCE)}
[indicadores.columnas]
pobreza = {{ columna = "POBREZA", nombre = {_toml_text(indicator)}, unidad = "%" }}

[[conciliacion]]
delitos = ["homicidio"]
regla = "referencia"
referencia = "forense"
''')
    config = d / "carga.toml"
    config.write_text(text, encoding="utf-8")
    return config


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory) -> Path:
    """Step 2's load: the formula-like names, built and published by `atalaya-load build`."""
    d = tmp_path_factory.mktemp("hostile")
    target = d / "almacen.duckdb"
    assert cli.main(["build", str(write_project(d)), "--out", str(target)]) == 0
    return target


# ---------------------------------------------------------------------------------------------
# 1. Markup in a name: the load fails and publishes nothing
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["institucion", "indicador", "centro"])
@pytest.mark.parametrize("kind", sorted(MARKUP_NAMES))
def test_markup_in_a_name_fails_the_load_and_keeps_the_published_warehouse(field, kind, hostile_warehouse, tmp_path,
                                                                           capsys):
    text = MARKUP_NAMES[kind]
    target = tmp_path / "publicado.duckdb"
    shutil.copy(hostile_warehouse, target)  # what is published before this load
    before = sha(target)
    parameter = {"institucion": "institution", "indicador": "indicator", "centro": "school"}[field]
    config = write_project(tmp_path, **{parameter: text})
    capsys.readouterr()
    assert cli.main(["build", str(config), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert "textos_sin_marcas" in err, err
    assert text in err, err  # the offending text is quoted
    where = {"institucion": "source forense", "indicador": "indicator_meta pobreza", "centro": "school E3"}[field]
    assert f"{where}: {text}" in err, err  # ... with the row that holds it
    assert f"{target} no se modificó" in err and "no se publicó nada" in err
    assert sha(target) == before
    assert not target.with_name(target.name + ".tmp").exists()


def test_the_formula_like_names_are_published(hostile_warehouse):
    """Formulas are not markup: the load publishes them unchanged (the downloads neutralise them)."""
    import duckdb

    with duckdb.connect(str(hostile_warehouse), read_only=True) as con:
        institutions = dict(con.execute("SELECT source, institution FROM source").fetchall())
        indicator = con.execute("SELECT name, source FROM indicator_meta").fetchall()
        schools = dict(con.execute("SELECT school_code, name FROM school").fetchall())
        passed = {r[0] for r in con.execute("SELECT name FROM data_test").fetchall()}
    assert institutions["forense"] == INSTITUTION_LINK and institutions["policia"] == INSTITUTION_SUM
    assert indicator == [(INDICATOR_LINK, INDICATOR_SOURCE)]
    assert schools == {"E1": SCHOOL_PLUS, "E2": SCHOOL_SUM, "E3": SCHOOL_LINK}
    assert "textos_sin_marcas" in passed


# ---------------------------------------------------------------------------------------------
# 2. Every download that holds a formula-like name holds it as text
# ---------------------------------------------------------------------------------------------

# The pages (with their URL parameters) whose downloads hold the names, and the downloads expected
# to hold them: institutions (values and, in the reconciliation tables, column titles), the indicator
# (a column title and the data dictionary), the schools.
PAGES = [("calidad", {}), ("municipio", {"muni": "0101"}), ("mapa", {"vista": "vulnerabilidad", "indicador": "pobreza"}),
         ("mapa", {"vista": "prioridad"}), ("escuelas", {}), ("datos_abiertos", {})]
EXPECTED = {
    "atalaya_conciliacion_por_delito": {INSTITUTION_LINK, INSTITUTION_SUM},
    "atalaya_conciliacion_homicidio": {INSTITUTION_LINK, INSTITUTION_SUM},
    "atalaya_0101_fuentes": {INSTITUTION_LINK, INSTITUTION_SUM},
    "atalaya_mapa_vulnerabilidad_municipio_2020-2021": {INDICATOR_LINK},
    "atalaya_mapa_prioridad_municipio_2020-2021": {INDICATOR_LINK},
    "atalaya_centros_2020-2021": {SCHOOL_PLUS, SCHOOL_SUM, SCHOOL_LINK},
    "atalaya_diccionario": {INDICATOR_LINK, INDICATOR_SOURCE},
}


@pytest.fixture(scope="module")
def downloads(hostile_warehouse) -> dict[str, bytes]:
    """file name -> bytes of every CSV and Excel download the pages offer, in public mode, recorded
    at the one place the pages make them (app_pages._common.download) and made as a click would."""
    import app_pages._common as common
    from tests.apptest import run_app

    recorded: dict[str, object] = {}
    original = common.download

    def record(where, label, data, file_name, mime, **kwargs):
        recorded[file_name] = data
        return original(where, label, data, file_name, mime, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATALAYA_WAREHOUSE", str(hostile_warehouse))
        mp.setenv("ATALAYA_MODO", "publico")
        mp.setattr(common, "download", record)
        warehouse.close_all()
        try:
            for name, params in PAGES:
                at = run_app(params, page=name)
                assert not at.exception, f"{name}: {[e.message for e in at.exception]}"
            files = {f: (d() if callable(d) else d) for f, d in recorded.items() if f.endswith((".csv", ".xlsx"))}
        finally:
            warehouse.close_all()
    return files


def xlsx_cells(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [c for sheet in book for row in sheet.iter_rows() for c in row]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def names_in(text: str) -> set[str]:
    return {n for n in FORMULA_NAMES if n in text}


def test_the_downloads_that_hold_the_names_are_the_expected_ones(downloads):
    """Not vacuous: the names reach these files (as values and as column titles)."""
    found: dict[str, set[str]] = {}
    for file_name, data in downloads.items():
        stem, ext = file_name.rsplit(".", 1)
        texts = ([str(c.value) for c in xlsx_cells(data) if isinstance(c.value, str)] if ext == "xlsx"
                 else [cell for row in csv_rows(data) for cell in row])
        held = set().union(*(names_in(t) for t in texts)) if texts else set()
        if held:
            found.setdefault(stem, set()).update(held)
    assert found == EXPECTED
    assert {f for f in downloads if f.rsplit(".", 1)[0] in EXPECTED} == (
        {f"{s}.csv" for s in EXPECTED} | {f"{s}.xlsx" for s in EXPECTED if s != "atalaya_diccionario"})


def test_excel_downloads_hold_the_names_as_text_cells(downloads):
    """export.xlsx_bytes writes the text unchanged as a string cell: Excel shows it and never runs it."""
    checked = set()
    for file_name, data in downloads.items():
        if not file_name.endswith(".xlsx"):
            continue
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            for part in book.namelist():
                if part.startswith("xl/worksheets/") and part.endswith(".xml"):
                    xml = book.read(part)
                    assert b"<f>" not in xml and b"<f " not in xml, f"{file_name} {part}: una fórmula"
        for cell in xlsx_cells(data):
            if isinstance(cell.value, str) and names_in(cell.value):
                assert cell.data_type == "s", f"{file_name} {cell.coordinate}: {cell.value!r} ({cell.data_type})"
                assert not cell.value.startswith("'"), cell.value  # Excel gets the name as it is, no prefix
                checked |= {n for n in FORMULA_NAMES if cell.value == n or cell.value.startswith(n + " (")}
    # every formula-like name is a whole cell somewhere (the indicator as «name (%, 2021)»), not the
    # source of the indicator, which only appears inside sentences
    assert checked == set(FORMULA_NAMES) - {INDICATOR_SOURCE}


def _neutral(cell: str) -> bool:
    return not cell.startswith(FORMULA_START)


def test_csv_downloads_neutralise_the_names_in_their_cells(downloads):
    """export.csv_bytes puts an apostrophe before a cell that would start a formula."""
    seen = set()
    for file_name, data in downloads.items():
        if not file_name.endswith(".csv"):
            continue
        for row in csv_rows(data)[1:]:
            for cell in row:
                if names_in(cell):
                    assert _neutral(cell), f"{file_name}: {cell!r}"
                    whole = [n for n in FORMULA_NAMES if cell in (n, "'" + n)]
                    if whole:  # a cell that is just the name: exactly the name after one apostrophe
                        assert cell == "'" + whole[0], f"{file_name}: {cell!r}"
                        seen.add(whole[0])
    assert seen == {INSTITUTION_LINK, INSTITUTION_SUM, SCHOOL_PLUS, SCHOOL_SUM, SCHOOL_LINK}


def test_csv_downloads_neutralise_the_names_in_their_column_titles(downloads):
    """Institution names are column titles of the reconciliation tables, the indicator name of the map
    table: a CSV header cell is a cell like any other for the spreadsheet that opens it."""
    live = [(f, cell) for f, data in downloads.items() if f.endswith(".csv")
            for cell in csv_rows(data)[0] if names_in(cell) and not _neutral(cell)]
    assert live == []


# ---------------------------------------------------------------------------------------------
# 3. A real browser, public mode: shown as text, nothing runs, nothing leaves localhost
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def e2e_warehouse(hostile_warehouse) -> Path:
    """Overrides tests/test_browser.py's warehouse: its `server` serves the hostile one."""
    return hostile_warehouse


@pytest.fixture()
def watched(page):
    """The page with its dialogs (an `alert` would be one) and console problems recorded."""
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    console: list[str] = []
    _listen(page, console)  # console errors and warnings, uncaught errors (not the known browser noise)
    return page, dialogs, console


def _hover_until_tooltip(page: Page) -> str:
    """Move over the map (a few points around its centre) until deck.gl shows a tooltip; its text."""
    canvas = page.locator(f"{DECK} canvas").first
    wait_until_drawn(canvas, "el mapa")
    page.locator(DECK).first.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = canvas.bounding_box()
    tooltip = page.locator(".deck-tooltip")
    for attempt in range(24):
        dx = (-0.3, -0.1, 0.1, 0.3)[attempt % 4] * box["width"]
        page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + attempt % 3)
        try:
            expect(tooltip).to_be_visible(timeout=2_500)
            expect(tooltip).not_to_have_text("")
            return tooltip.inner_text()
        except AssertionError:
            continue
    raise AssertionError("el mapa no mostró ningún tooltip")


def test_the_dialog_guard_records_an_alert(watched):
    """The guard the page tests rely on: a script that runs `alert` is seen (and dismissed)."""
    page, dialogs, console = watched
    page.evaluate("alert(1)")
    assert dialogs == ["alert: 1"]


# (URL, title, names that must be shown, hover the map)
BROWSER_PAGES = [
    ("calidad", "Calidad de datos", (INSTITUTION_LINK, INSTITUTION_SUM), False),
    ("mapa?vista=vulnerabilidad&indicador=pobreza", "Mapa nacional", (INDICATOR_LINK,), True),
    ("escuelas", "Centros educativos", (SCHOOL_LINK,), False),
]


@pytest.mark.parametrize("path,title,names,hover", BROWSER_PAGES, ids=["calidad", "mapa_vulnerabilidad", "escuelas"])
def test_pages_show_the_names_as_text_and_run_nothing(watched, context, server, path, title, names, hover):
    page, dialogs, console = watched
    open_page(page, server, path, title)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    main = page.locator('[data-testid="stMain"]')
    for name in names:  # the text of the page (captions, table cells, chart labels), as it is in the data
        expect(main).to_contain_text(name)
    if hover:  # the tooltip's label is the indicator's name, written into deck.gl's HTML template
        assert f"{INDICATOR_LINK} (%, 2021):" in _hover_until_tooltip(page)
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(1_000)  # a late image request or timer would show here
    assert dialogs == []
    assert console == []
    assert context.recorder.external == [], f"peticiones fuera de localhost: {context.recorder.external}"


@pytest.mark.parametrize("path,title,names,hover", BROWSER_PAGES, ids=["calidad", "mapa_vulnerabilidad", "escuelas"])
def test_names_in_the_page_text_are_not_turned_into_links(page, server, path, title, names, hover):
    open_page(page, server, path, title)
    links = page.locator('[data-testid="stMain"] a[href*="example.invalid"]')
    assert links.evaluate_all("els => els.map(e => e.outerHTML)") == []
