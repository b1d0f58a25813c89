"""Seguimiento: the indicators of each public-policy plan, computed from the warehouse, with their
baseline, latest value and interval, targets and status against the path to the targets."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._common import dataframe, download, download_buttons, download_row, page_filters, selectbox
from core import bulletin_pdf, charts, fmt, plans, viewstate, warehouse
from core.viewstate import Control

f, opts = page_filters()
state = st.session_state
meta = warehouse.meta()

st.title("Seguimiento de planes")
listed = plans.plans()
if not listed:
    st.info("Este almacén no tiene planes. Un plan (sus indicadores, líneas de base, metas y responsables) se declara "
            "en un archivo y se carga con los datos: vea «Planes» en el README.", icon=":material/flag:")
    st.stop()
by_id = {p.plan: p for p in listed}
CONTROLS = [Control("seg_plan", "plan", listed[0].plan, list(by_id)), Control("seg_indicador", "indicador", "", None,
                                                                               parse=str)]
viewstate.restore(state, st.query_params, "seguimiento", CONTROLS)
plan = by_id[selectbox(st, "Plan", list(by_id), key="seg_plan", format_func=lambda k: by_id[k].name)]
st.caption(f"{plan.institution} · {len(plan.indicators)} indicadores · cada valor se calcula con los datos del "
           "observatorio; los filtros de la barra lateral no se aplican"
           + (" · DATOS SINTÉTICOS DE DEMOSTRACIÓN" if meta.get("synthetic") == "true" else ""))

summary = plans.summary(plan)
STATUS_ORDER = [plans.ON_TRACK, plans.AT_RISK, plans.OFF_TRACK, plans.UNCERTAIN, plans.BASELINE_ONLY, plans.NO_DATA]
cols = st.columns(4)
for col, name in zip(cols, STATUS_ORDER[:4]):
    col.metric(name.capitalize(), int((summary["status"] == name).sum()))


def number(x, unit: str) -> str:
    return "—" if x is None or pd.isna(x) else (fmt.percent(x) if unit == "%" else fmt.decimal(x))


table = pd.DataFrame({
    "Código": summary["code"], "Indicador": summary["name"], "ODS": summary["sdg"].fillna("—"),
    "Línea de base": [f"{number(v, u)} ({y})" for v, u, y in zip(summary["baseline"], summary["unit"],
                                                                  summary["baseline_year"])],
    "Último valor": [f"{number(v, u)} ({int(y)})" if pd.notna(y) else "—" for v, u, y in
                     zip(summary["latest"], summary["unit"], summary["latest_year"])],
    "IC 95 %": [("—" if pd.isna(lo) else f"{number(lo, u)} a {number(hi, u)}") for lo, hi, u in
                zip(summary["lo"], summary["hi"], summary["unit"])],
    "Esperado en la trayectoria": [number(v, u) for v, u in zip(summary["expected"], summary["unit"])],
    "Meta": [f"{number(v, u)} ({y})" for v, u, y in zip(summary["target"], summary["unit"], summary["target_year"])],
    "Sentido": summary["direction"], "Estado": summary["status"], "Responsable": summary["institution"]})
dataframe(table.assign(Tendencia=summary["trend"]), hide_index=True, width="stretch", column_config={
    "Tendencia": st.column_config.LineChartColumn("Tendencia", help="Los valores calculados de cada año, del primero "
                                                                  "al último")})
st.caption(f"**Regla del estado.** {plans.STATUS_RULE}")
download_buttons(table, f"atalaya_plan_{plan.plan}", [plan.name, plans.STATUS_RULE], sheet="Indicadores")
row = download_row()
download(row, "Informe de seguimiento (PDF)", lambda: bulletin_pdf.to_pdf(plans.report(plan)),
         f"atalaya_seguimiento_{plan.plan}.pdf", "application/pdf", icon=":material/picture_as_pdf:", key="seg_pdf")
download(row, "Indicadores en SDMX-CSV (ODS)", lambda: plans.sdmx_csv(plan, meta.get("country", "")).encode("utf-8"),
         f"atalaya_plan_{plan.plan}_sdmx.csv", "text/csv", icon=":material/table_view:", key="seg_sdmx",
         help="Cada valor calculado, con su intervalo, en el formato SDMX-CSV de los indicadores de los ODS.")

# ---- One indicator's trajectory -------------------------------------------------------------
st.subheader("Trayectoria de un indicador")
codes = {ind.code: ind for ind in plan.indicators}
if state["seg_indicador"] not in codes:
    state["seg_indicador"] = plan.indicators[0].code
ind = codes[selectbox(st, "Indicador", list(codes), key="seg_indicador",
                      format_func=lambda c: f"{c} · {codes[c].name}")]
points = pd.DataFrame([v.__dict__ for v in plans.values(ind) if v.value is not None])
base_row = summary.set_index("code").loc[ind.code]
if points.empty:
    st.info("Este indicador no tiene valores que se puedan mostrar.")
else:
    path = pd.DataFrame([(ind.baseline_year, base_row["baseline"]), *ind.targets], columns=["year", "value"]).dropna()
    unit = "%" if ind.unit == "%" else ind.unit
    years = alt.X("year:Q", title="Año", scale=alt.Scale(zero=False), axis=alt.Axis(format="d", tickMinStep=1))
    observed = alt.Chart(points).encode(x=years)
    chart = alt.layer(
        observed.mark_rule(strokeWidth=2, opacity=0.5, color=charts.PALETTE[0]).encode(y="lo:Q", y2="hi:Q"),
        observed.mark_line(point=True, color=charts.PALETTE[0]).encode(
            y=alt.Y("value:Q", title=f"{ind.name} ({unit})"),
            tooltip=[alt.Tooltip("year:Q", title="Año", format="d"), alt.Tooltip("value:Q", title="Valor", format=",.1f"),
                     alt.Tooltip("lo:Q", title="IC 95 % inferior", format=",.1f"),
                     alt.Tooltip("hi:Q", title="IC 95 % superior", format=",.1f")]),
        alt.Chart(path).mark_line(strokeDash=[6, 4], color="#555").encode(x=years, y="value:Q"),
        alt.Chart(path.iloc[1:]).mark_point(shape="diamond", size=90, color="#555", filled=True).encode(
            x=years, y="value:Q", tooltip=[alt.Tooltip("year:Q", title="Meta", format="d"),
                                              alt.Tooltip("value:Q", title="Valor de la meta", format=",.1f")]),
    ).properties(height=320, title=alt.TitleParams(
        f"{ind.code} · {ind.name}", anchor="start", subtitle=charts.subtitle_lines(
            "Línea continua: valores calculados con su intervalo del 95 %; línea de trazos: trayectoria de la línea "
            f"de base a las metas (rombos) · estado: {base_row['status']}")))
    st.altair_chart(chart, width="stretch")
st.markdown(f"**Definición.** {fmt.literal_markdown(ind.definition)} **Responsable:** "
            f"{fmt.literal_markdown(ind.institution)}." + (f" **ODS:** {ind.sdg}." if ind.sdg else ""))

viewstate.save(state, "seguimiento", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS), CONTROLS)
