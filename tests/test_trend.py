"""Trend tests and the year so far (core/trend.py) against statsmodels, fitted here independently."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import beta
from scipy.stats import t as student_t
from statsmodels.stats import rates as poisson_rates

from core import rates, trend, warehouse
from core.filters import Filters


def test_poisson_trend_equals_a_quasi_poisson_glm_with_offset():
    rng = np.random.default_rng(2)
    years = np.arange(2013, 2023)
    exposure = rng.uniform(2e4, 5e5, size=(40, len(years)))
    slopes = rng.choice([-0.15, 0.0, 0.08, 0.2], size=40)
    rate = rng.uniform(5e-5, 5e-4, size=40)
    mean = exposure * rate[:, None] * np.exp(slopes[:, None] * (years - 2017))
    counts = rng.negative_binomial(8, 8 / (8 + mean))
    got = trend.poisson_trend(counts, exposure, years)
    x = sm.add_constant(years - years.mean())
    for i in range(40):
        res = sm.GLM(counts[i], x, family=sm.families.Poisson(), offset=np.log(exposure[i])).fit()
        phi = max(1.0, res.pearson_chi2 / res.df_resid)
        se = np.sqrt(res.cov_params()[1, 1] * phi)
        crit = student_t.ppf(0.975, len(years) - 2)
        b = res.params[1]
        assert got.loc[i, "change"] == pytest.approx(np.expm1(b) * 100, rel=1e-4, abs=1e-7)
        assert got.loc[i, "change_lo"] == pytest.approx(np.expm1(b - crit * se) * 100, rel=1e-4, abs=1e-7)
        assert got.loc[i, "change_hi"] == pytest.approx(np.expm1(b + crit * se) * 100, rel=1e-4, abs=1e-7)
        verdict = trend.RISING if b - crit * se > 0 else trend.FALLING if b + crit * se < 0 else trend.FLAT
        assert got.loc[i, "verdict"] == verdict
    assert {trend.RISING, trend.FALLING} <= set(got["verdict"])


def test_no_trend_without_cases_or_years():
    got = trend.poisson_trend(np.array([[0, 0, 0], [1, 2, 3]]), np.ones((2, 3)) * 1e4, np.array([2020, 2021, 2022]))
    assert got.loc[0, "verdict"] == "" and np.isnan(got.loc[0, "change"])
    assert got.loc[1, "verdict"] in (trend.RISING, trend.FLAT)
    short = trend.poisson_trend(np.array([[1, 5]]), np.ones((1, 2)) * 1e4, np.array([2021, 2022]))
    assert short.loc[0, "verdict"] == ""


def test_rate_ratio_interval_equals_statsmodels_exact_conditional():
    for count, exposure, previous, previous_exposure in ((63, 1.0, 41, 1.0), (9, 2.5, 17, 2.4), (120, 3.1, 95, 3.0)):
        change, lo, hi, p = trend.compare_counts(count, exposure, previous, previous_exposure)
        # Clopper-Pearson bounds of the first count's share of the total, turned into a rate ratio
        n = count + previous
        share_lo, share_hi = beta.ppf(0.025, count, n - count + 1), beta.ppf(0.975, count + 1, n - count)
        odds = previous_exposure / exposure
        assert (lo, hi) == pytest.approx((share_lo / (1 - share_lo) * odds, share_hi / (1 - share_hi) * odds), rel=1e-6)
        ref = poisson_rates.test_poisson_2indep(count, exposure, previous, previous_exposure, method="exact-cond",
                                                compare="ratio")
        assert p == pytest.approx(ref.pvalue, rel=1e-6)
        assert change == pytest.approx((count / exposure) / (previous / previous_exposure) * 100 - 100)


def test_year_to_date_on_the_demo(demo):
    ytd = trend.year_to_date(Filters())
    assert ytd.year == 2022
    cube = rates.monthly(Filters(year_from=2021, year_to=2022), by=None)
    months = cube["month"].astype("datetime64[ns]")
    assert ytd.count == cube.loc[(months.dt.year == 2022) & (months.dt.month <= ytd.last_month), "n"].sum()
    assert ytd.previous_count == cube.loc[(months.dt.year == 2021) & (months.dt.month <= ytd.last_month), "n"].sum()
    assert ytd.ratio_lo <= 1 + ytd.change_pct / 100 <= ytd.ratio_hi
    one = trend.year_to_date(Filters(), "0101")
    assert one.count < ytd.count
    national = trend.national_trend(Filters())
    assert national["change_lo"] <= national["change"] <= national["change_hi"]
    munis = trend.municipal_trends(Filters())
    assert len(munis) == 340 and set(munis["verdict"]) <= {trend.RISING, trend.FALLING, trend.FLAT, ""}


def test_cases_in_one_year_only_give_no_slope_and_no_error():
    counts = np.array([[0, 0, 0, 0, 7], [3, 0, 0, 0, 0], [0, 0, 4, 0, 0], [0, 0, 0, 1, 7]])
    got = trend.poisson_trend(counts, np.full(counts.shape, 1e5), np.arange(2018, 2023))
    assert list(got["verdict"][:3]) == ["", "", ""]
    assert got.loc[3, "verdict"] in (trend.RISING, trend.FLAT) and np.isfinite(got.loc[3, "change"])


def test_one_month_against_the_same_month_of_the_year_before_on_the_demo(demo):
    """Counts straight from the cube, and the comparison is the same exact test as the year so far."""
    cube = warehouse.query("SELECT month, muni_code, sum(n)::BIGINT AS n FROM incident_cube WHERE counted "
                           "GROUP BY ALL").assign(month=lambda d: pd.to_datetime(d["month"]))

    def hand(year: int, months: range, code: str | None = None) -> int:
        rows = cube[(cube["month"].dt.year == year) & cube["month"].dt.month.isin(months)]
        return int(rows.loc[rows["muni_code"] == code, "n"].sum() if code else rows["n"].sum())

    june = trend.same_month(Filters(), 2022, 6)
    assert (june.first_month, june.last_month, june.months) == (6, 6, "jun")
    assert (june.count, june.previous_count) == (hand(2022, range(6, 7)), hand(2021, range(6, 7)))
    share = 1 / 12  # one month of each year's person-years
    py = rates.person_years_by_year(Filters(year_from=2021, year_to=2022))
    expected = trend.compare_counts(june.count, py[2022] * share, june.previous_count, py[2021] * share)
    assert (june.change_pct, june.ratio_lo, june.ratio_hi, june.p_value) == pytest.approx(expected)
    local = trend.same_month(Filters(), 2022, 6, "0101")
    assert (local.count, local.previous_count) == (hand(2022, range(6, 7), "0101"), hand(2021, range(6, 7), "0101"))
    to_june = trend.year_to_date(Filters(), through_month=6)
    assert (to_june.months, to_june.count) == ("ene–jun", hand(2022, range(1, 7)))
    assert trend.year_to_date(Filters(), through_month=6) != trend.year_to_date(Filters())
    assert trend.same_month(Filters(), 2013, 3) is None  # no year before in the data
    assert trend.same_month(Filters(), 2023, 1) is None  # after the data
