"""Constructor de informes: charts and tables from the variables the user chooses, without SQL."""
from __future__ import annotations

import streamlit as st

from app_pages import _presenter
from app_pages._common import dataframe, download, download_buttons, download_row, notes_for_download, page_filters, selectbox, show_notes
from core import charts, coverage, reports, warehouse
from core.reports import DIMENSIONS, MEASURES, ReportSpec, SpecError

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state
NONE = ""
DIM_OPTIONS = list(DIMENSIONS)
TOP_OPTIONS = [0, 5, 10, 20, 50, 100]


def _apply(spec: ReportSpec) -> None:
    """Put a spec into the widgets (only before they are drawn: on first load or in a callback)."""
    state["inf_medida"] = spec.measure
    state["inf_dim1"] = spec.dims[0]
    state["inf_dim2"] = spec.dims[1] if len(spec.dims) > 1 else NONE
    state["inf_panel"] = spec.facet or NONE
    state["inf_grafico"] = spec.chart
    state["inf_orden"] = spec.sort
    state["inf_top"] = spec.top_n if spec.top_n in TOP_OPTIONS else 0


def _on_upload() -> None:
    uploaded = state.get("inf_subir")
    if uploaded is None:
        return
    try:
        spec = ReportSpec.from_json(uploaded.getvalue()).validate()
    except SpecError as exc:
        state["_inf_error"] = f"{uploaded.name}: {exc}"
        return
    _apply(spec)
    sf = spec.filters  # the spec carries its filters: set the shared sidebar filters too
    state["f_years"] = (sf.year_from, sf.year_to)
    state["f_groups"], state["f_types"] = list(sf.crime_groups), list(sf.crime_types)
    state["f_sexes"], state["f_ages"] = list(sf.sexes), list(sf.age_groups)
    state["f_dept"] = sf.dept_code or ""
    state["f_unit"] = sf.unit
    state["_inf_error"] = None


if "inf_medida" not in state:
    initial = state.get("_saved_informes") or {}
    if "informe" in st.query_params:
        try:
            _apply(ReportSpec.from_param(st.query_params["informe"]).validate())
        except SpecError as exc:
            state["_inf_error"] = f"El informe de la dirección no es válido: {exc}"
    if "inf_medida" not in state:
        for key, value in (initial or {"inf_medida": "n", "inf_dim1": "year", "inf_dim2": "crime_group",
                                       "inf_panel": NONE, "inf_grafico": "line", "inf_orden": "dim",
                                       "inf_top": 0}).items():
            state[key] = value

presenting = _presenter.active()
if presenting:  # the chart (its title and source are in the picture) first, the controls under it
    stage = st.container()
    controls_box = st.container(border=True)
    controls_box.markdown("**Cambiar el informe**")
else:
    st.title("Constructor de informes")
    st.caption("Elija qué medir, cómo desglosarlo y cómo mostrarlo. Los filtros de la barra lateral se aplican.")
    stage = controls_box = st.container()

c1, c2, c3, c4 = controls_box.columns([1.4, 1, 1, 1])
measure = selectbox(c1, "Medida", list(MEASURES), key="inf_medida",
                       format_func=lambda m: reports.measure_label(m, f))
dim1 = selectbox(c2, "Desglosar por", DIM_OPTIONS, key="inf_dim1", format_func=lambda d: DIMENSIONS[d].label)
dim2 = selectbox(c3, "y por", [NONE] + DIM_OPTIONS, key="inf_dim2",
                    format_func=lambda d: DIMENSIONS[d].label if d else "(nada más)")
facet = selectbox(c4, "Un panel por", [NONE] + DIM_OPTIONS, key="inf_panel",
                     format_func=lambda d: DIMENSIONS[d].label if d else "(sin paneles)")
