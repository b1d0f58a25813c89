"""Counts and rates per 100,000 inhabitants with denominators that match the filters.

Definitions (shown to users in ``DEFINITIONS``; the counting unit and the grain of the sources are
defined in ``core.methodology``):
- Unit of count: one victim of an offence as recorded, or one event (hecho), never added together
  (``Filters.unit``); for crimes recorded by several institutions the reconciliation rule decides
  which records count (``counted``).
- Rate: victims (or events) / person-years x 100,000, where person-years = population of the matching
  sex and age groups summed over the years of the period (so it is an average annual rate).
  A year that the data cover only in part contributes only the months covered.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import chi2

from core import disclosure, spatial, warehouse, yearcube
from core.filters import Filters, filter_options

PER = 100_000
CONFIDENCE = 0.95  # of the intervals shown next to every rate
INTERVAL_LABEL = "IC 95 %"

RATE_NAME = "Tasa por 100,000 habitantes"  # the definition's title
PER_LABEL = "por 100,000 hab."  # the unit of every rate
RATE_LABEL = f"Tasa {PER_LABEL}"  # controls, axes and legends
RATE_ANNUAL_LABEL = "Tasa anual por 100,000 hab."  # a headline rate over the period (an annual mean)
RATE_COLUMN = "Tasa por 100,000"  # table columns and tooltips
SEX_PEOPLE = {"M": "mujeres", "H": "hombres"}  # the population of a rate of one sex


def rate_definition(unit_label: str) -> str:
    """The rate's formula in one sentence, for the unit shown ('Víctimas' or 'Hechos')."""
    return (f"{unit_label} ÷ personas-año × 100,000, con la población del mismo sexo y grupo de edad que el filtro "
            "(o la total, si no hay desagregación, y se indica).")


DEFINITIONS = {
    RATE_NAME: "Víctimas (o hechos, según la unidad elegida) ÷ (población del periodo) × "
                                   "100,000. Con varios años, la población se suma año por año (personas-año), de "
                                   "modo que la tasa es un promedio anual. "
                                   "El denominador corresponde al mismo sexo y grupo de edad que el filtro.",
    "Tasa suavizada (Bayes empírico)": "En municipios con poca población, una o dos víctimas más cambian mucho la "
                                       "tasa. La tasa suavizada acerca cada tasa a la media nacional, tanto más "
                                       "cuanto menor es su población (estimador de Marshall). La media es siempre la "
                                       "del país, de modo que la tasa de un municipio no cambia al elegir su "
                                       "departamento.",
    "Tasa suavizada espacial (Bayes empírico)": "Como la anterior, pero cada tasa se acerca a la media de su "
                                                "vecindario (el municipio y los que lindan con él) en lugar de la "
                                                "nacional: respeta las diferencias entre regiones.",
    "Intervalo de confianza (IC 95 %)": "Rango de tasas compatibles con la cifra observada si los casos siguen una "
                                        "distribución de Poisson (intervalo exacto de Garwood): con pocos casos el "
                                        "intervalo es ancho. Dos tasas cuyos intervalos se solapan no se distinguen "
                                        "con seguridad.",
    "Años parciales": "Si los datos cubren solo una parte de un año, ese año se marca como parcial y su población "
                      "se cuenta solo por los meses cubiertos.",
}


@dataclass(frozen=True)
class Denominator:
    person_years: float | None
    note: str | None  # why the denominator is not an exact match (fallback), or None


@dataclass(frozen=True)
class Headline:
    count: int
    rate: float | None
    denominator: Denominator
    latest_year: int
    latest_count: int
    previous_count: int | None
    change_pct: float | None
    municipalities_with_cases: int
    municipalities: int


# --------------------------------------------------------------------------------------
# Period coverage
# --------------------------------------------------------------------------------------

@warehouse.cached
def data_period() -> tuple[dt.date, dt.date]:
    meta = warehouse.meta()
    return dt.date.fromisoformat(meta["period_start"]), dt.date.fromisoformat(meta["period_end"])


def year_coverage(year: int) -> float:
    """Share of the year (in months) covered by the data period: 1.0 for a complete year."""
    start, end = data_period()
    first = max(start, dt.date(year, 1, 1))
    last = min(end, dt.date(year, 12, 31))
    if last < first:
        return 0.0
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return min(months, 12) / 12


