"""Municipio: one municipality in depth, down to its aldeas."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._common import (
    agreed,
    count_title,
    counting_rule,
    dataframe,
    download_buttons,
    legend_table,
    notes_for_download,
    page_filters,
    selectbox,
    show_notes,
    trend_metrics,
)
from core import charts, classify, coverage, fmt, geo, hotspots, methodology, municipality, rates, views, viewstate, warehouse
from core.viewstate import Control

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state

munis = municipality.municipalities()
labels = dict(zip(munis["code"], munis["label"]))
if state.get("mapa_muni") in labels:
    default = state["mapa_muni"]  # the municipality selected on the national map
else:
    top = rates.by_municipality(f.resolved(opts)).sort_values(["n", "code"], ascending=[False, True])
    default = top["code"].iloc[0] if len(top) else munis["code"].iloc[0]
SERIES = {"mensual": "Mensual", "anual": "Anual"}
ALDEA_MEASURES = {"n": f.unit_label, "tasa": rates.RATE_LABEL}
CONTROLS = [
    Control("muni_sel", "muni", default, list(labels)),
    Control("muni_serie", "serie", "mensual", list(SERIES)),
    Control("muni_aldea_medida", "medida_aldea", "n", list(ALDEA_MEASURES)),
]
viewstate.restore(state, st.query_params, "municipio", CONTROLS)

st.title("Municipio")
options = [c for c in munis["code"] if not f.dept_code or munis.set_index("code").loc[c, "dept_code"] == f.dept_code]
if state["muni_sel"] not in options:
    options = [state["muni_sel"]] + options
code = selectbox(st, "Municipio", options, key="muni_sel", format_func=labels.get,
                    help="También puede llegar aquí con un clic en el mapa nacional.")
p = municipality.profile(f, code)
scope = f"{f.describe(opts).rsplit(' · ', 1)[0]} · {municipality.place_label(p.name, p.department)}"
st.caption(scope + (" · el filtro de departamento solo acota la lista de municipios" if f.dept_code else ""))
notes = [n for n in [p.denominator_note, coverage.left_out(f, "municipio"),
                     coverage.department_only_note(f, p.dept_code, p.department)] if n]

# ---- Headline -----------------------------------------------------------------------------
total, previous = views.count(f, p.count), views.count(f, p.previous_count)
hidden = total.hidden
change_hidden = hidden or previous.hidden
c1, c2, c3, c4 = st.columns(4)
c1.metric(count_title(f), total.text,
          delta=None if p.change_pct is None or change_hidden
          else f"{fmt.percent(p.change_pct, signed=True)} vs {p.previous_label}",
          delta_color="inverse",
          help=("Cambio frente al periodo anterior de igual duración"
                + (f" ({p.previous_label}: {previous.text} {f.noun()})."
                   if p.previous_label else ": los datos no alcanzan un periodo anterior completo.")))
c2.metric(rates.RATE_ANNUAL_LABEL, "—" if hidden else fmt.decimal(p.rate),
          help=None if hidden else f"{rates.INTERVAL_LABEL}: {rates.interval_text(p.rate_lo, p.rate_hi, fmt.decimal)}. "
          + rates.DEFINITIONS["Intervalo de confianza (IC 95 %)"])
c3.metric("Puesto nacional (por tasa)",
          "—" if p.rank_national is None or hidden else f"{p.rank_national} de {p.n_national}",
          help=None if hidden or not p.national_band or p.national_band[0] == p.national_band[1] else
          f"Con los intervalos de confianza, no se distingue de los municipios en los puestos {p.national_band[0]} a "
          f"{p.national_band[1]}.")
c4.metric("Puesto en su departamento",
          "—" if p.rank_department is None or hidden else f"{p.rank_department} de {p.n_department}",
          help=f"Entre los municipios del {municipality.department_label(p.department)}.")
dept_hidden = views.count(f, p.department_count).hidden
d1, d2, d3, _ = st.columns(4)
d1.metric("Tasa de su departamento", "—" if dept_hidden else fmt.decimal(p.department_rate),
          help=f"Tasa del {municipality.department_label(p.department)}.")
d2.metric("Tasa nacional", "—" if views.count(f, p.national_count).hidden else fmt.decimal(p.national_rate))
d3.metric("Personas-año", fmt.integer(p.population), help="Población del periodo sumada año por año.")
trends = views.municipal_trends(f).set_index("code")
trend_metrics(f, trends.loc[code] if code in trends.index else None, code)
if hidden:
    st.info(f"Con estos filtros el municipio tiene de {views.SMALL_COUNTS} {f.noun()}: la cifra, la tasa y el puesto se reservan "
            "(modo público).")
elif p.rate is not None and p.national_rate and not dept_hidden:
    ratio = p.rate / p.national_rate
    st.markdown(f"La tasa de **{p.name}** es **{fmt.decimal(ratio, 2)} veces** la nacional y "
                f"**{fmt.decimal(p.rate / p.department_rate, 2) if p.department_rate else '—'} veces** "
                f"la del {municipality.department_label(p.department)}.")
if not hidden and p.rate_lo is not None:
    band = p.national_band
    st.caption(f"{rates.INTERVAL_LABEL} de la tasa: {rates.interval_text(p.rate_lo, p.rate_hi, fmt.decimal)} "
               f"{rates.PER_LABEL}" + (f" No se distingue de los municipios en los puestos nacionales {band[0]} a "
                                       f"{band[1]} (sus intervalos se solapan)." if band and band[1] > band[0] else ""))
cluster = hotspots.status(f, code)
if cluster:
    st.markdown(cluster)
show_notes(*notes, kind="info")
muni_gap = coverage.municipality_gaps(f).get(code)
if muni_gap:
    st.warning(f"{muni_gap} en todo el periodo de los datos: las cifras de este municipio pueden estar incompletas.",
               icon=":material/event_busy:")

# ---- Trend --------------------------------------------------------------------------------
st.subheader("Evolución")
series = st.radio("Serie", list(SERIES), key="muni_serie", format_func=SERIES.get, horizontal=True)
if series == "mensual":
    m = views.municipality_monthly(f, code)
    long = pd.concat([m.assign(serie=f.unit_label, valor=views.numeric(m["n"])),
                      m.assign(serie="Promedio del mismo mes, 3 años anteriores", valor=m["reference"])])
    x = alt.X("month:T", title="Mes", axis=alt.Axis(format="%Y", tickCount="year"))
    y_title = f.unit_label
    table = m.rename(columns={"month": "Mes", "n": f.unit_label, "reference": "Promedio 3 años anteriores"})
else:
    yr = views.municipality_yearly(f, code)
    yr["Año"] = yr["year"].map(rates.year_label)
    long = pd.concat([yr.assign(serie=rates.RATE_LABEL, valor=yr["rate"]),
                      yr.assign(serie="Promedio de los 3 años anteriores", valor=yr["reference_rate"])])
    x = alt.X("Año:O", title="Año", sort=None)
    y_title = rates.RATE_LABEL
    table = yr[["Año", "n", "population", "rate", "reference_rate"]].rename(columns={
        "n": f.unit_label, "population": "Personas-año", "rate": rates.RATE_COLUMN,
        "reference_rate": "Promedio 3 años anteriores"})
chart = alt.Chart(views.as_text(long.dropna(subset=["valor"]))).mark_line(point=series == "anual").encode(
    x=x, y=alt.Y("valor:Q", title=y_title),
    color=alt.Color("serie:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=400)),
    strokeDash=alt.condition(alt.datum.serie == f.unit_label, alt.value([1, 0]), alt.value([5, 4])),
    tooltip=[alt.Tooltip("serie:N", title="Serie"), alt.Tooltip("valor:Q", title="Valor", format=",.1f")],
).properties(height=300, title=f"{p.name}: {y_title.lower()} y referencia")
gaps = coverage.gap_months(f)
if series == "mensual" and gaps:
    chart = chart + alt.Chart(pd.DataFrame({"month": gaps})).mark_rule(color="#888", strokeDash=[3, 3]).encode(
        x="month:T", tooltip=[alt.Tooltip("month:T", title="Mes con una fuente sin datos", format="%m/%Y")])
st.altair_chart(chart, width="stretch")
gap_note = coverage.describe_month_gaps(f)
if gap_note:
    st.caption(gap_note + (" Las líneas punteadas marcan esos meses." if series == "mensual" else ""))
month_note = coverage.left_out(f, "mes") if series == "mensual" else None
show_notes(month_note)
with st.expander("Tabla de la evolución"):
    dataframe(table, hide_index=True, width="stretch")
    download_buttons(table, f"atalaya_{code}_evolucion_{series}",
                     notes_for_download(meta, scope, *notes, *filter(None, [month_note])))

# ---- Crime types --------------------------------------------------------------------------
st.subheader("Tipos de delito")
types = views.municipality_crime_types(f, code)
types["value"] = views.numeric(types["n"])
types["count_label"] = [views.label(v) for v in types["n"]]
if types.empty:
    st.info(f"No hay {f.noun()} {agreed(f, 'registrad')} con estos filtros.")
else:
    st.altair_chart(alt.Chart(views.as_text(types)).mark_bar().encode(
        x=alt.X("value:Q", title=f.unit_label),
        y=alt.Y("name:N", sort=alt.EncodingSortField("value", order="descending"), title=None,
                axis=alt.Axis(labelLimit=220)),
        color=charts.category_color("crime_group", "Grupo de delito", sorted(types["crime_group"].unique())),
        tooltip=[alt.Tooltip("name:N", title="Delito"), alt.Tooltip("iccs_code:N", title="Código ICCS"),
                 alt.Tooltip("count_label:N", title=f.unit_label), alt.Tooltip("share:Q", title="%", format=".1f")],
    ).properties(height=24 * len(types) + 40), width="stretch")
types_out = types.drop(columns=["crime_type", "value", "count_label"]).rename(columns={
    "name": "Delito", "crime_group": "Grupo", "iccs_code": "Código ICCS", "iccs_section": "Sección ICCS",
    "n": f.unit_label, "share": "%"})
dataframe(types_out, hide_index=True, width="stretch",
             column_config={"%": st.column_config.NumberColumn(format="%.1f")})
download_buttons(types_out, f"atalaya_{code}_tipos", notes_for_download(meta, scope, *notes))

# ---- Victims: sex x age, weekday x hour ---------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader(f"{f.unit_label} por sexo y edad de la víctima")
    pyr, unknown_sex = views.municipality_pyramid(f, code)
    known = pyr[pyr["victim_sex"].isin(["H", "M"])].copy()
    known["Sexo"] = known["victim_sex"].map({"H": "Hombres", "M": "Mujeres"})
    value = views.numeric(known["n"])
    known["signed"] = value.where(known["victim_sex"] == "M", -value)
    known["count_label"] = [views.label(v) for v in known["n"]]
    st.altair_chart(alt.Chart(views.as_text(known)).mark_bar().encode(
        x=alt.X("signed:Q", title=f"{f.unit_label} (hombres a la izquierda, mujeres a la derecha)",
                axis=alt.Axis(labelExpr="abs(datum.value)")),
        y=alt.Y("label:N", sort=alt.SortField("sort_order", order="descending"), title="Edad"),
        color=alt.Color("Sexo:N", scale=alt.Scale(domain=["Hombres", "Mujeres"], range=["#3b6ea5", "#c2477a"])),
        tooltip=["Sexo", alt.Tooltip("label:N", title="Edad"), alt.Tooltip("count_label:N", title=f.unit_label)],
    ).properties(height=260), width="stretch")
    st.caption(f"Sin sexo registrado (o sin víctima individual): {unknown_sex.text}.")
    pyr_out = pyr.pivot(index=["sort_order", "label"], columns="victim_sex", values="n")
    pyr_out = pyr_out.reset_index().drop(columns="sort_order").rename(
        columns={"label": "Edad", "H": "Hombres", "M": "Mujeres", "ND": "Sin dato"})
    pyr_out.columns.name = None
    download_buttons(pyr_out, f"atalaya_{code}_sexo_edad", notes_for_download(meta, scope))
with right:
    st.subheader("Día y hora")
    wh, unknown_hour = views.municipality_weekday_hour(f, code)
    wh["value"] = views.numeric(wh["n"])
    wh["count_label"] = [views.label(v) for v in wh["n"]]
    known_hour = wh[wh["hour"] >= 0]
    st.altair_chart(alt.Chart(views.as_text(known_hour)).mark_rect().encode(
        x=alt.X("hour:O", title="Hora"), y=alt.Y("day:N", sort=list(municipality.WEEKDAYS), title=None),
        color=alt.Color("value:Q", title=f.unit_label, scale=alt.Scale(scheme="orangered")),
        tooltip=[alt.Tooltip("day:N", title="Día"), alt.Tooltip("hour:O", title="Hora"),
                 alt.Tooltip("count_label:N", title=f.unit_label)],
    ).properties(height=260), width="stretch")
    st.caption(f"Sin hora registrada: {unknown_hour.text}."
               + (f" Las celdas en blanco tienen de {views.SMALL_COUNTS} {f.noun()} (modo público)." if wh.attrs["suppressed"] else ""))
    wh_out = wh.assign(Hora=wh["hour"].map(lambda h: "Sin hora" if h < 0 else f"{h:02d} h")).pivot(
        index=["weekday", "day"], columns="Hora", values="n").astype(object).fillna(0).reset_index().drop(columns="weekday")
    wh_out.columns.name = None
    download_buttons(wh_out.rename(columns={"day": "Día"}), f"atalaya_{code}_dia_hora", notes_for_download(meta, scope))

left, right = st.columns(2)
with left:
    st.subheader("Arma o medio")
    weapons = views.municipality_weapons(f, code).rename(
        columns={"weapon": "Arma o medio", "n": f.unit_label})
    dataframe(weapons, hide_index=True, width="stretch")
    download_buttons(weapons, f"atalaya_{code}_armas", notes_for_download(meta, scope))
with right:
    st.subheader("Institución que registra")
    src = views.municipality_sources(f, code).rename(columns={
        "institution": "Institución", "records": "Registros", "counted": "Cuentan en la cifra publicada"})
    src = src.drop(columns="source")
    dataframe(src, hide_index=True, width="stretch")
    download_buttons(src, f"atalaya_{code}_fuentes", notes_for_download(meta, scope, *filter(None, [meta.get("counting_rule")])))
    if counting_rule(meta):
        st.caption(counting_rule(meta))

record_note = coverage.left_out(f, "registro")
show_notes(record_note)

# ---- Aldeas -------------------------------------------------------------------------------
st.subheader("Aldeas")
aldea_table, group_columns, aldea_note = views.municipality_aldeas(f, code)
aldea_reserved = views.is_suppressed(aldea_table["n"])
shapes = geo.shapes("aldea")
shapes = shapes[shapes["parent_code"] == code]
if shapes.empty:
    st.info("Este municipio no tiene aldeas en el almacén: no hay desglose por aldea.")
else:
    has_rate = aldea_table["population"].notna().any()  # aldea population: a rate can be computed
    aldea_measure = st.radio("Colorear por", list(ALDEA_MEASURES), key="muni_aldea_medida", horizontal=True,
                             format_func=ALDEA_MEASURES.get, disabled=not has_rate,
                             help=None if has_rate else aldea_note)
    if not has_rate:
        aldea_measure = "n"
    column = "rate" if aldea_measure == "tasa" else "n"
    mapped = aldea_table.dropna(subset=["code"]).copy()
    classes = classify.classify(views.numeric(mapped[column]), "cuantiles", 5, "incidencia",
                                reserved=views.is_suppressed(mapped["n"]))
    mapped["fill"] = [classify.hex_to_rgba(classes.color_of(c)) for c in classes.labels]
    mapped["value_label"] = [f"{f.unit_label}: {views.label(n)} · tasa: {fmt.decimal(r)}"
                             for n, r in zip(mapped["n"], mapped["rate"])]
    collection = geo.feature_collection("aldea", mapped, ["code", "name", "value_label", "fill"])
    cells, hidden_cells = views.municipality_cells(f, code)
    cells["n"] = cells["n"].astype("int64")
    cells["name"] = f"{f.unit_label} {agreed(f, 'geolocalizad')}"
    cells["value_label"] = [f"{fmt.integer(n)} en esta celda (~550 m)" for n in cells["n"]]
    layers = [geo.cells_layer(cells, "celdas", municipality.GRID_DEG)] if len(cells) else []
    deck = geo.choropleth(collection, geo.view_state(geo.bounds("aldea", shapes["code"])),
                          geo.tooltip("name", "value_label"), "aldeas", extra_layers=layers)
    map_col, legend_col = st.columns([2.6, 1.4])
    map_col.pydeck_chart(deck, height=geo.MAP_HEIGHT, key="muni_aldeas_deck")
    with legend_col:
        st.markdown(f"**{ALDEA_MEASURES[aldea_measure]} por aldea**")
        legend_table(classes, fmt.integer if column == "n" else fmt.decimal, "Aldeas")
        st.caption(f"Cuantiles, 5 clases. Los círculos grises suman {'las' if f.unit == 'victimas' else 'los'} "
                   f"{f.noun()} con coordenadas en celdas de unos 550 m; nunca se muestran registros individuales.")
        if hidden_cells:
            st.caption(f"{hidden_cells} celda(s) con {views.SMALL_COUNTS} {f.noun()} (o reservadas para que la suma no las revele) "
                       "no se dibujan (modo público).")
        if aldea_reserved.any():
            st.caption(f"Las aldeas con {views.SMALL_COUNTS} {f.noun()} muestran «{views.SUPPRESSED}» y no entran en las "
                       "clases (modo público).")
        if aldea_note:
            st.caption(aldea_note)
        show_notes(record_note)
aldea_out = aldea_table.rename(columns={"code": "Código", "name": "Aldea", "n": "Total", "population": "Personas-año",
                                        "rate": rates.RATE_COLUMN})
dataframe(aldea_out, hide_index=True, width="stretch",
             column_config={rates.RATE_COLUMN: st.column_config.NumberColumn(format="%.1f"),
                            "Personas-año": st.column_config.NumberColumn(format="localized")})
download_buttons(aldea_out, f"atalaya_{code}_aldeas", notes_for_download(meta, scope, *([aldea_note] if aldea_note else [])))

# ---- Peers --------------------------------------------------------------------------------
st.subheader("Municipios de población parecida en el departamento")
peers = municipality.peers(f, code)
protected = views.national_table(f).set_index("code")
peers = peers.assign(**{c: protected.loc[peers["code"], c].to_numpy() for c in ("n", "rate", "rate_eb")})
peers_out = peers.assign(Municipio=[n + (" ◀" if s else "") for n, s in zip(peers["name"], peers["is_self"])])[
    ["Municipio", "n", "population", "rate", "rate_eb"]].rename(columns={
        "n": f.unit_label, "population": "Personas-año", "rate": rates.RATE_COLUMN, "rate_eb": "Tasa suavizada"})
dataframe(peers_out, hide_index=True, width="stretch", column_config={
    "Personas-año": st.column_config.NumberColumn(format="localized"),
    rates.RATE_COLUMN: st.column_config.NumberColumn(format="%.1f"),
    "Tasa suavizada": st.column_config.NumberColumn(format="%.1f")})
st.caption("Los cinco municipios del mismo departamento con la población más cercana (en escala logarítmica).")
download_buttons(peers_out, f"atalaya_{code}_pares", notes_for_download(meta, scope))

with st.expander("Definiciones"):
    for term, text in methodology.definitions().items():
        st.markdown(f"**{term}.** {text}")
    st.markdown("**Cambio frente al periodo anterior.** Se compara con el periodo inmediatamente anterior de la misma "
                "duración; si los datos no lo cubren completo, o algún año es parcial, no se calcula.")
    st.markdown("**Referencia de la evolución.** Mensual: promedio del mismo mes en los tres años anteriores. "
                "Anual: promedio de la tasa de los tres años anteriores.")

viewstate.save(state, "municipio", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS) | {"muni": state["muni_sel"]}, CONTROLS)
