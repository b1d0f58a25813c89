"""Boletín: a self-contained HTML bulletin for the country or a municipality and the period."""
from __future__ import annotations

import streamlit as st

from app_pages._common import download, download_row, page_filters, selectbox
from core import bulletin, bulletin_pdf, municipality, viewstate, warehouse
from core.viewstate import Control

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state
munis = municipality.municipalities()
labels = dict(zip(munis["code"], munis["label"]))
CONTROLS = [Control("bol_muni", "muni", "", [""] + list(labels))]
viewstate.restore(state, st.query_params, "boletin", CONTROLS)

st.title("Boletín")
st.caption("Las cifras clave, el mapa, la evolución, dónde se concentra, los mayores cambios, las alertas, las "
           "fuentes y las definiciones, en PDF o en un archivo HTML autocontenido (se abre sin conexión). Se aplican "
           "el periodo y los filtros de la barra lateral. Para los boletines de todos los municipios de una vez: "
           "`atalaya-boletines` (ver el README).")
code = selectbox(st, "Territorio", [""] + list(labels), key="bol_muni",
                    format_func=lambda c: labels.get(c, f"{meta.get('country_name', 'País')} (todo el país o el "
                                                           "departamento de los filtros)"))
doc = bulletin.content(f, code or None)
document = bulletin.to_html(doc)
stem = bulletin.file_stem(f, code or None)
row = download_row()
download(row, "Descargar el boletín (PDF)", lambda: bulletin_pdf.to_pdf(doc), f"{stem}.pdf", "application/pdf",
         icon=":material/picture_as_pdf:", type="primary", key="bol_pdf")
download(row, "Descargar el boletín (HTML)", document.encode("utf-8"), f"{stem}.html", "text/html",
         icon=":material/description:", key="bol_html")
st.subheader("Vista previa")
# an iframe keeps the bulletin's own styles from leaking into the page; the document is generated
# here and every text from the warehouse in it is HTML-escaped (core/bulletin.py)
st.iframe(document, height="content")  # as tall as the bulletin: nothing cut

viewstate.save(state, "boletin", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS), CONTROLS)
