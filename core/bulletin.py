"""Periodic bulletin for the country or one municipality and a period (or one month).

``content`` (a period) and ``monthly_content`` (a month) gather what the bulletin says as a list
of blocks (headings, key figures, tables, charts, the map, notes, definitions); ``render`` writes them as one self-contained HTML file
(charts and map inline as SVG, no external resource) and core/bulletin_pdf.py as a PDF, without a
browser or a network. Every figure is taken from the protected public views in public mode.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass, field, replace

import altair as alt
import pandas as pd
import shapely

from core import alerts, classify, coverage, disclosure, fmt, geo, methodology, municipality, rates, trend, views, warehouse
from core.filters import UNIT_NOUNS, Filters, filter_options


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    style: str = ""          # "" (body), "sub" (small, grey) or "warn" (framed warning)


@dataclass(frozen=True)
class KeyFigures:
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    numeric: frozenset[str]


@dataclass(frozen=True)
class Chart:
    chart: alt.TopLevelMixin
    description: str         # what the chart shows, for readers that cannot see it


@dataclass(frozen=True)
class Definitions:
    items: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Items:
    items: tuple[str, ...]


Block = Heading | Text | KeyFigures | Table | Chart | Definitions | Items


@dataclass
class Bulletin:
    place: str
    period: str
    subtitle: str
    synthetic: bool
    footer: str
    blocks: list[Block] = field(default_factory=list)
    heading: str = "Boletín de seguridad ciudadana"   # what the document is (a monitoring report says so)

    @property
    def title(self) -> str:
        return f"{self.heading} · {self.place} · {self.period}"

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2430;max-width:900px;margin:2em auto;
padding:0 1em;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em}h2{font-size:1.2em;border-bottom:2px solid #e34a33;padding-bottom:.2em;
margin-top:1.6em}.sub{color:#555}.warn{background:#fff4d6;border:1px solid #e0b000;padding:.6em 1em;margin:1em 0}
.kpis{display:flex;gap:1em;flex-wrap:wrap}.kpi{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:170px}
.kpi b{display:block;font-size:1.6em}table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border-bottom:1px solid #e5e5e5;padding:.3em .5em;text-align:left}td.n,th.n{text-align:right}
footer{margin-top:2em;font-size:.85em;color:#555}figure{margin:0}@media print{body{margin:0}h2{break-after:avoid}}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _table(df: pd.DataFrame, numeric: frozenset[str] | set[str]) -> str:
    head = "".join(f"<th class='n'>{_e(c)}</th>" if c in numeric else f"<th>{_e(c)}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(f"<td class='n'>{_e(v)}</td>" if c in numeric else f"<td>{_e(v)}</td>"
                                    for c, v in zip(df.columns, r)) + "</tr>" for r in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())


def file_stem(f: Filters, muni_code: str | None = None, month: tuple[int, int] | None = None) -> str:
    """The file name (without extension) of a bulletin: territory and period (or year and month)."""
    f = f.resolved(filter_options())
    place = muni_code or (f.dept_code and f"depto_{f.dept_code}") or warehouse.meta().get("country", "pais").lower()
    return f"boletin_{place}_" + (f"{month[0]}-{month[1]:02d}" if month else f"{f.year_from}-{f.year_to}")


def render(f: Filters, muni_code: str | None = None) -> str:
    """The bulletin as one HTML document."""
    return to_html(content(f, muni_code))


def content(f: Filters, muni_code: str | None = None) -> Bulletin:
    """What the bulletin says, block by block."""
    opts = filter_options()
    f = f.resolved(opts)
    meta = warehouse.meta()
    doc, scope = _start(f, muni_code, f.period())
    place = doc.place
    parts = doc.blocks
    if muni_code:
        p = municipality.profile(f, muni_code)

    # ---- key figures (public mode: counts from 1 to 4 read "<5", see core.disclosure)
    sensitive = disclosure.covers_sensitive(scope)
    count = f.unit_label  # 'Víctimas' or 'Hechos': what the figures count
    registered = f"{count} {'registradas' if f.unit == 'victimas' else 'registrados'}"
    if muni_code:
        hidden = disclosure.hides(p.count, sensitive)
        change_hidden = hidden or disclosure.hides(p.previous_count or 0, sensitive)
        kpis = [(registered, disclosure.count_text(p.count, sensitive)),
                ("Tasa anual por 100,000 hab.", "—" if hidden else fmt.decimal(p.rate)),
                ("Cambio vs " + (p.previous_label or "periodo anterior"),
                 "—" if change_hidden else fmt.percent(p.change_pct, signed=True)),
                ("Puesto nacional por tasa", f"{p.rank_national} de {p.n_national}" if p.rank_national and not hidden
                 else "—")]
        series = views.municipality_yearly(f, muni_code)
    else:
        h = rates.headline(scope)
        hidden = disclosure.hides(h.count, sensitive)
        change_hidden = any(disclosure.hides(v, sensitive) for v in (h.latest_count, h.previous_count or 0))
        kpis = [(registered, disclosure.count_text(h.count, sensitive)),
                ("Tasa anual por 100,000 hab.", "—" if hidden else fmt.decimal(h.rate)),
                (f"Cambio {h.latest_year} vs {h.latest_year - 1}",
                 "—" if change_hidden else fmt.percent(h.change_pct, signed=True)),
                (f"Municipios con {f.noun()}", f"{h.municipalities_with_cases} de {h.municipalities}")]
        series = views.yearly_total(scope)
    kpis += _year_to_date(scope, muni_code)
    parts += [Heading("Cifras clave"), KeyFigures(tuple(kpis))]
    gap_note = coverage.describe_month_gaps(scope)
    if gap_note:
        parts.append(Text(gap_note, "warn"))
    other, n_other = coverage.other_unit_count(scope)
    if n_other and not muni_code:  # the count of the other unit is the scope's, not the municipality's
        parts.append(Text(f"Además hay {disclosure.count_text(n_other, sensitive)} {UNIT_NOUNS[other][1]} con estos "
                          "filtros: no se suman a estas cifras.", "sub"))
    if muni_code and coverage.municipality_gaps(scope).get(muni_code):
        parts.append(Text(f"{coverage.municipality_gaps(scope)[muni_code]} en todo el periodo: las cifras pueden "
                          "estar incompletas.", "warn"))
    parts += _map(f, scope, muni_code, meta)

    # ---- trend
    flags = coverage.year_flags(scope)
    series = series.assign(Año=series["year"].map(lambda y: rates.year_label(y) + (" *" if y in flags else "")),
                           Tasa=series["rate"],
                           count_value=disclosure.numeric(series["n"]))
    chart = alt.Chart(series[["Año", "count_value"]]).mark_bar(color="#e34a33").encode(
        x=alt.X("Año:O", title="Año", sort=None), y=alt.Y("count_value:Q", title=count),
    ).properties(width=700, height=220, title=f"{count} por año")
    parts += [Heading("Evolución"), Chart(chart, f"Gráfico de barras: {count.lower()} por año en {place}."),
              Table(pd.DataFrame({"Año": series["Año"], count: series["n"].map(disclosure.label),
                                  "Tasa por 100,000 hab.": series["Tasa"].map(fmt.decimal)}),
                    frozenset({count, "Tasa por 100,000 hab."}))]

    # ---- where / what
    if muni_code:
        types = municipality.by_crime_type(f, muni_code)
        types = disclosure.protect(types, "n", disclosure.rows_sensitive(scope, types, type_column="crime_type"),
                                   dims=["crime_type"], derived=["share"]).head(10)
        parts += [Heading("Principales delitos"), Table(pd.DataFrame({
            "Delito": types["name"], "Grupo": types["crime_group"], count: types["n"].map(disclosure.label),
            "%": types["share"].map(fmt.decimal)}), frozenset({count, "%"}))]
    else:
        munis = disclosure.protect_territories(scope, rates.by_municipality(scope))
        top = munis.dropna(subset=["rate"]).sort_values(["rate", "code"], ascending=[False, True]).head(10)
        parts += [Heading("Municipios con la tasa más alta"), Table(pd.DataFrame({
            "Municipio": top["name"], "Departamento": top["department"], count: top["n"].map(disclosure.label),
            "Tasa por 100,000 hab.": top["rate"].map(fmt.decimal)}), frozenset({count, "Tasa por 100,000 hab."}))]
        left_out = coverage.left_out(scope, "municipio")
        if left_out:
            parts.append(Text(left_out, "sub"))
        last, prev = f.last_year, f.last_year - 1
        if prev >= opts.min_year and rates.year_coverage(last) == rates.year_coverage(prev):
            year_scope = [replace(scope, year_from=y, year_to=y) for y in (last, prev)]
            now, before = (disclosure.protect_territories(s, rates.by_municipality(s)).set_index("code")
                           for s in year_scope)
            change = pd.DataFrame({"Municipio": now["name"], "Departamento": now["department"],
                                   prev: before["n"], last: now["n"]})
            # a difference involving a reserved count would give it back: those rows are left out
            change["diff"] = disclosure.numeric(change[last]) - disclosure.numeric(change[prev])
            change = change.dropna(subset=["diff"]).sort_values("diff", ascending=False).head(10)
            change["diff"] = change["diff"].astype("int64")
            parts += [Heading(f"Mayores aumentos {last} frente a {prev}"), Table(pd.DataFrame({
                "Municipio": change["Municipio"], "Departamento": change["Departamento"],
                str(prev): change[prev].map(disclosure.label), str(last): change[last].map(disclosure.label),
                "Diferencia": change["diff"].map(lambda d: f"{d:+,}")}), frozenset({str(prev), str(last), "Diferencia"}))]

    parts += _alerts(scope, muni_code)
    parts += _sources(meta)
    return doc


def _start(f: Filters, muni_code: str | None, period: str) -> tuple[Bulletin, Filters]:
    """An empty bulletin of the territory (the country, the department of the filters or a
    municipality) and the period, and the scope of its figures (a municipality's: the country's filters)."""
    opts = filter_options()
    meta = warehouse.meta()
    if muni_code:
        p = municipality.profile(f, muni_code)
        place = municipality.place_label(p.name, p.department)
        scope = replace(f, dept_code=None)
    else:
        place = meta.get("country_name", "") + (f", {opts.departments[f.dept_code]}" if f.dept_code else "")
        scope = f
    doc = Bulletin(place, period, f"{place} · {period} · {f.describe(opts).split(' · ', 1)[1]}",
                   meta.get("synthetic") == "true",
                   f"Atalaya · observatorio de seguridad ciudadana · generado el {dt.date.today():%d/%m/%Y} "
                   f"con el almacén del {meta.get('built_at', '—')[:10]}.")
    return doc, scope


def _alerts(scope: Filters, muni_code: str | None) -> list[Block]:
    """The alerts of the last month with data (of the municipality, or every one in scope)."""
    parts: list[Block] = []
    scan = alerts.scan(scope)
    found = alerts.protected(scope, scan.table)
    found = found[found["alert"]]
    if muni_code:
        found = found[found["code"] == muni_code]
    parts.append(Heading(f"Alertas tempranas ({scan.latest_month:%m/%Y})"))
    if found.empty:
        parts.append(Text("Sin alertas: ninguna cifra del último mes ni de los últimos tres meses es improbablemente "
                          "alta frente a los mismos meses de los años anteriores."))
    else:
        parts.append(Table(pd.DataFrame({
            "Municipio": found["name"], "Grupo de delito": found["crime_group"],
            "Ventana": found["window"].map(alerts.WINDOWS), "Observado": found["observed"].map(disclosure.label),
            "Esperado": found["expected"].map(fmt.decimal), "Probabilidad": found["p_value"].map(fmt.chance),
            "Probabilidad ajustada": found["q_value"].map(fmt.chance)}
        ).head(15), frozenset({"Observado", "Esperado", "Probabilidad", "Probabilidad ajustada"})))
    parts.append(Text(alerts.METHOD.replace("**", ""), "sub"))
    return parts


def _sources(meta: dict[str, str]) -> list[Block]:
    """Who recorded the figures and what each word means."""
    parts: list[Block] = []
    src = rates.sources()
    parts += [Heading("Fuentes y definiciones"),
              Items(tuple(f"{r.institution}: {fmt.integer(r.rows_loaded)} registros" for r in src.itertuples()))]
    definitions: list[tuple[str, tuple[str, ...]]] = [(t, (d,)) for t, d in methodology.definitions().items()]
    definitions.append(("Protección de las víctimas", tuple(disclosure.notes())))
    if meta.get("counting_rule"):
        definitions.append(("Regla de conteo entre fuentes", (meta["counting_rule"],)))
    parts.append(Definitions(tuple(definitions)))
    return parts


def _year_to_date(scope: Filters, muni_code: str | None, through_month: int | None = None) -> list[tuple[str, str]]:
    """The year so far against the same months of the year before (as on the pages' headlines): the
    count of those months and the change of the rate, with whether chance explains it; the change
    is not shown when either count is reserved."""
    ytd, now, before = views.year_to_date(scope, muni_code, through_month)
    if ytd is None or now is None or before is None:
        return []
    return [(f"{ytd.months} {ytd.year}", now.text),
            (f"Cambio {ytd.months} {ytd.year} vs {ytd.year - 1}", _change_text(ytd, now, before))]


def _change_text(result: trend.YearToDate, now: views.Count, before: views.Count) -> str:
    """The change of the rate and whether chance explains it; «—» when either count is reserved."""
    if now.hidden or before.hidden or result.change_pct is None:
        return "—"
    return (f"{fmt.percent(result.change_pct, signed=True)} "
            + ("(puede ser azar)" if result.verdict == trend.FLAT else "(significativo)"))


class BulletinError(ValueError):
    """A bulletin that cannot be written (a month outside the data); the message is for the user."""


MONTHS_SHOWN = 13  # the monthly bulletin's series: the month and the twelve before it


def months_available(f: Filters) -> list[tuple[int, int]]:
    """(year, month) of every month of the period's last year that has data, latest first: the
    months a monthly bulletin can be written for."""
    f = f.resolved(filter_options())
    start, end = rates.data_period()
    return [(f.last_year, m) for m in range(12, 0, -1)
            if dt.date(start.year, start.month, 1) <= dt.date(f.last_year, m, 1) <= end]


def monthly_content(f: Filters, year: int, month: int, muni_code: str | None = None) -> Bulletin:
    """The bulletin of one month: its figures against the same month of the year before, the year so
    far to that month, the last 13 months, the alerts when it is the last month with data, sources
    and definitions. The filters' period is replaced by the month's year."""
    opts = filter_options()
    start, end = rates.data_period()
    if not 1 <= month <= 12 or not dt.date(start.year, start.month, 1) <= dt.date(year, month, 1) <= end:
        raise BulletinError(f"no hay datos de {fmt.month(year, month) if 1 <= month <= 12 else f'{month}/{year}'}: "
                            f"los datos van de {fmt.month(start.year, start.month)} a {fmt.month(end.year, end.month)}")
    f = replace(f, year_from=year, year_to=year).resolved(opts)
    meta = warehouse.meta()
    doc, scope = _start(f, muni_code, fmt.month(year, month))
    parts = doc.blocks
    count = f.unit_label
    name = fmt.MONTH_NAMES[month - 1]
    result, now, before = views.same_month(scope, year, month, muni_code)
    kpis = [(f"{count} en {name} de {year}", now.text if now else "—"),
            (f"{name.capitalize()} de {year - 1}", before.text if before else "—")]
    if result is not None and now is not None and before is not None:
        kpis.append((f"Cambio frente a {name} de {year - 1}", _change_text(result, now, before)))
    kpis += _year_to_date(scope, muni_code, month)
    parts += [Heading("Cifras del mes"), KeyFigures(tuple(kpis)),
              Text(f"Cambio de la tasa de {name} y de enero a {name} frente a los mismos meses del año anterior, con la "
                   "población de cada año; «significativo» cuando el intervalo exacto del cociente de tasas (binomial "
                   "condicional, Clopper–Pearson) no incluye el 1, «puede ser azar» cuando lo incluye.", "sub")]
    gap_note = coverage.describe_month_gaps(scope)
    if gap_note:
        parts.append(Text(gap_note, "warn"))

    # ---- the last 13 months, each with the same month of the year before
    first_year = max(opts.min_year, year - 2)
    series = views.monthly_total(replace(scope, year_from=first_year, year_to=year), muni_code).set_index("month")
    shown = pd.date_range(end=pd.Timestamp(year, month, 1), periods=MONTHS_SHOWN, freq="MS")
    shown = shown[shown.isin(series.index)]
    cells = pd.Series([series.at[m, "n"] for m in shown], dtype=object)
    before_cells = [series.at[m - pd.DateOffset(years=1), "n"] if m - pd.DateOffset(years=1) in series.index else None
                    for m in shown]
    table = pd.DataFrame({"Mes": [f"{trend.MONTHS[m.month - 1]} {m.year}" for m in shown],
                          count: cells.map(views.label),
                          "Mismo mes del año anterior": [views.label(c) if c is not None else "—" for c in before_cells]})
    bars = pd.DataFrame({"Mes": table["Mes"], "value": views.numeric(cells).to_numpy()})
    chart = alt.Chart(bars).mark_bar(color="#e34a33").encode(
        x=alt.X("Mes:O", title="Mes", sort=None), y=alt.Y("value:Q", title=count),
    ).properties(width=700, height=220, title=f"{count} por mes, últimos {len(shown)} meses")
    parts += [Heading(f"Los últimos {len(shown)} meses"),
              Chart(chart, f"Gráfico de barras: {count.lower()} por mes en {doc.place}."),
              Table(table, frozenset({count, "Mismo mes del año anterior"}))]
    if views.is_suppressed(cells).any():
        parts.append(Text(f"«{views.SUPPRESSED}»: cifra reservada en el modo público; su barra no se dibuja.", "sub"))

    if (year, month) == (end.year, end.month):  # the alerts are those of the last month with data
        parts += _alerts(scope, muni_code)
    parts += _sources(meta)
    return doc


MAP_WIDTH, MAP_HEIGHT = 700, 430


def _map(f: Filters, scope: Filters, muni_code: str | None, meta: dict[str, str]) -> list[Block]:
    """The map of the bulletin: the rate of every municipality (of the country, or of the department
    of ``muni_code``, outlined), in three classes by quantiles as on the map page, from the same
    protected table (a reserved figure is drawn as reserved, never coloured by its value)."""
    data = views.municipalities(scope)
    if muni_code:
        dept = data.loc[data["code"] == muni_code, "dept_code"]
        if dept.empty:
            return []
        data = data[data["dept_code"] == dept.iloc[0]]
    value = views.numeric(data["rate"])
    reserved = views.is_suppressed(data["n"])
    classes = classify.classify(value, "cuantiles", 3, "incidencia", reserved=reserved)
    data = data.assign(clase=classes.labels.to_numpy())
    collection = geo.feature_collection("municipio", data, ["code", "clase"])
    if not collection["features"]:
        return []
    _clockwise(collection["features"])
    legend = classes.legend
    scale = alt.Scale(domain=list(legend["label"]), range=list(legend["color"]))
    shapes = alt.Data(values=collection["features"])
    layers = [alt.Chart(shapes).mark_geoshape(stroke="white", strokeWidth=0.4).encode(
        color=alt.Color("properties.clase:N", scale=scale, title="Tasa por 100,000 hab.",
                        legend=alt.Legend(orient="right", labelLimit=260, titleLimit=300)))]
    if muni_code:
        chosen = [feat for feat in collection["features"] if feat["properties"]["code"] == muni_code]
        layers.append(alt.Chart(alt.Data(values=chosen)).mark_geoshape(filled=False, stroke="#1f2430", strokeWidth=2.5))
    place = "el departamento" if muni_code else meta.get("country_name", "el país")
    chart = alt.layer(*layers).project("mercator").properties(
        width=MAP_WIDTH, height=MAP_HEIGHT, title=f"Tasa por 100,000 hab. por municipio, {scope.period()}")
    ranges = "; ".join(f"{r.label}: {classify.range_text(r.lower, r.upper, fmt.decimal)} ({r.count})"
                       for r in legend.itertuples() if r.lower is not None or r.upper is not None)
    note = (f"Clases por cuantiles ({ranges}). Tasa anual por 100,000 habitantes con la población que corresponde a los "
            f"filtros; fuente: {_sources_text()}."
            + (" El municipio del boletín va con borde oscuro." if muni_code else "")
            + (f" «{classify.RESERVED}»: cifra reservada en el modo público." if reserved.any() else ""))
    return [Heading("Mapa"), Chart(chart, f"Mapa de {place}: municipios coloreados por su clase de tasa."), Text(note, "sub")]


def _clockwise(features: list[dict]) -> None:
    """Exterior rings clockwise, as Vega's map projection (d3-geo) reads them; GeoJSON's own rule
    (counter-clockwise) would fill the whole plane outside a polygon."""
    shapes = shapely.from_geojson([json.dumps(feat["geometry"]) for feat in features])
    for feat, shape in zip(features, shapely.orient_polygons(shapes, exterior_cw=True)):
        feat["geometry"] = json.loads(shapely.to_geojson(shape))


def _sources_text() -> str:
    return ", ".join(rates.sources()["institution"])


def to_html(doc: Bulletin) -> str:
    """The bulletin as one self-contained HTML document."""
    parts = [f"<!doctype html><html lang='es'><head><meta charset='utf-8'><title>{_e(doc.title)}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{_e(doc.heading)}</h1><p class='sub'>{_e(doc.subtitle)}</p>"]
    if doc.synthetic:
        parts.append("<div class='warn'><b>Datos sintéticos de demostración.</b> No representan la situación real.</div>")
    for block in doc.blocks:
        if isinstance(block, Heading):
            parts.append(f"<h2>{_e(block.text)}</h2>")
        elif isinstance(block, Text):
            parts.append(f"<div class='warn'>{_e(block.text)}</div>" if block.style == "warn" else
                         f"<p class='sub'>{_e(block.text)}</p>" if block.style == "sub" else f"<p>{_e(block.text)}</p>")
        elif isinstance(block, KeyFigures):
            parts.append("<div class='kpis'>" + "".join(f"<div class='kpi'>{_e(k)}<b>{_e(v)}</b></div>"
                                                        for k, v in block.items) + "</div>")
        elif isinstance(block, Table):
            parts.append(_table(block.frame, block.numeric))
        elif isinstance(block, Chart):
            parts.append(f"<figure role='img' aria-label='{_e(block.description)}'>{_svg(block.chart)}</figure>")
        elif isinstance(block, Items):
            parts.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Definitions):
            parts.append("<dl>" + "".join(f"<dt><b>{_e(term)}</b></dt>" + "".join(f"<dd>{_e(d)}</dd>" for d in texts)
                                          for term, texts in block.items) + "</dl>")
    parts.append(f"<footer>{_e(doc.footer)}</footer></body></html>")
    return "\n".join(parts)
