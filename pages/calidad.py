"""Calidad de datos: where the figures come from and how complete and consistent they are."""
from __future__ import annotations

import altair as alt
import streamlit as st

from core import disclosure, fmt, indicators, quality, warehouse
from pages._common import dataframe, download_buttons, notes_for_download, page_filters

f, opts = page_filters()
meta = warehouse.meta()

st.title("Calidad de datos")
st.markdown("Cada cifra del tablero sale de estas fuentes. Ninguna fila se pierde en silencio: las que no se "
            "pudieron cargar se guardan con su motivo, y los valores ilegibles (una edad de 150 años, un sexo "
            "desconocido) se cargan como «sin dato» dejando constancia del valor original.")

st.subheader("Fuentes")
src = quality.sources()
dataframe(src.rename(columns={"source": "Fuente", "institution": "Institución", "file": "Archivos",
                                 "rows_read": "Filas leídas", "rows_loaded": "Cargadas", "rows_rejected": "Rechazadas",
                                 "reject_pct": "% rechazadas", "rows_out_of_scope": "Fuera de alcance",
                                 "row_unit": "Cada fila es", "count_unit": "Cuenta", "date_precision": "Fecha hasta",
                                 "territory_level": "Territorio hasta"}),
             hide_index=True, width="stretch",
             column_config={"% rechazadas": st.column_config.NumberColumn(format="%.2f %%"),
                            "Filas leídas": st.column_config.NumberColumn(format="localized"),
                            "Cargadas": st.column_config.NumberColumn(format="localized"),
                            "Rechazadas": st.column_config.NumberColumn(format="localized"),
                            "Fuera de alcance": st.column_config.NumberColumn(format="localized")})
st.caption("«Cada fila es»: qué es una fila del archivo; «Cuenta»: víctimas o hechos (nunca se suman); «Fecha hasta» "
           "y «Territorio hasta»: el mayor detalle que da la fuente (una fuente que da solo el año no entra en las "
           "series mensuales; una que da solo el departamento, en las cifras municipales).")

st.subheader("Filas fuera de alcance (no son errores)")
scope_rows = quality.out_of_scope()
if scope_rows.empty:
    st.caption("Ninguna fila quedó fuera de la selección declarada de las fuentes.")
else:
    st.caption("Filas que la selección de filas declarada para cada fuente deja fuera a propósito (por ejemplo, "
               "totales o filas de otro país): no se cargan y no son errores.")
    scope_table = scope_rows.rename(columns={"source": "Fuente", "file": "Archivo", "reason": "Motivo",
                                             "rows": "Filas", "example_row": "Primera fila (n.º)"})
    dataframe(scope_table, hide_index=True, width="stretch",
              column_config={"Filas": st.column_config.NumberColumn(format="localized")})
    download_buttons(scope_table, "atalaya_calidad_fuera_de_alcance",
                     notes_for_download(meta, "Filas fuera de alcance de la selección declarada"), sheet="Fuera de alcance")
if meta.get("counting_rule"):
    st.caption(f"**Regla de conteo entre fuentes.** {meta['counting_rule']}")

st.subheader("Hallazgos")
found = quality.issues()
if found.empty:
    st.success("No se registró ningún hallazgo de calidad en esta carga.")
else:
    counts = found.groupby("severity")["count"].sum()
    cols = st.columns(3)
    for col, sev in zip(cols, ("error", "aviso", "info")):
        col.metric(quality.SEVERITY_LABELS[sev], fmt.integer(counts.get(sev, 0)))
    table = found.assign(severity=found["severity"].map(quality.SEVERITY_LABELS))[
        ["severity", "source", "label", "count", "example"]].rename(columns={
            "severity": "Tipo", "source": "Fuente", "label": "Regla", "count": "Casos", "example": "Ejemplo"})
    dataframe(table, hide_index=True, width="stretch",
                 column_config={"Casos": st.column_config.NumberColumn(format="localized"),
                                "Ejemplo": st.column_config.TextColumn(width="large")})
    download_buttons(table, "atalaya_calidad_hallazgos", notes_for_download(meta, "Hallazgos de calidad de la carga"),
                     sheet="Hallazgos")

st.subheader("Completitud por campo y año")
comp = quality.completeness()
if comp.empty:
    st.info("No hay registros de incidentes.")
else:
    chart = alt.Chart(comp).mark_rect().encode(
        x=alt.X("year:O", title="Año"),
        y=alt.Y("field_label:N", title=None),
        color=alt.Color("pct:Q", title="% con dato", scale=alt.Scale(domain=[0, 100], scheme="blues")),
        tooltip=[alt.Tooltip("source:N", title="Fuente"), alt.Tooltip("field_label:N", title="Campo"),
                 alt.Tooltip("year:O", title="Año"), alt.Tooltip("pct:Q", title="% con dato", format=".1f"),
                 alt.Tooltip("records:Q", title="Registros", format=",")],
    ).properties(height=160, width=alt.Step(40)).facet(row=alt.Row("source:N", title=None))
    st.altair_chart(chart)
    st.caption("Porcentaje de registros de cada fuente con el campo conocido. Un campo vacío o ilegible cuenta "
               "como sin dato. " + " ".join(f"Año {indicators.year_label(y)}." for y in
                                            indicators.partial_years(int(comp["year"].min()), int(comp["year"].max()))))

types = quality.reconciled_types()
st.subheader("Conciliación entre fuentes")
if not types:
    st.info("En esta carga cada delito proviene de una sola fuente: no hay nada que conciliar.")
else:
    article = "las" if f.unit == "victimas" else "los"
    st.markdown(f"Delitos registrados por varias instituciones: **{', '.join(types)}**. Se muestran {article} "
                f"{f.noun()} que registra cada fuente y la cifra publicada según la regla de conteo. Se aplican los filtros de "
                "periodo y departamento.")
    monthly = quality.reconciliation_monthly(f)
    if monthly.empty:
        st.info("No hay registros de estos delitos con los filtros elegidos.")
    else:
        monthly = disclosure.as_text(monthly).assign(value=disclosure.numeric(monthly["victims"]))
        series = alt.Chart(monthly).mark_line().encode(
            x=alt.X("month:T", title="Mes"), y=alt.Y("value:Q", title=f.unit_label),
            color=alt.Color("series:N", title="Fuente"),
            strokeDash=alt.condition(alt.datum.series == quality.PUBLISHED, alt.value([5, 3]), alt.value([1, 0])),
            tooltip=[alt.Tooltip("month:T", title="Mes", format="%Y-%m"), alt.Tooltip("series:N", title="Fuente"),
                     alt.Tooltip("victims:N", title=f.unit_label)],
        ).properties(height=280)
        st.altair_chart(series, width="stretch")
        by_muni = quality.reconciliation_by_municipality(f)
        st.markdown("**Municipio × mes**, ordenado por divergencia (fuente con más registros menos la de menos):")
        shown = by_muni.assign(month=by_muni["month"].dt.strftime("%Y-%m")).rename(columns={
            "muni_code": "Código", "municipality": "Municipio", "month": "Mes", "published": "Publicada",
            "divergence": "Divergencia"})
        dataframe(shown.head(500), hide_index=True, width="stretch")
        st.caption(f"{len(shown):,} combinaciones municipio × mes" + (" (se muestran las 500 primeras; la descarga "
                                                                       "las tiene todas)" if len(shown) > 500 else ""))
        download_buttons(shown, "atalaya_conciliacion", notes_for_download(
            meta, "Conciliación de fuentes por municipio y mes", meta.get("counting_rule", "")), sheet="Conciliacion")
