"""The municipal priority index against hand computation."""
import math

import numpy as np
import pytest

from core import priority, rates, vaw
from core.filters import Filters
from tests import fixture_warehouse

ZERO = {c: 0 for c in ("hom", "vcm", "pat", "ten", "pobreza", "alfabetismo")}


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def weights(**w):
    return ZERO | w


def test_component_values_by_hand(fixture):
    raw, notes = priority.component_values(Filters())
    raw = raw.set_index("code")
    assert list(raw["hom_n"]) == [2, 0, 1]
    assert list(raw["vcm_n"]) == [2, 0, 1]       # women victims of violence against women
    assert list(raw["pat_n"]) == [1, 3, 1]       # robbery, theft, extortion (any sex)
    assert list(raw["ten_last"]) == [3, 2, 3]    # index crimes in 2021
    assert list(raw["ten_prev"]) == [2, 1, 0]    # ... and in 2020 (2019 is not in the data)
    assert list(raw["ten"]) == pytest.approx([math.log(4 / 3), math.log(3 / 2), math.log(4)])
    vcm = rates.by_municipality(Filters(crime_types=vaw.types(), sexes=("M",)))
    assert list(vcm["population"]) == pytest.approx([100_000, 50_000, 10_000])  # women only
    assert list(raw["vcm"]) == pytest.approx(list(vcm["rate_eb"]))
    assert notes == ()


def test_index_by_hand(fixture):
    r = priority.priority_index(Filters(), weights(ten=1, pobreza=1))
    t = r.table.set_index("code")
    # percentile ranks among the 3 municipalities of the country: ln(4/3) < ln(3/2) < ln(4)
    assert list(t["ten_s"]) == pytest.approx([0, 0.5, 1])
    assert list(t["pobreza_s"]) == pytest.approx([0, 1, 0.5])
    assert list(t["index"]) == pytest.approx([0, 75, 75])
    assert list(t["rank"]) == [3, 1, 1]  # a tie shares the best rank
    pts = t[[f"{c.key}_pts" for c in r.components]].sum(axis=1)
    assert list(pts) == pytest.approx(list(t["index"]))
    assert r.weights == {"ten": 0.5, "pobreza": 0.5}


def test_weights_change_the_ranking(fixture):
    def top(**w):
        return priority.priority_index(Filters(), weights(**w)).table.sort_values("rank")["code"].iloc[0]
    assert top(pobreza=1) == "0102"
    assert top(ten=1) == "0201"
    assert top(hom=1) == "0201"   # 5 per 100,000 raw; still the highest after smoothing
    assert top(pobreza=10, ten=1) == "0102"
    assert top(pobreza=1, ten=10) == "0201"


def test_missing_component_shares_its_weight(fixture):
    r = priority.priority_index(Filters(), weights(pobreza=1, alfabetismo=1))
    t = r.table.set_index("code")
    assert list(t["index"]) == pytest.approx([0, 100, 50])
    assert t.loc["0201", "missing"] == "Alfabetismo" and t.loc["0101", "missing"] == ""
    assert any("componentes disponibles" in n for n in r.notes)


def test_department_scope_and_fixed_definitions(fixture):
    north = priority.priority_index(Filters(dept_code="01"), weights(pobreza=1)).table
    assert list(north["code"]) == ["0101", "0102"]
    assert list(north["index"]) == pytest.approx([0, 100])  # percentiles among the country's three
    # crime, sex and age filters do not change the index
    a = priority.priority_index(Filters(), weights(hom=1, pat=2)).table["index"]
    b = priority.priority_index(Filters(sexes=("M",), crime_groups=("Drogas",)), weights(hom=1, pat=2)).table["index"]
    assert list(a) == pytest.approx(list(b))


def test_invalid_weights(fixture):
    with pytest.raises(ValueError, match="no negativos"):
        priority.priority_index(Filters(), weights(hom=-1))
    with pytest.raises(ValueError, match="mayor que cero"):
        priority.priority_index(Filters(), weights())


def test_default_weights_on_the_demo(demo):
    comps = priority.components()
    assert [c.key for c in comps[:4]] == ["hom", "vcm", "pat", "ten"]
    assert sum(c.default_weight for c in comps) == 100
    r = priority.priority_index(Filters())
    assert len(r.table) == 340 and r.table["index"].between(0, 100).all()
    assert sorted(r.table["rank"]) [0] == 1
    assert r.weights["hom"] == pytest.approx(0.25)


def test_one_outlier_does_not_compress_the_others(fixture):
    """Percentile scaling: the scaled values depend on the order of the raw values only."""
    r = priority.priority_index(Filters(), weights(pat=1)).table.set_index("code")
    order = r["pat"].rank(method="min")
    assert list(r["pat_s"]) == pytest.approx(list((order - 1) / 2))


def test_department_ranking_is_the_same_with_and_without_the_filter(demo):
    national = priority.priority_index(Filters()).table
    for dept in sorted(national["dept_code"].unique()):
        inside = priority.priority_index(Filters(dept_code=dept)).table
        expected = national[national["dept_code"] == dept].sort_values(["index", "code"], ascending=[False, True])
        got = inside.sort_values(["index", "code"], ascending=[False, True])
        assert list(got["code"]) == list(expected["code"]), dept
        assert list(got["index"]) == pytest.approx(list(expected["index"]))
        # ranks are among the municipalities shown: 1..k, in the national order
        assert list(got["rank"]) == list(expected["index"].rank(ascending=False, method="min").astype(int))


def test_rank_band_by_an_independent_loop(demo):
    """The band recomputed draw by draw with pandas, from the same random factors."""
    w = priority.default_weights()
    result = priority.priority_index(Filters(dept_code="03"), w)
    t = result.table
    keys = [c.key for c in result.components]
    rng = np.random.default_rng(priority.BAND_SEED)
    factors = rng.uniform(1 - priority.WEIGHT_SPREAD, 1 + priority.WEIGHT_SPREAD, size=(priority.BAND_DRAWS, len(keys)))
    ranks = []
    for draw in factors:
        weights_d = {k: w[k] * f for k, f in zip(keys, draw)}
        num = sum(t[f"{k}_s"].fillna(0) * weights_d[k] for k in keys)
        den = sum(t[f"{k}_s"].notna() * weights_d[k] for k in keys)
        ranks.append((num / den).rank(ascending=False, method="min").to_numpy())
    ranks = np.column_stack(ranks)
    assert list(t["rank_low"]) == list(np.percentile(ranks, 5, axis=1, method="lower").astype(int))
    assert list(t["rank_high"]) == list(np.percentile(ranks, 95, axis=1, method="higher").astype(int))
    assert (t["rank_low"] <= t["rank"]).all() and (t["rank"] <= t["rank_high"]).all()
    assert (t["rank_high"] > t["rank_low"]).any()  # the weights do move some municipalities
