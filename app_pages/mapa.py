"""Mapa nacional: incidence, vulnerability and priority classes of every municipality."""
from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from app_pages import _presenter
from app_pages._common import dataframe, download_buttons, legend_table, notes_for_download, page_filters, selectbox, show_notes
from core import (
    classify,
    coverage,
    fmt,
    geo,
    hotspots,
    methodology,
    municipality,
    priority,
    rates,
    spatial,
    views,
    viewstate,
    vulnerability,
    warehouse,
)
from core.viewstate import Control

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state

VIEWS = {"incidencia": "Incidencia delictiva", "calientes": "Puntos calientes", "vulnerabilidad": "Vulnerabilidad",
         "prioridad": "Índice de prioridad"}
LEVELS = {"municipio": "Municipios", "departamento": "Departamentos"}
MEASURES = {"n": f.unit_label, "tasa": rates.RATE_LABEL, "eb": "Tasa suavizada (Bayes empírico)",
            "seb": "Tasa suavizada espacial (Bayes empírico)"}
MEASURE_COLUMNS = {"n": "n", "tasa": "rate", "eb": "rate_eb", "seb": "rate_seb"}
INTERVAL = {"rate_lo": f"{rates.INTERVAL_LABEL} inferior", "rate_hi": f"{rates.INTERVAL_LABEL} superior"}
COMPONENTS = priority.components()
INDICATORS = {vulnerability.COMPOSITE: vulnerability.COMPOSITE_NAME} | {
    i.code: f"{i.name} ({i.unit}, {i.year})" for i in vulnerability.catalog()}
TOP_LABELS, TOP_LABELS_PRESENTER = 5, 10  # territories named on the map: the highest values (and the selected one)
ZOOM_OUT_MAX, ZOOM_IN_MAX = -2, 7         # steps of the presenter's zoom buttons from the whole territory
munis_in_scope = municipality.municipalities()
if f.dept_code:
    munis_in_scope = munis_in_scope[munis_in_scope["dept_code"] == f.dept_code]
muni_names = dict(zip(munis_in_scope["code"], munis_in_scope["name"]))
muni_labels = dict(zip(munis_in_scope["code"], munis_in_scope["label"]))  # "name (department)": names repeat


CONTROLS = [
    Control("mapa_vista", "vista", "incidencia", list(VIEWS)),
    Control("mapa_nivel", "nivel", "municipio", list(LEVELS)),
    Control("mapa_medida", "medida", "tasa", list(MEASURES)),
    Control("mapa_indicador", "indicador", vulnerability.COMPOSITE, list(INDICATORS)),
    Control("mapa_estadistico", "estadistico", "lisa", list(hotspots.METHODS)),
    Control("mapa_metodo", "metodo", "cuantiles", list(classify.METHODS)),
    Control("mapa_clases", "clases", 3, [3, 5]),
    Control("mapa_umbrales", "umbrales", "", parse=lambda t: t if classify.parse_thresholds(t) else None),
    Control("mapa_muni", "muni", "", [""] + list(muni_names)),
    Control("mapa_zoom", "zoom", 0, parse=viewstate.int_between(ZOOM_OUT_MAX, ZOOM_IN_MAX)),
] + [Control(f"mapa_w_{c.key}", f"p_{c.key}", c.default_weight, parse=viewstate.int_between(0, 100))
     for c in COMPONENTS]
viewstate.restore(state, st.query_params, "mapa", CONTROLS)
if state["mapa_muni"] not in muni_names:
    state["mapa_muni"] = ""  # the department filter changed and left the selection out of scope


def _deck_key() -> str:
    """The map's widget key. It changes when a municipality is chosen in the box under the map: the map
    would otherwise keep its own last clicked municipality, and a click on that one again would undo its
    selection instead of choosing it."""
    return f"mapa_deck_{state.get('mapa_deck_version', 0)}"