def partial_years(year_from: int, year_to: int) -> list[int]:
    return [y for y in range(year_from, year_to + 1) if year_coverage(y) < 1]


def year_label(year: int) -> str:
    return f"{year} (parcial)" if year_coverage(year) < 1 else str(year)


# --------------------------------------------------------------------------------------
# Denominators
# --------------------------------------------------------------------------------------

@warehouse.cached
def population_split() -> tuple[bool, bool]:
    """Whether municipal population is split by sex (H/M) and by age group."""
    row = warehouse.query("""
        SELECT bool_and(p.sex IN ('H', 'M')) AS by_sex, bool_and(p.age_group <> 'total') AS by_age
        FROM population p JOIN territory t ON t.code = p.code AND t.level = 'departamento'
    """)
    if row.empty or row["by_sex"].isna().iloc[0]:
        return False, False
    return bool(row["by_sex"].iloc[0]), bool(row["by_age"].iloc[0])


@dataclass(frozen=True)
class PopulationRule:
    """Which population rows match the sex and age filters: ``sexes`` (('T',) when the population is
    not split by sex; empty when no population matches, as for victims without a registered sex),
    ``ages`` (None: every age row of the split, or ('total',) when not split by age) and the note
    on an approximate denominator."""
    sexes: tuple[str, ...]
    ages: tuple[str, ...] | None
    note: str | None


def _population_terms(f: Filters) -> PopulationRule:
    """The population rows matching the sex/age filters, and a fallback note."""
    by_sex, by_age = population_split()
    notes = []
    sexes = tuple(s for s in f.sexes if s in ("H", "M"))
    if f.sexes and not sexes:
        return PopulationRule((), None, "No hay población para víctimas sin sexo registrado: la tasa no se calcula.")
    if by_sex:
        sexes = sexes or ("H", "M")
        if "ND" in f.sexes:
            notes.append("las víctimas sin sexo registrado se cuentan en el numerador")
    else:
        sexes = ("T",)
        if f.sexes:
            notes.append("no hay población por sexo: se usa la población total")
    ages: tuple[str, ...] | None = tuple(a for a in f.age_groups if a != "ND")
    if f.age_groups and not ages:
        return PopulationRule((), None, "No hay población para víctimas sin edad registrada: la tasa no se calcula.")
    if by_age:
        ages = ages or None
        if "ND" in f.age_groups:
            notes.append("las víctimas sin edad registrada se cuentan en el numerador")
    else:
        ages = ("total",)
        if f.age_groups:
            notes.append("no hay población por edad: se usa la población de todas las edades")
    estimated = estimated_population(f.year_from, f.year_to) if f.year_from is not None and f.year_to is not None else None
    if estimated:
        notes.append(estimated)
    note = ("Denominador aproximado: " + "; ".join(notes) + ".") if notes else None
    return PopulationRule(sexes, ages, note)


@warehouse.cached
def _estimated_population() -> pd.DataFrame:
    """Years whose population was estimated at load time (not in the source), with the method."""
    return warehouse.query("""
        SELECT p.year::INTEGER AS year, p.estimated, count(DISTINCT p.code) AS territories
        FROM population p JOIN territory t ON t.code = p.code AND t.level IN ('municipio', 'departamento')
        WHERE p.estimated IS NOT NULL AND p.estimated NOT LIKE 'suma de%'
        GROUP BY ALL ORDER BY ALL
    """)


def estimated_population(year_from: int, year_to: int) -> str | None:
    """'población estimada para 2019 (año más cercano (2020))…' when a year of the period has an
    estimated denominator; None when every year's population is in the source."""
    df = _estimated_population()
    df = df[df["year"].between(year_from, year_to)]
    if df.empty:
        return None
    parts = [f"{y}: {', '.join(sorted(set(g['estimated'])))}" for y, g in df.groupby("year")]
    return "la población de algunos años no está en la fuente y se estimó (" + "; ".join(parts) + ")"


def population_note(f: Filters) -> str | None:
    """What ``person_years(f).note`` says (an approximate or missing denominator), without computing it."""
    return _population_terms(f).note


