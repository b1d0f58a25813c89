"""Early warning: municipalities and crime groups whose latest month (or latest three months)
is unusually high compared with the same time of the previous years, allowing for trend and for
more variation than chance alone (the method of Farrington et al. 1996, as public-health
surveillance uses it, adapted to monthly counts).

For each municipality x crime group and window (the latest month of the data, and the rolling
window of the latest three months):
- baseline points: the window's count ending at the same month and at the months either side
  (HALF_WIDTH) in each of the BASELINE_YEARS previous years, leaving out the years excluded by an
  explicit choice (by default 2020: the pandemic's restrictions lowered most crimes) and every point
  one of whose months falls in them;
- a quasi-Poisson log-linear model of the points with a linear trend in time; the trend is kept
  only with at least MIN_TREND_YEARS baseline years, when it is significant at 5 % and when it
  does not predict more than the highest baseline point (Farrington's rules); otherwise the
  expected count is the mean of the points;
- dispersion φ = max(1, Pearson χ² / degrees of freedom): months vary more than a Poisson count;
- expected = the model's prediction μ0 for the window; its predictive variance φ μ0 + μ0² Var(log μ̂0)
  (the count's own variation and the uncertainty of the estimate);
- p = P(X >= observed) for X negative binomial with that mean and variance (Poisson when the
  variance is not above the mean); z = (observed − expected) / √variance;
- all the comparisons of a scan (municipalities x groups x windows) are one family: the
  Benjamini–Hochberg procedure turns the p-values into q-values, and there is an alert when
  q <= the chosen false-discovery rate and the observed count reaches the minimum. Among the
  alerts, the expected share of false ones is then at most that rate; the scan also states how
  many alerts the procedure gives on average when nothing has changed anywhere (simulated from
  the fitted baselines, NULL_SIMULATIONS scans).
When the baseline points had no case at all, expected = 0: the model gives no case, so p = 0 and
any count from the minimum up is an alert. The probability then measures nothing (years of zeros
do not make a case impossible); the pages say so next to the row (``notes``).
The shared filters (crime types, sex, age, department) narrow the counts; the period's last
year sets the latest month.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import nbinom, poisson
from scipy.stats import t as student_t

from core import disclosure, fmt, rates, warehouse
from core.filters import Filters, filter_options
from core.hotspots import benjamini_hochberg
from core.trend import fit_log_linear

BASELINE_YEARS = 5
HALF_WIDTH = 1            # months either side of the reference month in each baseline year
MIN_TREND_YEARS = 3       # baseline years needed before a trend is fitted
DEFAULT_FDR = 0.05
FDR_LEVELS = (0.01, 0.05, 0.10)
DEFAULT_MIN_COUNT = 5
DEFAULT_EXCLUDED = (2020,)
EXCLUSION_REASONS = {2020: "pandemia de COVID-19: las restricciones de movilidad redujeron la mayoría de los delitos"}
NULL_SIMULATIONS = 200
SIMULATION_SEED = 20_240_601
WINDOWS = {"mes": "Último mes", "trimestre": "Últimos 3 meses"}

METHOD = (
    "Para cada municipio y grupo de delito se compara el último mes con datos (y los últimos tres meses) con el "
    f"mismo momento de los {BASELINE_YEARS} años anteriores: en cada año, el mes de referencia y el mes anterior y el "
    "posterior (método de Farrington, usado en la vigilancia de salud pública). Los años excluidos por elección "
    "explícita (por defecto 2020, por la pandemia) no entran. **Esperado**: un modelo log-lineal cuasi-Poisson de esos "
    "puntos con tendencia lineal; la tendencia solo se usa con al menos "
    f"{MIN_TREND_YEARS} años, si es significativa al 5 % y si no predice más que el máximo observado; si no, el "
    "esperado es el promedio. Se admite más variación que la de Poisson (sobredispersión estimada con los mismos "
    "datos). **Probabilidad**: la de una cifra al menos así de alta si nada hubiera cambiado (binomial negativa con "
    "la media y la varianza del modelo, incluida la incertidumbre del esperado). **Probabilidad ajustada**: como se "
    "hacen miles de comparaciones a la vez, se corrigen con el procedimiento de Benjamini–Hochberg; hay **alerta** "
    "cuando la probabilidad ajustada no supera la tasa de falsos descubrimientos elegida y la cifra alcanza el "
    "mínimo: entre las alertas, se espera que como mucho esa proporción sean falsas. Si en esos meses de los años "
    "anteriores no se registró ningún caso, el esperado es 0: cualquier cifra que alcance el mínimo da alerta y la "
    "probabilidad no se puede calcular (no mide cuán inusual es la cifra)."
)


def zero_baseline_note(years: str, min_count: int) -> str:
    """Why a row shows «Esperado 0» (no case in the baseline months) and what it means."""
    listed = " y ".join(years.rsplit(", ", 1))
    return (f"Sin casos registrados en los meses de comparación de {listed}: con un esperado de 0, cualquier cifra "
            f"desde el mínimo ({min_count}) da alerta; la probabilidad no se puede calcular.")


def notes(table: pd.DataFrame, min_count: int) -> pd.Series:
    """The note of each row of a (protected) scan table: the zero-baseline explanation where the
    expected count is published and is 0 with baseline years to compare with; "" elsewhere."""
    zero = (table["expected"] == 0) & (table["years"] != "")
    return pd.Series([zero_baseline_note(y, min_count) if z else "" for z, y in zip(zero, table["years"])],
                     index=table.index, dtype="str")


def expected_label(value) -> str:
    """The expected count as read on screen: «0» (exactly none, not a rounded 0.0), else one decimal."""
    if value is None or pd.isna(value):
        return "—"
    return fmt.integer(value) if value == 0 else fmt.decimal(value)


@dataclass(frozen=True)
class AlertResult:
    table: pd.DataFrame        # every municipality x group x window: see scan()
    latest_month: dt.date
    baseline_years: tuple[int, ...]
    note: str | None
    excluded_years: tuple[int, ...] = ()   # years of the baseline range left out by choice
    tests: int = 0                         # comparisons with a probability (the family corrected together)
    null_alerts: float = 0.0               # mean number of alerts when nothing has changed (simulated)


@dataclass(frozen=True)
class Baseline:
    """The fitted baseline of each row: expected count, predictive variance, dispersion and the
    yearly trend used (NaN when the mean of the points is used)."""
    expected: np.ndarray
    variance: np.ndarray
    dispersion: np.ndarray
    trend: np.ndarray


def _month_add(month: dt.date, k: int) -> dt.date:
    y, m = divmod(month.year * 12 + month.month - 1 + k, 12)
    return dt.date(y, m + 1, 1)


def latest_month(f: Filters) -> dt.date:
    """The last month of the data within the period's last year."""
    f = f.resolved(filter_options())
    _, end = rates.data_period()
    last = min(end, dt.date(f.last_year, 12, 31))
    return dt.date(last.year, last.month, 1)