def _on_pick() -> None:
    state["mapa_deck_version"] = state.get("mapa_deck_version", 0) + 1


def _on_search() -> None:
    """A municipality found in the presenter's search box: highlighted and, from the whole territory, zoomed in."""
    _on_pick()
    if state["mapa_muni"] and state["mapa_zoom"] <= 0:
        state["mapa_zoom"] = 2


def _zoom(step: int | None) -> None:
    """The presenter's zoom buttons: a step in or out, or back to the whole territory (None). The map is
    drawn anew, so the view also leaves where the mouse had moved it."""
    _on_pick()
    state["mapa_zoom"] = 0 if step is None else min(max(state["mapa_zoom"] + step, ZOOM_OUT_MAX), ZOOM_IN_MAX)


def top_codes(table: pd.DataFrame, count: int, selected: str | None) -> list[str]:
    """The selected territory's code, then those of the ``count`` with the highest value (reserved
    ones have none): the order in which their names are placed on the map."""
    ranked = table.dropna(subset=["value"]).sort_values(["value", "code"], ascending=[False, True])
    return list(dict.fromkeys([*([selected] if selected else []), *ranked["code"].head(count)]))


def _on_map_click() -> None:
    """A click on the map selects a municipality, or zooms into a department."""
    selection = state.get(_deck_key(), {}).get("selection", {})
    objects = selection.get("objects", {}) if selection else {}
    for layer, items in objects.items():
        if not items:
            continue
        code = items[0].get("properties", {}).get("code")
        if layer == "municipios" and code in muni_names:
            state["mapa_muni"] = code
        elif layer == "departamentos" and code in opts.departments:
            state["f_dept"] = code
            state["mapa_nivel"] = "municipio"


presenting = _presenter.active()
if presenting:  # the picture first (title, map and legend, source), the controls under it
    head, stage = st.container(), st.container()
    controls_box = st.container(border=True)
    controls_box.markdown("**Cambiar la vista del mapa**")
else:
    st.title("Mapa nacional")
    st.caption(f.describe(opts))
    controls_box = st.container()

# ---- Controls -----------------------------------------------------------------------------
with controls_box:
    c1, c2, c3 = st.columns([1, 1.3, 1.3])
    c4, c5, _ = st.columns([1, 0.8, 1.8])  # a second row: the boxes keep room for their values
    view = selectbox(c1, "Vista", list(VIEWS), key="mapa_vista", format_func=VIEWS.get)
    level = "municipio"
    if view == "incidencia":
        if f.dept_code:
            state["mapa_nivel"] = "municipio"
        level = selectbox(c2, "Nivel", list(LEVELS), key="mapa_nivel", format_func=LEVELS.get,
                             disabled=bool(f.dept_code),
                             help="Con un departamento elegido en los filtros se muestran sus municipios.")
        measure = selectbox(c3, "Medida", list(MEASURES), key="mapa_medida", format_func=MEASURES.get,
                               help=rates.DEFINITIONS["Tasa suavizada (Bayes empírico)"] + " "
                               + rates.DEFINITIONS["Tasa suavizada espacial (Bayes empírico)"])
    elif view == "calientes":
        statistic = selectbox(c2, "Estadístico", list(hotspots.METHODS), key="mapa_estadistico",
                                 format_func=hotspots.METHODS.get, help=hotspots.DEFINITION)
    elif view == "vulnerabilidad":
        indicator = selectbox(c2, "Indicador", list(INDICATORS), key="mapa_indicador", format_func=INDICATORS.get)
    method, k = state["mapa_metodo"], state["mapa_clases"]
    if view != "calientes":  # hot spots are categories, not classes of a measure
        method = selectbox(c4, "Clasificación", list(classify.METHODS), key="mapa_metodo", format_func=classify.METHODS.get)
        k = c5.radio("Clases", [3, 5], key="mapa_clases", horizontal=True)
    thresholds: tuple[float, ...] = ()
    if method == "umbrales" and view != "calientes":
        need = classify.THRESHOLDS_FOR[k]
        st.text_input(f"Umbrales ({need} valores crecientes separados por comas, en la unidad de la medida)",
                      key="mapa_umbrales", placeholder="10, 20" if need == 2 else "5, 10, 20, 40",
                      help=f"Por ejemplo, con la tasa de homicidios {rates.PER_LABEL}: 10, 20. «Baja» llega hasta el "
                           "primer umbral incluido; «Alta», por encima del último.")
        thresholds = classify.parse_thresholds(state["mapa_umbrales"]) or ()

    weights = {c.key: state[f"mapa_w_{c.key}"] for c in COMPONENTS}
    if view == "prioridad":
        with st.expander("Pesos del índice de prioridad", icon=":material/tune:"):
            st.caption("Cada peso va de 0 a 100; solo cuenta la proporción entre ellos (se muestran normalizados).")
            left, right = st.columns(2)
            left.markdown("**Incidencia**")
            right.markdown("**Vulnerabilidad**")
            for c in COMPONENTS:
                (left if c.kind == "incidencia" else right).slider(c.name, 0, 100, key=f"mapa_w_{c.key}", help=c.definition)

            def _reset_weights() -> None:
                for comp in COMPONENTS:
                    state[f"mapa_w_{comp.key}"] = comp.default_weight

            weights = {c.key: state[f"mapa_w_{c.key}"] for c in COMPONENTS}
            total = sum(weights.values())
            if total:
                st.caption("Pesos efectivos: " + ", ".join(
                    f"{c.name} {fmt.percent(weights[c.key] / total * 100, 0)}" for c in COMPONENTS if weights[c.key]))
            st.button("Restablecer pesos", on_click=_reset_weights)