@warehouse.cached
def population_rows() -> pd.DataFrame:
    """Every population row with its territory's level, department and parent, held in memory once
    per published warehouse (tens of thousands of rows): person-years are sums over it."""
    return warehouse.query("""
        SELECT p.code, p.year::INTEGER AS year, p.sex, p.age_group, p.population, t.level, t.dept_code, t.parent_code
        FROM population p JOIN territory t ON t.code = p.code
    """)


POPULATION_COLUMNS = {"p.code": "code", "p.year": "year", "p.sex": "sex", "p.age_group": "age_group",
                      "t.dept_code": "dept_code", "t.parent_code": "parent_code"}


def person_years_table(f: Filters, level: str, by: Sequence[str] = (), totals: bool = False) -> pd.DataFrame:
    """The one person-years computation every rate uses: the sum over the period of each year's
    population times the share of that year the data covers (``year_coverage``), over the
    population rows that match the sex and age filters (``_population_terms``; ``totals``: the rows
    without a split, as aldeas have), of the territories of ``level`` (within ``f.dept_code`` when
    set), grouped by the columns ``by`` (``POPULATION_COLUMNS``: p.code, p.year, p.sex, p.age_group,
    t.dept_code, t.parent_code). Columns g0, g1, ... (one per ``by``, in their order) and
    population; without ``by``, one row (population missing when no row matches); no row when no
    population matches (victims without a registered sex or age)."""
    f = f.resolved(filter_options())
    rule = PopulationRule(("T",), ("total",), None) if totals else _population_terms(f)
    groups = [f"g{i}" for i in range(len(by))]
    if not rule.sexes:
        return pd.DataFrame({**{g: pd.Series(dtype=object) for g in groups}, "population": pd.Series(dtype="float64")})
    pop = population_rows()
    coverage = {y: year_coverage(y) for y in range(f.first_year, f.last_year + 1)}
    keep = (pop["level"] == level) & pop["year"].isin(list(coverage)) & pop["sex"].isin(rule.sexes)
    if rule.ages is not None:
        keep &= pop["age_group"].isin(rule.ages)
    if f.dept_code:
        keep &= pop["dept_code"] == f.dept_code
    rows = pop[keep.to_numpy()]
    weighted = rows["population"].to_numpy(dtype="float64") * rows["year"].map(coverage).to_numpy(dtype="float64")
    if not groups:
        return pd.DataFrame({"population": [float(weighted.sum()) if len(rows) else None]})
    keys = [rows[POPULATION_COLUMNS[expr]].rename(g) for expr, g in zip(by, groups)]
    return (pd.Series(weighted, index=rows.index).groupby(keys, sort=True, dropna=False).sum()
            .rename("population").reset_index())


@warehouse.cached
def person_years(f: Filters) -> Denominator:
    f = f.resolved(filter_options())
    table = person_years_table(f, "departamento")
    value = table["population"].iloc[0] if len(table) else None
    return Denominator(float(value) if value is not None and pd.notna(value) and value else None, population_note(f))


@warehouse.cached
def person_years_by_year(f: Filters) -> dict[int, float | None]:
    """``person_years`` of each year of the period, in one query."""
    f = f.resolved(filter_options())
    df = person_years_table(f, "departamento", ["p.year"])
    got = dict(zip(df["g0"].astype(int), df["population"]))
    return {y: float(got[y]) if got.get(y) else None for y in range(f.first_year, f.last_year + 1)}


def rate_label(f: Filters) -> str:
    """The title of a rate: per 100,000 women (or men) when the filters count one sex and the
    population has sexes (the denominator is then that sex's population), per 100,000 inhabitants
    otherwise."""
    by_sex, _ = population_split()
    if by_sex and len(f.sexes) == 1 and f.sexes[0] in SEX_PEOPLE:
        return f"Tasa por 100,000 {SEX_PEOPLE[f.sexes[0]]}"
    return RATE_LABEL


def rate(count: float, denominator: float | None) -> float | None:
    if not denominator:
        return None
    return count / denominator * PER


