"""Counts and rates against hand computation on the fixture warehouse and the demo."""
import numpy as np
import pytest

from core import rates, spatial, warehouse
from core.filters import Filters
from tests import fixture_warehouse

POP = {"0101": 100_000, "0102": 50_000, "0201": 10_000}


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_headline_by_hand(fixture):
    h = rates.headline(Filters())
    assert h.count == 11
    person_years = sum(POP.values()) * 2
    assert h.denominator.person_years == pytest.approx(person_years)
    assert h.rate == pytest.approx(11 / person_years * 1e5)
    assert (h.latest_year, h.latest_count, h.previous_count) == (2021, 8, 3)
    assert h.change_pct == pytest.approx((8 - 3) / 3 * 100)
    assert (h.municipalities_with_cases, h.municipalities) == (3, 3)
    assert h.denominator.note is None


def test_rate_uses_the_matching_population(fixture):
    women = rates.headline(Filters(sexes=("M",)))
    assert women.count == 6
    assert women.denominator.person_years == pytest.approx(sum(POP.values()) * 2 / 2)
    young_women = rates.headline(Filters(sexes=("M",), age_groups=("12-17", "18-29")))
    assert young_women.count == 3  # ages 15, 22, 23
    assert young_women.denominator.person_years == pytest.approx(sum(POP.values()) * 2 / 2 * 2 / 6)
    assert young_women.rate == pytest.approx(3 / (160_000 * 2 / 2 * 2 / 6) * 1e5)


def test_unknown_sex_has_no_denominator(fixture):
    h = rates.headline(Filters(sexes=("ND",)))
    assert h.count == 1 and h.rate is None
    assert "sin sexo registrado" in h.denominator.note


def test_department_scope(fixture):
    h = rates.headline(Filters(dept_code="01"))
    assert h.count == 8 and h.municipalities == 2
    assert h.denominator.person_years == pytest.approx((100_000 + 50_000) * 2)


def test_by_municipality(fixture):
    df = rates.by_municipality(Filters(crime_types=("homicidio",))).set_index("code")
    assert df.loc["0101", "n"] == 2 and df.loc["0201", "n"] == 1 and df.loc["0102", "n"] == 0
    assert df.loc["0201", "rate"] == pytest.approx(1 / 20_000 * 1e5)
    assert df.loc["0102", "rate"] == 0
    assert df.loc["0101", "department"] == "Norte"


def test_yearly_includes_zero_years(fixture):
    df = rates.yearly(Filters(crime_types=("violencia_mujer",)), by="crime_type")
    assert df[["year", "n"]].values.tolist() == [[2020, 0], [2021, 3]]
    assert df["rate"].tolist() == pytest.approx([0, 3 / 160_000 * 1e5])
    with pytest.raises(ValueError):
        rates.yearly(Filters(), by="weapon; DROP TABLE x")


def test_population_without_split_falls_back_and_says_so(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "t.duckdb", split_population=False))
    assert rates.population_split() == (False, False)
    h = rates.headline(Filters(sexes=("M",)))
    assert h.count == 6
    assert h.denominator.person_years == pytest.approx(320_000)  # totals, not women
    assert "población total" in h.denominator.note
    assert rates.headline(Filters()).denominator.note is None


def test_partial_year_counts_only_covered_months(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "p.duckdb", period_end="2021-06-30"))
    assert rates.year_coverage(2020) == 1
    assert rates.year_coverage(2021) == 0.5
    assert rates.partial_years(2020, 2021) == [2021]
    assert rates.year_label(2021) == "2021 (parcial)"
    h = rates.headline(Filters(2021, 2021))
    assert h.denominator.person_years == pytest.approx(160_000 * 0.5)
    # a partial year is not compared with a complete one
    assert rates.headline(Filters()).change_pct is None