# ---- Data for the chosen view -------------------------------------------------------------
notes: list[str] = []
reserved = None
if view == "incidencia":
    data = views.departments(f) if level == "departamento" else views.municipalities(f)
    column = MEASURE_COLUMNS[measure]
    data["value"] = views.numeric(data[column])
    reserved = views.is_suppressed(data["n"])
    if level == "municipio":
        trends = views.municipal_trends(f)[["code", "change", "verdict"]]
        data = data.merge(trends.rename(columns={"change": "trend_change", "verdict": "trend"}), on="code", how="left")
        gaps = coverage.municipality_gaps(f)
        data["coverage"] = [gaps.get(c, "Completa") for c in data["code"]]
        if gaps:
            notes.append(f"{sum(c in gaps for c in data['code'])} municipio(s) sin ningún registro de alguna fuente "
                         "en todo el periodo: ver la columna «Cobertura» (sus cifras pueden estar incompletas).")
    month_note = coverage.describe_month_gaps(f)
    if month_note:
        notes.append(month_note)
    if level == "municipio":
        notes += filter(None, [coverage.left_out(f, "municipio")])
    notes += filter(None, [coverage.other_unit(f)])
    if reserved.any():
        notes.append(f"{int(reserved.sum())} territorio(s) con {views.SMALL_COUNTS} {f.noun()}: su cifra y su tasa se reservan "
                     "(modo público); no entran en las clases ni en el puesto.")
    value_name = MEASURES[measure]
    value_fmt = fmt.integer if measure == "n" else fmt.decimal
    if measure == "tasa":
        loose = int(rates.imprecise(data["value"], views.numeric(data["rate_lo"]), views.numeric(data["rate_hi"])).sum())
        if loose:
            notes.append(f"{loose} territorio(s) tienen un intervalo de confianza más ancho que su propia tasa (pocos "
                         "casos o poca población): su tasa y su puesto son poco precisos; compare con la tasa suavizada.")
    den = rates.person_years(f)
    if den.note and measure != "n":
        notes.append(den.note)
    palette = "incidencia"
