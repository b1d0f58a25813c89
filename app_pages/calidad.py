"""Calidad de datos: where the figures come from and how complete and consistent they are."""
from __future__ import annotations

import altair as alt
import streamlit as st

from app_pages._common import counting_rule, dataframe, download_buttons, notes_for_download, page_filters, selectbox
from core import charts, fmt, quality, rates, views, warehouse

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
if counting_rule(meta):
    st.caption(counting_rule(meta))

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
    ).properties(height=160, width=alt.Step(40)).facet(row=alt.Row("source:N", title=None)).properties(
        autosize=charts.PAD)
    st.altair_chart(chart)
    st.caption("Porcentaje de registros de cada fuente con el campo conocido. Un campo vacío o ilegible cuenta "
               "como sin dato. " + " ".join(f"Año {rates.year_label(y)}." for y in
                                            rates.partial_years(int(comp["year"].min()), int(comp["year"].max()))))

st.subheader("Conciliación entre fuentes")
rules = quality.reconciliation_rules()
if rules.empty:
    st.info("En esta carga ningún delito está declarado como registrado por varias instituciones: cuentan todos los "
            "registros. Si algún delito aparece en «Hallazgos» como sumado entre fuentes, declárelo en [conciliacion].")
else:
    st.markdown(f"Para cada delito que registran varias instituciones, una regla decide qué registros cuentan en la "
                f"cifra publicada; los demás se conservan para esta comparación. Se aplican los filtros de periodo y "
                f"departamento; las cifras son {f.noun()}.")
    summary = quality.reconciliation_summary(f)
    source_names = dict(zip(src["source"], src["institution"]))
    counts = [c for c in summary.columns if c in source_names]
    summary = summary[["crime", "rule_label", "reference", "published", "differ_pct", "cells_differ", "cells", *counts]]
    shown = summary.rename(columns={
        "crime": "Delito", "rule_label": "Regla", "reference": "Fuente de referencia", "published": "Publicada",
        "cells": "Municipio-mes con registros", "cells_differ": "Municipio-mes en que difieren",
        "differ_pct": "% en que difieren", **{c: source_names[c] for c in counts}})
    number = st.column_config.NumberColumn(format="localized")
    dataframe(shown, hide_index=True, width="stretch",
              column_config={"% en que difieren": st.column_config.NumberColumn(format="%.1f %%"),
                             "Publicada": number, "Municipio-mes con registros": number,
                             "Municipio-mes en que difieren": number, **{source_names[c]: number for c in counts}})
    st.caption("«Fuente de referencia»: cuenta solo esa institución. «Máximo por municipio y mes»: en cada municipio y "
               "mes cuenta la institución con más registros. Una institución sin registros en un municipio-mes cuenta "
               "0 al comparar. Con una fuente de referencia, la línea de la cifra publicada coincide con la de esa "
               "fuente. La regla de cada delito se explica en Metodología.")
    download_buttons(shown, "atalaya_conciliacion_por_delito", notes_for_download(
        meta, "Conciliación de fuentes por delito", meta.get("counting_rule", "")), sheet="Por delito")

    names = dict(zip(rules["crime_type"], rules["crime"]))
    crime = selectbox(st, "Delito a comparar mes a mes", list(names), format_func=names.get, key="calidad_delito")
    monthly = quality.reconciliation_monthly(f, crime)
    if monthly.empty:
        st.info(f"No hay registros de {names[crime]} con los filtros elegidos.")
    else:
        monthly = views.as_text(monthly).assign(value=views.numeric(monthly["victims"]))
        monthly["series"] = monthly["series"].map(lambda s: source_names.get(s, s))
        series = alt.Chart(monthly).mark_line().encode(
            x=alt.X("month:T", title="Mes", axis=alt.Axis(format="%Y", tickCount="year")),
            y=alt.Y("value:Q", title=f.unit_label),
            color=charts.category_color("series", "Fuente", list(dict.fromkeys(monthly["series"])), orient="bottom"),
            strokeDash=alt.condition(alt.datum.series == quality.PUBLISHED, alt.value([5, 3]), alt.value([1, 0])),
            tooltip=[alt.Tooltip("month:T", title="Mes", format="%Y-%m"), alt.Tooltip("series:N", title="Fuente"),
                     alt.Tooltip("victims:N", title=f.unit_label)],
        ).properties(height=280)
        st.altair_chart(series, width="stretch")
        by_muni = quality.reconciliation_by_municipality(f, crime)
        st.markdown(f"**{names[crime]}: municipio × mes**, ordenado por divergencia (fuente con más registros menos la "
                    "de menos):")
        table = by_muni.assign(month=by_muni["month"].dt.strftime("%Y-%m")).rename(columns={
            "muni_code": "Código", "municipality": "Municipio", "month": "Mes", "published": "Publicada",
            "divergence": "Divergencia", **source_names})
        dataframe(table.head(500), hide_index=True, width="stretch")
        st.caption(f"{fmt.integer(len(table))} combinaciones municipio × mes" + (
            " (se muestran las 500 primeras; la descarga las tiene todas)" if len(table) > 500 else ""))
        download_buttons(table, f"atalaya_conciliacion_{crime}", notes_for_download(
            meta, f"Conciliación de fuentes por municipio y mes: {names[crime]}", meta.get("counting_rule", "")),
            sheet="Conciliacion")

st.subheader("Pruebas de datos antes de publicar")
tests = quality.data_tests()
st.caption("Antes de publicar el almacén, la carga comprobó cada una de estas condiciones sobre todas sus tablas; una "
           "carga que no cumple alguna no se publica y el almacén anterior sigue en uso.")
st.table(tests.assign(rows_checked=tests["rows_checked"].map(fmt.integer),
                     description=tests["description"].map(lambda d: d[:1].upper() + d[1:])).rename(columns={
    "description": "Qué se comprobó", "rows_checked": "Filas revisadas", "name": "Prueba"}).set_index("Qué se comprobó"))
