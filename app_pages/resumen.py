"""Resumen: headline figures, trend, top municipalities, period and sources."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._common import agreed, count_title, counting_rule, dataframe, page_filters, show_notes, trend_metrics
from core import charts, coverage, fmt, methodology, rates, views, warehouse

f, opts = page_filters()
meta = warehouse.meta()

st.title("Resumen")
st.caption(f.describe(opts))

h = rates.headline(f)
total, latest = views.count(f, h.count), views.count(f, h.latest_count)
hidden = total.hidden
change_hidden = latest.hidden or views.count(f, h.previous_count or 0).hidden
c1, c2, c3, c4 = st.columns(4)
c1.metric(count_title(f), total.text,
          help=f"Número de {f.noun()} en el periodo y con los filtros elegidos.")
c2.metric(rates.RATE_ANNUAL_LABEL, "—" if hidden else fmt.decimal(h.rate),
          help=rates.rate_definition(f.unit_label)
               + (" No se muestra porque la cifra es menor que 5 (modo público)." if hidden else ""))
c3.metric(f"{f.unit_label} en {rates.year_label(h.latest_year)}", latest.text,
          delta=None if h.change_pct is None or change_hidden
          else f"{fmt.percent(h.change_pct, signed=True)} vs {h.latest_year - 1}",
          delta_color="inverse")
c4.metric(f"Municipios con {f.noun()}", f"{fmt.integer(h.municipalities_with_cases)} de {fmt.integer(h.municipalities)}")
trend_metrics(f, None if hidden else views.national_trend(f))
if h.denominator.note:
    st.info(h.denominator.note)
show_notes(coverage.other_unit(f), kind="info")
partial = rates.partial_years(f.year_from, f.year_to)
if partial:
    st.info("Años con datos parciales (no comparables con años completos): " + ", ".join(map(str, partial)))

# ---- Trend -------------------------------------------------------------------------------
st.subheader("Evolución")
left, right = st.columns([1, 1])
granularity = left.radio("Serie", ["Anual", "Mensual"], horizontal=True, key="resumen_serie")
# the options are fixed (the widget keeps its value when the unit changes); the count reads in the unit
count_option = {"Víctimas": f.unit_label}
measure = right.radio("Medida", ["Víctimas", rates.RATE_LABEL], horizontal=True, key="resumen_medida",
                      disabled=granularity == "Mensual", format_func=lambda m: count_option.get(m, m),
                      help=f"La tasa se calcula por año; la serie mensual muestra {f.noun()}.")
if granularity == "Anual":
    series = views.yearly_by_group(f)
    flags = coverage.year_flags(f)
    series["Año"] = series["year"].map(lambda y: rates.year_label(y) + (" *" if y in flags else ""))
    series["value"] = views.numeric(series["rate" if measure.startswith("Tasa") else "n"])
    series["count_label"] = [v if isinstance(v, str) else fmt.integer(v) for v in series["n"]]
    title = rates.RATE_LABEL if measure.startswith("Tasa") else f.unit_label
    chart = alt.Chart(views.as_text(series)).mark_line(point=True).encode(
        x=alt.X("Año:O", title="Año", sort=None),
        y=alt.Y("value:Q", title=title),
        color=charts.category_color("crime_group", "Grupo de delito", sorted(series["crime_group"].unique())),
        tooltip=[alt.Tooltip("Año:O"), alt.Tooltip("crime_group:N", title="Grupo"),
                 alt.Tooltip("count_label:N", title=f.unit_label),
                 alt.Tooltip("rate:Q", title=rates.RATE_COLUMN, format=",.1f")],
    )
else:
    series = views.monthly_by_group(f)
    series["value"] = views.numeric(series["n"])
    series["count_label"] = [v if isinstance(v, str) else fmt.integer(v) for v in series["n"]]
    chart = alt.Chart(views.as_text(series)).mark_line().encode(
        x=alt.X("month:T", title="Mes"),
        y=alt.Y("value:Q", title=f.unit_label),
        color=charts.category_color("crime_group", "Grupo de delito", sorted(series["crime_group"].unique())),
        tooltip=[alt.Tooltip("month:T", title="Mes", format="%m/%Y"), alt.Tooltip("crime_group:N", title="Grupo"),
                 alt.Tooltip("count_label:N", title=f.unit_label)],
    )
gaps = coverage.gap_months(f)
if granularity == "Mensual" and gaps:  # months in which a source sent nothing: a dashed grey rule
    rules = alt.Chart(pd.DataFrame({"month": gaps})).mark_rule(color="#888", strokeDash=[3, 3]).encode(
        x="month:T", tooltip=[alt.Tooltip("month:T", title="Mes con una fuente sin datos", format="%m/%Y")])
    chart = chart + rules
st.altair_chart(chart.properties(height=320), width="stretch")
gap_note = coverage.describe_month_gaps(f)
if gap_note:
    st.warning(gap_note + (" En la serie anual, * marca los años afectados; en la mensual, las líneas "
                           "punteadas marcan esos meses."), icon=":material/event_busy:")
if granularity == "Mensual":
    show_notes(coverage.left_out(f, "mes"))
st.caption(rates.source_line(f))

# ---- Top municipalities -------------------------------------------------------------------
st.subheader(f"Municipios con más {f.noun()}")
LOWER_BOUND = f"Límite inferior del {rates.INTERVAL_LABEL}"
order = st.radio("Ordenar por", ["Víctimas", rates.RATE_LABEL, LOWER_BOUND], horizontal=True, key="resumen_orden",
                 format_func=lambda m: count_option.get(m, m),
                 help="Ordenar por el límite inferior del intervalo de la tasa pone arriba a los municipios cuya tasa "
                      "es alta con seguridad, no por azar de pocos casos.")
munis = views.municipalities(f)
munis["sort_n"] = views.numeric(munis["n"])
sort_col = {rates.RATE_LABEL: "rate", LOWER_BOUND: "rate_lo"}.get(order, "sort_n")
top = munis.sort_values([sort_col, "sort_n"], ascending=False, na_position="last").head(10).copy()
top.insert(0, "Puesto", range(1, len(top) + 1))
dataframe(
    top[["Puesto", "name", "department", "n", "population", "rate", "rate_lo", "rate_hi"]].rename(columns={
        "name": "Municipio", "department": "Departamento", "n": f.unit_label,
        "population": "Personas-año", "rate": rates.RATE_COLUMN, "rate_lo": f"{rates.INTERVAL_LABEL} inferior",
        "rate_hi": f"{rates.INTERVAL_LABEL} superior"}),
    hide_index=True, width="stretch",
    column_config={
        "Personas-año": st.column_config.NumberColumn(format="localized"),
        rates.RATE_COLUMN: st.column_config.NumberColumn(format="%.1f"),
    },
)
if sort_col == "rate":
    st.caption(f"En municipios con poca población, {agreed(f, 'poc')} {f.noun()} cambian mucho la tasa: compárela "
               f"con el número de {f.noun()} y su intervalo, u ordene por el límite inferior del intervalo.")
show_notes(coverage.left_out(f, "municipio"))

# ---- Period, sources, definitions -------------------------------------------------------
st.subheader("Periodo y fuentes")
start, end = rates.data_period()
st.markdown(f"Datos del **{start:%d/%m/%Y}** al **{end:%d/%m/%Y}** · {meta.get('country_name', '')} · "
            f"almacén construido el {meta.get('built_at', '—')[:10]}.")
src = rates.sources()
dataframe(
    src[["institution", "file", "rows_loaded", "rows_rejected", "first_month", "last_month"]].rename(columns={
        "institution": "Institución", "file": "Archivo", "rows_loaded": "Registros cargados",
        "rows_rejected": "Registros rechazados", "first_month": "Primer mes", "last_month": "Último mes"}),
    hide_index=True, width="stretch",
    column_config={
        "Registros cargados": st.column_config.NumberColumn(format="localized"),
        "Registros rechazados": st.column_config.NumberColumn(format="localized"),
        "Primer mes": st.column_config.DateColumn(format="MM/YYYY"),
        "Último mes": st.column_config.DateColumn(format="MM/YYYY"),
    },
)
with st.expander("Definiciones"):
    for term, text in methodology.definitions().items():
        st.markdown(f"**{term}.** {text}")
    if counting_rule(meta):
        st.markdown(counting_rule(meta))
