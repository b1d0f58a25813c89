"""Hot spots (core/hotspots.py) against independent implementations written here with numpy:
the textbook formulas of Moran's I, local Moran and Gi*, conditional permutations drawn by this
test's own generator, and Benjamini–Hochberg as statsmodels computes it."""
import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from core import hotspots, rates, spatial, views
from core.filters import Filters


def _grid(rows: int, cols: int) -> np.ndarray:
    """Queen contiguity of a rows x cols grid of cells."""
    n = rows * cols
    adj = np.zeros((n, n))
    for r in range(rows):
        for c in range(cols):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr or dc) and 0 <= rr < rows and 0 <= cc < cols:
                        adj[r * cols + c, rr * cols + cc] = 1
    return adj


def _clustered(rows=8, cols=8, seed=3) -> np.ndarray:
    """Rates with a high corner and a low corner, plus noise."""
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return 20 + 15 * np.exp(-((r - 1) ** 2 + (c - 1) ** 2) / 4) - 10 * np.exp(-((r - 6) ** 2 + (c - 6) ** 2) / 4) \
        + rng.normal(0, 1.5, rows * cols)


def test_global_and_local_moran_and_gi_star_by_their_formulas():
    adj = _grid(8, 8)
    y = _clustered()
    table, moran = hotspots.statistics(y, adj, permutations=999)
    n = len(y)
    w = adj / adj.sum(axis=1, keepdims=True)
    z = y - y.mean()
    # global Moran's I with row-standardised weights (S0 = n)
    assert moran.i == pytest.approx((z @ w @ z) / (z @ z), rel=1e-12)
    assert moran.expected == pytest.approx(-1 / (n - 1))
    assert moran.p_value <= 0.01
    # local Moran: (n - 1) z_i (W z)_i / sum z^2; quadrant of (z_i, lag_i)
    lag = w @ z
    assert list(table["lisa_i"]) == pytest.approx(list((n - 1) * z * lag / (z @ z)), rel=1e-10)
    quadrant = np.where(z > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 2, 3))
    assert list(table["lisa_quadrant"]) == list(quadrant)
    # Gi* (Ord & Getis 1995): binary weights with the cell itself
    b = adj + np.eye(n)
    s = np.sqrt((y ** 2).mean() - y.mean() ** 2)
    wi, s1 = b.sum(axis=1), (b ** 2).sum(axis=1)
    gi = (b @ y - y.mean() * wi) / (s * np.sqrt((n * s1 - wi ** 2) / (n - 1)))
    assert list(table["gi_z"]) == pytest.approx(list(gi), rel=1e-10)
    # the high corner is a hot spot, the low corner a cold spot
    assert table.loc[9, "lisa_class"] == "Alto-Alto" and table.loc[9, "gi_class"] == "Punto caliente"
    assert table.loc[54, "lisa_class"] == "Bajo-Bajo" and table.loc[54, "gi_class"] == "Punto frío"


def test_conditional_permutation_p_values_by_an_independent_simulation():
    """For each cell: its value fixed, its k neighbours drawn at random among the other cells; the
    pseudo p-value (M + 1) / (P + 1) counts draws at least as extreme in the direction observed, and
    is doubled (two-sided)."""
    adj = _grid(8, 8)
    y = _clustered()
    table, _ = hotspots.statistics(y, adj)   # 9,999 permutations, the module's seed
    n, draws = len(y), 4_000
    rng = np.random.default_rng(7)
    z = (y - y.mean()) / y.std()
    for i in (0, 9, 27, 36, 54, 63):
        k = int(adj[i].sum())
        others = np.delete(np.arange(n), i)
        picks = np.array([rng.choice(others, size=k, replace=False) for _ in range(draws)])
        # local Moran: lag = mean of the drawn neighbours' z
        observed = z[i] * z[adj[i] > 0].mean()
        simulated = z[i] * z[picks].mean(axis=1)
        extreme = (simulated >= observed).sum() if observed >= np.median(simulated) else (simulated <= observed).sum()
        p = min(1.0, 2 * (extreme + 1) / (draws + 1))  # the tail observed, doubled: two-sided
        assert table.loc[i, "lisa_p"] == pytest.approx(p, abs=0.04 + 0.1 * p), i
        # Gi*: the cell plus its drawn neighbours
        observed_g = y[i] + y[adj[i] > 0].sum()
        simulated_g = y[i] + y[picks].sum(axis=1)
        extreme_g = (simulated_g >= observed_g).sum() if observed_g >= np.median(simulated_g) else (simulated_g <= observed_g).sum()
        p_g = min(1.0, 2 * (extreme_g + 1) / (draws + 1))
        assert table.loc[i, "gi_p"] == pytest.approx(p_g, abs=0.04 + 0.1 * p_g), i


