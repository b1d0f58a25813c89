"""Presentations (core/presentation.py) and the placing of names on a map (core/geo.py)."""
from __future__ import annotations

import base64
import zlib

import pandas as pd
import pydeck as pdk
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import geo, presentation
from core.presentation import PresentationError, Slide

PAGES = ["resumen", "mapa", "informes", "comparar"]


def test_links_as_copied_from_the_address_bar_become_slides():
    slides, errors = presentation.parse(
        "# comentario\n"
        "http://192.168.1.20:8501/mapa?vista=prioridad&muni=0101&presentar=1&diapo=3\n"
        "\n"
        "/informes?informe=abc\n"
        "comparar?vista=territorios\n"
        "https://observatorio.gob/tablero/?desde=2020&hasta=2022\n", PAGES, "resumen")
    assert errors == []
    assert slides == [
        Slide("mapa", (("vista", "prioridad"), ("muni", "0101"))),  # presenter parameters dropped, host not kept
        Slide("informes", (("informe", "abc"),)),
        Slide("comparar", (("vista", "territorios"),)),
        Slide("resumen", (("desde", "2020"), ("hasta", "2022"))),  # the root is the first page
    ]
    assert slides[0].link() == "/mapa?vista=prioridad&muni=0101"


def test_a_line_that_is_not_a_view_of_this_dashboard_is_named_with_its_number():
    slides, errors = presentation.parse("/mapa\n/tablero-viejo?x=1\nftp://servidor/mapa\n", PAGES, "resumen")
    assert slides == [Slide("mapa", ())]
    assert errors[0].startswith("Línea 2: la página «tablero-viejo» no existe en este tablero")
    assert "mapa" in errors[0] and "informes" in errors[0]  # the pages that do exist
    assert errors[1].startswith("Línea 3:") and "http://" in errors[1]


def test_too_many_views_keeps_the_first_and_says_so():
    slides, errors = presentation.parse("\n".join(f"/mapa?muni={i:04d}" for i in range(50)), PAGES, "resumen")
    assert len(slides) == presentation.MAX_SLIDES
    assert slides[-1].params == (("muni", f"{presentation.MAX_SLIDES - 1:04d}"),)
    assert errors == [f"La presentación tiene 50 vistas; se usan las primeras {presentation.MAX_SLIDES}."]


def test_the_file_of_a_presentation_reads_back():
    slides = [Slide("mapa", (("medida", "n"),)), Slide("resumen", ()), Slide("informes", (("informe", "x y"),))]
    text = presentation.to_text(slides)
    assert text.splitlines()[0].startswith("#")
    assert presentation.parse(text, PAGES, "resumen") == (slides, [])


@given(st.lists(st.tuples(st.sampled_from(PAGES), st.lists(st.tuples(
    st.text("abcdefghij_", min_size=1, max_size=8).filter(lambda k: k not in presentation.PRESENTER_PARAMS),
    st.text(min_size=1, max_size=30)), max_size=4)), min_size=1, max_size=12))
def test_packed_presentations_unpack_to_the_same_slides(raw):
    slides = [Slide(page, tuple(params)) for page, params in raw]
    token = presentation.encode(slides)
    assert all(c.isalnum() or c in "-_" for c in token)  # a URL parameter as it is
    assert presentation.decode(token, PAGES, "resumen") == [
        presentation.parse_link(s.link(), PAGES, "resumen") for s in slides]


def test_a_cut_edited_or_oversized_packed_presentation_is_refused_with_a_message():
    token = presentation.encode([Slide("mapa", ()), Slide("informes", ())])
    for bad in (token[:-6], token[:5] + "!!" + token[7:], "", "%%%"):
        with pytest.raises(PresentationError, match="dirección"):
            presentation.decode(bad, PAGES, "resumen")
    bomb = base64.urlsafe_b64encode(zlib.compress(b"/mapa\n" * 200_000)).decode()
    with pytest.raises(PresentationError, match="demasiado grande"):
        presentation.decode(bomb, PAGES, "resumen")
    other_site = presentation.encode([Slide("ajena", ())])
    with pytest.raises(PresentationError, match="ajena"):
        presentation.decode(other_site, PAGES, "resumen")


def test_slide_parameters_carry_the_whole_presentation_and_the_position():
    slides = [Slide("mapa", (("medida", "n"),)), Slide("informes", ())]
    params = presentation.slide_params(slides, 1)
    assert params[presentation.P_PRESENT] == "1" and params[presentation.P_SLIDE] == "2"
    assert presentation.decode(params[presentation.P_DECK], PAGES, "resumen") == slides
    first = presentation.slide_params(slides, 0)
    assert first["medida"] == "n"
    assert presentation.is_on(first) and presentation.is_on({"presentar": ["0", "1"]})
    assert not presentation.is_on({}) and not presentation.is_on({"presentar": "0"})
    assert presentation.without_presenter(first) == {"medida": "n"}
    assert [presentation.current({"diapo": v}, 2) for v in ("1", "2", "9", "0", "x")] == [0, 1, 1, 0, 0]
    assert presentation.current({}, 0) == 0


def _boxes(placed: pd.DataFrame, view: pdk.ViewState, width: int, height: int, size: int):
    cx, cy = geo._mercator(view.longitude, view.latitude, view.zoom)
    for row in placed.itertuples(index=False):
        x, y = geo._mercator(row.lon, row.lat, view.zoom)
        x, y = x - cx + width / 2 + row.offset[0], y - cy + height / 2 + row.offset[1]
        w, h = 0.6 * size * len(row.text) + 10, size * 1.25 + 6
        yield x - w / 2, y - h / 2, x + w / 2, y + h / 2


def test_names_placed_on_the_map_never_cover_one_another_and_stay_inside():
    view = pdk.ViewState(longitude=-90.0, latitude=15.0, zoom=7)
    # twelve names around one point (a capital's suburbs), and one far away
    points = pd.DataFrame({"lon": [-90.5 + 0.01 * i for i in range(12)] + [-88.5],
                           "lat": [14.6] * 12 + [15.8],
                           "text": [f"Municipio {i} 123.4" for i in range(12)] + ["Lejano 5.0"]})
    placed = geo.place_labels(points, view, 900, 600, 15)
    assert placed["text"].iloc[0] == "Municipio 0 123.4"  # the first (the selected one) always placed first
    assert "Lejano 5.0" in set(placed["text"])
    assert 3 <= len(placed) < len(points)  # some placed around the point, the rest left out
    boxes = list(_boxes(placed, view, 900, 600, 15))
    for i, a in enumerate(boxes):
        assert a[0] >= 0 and a[1] >= 0 and a[2] <= 900 and a[3] <= 600
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    outside = pd.DataFrame({"lon": [-80.0], "lat": [15.0], "text": ["Fuera"]})
    assert geo.place_labels(outside, view, 900, 600, 15).empty


def test_a_name_deck_gl_would_read_as_an_expression_is_kept_as_text():
    assert geo._label_text("@@=properties.x") == "\u200b@@=properties.x"
    assert geo._label_text("San Pedro") == "San Pedro"
