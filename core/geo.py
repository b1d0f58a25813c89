"""Territory geometry for maps: compact GeoJSON features, bounding boxes, view state and an
offline pydeck map (no basemap, zero external requests).

The display geometries are simplified and rounded at load time (core/load/geography.py),
so a national layer stays under NATIONAL_VERTEX_BUDGET (4,000) vertices.
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from core import warehouse

LEVELS = ("departamento", "municipio", "aldea")
MAP_HEIGHT = 560
MAP_WIDTH = 760  # typical width of the map column in pixels, to choose the zoom

LINE_COLOR = [90, 90, 90, 200]
SELECTED_LINE_COLOR = [20, 20, 20, 255]


class CompactDeck(pdk.Deck):
    """pydeck serialises with two-space indentation (about 5x bigger); send compact JSON."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


@warehouse.cached
def shapes(level: str) -> pd.DataFrame:
    """Display geometry of every territory of a level.

    Columns: code, name, parent_code, dept_code, centroid_lon, centroid_lat, geometry (GeoJSON
    dict), minx, miny, maxx, maxy (bounding box).
    """
    if level not in LEVELS:
        raise ValueError(f"nivel territorial desconocido: {level!r}")
    df = warehouse.query("""
        SELECT code, name, parent_code, dept_code, centroid_lon, centroid_lat, geojson
        FROM territory WHERE level = ? AND geojson IS NOT NULL ORDER BY code
    """, [level])
    text = df.pop("geojson")
    box = shapely.bounds(shapely.from_geojson(text.to_numpy())) if len(df) else np.empty((0, 4))
    df["minx"], df["miny"], df["maxx"], df["maxy"] = box[:, 0], box[:, 1], box[:, 2], box[:, 3]
    df["geometry"] = [json.loads(g) for g in text]
    return df