c5, c6, c7, _ = controls_box.columns(4)
chart_type = selectbox(c5, "Gráfico", list(reports.CHARTS), key="inf_grafico", format_func=reports.CHARTS.get)
sort = selectbox(c6, "Orden", list(reports.SORTS), key="inf_orden", format_func=reports.SORTS.get)
top = selectbox(c7, "Primeros N (de la primera dimensión)", TOP_OPTIONS, key="inf_top",
                   format_func=lambda n: "Todos" if n == 0 else str(n))

spec = ReportSpec(measure=measure, dims=(dim1,) + ((dim2,) if dim2 else ()), facet=facet or None, filters=f,
                  sort=sort, top_n=top or None, chart=chart_type)
if state.get("_inf_error"):
    st.error(state["_inf_error"])
try:
    report = reports.run(spec)
except SpecError as exc:
    st.warning(str(exc), icon=":material/rule:")
    report = None

if report is not None:
    if report.data.empty:
        st.info(f"No hay {f.noun()} con estos filtros.")
    chart = reports.chart(report, fit_height=_presenter.picture_height(reserved=70) if presenting else None)
    if chart is not None:
        stage.altair_chart(charts.for_screen(chart) if presenting else chart, width="stretch")
    for note in report.notes:
        st.caption(note)
    gap_note = coverage.describe_month_gaps(f)
    if gap_note:
        st.caption(gap_note)
    needs = reports.grain_needs(spec)  # what a month, municipality or record dimension cannot include
    grain_notes = show_notes(coverage.left_out(f, *needs) if needs else None)
    table = reports.with_totals(report)
    dataframe(table, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(table)), column_config={
        report.value_label: st.column_config.NumberColumn(format="%.1f" if measure != "n" else "localized"),
        f.unit_label: st.column_config.NumberColumn(format="localized"),
        "Personas-año": st.column_config.NumberColumn(format="localized")})
    st.caption(report.caption)
    stem = "atalaya_informe_" + "_".join(spec.dims)
    download_buttons(table, stem, notes_for_download(meta, report.title, report.caption, *report.notes, *grain_notes,
                                                     "Especificación: " + spec.to_param()), sheet="Informe")
    row = download_row()
    if chart is not None:
        download(row, "Imagen PNG", lambda: reports.chart_image(report, "png"), f"{stem}.png", "image/png",
                 icon=":material/image:")
        download(row, "Imagen SVG", lambda: reports.chart_image(report, "svg"), f"{stem}.svg", "image/svg+xml",
                 icon=":material/image:")
    download(row, "Especificación (JSON)", spec.validate().to_json(), f"{stem}.json", "application/json",
             icon=":material/data_object:",
             help="Guárdela para reabrir este informe más tarde (arriba: «Abrir una especificación»).")

with st.expander("Abrir una especificación guardada (JSON)", icon=":material/upload_file:"):
    st.file_uploader("Especificación", type=["json"], key="inf_subir", on_change=_on_upload,
                     label_visibility="collapsed")

with st.expander("Qué significa cada medida"):
    st.markdown(
        f"- **{f.unit_label}**: número de {f.noun()} (la unidad de conteo elegida en la barra lateral).\n"
        f"- **{reports.MEASURES['rate']}**: {f.noun()} ÷ personas-año de la población que corresponde (mismo año, "
        "territorio, sexo y edad que la fila) × 100,000. No se calcula por mes, día, hora ni arma.\n"
        "- **% del total**: parte de cada fila en el total del informe (o del panel).\n"
        "- **Cambio vs periodo anterior**: variación porcentual frente al periodo inmediatamente anterior de la "
        "misma duración.\n\nLos totales se recalculan a partir de todas las categorías (no se suman tasas ni "
        "porcentajes).")

state["_saved_informes"] = {k: state[k] for k in ("inf_medida", "inf_dim1", "inf_dim2", "inf_panel", "inf_grafico",
                                                  "inf_orden", "inf_top")}
try:
    param = spec.validate().to_param()
except SpecError:
    param = None
if param and st.query_params.get("informe") != param:
    st.query_params["informe"] = param
