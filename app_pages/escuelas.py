"""Centros educativos: which schools have the most risk factors around them."""
from __future__ import annotations

from dataclasses import replace

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from app_pages._common import (
    dataframe,
    download_buttons,
    legend_table,
    multiselect,
    notes_for_download,
    page_filters,
    selectbox,
    show_notes,
)
from core import classify, coverage, fmt, geo, municipality, rates, schools, views, viewstate, warehouse
from core.viewstate import Control

f, opts = page_filters()
# Schools' risk counts victims by definition (victims near a school, rates of victims), whatever the
# unit chosen in the sidebar; the period and the department apply.
chosen_unit = f.unit
if "victimas" in opts.units:
    f = replace(f, unit="victimas")
meta = warehouse.meta()
state = st.session_state
school_opts = schools.options()

munis = municipality.municipalities()
if f.dept_code:
    munis = munis[munis["dept_code"] == f.dept_code]
muni_labels = dict(zip(munis["code"], munis["label"]))


CONTROLS = [
    Control("esc_muni", "muni", "", [""] + list(muni_labels)),
    Control("esc_niveles", "niveles", [], parse=viewstate.subset_of(school_opts.levels)),
    Control("esc_sectores", "sectores", [], parse=viewstate.subset_of(school_opts.sectors)),
    Control("esc_top", "top", 25, [10, 25, 50, 100]),
    Control("esc_metodo", "metodo", "cuantiles", list(classify.RELATIVE_METHODS)),
    Control("esc_sel", "escuela", "", parse=lambda t: t or None),
] + [Control(f"esc_w_{c.key}", f"p_{c.key}", c.default_weight, parse=viewstate.int_between(0, 100))
     for c in schools.COMPONENTS]
viewstate.restore(state, st.query_params, "escuelas", CONTROLS)
if state["esc_muni"] not in muni_labels:
    state["esc_muni"] = ""

st.title("Centros educativos")
st.caption(f"{f.year_from}–{f.year_to} · " + (opts.departments[f.dept_code] if f.dept_code else "todo el país")
           + " · priorización por factores de riesgo alrededor de cada centro")
if chosen_unit != f.unit:
    st.caption("Esta página cuenta víctimas (cerca de cada centro y en su aldea y municipio) aunque en la barra "
               "lateral esté elegida otra unidad.")

c1, c2, c3, c4, c5 = st.columns([1.6, 1.3, 1.3, 0.8, 1.3])
muni = selectbox(c1, "Municipio", [""] + sorted(muni_labels, key=muni_labels.get), key="esc_muni",
                    format_func=lambda c: muni_labels.get(c, "Todos"))
levels = multiselect(c2, "Nivel", school_opts.levels, key="esc_niveles", placeholder="Todos")
sectors = multiselect(c3, "Sector", school_opts.sectors, key="esc_sectores", placeholder="Todos")
top_n = selectbox(c4, "Primeros", [10, 25, 50, 100], key="esc_top", help="Cuántos centros mostrar en la tabla.")
method = selectbox(c5, "Clasificación", list(classify.RELATIVE_METHODS), key="esc_metodo",
                      format_func=classify.METHODS.get)

with st.expander("Pesos del puntaje de riesgo", icon=":material/tune:"):
    st.caption("Cada peso va de 0 a 100; solo cuenta la proporción entre ellos.")
    cols = st.columns(2)
    for i, c in enumerate(schools.COMPONENTS):
        cols[i % 2].slider(c.name, 0, 100, key=f"esc_w_{c.key}", help=c.definition)

    def _reset() -> None:
        for comp in schools.COMPONENTS:
            state[f"esc_w_{comp.key}"] = comp.default_weight

    st.button("Restablecer pesos", on_click=_reset)
weights = {c.key: state[f"esc_w_{c.key}"] for c in schools.COMPONENTS}
if sum(weights.values()) <= 0:
    st.warning("Todos los pesos están en cero: se usan los pesos por defecto.")
    weights = schools.default_weights()

geocoding_note = schools.geocoding_warning(f.year_from, f.year_to, fmt.literal_markdown)
if geocoding_note:
    st.warning(geocoding_note, icon=":material/location_off:")
result = schools.risk(f, muni or None, levels, sectors, weights)
table = result.table
if table.empty:
    st.info("No hay centros educativos con esta selección.")
    viewstate.save(state, "escuelas", CONTROLS)
    st.stop()
# Counts around a school are below the municipality: 1 to 4 read "<5" in public mode, and so
# do the aldea rate of an aldea with 1 to 4 victims and the percentile and points of a hidden count.
shown = views.school_ranking(table)
classes = classify.classify(table["score"], method, 3, "centros")
table = shown.assign(klass=classes.labels).sort_values(["rank", "school_code"])
n_high = int((table["klass"] == "Alta").sum())
m1, m2, m3 = st.columns(3)
m1.metric("Centros en la selección", fmt.integer(len(table)))
m2.metric("En la clase alta de riesgo", f"{fmt.integer(n_high)} ({fmt.percent(100 * n_high / len(table), 0)})",
          help=f"{classify.METHODS[method]}: {classify.MEANINGS[method]}")