def bounds(level: str, codes: Iterable[str] | None = None) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of the given territories (all of the level if None)."""
    b = shapes(level)
    if codes is not None:
        b = b[b["code"].isin(list(codes))]
    if b.empty or b[["minx", "miny"]].isna().all().all():
        return None
    return float(b["minx"].min()), float(b["miny"].min()), float(b["maxx"].max()), float(b["maxy"].max())


def view_state(box: tuple[float, float, float, float] | None, width: int = MAP_WIDTH,
               height: int = MAP_HEIGHT) -> pdk.ViewState:
    """A view centred on the box, zoomed so that it fits the map (Web Mercator)."""
    if box is None:
        return pdk.ViewState(longitude=0, latitude=0, zoom=1)
    minx, miny, maxx, maxy = box
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2

    def merc_y(phi: float) -> float:
        phi = max(min(phi, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(phi) / 2))

    span_x = max(maxx - minx, 1e-4) / 360
    span_y = max(merc_y(maxy) - merc_y(miny), 1e-6) / (2 * math.pi)
    zoom = min(math.log2(width * 0.9 / 512 / span_x), math.log2(height * 0.9 / 512 / span_y))
    return pdk.ViewState(longitude=round(lon, 4), latitude=round(lat, 4), zoom=round(max(min(zoom, 16), 1), 2))


def feature_collection(level: str, values: pd.DataFrame, properties: Sequence[str]) -> dict:
    """GeoJSON FeatureCollection of the territories of ``level`` present in ``values``.

    ``values`` has a ``code`` column and the ``properties`` columns (plain JSON values; NaN
    becomes null; text HTML-escaped for the tooltip). Features keep the order of ``values``.
    """
    geom = shapes(level).set_index("code")["geometry"]
    rows = values[["code", *[p for p in properties if p != "code"]]]
    features = []
    for record in rows.to_dict("records"):
        g = geom.get(record["code"])
        if g is None:
            continue
        features.append({"type": "Feature", "geometry": g,
                         "properties": {k: _json_value(v) for k, v in record.items()}})
    return {"type": "FeatureCollection", "features": features}


def safe_text(value) -> str:
    """Text from the data or the configuration as it may enter a map tooltip: HTML-escaped, and
    braces neutralised (deck.gl fills «{field}» in the template with the feature's value)."""
    return html.escape(str(value)).replace("{", "&#123;").replace("}", "&#125;")


def safe_records(df: pd.DataFrame) -> pd.DataFrame:
    """The text columns of a layer's data made safe for the tooltip (safe_text)."""
    text = [c for c in df.columns if (df[c].dtype == object or pd.api.types.is_string_dtype(df[c]))
            and df[c].map(lambda v: isinstance(v, str)).any()]
    return df.assign(**{c: df[c].map(lambda v: safe_text(v) if isinstance(v, str) else v) for c in text})


def tooltip(*lines: str | tuple[str, str]) -> str:
    """The tooltip template of a map: each line a property (``"name"``) or a label and a property
    (``("Clase", "class")``); the first line in bold. Labels are escaped here and the properties
    by feature_collection / safe_records: no text from the data or the configuration runs as HTML."""
    out = []
    for i, line in enumerate(lines):
        label, field = line if isinstance(line, tuple) else (None, line)
        value = f"<b>{{{field}}}</b>" if i == 0 or label else f"{{{field}}}"
        out.append(f"{safe_text(label)}: {value}" if label else value)
    return "<br/>".join(out)


def _json_value(v):
    if v is None:
        return None
    if isinstance(v, str):
        return safe_text(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def choropleth(collection: Mapping, view: pdk.ViewState, tooltip_html: str, layer_id: str,
               selected: str | None = None, extra_layers: Sequence[pdk.Layer] = ()) -> CompactDeck:
    """An offline map: polygons filled with ``properties.fill`` ([r, g, b, a]), thin borders and a
    thick one around the ``selected`` code, no basemap (``map_provider=None``: zero external
    requests)."""
    for feature in collection["features"]:
        is_selected = feature["properties"].get("code") == selected
        feature["properties"]["line"] = SELECTED_LINE_COLOR if is_selected else LINE_COLOR
        feature["properties"]["line_width"] = 3 if is_selected else 0.6
    layers = [pdk.Layer(
        "GeoJsonLayer", data=collection, id=layer_id, pickable=True, stroked=True, filled=True,
        get_fill_color="properties.fill", get_line_color="properties.line", get_line_width="properties.line_width",
        line_width_units=pdk.types.String("pixels"), auto_highlight=True, highlight_color=[255, 255, 255, 90],
    ), *extra_layers]
    return CompactDeck(
        # map_provider=None and the default map_style: no basemap at all (map_style=None would make
        # Streamlit fetch its default CARTO basemap from the internet)
        layers=layers, initial_view_state=view, map_provider=None,
        tooltip={"html": tooltip_html, "style": {"fontSize": "13px", "backgroundColor": "#1f2430", "color": "white"}},
    )


def cells_layer(cells: pd.DataFrame, layer_id: str, cell_deg: float) -> pdk.Layer:
    """Circles at the centres of aggregation cells (columns lon, lat, n, and name and value_label
    for the tooltip), area proportional to the count, the largest about as wide as a cell. Never
    used for single records."""
    data = cells.copy()
    largest = max(float(data["n"].max()), 1.0) if len(data) else 1.0
    half_cell_m = cell_deg * 111_320 / 2
    data["radius"] = np.sqrt(data["n"] / largest) * half_cell_m
    return pdk.Layer("ScatterplotLayer", data=safe_records(data[["lon", "lat", "n", "radius", "name", "value_label"]]),
                     id=layer_id, get_position="[lon, lat]", get_radius="radius", radius_units=pdk.types.String("meters"),
                     radius_min_pixels=2, get_fill_color=[33, 33, 33, 150], get_line_color=[255, 255, 255, 200],
                     stroked=True, line_width_min_pixels=1, pickable=True)


def centre(level: str, code: str) -> tuple[float, float]:
    """(lon, lat) of a territory's centroid, rounded like the view state."""
    row = shapes(level).set_index("code").loc[code]
    return round(float(row["centroid_lon"]), 4), round(float(row["centroid_lat"]), 4)


def _label_text(value) -> str:
    # drawn on the canvas (never HTML); a value that deck.gl's JSON would read as an expression
    # («@@=...») is kept as text by a zero-width space before it
    text = str(value)
    return "\u200b" + text if text.startswith("@@") else text


def label_points(level: str, table: pd.DataFrame, name: str, value: str | None = None) -> pd.DataFrame:
    """Where to write the name (and value) of each territory of ``table`` (its ``code`` column): lon,
    lat (the centroid) and text «name value»."""
    where = shapes(level)[["code", "centroid_lon", "centroid_lat"]]
    rows = table.merge(where, on="code", how="inner").dropna(subset=["centroid_lon", "centroid_lat"])
    text = [_label_text(n if value is None else f"{n} {v}") for n, v in
            zip(rows[name], rows[value] if value is not None else rows[name])]
    return pd.DataFrame({"lon": rows["centroid_lon"].astype(float), "lat": rows["centroid_lat"].astype(float),
                         "text": text})


def _mercator(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates at ``zoom`` (deck.gl's: 512 px for the world at zoom 0)."""
    scale = 512 * 2 ** zoom
    phi = math.radians(max(min(lat, 85.0), -85.0))
    return (lon + 180) / 360 * scale, (1 - math.log(math.tan(math.pi / 4 + phi / 2)) / math.pi) / 2 * scale


def place_labels(points: pd.DataFrame, view: pdk.ViewState, width: int, height: int, size: int) -> pd.DataFrame:
    """The labels that fit the map of ``width`` x ``height`` pixels at ``view`` without covering one
    another, in the order of ``points`` (the first are placed first): each is tried on its point,
    above, below, right and left of it, and left out when none of these is free. Adds ``offset``
    ([dx, dy] pixels). Estimated boxes (bold sans-serif about 0.6 em per character)."""
    cx, cy = _mercator(view.longitude, view.latitude, view.zoom)
    placed: list[tuple[float, float, float, float]] = []
    keep, offsets = [], []
    for i, row in enumerate(points.itertuples(index=False)):
        x, y = _mercator(row.lon, row.lat, view.zoom)
        x, y = x - cx + width / 2, y - cy + height / 2
        w, h = 0.6 * size * len(row.text) + 10, size * 1.25 + 6
        for dx, dy in ((0, 0), (0, -h), (0, h), (w / 2 + 6, 0), (-w / 2 - 6, 0)):
            box = (x + dx - w / 2, y + dy - h / 2, x + dx + w / 2, y + dy + h / 2)
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                placed.append(box)
                keep.append(i)
                offsets.append([round(dx), round(dy)])
                break
    out = points.iloc[keep].copy()
    out["offset"] = offsets
    return out


def labels_layer(points: pd.DataFrame, layer_id: str, size: int = 13) -> pdk.Layer:
    """Names on the map (label_points, placed by place_labels), dark on a light box so they read on
    every class colour. The characters are those of the names (accents, ñ) and the font a local one:
    nothing is fetched."""
    data = points.assign(offset=points["offset"] if "offset" in points else [[0, 0]] * len(points))
    return pdk.Layer("TextLayer", data=data[["lon", "lat", "text", "offset"]], id=layer_id, get_position="[lon, lat]",
                     get_text="text", get_size=size, get_color=[20, 20, 20, 255], get_pixel_offset="offset",
                     character_set=pdk.types.String("auto"),
                     font_family=pdk.types.String("Arial, Helvetica, sans-serif"), font_weight=600,
                     background=True, get_background_color=[255, 255, 255, 215], background_padding=[4, 2, 4, 2],
                     pickable=False)
