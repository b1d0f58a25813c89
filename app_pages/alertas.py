"""Alertas tempranas: unusual increases in the latest month or three months."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._common import agreed, dataframe, download_buttons, multiselect, notes_for_download, page_filters, selectbox, show_notes
from core import alerts, coverage, deployment, fmt, municipality, views, viewstate, warehouse
from core.viewstate import Control

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state
YEARS = list(range(opts.min_year, opts.max_year + 1))
NONE = "ninguno"  # in the URL: no year excluded


def _years(text: str) -> list[int] | None:
    """«2020,2021» -> [2020, 2021]; «ninguno» -> []; None when no year of the data is named."""
    if text == NONE:
        return []
    years = [int(p) for p in text.split(",") if p.strip().isdigit() and int(p) in YEARS]
    return sorted(set(years)) or None


CONTROLS = [
    Control("al_fdr", "fdr", alerts.DEFAULT_FDR, list(alerts.FDR_LEVELS)),
    Control("al_minimo", "minimo", alerts.DEFAULT_MIN_COUNT, parse=viewstate.int_between(1, 50)),
    Control("al_ventana", "ventana", "ambas", ["ambas", *alerts.WINDOWS]),
    Control("al_excluir", "excluir", [y for y in alerts.DEFAULT_EXCLUDED if y in YEARS], parse=_years),
]
viewstate.restore(state, st.query_params, "alertas", CONTROLS)

st.title("Alertas tempranas")
c1, c2, c3 = st.columns(3)
fdr = selectbox(c1, "Tasa de falsos descubrimientos", list(alerts.FDR_LEVELS), key="al_fdr",
                   format_func=lambda q: fmt.percent(q * 100, 0),
                   help="Proporción máxima esperada de alertas falsas entre las alertas (Benjamini–Hochberg).")
min_count = c2.slider(f"Mínimo de {f.noun()} {agreed(f, 'observad')}", 1, 50, key="al_minimo")
window = selectbox(c3, "Ventana", ["ambas", *alerts.WINDOWS], key="al_ventana",
                      format_func=lambda w: "Último mes y últimos 3 meses" if w == "ambas" else alerts.WINDOWS[w])
excluded = multiselect(st, "Años excluidos de la línea base", YEARS, key="al_excluir", placeholder="Ninguno",
                          help="Años atípicos que no deben servir de comparación. "
                               + " ".join(f"{y}: {why}." for y, why in alerts.EXCLUSION_REASONS.items()))

result = alerts.scan(f, fdr, min_count, tuple(sorted(excluded)))
table = result.table if window == "ambas" else result.table[result.table["window"] == window]
found = table[table["alert"]]
st.caption(f"Último mes con datos: **{result.latest_month:%m/%Y}** · comparado con "
           f"{', '.join(str(y) for y in result.baseline_years) or '—'}"
           + (f" (excluidos: {', '.join(map(str, result.excluded_years))})" if result.excluded_years else "")
           + f" · {f.describe(opts)}")
if result.note:
    st.warning(result.note)
grain_notes = show_notes(coverage.left_out(f, "mes"), coverage.left_out(f, "municipio"))
m1, m2, m3 = st.columns(3)
m1.metric("Alertas", fmt.integer(len(found)))
m2.metric("Municipios con alerta", fmt.integer(found["code"].nunique()))
m3.metric("Comparaciones", fmt.integer(result.tests),
          help="Municipios × grupos de delito × ventanas con un valor esperado: se corrigen juntas.")
st.info(f"Se hacen {fmt.integer(result.tests)} comparaciones a la vez. Con la corrección de Benjamini–Hochberg, entre "
        f"las alertas se espera que como mucho un {fmt.percent(fdr * 100, 0)} sean falsas. Si nada hubiera cambiado en "
        f"ningún municipio, este procedimiento daría en promedio {fmt.decimal(result.null_alerts, 2)} alertas "
        f"(simulación de {fmt.integer(alerts.NULL_SIMULATIONS)} escenarios con la variación de cada línea base). "
        "Priorice las de menor probabilidad y mayor cifra, y confirme con la institución que registra.",
        icon=":material/info:")

out = alerts.protected(f, table)
out = out[out["alert"]]
# the expected count of each alert as published (blank where it would give back a small count)
expected = {(r.code, r.crime_group, r.window): r.expected for r in out.itertuples()}
out = out.assign(window=out["window"].map(alerts.WINDOWS), note=alerts.notes(out, min_count))[
    ["name", "department", "crime_group", "window", "observed", "expected", "trend", "p_value", "q_value", "z",
     "note"]].rename(columns={
        "name": "Municipio", "department": "Departamento", "crime_group": "Grupo de delito", "window": "Ventana",
        "observed": "Observado", "expected": "Esperado", "trend": "Tendencia de la línea base (% anual)",
        "p_value": "Probabilidad", "q_value": "Probabilidad ajustada", "z": "z", "note": "Nota"})
out.insert(0, "Puesto", range(1, len(out) + 1))
no_history = out["Nota"] != ""
if no_history.any():
    st.warning(f"{fmt.integer(no_history.sum())} alerta(s) sin casos registrados en los mismos meses de los años "
               "anteriores (esperado 0): cualquier cifra desde el mínimo da alerta y la probabilidad no se puede "
               "calcular. Véase la columna «Nota».", icon=":material/info:")
shown = out.assign(Esperado=out["Esperado"].map(alerts.expected_label),
                   Probabilidad=[("—" if none else fmt.chance(p)) for p, none in zip(out["Probabilidad"], no_history)],
                   **{"Probabilidad ajustada": [("—" if none else fmt.chance(q))
                                                for q, none in zip(out["Probabilidad ajustada"], no_history)],
                      "Tendencia de la línea base (% anual)": [
                          "sin tendencia" if pd.isna(v) else fmt.percent(v, 0, signed=True)
                          for v in out["Tendencia de la línea base (% anual)"]]})
if not no_history.any():
    shown = shown.drop(columns="Nota")
dataframe(shown, hide_index=True, width="stretch",
          height=min(420, 38 + 35 * max(len(out), 1)), column_config={
              "Esperado": st.column_config.TextColumn(
                  help="Lo que da el modelo de los mismos meses de los años anteriores (promedio, o tendencia "
                       "si es significativa)."),
              "Probabilidad": st.column_config.TextColumn(
                  help="Probabilidad de una cifra al menos así de alta si nada hubiera cambiado."),
              "Probabilidad ajustada": st.column_config.TextColumn(
                  help="Corregida por el número de comparaciones (Benjamini–Hochberg): hay alerta si no supera "
                       "la tasa de falsos descubrimientos elegida."),
              "z": st.column_config.NumberColumn(format="%.1f")})
download_buttons(out, f"atalaya_alertas_{result.latest_month:%Y-%m}", notes_for_download(
    meta, f.describe(opts), f"Último mes: {result.latest_month:%m/%Y}; tasa de falsos descubrimientos "
    f"{fmt.percent(fdr * 100, 0)}; mínimo {min_count}; años de comparación: {', '.join(map(str, result.baseline_years))}"
    + (f" (excluidos: {', '.join(map(str, result.excluded_years))})" if result.excluded_years else "") + ".",
    alerts.METHOD.replace("**", ""), *grain_notes), sheet="Alertas")



def _trend(row) -> alt.Chart:
    """The last 48 months of one alert: the counts, the months of its window marked, and the expected
    count per month there (dashed). Months hidden in public mode are gaps, and the note says so."""
    hist = alerts.protected_history(f, row.code, row.crime_group)
    hist = views.as_text(hist).assign(value=views.numeric(hist["n"]))
    months = 3 if row.window == "trimestre" else 1
    per_month = expected.get((row.code, row.crime_group, row.window))
    marked = hist.tail(months).assign(expected=per_month / months if pd.notna(per_month) else None)
    marked = marked[marked["value"].notna()]  # a hidden month is not drawn (an empty layer warns in Vega)
    x = alt.X("month:T", title=None, axis=alt.Axis(format="%Y", tickCount="year", labelOverlap=True))
    y = alt.Y("value:Q", title=f.unit_label, axis=alt.Axis(format=",d", tickMinStep=1))
    line = alt.Chart(hist).mark_line(point=alt.OverlayMarkDef(size=12)).encode(
        x=x, y=y, tooltip=[alt.Tooltip("month:T", title="Mes", format="%m/%Y"), alt.Tooltip("n:N", title=f.unit_label)])
    alert = alt.Chart(marked).mark_point(color="#d62728", size=70, filled=True).encode(
        x=x, y=y, tooltip=[alt.Tooltip("month:T", title="Mes de la alerta", format="%m/%Y"),
                           alt.Tooltip("n:N", title=f.unit_label),
                           alt.Tooltip("expected:Q", title="Esperado por mes", format=",.1f")])
    layers = [line, alert] if len(marked) else [line]
    if len(marked) and marked["expected"].notna().any():
        layers.append(alt.Chart(marked).mark_tick(color="#555555", strokeDash=[3, 2], thickness=2, size=18).encode(
            x=x, y=alt.Y("expected:Q")))
    # the place on two lines («name» / «(depto. de …)»): long names would be cut in a third of the page
    place = municipality.place_label(row.name, row.department)
    title = place.replace(" (", "\n(", 1).split("\n")
    return alt.layer(*layers).properties(height=150, title=alt.TitleParams(title, subtitle=row.crime_group,
                                                                          fontSize=12, limit=0))


if len(found):
    pairs = found.drop_duplicates(["code", "crime_group"])
    st.subheader("Evolución de las alertas (últimos 48 meses)")
    st.caption("En rojo, el mes (o los 3 meses) de la alerta; la raya gris marca lo esperado por mes en esos meses "
               "(según los mismos meses de los años anteriores).")
    if deployment.is_public():
        st.caption(f"Modo público: los meses con {views.SMALL_COUNTS} {f.noun()} de delitos sensibles no se dibujan (huecos en la "
                   f"línea); su cifra se lee «{views.SUPPRESSED}» al pasar el cursor.")
    cols = st.columns(3)
    for i, row in enumerate(pairs.head(12).itertuples()):
        cols[i % 3].altair_chart(_trend(row), width="stretch")
    if len(pairs) > 12:
        rest = {f"{r.code}|{r.crime_group}": f"{municipality.place_label(r.name, r.department)} · {r.crime_group}"
                for r in pairs.iloc[12:].itertuples()}
        chosen = selectbox(st, f"Las otras {len(rest)} alertas", list(rest), format_func=rest.get, key="al_otra")
        row = next(pairs[(pairs["code"] + "|" + pairs["crime_group"]) == chosen].itertuples())
        st.altair_chart(_trend(row), width="stretch")

with st.expander("Método", icon=":material/functions:", expanded=not len(found)):
    st.markdown(alerts.METHOD)

viewstate.save(state, "alertas", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS, {
    "al_excluir": lambda years: ",".join(map(str, sorted(years))) or NONE}), CONTROLS)