def test_demo_headline_equals_raw_records(demo):
    f = Filters(2018, 2020, crime_groups=("Violencia letal",), sexes=("M",))
    h = rates.headline(f)
    raw = warehouse.scalar("""
        SELECT count(*) FROM incident i JOIN crime_type c ON c.code = i.crime_type
        WHERE counted AND c.crime_group = 'Violencia letal' AND victim_sex = 'M'
          AND occurred_on BETWEEN DATE '2018-01-01' AND DATE '2020-12-31'""")
    assert h.count == raw > 0
    women = warehouse.scalar("""
        SELECT sum(population) FROM population p JOIN territory t ON t.code = p.code AND t.level = 'municipio'
        WHERE sex = 'M' AND year BETWEEN 2018 AND 2020""")
    assert h.rate == pytest.approx(raw / women * 1e5)
    munis = rates.by_municipality(f)
    assert munis["n"].sum() == raw and len(munis) == 340


def _marshall_by_hand(n, p):
    """Marshall's global Empirical-Bayes estimator written out step by step."""
    k = len(n)
    b = sum(n) / sum(p)
    r = [ni / pi for ni, pi in zip(n, p)]
    s2 = sum(pi * (ri - b) ** 2 for pi, ri in zip(p, r)) / sum(p)
    a = max(0.0, s2 - b / (sum(p) / k))
    return [(b + a / (a + b / pi) * (ri - b)) * 1e5 for pi, ri in zip(p, r)]


def test_municipal_rates_and_smoothed_rates(fixture):
    m = rates.by_municipality(Filters(crime_types=("homicidio", "femicidio"))).set_index("code")
    assert list(m["n"]) == [2, 0, 1]
    assert list(m["population"]) == pytest.approx([200_000, 100_000, 20_000])
    assert list(m["rate"]) == pytest.approx([1.0, 0.0, 5.0])
    expected = _marshall_by_hand([2, 0, 1], [200_000, 100_000, 20_000])
    assert list(m["rate_eb"]) == pytest.approx(expected)
    # the small municipality moves most towards the mean of 3 / 320,000 = 0.9375 per 100,000
    assert m.loc["0201", "rate"] - m.loc["0201", "rate_eb"] > abs(m.loc["0101", "rate"] - m.loc["0101", "rate_eb"])
    assert 0.9375 < m.loc["0201", "rate_eb"] < 5.0


def test_smoothing_edge_cases():
    import numpy as np
    # no extra variation between areas (a = 0): every area gets the overall rate
    assert list(rates.eb_smooth([1, 2, 4], [1e5, 2e5, 4e5])) == pytest.approx([1.0, 1.0, 1.0])
    out = rates.eb_smooth([3, 5], [np.nan, 0])
    assert np.isnan(out).all()
    assert list(rates.eb_smooth([0, 0], [10, 20])) == [0.0, 0.0]


def test_departments_add_up_their_municipalities(fixture):
    d = rates.by_department(Filters()).set_index("code")
    assert list(d.index) == ["01", "02"]
    assert list(d["n"]) == [8, 3]
    assert list(d["population"]) == pytest.approx([300_000, 20_000])
    assert d.loc["01", "rate"] == pytest.approx(8 / 300_000 * 1e5)
    assert d.loc["01", "name"] == "Norte"


# ---- Intervals, scope-stable and spatial smoothing ---------------------------------------------

# Exact 95 % limits for a Poisson count (Garwood 1936), as published in the tables of exact
# confidence limits (e.g. Ulm, Am J Epidemiol 1990; Breslow & Day 1987, table 2.11).
GARWOOD_95 = {0: (0.0, 3.689), 1: (0.0253, 5.572), 2: (0.2422, 7.225), 5: (1.6235, 11.668), 10: (4.7954, 18.390),
              20: (12.217, 30.888)}


def test_count_interval_matches_the_published_table():
    n = list(GARWOOD_95)
    lower, upper = rates.count_interval(n)
    assert lower == pytest.approx([GARWOOD_95[k][0] for k in n], abs=6e-4)
    assert upper == pytest.approx([GARWOOD_95[k][1] for k in n], abs=6e-4)


def test_rate_interval_per_100000():
    lower, upper = rates.rate_interval([2, 5, 3], [3_000, 3_000_000, np.nan])
    assert lower[0] == pytest.approx(0.2422 / 3_000 * 100_000, rel=1e-3)
    assert upper[1] == pytest.approx(11.668 / 3_000_000 * 100_000, rel=1e-3)
    assert np.isnan(lower[2]) and np.isnan(upper[2])
    assert rates.interval_text(lower[0], upper[0], lambda v: f"{v:.1f}") == "8.1 a 240.8"


