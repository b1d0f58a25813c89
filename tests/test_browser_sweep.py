"""A browser sweep: every page, every view and measure of the national map, and every chart type ×
measure of the report builder, opened in Chromium (the server, browser and offline guard of
tests/test_browser.py), each checked for what a user would see wrong:

1. consola: any console error or warning (Vega/Vega-Lite «WARN», «Infinite extent»...) and any
   uncaught page error, except the browser noise listed in ``HARMLESS_CONSOLE`` (each with why);
2. texto crudo: «None», «nan», «NaN», «NaT», «<NA>», «null», «undefined», «Infinity», a number in
   scientific notation (5.36e-7), a float with all its decimals (798.7077069197105), a timestamp
   with its time (2013-01-01 00:00:00), a count without thousands separator (4000) — in the
   visible text of the page (main area, sidebar, the bulletin preview), in the text Vega draws,
   and in the headers and cells of every table (glide data grid: drawn in a canvas, read from the
   grid's own cell content as displayed);
3. texto cortado: a button, tab, metric label or value, widget label, select-box value or expander
   title that does not fit (CSS ellipsis or clipped overflow: ``scrollWidth > clientWidth + 1``);
   a chart text Vega shortens with «…», draws outside its SVG (clipped) or hides because it would
   overlap (named categories only); a table header narrower than its title (measured in the grid's
   font against the column's width) or cut by the right edge of a table wider than its box;
4. gráfico vacío: a Vega chart without drawn marks (Streamlit renders Vega as SVG here: its
   ``g.role-mark`` children are counted; a canvas chart falls back to counting colours), a map
   still blank (``wait_until_drawn``), a report view without its chart, an element still a
   placeholder (stSkeleton), a Python exception;
5. inglés: English words the app can change (its own texts, labels, visible placeholders, chart
   texts, table contents, Streamlit's «empty» in an empty table); text an element declares in
   another language (``lang="en"``: the titles of the works cited on Metodología) is not checked. English from Streamlit's own
   chrome (toolbar tooltips, file-uploader texts, ARIA names, Vega's screen-reader descriptions)
   is not a failure: it is listed in artifacts/e2e/sweep/streamlit_ingles.txt and in a warning.

Every defect of a view is collected before its test fails, each line saying the check and the
offending text or element (the test id says the view). A screenshot of each view (whole page,
expanders open) and a JSON of its findings go to artifacts/e2e/sweep/ (git-ignored), emptied at
the start of the run.

The report builder keeps one page: the first chart type of each measure is opened from its URL and
the others are chosen in its «Gráfico» box (a rerun instead of a new session: the file runs in
about 3 minutes on 2 cores instead of 4).
"""
from __future__ import annotations

import json
import re
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from core import rates
from core.filters import Filters, filter_options
from core.reports import CHARTS, ReportSpec, SpecError

# The suite's fixtures and helpers: the same server, browser, context (offline guard) and page.
from tests.test_browser import (  # noqa: F401
    CHART,
    DECK,
    IDLE,
    PAGES,
    ROOT,
    TIMEOUT_MS,
    browser,
    context,
    core_on_e2e,
    distinct_colours,
    e2e_warehouse,
    page,
    server,
    wait_until_drawn,
)

SWEEP = ROOT / "artifacts" / "e2e" / "sweep"
MAIN = '[data-testid="stMain"]'

# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    name: str             # test id and screenshot name
    path: str             # URL path ("" = Resumen)
    title: str            # the page's h1
    query: str = ""       # URL query; "{muni}" is replaced by the municipality with most victims
    report_chart: bool = False  # a report-builder view that must draw a chart


def _map_view(name: str, **params) -> View:
    return View(f"mapa-{name}", "mapa", "Mapa nacional", urlencode(params, safe="{}"))


# Report builder: every measure × every chart type, with two dimensions. «Cambio vs periodo
# anterior» is not broken down by year (SpecError) and needs a previous period of equal length in
# the warehouse: department × crime group over 2018–2022 (compared with 2013–2017).
REPORT_DIMS = {"n": ("year", "department"), "rate": ("year", "department"), "share": ("year", "department"),
               "change": ("department", "crime_group")}
REPORT_YEARS = {"change": {"desde": "2018", "hasta": "2022"}}
REPORT_CHARTS = ("bar", "stacked", "line", "area", "heatmap")


def _report_view(measure: str, chart: str) -> View:
    spec = ReportSpec(measure=measure, dims=REPORT_DIMS[measure], chart=chart)
    params = REPORT_YEARS.get(measure, {}) | {"informe": spec.to_param()}
    return View(f"informe-{measure}-{chart}", "informes", "Constructor de informes", urlencode(params),
                report_chart=True)


