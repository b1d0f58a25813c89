"""Presentación: gather views of the dashboard and play them full screen as slides."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from app_pages import _presenter
from app_pages._common import dataframe, download, show_notes
from app_pages._pages import DEFAULT, TITLES
from core import fmt, presentation

state = st.session_state
EDITOR = "pres_editor"
MAX_FILE_BYTES = 200_000


def _keep_text() -> None:
    state[_presenter.TEXT_KEY] = state[EDITOR]


def _on_upload() -> None:
    uploaded = state.get("pres_subir")
    if uploaded is None:
        return
    raw = uploaded.getvalue()
    if len(raw) > MAX_FILE_BYTES:
        state["_pres_error"] = (f"{uploaded.name}: el archivo tiene {fmt.integer(len(raw))} bytes; una presentación ocupa unos "
                                 "pocos miles (se esperaba un enlace por línea).")
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        state["_pres_error"] = f"{uploaded.name}: no es un archivo de texto UTF-8 (se esperaba un enlace por línea)."
        return
    state[EDITOR] = state[_presenter.TEXT_KEY] = text
    state["_pres_error"] = None


if EDITOR not in state:  # the editor's own state is forgotten while another page is shown
    state[EDITOR] = state.get(_presenter.TEXT_KEY, "")

st.title("Presentación")
st.caption("Reúna vistas del tablero y muéstrelas a pantalla completa, una tras otra, con el teclado. Funciona sin "
           "conexión a internet: todo se dibuja en este equipo.")
st.markdown(
    "1. En cada página, deje la vista como quiere mostrarla (filtros, mapa, municipio elegido) y pulse "
    "**Añadir a la presentación** al pie de la barra lateral; o pegue abajo las direcciones copiadas de la barra del "
    "navegador, una por línea.\n"
    "2. Pulse **Empezar la presentación**. Durante la presentación: **→**, **Av Pág** o el botón «Siguiente» de un "
    "presentador inalámbrico pasan a la vista siguiente; **←** o **Re Pág**, a la anterior; **Esc** sale.\n"
    "3. Guarde el archivo de la presentación o el enlace para usarla otro día.")

st.text_area("Vistas de la presentación (una dirección por línea)", key=EDITOR, height=200, on_change=_keep_text,
             placeholder="/mapa?medida=tasa\n/informes?informe=...\n/comparar?vista=territorios",
             help="Las líneas vacías y las que empiezan con # no cuentan. Se puede reordenar o borrar libremente.")
with st.expander("Abrir un archivo de presentación (.txt)", icon=":material/upload_file:"):
    st.file_uploader("Archivo de presentación", type=["txt"], key="pres_subir", on_change=_on_upload,
                     label_visibility="collapsed")
if state.get("_pres_error"):
    st.error(state["_pres_error"])

pages = list(TITLES)
slides, errors = presentation.parse(state[EDITOR], pages, DEFAULT)
show_notes(*errors, kind="info")
if not slides:
    st.info("Todavía no hay vistas en la presentación.", icon=":material/slideshow:")
    st.stop()

table = pd.DataFrame({
    "N.º": range(1, len(slides) + 1),
    "Página": [TITLES[s.page] for s in slides],
    "Vista (parámetros de la dirección)": [", ".join(f"{k}={v}" for k, v in s.params) or "(vista inicial)"
                                           for s in slides],
})
dataframe(table, hide_index=True, width="stretch")

first = presentation.slide_params(slides, 0)
st.page_link(_presenter.page_file(slides[0].page), label="Empezar la presentación", icon=":material/play_arrow:",
             query_params=first)
parts = urlsplit(st.context.url or "")  # this page's address: the presentation's is beside it
base = f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}" if parts.netloc else ""
st.caption("Enlace de la presentación (guarda todas las vistas; ábralo en este equipo o en el servidor del tablero):")
st.code(f"{base}/{slides[0].page}?{urlencode(first)}", language=None, wrap_lines=True)
download(st, "Archivo de la presentación (.txt)", presentation.to_text(slides), "presentacion_atalaya.txt", "text/plain")