def test_tables_carry_the_interval_of_their_rate(fixture):
    for table in (rates.by_municipality(Filters()), rates.by_department(Filters()), rates.yearly(Filters(), by=None)):
        lower, upper = rates.rate_interval(table["n"], table["population"])
        assert list(table["rate_lo"]) == pytest.approx(list(lower), nan_ok=True)
        assert list(table["rate_hi"]) == pytest.approx(list(upper), nan_ok=True)
        ok = table["rate"].notna()
        assert (table.loc[ok, "rate_lo"] <= table.loc[ok, "rate"]).all()
        assert (table.loc[ok, "rate"] <= table.loc[ok, "rate_hi"]).all()


def test_smoothed_rate_does_not_depend_on_the_department_filter(demo):
    national = rates.by_municipality(Filters()).set_index("code")
    for dept in ("01", "03", "16"):
        inside = rates.by_municipality(Filters(dept_code=dept)).set_index("code")
        assert set(inside.index) == set(national.index[national["dept_code"] == dept])
        for column in ("rate_eb", "rate_seb", "rate_lo"):
            assert list(inside[column]) == pytest.approx(list(national.loc[inside.index, column]), nan_ok=True)
    depts = rates.by_department(Filters()).set_index("code")
    one = rates.by_department(Filters(dept_code="05")).set_index("code")
    assert one.loc["05", "rate_eb"] == pytest.approx(depts.loc["05", "rate_eb"])


def test_spatial_smoothing_equals_pysal(demo):
    """Spatial EB against esda's Spatial_Empirical_Bayes on the demo's municipalities."""
    import libpysal
    from esda.smoothing import Spatial_Empirical_Bayes

    table = rates.by_municipality(Filters(crime_types=("homicidio",)))
    codes = list(table["code"])
    hood = spatial.neighbours("municipio")
    w = libpysal.weights.W({c: list(hood[c]) for c in codes}, id_order=codes, silence_warnings=True)
    expected = Spatial_Empirical_Bayes(table["n"].to_numpy(), table["population"].to_numpy(), w).r.ravel() * 100_000
    assert list(table["rate_seb"]) == pytest.approx(list(expected), rel=1e-9)
    # it differs from the global smoothing: each area moves towards its own neighbourhood
    assert not np.allclose(table["rate_seb"], table["rate_eb"])


def test_neighbours_are_symmetric_and_touch(demo):
    import shapely

    hood = spatial.neighbours("municipio")
    assert len(hood) == 340
    for a, others in hood.items():
        for b in others:
            assert a in hood[b]
    geoms = dict(zip(*warehouse.query("SELECT code, wkb FROM territory_geometry WHERE length(code) = 4").T.to_numpy()))
    a, b = "0101", hood["0101"][0]
    assert shapely.distance(shapely.from_wkb(bytes(geoms[a])), shapely.from_wkb(bytes(geoms[b]))) <= spatial.TOLERANCE_DEG
    far = next(c for c in hood if c[:2] != "01" and c not in hood["0101"])
    assert shapely.distance(shapely.from_wkb(bytes(geoms["0101"])), shapely.from_wkb(bytes(geoms[far]))) > spatial.TOLERANCE_DEG


def test_overlap_ranks_by_hand():
    # rates 30 [20, 40], 25 [22, 28], 10 [9, 11], nothing
    best, worst = rates.overlap_ranks([30, 25, 10, np.nan], [20, 22, 9, np.nan], [40, 28, 11, np.nan])
    assert list(best) == [1, 1, 3, -1]
    assert list(worst) == [2, 2, 3, -1]
    nothing = rates.overlap_ranks([np.nan], [np.nan], [np.nan])
    assert list(nothing[0]) == [-1] and list(nothing[1]) == [-1]
    assert [list(a) for a in rates.overlap_ranks([], [], [])] == [[], []]


def test_imprecise_rates_are_those_with_an_interval_wider_than_the_rate():
    lower, upper = rates.rate_interval([2, 2_000, 0], [3_000, 3_000_000, 1_000])
    assert list(rates.imprecise([2 / 3_000 * 1e5, 2_000 / 3e6 * 1e5, 0.0], lower, upper)) == [True, False, True]
