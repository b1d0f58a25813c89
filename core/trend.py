"""Is it going up or down? A trend test per territory, and the year so far against the same months
of the year before.

Trend: a Poisson regression of the yearly counts with the person-years of each year as offset,

    log E[n_y] = log P_y + a + b · y,

fitted by maximum likelihood (iteratively reweighted least squares, every territory at once),
with quasi-Poisson dispersion φ = max(1, Pearson χ² / (years − 2)) so that years that vary more
than chance widen the interval. The annual change is (e^b − 1) × 100 %, with a 95 % interval from
b ± t(0.975; years − 2) · √(φ · Var b); the trend is «en aumento» or «en descenso» when that
interval excludes 0, else «sin tendencia clara». Partial years count only the months covered (their
person-years are the covered share, ``core.rates``), so they do not fake a fall.

Year to date: the count from January to the last month with data of the period's last year against
the same months of the year before. Their rate ratio (person-years of each year × the share of the
year) has an exact interval: given the total, the first count is binomial (Clopper–Pearson bounds
of its share, turned into a ratio); the change is significant when the interval excludes 1.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from scipy.stats import t as student_t

from core import disclosure, rates, warehouse
from core.filters import Filters, filter_options

MIN_YEARS = 3
RIDGE = 1e-12  # keeps the normal equations solvable when a fitted mean underflows
RISING, FALLING, FLAT = "en aumento", "en descenso", "sin tendencia clara"
MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")
DEFINITION = (
    "**Tendencia.** Regresión de Poisson de las cifras anuales con la población de cada año como denominador "
    "(personas-año; los años parciales cuentan solo los meses cubiertos) y sobredispersión cuasi-Poisson. El cambio "
    "anual es $(e^b - 1) \\times 100$ %, con su intervalo de confianza del 95 %: la tendencia es «en aumento» o «en "
    "descenso» solo si el intervalo no incluye el 0. **En lo que va del año.** Cifra de enero al último mes con "
    "datos frente a los mismos meses del año anterior; la diferencia es significativa si el intervalo exacto del "
    "cociente de tasas (binomial condicional, Clopper–Pearson) no incluye el 1."
)


@dataclass(frozen=True)
class YearToDate:
    year: int
    last_month: int             # 1..12
    count: int
    previous_count: int
    change_pct: float | None    # of the rate (person-years of each year)
    ratio_lo: float | None      # exact 95 % interval of the rate ratio
    ratio_hi: float | None
    p_value: float | None
    verdict: str                # RISING, FALLING or FLAT
    first_month: int = 1        # 1 for the year so far; the month itself for one month against the same month

    @property
    def months(self) -> str:
        first, last = MONTHS[self.first_month - 1], MONTHS[self.last_month - 1]
        return first if self.first_month == self.last_month else f"{first}–{last}"


def fit_log_linear(y: np.ndarray, x: np.ndarray, offset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Maximum-likelihood Poisson log-linear fit of every row of ``y`` (rows × k counts, each row with
    cases at two points at least) on the design ``x`` (k × 2: intercept and slope) with ``offset``
    (log exposure, rows × k; 0 for none), by iteratively reweighted least squares, all rows at once.
    Returns the coefficients (rows × 2), the fitted means (rows × k), the unscaled covariance of the
    coefficients (rows × 2 × 2) and the quasi-Poisson dispersion max(1, Pearson χ² / (k − 2))."""
    rows, k = y.shape
    offset = np.broadcast_to(np.asarray(offset, dtype="float64"), y.shape)
    beta = np.zeros((rows, 2))
    beta[:, 0] = np.log(y.sum(axis=1) / np.exp(offset).sum(axis=1))
    for _ in range(100):
        eta = np.clip(offset + beta @ x.T, -50, 50)
        mu = np.exp(eta)
        z = eta - offset + (y - mu) / mu
        info = np.einsum("rk,ki,kj->rij", mu, x, x)
        score = np.einsum("rk,ki,rk->ri", mu, x, z)
        new = np.linalg.solve(info + RIDGE * np.eye(2), score[..., None])[..., 0]
        done = np.abs(new - beta).max() < 1e-10
        beta = new
        if done:
            break
    mu = np.exp(np.clip(offset + beta @ x.T, -50, 50))
    cov = np.linalg.pinv(np.einsum("rk,ki,kj->rij", mu, x, x))
    phi = np.maximum(1.0, ((y - mu) ** 2 / mu).sum(axis=1) / (k - 2))
    return beta, mu, cov, phi


def poisson_trend(counts: np.ndarray, exposure: np.ndarray, years: np.ndarray) -> pd.DataFrame:
    """The trend of every row of ``counts`` (rows × years) with ``exposure`` (person-years, same shape)
    over ``years``. Columns: change (% per year), change_lo, change_hi, p_value, dispersion, verdict;
    NaN and «» for rows with fewer than MIN_YEARS years with population or with cases in fewer than two years."""
    y = np.asarray(counts, dtype="float64")
    e = np.asarray(exposure, dtype="float64")
    rows, k = y.shape
    out = pd.DataFrame({c: np.full(rows, np.nan) for c in ("change", "change_lo", "change_hi", "p_value", "dispersion")})
    out["verdict"] = ""
    usable = np.isfinite(e) & (e > 0)
    # a slope needs cases in at least two years (cases in one year only push it to infinity)
    fit = (usable.all(axis=1)) & (k >= MIN_YEARS) & ((np.nan_to_num(y) > 0).sum(axis=1) >= 2)
    if not fit.any():
        return out
    y, e = y[fit], e[fit]
    t = np.asarray(years, dtype="float64") - np.mean(years)
    beta, _, cov, phi = fit_log_linear(y, np.column_stack([np.ones(k), t]), np.log(e))
    dof = k - 2
    se = np.sqrt(phi * cov[:, 1, 1])
    crit = student_t.ppf(0.975, dof)
    b = beta[:, 1]
    out.loc[fit, "change"] = np.expm1(b) * 100
    out.loc[fit, "change_lo"] = np.expm1(b - crit * se) * 100
    out.loc[fit, "change_hi"] = np.expm1(b + crit * se) * 100
    out.loc[fit, "p_value"] = 2 * student_t.sf(np.abs(b / se), dof)
    out.loc[fit, "dispersion"] = phi
    out.loc[fit, "verdict"] = np.where(b - crit * se > 0, RISING, np.where(b + crit * se < 0, FALLING, FLAT))
    return out


