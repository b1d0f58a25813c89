"""Map building blocks: features, bounds and view, the offline compact deck, tooltips that show data as text."""
import json

import pandas as pd
import pytest

from core import geo
from tests import fixture_warehouse


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_feature_collection_and_offline_compact_deck(fixture):
    values = pd.DataFrame({"code": ["0201", "0101", "9999"], "name": ["Gamma", "Alfa", "?"],
                           "value": [1.5, float("nan"), 3.0], "fill": [[1, 2, 3, 4]] * 3})
    fc = geo.feature_collection("municipio", values, ["code", "name", "value", "fill"])
    assert [f["properties"]["code"] for f in fc["features"]] == ["0201", "0101"]  # unknown code skipped
    assert fc["features"][1]["properties"]["value"] is None                     # NaN -> null
    deck = geo.choropleth(fc, geo.view_state(geo.bounds("municipio")), "{name}", "municipios", selected="0101")
    text = deck.to_json()
    assert "\n" not in text and ", " not in text                                # compact
    spec = json.loads(text)
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec     # no basemap
    assert "http" not in text
    layer = spec["layers"][0]
    assert layer["id"] == "municipios" and layer["lineWidthUnits"] == "pixels" and layer["pickable"]
    widths = {f["properties"]["code"]: f["properties"]["line_width"] for f in layer["data"]["features"]}
    assert widths["0101"] > widths["0201"]                                       # selection outlined


def test_bounds_and_view_state(fixture):
    assert geo.bounds("municipio") == (0.0, 0.0, 1.0, 1.0)
    assert geo.bounds("municipio", ["nope"]) is None
    view = geo.view_state((-92.0, 13.7, -88.2, 17.8))
    assert (view.longitude, view.latitude) == (-90.1, 15.75)
    assert 5.5 < view.zoom < 7.5  # Guatemala fills a ~760 x 560 px map
    assert geo.view_state((-90.0, 14.0, -89.9, 14.1)).zoom > view.zoom + 4


def test_text_from_the_data_never_runs_in_a_map_tooltip(fixture):
    hostile = '<img src=x onerror=alert(1)> {code}'
    values = pd.DataFrame({"code": ["0101"], "name": [hostile], "value": [1.0]})
    fc = geo.feature_collection("municipio", values, ["code", "name", "value"])
    name = fc["features"][0]["properties"]["name"]
    assert "<" not in name and "{" not in name and name.startswith("&lt;img")
    template = geo.tooltip("name", ("<script>x</script> {value}", "value"), ("Clase", "class"))
    assert template == ("<b>{name}</b><br/>&lt;script&gt;x&lt;/script&gt; &#123;value&#125;: <b>{value}</b><br/>"
                        "Clase: <b>{class}</b>")
    points = geo.safe_records(pd.DataFrame({"name": [hostile], "n": [3]}))
    assert points["name"].iloc[0] == geo.safe_text(hostile) and points["n"].iloc[0] == 3
