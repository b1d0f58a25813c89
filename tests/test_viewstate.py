"""Page controls kept in the URL and across pages (core/viewstate.py)."""
from core import viewstate
from core.viewstate import Control

CONTROLS = [Control("v", "vista", "a", ["a", "b"]), Control("k", "clases", 3, [3, 5]),
            Control("w", "peso", 10, parse=viewstate.int_between(0, 100)),
            Control("s", "sectores", [], parse=viewstate.subset_of(["Oficial", "Privado"]))]


def test_view_state_restores_from_url_then_saved_copy_then_default():
    state = {}
    viewstate.restore(state, {"vista": "b", "clases": "5", "peso": "101", "sectores": "Privado,X,Privado"}, "p",
                      CONTROLS)
    assert state == {"v": "b", "k": 5, "w": 10, "s": ["Privado"]}  # out-of-range weight and unknown sector ignored
    assert viewstate.to_params(state, CONTROLS, dump={"s": ",".join}) == {
        "vista": "b", "clases": "5", "sectores": "Privado"}
    viewstate.save(state, "p", CONTROLS)
    # the user leaves the page: Streamlit forgets the widgets; the saved copy brings them back
    state = {"_saved_p": state["_saved_p"]}
    viewstate.restore(state, {"vista": "hostil'; DROP TABLE x"}, "p", CONTROLS)
    assert state["v"] == "b" and state["k"] == 5
    url = {"vista": "b", "peso": "7", "otro": "1"}
    viewstate.sync_url(url, {"clases": "5"}, CONTROLS)
    assert url == {"clases": "5", "otro": "1"}
