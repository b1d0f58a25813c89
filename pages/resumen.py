"""Resumen: headline figures, trend, top municipalities, period and sources."""
from __future__ import annotations

import altair as alt
import streamlit as st

from core import fmt, indicators, warehouse
from pages._common import page_filters

f, opts = page_filters()
meta = warehouse.meta()

st.title("Resumen")
st.caption(f.describe(opts))

h = indicators.headline(f)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Víctimas registradas", fmt.integer(h.count),
          help="Número de víctimas (registros) en el periodo y con los filtros elegidos.")
c2.metric("Tasa anual por 100.000 hab.", fmt.decimal(h.rate),
          help="Víctimas ÷ población del periodo (personas-año) × 100.000, con la población del mismo sexo y edad.")
c3.metric(f"Víctimas en {indicators.year_label(h.latest_year)}", fmt.integer(h.latest_count),
          delta=None if h.change_pct is None else f"{fmt.percent(h.change_pct, signed=True)} vs {h.latest_year - 1}",
          delta_color="inverse")
c4.metric("Municipios con víctimas", f"{fmt.integer(h.municipalities_with_cases)} de {fmt.integer(h.municipalities)}")
if h.denominator.note:
    st.info(h.denominator.note)
partial = indicators.partial_years(f.year_from, f.year_to)
if partial:
    st.info("Años con datos parciales (no comparables con años completos): " + ", ".join(map(str, partial)))

# ---- Trend -------------------------------------------------------------------------------
st.subheader("Evolución")
left, right = st.columns([1, 1])
granularity = left.radio("Serie", ["Anual", "Mensual"], horizontal=True, key="resumen_serie")
measure = right.radio("Medida", ["Víctimas", "Tasa por 100.000 hab."], horizontal=True, key="resumen_medida",
                      disabled=granularity == "Mensual",
                      help="La tasa se calcula por año; la serie mensual muestra víctimas.")
if granularity == "Anual":
    series = indicators.yearly(f, by="crime_group").copy()
    series["Año"] = series["year"].map(indicators.year_label)
    value = "rate" if measure.startswith("Tasa") else "n"
    title = "Tasa por 100.000 hab." if value == "rate" else "Víctimas"
    chart = alt.Chart(series).mark_line(point=True).encode(
        x=alt.X("Año:O", title="Año", sort=None),
        y=alt.Y(f"{value}:Q", title=title),
        color=alt.Color("crime_group:N", title="Grupo de delito"),
        tooltip=[alt.Tooltip("Año:O"), alt.Tooltip("crime_group:N", title="Grupo"),
                 alt.Tooltip("n:Q", title="Víctimas", format=","),
                 alt.Tooltip("rate:Q", title="Tasa por 100.000", format=",.1f")],
    )
else:
    series = indicators.monthly(f, by="crime_group")
    chart = alt.Chart(series).mark_line().encode(
        x=alt.X("month:T", title="Mes"),
        y=alt.Y("n:Q", title="Víctimas"),
        color=alt.Color("crime_group:N", title="Grupo de delito"),
        tooltip=[alt.Tooltip("month:T", title="Mes", format="%m/%Y"), alt.Tooltip("crime_group:N", title="Grupo"),
                 alt.Tooltip("n:Q", title="Víctimas", format=",")],
    )
st.altair_chart(chart.properties(height=320), width="stretch")
st.caption(f"Fuente: {meta.get('country_name', '')}, registros consolidados de "
           f"{len(indicators.sources())} instituciones · {f.describe(opts)}")

# ---- Top municipalities -------------------------------------------------------------------
st.subheader("Municipios con más víctimas")
order = st.radio("Ordenar por", ["Víctimas", "Tasa por 100.000 hab."], horizontal=True, key="resumen_orden")
munis = indicators.by_municipality(f)
sort_col = "rate" if order.startswith("Tasa") else "n"
top = munis.sort_values([sort_col, "n"], ascending=False, na_position="last").head(10).copy()
top.insert(0, "Puesto", range(1, len(top) + 1))
st.dataframe(
    top[["Puesto", "name", "department", "n", "population", "rate"]].rename(columns={
        "name": "Municipio", "department": "Departamento", "n": "Víctimas",
        "population": "Personas-año", "rate": "Tasa por 100.000"}),
    hide_index=True, width="stretch",
    column_config={
        "Víctimas": st.column_config.NumberColumn(format="localized"),
        "Personas-año": st.column_config.NumberColumn(format="localized"),
        "Tasa por 100.000": st.column_config.NumberColumn(format="%.1f"),
    },
)
if sort_col == "rate":
    st.caption("En municipios con poca población, pocas víctimas cambian mucho la tasa: compárela con el número de víctimas.")

# ---- Period, sources, definitions -------------------------------------------------------
st.subheader("Periodo y fuentes")
start, end = indicators.data_period()
st.markdown(f"Datos del **{start:%d/%m/%Y}** al **{end:%d/%m/%Y}** · {meta.get('country_name', '')} · "
            f"almacén construido el {meta.get('built_at', '—')[:10]}.")
src = indicators.sources()
st.dataframe(
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
    for term, text in indicators.DEFINITIONS.items():
        st.markdown(f"**{term}.** {text}")
    if meta.get("counting_rule"):
        st.markdown(f"**Regla de conteo entre fuentes.** {meta['counting_rule']}")
