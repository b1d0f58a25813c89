"""Early warning: municipalities and crime groups whose latest month (or latest three months)
is unusually high compared with the same months of the previous years.

For each municipality x crime group and window (the latest month of the data, and the rolling
window of the latest three months):
- expected = mean of the counts in the same calendar months of the BASELINE_YEARS previous
  years (fewer if the data do not reach back; none -> no alert possible);
- p = P(X >= observed) for X ~ Poisson(expected): the chance of a count at least this high if
  nothing had changed; z = (observed - expected) / sqrt(expected);
- an alert when p < threshold and observed >= the minimum count.
When the baseline months had no case at all, expected = 0: Poisson(0) never gives a case, so
p = 0 and any count from the minimum up is an alert. The probability then measures nothing
(three years of zeros do not make a case impossible); the pages say so next to the row
(``notes``) instead of showing «Esperado 0.0» and a «less than one in a million» chance.
The shared filters (crime types, sex, age, department) narrow the counts; the period's last
year sets the latest month.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import poisson

from core import disclosure, fmt, rates, warehouse
from core.filters import Filters, filter_options

BASELINE_YEARS = 3
DEFAULT_THRESHOLD = 0.01
DEFAULT_MIN_COUNT = 5
WINDOWS = {"mes": "Último mes", "trimestre": "Últimos 3 meses"}

METHOD = (
    "Para cada municipio y grupo de delito se compara el último mes con datos (y los últimos tres meses) con los "
    "mismos meses de los tres años anteriores. **Esperado** = promedio de esos años. **Probabilidad** = "
    "probabilidad de observar al menos esa cifra si el número de víctimas (o de hechos) siguiera una distribución de Poisson "
    "con media igual al esperado; **z** = (observado − esperado) ÷ √esperado. Hay **alerta** cuando la "
    "probabilidad es menor que el umbral y la cifra observada alcanza el mínimo. Si en esos meses de los años "
    "anteriores no se registró ningún caso, el esperado es 0: cualquier cifra que alcance el mínimo da alerta y la "
    "probabilidad no se puede calcular (no mide cuán inusual es la cifra)."
)


def zero_baseline_note(years: str, min_count: int) -> str:
    """Why a row shows «Esperado 0» (no case in the baseline months) and what it means."""
    listed = " y ".join(years.rsplit(", ", 1))
    return (f"Sin casos registrados en los mismos meses de {listed}: con un esperado de 0, cualquier cifra desde "
            f"el mínimo ({min_count}) da alerta; la probabilidad no se puede calcular.")


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


def _month_add(month: dt.date, k: int) -> dt.date:
    y, m = divmod(month.year * 12 + month.month - 1 + k, 12)
    return dt.date(y, m + 1, 1)


def latest_month(f: Filters) -> dt.date:
    """The last month of the data within the period's last year."""
    f = f.resolved(filter_options())
    _, end = rates.data_period()
    last = min(end, dt.date(f.last_year, 12, 31))
    return dt.date(last.year, last.month, 1)


@warehouse.cached
def scan(f: Filters, threshold: float = DEFAULT_THRESHOLD, min_count: int = DEFAULT_MIN_COUNT) -> AlertResult:
    """Columns: code, name, department, crime_group, window, observed, expected, p_value, z, alert,
    years (baseline years used). Sorted with the alerts first, most unlikely first."""
    opts = filter_options()
    f = f.resolved(opts)
    month = latest_month(f)
    start, _ = rates.data_period()
    first_data_month = dt.date(start.year, start.month, 1)
    window = [_month_add(month, -k) for k in range(3)]
    baseline = tuple(y for y in range(month.year - BASELINE_YEARS, month.year)
                     if _month_add(dt.date(y, month.month, 1), -2) >= first_data_month)
    months = [dt.date(y - (month.year - m.year), m.month, 1) for y in (month.year, *baseline) for m in window]
    # every year of the comparison must be in the counts, whatever the period filter says
    where, params = replace(f, year_from=None, year_to=None).where("cube")
    counts = disclosure.published(warehouse.query(f"""
        SELECT muni_code AS code, crime_group, month, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_cube
        WHERE {where} AND month IN (SELECT unnest(?::DATE[]))
        GROUP BY ALL
    """, params + [months]))
    munis = rates.municipalities_by_code()
    if f.dept_code:
        munis = munis[munis["dept_code"] == f.dept_code]
    munis = munis[["code", "name", "department"]]
    groups = sorted(set(opts.crime_group_of[t] for t in f.crime_types) if f.crime_types
                    else f.crime_groups or opts.crime_groups)
    grid = munis.merge(pd.DataFrame({"crime_group": groups}), how="cross")
    total = _month_totals(counts, grid, months)
    rows = []
    for name, months_back in (("mes", 1), ("trimestre", 3)):
        obs_months = window[:months_back]
        obs = total(obs_months)
        base = [total([dt.date(y - (month.year - m.year), m.month, 1) for m in obs_months]) for y in baseline]
        expected = np.mean(base, axis=0) if baseline else np.full(len(grid), np.nan)
        rows.append(grid.assign(window=name, observed=obs, expected=expected))
    table = pd.concat(rows, ignore_index=True)
    lam = table["expected"].to_numpy(dtype="float64")
    obs = table["observed"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(np.isnan(lam), np.nan, np.where(obs <= 0, 1.0, poisson.sf(obs - 1, lam)))
        p = np.where((lam == 0) & (obs > 0), 0.0, p)
        z = np.where(lam > 0, (obs - lam) / np.sqrt(lam), np.nan)
    table["p_value"], table["z"] = p, z
    table["alert"] = (table["p_value"] < threshold) & (table["observed"] >= min_count)
    table["years"] = ", ".join(map(str, baseline))
    table = table.sort_values(["alert", "p_value", "z", "observed"], ascending=[False, True, False, False],
                              na_position="last", ignore_index=True)
    note = None
    if not baseline:
        note = "Los datos no alcanzan años anteriores al último mes: no se pueden calcular alertas."
    elif len(baseline) < BASELINE_YEARS:
        note = f"Solo hay {len(baseline)} año(s) anteriores para comparar (se esperaban {BASELINE_YEARS})."
    return AlertResult(table, month, baseline, note)


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
    out = disclosure.protect(table, "observed", sensitive, lines=[["code", "window"]], derived=["p_value", "z"])
    out["expected"] = disclosure.blank_if_small(out["expected"], out["expected"].fillna(0), sensitive)
    return out


def protected_history(f: Filters, code: str, crime_group: str) -> pd.DataFrame:
    """history() with months of 1 to 4 victims of a sensitive group read "<5" (the months add up
    to published totals)."""
    hist = history(f, code, crime_group)
    sensitive = disclosure.covers_sensitive(f, crime_groups=[crime_group])
    return disclosure.protect(hist, "n", sensitive, dims=["month"])