def fit_baseline(points: np.ndarray, times: np.ndarray, years: int) -> Baseline:
    """Fit every row of ``points`` (rows x K baseline counts at ``times``, in years before the month
    under test, which is t = 0): quasi-Poisson log-linear with a trend where Farrington's rules keep
    it (``years`` >= MIN_TREND_YEARS, slope significant at 5 % by a t test with the quasi-likelihood
    standard error, prediction not above the highest point), else the mean of the points."""
    y = np.asarray(points, dtype="float64")
    t = np.asarray(times, dtype="float64")
    rows, k = y.shape
    mean = y.mean(axis=1)
    positive = mean > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson0 = np.where(positive[:, None], (y - mean[:, None]) ** 2 / mean[:, None], 0.0).sum(axis=1)
        phi0 = np.maximum(1.0, pearson0 / (k - 1)) if k > 1 else np.ones(rows)
        var_eta0 = np.where(positive, phi0 / (k * mean), 0.0)
    expected, var_eta, phi, slope_pct = mean.copy(), var_eta0, phi0, np.full(rows, np.nan)
    fit = (y > 0).sum(axis=1) >= 2  # cases at one time point only would push the slope to infinity
    if years >= MIN_TREND_YEARS and k > 2 and fit.any():
        beta, _, cov, phi1 = fit_log_linear(y[fit], np.column_stack([np.ones(k), t]), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope_se = np.sqrt(phi1 * cov[:, 1, 1])
            significant = np.abs(beta[:, 1]) / slope_se > student_t.ppf(0.975, k - 2)
        predicted = np.exp(beta[:, 0])
        keep = significant & (predicted <= y[fit].max(axis=1))
        idx = np.flatnonzero(fit)[keep]
        expected[idx] = predicted[keep]
        phi = phi.copy()
        phi[idx] = phi1[keep]
        var_eta = var_eta.copy()
        var_eta[idx] = phi1[keep] * cov[keep, 0, 0]
        slope_pct[idx] = np.expm1(beta[keep, 1]) * 100
    variance = phi * expected + expected ** 2 * var_eta
    return Baseline(expected, variance, phi, slope_pct)


def _overdispersed(mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Rows whose variance is above their mean: negative binomial, the others Poisson."""
    return var > mu * (1 + 1e-9)


def _negative_binomial(mu: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy/numpy's (n, p) of the negative binomial with mean ``mu`` and variance ``var`` > ``mu``."""
    size = mu ** 2 / (var - mu)
    return size, size / (size + mu)


def upper_tail(observed, expected, variance) -> np.ndarray:
    """P(X >= observed) for X negative binomial with the given mean and variance (Poisson where the
    variance is not above the mean); 1 for an observed 0; 0 when the expected count is 0 and cases
    were observed; NaN where there is no expected count."""
    obs = np.asarray(observed, dtype="float64")
    mu = np.asarray(expected, dtype="float64")
    var = np.asarray(variance, dtype="float64")
    out = np.full(obs.shape, np.nan)
    known = ~np.isnan(mu)
    out[known & (obs <= 0)] = 1.0
    out[known & (mu == 0) & (obs > 0)] = 0.0
    todo = known & (mu > 0) & (obs > 0)
    over = todo & _overdispersed(mu, var)
    plain = todo & ~over
    out[plain] = poisson.sf(obs[plain] - 1, mu[plain])
    out[over] = nbinom.sf(obs[over] - 1, *_negative_binomial(mu[over], var[over]))
    return out


def _draw(expected: np.ndarray, variance: np.ndarray, rng: np.random.Generator, times: int) -> np.ndarray:
    """``times`` random counts of each row from its null distribution (times x rows)."""
    mu = np.nan_to_num(expected)
    var = np.nan_to_num(variance)
    over = _overdispersed(mu, var)
    out = np.empty((times, len(mu)))
    out[:, ~over] = rng.poisson(mu[~over], size=(times, int((~over).sum())))
    if over.any():
        out[:, over] = rng.negative_binomial(*_negative_binomial(mu[over], var[over]), size=(times, int(over.sum())))
    return out


def significance_threshold(expected, variance, level: float) -> np.ndarray:
    """For each row, a count below which ``upper_tail`` is above ``level``: the inverse survival
    function at ``level``, one below the smallest count with a p-value at or below it, so that
    rounding never hides one (at least 1). NaN where there is no expected count."""
    mu = np.asarray(expected, dtype="float64")
    var = np.asarray(variance, dtype="float64")
    out = np.full(mu.shape, np.nan)
    known = ~np.isnan(mu)
    out[known & (mu == 0)] = 1.0
    todo = known & (mu > 0)
    over = todo & _overdispersed(mu, var)
    plain = todo & ~over
    out[plain] = poisson.isf(level, mu[plain])
    out[over] = nbinom.isf(level, *_negative_binomial(mu[over], var[over]))
    return np.maximum(out, 1.0)


def null_alerts(expected: np.ndarray, variance: np.ndarray, fdr: float, min_count: int,
                simulations: int = NULL_SIMULATIONS, seed: int = SIMULATION_SEED) -> float:
    """Mean number of alerts the procedure raises when every count follows its baseline (nothing has
    changed anywhere), over ``simulations`` simulated scans.

    Only counts whose p-value can be at or below ``fdr`` get their p-value computed: a test with
    p > fdr never has q <= fdr and never lowers the q of another below fdr (q_i = min over the
    larger p_j of p_j m / j >= p_j), so the others count as p = 1 in a scan of the same size m.
    The result is the one of the full computation, draw by draw (tested)."""
    tested = ~np.isnan(expected)
    mu, var = expected[tested], variance[tested]
    if not len(mu):
        return 0.0
    draws = _draw(mu, var, np.random.default_rng(seed), simulations)
    threshold = significance_threshold(mu, var, fdr)
    m = len(mu)
    total = 0
    for obs in draws:
        candidate = obs >= threshold
        if not candidate.any():
            continue
        q = benjamini_hochberg(upper_tail(obs[candidate], mu[candidate], var[candidate]), tests=m)
        total += int(((q <= fdr) & (obs[candidate] >= min_count)).sum())
    return total / simulations


@warehouse.cached
def scan(f: Filters, fdr: float = DEFAULT_FDR, min_count: int = DEFAULT_MIN_COUNT,
         excluded: tuple[int, ...] = DEFAULT_EXCLUDED) -> AlertResult:
    """Columns: code, name, department, crime_group, window, observed, expected, variance,
    dispersion, trend (% per year, NaN without trend), p_value, q_value, z, alert, years (baseline
    years used). Sorted with the alerts first, most unlikely first."""
    opts = filter_options()
    f = f.resolved(opts)
    month = latest_month(f)
    start, _ = rates.data_period()
    first_data_month = dt.date(start.year, start.month, 1)
    window = [_month_add(month, -k) for k in range(3)]
    offsets = range(-HALF_WIDTH, HALF_WIDTH + 1)
    in_range = [y for y in range(month.year - BASELINE_YEARS, month.year)
                if _month_add(dt.date(y, month.month, 1), -2 - HALF_WIDTH) >= first_data_month]
    dropped = tuple(y for y in in_range if y in excluded)
    baseline = tuple(y for y in in_range if y not in excluded)

    def ending(year: int, offset: int, length: int) -> list[dt.date]:
        """The ``length`` months ending at the reference month of ``year`` moved by ``offset``."""
        ref = _month_add(dt.date(year, month.month, 1), offset)
        return [_month_add(ref, -j) for j in range(length)]

    months = set(window) | {m for y in baseline for d in offsets for m in ending(y, d, 3)}
    # every year of the comparison must be in the counts, whatever the period filter says
    where, params = replace(f, year_from=None, year_to=None).where("cube")
    counts = disclosure.published(warehouse.query(f"""
        SELECT muni_code AS code, crime_group, month, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_cube
        WHERE {where} AND month IN (SELECT unnest(?::DATE[]))
        GROUP BY ALL
    """, params + [sorted(months)]))
    munis = rates.municipalities_by_code()
    if f.dept_code:
        munis = munis[munis["dept_code"] == f.dept_code]
    munis = munis[["code", "name", "department"]]
    groups = sorted(set(opts.crime_group_of[t] for t in f.crime_types) if f.crime_types
                    else f.crime_groups or opts.crime_groups)
    grid = munis.merge(pd.DataFrame({"crime_group": groups}), how="cross")
    total = _month_totals(counts, grid, sorted(months))
    rows = []
    for name, length in (("mes", 1), ("trimestre", 3)):
        observed = total(window[:length])
        # a point whose months reach into an excluded year (the month either side, a 3-month window) is left out
        kept = [(y, d) for y in baseline for d in offsets
                if all(m.year not in excluded and m >= first_data_month for m in ending(y, d, length))]
        if kept:
            points = np.column_stack([total(ending(y, d, length)) for y, d in kept])
            times = np.array([(_month_add(dt.date(y, month.month, 1), d) - month).days / 365.25 for y, d in kept])
            fit = fit_baseline(points, times, len({y for y, _ in kept}))
        else:
            nothing = np.full(len(grid), np.nan)
            fit = Baseline(nothing, nothing, nothing, nothing)
        rows.append(grid.assign(window=name, observed=observed, expected=fit.expected, variance=fit.variance,
                                dispersion=fit.dispersion, trend=fit.trend))
    table = pd.concat(rows, ignore_index=True)
    lam = table["expected"].to_numpy(dtype="float64")
    var = table["variance"].to_numpy(dtype="float64")
    obs = table["observed"].to_numpy(dtype="float64")
    table["p_value"] = upper_tail(obs, lam, var)
    table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        table["z"] = np.where(var > 0, (obs - lam) / np.sqrt(var), np.nan)
    table["alert"] = (table["q_value"] <= fdr) & (table["observed"] >= min_count)
    table["years"] = ", ".join(map(str, baseline))
    table = table.sort_values(["alert", "q_value", "p_value", "z", "observed"],
                              ascending=[False, True, True, False, False], na_position="last", ignore_index=True)
    note = None
    if not baseline:
        note = "Los datos no alcanzan años anteriores al último mes: no se pueden calcular alertas."
    elif len(baseline) < BASELINE_YEARS:
        note = (f"Solo hay {len(baseline)} año(s) anteriores para comparar (se usan hasta {BASELINE_YEARS}"
                + (f"; excluidos: {', '.join(map(str, dropped))}" if dropped else "") + ").")
    tested = int(np.isfinite(table["p_value"]).sum())
    simulated = null_alerts(lam, var, fdr, min_count) if baseline else 0.0
    return AlertResult(table, month, baseline, note, dropped, tested, simulated)


def _month_totals(counts: pd.DataFrame, grid: pd.DataFrame, months: list[dt.date]):
    """A function giving, for a list of months, the victims of every grid row (municipality x
    crime group) summed over those months."""
    column = {m: j for j, m in enumerate(dict.fromkeys(months))}
    position = pd.Series(np.arange(len(grid)), index=pd.MultiIndex.from_frame(grid[["code", "crime_group"]]))
    row = position.reindex(pd.MultiIndex.from_frame(counts[["code", "crime_group"]])).to_numpy()
    col = pd.to_datetime(counts["month"]).dt.date.map(column).to_numpy()
    keep = ~(pd.isna(row) | pd.isna(col))
    matrix = np.zeros((len(grid), len(column)), dtype="int64")
    np.add.at(matrix, (row[keep].astype(int), col[keep].astype(int)), counts["n"].to_numpy(dtype="int64")[keep])
    return lambda wanted: matrix[:, [column[m] for m in wanted]].sum(axis=1)


@warehouse.cached
def history(f: Filters, code: str, crime_group: str, months: int = 48) -> pd.DataFrame:
    """Monthly victims of one municipality and crime group up to the latest month (for the small
    trend chart of an alert). Columns: month, n."""
    month = latest_month(f)
    first = _month_add(month, -(months - 1))
    where, params = replace(f.resolved(filter_options()), year_from=None, year_to=None, dept_code=None,
                            crime_groups=(crime_group,)).where("cube")
    df = disclosure.published(warehouse.query(f"""
        SELECT month, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_cube
        WHERE {where} AND muni_code = ? AND month BETWEEN ? AND ? GROUP BY month
    """, params + [code, first, month]))
    full = pd.DataFrame({"month": pd.date_range(pd.Timestamp(first), pd.Timestamp(month), freq="MS")})
    df["month"] = pd.to_datetime(df["month"])
    out = full.merge(df, on="month", how="left").fillna({"n": 0})
    out["n"] = out["n"].astype("int64")
    return out


def protected(f: Filters, table: pd.DataFrame) -> pd.DataFrame:
    """The scan table safe to publish (core.disclosure): an observed count from 1 to 4 of a
    sensitive crime group reads "<5" and its probability and z are blank (they would give it
    back); an expected value below 5 of a sensitive group is blank. The crime groups of one
    municipality and window add up to its total, so they are a line for complementary suppression."""
    sensitive = disclosure.rows_sensitive(f, table, group_column="crime_group")
    out = disclosure.protect(table, "observed", sensitive, lines=[["code", "window"]],
                             derived=["p_value", "q_value", "z"])
    out["expected"] = disclosure.blank_if_small(out["expected"], out["expected"].fillna(0), sensitive)
    blanked = out["expected"].isna() & table["expected"].notna()
    for column in ("variance", "dispersion", "trend", "p_value", "q_value", "z"):  # they would give it back
        out[column] = out[column].where(~blanked)
    return out


def protected_history(f: Filters, code: str, crime_group: str) -> pd.DataFrame:
    """history() with months of 1 to 4 victims of a sensitive group read "<5" (the months add up
    to published totals)."""
    hist = history(f, code, crime_group)
    sensitive = disclosure.covers_sensitive(f, crime_groups=[crime_group])
    return disclosure.protect(hist, "n", sensitive, dims=["month"])