def count_interval(n, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) interval of a Poisson mean from observed counts ``n``:
    lower = χ²(α/2; 2n) / 2 (0 when n = 0), upper = χ²(1 − α/2; 2n + 2) / 2, α = 1 − confidence."""
    n = np.asarray(n, dtype="float64")
    alpha = 1 - confidence
    with np.errstate(invalid="ignore"):
        lower = np.where(n > 0, chi2.ppf(alpha / 2, 2 * np.maximum(n, 0)) / 2, 0.0)
        upper = chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2
    return np.where(np.isnan(n), np.nan, lower), upper


def rate_interval(n, population, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """The exact Poisson interval of rates per 100,000: ``count_interval`` ÷ person-years × 100,000;
    NaN where there is no population."""
    lower, upper = count_interval(n, confidence)
    p = np.asarray(population, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(p) & (p > 0)
        return (np.where(ok, lower / np.where(ok, p, 1) * PER, np.nan),
                np.where(ok, upper / np.where(ok, p, 1) * PER, np.nan))


def with_intervals(df: pd.DataFrame, count: str = "n", population: str = "population") -> pd.DataFrame:
    """``df`` with rate_lo and rate_hi: the interval of its rate (columns ``count`` and ``population``)."""
    lower, upper = rate_interval(df[count].to_numpy(dtype="float64"), df[population].to_numpy(dtype="float64"))
    return df.assign(rate_lo=lower, rate_hi=upper)


def overlap_ranks(rate_values, lower, upper) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the best and the worst rank by rate (1 = highest, ties share the best) among the
    rows whose interval overlaps its own (itself included): the ranks it cannot be told apart from.
    Rows without a rate get -1."""
    r = np.asarray(rate_values, dtype="float64")
    lo = np.asarray(lower, dtype="float64")
    hi = np.asarray(upper, dtype="float64")
    ok = ~(np.isnan(r) | np.isnan(lo) | np.isnan(hi))
    if not ok.any():
        return np.full(len(r), -1), np.full(len(r), -1)
    rank = pd.Series(np.where(ok, r, np.nan)).rank(ascending=False, method="min").to_numpy()
    overlap = (lo[:, None] <= hi[None, :]) & (hi[:, None] >= lo[None, :]) & ok[:, None] & ok[None, :]
    best = np.where(overlap, rank[None, :], np.inf).min(axis=1)
    worst = np.where(overlap, rank[None, :], -np.inf).max(axis=1)
    return np.where(ok, best, -1).astype(int), np.where(ok, worst, -1).astype(int)


def imprecise(rate_values, lower, upper) -> np.ndarray:
    """Rates whose interval is wider than the rate itself (few cases or a small population): their
    value and rank say little."""
    r = np.asarray(rate_values, dtype="float64")
    with np.errstate(invalid="ignore"):
        return (np.asarray(upper, dtype="float64") - np.asarray(lower, dtype="float64")) > r


def interval_text(lower, upper, formatter) -> str:
    """«8.1 a 17.9» (or «—» when there is no interval)."""
    if lower is None or upper is None or pd.isna(lower) or pd.isna(upper):
        return "—"
    return f"{formatter(lower)} a {formatter(upper)}"


# --------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------

@warehouse.cached
def total_count(f: Filters) -> int:
    row = yearcube.sums(f).iloc[0]
    return disclosure.published_count(row["n"], row["ck"])


@warehouse.cached
def headline(f: Filters) -> Headline:
    opts = filter_options()
    f = f.resolved(opts)
    count = total_count(f)
    den = person_years(f)
    latest = f.last_year
    latest_count = total_count(replace(f, year_from=latest, year_to=latest))
    previous_count = change = None
    if latest - 1 >= opts.min_year:
        previous_count = total_count(replace(f, year_from=latest - 1, year_to=latest - 1))
        if previous_count and year_coverage(latest) == year_coverage(latest - 1):
            change = (latest_count - previous_count) / previous_count * 100
    n_with = yearcube.sums(f, ("muni_code",))["muni_code"].notna().sum()
    n_munis = warehouse.scalar(
        "SELECT count(*) FROM territory WHERE level = 'municipio'" + (" AND dept_code = ?" if f.dept_code else ""),
        [f.dept_code] if f.dept_code else [])
    return Headline(count, rate(count, den.person_years), den, latest, latest_count, previous_count, change,
                    int(n_with), int(n_munis))