elif view == "calientes":
    data = views.municipalities(f)
    found = hotspots.hotspots(f)
    data = data.merge(found.table.drop(columns="value"), on="code", how="left")
    data["value"] = views.numeric(data["rate_eb"])
    reserved = views.is_suppressed(data["n"])
    value_name = MEASURES["eb"]
    value_fmt = fmt.decimal
    notes.append(hotspots.moran_text(found.moran))
    if found.left_out:
        notes.append(f"{found.left_out} municipio(s) sin vecinos o sin tasa no entran en el análisis.")
    if reserved.any():
        notes.append(f"{int(reserved.sum())} municipio(s) con {views.SMALL_COUNTS} {f.noun()}: su cifra y su tasa se "
                     "reservan (modo público) y no entran en el análisis (su categoría, o la de sus vecinos, daría "
                     "su cifra).")
    if f.dept_code:
        notes.append("El análisis se hace sobre todos los municipios del país (un grupo puede cruzar límites "
                     "departamentales); el mapa muestra los del departamento elegido.")
    palette = "incidencia"
elif view == "vulnerabilidad":
    data = vulnerability.composite(f.dept_code).copy()
    data["value"] = data[indicator]
    value_name = INDICATORS[indicator]
    value_fmt = fmt.decimal
    palette = "vulnerabilidad"
else:
    if sum(weights.values()) <= 0:
        st.warning("Todos los pesos están en cero: se usan los pesos por defecto.")
        weights = priority.default_weights()
    result = priority.priority_index(f, weights)
    data = result.table.copy()
    data["value"] = data["index"]
    value_name = "Índice de prioridad (0-100)"
    value_fmt = fmt.decimal
    notes.extend(result.notes)
    palette = "prioridad"

if method == "umbrales" and len(thresholds) != classify.THRESHOLDS_FOR[k]:
    st.warning(f"Escriba {classify.THRESHOLDS_FOR[k]} umbrales crecientes para {k} clases (por ejemplo "
               f"«{'10, 20' if k == 3 else '5, 10, 20, 40'}»). Mientras tanto el mapa usa cuantiles.",
               icon=":material/edit:")
    method = "cuantiles"
if view == "calientes":
    classes = classify.categorical(data[f"{statistic}_class"], hotspots.ORDER[statistic], hotspots.COLORS,
                                   hotspots.METHODS[statistic])
else:
    classes = classify.classify(data["value"], method, k, palette, reserved=reserved, thresholds=thresholds)
data["class"] = classes.labels
data["position"] = data["value"].rank(ascending=False, method="min").astype("Int64")
if classes.note:
    notes.append(classes.note)
# how firm each position is: ranks a rate cannot be told apart from (overlapping intervals), or the
# ranks the priority index takes when its weights move
band_low, band_high = [-1] * len(data), [-1] * len(data)
band_text = ""
if view == "incidencia" and measure == "tasa":
    band_low, band_high = rates.overlap_ranks(data["value"], views.numeric(data["rate_lo"]), views.numeric(data["rate_hi"]))
    band_text = "no distinguible de los puestos {lo} a {hi}"
elif view == "prioridad":
    band_low, band_high = data["rank_low"].fillna(-1).astype(int), data["rank_high"].fillna(-1).astype(int)
    band_text = "entre {lo} y {hi} con otros pesos"
data["band"] = [band_text.format(lo=lo, hi=hi) if band_text and lo > 0 and hi > lo else ""
                for lo, hi in zip(band_low, band_high)]
data["band_range"] = [f"{lo} a {hi}" if band_text and lo > 0 and hi > lo else "" for lo, hi in zip(band_low, band_high)]

