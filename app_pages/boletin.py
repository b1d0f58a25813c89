"""Boletín: a self-contained HTML bulletin for the country or a municipality and the period."""
from __future__ import annotations

import streamlit as st

from app_pages._common import download, download_row, page_filters, selectbox
from core import bulletin, bulletin_pdf, fmt, municipality, viewstate, warehouse
from core.viewstate import Control

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state
munis = municipality.municipalities()
labels = dict(zip(munis["code"], munis["label"]))
months = {f"{y}-{m:02d}": (y, m) for y, m in bulletin.months_available(f)}
CONTROLS = [Control("bol_muni", "muni", "", [""] + list(labels)), Control("bol_mes", "mes", "", [""] + list(months))]
viewstate.restore(state, st.query_params, "boletin", CONTROLS)
if state["bol_mes"] not in months:
    state["bol_mes"] = ""  # the period changed and left the month out

st.title("Boletín")
st.caption("Las cifras clave, el mapa, la evolución, dónde se concentra, los mayores cambios, las alertas, las "
           "fuentes y las definiciones, en PDF o en un archivo HTML autocontenido (se abre sin conexión); o el boletín "
           "de un mes. Se aplican el periodo y los filtros de la barra lateral. Para los boletines de todos los "
           "municipios de una vez: `atalaya-boletines` (ver el README).")
left, right = st.columns([2, 1])
code = selectbox(left, "Territorio", [""] + list(labels), key="bol_muni",
                 format_func=lambda c: labels.get(c, f"{meta.get('country_name', 'País')} (todo el país o el "
                                                     "departamento de los filtros)"))
month = selectbox(right, "Boletín", [""] + list(months), key="bol_mes",
                  format_func=lambda k: f"Mensual: {fmt.month(*months[k])}" if k else f"Del periodo {f.period()}",
                  help=f"Un boletín mensual: el mes frente al mismo mes del año anterior, lo que va del año hasta ese "
                       f"mes y los últimos {bulletin.MONTHS_SHOWN} meses (meses de {f.last_year} con datos).")
if month:
    doc = bulletin.monthly_content(f, *months[month], code or None)
else:
    doc = bulletin.content(f, code or None)
document = bulletin.to_html(doc)
stem = bulletin.file_stem(f, code or None, months.get(month))
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
