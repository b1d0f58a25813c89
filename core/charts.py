"""What every Altair chart shares: field names Vega-Lite reads literally, and one palette policy.

Vega-Lite reads a dot, a bracket or a backslash in a field name as a path into nested data
(«Tasa por 100.000 hab» is field «000 hab» of «Tasa por 100»): the chart is empty. Charts are
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
    columns = 1 if len(domain) <= 12 else 2
    return alt.Color(f"{field}:N", title=title, sort=domain, scale=alt.Scale(domain=domain, range=colors),
                     legend=alt.Legend(labelLimit=0, symbolLimit=0, columns=columns, **legend))
