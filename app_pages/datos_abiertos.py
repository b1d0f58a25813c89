"""Datos abiertos: aggregated tables and boundaries to download, with their data dictionary."""
from __future__ import annotations

import json

import streamlit as st

from app_pages._common import counting_rule, dataframe, download, download_row, page_filters, show_notes
from core import (
    coverage,
    deployment,
    export,
    fmt,
    methodology,
    opendata,
    opendata_catalog,
    opendata_site,
    views,
    warehouse,
)

f, opts = page_filters()
meta = warehouse.meta()

st.title("Datos abiertos")
st.caption(f.describe(opts) + " · los filtros de la barra lateral se aplican a todas las descargas")
st.markdown("Datos **agregados** (nunca registros individuales).")
licence = opendata_catalog.licence(meta)
if licence is None:
    st.warning(opendata_catalog.licence_text(meta), icon=":material/gavel:")
else:
    st.info(opendata_catalog.licence_text(meta), icon=":material/gavel:")
if meta.get("synthetic") == "true":
    st.warning("Estos son datos sintéticos de demostración: sirven para probar formatos, no para analizar.")
gap_note = coverage.describe_month_gaps(f)
if gap_note:
    st.warning(gap_note, icon=":material/event_busy:")
show_notes(coverage.other_unit(f), kind="info")
if deployment.is_public():
    st.caption(" ".join(views.RULES[:3]) + " En Parquet, la cifra reservada queda vacía y la columna "
               f"«{opendata.count_field(f)}_reservada» lo indica.")

stem = f"atalaya_{meta.get('country', 'xx').lower()}_{f.year_from}-{f.year_to}"
for key, title in opendata.datasets(f).items():
    st.subheader(title)
    if key == "limites_municipales":
        st.caption(f"GeoJSON (WGS84) con los límites municipales a resolución completa y, por municipio, {f.noun()}, "
                   "tasas e indicadores de vulnerabilidad.")
        download(st, "Descargar GeoJSON", lambda: opendata.boundaries_geojson(f).encode("utf-8"),
                 f"{stem}_{key}.geojson", "application/geo+json", icon=":material/map:")
        show_notes(coverage.left_out(f, "municipio"))
    elif key == "municipio_mes":
        made = ("Archivo preparado al publicar el almacén." if opendata.prepared_file(f, "csv")
                else "El archivo se genera al descargarlo (con millones de filas tarda segundos).")
        st.caption(f"{fmt.integer(opendata.municipality_month_rows(f))} filas · campos: "
                   + ", ".join(opendata.dictionary(key, f)["campo"]) + f". {made}")
        row = download_row()
        download(row, "Descargar CSV", lambda: opendata.municipality_month_bytes(f, "csv"), f"{stem}_{key}.csv",
                 "text/csv", key=f"csv_{key}")
        download(row, "Descargar Parquet", lambda: opendata.municipality_month_bytes(f, "parquet"),
                 f"{stem}_{key}.parquet", "application/vnd.apache.parquet", key=f"parquet_{key}")
        show_notes(coverage.left_out(f, "mes"))
    else:
        data = opendata.department_year(f)
        st.caption(f"{fmt.integer(len(data))} filas")
        dataframe(data, hide_index=True, width="stretch", height=280, column_config={
            "tasa_100k": st.column_config.NumberColumn(format="%.1f"),
            "personas_anio": st.column_config.NumberColumn(format="localized")})
        row = download_row()
        download(row, "Descargar CSV", export.csv_bytes(data), f"{stem}_{key}.csv", "text/csv", key=f"csv_{key}")
        download(row, "Descargar Parquet", lambda data=data: opendata.parquet_bytes(data), f"{stem}_{key}.parquet",
                 "application/vnd.apache.parquet", key=f"parquet_{key}")

st.subheader("Catálogo")
st.caption("Los conjuntos de datos del periodo completo descritos en DCAT (JSON-LD: título, quién publica, licencia, "
           "cobertura, formatos), con las mismas rutas que escribe `atalaya-datos-abiertos --carpeta ...` para "
           "publicarlos como sitio estático (ver el README).")
download(st, "Descargar el catálogo (catalogo.json)",
         json.dumps(opendata_site.layout_catalogue(), ensure_ascii=False, indent=2).encode("utf-8"),
         "catalogo.json", "application/ld+json", icon=":material/dataset:")

st.subheader("Diccionario de datos")
dictionary = opendata.dictionary(f=f)
dataframe(dictionary, hide_index=True, width="stretch")
download(st, "Descargar el diccionario (CSV)", export.csv_bytes(dictionary), "atalaya_diccionario.csv", "text/csv")

with st.expander("Metodología", icon=":material/functions:"):
    for term, text in methodology.definitions().items():
        st.markdown(f"**{term}.** {text}")
    if counting_rule(meta):
        st.markdown(counting_rule(meta))