@warehouse.cached
def municipal_trends(f: Filters) -> pd.DataFrame:
    """The trend of every municipality in scope over the period (``rates.by_municipality_year``).
    Columns: code, n (victims of the period) and those of ``poisson_trend``."""
    f = f.resolved(filter_options())
    long = rates.by_municipality_year(f)
    counts = long.pivot(index="code", columns="year", values="n")
    exposure = long.pivot(index="code", columns="year", values="population").reindex(index=counts.index)
    out = poisson_trend(counts.to_numpy(), exposure.to_numpy(), counts.columns.to_numpy())
    out.insert(0, "code", counts.index.to_numpy())
    out.insert(1, "n", counts.sum(axis=1).to_numpy())
    return out


@warehouse.cached
def national_trend(f: Filters) -> pd.Series:
    """The trend of the whole scope (``rates.yearly``): one row of ``poisson_trend``."""
    series = rates.yearly(f.resolved(filter_options()), by=None)
    out = poisson_trend(series["n"].to_numpy()[None, :], series["population"].to_numpy(dtype="float64")[None, :],
                        series["year"].to_numpy())
    return out.iloc[0]


def compare_counts(count: int, exposure: float, previous: int, previous_exposure: float) -> tuple[float | None, ...]:
    """(change of the rate in %, exact 95 % interval of the rate ratio, two-sided p-value): given the
    total, ``count`` is binomial with share exposure / (exposure + previous_exposure) under no change."""
    total = count + previous
    if not total or not exposure or not previous_exposure:
        return None, None, None, None
    share = exposure / (exposure + previous_exposure)
    test = binomtest(int(count), int(total), share)
    low, high = test.proportion_ci(0.95, method="exact")
    odds = previous_exposure / exposure

    def ratio(pi: float) -> float:
        return float("inf") if pi >= 1 else pi / (1 - pi) * odds

    change = (count / exposure) / (previous / previous_exposure) * 100 - 100 if previous else None
    return change, ratio(low), ratio(high), float(test.pvalue)


@warehouse.cached
def year_to_date(f: Filters, code: str | None = None, through_month: int | None = None) -> YearToDate | None:
    """January to the last month with data of the period's last year (or to ``through_month``, if
    earlier) against the same months of the year before, for the scope of ``f`` (or one
    municipality). None when the data do not reach the year before."""
    f = f.resolved(filter_options())
    _, end = rates.data_period()
    last = min(end, dt.date(f.last_year, 12, 31))
    month = min(last.month, through_month) if through_month else last.month
    return _months_against_year_before(f, code, last.year, 1, month)


@warehouse.cached
def same_month(f: Filters, year: int, month: int, code: str | None = None) -> YearToDate | None:
    """One month against the same month of the year before (``YearToDate`` with first_month ==
    last_month); None when the data do not cover both."""
    f = f.resolved(filter_options())
    _, end = rates.data_period()
    if dt.date(year, month, 1) > end:
        return None
    return _months_against_year_before(f, code, year, month, month)


def _months_against_year_before(f: Filters, code: str | None, year: int, first: int, month: int) -> YearToDate | None:
    start, _ = rates.data_period()
    if dt.date(year - 1, first, 1) < dt.date(start.year, start.month, 1):
        return None
    scope = replace(f, year_from=year - 1, year_to=year, dept_code=None if code else f.dept_code)
    where, params = scope.where("cube")
    muni = " AND muni_code = ?" if code else ""
    counts = disclosure.published(warehouse.query(f"""
        SELECT year::INTEGER AS year, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_cube
        WHERE {where}{muni} AND month(month) BETWEEN ? AND ? GROUP BY year
    """, params + ([code] if code else []) + [first, month])).set_index("year")["n"]
    now, before = int(counts.get(year, 0)), int(counts.get(year - 1, 0))
    if code:
        pops = rates.municipal_person_years(year - 1, year, f.sexes, f.age_groups, by_year=True)
        pops = pops[pops["code"] == code].assign(year=lambda d: d["year"].astype(int)).set_index("year")["population"]
        coverage = {y: rates.year_coverage(y) for y in (year - 1, year)}
        population = {y: float(pops.get(y, np.nan)) / coverage[y] if coverage[y] else np.nan for y in (year - 1, year)}
    else:
        by_year = rates.person_years_by_year(replace(f, year_from=year - 1, year_to=year))
        population = {y: (by_year.get(y) or np.nan) / rates.year_coverage(y) if rates.year_coverage(y) else np.nan
                      for y in (year - 1, year)}
    share = (month - first + 1) / 12
    exposure, previous_exposure = population[year] * share, population[year - 1] * share
    if not np.isfinite(exposure) or not np.isfinite(previous_exposure):
        exposure = previous_exposure = share  # no population: compare the counts themselves
    change, lo, hi, p = compare_counts(now, exposure, before, previous_exposure)
    verdict = FLAT if lo is None or hi is None else RISING if lo > 1 else FALLING if hi < 1 else FLAT
    return YearToDate(year, month, now, before, change, lo, hi, p, verdict, first)
