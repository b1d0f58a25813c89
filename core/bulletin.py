"""Periodic bulletin: one self-contained HTML file (charts inline as SVG, no external resource),
printable to PDF from the browser, for the country or one municipality and a period."""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import replace

import altair as alt
import pandas as pd

from core import alerts, coverage, disclosure, fmt, methodology, municipality, rates, warehouse
from core.filters import UNIT_NOUNS, Filters, filter_options

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2430;max-width:900px;margin:2em auto;
padding:0 1em;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em}h2{font-size:1.2em;border-bottom:2px solid #e34a33;padding-bottom:.2em;
margin-top:1.6em}.sub{color:#555}.warn{background:#fff4d6;border:1px solid #e0b000;padding:.6em 1em;margin:1em 0}
.kpis{display:flex;gap:1em;flex-wrap:wrap}.kpi{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:170px}
.kpi b{display:block;font-size:1.6em}table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border-bottom:1px solid #e5e5e5;padding:.3em .5em;text-align:left}td.n,th.n{text-align:right}
footer{margin-top:2em;font-size:.85em;color:#555}@media print{body{margin:0}h2{break-after:avoid}}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _table(df: pd.DataFrame, numeric: set[str]) -> str:
    head = "".join(f"<th class='n'>{_e(c)}</th>" if c in numeric else f"<th>{_e(c)}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(f"<td class='n'>{_e(v)}</td>" if c in numeric else f"<td>{_e(v)}</td>"
                                    for c, v in zip(df.columns, r)) + "</tr>" for r in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _svg(chart: alt.Chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())


def render(f: Filters, muni_code: str | None = None) -> str:
    """The bulletin as one HTML document."""
    opts = filter_options()
    f = f.resolved(opts)
    meta = warehouse.meta()
    country = meta.get("country_name", "")
    if muni_code:
        p = municipality.profile(f, muni_code)
        place = municipality.place_label(p.name, p.department)
        scope = replace(f, dept_code=None)
    else:
        place = country + (f", {opts.departments[f.dept_code]}" if f.dept_code else "")
        scope = f
    period = str(f.year_from) if f.year_from == f.year_to else f"{f.year_from}–{f.year_to}"
    parts = [f"<!doctype html><html lang='es'><head><meta charset='utf-8'>"
             f"<title>Boletín de seguridad ciudadana · {_e(place)} · {_e(period)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Boletín de seguridad ciudadana</h1><p class='sub'>{_e(place)} · {_e(period)} · "
             f"{_e(f.describe(opts).split(' · ', 1)[1])}</p>"]
    if meta.get("synthetic") == "true":
        parts.append("<div class='warn'><b>Datos sintéticos de demostración.</b> No representan la situación real.</div>")

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
        series = municipality.yearly(f, muni_code)
    else:
        h = rates.headline(scope)
        hidden = disclosure.hides(h.count, sensitive)
        change_hidden = any(disclosure.hides(v, sensitive) for v in (h.latest_count, h.previous_count or 0))
        kpis = [(registered, disclosure.count_text(h.count, sensitive)),
                ("Tasa anual por 100,000 hab.", "—" if hidden else fmt.decimal(h.rate)),
                (f"Cambio {h.latest_year} vs {h.latest_year - 1}",
                 "—" if change_hidden else fmt.percent(h.change_pct, signed=True)),
                (f"Municipios con {f.noun()}", f"{h.municipalities_with_cases} de {h.municipalities}")]
        series = rates.yearly(scope, by=None)
    series = disclosure.protect(series, "n", sensitive, dims=["year"], derived=disclosure.RATE_COLUMNS)
    parts.append("<h2>Cifras clave</h2><div class='kpis'>" + "".join(
        f"<div class='kpi'>{_e(k)}<b>{_e(v)}</b></div>" for k, v in kpis) + "</div>")
    gap_note = coverage.describe_month_gaps(scope)
    if gap_note:
        parts.append(f"<div class='warn'>{_e(gap_note)}</div>")
    other, n_other = coverage.other_unit_count(scope)
    if n_other and not muni_code:  # the count of the other unit is the scope's, not the municipality's
        parts.append(f"<p class='sub'>Además hay {_e(disclosure.count_text(n_other, sensitive))} "
                     f"{_e(UNIT_NOUNS[other][1])} con estos filtros: no se suman a estas cifras.</p>")
    if muni_code and coverage.municipality_gaps(scope).get(muni_code):
        parts.append(f"<div class='warn'>{_e(coverage.municipality_gaps(scope)[muni_code])} en todo el periodo: "
                     "las cifras pueden estar incompletas.</div>")

    # ---- trend
    flags = coverage.year_flags(scope)
    series = series.assign(Año=series["year"].map(lambda y: rates.year_label(y) + (" *" if y in flags else "")),
                           Tasa=series["rate"],
                           count_value=disclosure.numeric(series["n"]))
    chart = alt.Chart(series[["Año", "count_value"]]).mark_bar(color="#e34a33").encode(
        x=alt.X("Año:O", title="Año", sort=None), y=alt.Y("count_value:Q", title=count),
    ).properties(width=700, height=220, title=f"{count} por año")
    parts.append("<h2>Evolución</h2>" + _svg(chart))
    parts.append(_table(pd.DataFrame({"Año": series["Año"], count: series["n"].map(disclosure.label),
                                      "Tasa por 100,000 hab.": series["Tasa"].map(fmt.decimal)}),
                        {count, "Tasa por 100,000 hab."}))

    # ---- where / what
    if muni_code:
        types = municipality.by_crime_type(f, muni_code)
        types = disclosure.protect(types, "n", disclosure.rows_sensitive(scope, types, type_column="crime_type"),
                                   dims=["crime_type"], derived=["share"]).head(10)
        parts.append("<h2>Principales delitos</h2>" + _table(pd.DataFrame({
            "Delito": types["name"], "Grupo": types["crime_group"], count: types["n"].map(disclosure.label),
            "%": types["share"].map(fmt.decimal)}), {count, "%"}))
    else:
        munis = disclosure.protect_territories(scope, rates.by_municipality(scope))
        top = munis.dropna(subset=["rate"]).sort_values(["rate", "code"], ascending=[False, True]).head(10)
        parts.append("<h2>Municipios con la tasa más alta</h2>" + _table(pd.DataFrame({
            "Municipio": top["name"], "Departamento": top["department"], count: top["n"].map(disclosure.label),
            "Tasa por 100,000 hab.": top["rate"].map(fmt.decimal)}), {count, "Tasa por 100,000 hab."}))
        left_out = coverage.left_out(scope, "municipio")
        if left_out:
            parts.append(f"<p class='sub'>{_e(left_out)}</p>")
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
            parts.append(f"<h2>Mayores aumentos {last} frente a {prev}</h2>" + _table(pd.DataFrame({
                "Municipio": change["Municipio"], "Departamento": change["Departamento"],
                str(prev): change[prev].map(disclosure.label), str(last): change[last].map(disclosure.label),
                "Diferencia": change["diff"].map(lambda d: f"{d:+,}")}), {str(prev), str(last), "Diferencia"}))

    # ---- alerts
    scan = alerts.scan(scope)
    found = alerts.protected(scope, scan.table)
    found = found[found["alert"]]
    if muni_code:
        found = found[found["code"] == muni_code]
    parts.append(f"<h2>Alertas tempranas ({scan.latest_month:%m/%Y})</h2>")
    if found.empty:
        parts.append("<p>Sin alertas: ninguna cifra del último mes ni de los últimos tres meses es improbablemente "
                     "alta frente a los mismos meses de los años anteriores.</p>")
    else:
        parts.append(_table(pd.DataFrame({
            "Municipio": found["name"], "Grupo de delito": found["crime_group"],
            "Ventana": found["window"].map(alerts.WINDOWS), "Observado": found["observed"].map(disclosure.label),
            "Esperado": found["expected"].map(fmt.decimal), "Probabilidad": found["p_value"].map(fmt.chance),
            "Probabilidad ajustada": found["q_value"].map(fmt.chance)}
        ).head(15), {"Observado", "Esperado", "Probabilidad", "Probabilidad ajustada"}))
    parts.append(f"<p class='sub'>{_e(alerts.METHOD.replace('**', ''))}</p>")

    # ---- sources and definitions
    src = rates.sources()
    parts.append("<h2>Fuentes y definiciones</h2><ul>" + "".join(
        f"<li>{_e(r.institution)}: {fmt.integer(r.rows_loaded)} registros</li>" for r in src.itertuples()) + "</ul>")
    parts.append("<dl>" + "".join(f"<dt><b>{_e(t)}</b></dt><dd>{_e(d)}</dd>" for t, d in methodology.definitions().items())
                 + "<dt><b>Protección de las víctimas</b></dt>" + "".join(f"<dd>{_e(rule)}</dd>" for rule in disclosure.notes())
                 + (f"<dt><b>Regla de conteo entre fuentes</b></dt><dd>{_e(meta['counting_rule'])}</dd>"
                    if meta.get("counting_rule") else "") + "</dl>")
    parts.append(f"<footer>Atalaya · observatorio de seguridad ciudadana · generado el {dt.date.today():%d/%m/%Y} "
                 f"con el almacén del {_e(meta.get('built_at', '—')[:10])}.</footer></body></html>")
    return "\n".join(parts)