m3.metric("Con 3 o más factores de riesgo", fmt.integer(int((table["factors"] >= 3).sum())))
show_notes(*result.notes, kind="info")
grain_note = coverage.left_out(f, "municipio", "registro")
show_notes(grain_note)

# ---- Map ----------------------------------------------------------------------------------
munis_rate = views.municipalities(f)
muni_classes = classify.classify(munis_rate["rate"], "cuantiles", 3, "incidencia",
                                 reserved=views.is_suppressed(munis_rate["n"]))
munis_rate = munis_rate.assign(
    fill=[classify.hex_to_rgba(muni_classes.color_of(c), 90) for c in muni_classes.labels],
    value_label=[f"Municipio · tasa {fmt.decimal(r)} por 100,000 ({c.lower()})" for r, c in
                 zip(munis_rate["rate"], muni_classes.labels)])
collection = geo.feature_collection("municipio", munis_rate, ["code", "name", "value_label", "fill"])
points = table.dropna(subset=["lon", "lat"]).assign(
    color=lambda d: [classify.hex_to_rgba(classes.color_of(c), 235) for c in d["klass"]],
    value_label=lambda d: [f"{lv} · puntaje {fmt.decimal(s)} ({c.lower()}) · puesto {r} · {n} factores"
                           for lv, s, c, r, n in zip(d["level"], d["score"], d["klass"], d["rank"], d["factors"])],
)[["school_code", "name", "lon", "lat", "color", "value_label"]]
school_layer = pdk.Layer("ScatterplotLayer", data=geo.safe_records(points), id="escuelas", get_position="[lon, lat]",
                         get_fill_color="color", get_radius=4, radius_units=pdk.types.String("pixels"),
                         get_line_color=[40, 40, 40, 200], stroked=True, line_width_min_pixels=0.5, pickable=True)
box = (geo.bounds("municipio", [muni]) if muni else
       (float(points["lon"].min()), float(points["lat"].min()), float(points["lon"].max()), float(points["lat"].max()))
       if len(points) else geo.bounds("municipio"))
deck = geo.choropleth(collection, geo.view_state(box), geo.tooltip("name", "value_label"), "municipios",
                      extra_layers=[school_layer])


def _on_click() -> None:
    selection = state.get("esc_deck", {}).get("selection", {})
    items = (selection or {}).get("objects", {}).get("escuelas", [])
    if items:
        state["esc_sel"] = items[0].get("school_code", "")


left, right = st.columns([2.6, 1.4])
with left:
    st.pydeck_chart(deck, on_select=_on_click, selection_mode="single-object", key="esc_deck", height=geo.MAP_HEIGHT)
    st.caption("Puntos: centros educativos coloreados por clase de riesgo; fondo: tasa municipal de víctimas. "
               "Haga clic en un centro para ver la explicación de su puntaje.")
with right:
    st.markdown("**Puntos: puntaje de riesgo del centro (0-100)**")
    legend_table(classes, fmt.decimal, "Centros")
    st.caption(f"{classify.METHODS[method]}. {classify.MEANINGS[method]}")
    st.markdown(f"**Fondo: tasa municipal {rates.PER_LABEL}**")
    legend_table(muni_classes, fmt.decimal, "Municipios")
    st.caption(f"{classify.METHODS['cuantiles']} de la tasa de {f.noun()} de cada municipio. De los filtros "
               "compartidos se aplican el periodo y el departamento.")

# ---- Top-N table --------------------------------------------------------------------------
st.subheader(f"Los {min(top_n, len(table))} centros con más riesgo")
columns = {"rank": "Puesto", "school_code": "Código", "name": "Centro educativo", "level": "Nivel", "sector": "Sector",
           "municipality": "Municipio", "aldea_name": "Aldea", "score": "Puntaje", "klass": "Clase",
           "factors": "Factores de riesgo"} | {c.key: c.name for c in schools.COMPONENTS}
out = table[list(columns)].rename(columns=columns)
dataframe(out.head(top_n), hide_index=True, width="stretch", height=420, column_config={
    "Puntaje": st.column_config.NumberColumn(format="%.1f"),
    "Tasa de la aldea": st.column_config.NumberColumn(format="%.1f"),
    "Tasa del municipio": st.column_config.NumberColumn(format="%.1f"),
    "Vulnerabilidad del municipio": st.column_config.NumberColumn(format="%.1f")})
download_buttons(out, f"atalaya_centros_{f.year_from}-{f.year_to}", notes_for_download(
    meta, f"{f.year_from}–{f.year_to}", "Tabla completa de los centros de la selección, ordenada por puesto.",
    "Pesos: " + ", ".join(f"{c.name} {fmt.percent(result.weights.get(c.key, 0) * 100, 0)}" for c in schools.COMPONENTS),
    *result.notes, *filter(None, [grain_note])), sheet="Centros")

