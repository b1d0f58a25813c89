"""Presenter mode (``?presentar=1`` in any page's address): the page fills the screen without the
sidebar, and a presentation (core/presentation.py) is played as slides with the keyboard.

Not a page itself: app.py draws the frame around every page, and the pages that have a picture to
show (the map, the report chart) lay it out with ``stage_height`` so that it fits the screen.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import streamlit as st
import streamlit.components.v2 as components

from core import presentation
from core.presentation import P_DECK, PresentationError

TEXT_KEY = "pres_texto"  # session_state key (not a widget's): the presentation being prepared, one link per line
# Room the picture leaves on the screen for the presenter bar, the title and the source line (px).
_CHROME_PX = 188  # (two lines of source text)
FRAME_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] {
  display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0.4rem 1.4rem 1rem !important; max-width: 100% !important; }
[data-testid="stAppViewContainer"] > section { margin-left: 0 !important; }
.st-key-pres_next_page, .st-key-pres_prev_page { display: none !important; }
.st-key-presenter_bar p { margin: 0; }
</style>"""


SCREEN_KEY = "pres_pantalla"  # session_state key (kept from slide to slide): the browser window's size
DEFAULT_SCREEN = (1280, 720)
# Reports the size of the browser window (and again when it changes): the map's zoom and the picture's
# height are chosen for the screen it is shown on. Inline, no request.
_SCREEN_JS = """
export default function(component) {
  const { setStateValue } = component;
  let last = "";
  const report = () => {
    const size = `${window.innerWidth}x${window.innerHeight}`;
    if (size !== last) { last = size; setStateValue("size", size); }
  };
  report();
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(report, 250); };
  window.addEventListener("resize", onResize);
  return () => { window.removeEventListener("resize", onResize); clearTimeout(timer); };
}
"""
_screen_reporter = components.component("atalaya_pantalla", js=_SCREEN_JS)


def _measure_screen() -> None:
    result = _screen_reporter(key="pres_medida", on_size_change=lambda: None)
    size = getattr(result, "size", None)
    try:
        width, height = (int(v) for v in str(size).split("x"))
    except ValueError:
        return
    if 320 <= width <= 10_000 and 240 <= height <= 10_000:
        st.session_state[SCREEN_KEY] = (width, height)


def screen() -> tuple[int, int]:
    """The browser window's size in CSS pixels (1280 x 720 until the browser has said it)."""
    return st.session_state.get(SCREEN_KEY, DEFAULT_SCREEN)


def picture_height(reserved: int = 0) -> int:
    """Height in pixels for the picture of a page in presenter mode: the window less the presenter
    bar, the title and the source line (and ``reserved`` more)."""
    return max(screen()[1] - _CHROME_PX - reserved, 320)


def page_file(stem: str) -> str:
    """The file of a page, as st.page_link and st.switch_page take it."""
    return str(Path(__file__).resolve().parent / f"{stem}.py")


def active() -> bool:
    """Whether this page is shown in presenter mode."""
    return presentation.is_on(st.query_params.to_dict())


def frame() -> None:
    """Hide the sidebar and Streamlit's header, and make the picture of the page fill the screen."""
    st.html(FRAME_CSS)


def bar(pages: Mapping[str, st.Page], current: str, keep: Collection[str], synthetic: bool) -> None:
    """The presenter bar: the slide shown and how to move (← →, or Page Down / Page Up as a
    wireless presenter sends them), and how to leave (Esc). Moving to a slide opens it as its link
    would open in a new tab: every page state (widgets, filters) except the keys in ``keep`` is
    dropped, so each slide shows exactly its saved view."""
    params = st.query_params.to_dict()
    names = list(pages)
    slides: list[presentation.Slide] = []
    error = None
    if P_DECK in params:
        try:
            slides = presentation.decode(params[P_DECK], names, names[0])
        except PresentationError as exc:
            error = str(exc)
    index = presentation.current(params, len(slides))
    target: tuple[str, dict[str, str]] | None = None
    with st.container(key="presenter_bar", horizontal=True, vertical_alignment="center", gap="small"):
        _measure_screen()
        if slides:
            first, last = index == 0, index == len(slides) - 1
            back = st.button("Anterior", icon=":material/arrow_back:", key="pres_prev", shortcut="Left",
                             disabled=first, help="Vista anterior (← o Re Pág)")
            back_page = st.button("Anterior", key="pres_prev_page", shortcut="PageUp", disabled=first)
            st.markdown(f"**Vista {index + 1} de {len(slides)}**")
            forward = st.button("Siguiente", icon=":material/arrow_forward:", key="pres_next", shortcut="Right",
                                disabled=last, help="Vista siguiente (→, barra espaciadora o Av Pág)")
            forward_page = st.button("Siguiente", key="pres_next_page", shortcut="PageDown", disabled=last)
            if back or back_page:
                target = slides[index - 1].page, presentation.slide_params(slides, index - 1)
            if forward or forward_page:
                target = slides[index + 1].page, presentation.slide_params(slides, index + 1)
        if st.button("Salir de la presentación", icon=":material/close_fullscreen:", key="pres_exit", shortcut="Esc",
                     type="tertiary", help="Vuelve a la vista normal, con la barra lateral (Esc)"):
            target = current, presentation.without_presenter(params)
        if synthetic:
            st.markdown(":red[**DATOS SINTÉTICOS DE DEMOSTRACIÓN**]")
    if error:
        st.warning(f"No se pueden mostrar las demás vistas: {error}", icon=":material/slideshow:")
    if target is not None:
        page, new_params = target
        clear_state(keep)
        st.switch_page(pages[page], query_params=new_params)


def clear_state(keep: Collection[str]) -> None:
    """Forget every widget and page state but ``keep`` (and the screen size): the next run shows a view
    as its link opened in a new tab would."""
    for key in list(st.session_state.keys()):
        if key not in keep and key != SCREEN_KEY and not str(key).startswith("$$"):  # $$: Streamlit's own (tests)
            del st.session_state[key]

