"""The municipal priority index against hand computation."""
import math

import pytest

from core import priority, rates
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
    vcm = rates.by_municipality(Filters(crime_types=priority.VAW_TYPES, sexes=("M",)))
    assert list(vcm["population"]) == pytest.approx([100_000, 50_000, 10_000])  # women only
    assert list(raw["vcm"]) == pytest.approx(list(vcm["rate_eb"]))
    assert notes == ()


def test_index_by_hand(fixture):
    r = priority.priority_index(Filters(), weights(ten=1, pobreza=1))
    t = r.table.set_index("code")
    s_ten = (math.log(3 / 2) - math.log(4 / 3)) / (math.log(4) - math.log(4 / 3))
    assert list(t["ten_s"]) == pytest.approx([0, s_ten, 1])
    assert list(t["pobreza_s"]) == pytest.approx([0, 1, 0.5])
    assert list(t["index"]) == pytest.approx([0, 100 * (s_ten + 1) / 2, 75])
    assert list(t["rank"]) == [3, 2, 1]
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
    assert list(north["index"]) == pytest.approx([0, 100])  # min-max within the department
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
