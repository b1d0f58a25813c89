"""What every Altair chart shares: field names Vega-Lite reads literally, and one palette policy.

Vega-Lite reads a dot, a bracket or a backslash in a field name as a path into nested data
(«Tasa por 100,000 hab» is field «000 hab» of «Tasa por 100»): the chart is empty. Charts are
therefore drawn from a copy whose columns are safe identifiers (``safe_fields``), and the human
labels go in titles and tooltips.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

# Distinct colours: Tableau 20 then Dark 2 and Set 1 (36 in all), so that up to 22 departments or
# 16 crime types never share a colour.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    "#bab0ac", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2",
    "#d7b5a6", "#79706e", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#666666", "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999",
)


@alt.theme.register("atalaya", enable=True)
def _theme() -> alt.theme.ThemeConfig:
    """Every chart fits the width of its box and takes the height it needs: with Streamlit's default
    («fit» both ways) a title with a subtitle, a long legend or 22 heatmap rows were squeezed into the
    declared height and cut or hidden. (Facets and concatenations set ``autosize=PAD`` themselves.)"""
    return {"autosize": {"type": "fit-x", "contains": "padding"}}


FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")  # the theme's, where a chart must say it
PAD = alt.AutoSizeParams(type="pad", contains="padding")  # for faceted charts: fit-x is for single views


def safe_fields(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A copy of ``df`` with columns named f0, f1...; and the map from each original column to its field."""
    fields = {column: f"f{i}" for i, column in enumerate(df.columns)}
    return df.rename(columns=fields), fields


def category_color(field: str, title: str, domain: list, **legend) -> alt.Color:
    """A colour per category, all distinct up to len(PALETTE), in the order given; the legend lists
    every category in full (never cut)."""
    colors = list(PALETTE[: max(len(domain), 1)])
    if len(domain) > len(PALETTE):  # more categories than colours: repeat, the legend still tells them apart
        colors = [PALETTE[i % len(PALETTE)] for i in range(len(domain))]
    if len(domain) > 10:  # a long legend goes under the chart, in columns, instead of overflowing its side
        legend.setdefault("orient", "bottom")
    columns = 1 if legend.get("orient", "right") in ("right", "left") else min(4, max(len(domain), 1))
    return alt.Color(f"{field}:N", title=title, sort=domain, scale=alt.Scale(domain=domain, range=colors),
                     legend=alt.Legend(labelLimit=0, symbolLimit=0, columns=columns, **legend))


SUBTITLE_CHARACTERS = 95  # a subtitle line of the default font fits a chart about 600 px wide


def subtitle_lines(text: str, width: int = SUBTITLE_CHARACTERS) -> list[str]:
    """A long subtitle (the source and the filters) as lines Vega draws whole, broken between the
    parts separated by « · » and, inside a part too long for a line, between words: a subtitle on one
    line is cut with «…» at the chart's width."""
    import textwrap

    lines: list[str] = []
    for part in text.split(" · "):
        pieces = textwrap.wrap(part, width) or [""]
        if lines and len(lines[-1]) + 3 + len(pieces[0]) <= width:
            lines[-1] += " · " + pieces.pop(0)
        lines.extend(pieces)
    return lines



def for_screen(chart):
    """A chart read from across a meeting room (presenter mode): larger title, axes and legend."""
    return (chart.configure_title(fontSize=22, subtitleFontSize=15)
            .configure_axis(labelFontSize=15, titleFontSize=16)
            .configure_legend(labelFontSize=15, titleFontSize=16, labelLimit=0))
