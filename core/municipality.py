"""One municipality in depth: headline figures, trends, breakdowns, aldeas, peers.

The municipality replaces the department filter; every other shared filter applies. Figures
come from ``incident_cube`` (counts) or, for what the cube does not hold (weekday, hour,
weapon, aldea, coordinates), from ``incident`` with the same conditions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core import disclosure, rates, warehouse
from core.filters import Filters, filter_options

WEEKDAYS = ("Lunes", "Martes", "Miércoles", "Jueves", "Viernes", "Sábado", "Domingo")
GRID_DEG = 0.005  # incident points are aggregated into cells of 0.005 degrees (about 550 m)
REFERENCE_YEARS = 3


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    dept_code: str
    department: str
    count: int
    population: float | None
    rate: float | None
    previous_label: str | None      # e.g. "2017–2018", None when the data do not reach back
    previous_count: int | None
    change_pct: float | None        # None when not comparable (no previous period, zero, partial years)
    rank_national: int | None       # by rate, 1 = highest
    n_national: int
    rank_department: int | None
    n_department: int
    department_rate: float | None
    national_rate: float | None
    denominator_note: str | None
    department_count: int = 0       # victims behind department_rate and national_rate
    national_count: int = 0
    rate_lo: float | None = None    # exact 95 % interval of rate (rates.rate_interval)
    rate_hi: float | None = None
    national_band: tuple[int, int] | None = None  # best and worst national rank it cannot be told apart from


def _scope(f: Filters) -> Filters:
    """The shared filters with the period made explicit and without the department."""
    return replace(f.resolved(filter_options()), dept_code=None)


def _where(f: Filters, code: str, table: str = "cube", counted_only: bool = True) -> tuple[str, list]:
    where, params = _scope(f).where(table, counted_only=counted_only)
    return f"{where} AND muni_code = ?", params + [code]


@warehouse.cached
def place_label(name: str, department: str) -> str:
    """A municipality named with its department, never mistaken for a department of the same name:
    'Guatemala (depto. de Guatemala)'."""
    return f"{name} (depto. de {department})"


def department_label(department: str) -> str:
    """A department in a sentence or a label next to its municipalities: 'departamento de Guatemala'."""
    return f"departamento de {department}"


def municipalities() -> pd.DataFrame:
    """Every municipality: code, name, dept_code, department, label (place_label)."""
    df = warehouse.query("""
        SELECT t.code, t.name, t.dept_code, d.name AS department
        FROM territory t JOIN territory d ON d.code = t.dept_code AND d.level = 'departamento'
        WHERE t.level = 'municipio' ORDER BY t.name, d.name
    """)
    df["label"] = [place_label(n, d) for n, d in zip(df["name"], df["department"])]
    return df


def _period_coverage(year_from: int, year_to: int) -> float:
    return sum(rates.year_coverage(y) for y in range(year_from, year_to + 1))


@warehouse.cached
def profile(f: Filters, code: str) -> Profile:
    f = _scope(f)
    opts = filter_options()
    all_munis = rates.by_municipality(f)
    if code not in set(all_munis["code"]):
        raise KeyError(f"municipio desconocido: {code!r}")
    row = all_munis.set_index("code").loc[code]
    ranked = all_munis.dropna(subset=["rate"])
    rank_nat = ranked["rate"].rank(ascending=False, method="min")
    best, worst = rates.overlap_ranks(ranked["rate"], ranked["rate_lo"], ranked["rate_hi"])
    band = {c: (int(b), int(w)) for c, b, w in zip(ranked["code"], best, worst)}.get(code)
    same_dept = ranked[ranked["dept_code"] == row["dept_code"]]
    rank_dept = same_dept["rate"].rank(ascending=False, method="min")
    dept_all = all_munis[all_munis["dept_code"] == row["dept_code"]]
    dept_rate = rates.rate(dept_all["n"].sum(), dept_all["population"].sum(min_count=1))
    national_rate = rates.rate(all_munis["n"].sum(), all_munis["population"].sum(min_count=1))

    length = f.last_year - f.first_year + 1
    prev_from, prev_to = f.first_year - length, f.first_year - 1
    previous_label = previous_count = change = None
    if prev_from >= opts.min_year:
        prev = rates.by_municipality(replace(f, year_from=prev_from, year_to=prev_to)).set_index("code")
        previous_count = int(prev.loc[code, "n"])
        previous_label = str(prev_from) if prev_from == prev_to else f"{prev_from}–{prev_to}"
        comparable = math.isclose(_period_coverage(prev_from, prev_to), _period_coverage(f.first_year, f.last_year))
        if previous_count and comparable:
            change = (int(row["n"]) - previous_count) / previous_count * 100
    return Profile(
        code=code, name=row["name"], dept_code=row["dept_code"], department=row["department"],
        count=int(row["n"]), population=None if pd.isna(row["population"]) else float(row["population"]),
        rate=row["rate"], previous_label=previous_label, previous_count=previous_count, change_pct=change,
        rank_national=int(rank_nat[ranked["code"] == code].iloc[0]) if code in set(ranked["code"]) else None,
        n_national=len(ranked),
        rank_department=int(rank_dept[same_dept["code"] == code].iloc[0]) if code in set(same_dept["code"]) else None,
        n_department=len(same_dept), department_rate=dept_rate, national_rate=national_rate,
        denominator_note=rates.person_years(f).note,
        department_count=int(dept_all["n"].sum()), national_count=int(all_munis["n"].sum()),
        rate_lo=None if pd.isna(row["rate_lo"]) else float(row["rate_lo"]),
        rate_hi=None if pd.isna(row["rate_hi"]) else float(row["rate_hi"]), national_band=band,
    )


@warehouse.cached
def monthly(f: Filters, code: str) -> pd.DataFrame:
    """Victims per month of the period with, as reference, the mean of the same month in the
    REFERENCE_YEARS previous years (where the data reach back).
    Columns: month, n, reference, reference_min (smallest non-zero count behind the reference)."""
    f = _scope(f)
    opts = filter_options()
    everything = replace(f, year_from=opts.min_year, year_to=opts.max_year)
    where, params = _where(everything, code)
    counts = disclosure.published(warehouse.query(
        f"SELECT month, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_cube WHERE {where} GROUP BY month",
        params))
    start, end = rates.data_period()
    months = pd.date_range(pd.Timestamp(start.replace(day=1)), pd.Timestamp(end), freq="MS")
    grid = pd.DataFrame({"month": months})
    counts["month"] = pd.to_datetime(counts["month"])
    grid = grid.merge(counts, on="month", how="left").fillna({"n": 0})
    grid["n"] = grid["n"].astype("int64")
    by_key = dict(zip(zip(grid["month"].dt.year, grid["month"].dt.month), grid["n"]))
    refs, smallest = [], []
    for m in grid["month"]:
        past = [by_key[(m.year - k, m.month)] for k in range(1, REFERENCE_YEARS + 1) if (m.year - k, m.month) in by_key]
        refs.append(float(np.mean(past)) if len(past) == REFERENCE_YEARS else np.nan)
        smallest.append(min([c for c in past if c > 0], default=0))
    grid["reference"] = refs
    grid["reference_min"] = smallest  # smallest non-zero count behind the reference (disclosure control)
    in_period = grid["month"].dt.year.between(f.year_from, f.year_to)
    return grid[in_period].reset_index(drop=True)


@warehouse.cached
def yearly(f: Filters, code: str) -> pd.DataFrame:
    """Victims and rate per year of the period, with the mean rate of the REFERENCE_YEARS previous
    years as reference. Columns: year, n, population, rate, rate_lo, rate_hi, reference_rate, reference_min (smallest
    non-zero count behind the reference), partial."""
    f = _scope(f)
    opts = filter_options()
    every_year = rates.by_municipality_year(replace(f, year_from=opts.min_year))
    df = every_year.loc[every_year["code"] == code, ["year", "n", "population", "rate", "rate_lo", "rate_hi"]].reset_index(drop=True)
    if df.empty:
        raise KeyError(f"municipio desconocido: {code!r}")
    df["reference_rate"] = df["rate"].shift(1).rolling(REFERENCE_YEARS, min_periods=REFERENCE_YEARS).mean()
    positive = df["n"].where(df["n"] > 0)
    df["reference_min"] = positive.shift(1).rolling(REFERENCE_YEARS, min_periods=1).min().fillna(0).astype("int64")
    df["partial"] = df["year"].map(lambda y: rates.year_coverage(int(y)) < 1)
    return df[df["year"] >= f.year_from].reset_index(drop=True)


@warehouse.cached
def by_crime_type(f: Filters, code: str) -> pd.DataFrame:
    """Columns: crime_type, name, crime_group, iccs_code, iccs_section, n, share (%)."""
    where, params = _where(f, code)
    # filter first, join after: the filter's column names must not meet the joined table's
    df = disclosure.published(warehouse.query(f"""
        WITH c AS (SELECT crime_type, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_year_cube
                   WHERE {where} GROUP BY crime_type)
        SELECT c.crime_type, t.name, t.crime_group, t.iccs_code, t.iccs_section, c.n, c.ck
        FROM c JOIN crime_type t ON t.code = c.crime_type
    """, params))
    df = df.sort_values(["n", "name"], ascending=[False, True], ignore_index=True)
    df["share"] = df["n"] / df["n"].sum() * 100 if len(df) else []
    return df


@warehouse.cached
def pyramid(f: Filters, code: str) -> pd.DataFrame:
    """Victims by sex and age group (every age group, zeros included).
    Columns: age_group, label, sort_order, victim_sex, n."""
    where, params = _where(f, code)
    return disclosure.published(warehouse.query(f"""
        WITH c AS (SELECT age_group, victim_sex, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_year_cube
                   WHERE {where} GROUP BY ALL)
        SELECT a.code AS age_group, a.label, a.sort_order, s.sex AS victim_sex, coalesce(c.n, 0)::BIGINT AS n,
               coalesce(c.ck, 0)::BIGINT AS ck
        FROM age_group a CROSS JOIN (VALUES ('H'), ('M'), ('ND')) s(sex)
        LEFT JOIN c ON c.age_group = a.code AND c.victim_sex = s.sex
        ORDER BY a.sort_order, s.sex
    """, params))


@warehouse.cached
def weekday_hour(f: Filters, code: str) -> pd.DataFrame:
    """Victims by weekday (0 = Monday) and hour (-1 = unknown hour). Columns: weekday, day, hour, n."""
    where, params = _where(f, code, table="incident")
    df = disclosure.published(warehouse.query(f"""
        SELECT (isodow(occurred_on) - 1)::INTEGER AS weekday, coalesce(occurred_hour, -1)::INTEGER AS hour,
               {f.measure("incident")}::BIGINT AS n, {f.key_sum("incident")}::BIGINT AS ck
        FROM incident WHERE {where} GROUP BY ALL ORDER BY ALL
    """, params))
    df["day"] = df["weekday"].map(dict(enumerate(WEEKDAYS)))
    return df


@warehouse.cached
def by_weapon(f: Filters, code: str) -> pd.DataFrame:
    where, params = _where(f, code, table="incident")
    df = disclosure.published(warehouse.query(
        f"SELECT weapon, {f.measure('incident')}::BIGINT AS n, {f.key_sum('incident')}::BIGINT AS ck "
        f"FROM incident WHERE {where} GROUP BY weapon HAVING n > 0", params))
    return df.sort_values(["n", "weapon"], ascending=[False, True], ignore_index=True)


@warehouse.cached
def by_source(f: Filters, code: str) -> pd.DataFrame:
    """Records per institution, and how many count in the published figure.
    Columns: source, institution, records, counted."""
    where, params = _where(f, code, counted_only=False)
    df = disclosure.published(warehouse.query(f"""
        WITH c AS (SELECT source, sum(n)::BIGINT AS records, sum(ck)::BIGINT AS ck_records,
                          (sum(n) FILTER (WHERE counted))::BIGINT AS counted,
                          (sum(ck) FILTER (WHERE counted))::BIGINT AS ck_counted
                   FROM incident_year_cube WHERE {where} GROUP BY source)
        SELECT c.source, s.institution, c.records, c.ck_records, coalesce(c.counted, 0)::BIGINT AS counted,
               coalesce(c.ck_counted, 0)::BIGINT AS ck_counted
        FROM c JOIN source s ON s.source = c.source
    """, params), {"records": "ck_records", "counted": "ck_counted"})
    return df.sort_values("records", ascending=False, ignore_index=True)


@warehouse.cached
def aldeas(f: Filters, code: str) -> tuple[pd.DataFrame, str | None]:
    """Aldeas of the municipality with victims by crime group, total, population and rate.

    The rate needs aldea population, which warehouses usually hold only as a total: with a sex or
    age filter it is not computed (the note says why). Victims without an aldea are a row
    ``code = None``. Columns: code, name, <one column per crime group>, n, population, rate.
    """
    f = _scope(f)
    where, params = _where(f, code)
    counts = disclosure.published(warehouse.query(f"""
        SELECT aldea_code AS code, crime_group, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_aldea_cube
        WHERE {where} GROUP BY ALL
    """, params))
    names = warehouse.query("SELECT code, name FROM territory WHERE level = 'aldea' AND parent_code = ? ORDER BY code",
                            [code])
    note = None
    population = rates.aldea_person_years(f.year_from, f.year_to)
    population = population.loc[population["parent_code"] == code, ["code", "population"]]
    if f.sexes or f.age_groups:
        population = population.iloc[0:0]
        note = ("La población de las aldeas no está desagregada por sexo ni edad: con esos filtros no se calcula "
                "la tasa por aldea.")
    elif population.empty and not names.empty:
        note = "No hay población por aldea: solo se muestran conteos."
    wide = counts.pivot_table(index="code", columns="crime_group", values="n", aggfunc="sum", fill_value=0,
                              dropna=False) if not counts.empty else pd.DataFrame()
    groups = list(wide.columns)
    table = names.merge(wide.reset_index(), on="code", how="left") if groups else names.copy()
    unassigned = counts[counts["code"].isna()]
    if not unassigned.empty:
        extra = {"code": None, "name": "Sin aldea registrada"} | unassigned.groupby("crime_group")["n"].sum().to_dict()
        table = pd.concat([table, pd.DataFrame([extra])], ignore_index=True)
    for g in groups:
        table[g] = table[g].fillna(0).astype("int64")
    table["n"] = table[groups].sum(axis=1).astype("int64") if groups else 0
    table = table.merge(population, on="code", how="left")
    table["rate"] = [rates.rate(n, p) if pd.notna(p) else None for n, p in zip(table["n"], table["population"])]
    return table, note


@warehouse.cached
def incident_cells(f: Filters, code: str) -> pd.DataFrame:
    """Geocoded victims aggregated into cells of GRID_DEG degrees (never single records).
    Columns: lon, lat (cell centre), n."""
    where, params = _where(f, code, table="incident")
    df = disclosure.published(warehouse.query(f"""
        SELECT (floor(lon / ?) + 0.5) * ? AS lon, (floor(lat / ?) + 0.5) * ? AS lat,
               {f.measure("incident")}::BIGINT AS n, {f.key_sum("incident")}::BIGINT AS ck
        FROM incident WHERE {where} AND lon IS NOT NULL AND lat IS NOT NULL
        GROUP BY ALL HAVING n > 0
    """, [GRID_DEG, GRID_DEG, GRID_DEG, GRID_DEG] + params))
    return df.sort_values(["n", "lon", "lat"], ascending=[False, True, True], ignore_index=True)


def national_table(f: Filters) -> pd.DataFrame:
    """Every municipality of the country under the filters (the department filter only narrows
    lists on this page): the table the page's ranks and peers come from."""
    return rates.by_municipality(_scope(f))


@warehouse.cached
def peers(f: Filters, code: str, k: int = 5) -> pd.DataFrame:
    """The municipality and the k municipalities of its department closest in population
    (person-years of the period, on a log scale). Columns: code, name, n, population, rate, rate_eb, is_self."""
    munis = national_table(f)
    me = munis.set_index("code").loc[code]
    same = munis[(munis["dept_code"] == me["dept_code"])].copy()
    if pd.isna(me["population"]):
        same["distance"] = np.where(same["code"] == code, 0.0, np.inf)
    else:
        same["distance"] = (np.log(same["population"]) - math.log(me["population"])).abs()
    out = same.sort_values(["distance", "code"]).head(k + 1)
    out["is_self"] = out["code"] == code
    return out[["code", "name", "n", "population", "rate", "rate_eb", "is_self"]].reset_index(drop=True)
