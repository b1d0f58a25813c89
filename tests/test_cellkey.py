"""The cell-key adjustment: its table, and that the warehouse carries the keys it needs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import cellkey, disclosure, rates, warehouse
from core.filters import Filters


@given(st.integers(0, 10_000), st.integers(0, 2**40))
def test_adjustment_is_bounded_keeps_zero_and_never_makes_a_zero(n, ck):
    published = int(cellkey.perturb(n, ck))
    assert abs(published - n) <= cellkey.MAX_ADJUSTMENT
    assert (published == 0) == (n == 0)


def test_the_same_key_modulo_256_gives_the_same_adjustment():
    n = np.arange(0, 50)
    assert (cellkey.perturb(n, 7) == cellkey.perturb(n, 7 + 256 * 1000)).all()


def test_noise_of_larger_counts_is_centred_and_small():
    dist = cellkey.noise_distribution(100)
    assert sum(dist.values()) == pytest.approx(1)
    assert sum(v * p for v, p in dist.items()) == pytest.approx(0)
    assert sum(v * v * p for v, p in dist.items()) == pytest.approx(1.234, abs=0.01)
    assert dist[0] == pytest.approx(92 / 256)
    assert cellkey.noise_distribution(4) == dist
    assert min(cellkey.noise_distribution(1)) == 0  # a single victim is never published as 0


def test_keys_spread_over_every_adjustment(demo, public_mode):
    """The record keys of the demo give cell keys spread over 0..255 (a constant key would
    make every cell move the same way)."""
    keys = warehouse.query("SELECT ck % 256 AS k FROM incident_year_cube")["k"]
    counts = np.bincount(keys, minlength=256)
    assert counts.min() > 0.5 * counts.mean()


def test_public_figures_are_the_warehouse_counts_plus_the_table(demo, public_mode):
    """Reproducible by hand: n and ck from the cube, the adjustment from the table."""
    row = warehouse.query("SELECT sum(n) AS n, sum(ck) AS ck FROM incident_year_cube "
                          "WHERE counted AND unit = 'victimas' AND year = 2020").iloc[0]
    f = Filters(year_from=2020, year_to=2020)
    expected = int(row["n"]) + int(cellkey.LARGE[int(row["ck"]) % 256])
    assert rates.total_count(f) == expected
    assert disclosure.published_count(row["n"], row["ck"]) == expected


def test_internal_mode_is_exact(demo):
    row = warehouse.query("SELECT sum(n) AS n FROM incident_year_cube WHERE counted AND unit = 'victimas' "
                          "AND year = 2020").iloc[0]
    assert rates.total_count(Filters(year_from=2020, year_to=2020)) == int(row["n"])


def test_methodology_states_the_table_and_the_measured_information_loss(demo, public_mode):
    from tests.apptest import run_app

    loss = disclosure.information_loss().set_index("level")
    assert list(loss["cells"]) and (loss["cells"] > 100).all()
    assert loss["altered_pct"].between(40, 80).all()   # about 64 % of counts of 4 or more move, fewer of 1 or 2
    assert (loss["mean_abs"] < 1.2).all()
    municipal = loss.loc[loss.index.str.startswith("Municipal")].iloc[0]
    assert 0 < municipal["hidden_pct"] < 50
    at = run_app(page="metodologia")
    assert not at.exception
    tables = [t.value for t in at.dataframe]
    shown = next(t for t in tables if "% ajustadas" in t.columns)
    assert len(shown) == 2
    adjustments = next(t for t in tables if "Cifra exacta" in t.columns)
    assert list(adjustments["Cifra exacta"]) == ["1", "2", "3", "4 o más"]
    assert adjustments.drop(columns="Cifra exacta").sum(axis=1).between(99.8, 100.2).all()  # rounded to 0.1