# ---- Explanation of one school --------------------------------------------------------------
codes = list(table["school_code"])
labels = dict(zip(table["school_code"], table["rank"].astype(str) + ". " + table["name"] + " — " + table["municipality"]))
if state["esc_sel"] not in labels:
    state["esc_sel"] = codes[0]
code = selectbox(st, "Explicar el puntaje de", codes, key="esc_sel", format_func=labels.get)
row = table.set_index("school_code").loc[code]
st.subheader(fmt.literal_markdown(row["name"]))
st.caption(f"{row['level']} · {row['sector']} · {municipality.place_label(row['municipality'], row['department'])}"
           + (f" · {row['aldea_name']}" if pd.notna(row["aldea_name"]) else "")
           + (f" · matrícula {fmt.integer(row['enrollment'])}" if pd.notna(row["enrollment"]) else ""))
a, b, c = st.columns(3)
a.metric("Puntaje de riesgo", fmt.decimal(row["score"]))
b.metric("Puesto", f"{fmt.integer(row['rank'])} de {fmt.integer(len(table))}")
c.metric("Factores de riesgo presentes", f"{row['factors']} de {sum(1 for k in weights if weights[k] > 0)}")
hidden_parts = {comp.key for comp in schools.COMPONENTS if views.is_suppressed([row[comp.key]]).iloc[0]}
explain = pd.DataFrame([
    (comp.name, row[comp.key],
     None if comp.key in hidden_parts or pd.isna(row[f"{comp.key}_p"]) else row[f"{comp.key}_p"] * 100,
     bool(row[f"{comp.key}_factor"]), None if comp.key in hidden_parts else row[f"{comp.key}_pts"],
     result.weights.get(comp.key, 0) * 100)
    for comp in schools.COMPONENTS
], columns=["Componente", "Valor", "Percentil", "Factor de riesgo", "Puntos", "Peso %"])
explain["Valor"] = [views.label(v, fmt.integer if comp.key in schools.NEAR_KEYS else fmt.decimal)
                    for comp, v in zip(schools.COMPONENTS, explain["Valor"])]
st.altair_chart(alt.Chart(explain.dropna(subset=["Puntos"])).mark_bar().encode(
    x=alt.X("Puntos:Q", title="Puntos que aporta al puntaje"),
    y=alt.Y("Componente:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
    color=alt.Color("Factor de riesgo:N", scale=alt.Scale(domain=[True, False], range=["#e34a33", "#bdbdbd"]),
                    legend=alt.Legend(title="Factor de riesgo", labelExpr="datum.value ? 'Sí' : 'No'")),
    tooltip=["Componente", alt.Tooltip("Valor:N"), alt.Tooltip("Percentil:Q", format=".0f"),
             alt.Tooltip("Puntos:Q", format=".1f")],
).properties(height=28 * len(explain) + 30), width="stretch")
if hidden_parts:
    st.caption(f"Los componentes con {views.SMALL_COUNTS} víctimas muestran «{views.SUPPRESSED}» y no muestran su percentil ni sus puntos "
               "(modo público); el puntaje total sí los incluye.")
dataframe(explain, hide_index=True, width="stretch", column_config={
    "Percentil": st.column_config.NumberColumn(format="%.0f"),
    "Puntos": st.column_config.NumberColumn(format="%.1f"), "Peso %": st.column_config.NumberColumn(format="%.0f")})

with st.expander("Metodología", icon=":material/functions:"):
    st.markdown(
        "**Víctimas cerca de cada centro.** Víctimas registradas con coordenadas a menos de 100 m, 500 m y 1 km del "
        "centro (distancia sobre la esfera terrestre, calculada al cargar los datos; solo registros que cuentan en la "
        "cifra publicada), en los años del periodo.\n\n"
        "**Percentil.** Proporción de los centros mostrados con un valor menor (0 = el menor; 1 = mayor que todos).\n\n"
        "**Puntaje.** $100 \\times \\sum_c w_c p_c / \\sum_c w_c$ sobre los componentes con dato; el aporte de cada "
        "componente es $100\\, w_c p_c / \\sum_c w_c$ y los aportes suman el puntaje.\n\n"
        f"**Factor de riesgo presente.** El centro está en el cuarto superior (percentil ≥ {schools.FACTOR_PERCENTILE:.0%}) "
        "y el valor es mayor que cero.")
    dataframe(pd.DataFrame([(c.name, c.definition, c.default_weight, state[f"esc_w_{c.key}"])
                               for c in schools.COMPONENTS],
                              columns=["Componente", "Definición", "Peso por defecto", "Peso actual"]),
                 hide_index=True, width="stretch")

viewstate.save(state, "escuelas", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS, dump={
    "esc_niveles": ",".join, "esc_sectores": ",".join}), CONTROLS)
