"""Boletín: a self-contained HTML bulletin for the country or a municipality and the period."""
from __future__ import annotations

import streamlit as st

from app_pages._common import download, page_filters, selectbox
from core import bulletin, municipality, viewstate, warehouse
from core.viewstate import Control

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state
munis = municipality.municipalities()
labels = dict(zip(munis["code"], munis["label"]))
CONTROLS = [Control("bol_muni", "muni", "", [""] + list(labels))]
viewstate.restore(state, st.query_params, "boletin", CONTROLS)

st.title("Boletín")
st.caption("Un archivo HTML autocontenido (se abre sin conexión y se imprime a PDF desde el navegador) con las "
           "cifras clave, la evolución, dónde se concentra, los mayores cambios, las alertas, las fuentes y las "
           "definiciones. Se aplican el periodo y los filtros de la barra lateral.")
code = selectbox(st, "Territorio", [""] + list(labels), key="bol_muni",
                    format_func=lambda c: labels.get(c, f"{meta.get('country_name', 'País')} (todo el país o el "
                                                           "departamento de los filtros)"))
document = bulletin.render(f, code or None)
name = f"boletin_{code or meta.get('country', 'pais').lower()}_{f.year_from}-{f.year_to}.html"
download(st, "Descargar el boletín (HTML)", document.encode("utf-8"), name, "text/html", icon=":material/description:",
         type="primary")
st.subheader("Vista previa")
# an iframe keeps the bulletin's own styles from leaking into the page; the document is generated
# here and every text from the warehouse in it is HTML-escaped (core/bulletin.py)
st.iframe(document, height="content")  # as tall as the bulletin: nothing cut

viewstate.save(state, "boletin", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS), CONTROLS)