VIEWS = [View(f"pagina-{path or 'resumen'}", path, title) for path, title, _, _ in PAGES] + [
    View("pagina-alertas-con-alertas", "alertas", "Alertas tempranas", "umbral=0.05&minimo=1"),
    View("pagina-municipio-anual-tasa", "municipio", "Municipio", "muni={muni}&serie=anual&medida_aldea=tasa"),
    View("pagina-boletin-municipio", "boletin", "Boletín", "muni={muni}"),
    # The map page: every view, level, measure, classification and number of classes at least once
    # (the default, incidence/municipality/rate/quantiles/3, is «pagina-mapa»), and the panel of a
    # selected municipality in each view.
    _map_view("incidencia-municipio-n-jenks-5-seleccionado", medida="n", metodo="jenks", clases="5", muni="{muni}"),
    _map_view("incidencia-municipio-eb-media_de", medida="eb", metodo="media_de"),
    _map_view("incidencia-departamento-tasa-jenks", nivel="departamento", metodo="jenks"),
    _map_view("incidencia-departamento-n-media_de-5", nivel="departamento", medida="n", metodo="media_de", clases="5"),
    _map_view("incidencia-departamento-eb", nivel="departamento", medida="eb"),
    _map_view("vulnerabilidad-indice-jenks-5-seleccionado", vista="vulnerabilidad", metodo="jenks", clases="5",
              muni="{muni}"),
    _map_view("vulnerabilidad-pobreza-media_de", vista="vulnerabilidad", indicador="pobreza", metodo="media_de"),
    _map_view("prioridad-media_de-5-seleccionado", vista="prioridad", metodo="media_de", clases="5", muni="{muni}"),
]
REPORT_VIEWS = [_report_view(m, c) for m in REPORT_DIMS for c in REPORT_CHARTS]

# ---------------------------------------------------------------------------------------------
# What counts as a defect
# ---------------------------------------------------------------------------------------------

# Console messages that are browser noise, not defects of the app (matched on type, text, and the
# URL the browser gives as the message's location):
HARMLESS_CONSOLE = [
    # Opened on a page URL (/mapa), Streamlit's frontend first probes its endpoints under that path
    # (/mapa/_stcore/health, /mapa/_stcore/host-config) to guess the base URL, gets 404 and goes on
    # with the root ones. Streamlit internals; every later request is to the right path.
    ("error", re.compile(r"^Failed to load resource: the server responded with a status of 404"),
     re.compile(r"/[^/]+/_stcore/(health|host-config)$")),
    # Chromium's software GL (headless, no GPU) reports the pixel read-back deck.gl does for
    # picking as a driver performance note. Nothing the page can or should change.
    ("warning", re.compile(r"GL Driver Message \(OpenGL, Performance, .*GPU stall due to ReadPixels"), None),
    # st.iframe (the bulletin preview) gets Streamlit's fixed `allow` list (streamlit/static/.../IFrameUtil):
    # Chromium names each feature of that list it does not know. Fixed in Streamlit; nothing is blocked.
    ("warning", re.compile(r"^Unrecognized feature: '[\w-]+'\.$"), None),
    # ...and Streamlit's fixed sandbox (allow-scripts + allow-same-origin) for every st.iframe, which
    # Chromium always flags. The bulletin is generated by the app with every warehouse text escaped.
    ("warning", re.compile(r"^An iframe which has both allow-scripts and allow-same-origin for its sandbox "
                           r"attribute can escape its sandboxing\.$"), None),
]
# Vega logs through console.warn/error, which the types above catch; in case a build logs them
# with console.log, these are failures too.
VEGA_LOG = re.compile(r"\b(WARN|ERROR)\b|Infinite extent|\[Vega")

RAW_TOKENS = re.compile(r"(?<![\w<])(None|nan|NaN|NaT|null|undefined|-?Infinity)(?![\w>])|<NA>")
SCIENTIFIC = re.compile(r"(?<![\w.#])[-+]?\d+(?:[.,]\d+)?[eE][-+]?\d+(?![\w.])")
RAW_FLOAT = re.compile(r"(?<![\w.,])\d[\d,]*\.\d{5,}(?![\d])")
NO_THOUSANDS = re.compile(r"(?<![\w.,/-])-?[1-9]\d{3,}(?![\w.,/-])")  # 4000, never 4,000: years aside
RAW_DATETIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\b")  # a pandas Timestamp as Python prints it

# Words that are English and not Spanish (UI vocabulary, English month and day names, booleans).
ENGLISH = set("""
the and of to with for from here please file files download upload search fullscreen close show hide
columns column choose option options select selected drag drop browse limit loading running stop clear
results result view save open editor menu settings rerun deploy print about copy sort ascending descending
pin unpin autosize add delete row rows press enter apply wait chart legend axis titled mark container value
values empty true false yes items item default other others unknown missing page pages previous next
january february march april june july august september october november december jan apr aug dec
monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun
""".split())


def english_words(text: str) -> list[str]:
    """The English words of a text (whole words: «menú» is not «men»)."""
    return sorted({w for w in re.findall(r"[^\W\d_]+", text) if w.lower() in ENGLISH})