# ---- Map and legend -----------------------------------------------------------------------
layer_id = "departamentos" if level == "departamento" else "municipios"
selected = state["mapa_muni"] if level == "municipio" else None
ranked = int(data["value"].notna().sum())
props = data.assign(
    value_label=[views.SUPPRESSED if r else value_fmt(v)
                 for v, r in zip(data["value"], reserved if reserved is not None else [False] * len(data))],
    position_label=[(f"{int(p)} de {ranked}" + (f" ({b})" if b else "")) if pd.notna(p) else "—"
                    for p, b in zip(data["position"], data["band"])],
    fill=[classify.hex_to_rgba(classes.color_of(c)) for c in data["class"]],
    department=data["department"] if "department" in data else meta.get("country_name", ""),
)
props["coverage_label"] = props["coverage"] if "coverage" in props else "Completa"
props["interval_label"] = [
    views.SUPPRESSED if r else rates.interval_text(lo, hi, fmt.decimal)
    for lo, hi, r in zip(props.get("rate_lo", [None] * len(props)), props.get("rate_hi", [None] * len(props)),
                         reserved if reserved is not None else [False] * len(props))]
collection = geo.feature_collection(level, props, ["code", "name", "department", "value_label", "interval_label",
                                                   "class", "position_label", "coverage_label", "fill"])
box = geo.bounds("municipio", muni_names) if f.dept_code else geo.bounds(level)
shows_interval = view == "incidencia" and measure == "tasa"
tooltip = geo.tooltip("name", "department", (value_name, "value_label"),
                      *([(f"{rates.INTERVAL_LABEL} de la tasa", "interval_label")] if shows_interval else []),
                      ("Categoría" if view == "calientes" else "Clase", "class"),
                      ("Puesto", "position_label"), ("Cobertura", "coverage_label"))
labels = geo.label_points(level, props.set_index("code").loc[
    top_codes(props, TOP_LABELS_PRESENTER if presenting else TOP_LABELS, selected)].reset_index(), "name", "value_label")


def legend() -> None:
    """The legend: the measure, each class in its colour with its bounds and count, what the classes mean."""
    st.markdown(f"**{fmt.literal_markdown(value_name)}**")
    if view == "calientes":
        st.markdown(f"**{hotspots.METHODS[statistic]}**")
    legend_table(classes, value_fmt, "N.º")
    if view == "calientes":
        st.caption(f"Categorías significativas con una tasa de falsos descubrimientos del "
                   f"{fmt.percent(hotspots.FDR * 100, 0)} (Benjamini–Hochberg). N.º = número de municipios.")
    else:
        st.caption(f"{classify.METHODS[method]}. {classify.MEANINGS[method]} N.º = número de "
                   f"{LEVELS[level].lower()} en la clase.")


def legend_notes() -> None:
    """What the map leaves out or how the view is defined."""
    show_notes(*notes, kind="info")
    if view not in ("incidencia", "calientes"):
        st.caption("Esta vista usa definiciones fijas" + (" (cuenta víctimas)" if view == "prioridad" else "")
                   + ": de los filtros solo se aplican el periodo y el departamento.")

if presenting:
    screen_w, _ = _presenter.screen()
    map_h = _presenter.picture_height()
    map_w = int((screen_w - 48) * 3.1 / 4.1)
    view_box = geo.view_state(box, map_w, map_h)
    if selected and state["mapa_zoom"] > 0:  # zoomed in: around the municipality found
        lon, lat = geo.centre(level, selected)
        view_box = pdk.ViewState(longitude=lon, latitude=lat, zoom=view_box.zoom)
    view_box.zoom = round(view_box.zoom + state["mapa_zoom"], 2)
    deck = geo.choropleth(collection, view_box, tooltip, layer_id, selected=selected, extra_layers=[
        geo.labels_layer(geo.place_labels(labels, view_box, map_w, map_h, 15), "etiquetas", size=15)])
    with head:
        title = value_name if value_name.startswith(VIEWS[view]) else f"{VIEWS[view]}: {value_name}"
        st.subheader(f"{fmt.literal_markdown(title)} · {f.period()}")
    with stage:
        map_col, legend_col = st.columns([3.1, 1], gap="medium")
        with map_col:
            st.pydeck_chart(deck, on_select=_on_map_click, selection_mode="single-object", key=_deck_key(),
                            height=map_h)
            st.caption(rates.source_line(f))
        with legend_col:
            legend()
            if level == "municipio":
                selectbox(st, "Buscar un municipio", [""] + sorted(muni_labels, key=muni_labels.get), key="mapa_muni",
                          on_change=_on_search, format_func=lambda c: muni_labels.get(c, "Escriba un nombre"))
            with st.container(horizontal=True, gap="small"):
                st.button("Acercar", icon=":material/zoom_in:", key="mapa_acercar", on_click=_zoom, args=(1,))
                st.button("Alejar", icon=":material/zoom_out:", key="mapa_alejar", on_click=_zoom, args=(-1,))
                st.button("Restablecer", icon=":material/fit_screen:", key="mapa_restablecer", on_click=_zoom,
                          args=(None,), help="Vuelve a mostrar todo el territorio")
    with controls_box:
        legend_notes()
