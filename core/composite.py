"""Weighted composite indices: how the municipal priority index, the school risk score and the
vulnerability index turn components measured in different units into one 0-100 figure.

Each component is first scaled to 0..1 (1 = worst): ``minmax`` over a reference set of
territories, or ``percentile_below`` (the share of the others that are lower). The index of a row is then

    100 × Σ_c w_c · s_c / Σ_c w_c   over the components c that row has a value for,

so that a missing component's weight is shared among the others instead of counting as 0
(``weighted_points``). The vulnerability index is the case of equal weights: the mean of its
scaled indicators × 100.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def minmax(x: pd.Series, higher_is_worse: bool = True) -> pd.Series:
    """Scale to 0..1 over the values present (1 = worst); a constant series scales to 0."""
    x = pd.to_numeric(x, errors="coerce").astype("float64")
    lo, hi = x.min(), x.max()
    if not np.isfinite(lo) or hi == lo:
        scaled = x * 0.0
    else:
        scaled = (x - lo) / (hi - lo)
    return scaled if higher_is_worse else 1.0 - scaled


def percentile_below(x: pd.Series) -> pd.Series:
    """Share of the other values that are strictly lower (0..1); NaN stays NaN; ties share the lowest."""
    valid = x.notna().sum()
    if valid <= 1:
        return x.where(x.isna(), 0.0)
    return (x.rank(method="min") - 1) / (valid - 1)


def weighted_points(scaled: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(points of each component, index) of every row: points_c = 100 · w_c · s_c / (sum of the weights
    of the components the row has), index = the sum of its points; NaN where the row has no component
    with a positive weight. ``scaled`` holds each component's 0..1 values (NaN = no value)."""
    keys = list(scaled)
    rows = len(next(iter(scaled.values()))) if keys else 0
    present = np.zeros(rows)
    for key in keys:
        present += np.where(np.isnan(scaled[key]), 0.0, weights[key])
    points: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        shared = np.where(present > 0, present, np.nan)
        for key in keys:
            points[key] = 100 * weights[key] * scaled[key] / shared
    if not keys:
        return points, np.full(rows, np.nan)
    stacked = np.column_stack([points[k] for k in keys])
    return points, np.where(np.isnan(stacked).all(axis=1), np.nan, np.nansum(stacked, axis=1))


def rank_band(scaled: Mapping[str, np.ndarray], weights: Mapping[str, float], spread: float, draws: int,
              seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(5th, 95th percentile) of each row's rank (1 = highest index, ties share the best) when every
    weight is multiplied by an independent uniform factor in [1 - spread, 1 + spread], over ``draws``
    draws with a fixed seed; the index is that of ``weighted_points``. Rows without an index get -1."""
    keys = list(scaled)
    rows = len(next(iter(scaled.values()))) if keys else 0
    if not rows:
        return np.zeros(0, int), np.zeros(0, int)
    s = np.column_stack([scaled[k] for k in keys])
    present = ~np.isnan(s)
    base = np.array([weights[k] for k in keys], dtype="float64")
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, size=(draws, len(keys)))
    w = factors * base[None, :]                                   # draws x components
    with np.errstate(invalid="ignore", divide="ignore"):
        index = (np.nan_to_num(s) @ w.T) / (present @ w.T)         # rows x draws
    index = np.where(np.isnan(index), -np.inf, index)
    # rank of each row in each draw: 1 + the number of rows with a strictly higher index
    order = np.sort(index, axis=0)
    ranks = rows - np.stack([np.searchsorted(order[:, d], index[:, d], side="right") for d in range(draws)], axis=1) + 1
    low = np.percentile(ranks, 5, axis=1, method="lower")
    high = np.percentile(ranks, 95, axis=1, method="higher")
    missing = ~present.any(axis=1) | (present @ base == 0)
    return np.where(missing, -1, low).astype(int), np.where(missing, -1, high).astype(int)