def raw_values(text: str, thousands: bool = True) -> list[str]:
    """What a text shows raw, each as «check «value»»: a missing value written by Python or
    JavaScript, a number in scientific notation, a float with all its decimals, a timestamp with
    its time of day; with ``thousands``, a number of 1,000 or more written without separator (a
    year aside: not for tables, whose text columns hold codes)."""
    found = [f"texto crudo «{m.group(0)}»" for m in RAW_TOKENS.finditer(text)]
    found += [f"notación científica «{m.group(0)}»" for m in SCIENTIFIC.finditer(text)]
    found += [f"número sin formato «{m.group(0)}»" for m in RAW_FLOAT.finditer(text)]
    found += [f"fecha sin formato «{m.group(0)}»" for m in RAW_DATETIME.finditer(text)]
    found += [f"número sin separador de miles «{m.group(0)}»" for m in NO_THOUSANDS.finditer(text)
              if thousands and not _is_year(m.group(0))]
    return found


NUMBER = re.compile(r"[-−+]?[\d.,\s]+%?")


def _names(texts: list[str], limit: int = 6) -> str:
    return ", ".join(f"«{short(t, 60)}»" for t in texts[:limit]) + (f" y {len(texts) - limit} más" if len(texts) > limit else "")


def _is_year(text: str) -> bool:
    return text.isdigit() and 1900 <= int(text) <= 2100


def short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Streamlit's own chrome: text and attributes inside these are Streamlit's, not the app's.
CHROME = ['[data-testid="stElementToolbar"]', '[data-testid="stFileUploaderDropzone"]',
          '[data-testid="stHeader"]', '[data-testid="stToolbar"]', '[data-testid="stStatusWidget"]',
          '[data-testid="stDecoration"]', '[data-testid="stSidebarCollapseButton"]',
          '[data-testid="stSidebarCollapsedControl"]', '[data-testid="stSidebarHeader"]',
          '[data-testid="stMainMenu"]', '[data-testid="stAppDeployButton"]', '[data-testid="stSidebarNav"]',
          '[data-testid="stHeaderActionElements"]', '[data-testid="stTooltipIcon"]']
# Vega's screen-reader descriptions of axes, legends and titles (English templates of Vega itself).
VEGA_ARIA = re.compile(r"^(X-axis|Y-axis|Symbol legend|Gradient legend|Title text|Subtitle text|Discrete legend)")
CUT_SELECTORS = ['button', '[role="tab"]', '[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]',
                 'label', '[data-testid="stWidgetLabel"]', '[data-testid="stExpander"] summary',
                 '[data-testid="stSelectbox"]', '[data-testid="stMultiSelect"]', '[data-testid="stRadio"]']

