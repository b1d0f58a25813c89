"""Drawing a report: the Altair chart (safe field names, labels as titles) and its PNG/SVG image."""
from __future__ import annotations

import json
import math

import altair as alt

from core import charts, disclosure
from core.reports.query import Report
from core.reports.spec import DIMENSIONS, SpecError

# ---------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------

def chart(report: Report, fit_height: int | None = None) -> alt.Chart | None:
    """An Altair chart of the report (None for the table view). Drawn from a copy whose columns are
    safe field names (core.charts): the labels are titles. ``fit_height``: of the whole chart with its
    title (presenter mode: the screen less the presenter bar), instead of a height for its rows."""
    spec, data = report.spec, report.data
    if spec.chart == "table" or data.empty:
        return None
    cols = spec.columns()
    x_name = DIMENSIONS[spec.dims[0]].label
    order = list(dict.fromkeys(data[x_name]))
    hidden = disclosure.suppressed_columns(data)
    # A count read "<5" (public mode) is not drawn; the tooltip says "<5".
    y = report.value_label if report.value_label not in hidden else f"{report.value_label} (gráfico)"
    data = disclosure.as_text(data).assign(**{y: disclosure.numeric(data[report.value_label])})
    data, field = charts.safe_fields(data)

    def tip(name: str, number_format: str) -> alt.Tooltip:
        if name in hidden:
            return alt.Tooltip(f"{field[name]}:N", title=name)
        return alt.Tooltip(f"{field[name]}:Q", format=number_format, title=name)

    tooltip = [alt.Tooltip(f"{field[DIMENSIONS[c].label]}:N", title=DIMENSIONS[c].label) for c in cols] + [
        tip(report.value_label, ",.1f")]
    if report.value_label != spec.filters.unit_label:
        tooltip.append(tip(spec.filters.unit_label, ","))
    base = alt.Chart(data)
    second = DIMENSIONS[spec.dims[1]].label if len(spec.dims) == 2 else None
    x = alt.X(f"{field[x_name]}:N", sort=order, title=x_name, axis=alt.Axis(labelLimit=220))
    if spec.chart == "heatmap":
        assert second is not None  # validated: a heatmap has two dimensions
        ch = base.mark_rect().encode(
            x=x, y=alt.Y(f"{field[second]}:N", sort=list(dict.fromkeys(data[field[second]])), title=second,
                         axis=alt.Axis(labelLimit=0)),
            color=alt.Color(f"{field[y]}:Q", title=report.value_label, scale=alt.Scale(scheme="orangered"),
                            legend=alt.Legend(titleLimit=0)),
            tooltip=tooltip)
    else:
        mark = {"bar": "bar", "stacked": "bar", "line": "line", "area": "area"}[spec.chart]
        enc = dict(x=x, y=alt.Y(f"{field[y]}:Q", title=report.value_label), tooltip=tooltip)
        if second:
            series = list(dict.fromkeys(data[field[second]]))
            enc["color"] = charts.category_color(field[second], second, series)
            if spec.chart == "bar":
                enc["xOffset"] = alt.XOffset(f"{field[second]}:N", sort=series)
        if spec.chart == "area" and spec.measure in ("n", "share") and second:
            enc["y"] = alt.Y(f"{field[y]}:Q", title=report.value_label, stack=True)
        elif spec.chart in ("line", "area") or (spec.chart == "bar" and second):
            enc["y"] = alt.Y(f"{field[y]}:Q", title=report.value_label, stack=None)
        ch = getattr(base, f"mark_{mark}")(**({"point": True} if mark == "line" else {})).encode(**enc)
    # a heatmap gives each row of its second dimension the room of a label
    rows = data[field[second]].nunique() if spec.chart == "heatmap" and second else 0
    height = max(320 if not spec.facet else 200, 22 * rows)
    subtitle = charts.subtitle_lines(report.caption)
    if fit_height is not None:  # the plot gets what the title, its subtitle lines and the x axis leave
        room = fit_height - 40 - 20 * len(subtitle) - 90  # at the sizes of charts.for_screen
        if spec.facet:
            panel_rows = math.ceil(data[field[DIMENSIONS[spec.facet].label]].nunique() / 3)
            room = room // max(panel_rows, 1) - 30
        height = max(int(room), 160)
    ch = ch.properties(width="container" if not spec.facet else 260, height=height,
                       **({} if spec.facet else {"autosize": charts.FIT_WIDTH}),
                       title=alt.TitleParams(report.title, subtitle=subtitle, anchor="start"))
    if spec.facet:
        facet = DIMENSIONS[spec.facet].label
        ch = ch.facet(facet=alt.Facet(f"{field[facet]}:N", title=facet), columns=3).properties(
            title=alt.TitleParams(report.title, subtitle=subtitle, anchor="start"), autosize=charts.PAD)
    return ch


def chart_image(report: Report, fmt: str) -> bytes:
    """PNG or SVG of the chart, rendered offline with vl-convert."""
    import vl_convert as vlc

    ch = chart(report)
    if ch is None:
        raise SpecError("La vista de tabla no tiene gráfico.")
    spec = ch.to_dict()
    if spec.get("width") == "container":
        spec["width"] = 800
    if fmt == "png":
        return vlc.vegalite_to_png(json.dumps(spec), scale=2)
    if fmt == "svg":
        return vlc.vegalite_to_svg(json.dumps(spec)).encode()
    raise ValueError(fmt)