@warehouse.cached
def yearly(f: Filters, by: str | None = "crime_group") -> pd.DataFrame:
    """Victims per year (optionally split by crime_group or crime_type) with the matching rate.

    Columns: year, [by], n, population, rate, rate_lo, rate_hi (exact 95 % interval), partial.
    """
    if by not in (None, "crime_group", "crime_type"):
        raise ValueError(f"unsupported breakdown {by!r}")
    f = f.resolved(filter_options())
    counts = disclosure.published(yearcube.sums(f, ("year", by) if by else ("year",)))
    pops = person_years_by_year(f)
    if by:
        # every year x category, zeros included, so that lines do not skip empty years
        cats = counts[by].unique()
        grid = pd.MultiIndex.from_product([range(f.first_year, f.last_year + 1), cats], names=["year", by]).to_frame(index=False)
        counts = grid.merge(counts, on=["year", by], how="left")
    else:
        counts = pd.DataFrame({"year": range(f.first_year, f.last_year + 1)}).merge(counts, on="year", how="left")
    counts["n"] = counts["n"].fillna(0).astype("int64")
    counts["population"] = counts["year"].map(pops)
    counts["rate"] = [rate(n, p) for n, p in zip(counts["n"], counts["population"])]
    counts = with_intervals(counts)
    counts["partial"] = counts["year"].map(lambda y: year_coverage(int(y)) < 1)
    return counts


@warehouse.cached
def monthly(f: Filters, by: str | None = "crime_group") -> pd.DataFrame:
    """Victims per month (optionally split by crime_group or crime_type). Columns: month, [by], n."""
    if by not in (None, "crime_group", "crime_type"):
        raise ValueError(f"unsupported breakdown {by!r}")
    where, params = f.resolved(filter_options()).where("cube")
    key = f", {by}" if by else ""
    return disclosure.published(warehouse.query(
        f"SELECT month{key}, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_cube WHERE {where} "
        f"GROUP BY ALL ORDER BY ALL", params))


def eb_smooth(n, population) -> np.ndarray:
    """Empirical-Bayes rates per 100,000 (Marshall 1991, global method of moments).

    With r_i = n_i / P_i, b = sum(n) / sum(P), s2 = sum(P_i (r_i - b)^2) / sum(P) and
    a = max(0, s2 - b / (sum(P) / k)) over the k areas with population, the smoothed rate is
    b + C_i (r_i - b) with C_i = a / (a + b / P_i): areas with little population move towards b.
    Areas without population get NaN.
    """
    n = np.asarray(n, dtype="float64")
    p = np.asarray(population, dtype="float64")
    out = np.full(len(n), np.nan)
    ok = np.isfinite(p) & (p > 0)
    if not ok.any():
        return out
    n_ok, p_ok = n[ok], p[ok]
    r = n_ok / p_ok
    b = n_ok.sum() / p_ok.sum()
    s2 = (p_ok * (r - b) ** 2).sum() / p_ok.sum()
    a = max(0.0, s2 - b / (p_ok.sum() / ok.sum()))
    weight = a / (a + b / p_ok) if a + b > 0 else np.zeros_like(p_ok)
    out[ok] = (b + weight * (r - b)) * PER
    return out