else:
    view_box = geo.view_state(box)
    deck = geo.choropleth(collection, view_box, tooltip, layer_id, selected=selected, extra_layers=[
        geo.labels_layer(geo.place_labels(labels, view_box, geo.MAP_WIDTH, geo.MAP_HEIGHT, 13), "etiquetas")])
    map_col, legend_col = st.columns([2.6, 1.4])
    with map_col:
        st.pydeck_chart(deck, on_select=_on_map_click, selection_mode="single-object", key=_deck_key(),
                        height=geo.MAP_HEIGHT)
        st.caption("Pase el cursor sobre un territorio para ver su valor; haga clic en un municipio para ver su "
                   "detalle" + (" o en un departamento para ver sus municipios." if level == "departamento" else ".")
                   + " Las zonas en blanco dentro del país no pertenecen a ningún municipio (lagos). Con nombre: el "
                   "municipio elegido y los de valor más alto.")
    with legend_col:
        legend()
        legend_notes()

# ---- Selected municipality ----------------------------------------------------------------
if level == "municipio":
    if not presenting:
        selectbox(st, "Municipio seleccionado", [""] + sorted(muni_labels, key=muni_labels.get), key="mapa_muni", on_change=_on_pick,
                  format_func=lambda c: muni_labels.get(c, "Ninguno (haga clic en el mapa o elija aquí)"))
    code = state["mapa_muni"]
    if code:
        row = props.loc[props["code"] == code].iloc[0]
        st.subheader(municipality.place_label(row["name"], row["department"]))
        st.page_link(str(Path(__file__).resolve().parent / "municipio.py"), label="Ver el municipio en detalle, hasta sus aldeas",
                     icon=":material/arrow_forward:", query_params={"muni": code})
        a, b, c, d = st.columns(4)
        a.metric(value_name, row["value_label"])
        b.metric("Categoría" if view == "calientes" else "Clase", row["class"])
        c.metric("Puesto", f"{int(row['position'])} de {ranked}" if pd.notna(row["position"]) else "—",
                 help=f"Puesto {row['band']}." if row["band"] else None)
        if view == "incidencia":
            d.metric(f.unit_label, views.label(row["n"]),
                     help=f"Personas-año: {fmt.integer(row['population'])}; tasa cruda {fmt.decimal(row['rate'])} "
                          f"({rates.INTERVAL_LABEL}: {row['interval_label']}), suavizada {fmt.decimal(row['rate_eb'])}, "
                          f"suavizada espacial {fmt.decimal(row['rate_seb'])}.")
        elif view == "calientes":
            d.metric("Probabilidad por azar (ajustada)", fmt.chance(row[f"{statistic}_q"]),
                     help="Probabilidad ajustada por pruebas múltiples (Benjamini–Hochberg) de una categoría así si "
                          f"las tasas se repartieran al azar en el mapa. {int(row['neighbours'])} municipios vecinos.")
        elif view == "vulnerabilidad":
            detail = pd.DataFrame([
                (i.name, i.unit, i.year, row[i.code], data[i.code].mean()) for i in vulnerability.catalog()
            ], columns=["Indicador", "Unidad", "Año", "Municipio", "Promedio de los municipios mostrados"])
            dataframe(detail, hide_index=True, width="stretch",
                         column_config={"Municipio": st.column_config.NumberColumn(format="%.1f"),
                                        "Promedio de los municipios mostrados": st.column_config.NumberColumn(format="%.1f")})
        else:
            # The raw rate of violence against women gives back a count from 1 to 4: not shown in public mode.
            hidden_raw = {"vcm"} if "vcm_n" in row and views.sensitive_hidden(row["vcm_n"]) else set()
            contrib = pd.DataFrame([
                (comp.name, comp.kind.capitalize(), None if comp.key in hidden_raw else row[comp.key],
                 row[f"{comp.key}_s"], row[f"{comp.key}_pts"],
                 result.weights.get(comp.key, 0.0) * 100)
                for comp in COMPONENTS
            ], columns=["Componente", "Tipo", "Valor", "Normalizado (0-1)", "Puntos del índice", "Peso %"])
            chart = alt.Chart(contrib.dropna(subset=["Puntos del índice"])).mark_bar().encode(
                x=alt.X("Puntos del índice:Q", title="Puntos que aporta al índice"),
                y=alt.Y("Componente:N", sort="-x", title=None, axis=alt.Axis(labelLimit=0)),
                color=alt.Color("Tipo:N", title="Tipo", scale=alt.Scale(range=["#e34a33", "#756bb1"])),
                tooltip=["Componente", alt.Tooltip("Valor:Q", format=",.2f"),
                         alt.Tooltip("Normalizado (0-1):Q", format=".2f"),
                         alt.Tooltip("Puntos del índice:Q", format=".1f"), alt.Tooltip("Peso %:Q", format=".0f")],
            ).properties(height=30 * len(contrib) + 40,
                         title=f"Aporte de cada componente al índice ({fmt.decimal(row['value'])} puntos)")
            st.altair_chart(chart, width="stretch")
            dataframe(contrib, hide_index=True, width="stretch", column_config={
                "Valor": st.column_config.NumberColumn(format="%.2f"),
                "Normalizado (0-1)": st.column_config.NumberColumn(format="%.2f"),
                "Puntos del índice": st.column_config.NumberColumn(format="%.1f"),
                "Peso %": st.column_config.NumberColumn(format="%.0f")})

