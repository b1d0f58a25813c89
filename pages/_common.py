"""Shared start of every page. Not a page itself: app.py registers the pages explicitly."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.filters import FilterOptions, Filters, filter_options


def page_filters() -> tuple[Filters, FilterOptions]:
    """The shared sidebar filters drawn by app.py, with the period made explicit."""
    if "filters" not in st.session_state:
        # A freshly started server opened directly on a page URL (a shared link) runs the page
        # file alone: Streamlit keeps its legacy ``pages/`` folder mode until st.navigation is
        # first called. Leave that mode and rerun, so that app.py draws the shell and the page.
        PagesManager.uses_pages_directory = False
        st.rerun()
    opts = filter_options()
    return st.session_state["filters"].resolved(opts), opts