def test_benjamini_hochberg_equals_statsmodels():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216, np.nan])
    q = hotspots.benjamini_hochberg(p)
    expected = multipletests(p[:-1], method="fdr_bh")[1]
    assert list(q[:-1]) == pytest.approx(list(expected))
    assert np.isnan(q[-1])


def test_benjamini_hochberg_over_part_of_the_tests():
    """Given only the smallest p-values and the number of tests, the q-values are those of the whole
    family with the others at p = 1 (statsmodels over the whole family)."""
    rng = np.random.default_rng(3)
    small = rng.uniform(0, 0.02, 12)
    whole = np.concatenate([small, np.ones(300)])
    expected = multipletests(whole, method="fdr_bh")[1][:12]
    assert list(hotspots.benjamini_hochberg(small, tests=len(whole))) == pytest.approx(list(expected))


def test_only_significant_after_the_correction_are_marked():
    adj = _grid(8, 8)
    table, _ = hotspots.statistics(_clustered(), adj, permutations=999)
    marked = table["lisa_class"] != hotspots.NOT_SIGNIFICANT
    assert (table.loc[marked, "lisa_q"] <= hotspots.FDR).all()
    assert (table.loc[~marked, "lisa_q"] > hotspots.FDR).all()
    # more cells pass p <= 0.05 than survive the correction
    assert (table["lisa_p"] <= 0.05).sum() >= marked.sum()


def test_no_pattern_gives_few_marks_and_islands_are_left_out():
    adj = _grid(10, 10)
    adj[0, :] = adj[:, 0] = 0  # cell 0 becomes an island
    y = np.random.default_rng(11).normal(20, 3, 100)
    table, moran = hotspots.statistics(y, adj, permutations=999)
    assert table.loc[0, "lisa_class"] == hotspots.NO_NEIGHBOURS and np.isnan(table.loc[0, "gi_z"])
    assert moran.n == 99 and moran.p_value > 0.05
    assert (table["lisa_class"].isin(["Alto-Alto", "Bajo-Bajo", "Alto entre bajos", "Bajo entre altos"])).sum() <= 3


def test_demo_hot_spots_use_the_national_smoothed_rates(demo):
    found = hotspots.hotspots(Filters(crime_types=("homicidio",)))
    table = rates.by_municipality(Filters(crime_types=("homicidio",)))
    assert list(found.table["code"]) == list(table["code"])
    again, moran = hotspots.statistics(table["rate_eb"], spatial.adjacency(table["code"]))
    assert list(found.table["lisa_class"]) == list(again["lisa_class"])
    assert found.moran == moran and found.moran.i > 0.2  # the demo's rates are spatially structured
    assert (found.table["lisa_class"] == "Alto-Alto").sum() > 0
    # the department filter narrows nothing: the analysis is national
    inside = hotspots.hotspots(Filters(crime_types=("homicidio",), dept_code="01"))
    assert inside.table.equals(found.table)
    assert "I de Moran global" in hotspots.moran_text(found.moran)


def test_global_moran_is_reproducible():
    adj = _grid(8, 8)
    _, first = hotspots.statistics(_clustered(), adj, permutations=999)
    state = np.random.get_state()
    _, second = hotspots.statistics(_clustered(), adj, permutations=999)
    assert first == second
    assert np.array_equal(np.random.get_state()[1], state[1])  # numpy's global generator is left as it was


def test_public_mode_leaves_reserved_municipalities_out(demo, public_mode):
    f = Filters(crime_types=("femicidio",), year_from=2021, year_to=2021)
    found = hotspots.hotspots(f).table
    shown = views.municipalities(f)
    reserved = set(shown.loc[views.is_suppressed(shown["n"]), "code"])
    assert reserved
    marked = set(found.loc[found["lisa_class"] == hotspots.RESERVED, "code"])
    assert marked == reserved
    # the analysis of the others does not use the reserved counts: the same as with them left out by hand
    table = rates.by_municipality(f)
    values = np.where(table["code"].isin(reserved), np.nan, table["rate_eb"])
    again, _ = hotspots.statistics(values, spatial.adjacency(table["code"]))
    others = ~table["code"].isin(reserved)
    assert list(found.loc[others.to_numpy(), "lisa_p"]) == pytest.approx(list(again.loc[others.to_numpy(), "lisa_p"]),
                                                                          nan_ok=True)
