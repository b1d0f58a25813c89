"""Región: the countries of a regional deployment compared on the shared catalogue (rates per
100,000 by country and year, department maps on one colour scale, what each country's figures
stand on)."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._common import dataframe, download_buttons, legend_table, selectbox, show_notes
from core import charts, countries, fmt, geo, rates, regional, viewstate
from core.viewstate import Control

state = st.session_state
members = countries.registered()
MAP_HEIGHT = 380

st.title("Región")
names = {c.code: countries.name(c) for c in members}
st.caption(" · ".join(names.values()) + " · esta página no usa los filtros de la barra lateral: compara a todos los "
           "países con las mismas definiciones")

table = regional.catalogue(members)
comparable = table[table["comparable"]]
if comparable.empty:
    st.warning("Ningún delito del catálogo tiene registros en todos los países: no hay nada que comparar todavía.")
    st.stop()
labels = {r.code: f"{r.name} (ICCS {r.iccs_code})" for r in comparable.itertuples()}
default = "homicidio" if "homicidio" in labels else next(iter(labels))
CONTROLS = [Control("reg_delito", "delito", default, list(labels))]
viewstate.restore(state, st.query_params, "region", CONTROLS)
crime = selectbox(st, "Delito comparado", list(labels), key="reg_delito", format_func=labels.get,
                  help="Solo los delitos que todos los países registran (los demás se listan abajo).")
crime_name = comparable.set_index("code").loc[crime, "name"]

# ---- Rates by country and year --------------------------------------------------------------
series = regional.yearly_rates(members, crime)
series = series.assign(year_label=series["year"].map(rates.year_label), rate_value=series["rate"].astype(float))
interval = alt.Chart(series.dropna(subset=["rate_lo", "rate_hi"])).mark_rule(strokeWidth=2, opacity=0.45).encode(
    x=alt.X("year_label:O", title="Año"), y="rate_lo:Q", y2="rate_hi:Q",
    color=charts.category_color("country_name", "País", list(names.values())))
lines = alt.Chart(series).mark_line(point=True).encode(
    x=alt.X("year_label:O", title="Año", sort=sorted(series["year_label"].unique())),
    y=alt.Y("rate_value:Q", title=rates.RATE_LABEL),
    color=charts.category_color("country_name", "País", list(names.values())),
    tooltip=[alt.Tooltip("country_name:N", title="País"), alt.Tooltip("year_label:N", title="Año"),
             alt.Tooltip("n:N", title="Víctimas"), alt.Tooltip("rate_value:Q", title=rates.RATE_LABEL, format=",.1f"),
             alt.Tooltip("rate_lo:Q", title="IC 95 % inferior", format=",.1f"),
             alt.Tooltip("rate_hi:Q", title="IC 95 % superior", format=",.1f")])
source = "Fuente: registros consolidados de cada país (ver «Qué hay detrás de cada cifra»)"
st.altair_chart(alt.layer(interval, lines).properties(
    height=340, title=alt.TitleParams(f"{crime_name}: {rates.RATE_LABEL.lower()}, por país y año",
                                      subtitle=charts.subtitle_lines(source + " · barras: intervalo de confianza del 95 %"),
                                      anchor="start")), width="stretch")
out = pd.DataFrame({"País": series["country_name"], "Año": series["year_label"], "Víctimas": series["n"],
                    "Personas-año": series["population"], rates.RATE_LABEL: series["rate"],
                    "IC 95 % inferior": series["rate_lo"], "IC 95 % superior": series["rate_hi"]})
dataframe(out, hide_index=True, width="stretch", column_config={
    "Personas-año": st.column_config.NumberColumn(format="localized"),
    **{c: st.column_config.NumberColumn(format="%.1f") for c in (rates.RATE_LABEL, "IC 95 % inferior", "IC 95 % superior")}})
if series["partial"].any():
    st.caption("(parcial): año con datos de solo algunos meses; su tasa usa la población de esos meses.")
download_buttons(out, f"atalaya_region_{crime}", [regional.DEFINITION, source])

# ---- Department maps on one scale -----------------------------------------------------------
years = regional.common_years(members)
st.subheader("Departamentos, en una misma escala")
if years is None:
    st.info("Los países no tienen ningún año en común: los mapas necesitan el mismo periodo.")
else:
    if years[0] < years[1]:
        years = st.slider("Años en común", years[0], years[1], value=years, key="reg_anios")
    maps, classes = regional.department_maps(members, crime, years)
    period = fmt.period(*years)
    st.caption(f"{crime_name}, {rates.RATE_ANNUAL_LABEL.lower()} de cada departamento, {period}. Clases por cuantiles de "
               "los departamentos de todos los países juntos: un mismo color es un mismo rango en cada país.")
    tooltip = geo.tooltip("name", ("Víctimas", "n_label"), (rates.RATE_LABEL, "value_label"), ("Clase", "class"))
    cols = st.columns([1] * len(maps) + [0.9])
    map_width = int(840 / (len(maps) + 0.9)) - 20  # the maps and the legend share the page's main column
    for col, item in zip(cols, maps):
        with col:
            st.markdown(f"**{fmt.literal_markdown(item.name)}**")
            deck = geo.choropleth(item.collection, geo.view_state(item.box, width=map_width, height=MAP_HEIGHT), tooltip,
                                  f"departamentos_{item.country.code}")
            st.pydeck_chart(deck, height=MAP_HEIGHT)
    with cols[-1]:
        st.markdown(f"**{rates.RATE_LABEL}**")
        legend_table(classes, fmt.decimal, "Departamentos")

# ---- What each country's figures stand on ---------------------------------------------------
st.subheader("Qué hay detrás de cada cifra")
st.markdown(regional.DEFINITION)
others = table[~table["comparable"]]
for country in members:
    cov = regional.coverage(country)
    with st.expander(f"{cov.name}: datos de {cov.first} a {cov.last}", icon=":material/flag:"):
        st.markdown(f"**Instituciones.** {', '.join(cov.institutions)}.\n\n"
                    f"**Regla de conteo.** {cov.counting_rule or 'cuentan todos los registros.'}\n\n"
                    f"**Población.** {cov.population_source or '—'}")
        missing = others[~others[country.code]]
        show_notes(f"Delitos del catálogo sin registros en {cov.name} (no comparables): "
                   + ", ".join(missing["name"]) + "." if not missing.empty else None)
        if not cov.unmapped.empty:
            st.markdown("**Nombres de delito de las fuentes que no corresponden a ningún tipo del catálogo** "
                        "(filas rechazadas en la carga; ver «Calidad de datos» de ese país):")
            dataframe(cov.unmapped.rename(columns={"source": "Fuente", "rows": "Filas", "example": "Ejemplo"}),
                      hide_index=True, width="stretch")
        if cov.synthetic:
            st.caption(rates.SYNTHETIC_MARK + ": sus registros no representan la situación real.")

viewstate.save(state, "region", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS), CONTROLS)
