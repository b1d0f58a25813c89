"""Weighted composite indices (core/composite.py), checked by hand."""
import numpy as np
import pandas as pd
import pytest

from core import composite


def test_minmax_scales_to_the_worst_and_keeps_missing_values():
    s = composite.minmax(pd.Series([10.0, 20.0, None, 30.0]))
    assert s.tolist()[:2] == [0.0, 0.5] and np.isnan(s.iloc[2]) and s.iloc[3] == 1.0
    assert composite.minmax(pd.Series([10.0, 30.0]), higher_is_worse=False).tolist() == [1.0, 0.0]
    assert composite.minmax(pd.Series([7.0, 7.0])).tolist() == [0.0, 0.0]  # no variation: no one is worse


def test_percentile_below_counts_the_others_strictly_lower():
    p = composite.percentile_below(pd.Series([5.0, 1.0, 5.0, None, 9.0]))
    # of the 3 others with a value: 1 is lower than 5 (1/3), none lower than 1, 3 lower than 9
    assert p.iloc[0] == pytest.approx(1 / 3) and p.iloc[1] == 0.0 and p.iloc[2] == pytest.approx(1 / 3)
    assert np.isnan(p.iloc[3]) and p.iloc[4] == 1.0


def test_weighted_points_share_a_missing_components_weight_among_the_others():
    scaled = {"a": np.array([1.0, 0.5, np.nan, np.nan]), "b": np.array([0.0, 1.0, 0.25, np.nan])}
    points, index = composite.weighted_points(scaled, {"a": 3.0, "b": 1.0})
    # row 0: 100·(3·1 + 1·0)/4 = 75; row 1: 100·(3·0.5 + 1·1)/4 = 62.5;
    # row 2 has only b, which takes the whole weight: 100·0.25 = 25; row 3 has nothing
    assert index[:3].tolist() == [75.0, 62.5, 25.0] and np.isnan(index[3])
    assert points["a"][0] == 75.0 and points["b"][1] == 25.0 and np.isnan(points["a"][2])


def test_equal_weights_give_the_mean_times_100_and_zero_weights_no_index():
    scaled = {"x": np.array([0.2, np.nan]), "y": np.array([0.6, 0.9]), "z": np.array([1.0, np.nan])}
    _, index = composite.weighted_points(scaled, dict.fromkeys(scaled, 1.0))
    assert index.tolist() == pytest.approx([60.0, 90.0])
    _, none = composite.weighted_points({"x": np.array([0.5])}, {"x": 0.0})
    assert np.isnan(none[0])
