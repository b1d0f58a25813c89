"""Comparisons: two periods for every municipality (checked by hand on the fixture, with an
independent binomial test) and two territories, in both modes."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from core import comparison
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import run_app


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_two_periods_by_hand(fixture):
    """Counted victims: Alfa 2 then 3, Beta 1 then 2, Gamma 0 then 3; population 100,000, 50,000 and
    10,000 both years."""
    p = comparison.periods(Filters(), (2020, 2020), (2021, 2021))
    table = comparison.municipalities(p).set_index("code")
    assert table.loc[["0101", "0102", "0201"], ["n_a", "n_b", "diff"]].astype(int).values.tolist() == \
        [[2, 3, 1], [1, 2, 1], [0, 3, 3]]
    assert table.loc["0101", "change"] == pytest.approx(50.0)
    assert table.loc["0102", "change"] == pytest.approx(100.0)
    assert np.isnan(table.loc["0201", "change"])  # from zero: no percentage
    for code, (a, b) in {"0101": (2, 3), "0102": (1, 2), "0201": (0, 3)}.items():
        assert table.loc[code, "p_value"] == pytest.approx(binomtest(b, a + b, 0.5).pvalue)
        ci = binomtest(b, a + b, 0.5).proportion_ci(0.95, method="exact")
        hi = ci.high / (1 - ci.high) * 100 - 100 if ci.high < 1 else np.inf
        assert table.loc[code, "change_hi"] == pytest.approx(hi)
    # Benjamini-Hochberg over the three: nothing is significant with counts this small
    assert not table["significant"].any()
    assert set(table["verdict"]) == {comparison.UP_NS}
    top = comparison.largest_increases(comparison.municipalities(p))
    assert list(top["code"]) == ["0201", "0101", "0102"]


def test_a_clear_change_is_significant(tmp_path, use_warehouse):
    rows = [("pnc", f"2020-0{1 + i % 9}-10", "0101", "robo", "H", 30, True) for i in range(5)]
    rows += [("pnc", f"2021-0{1 + i % 9}-10", "0101", "robo", "H", 30, True) for i in range(60)]
    use_warehouse(fixture_warehouse.build(tmp_path / "c.duckdb", incidents=rows))
    table = comparison.municipalities(comparison.periods(Filters(), (2020, 2020), (2021, 2021))).set_index("code")
    assert table.loc["0101", "significant"] and table.loc["0101", "verdict"] == comparison.UP
    assert table.loc["0101", "change"] == pytest.approx(60 / 5 * 100 - 100)
    assert table.loc["0101", "change_lo"] > 0


def test_reserved_counts_never_give_a_difference(fixture, public_mode):
    p = comparison.periods(Filters(crime_types=("violencia_mujer",)), (2020, 2020), (2021, 2021))
    table = comparison.municipalities(p).set_index("code")
    for code in ("0101", "0201"):  # 0 then 2, 0 then 1: reserved in 2021
        assert table.loc[code, "verdict"] == comparison.RESERVED
        assert np.isnan(table.loc[code, "diff"]) and np.isnan(table.loc[code, "change"])
    assert comparison.largest_increases(comparison.municipalities(p)).empty
    assert comparison.totals(p).attrs["change"] is None


def test_territories_and_the_page(fixture):
    fig = comparison.territory_figures(Filters().resolved(comparison.filter_options()), "0101", "municipio")
    assert fig["n"] == "5" and fig["rate"] == pytest.approx(2.5)
    years = comparison.territory_years(Filters(), [("0101", "municipio"), ("02", "departamento")])
    assert years[["code", "year", "n"]].values.tolist() == [["0101", 2020, "2"], ["02", 2020, "0"],
                                                           ["0101", 2021, "3"], ["02", 2021, "3"]]
    at = run_app(page="comparar")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Víctimas · 2020"] == "3" and metrics["Víctimas · 2021"] == "8"
    assert metrics["Cambio de la tasa, 2021 vs 2020"] == "+166.7 %"
    assert len(at.get("deck_gl_json_chart")) == 1 and len(at.get("vega_lite_chart")) == 0
    at.radio(key="cmp_view").set_value("territorios").run()
    assert not at.exception
    assert len(at.get("deck_gl_json_chart")) == 0 and len(at.get("vega_lite_chart")) == 1
    assert [m.value for m in at.metric][:2] == ["5", "2.5"]  # Alfa, 2020-2021


def test_page_in_public_mode(fixture, public_mode):
    at = run_app({"tipos": "violencia_mujer"}, page="comparar")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cambio de la tasa, 2021 vs 2020"] == "—"
    assert any("Ningún municipio tiene más" in i.value for i in at.info)