def spatial_eb_smooth(n, population, adjacency: np.ndarray) -> np.ndarray:
    """Spatial Empirical-Bayes rates per 100,000: Marshall's estimator with a local prior, the
    neighbourhood N_i of each area being itself and its neighbours (``adjacency``, 0/1) with population:
    b_i = Σ_N n / Σ_N P, s2_i = Σ_N P_j (r_j − b_i)² / Σ_N P, a_i = max(0, s2_i − b_i / (Σ_N P / |N_i|)),
    smoothed = b_i + a_i / (a_i + b_i / P_i) (r_i − b_i) (the definition of GeoDa and PySAL's
    ``esda.smoothing.Spatial_Empirical_Bayes``). Areas without population get NaN."""
    n = np.asarray(n, dtype="float64")
    p = np.asarray(population, dtype="float64")
    ok = np.isfinite(p) & (p > 0)
    out = np.full(len(n), np.nan)
    if not ok.any():
        return out
    hood = (np.asarray(adjacency, dtype="float64") > 0).astype("float64")
    np.fill_diagonal(hood, 1.0)
    hood = hood[np.ix_(ok, ok)]
    n_ok, p_ok = n[ok], p[ok]
    r = n_ok / p_ok
    sum_p = hood @ p_ok
    b = (hood @ n_ok) / sum_p
    s2 = (hood * p_ok[None, :] * (r[None, :] - b[:, None]) ** 2).sum(axis=1) / sum_p
    a = np.maximum(0.0, s2 - b / (sum_p / hood.sum(axis=1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(a + b / p_ok > 0, a / (a + b / p_ok), 0.0)
    out[ok] = (b + weight * (r - b)) * PER
    return out


@warehouse.cached
def municipalities_by_code() -> pd.DataFrame:
    """Every municipality: code, name, dept_code, department (by code)."""
    return warehouse.query("""
        SELECT t.code, t.name, t.dept_code, d.name AS department
        FROM territory t JOIN territory d ON d.code = t.dept_code AND d.level = 'departamento'
        WHERE t.level = 'municipio' ORDER BY t.code
    """)


@warehouse.cached
def municipal_person_years(year_from: int, year_to: int, sexes: tuple[str, ...] = (),
                           age_groups: tuple[str, ...] = (), by_year: bool = False) -> pd.DataFrame:
    """Person-years of each municipality with population matching the sex and age filters (the
    rule of ``person_years``), over the period or per year (``by_year``). Columns: code, [year,]
    population. Cached apart from the counts: a change of crime type does not recompute it."""
    f = Filters(year_from=year_from, year_to=year_to, sexes=sexes, age_groups=age_groups)
    df = person_years_table(f, "municipio", ["p.code", "p.year"] if by_year else ["p.code"])
    return df.rename(columns={"g0": "code", "g1": "year"})


@warehouse.cached
def by_municipality(f: Filters) -> pd.DataFrame:
    """Every municipality in scope with its victims, person-years, rate, interval and smoothed rates
    (columns: see ``by_municipality_many``)."""
    return by_municipality_many((f,))[0]


@warehouse.cached
def by_municipality_many(fs: tuple[Filters, ...]) -> tuple[pd.DataFrame, ...]:
    """``by_municipality`` of several filters, counted in one pass over the yearly cube.

    The smoothed rates are computed over every municipality of the country and then narrowed to
    the department of the filter: a municipality's smoothed rate does not depend on which
    department is shown. Columns: code, name, dept_code, department, n, population, rate, rate_lo,
    rate_hi (the exact 95 % interval), rate_eb (towards the national mean) and rate_seb (towards
    the neighbourhood's)."""
    opts = filter_options()
    fs = tuple(f.resolved(opts) for f in fs)
    out = []
    munis = municipalities_by_code()
    adjacency = spatial.adjacency(munis["code"])
    for f in fs:
        counts = disclosure.published(yearcube.sums(replace(f, dept_code=None), ("muni_code",))).set_index("muni_code")["n"]
        df = munis.assign(n=munis["code"].map(counts).fillna(0).astype("int64"))
        population = municipal_person_years(f.year_from, f.year_to, f.sexes, f.age_groups)
        df["population"] = df["code"].map(population.set_index("code")["population"]).astype("float64")
        df["rate"] = [rate(n, p) for n, p in zip(df["n"], df["population"])]
        df = with_intervals(df)
        df["rate_eb"] = eb_smooth(df["n"], df["population"])
        df["rate_seb"] = spatial_eb_smooth(df["n"], df["population"], adjacency)
        if f.dept_code:
            df = df[df["dept_code"] == f.dept_code].reset_index(drop=True)
        out.append(df)
    return tuple(out)


@warehouse.cached
def municipality_year_counts(f: Filters) -> pd.DataFrame:
    """Victims of every municipality in scope (rows, by code) in each year of the period (columns)."""
    f = f.resolved(filter_options())
    counts = disclosure.published(yearcube.sums(f, ("muni_code", "year"))).rename(columns={"muni_code": "code"})
    munis = municipalities_by_code()
    codes = munis.loc[munis["dept_code"] == f.dept_code, "code"] if f.dept_code else munis["code"]
    wide = counts.pivot(index="code", columns="year", values="n")
    return wide.reindex(index=pd.Index(codes.to_numpy(), name="code"),
                        columns=range(f.first_year, f.last_year + 1), fill_value=0).fillna(0).astype("int64")


@warehouse.cached
def by_municipality_year(f: Filters) -> pd.DataFrame:
    """``by_municipality`` for each year of the period.

    Columns: code, year, n, population, rate, rate_lo, rate_hi.
    """
    f = f.resolved(filter_options())
    df = municipality_year_counts(f).stack().rename("n").reset_index()
    df["year"] = df["year"].astype("int64")
    population = municipal_person_years(f.year_from, f.year_to, f.sexes, f.age_groups, by_year=True)
    population = population.assign(year=population["year"].astype("int64")).set_index(["code", "year"])["population"]
    df["population"] = population.reindex(pd.MultiIndex.from_frame(df[["code", "year"]])).to_numpy(dtype="float64")
    df["rate"] = [rate(n, p) for n, p in zip(df["n"], df["population"])]
    return with_intervals(df)


@warehouse.cached
def aldea_person_years(year_from: int, year_to: int) -> pd.DataFrame:
    """Person-years of every aldea with population in the years (aldea population is a total:
    sex 'T', age 'total'). Columns: code, parent_code, population."""
    df = person_years_table(Filters(year_from=year_from, year_to=year_to), "aldea", ["p.code", "t.parent_code"], totals=True)
    return df.rename(columns={"g0": "code", "g1": "parent_code"})


@warehouse.cached
def departments() -> pd.DataFrame:
    """Every department: code, name (in code order)."""
    return warehouse.query("SELECT code, name FROM territory WHERE level = 'departamento' ORDER BY code")


@warehouse.cached
def department_person_years(year_from: int, year_to: int, sexes: tuple[str, ...] = (),
                            age_groups: tuple[str, ...] = ()) -> pd.DataFrame:
    """Person-years of each department matching the sex and age filters (its own population, or the
    sum of its municipalities: the loader writes both the same way). Columns: code, population."""
    f = Filters(year_from=year_from, year_to=year_to, sexes=sexes, age_groups=age_groups)
    return person_years_table(f, "departamento", ["p.code"]).rename(columns={"g0": "code"})


@warehouse.cached
def by_department(f: Filters) -> pd.DataFrame:
    """Every department in scope with its count (its municipalities and the counts a source gives
    only by department), person-years and rate.

    Columns: code, name, n, population, rate, rate_lo, rate_hi, rate_eb, rate_seb (smoothed over every
    department, then narrowed to the filter's).
    """
    f = f.resolved(filter_options())
    counts = disclosure.published(yearcube.sums(replace(f, dept_code=None), ("dept_code",))).set_index("dept_code")["n"]
    depts = departments().copy()
    depts["n"] = depts["code"].map(counts).fillna(0).astype("int64")
    population = department_person_years(f.year_from, f.year_to, f.sexes, f.age_groups).set_index("code")["population"]
    depts["population"] = depts["code"].map(population).astype("float64")
    depts["rate"] = [rate(n, p) for n, p in zip(depts["n"], depts["population"])]
    depts = with_intervals(depts)
    depts["rate_eb"] = eb_smooth(depts["n"], depts["population"])
    depts["rate_seb"] = spatial_eb_smooth(depts["n"], depts["population"], spatial.adjacency(depts["code"], "departamento"))
    if f.dept_code:
        depts = depts[depts["code"] == f.dept_code].reset_index(drop=True)
    return depts


@warehouse.cached
def sources() -> pd.DataFrame:
    return warehouse.query("""
        SELECT s.source, s.institution, s.file, s.rows_read, s.rows_loaded, s.rows_rejected,
               min(c.month) AS first_month, max(c.month) AS last_month
        FROM source s LEFT JOIN source_month c ON c.source = s.source
        GROUP BY ALL ORDER BY s.rows_loaded DESC
    """)


SYNTHETIC_MARK = "DATOS SINTÉTICOS DE DEMOSTRACIÓN"


def source_line(f: Filters) -> str:
    """The source of a figure drawn with filters ``f``, as its caption says it: the country, how many
    institutions' records, what is selected (core.filters.Filters.describe) and, for a synthetic
    warehouse, that the data are not real."""
    meta = warehouse.meta()
    line = (f"Fuente: {meta.get('country_name', '')}, registros consolidados de {len(sources())} instituciones · "
            f"{f.describe(filter_options())}")
    return line + (f" · {SYNTHETIC_MARK}" if warehouse.is_synthetic() else "")