# One pass over the page: everything the checks need, from the DOM and from the grids' own data.
COLLECT_JS = """
async ({chrome, cutSelectors}) => {
  await document.fonts.ready;
  const chromeSel = chrome.join(',');
  const isChrome = el => !!(el.closest && el.closest(chromeSel));
  const where = el => { const t = el.closest('[data-testid]'); return t ? t.dataset.testid : el.tagName; };
  // Icons are ligatures («download», «upload_file») drawn in the Material Symbols font: not text.
  const isIcon = el => !!el.closest('[data-testid="stIconMaterial"]') || /Material/i.test(getComputedStyle(el).fontFamily);
  const visible = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  const roots = [['main', document.querySelector('[data-testid="stMain"]')],
                 ['barra lateral', document.querySelector('[data-testid="stSidebar"]')]].filter(r => r[1]);

  // Visible text nodes (not icon ligatures, not inside charts or grids: those are read below).
  const texts = [], chromeTexts = [];
  for (const [area, root] of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement, text = n.textContent.trim();
      if (!text || !el || ['STYLE', 'SCRIPT', 'NOSCRIPT'].includes(el.tagName)) continue;
      if (el.closest('[data-testid="stVegaLiteChart"] svg, canvas, .katex-mathml') || isIcon(el)) continue;
      if (el.closest('[lang]:not([lang^="es"])')) continue;  // declared in another language (titles of works cited)
      if (!visible(el)) continue;
      (isChrome(el) ? chromeTexts : texts).push({area, where: where(el), text});
    }
  }
  // Attributes a user meets as tooltips, placeholders or screen-reader names.
  const attrs = [];
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [data-tooltip]')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'data-tooltip']) {
      const v = el.getAttribute(a);
      if (v) attrs.push({attr: a, value: v, where: where(el), chrome: isChrome(el), empty: !el.value,
                         vega: !!el.closest('[data-testid="stVegaLiteChart"]'), visible: visible(el)});
    }
  }
  // Cut text: the element or any descendant with clipped or ellipsed overflow.
  const cut = [], seen = new Set();
  for (const sel of cutSelectors) {
    for (const el of document.querySelectorAll(sel)) {
      if (!visible(el) || isChrome(el)) continue;
      const whole = (el.innerText || el.textContent || '').trim();
      for (const d of [el, ...el.querySelectorAll('*')]) {
        if (seen.has(d) || d instanceof SVGElement) continue;
        seen.add(d);
        // A select box shows its value in an <input>: its text is the value, not the content.
        const own = d.tagName === 'INPUT' ? (d.type === 'text' || d.type === '' ? d.value : '') : (d.textContent || '');
        if (isIcon(d) || !own.trim() || !visible(d)) continue;
        const cs = getComputedStyle(d);
        const over = d.scrollWidth > d.clientWidth + 1 && d.clientWidth > 0;
        const clipped = over && (cs.overflowX !== 'visible' || cs.textOverflow === 'ellipsis');
        const shown = d.tagName === 'INPUT' ? d.value : (d.innerText || '').trim();
        const dots = d.tagName !== 'INPUT' && /…$/.test(shown) && !/…$/.test(d.textContent.trim());
        if (clipped || dots || (d.tagName === 'INPUT' && over))
          cut.push({selector: sel, where: where(el), text: d.tagName === 'INPUT' ? d.value : whole, inner: shown,
                    scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, tag: d.tagName});
      }
    }
  }
  // Vega charts: drawn marks and the texts they draw.
  const charts = [];
  document.querySelectorAll('[data-testid="stVegaLiteChart"]').forEach((el, i) => {
    const svg = el.querySelector('svg.marks') || el.querySelector('svg');
    const canvas = el.querySelector('canvas');
    const marks = svg ? [...svg.querySelectorAll('g.role-mark > *')] : [];
    const drawn = marks.filter(m => { const b = m.getBBox(); return (b.width > 0 || b.height > 0)
                                      && m.getAttribute('d') !== '' && m.getAttribute('opacity') !== '0'; });
    const title = svg ? [...svg.querySelectorAll('g.role-title text')].map(t => t.textContent).join(' — ') : '';
    // Text Vega places outside its own SVG is clipped (the SVG hides its overflow).
    const box = svg && svg.getBoundingClientRect(), outside = [];
    if (svg && box.width > 0) for (const t of svg.querySelectorAll('text')) {
      const b = t.getBoundingClientRect();
      const px = Math.max(box.top - b.top, b.bottom - box.bottom, box.left - b.left, b.right - box.right);
      if (b.width > 0 && px > 3) outside.push({text: t.textContent, px: Math.round(px)});
    }
    // Axis labels Vega hides (opacity 0) because they would overlap: the categories go unnamed.
    const hiddenLabels = svg ? [...svg.querySelectorAll('g.role-axis-label')].map(g => {
      const all = [...g.querySelectorAll('text')];
      return {total: all.length, hidden: all.filter(t => t.getAttribute('opacity') === '0').map(t => t.textContent)};
    }).filter(a => a.hidden.length) : [];
    charts.push({index: i, visible: visible(el), svg: !!svg, canvas: !!canvas, marks: marks.length, outside, hiddenLabels,
                 drawn: drawn.length, title, texts: svg ? [...svg.querySelectorAll('text')].map(t => t.textContent) : []});
  });
  // Glide data grids: what each cell draws (displayData) and each header's width against its title.
  const grids = [];
  const measure = document.createElement('canvas').getContext('2d');
  document.querySelectorAll('[data-testid="data-grid-canvas"]').forEach((canvas, g) => {
    const key = Object.keys(canvas).find(k => k.startsWith('__reactFiber$'));
    let fiber = key ? canvas[key] : null, props = null;
    for (let depth = 0; fiber && depth < 40 && !props; depth++, fiber = fiber.return) {
      const p = fiber.memoizedProps;
      if (p && typeof p.getCellContent === 'function' && Array.isArray(p.columns) && typeof p.rows === 'number') props = p;
    }
    const headers = [...canvas.querySelectorAll('[role="columnheader"]')].map(h => h.textContent);
    const grid = {index: g, visible: visible(canvas), readable: !!props, headers, cut: [], cells: [], cellsCut: []};
    if (props) {
      grid.headers = props.columns.map(c => c.title);
      const theme = props.theme || {};
      const pad = theme.cellHorizontalPadding ?? 8;
      measure.font = `${theme.headerFontStyle || '400 14px'} ${theme.fontFamily || 'sans-serif'}`;
      // Glide draws a title or a value from the left padding and clips it at the column's edge.
      // A header is cut when its column is narrower than its title, or when the column runs past
      // the right edge of the grid (the rest is only reached by scrolling sideways).
      const box = canvas.clientWidth, cellFont = `${theme.baseFontStyle || '400 14px'} ${theme.fontFamily || 'sans-serif'}`;
      let x = 0;
      props.columns.forEach(c => {
        if (typeof c.width !== 'number') return;
        const need = Math.ceil(measure.measureText(c.title || '').width) + pad + (c.icon ? 26 : 0);
        if (c.title && need > c.width + 1) grid.cut.push({title: c.title, width: c.width, need});
        if (x < box - 1 && x + c.width > box + 1) grid.edge = {title: c.title, shown: Math.round(box - x), width: c.width};
        if (x >= box - 1) (grid.hidden = grid.hidden || []).push(c.title);
        x += c.width;
      });
      const rows = Math.min(props.rows, 2000);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < props.columns.length; c++) {
          let cell;
          try { cell = props.getCellContent([c, r]); } catch (e) { continue; }
          // What the cell draws: its display text (numbers, text), a date cell's display date.
          const shown = !cell ? null : typeof cell.displayData === 'string' ? cell.displayData
                      : typeof cell.data === 'string' ? cell.data
                      : (cell.data && typeof cell.data.displayDate === 'string') ? cell.data.displayDate : null;
          if (shown) grid.cells.push([r, c, shown, cell.kind]);
          // A value wider than its column, in a column the grid could have widened (up to 500 px):
          // the value is cut.
          const col = props.columns[c];
          if (shown && typeof col.width === 'number' && col.width < 500 && ['text', 'number'].includes(cell.kind)) {
            measure.font = cellFont;
            const need = Math.ceil(measure.measureText(shown).width) + pad;  // drawn from the left padding
            if (need > col.width + 1) grid.cellsCut.push([r, c, shown, col.width, need]);
          }
        }
      }
    }
    grids.push(grid);
  });
  const maps = document.querySelectorAll('[data-testid="stDeckGlJsonChart"] canvas').length;
  const exceptions = [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 300));
  const alerts = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stAlert"]')].map(e => e.innerText.trim());
  return {texts, chromeTexts, attrs, cut, charts, grids, maps, exceptions, alerts};
}
"""

# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

CHROME_ENGLISH: dict[str, set[str]] = defaultdict(set)  # English from Streamlit's chrome -> views
WIDE_TABLES: dict[str, set[str]] = defaultdict(set)     # grids that scroll or cells shown whole on hover -> views


@pytest.fixture(scope="module", autouse=True)
def chrome_english_report():
    """Start from an empty artifacts/e2e/sweep/; at the end, list the English Streamlit shows by
    itself (not failures) in a file and a warning."""
    for old in [*SWEEP.glob("*.png"), *SWEEP.glob("*.json"), *SWEEP.glob("*.txt")]:
        old.unlink()
    yield
    if WIDE_TABLES:
        SWEEP.mkdir(parents=True, exist_ok=True)
        (SWEEP / "tablas_anchas.txt").write_text("\n".join(
            f"{text}    [{len(views)} vista(s), p. ej. {sorted(views)[0]}]" for text, views in sorted(WIDE_TABLES.items()))
            + "\n", encoding="utf-8")
    if not CHROME_ENGLISH:
        return
    SWEEP.mkdir(parents=True, exist_ok=True)
    lines = [f"{text}    [{len(views)} vista(s), p. ej. {sorted(views)[0]}]" for text, views in sorted(CHROME_ENGLISH.items())]
    (SWEEP / "streamlit_ingles.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    warnings.warn("Inglés de Streamlit (no del app), ver artifacts/e2e/sweep/streamlit_ingles.txt:\n  "
                  + "\n  ".join(lines), UserWarning, stacklevel=2)


@pytest.fixture(scope="module")
def top_muni(core_on_e2e) -> str:
    """The municipality with most victims (the Municipio page's default): its figures are not reserved."""
    table = rates.by_municipality(Filters().resolved(filter_options()))
    return table.sort_values(["n", "code"], ascending=[False, True])["code"].iloc[0]


def _listen(page: Page, messages: list[str]) -> None:
    """Record the page's console errors and warnings and its uncaught errors (not the harmless ones)."""

    def on_console(msg) -> None:
        url = (msg.location or {}).get("url", "")
        if msg.type not in ("error", "warning") and not VEGA_LOG.search(msg.text):
            return
        for kind, text, where in HARMLESS_CONSOLE:
            if msg.type == kind and text.search(msg.text) and (where is None or where.search(url)):
                return
        messages.append(f"console.{msg.type}: {short(msg.text, 300)}" + (f" ({url})" if url else ""))

    page.on("console", on_console)
    page.on("pageerror", lambda exc: messages.append(f"pageerror: {short(str(exc), 300)}"))


@pytest.fixture()
def console(page) -> list[str]:
    """What the test's page logs, from before it loads."""
    messages: list[str] = []
    _listen(page, messages)
    return messages


@pytest.fixture(scope="module")
def report_page(context):
    """One page for the report builder, kept between its views: the first chart type of a measure is
    opened from its URL, the next ones are chosen in the «Gráfico» box (a rerun, not a new session)."""
    p = context.new_page()
    state = {"page": p, "console": [], "measure": None}
    _listen(p, state["console"])
    yield state
    p.close()
    assert context.recorder.external == [], f"peticiones fuera de localhost: {context.recorder.external}"


# ---------------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------------

def _settle(page: Page, failures: list[str]) -> None:
    """The script has finished and every element is drawn: on a busy machine Streamlit shows grey
    placeholders (stSkeleton) while the code of an element type is still loading."""
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    skeletons = page.locator('[data-testid="stSkeleton"]')
    try:
        expect(skeletons).to_have_count(0)
    except AssertionError:
        failures.append(f"página incompleta: {skeletons.count()} elemento(s) siguen sin dibujar (stSkeleton) "
                        f"después de {TIMEOUT_MS // 1000} s")
    page.wait_for_timeout(200)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