# ---- Table and downloads ------------------------------------------------------------------
st.subheader("Tabla" + (" de departamentos" if level == "departamento" else " de municipios"))
table = data.sort_values(["position", "code"], na_position="last")
columns = {"position": "Puesto", "code": "Código", "name": "Municipio" if level == "municipio" else "Departamento"}
if level == "municipio":
    columns["department"] = "Departamento"
if view == "incidencia":  # the measure is one of these columns
    columns |= {"n": MEASURES["n"], "population": "Personas-año", "rate": MEASURES["tasa"]} | INTERVAL | {
                "rate_eb": MEASURES["eb"], "rate_seb": MEASURES["seb"], "class": "Clase"} | (
                {"coverage": "Cobertura"} if "coverage" in data else {})
    if measure == "tasa":
        columns["band_range"] = "Puestos de los que no se distingue (intervalos que se solapan)"
    if "trend" in data:
        columns |= {"trend_change": "Cambio anual de la tasa (%)", "trend": "Tendencia del periodo"}
elif view == "calientes":
    columns |= {"n": MEASURES["n"], "rate_eb": MEASURES["eb"], "class": "Categoría",
                f"{statistic}_p": "Probabilidad por azar", f"{statistic}_q": "Probabilidad ajustada",
                "neighbours": "Vecinos"}
else:
    columns |= {"value": value_name, "class": "Clase"}