def _open_expanders(page: Page) -> None:
    """Open every closed expander of the main area, so that what it holds is checked too (a click on
    its summary: Streamlit opens it in the browser, without a rerun)."""
    opened = page.evaluate(f"""() => {{
        const closed = [...document.querySelectorAll('{MAIN} [data-testid="stExpander"] details:not([open]) > summary')];
        closed.forEach(s => s.click());
        return closed.length; }}""")
    if opened:
        expect(page.locator(f'{MAIN} [data-testid="stExpander"] details:not([open])')).to_have_count(0)


def _fit_window(page: Page) -> None:
    """Make the window as tall as the page (Streamlit scrolls inside its main block): every element is
    drawn, and the screenshot shows the whole page."""
    height = page.evaluate(f"document.querySelector('{MAIN}').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height), 12_000))})
    page.wait_for_timeout(500)


def _wait_for_charts(page: Page, failures: list[str]) -> None:
    """Wait until every Vega chart has rendered (an SVG or a canvas) and every map is drawn."""
    charts = page.locator(CHART)
    for i in range(charts.count()):
        try:
            expect(charts.nth(i).locator("svg, canvas").first).to_be_attached(timeout=TIMEOUT_MS)
        except AssertionError:
            failures.append(f"gráfico vacío: el gráfico {i + 1} no se dibujó en {TIMEOUT_MS // 1000} s")
    maps = page.locator(f"{DECK} canvas")
    for i in range(maps.count()):
        try:
            wait_until_drawn(maps.nth(i), f"el mapa {i + 1}")
        except AssertionError as exc:
            failures.append(f"gráfico vacío: {exc}")


def _check(view: View, data: dict, page: Page, failures: list[str]) -> None:
    for chart in data["charts"]:
        chart["label"] = f"gráfico {chart['index'] + 1}" + (f" («{short(chart['title'], 70)}»)" if chart["title"] else "")
    # 1. Python exceptions shown on the page.
    for text in data["exceptions"]:
        failures.append(f"excepción: {short(text, 300)}")

    # 2. Raw values and 5. English in the app's own texts.
    for item in data["texts"]:
        for value in raw_values(item["text"]):
            failures.append(f"{value} en {item['area']} ({item['where']}): «{short(item['text'])}»")
        words = english_words(item["text"])
        if words:
            failures.append(f"inglés {words} en {item['area']} ({item['where']}): «{short(item['text'])}»")
    for frame in page.frames[1:]:  # the bulletin preview (st.iframe)
        try:
            body = frame.evaluate("document.body ? document.body.innerText : ''")
        except Exception:  # noqa: BLE001 - a frame that is gone or cross-origin has nothing to check
            continue
        for line in body.splitlines():
            for value in raw_values(line):
                failures.append(f"{value} en la vista previa (iframe): «{short(line)}»")
            words = english_words(line)
            if words:
                failures.append(f"inglés {words} en el iframe: «{short(line)}»")
    for chart in data["charts"]:
        for text in chart["texts"]:
            for value in raw_values(text):
                failures.append(f"{value} en el {chart['label']}: «{short(text)}»")
            if english_words(text):
                failures.append(f"inglés {english_words(text)} en el {chart['label']}: «{short(text)}»")
        shortened = [t for t in chart["texts"] if t.endswith("…")]
        if shortened:
            failures.append(f"texto cortado: el {chart['label']} acorta {len(shortened)} texto(s) con «…» (límite de "
                            f"Vega: labelLimit/titleLimit): {_names(shortened)}")
        for axis in chart["hiddenLabels"]:
            # Numbers left out of a numeric sequence (0, 2, 4… h) are Vega thinning its ticks: a named
            # category left out is a category the reader cannot identify.
            if all(NUMBER.fullmatch(t) for t in axis["hidden"]):
                continue
            failures.append(f"texto cortado: el {chart['label']} oculta {len(axis['hidden'])} de {axis['total']} "
                            f"etiquetas de un eje por falta de espacio (Vega quita las que se solapan): "
                            f"{_names(axis['hidden'])}")
        if chart["outside"]:
            failures.append(f"texto cortado: el {chart['label']} dibuja {len(chart['outside'])} texto(s) fuera de su "
                            f"área, que la SVG recorta (hasta {max(t['px'] for t in chart['outside'])} px): "
                            f"{_names([t['text'] for t in chart['outside']])}")
    for grid in data["grids"]:
        name = f"tabla {grid['index'] + 1} ({', '.join(grid['headers'][:4])}{'…' if len(grid['headers']) > 4 else ''})"
        if not grid["readable"] and grid["visible"]:
            failures.append(f"tabla ilegible: no se pudo leer el contenido de la {name}")
        for header in grid["headers"]:
            for value in raw_values(header):
                failures.append(f"{value} en el encabezado «{header}» de la {name}")
            if english_words(header):
                failures.append(f"inglés {english_words(header)} en el encabezado «{header}» de la {name}")
        if grid["cells"] and all(text == "empty" for _, _, text, _ in grid["cells"]):
            failures.append(f"inglés ['empty'] en la {name}: la tabla está vacía y Streamlit escribe «empty» en "
                            "ella (el app puede mostrar un aviso en español en vez de una tabla vacía)")
            continue
        by_column: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        for row, col, text, kind in grid["cells"]:
            column = grid["headers"][col] if col < len(grid["headers"]) else str(col)
            if kind == "number" and NO_THOUSANDS.fullmatch(text) and not _is_year(text):
                by_column[("número sin separador de miles", column)].append((row, text))
            for value in raw_values(text, thousands=False):
                by_column[(value.split(" «")[0], column)].append((row, text))
            if english_words(text):
                by_column[(f"inglés {english_words(text)}", column)].append((row, text))
        for (check, column), hits in by_column.items():
            examples = ", ".join(f"fila {r + 1}: «{short(t, 40)}»" for r, t in hits[:3])
            failures.append(f"{check} en {len(hits)} celda(s) de la columna «{column}» de la {name} ({examples})")
        for c in grid["cut"]:
            failures.append(f"texto cortado: encabezado «{c['title']}» de la {name} en {c['width']} px "
                            f"(necesita {c['need']} px)")
        # A grid wider than its box scrolls, and a cell narrower than its text shows it whole on hover:
        # the grid's own behaviour, listed (artifacts/e2e/sweep/tablas_anchas.txt) rather than failed.
        if grid.get("edge") or grid.get("hidden"):
            e, hidden = grid.get("edge"), grid.get("hidden") or []
            WIDE_TABLES[f"la {name} es más ancha que su caja: "
                            + (f"la columna «{e['title']}» se ve {e['shown']} de {e['width']} px" if e else "")
                            + (" y " if e and hidden else "")
                         + (f"{len(hidden)} columna(s) solo se ven desplazando ({_names(hidden, 5)})" if hidden else "")
                         ].add(view.name)
        cut_cells: dict[str, list] = defaultdict(list)
        for row, col, text, width, need in grid["cellsCut"]:
            cut_cells[grid["headers"][col] if col < len(grid["headers"]) else str(col)].append((row, text, width, need))
        for column, hits in cut_cells.items():
            WIDE_TABLES[f"{len(hits)} celda(s) de la columna «{column}» de la {name} más anchas que la columna: "
                        + ", ".join(f"«{short(t, 40)}»" for _r, t, _w, _n in hits[:3])].add(view.name)

    # 3. Cut text in buttons, tabs, metrics, labels, expander titles.
    reported = set()
    for c in data["cut"]:
        key = (c["where"], c["text"])
        if key in reported:
            continue
        reported.add(key)
        shown = c["inner"] if c["inner"] != c["text"] and c["tag"] != "INPUT" else ""
        failures.append(f"texto cortado: {c['where']} «{short(c['text'], 80)}» no cabe: {c['scrollWidth']} px de "
                        f"texto en {c['clientWidth']} px ({c['tag'].lower()} de {c['selector']})"
                        + (f", se lee «{short(shown, 60)}»" if shown else ""))

    # 4. Charts without drawn marks.
    for chart in data["charts"]:
        if not chart["visible"]:
            continue
        label = chart["label"]
        if chart["svg"] and chart["drawn"] == 0:
            failures.append(f"gráfico vacío: {label} no tiene marcas dibujadas ({chart['marks']} marca(s) sin tamaño)")
        elif not chart["svg"] and chart["canvas"]:
            colours = distinct_colours(page.locator(CHART).nth(chart["index"]).screenshot())
            if colours < 4:
                failures.append(f"gráfico vacío: {label} (lienzo) con {colours} color(es)")
        elif not chart["svg"] and not chart["canvas"]:
            failures.append(f"gráfico vacío: {label} no se dibujó")
    if view.report_chart and not data["charts"]:
        failures.append("gráfico vacío: el informe no muestra gráfico" + (
            f" (avisos: {' | '.join(short(a, 150) for a in data['alerts'])})" if data["alerts"] else ""))

    # 5. English from Streamlit's chrome and Vega's screen-reader texts: listed, not failures.
    for item in data["chromeTexts"]:
        if english_words(item["text"]):
            CHROME_ENGLISH[f"texto visible en {item['where']}: «{short(item['text'])}»"].add(view.name)
    for a in data["attrs"]:
        if not english_words(a["value"]):
            continue
        if a["vega"]:  # Vega's descriptions of axes and legends; those of marks are the app's tooltips
            if VEGA_ARIA.match(a["value"]):
                template = re.sub(r"'[^']*'", "'…'", a["value"].split(" with ")[0])
                CHROME_ENGLISH[f"aria-label de Vega (lector de pantalla): «{template} with …»"].add(view.name)
        elif a["chrome"] or a["attr"] == "aria-label":  # Streamlit's names for its own buttons and icons
            value = re.sub(r"^Help for .*", "Help for <etiqueta>", a["value"])
            CHROME_ENGLISH[f"{a['attr']} en {a['where']}: «{short(value, 90)}»"].add(view.name)
        elif a["attr"] == "placeholder" and not a["empty"]:
            continue  # a placeholder behind a chosen value is never seen
        elif a["visible"]:
            failures.append(f"inglés {english_words(a['value'])} en {a['attr']} de {a['where']}: «{short(a['value'])}»")


def _url_spec(page: Page) -> ReportSpec | None:
    values = parse_qs(urlparse(page.url).query).get("informe")
    try:
        return ReportSpec.from_param(values[-1]) if values else None
    except SpecError:
        return None


def _choose_chart(page: Page, chart: str) -> None:
    """Choose a chart type in the report builder and wait for the new chart: the URL says it, the
    script is idle and every chart is a new SVG (Streamlit re-embeds the chart on a new spec)."""
    page.evaluate(f"document.querySelectorAll('{CHART} svg').forEach(s => s.__sweepOld = true)")
    page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Gráfico", exact=True)).click()
    page.get_by_role("option", name=CHARTS[chart], exact=True).click()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not ((spec := _url_spec(page)) and spec.chart == chart):
        assert time.monotonic() < deadline, f"el informe no cambió a «{CHARTS[chart]}»"
        page.wait_for_timeout(100)
    page.wait_for_selector(IDLE)
    page.wait_for_function(f"() => [...document.querySelectorAll('{CHART} svg')].every(s => !s.__sweepOld)",
                           timeout=TIMEOUT_MS)


def _sweep(page: Page, console: list[str], server: str, view: View, muni: str, switch_to: str | None = None) -> None:
    """Open the view (or choose the report's chart type), check it, save its screenshot and findings,
    and fail with every defect found."""
    failures: list[str] = []
    data: dict = {"charts": [], "grids": [], "maps": 0}
    started = time.monotonic()
    if switch_to:
        try:
            _choose_chart(page, switch_to)
        except (AssertionError, PlaywrightError):
            switch_to = None  # open it from its URL instead
    if not switch_to:
        query = view.query.replace("%7Bmuni%7D", muni).replace("{muni}", muni)
        page.goto(f"{server}/{view.path}" + (f"?{query}" if query else ""))
    try:
        # The page's title, or the exception that kept the page from drawing it.
        expect(page.locator('h1, [data-testid="stException"]').first).to_be_visible()
        expect(page.locator("h1").first).to_have_text(view.title, timeout=5_000)
        _settle(page, failures)
        _open_expanders(page)
        _fit_window(page)
        _wait_for_charts(page, failures)
        _settle(page, failures)
        data = page.evaluate(COLLECT_JS, {"chrome": CHROME, "cutSelectors": CUT_SELECTORS})
        _check(view, data, page, failures)
    except (AssertionError, PlaywrightError) as exc:  # the view did not load: say so, with what the page shows
        shown = page.locator('[data-testid="stException"]').all_inner_texts()
        failures.append(f"la vista no cargó: {short(str(exc), 300)}"
                        + "".join(f"\n    excepción: {short(t, 400)}" for t in shown))
    failures[:0] = list(console)  # 1. console errors and warnings, from the load to here

    SWEEP.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SWEEP / f"{view.name}.png"))
    failures = list(dict.fromkeys(failures))
    (SWEEP / f"{view.name}.json").write_text(json.dumps({
        "view": view.name, "url": page.url, "seconds": round(time.monotonic() - started, 1), "failures": failures,
        "charts": [{k: c[k] for k in ("title", "marks", "drawn")} for c in data["charts"]], "maps": data["maps"],
        "grids": [g["headers"] for g in data["grids"]]}, ensure_ascii=False, indent=1), encoding="utf-8")
    if failures:
        pytest.fail(f"{len(failures)} defecto(s) en {view.name} ({page.url}):\n  - " + "\n  - ".join(failures),
                    pytrace=False)


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_sweep(page, console, server, top_muni, view):
    _sweep(page, console, server, view, top_muni)


@pytest.mark.parametrize("view", REPORT_VIEWS, ids=[v.name for v in REPORT_VIEWS])
def test_report_sweep(report_page, server, top_muni, view):
    page, console = report_page["page"], report_page["console"]
    console.clear()
    measure, chart = view.name.split("-")[1:]
    spec = _url_spec(page) if urlparse(page.url).path.strip("/") == "informes" else None
    same = report_page["measure"] == measure and spec is not None and spec.measure == measure
    report_page["measure"] = None  # until this view has loaded
    try:
        _sweep(page, console, server, view, top_muni, switch_to=chart if same else None)
    finally:
        if (spec := _url_spec(page)) and spec.measure == measure and spec.chart == chart:
            report_page["measure"] = measure