if view == "vulnerabilidad":
    columns |= {i.code: f"{i.name} ({i.unit})" for i in vulnerability.catalog() if i.code != indicator}
elif view == "prioridad":
    columns |= {"band_range": "Puestos con otros pesos (percentiles 5 a 95)"} | {
        f"{c.key}_pts": f"Puntos: {c.name}" for c in COMPONENTS} | {
        "missing": "Componentes sin dato"}
out = table[list(dict.fromkeys(columns))].rename(columns=columns)
PROBABILITIES = ("Probabilidad por azar", "Probabilidad ajustada")
dataframe(out, hide_index=True, width="stretch", height=420, column_config={
    name: st.column_config.NumberColumn(format="%.1f") for name in out.columns
    if name not in ("Puesto", MEASURES["n"], "Personas-año", *PROBABILITIES) and pd.api.types.is_float_dtype(out[name])
} | {name: st.column_config.NumberColumn(format="%.4f") for name in PROBABILITIES if name in out} | {
    name: st.column_config.NumberColumn(format="localized") for name in (MEASURES["n"], "Personas-año")
    if name in out and pd.api.types.is_numeric_dtype(out[name])})

download_buttons(out, f"atalaya_mapa_{view}_{level}_{f.year_from}-{f.year_to}", notes_for_download(
    meta, f.describe(opts), f"Vista: {VIEWS[view]} · medida: {value_name}",
    (f"Puntos calientes: {hotspots.METHODS[statistic]}, tasa de falsos descubrimientos "
     f"{fmt.percent(hotspots.FDR * 100, 0)} (Benjamini–Hochberg): " + "; ".join(
        f"{r.label} ({r.count})" for r in classes.legend.itertuples()) if view == "calientes" else
     f"Clasificación: {classify.METHODS[method]}, {k} clases: " + "; ".join(
        f"{r.label} {classify.range_text(r.lower, r.upper, value_fmt)} ({r.count})" for r in classes.legend.itertuples())),
    *notes), sheet="Mapa")

# ---- Methodology --------------------------------------------------------------------------
with st.expander("Metodología", icon=":material/functions:"):
    st.markdown(
        f"**{rates.RATE_NAME}.** {rates.rate_definition(f.unit_label)}\n\n"
        "**Tasa suavizada (Bayes empírico).** Acerca la tasa de cada territorio a la media nacional, "
        "más cuanto menor es su población, para que los municipios pequeños no aparezcan arriba o abajo por azar. "
        f"{methodology.EB_FORMULA}\n\n"
        f"**Tasa suavizada espacial.** {rates.DEFINITIONS['Tasa suavizada espacial (Bayes empírico)']} "
        f"{spatial.DEFINITION}\n\n"
        f"**{rates.INTERVAL_LABEL}.** {rates.DEFINITIONS['Intervalo de confianza (IC 95 %)']}\n\n"
        f"**Puntos calientes.** {hotspots.DEFINITION}\n\n"
        f"**Clases.** {classify.METHODS[method]}, {k} clases. {classify.MEANINGS[method]} Los territorios sin dato "
        "(sin población o sin indicador) quedan en «Sin dato».\n\n"
        f"**Vulnerabilidad.** {vulnerability.DEFINITION}\n\n"
        f"**Índice de prioridad.** {methodology.PRIORITY_FORMULA}\n\n"
        "Definiciones completas en la página «Metodología y definiciones»."
    )
    dataframe(pd.DataFrame([(c.name, c.kind.capitalize(), c.definition, c.default_weight,
                                state[f"mapa_w_{c.key}"]) for c in COMPONENTS],
                              columns=["Componente", "Tipo", "Definición", "Peso por defecto", "Peso actual"]),
                 hide_index=True, width="stretch")

# ---- Shareable URL ------------------------------------------------------------------------
viewstate.save(state, "mapa", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS), CONTROLS)
