"""Figures and tables as the pages show them: already protected for the mode in force.

Pages only format and draw: every call that decides what public mode hides (which counts are
sensitive, primary and complementary suppression, derived figures blanked) lives here, once per
view, so that a new page cannot forget one (``tests/test_views.py`` fails if a page or app.py
imports ``core.disclosure``: what they need to read a protected table is re-exported here).
The counts themselves already carry their cell-key adjustment (``disclosure.published``, where
the core reads them). Internal mode returns the tables unchanged.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from core import disclosure, municipality, rates, schools, spatial, trend
from core.filters import Filters, filter_options

# What pages need to read and draw a protected table (they never import core.disclosure).
SUPPRESSED = disclosure.SUPPRESSED
SMALL_COUNTS = disclosure.SMALL_COUNTS
MIN_COUNT = disclosure.MIN_COUNT
RULES = disclosure.RULES
numeric = disclosure.numeric                          # a protected column as numbers («<5» missing)
as_text = disclosure.as_text                          # columns holding «<5» as text, numbers formatted
label = disclosure.label                              # one protected cell as text
is_suppressed = disclosure.is_suppressed              # which cells read «<5»
suppressed_columns = disclosure.suppressed_columns    # the columns holding «<5»
download_notes = disclosure.notes                     # what a download says about the rules applied


@dataclass(frozen=True)
class Count:
    """One count for a metric or a sentence: its text («<5» when reserved) and whether it is
    reserved (its rate, rank and change are then not shown either)."""
    value: int | None
    text: str
    hidden: bool


def count(f: Filters, value, sensitive: bool | None = None, below_municipality: bool = False) -> Count:
    """A count under the filters ``f`` (sensitive when they may include a sensitive crime type or
    only minors, unless ``sensitive`` says otherwise)."""
    flag = disclosure.covers_sensitive(f) if sensitive is None else sensitive
    return Count(None if value is None else int(value), disclosure.count_text(value or 0, flag, below_municipality),
                 disclosure.hides(value or 0, flag, below_municipality))


def sensitive_hidden(value) -> bool:
    """Whether a count of a sensitive crime (violence against women in the priority index) is
    reserved in public mode."""
    return disclosure.hides(value, True)


# ---- Territories --------------------------------------------------------------------------

def municipalities(f: Filters) -> pd.DataFrame:
    """Every municipality in scope (rates.by_municipality), protected: the rows add up to the
    national total and to each department's; the spatially smoothed rate is blank wherever the
    neighbourhood holds a reserved count (``_neighbourhood_protected``)."""
    return _neighbourhood_protected(f, disclosure.protect_territories(f, rates.by_municipality(f)), rates.by_municipality,
                                    "municipio")


def departments(f: Filters) -> pd.DataFrame:
    return _neighbourhood_protected(f, disclosure.protect_territories(f, rates.by_department(f)), rates.by_department,
                                    "departamento")


def _neighbourhood_protected(f: Filters, table: pd.DataFrame, territories, level: str) -> pd.DataFrame:
    """The spatially smoothed rate of a territory moves towards its neighbourhood's counts: where a
    neighbour's count is reserved (here or in the national view, ``territories`` of the filters
    without their department), trying 1 to 4 would give it back, so the rate is blank (public mode;
    internal mode changes nothing)."""
    if not disclosure.is_public() or "rate_seb" not in table:
        return table
    scope = replace(f, dept_code=None)
    national = disclosure.protect_territories(scope, territories(scope))
    hidden = set(national.loc[disclosure.is_suppressed(national["n"]).to_numpy(), "code"]) | set(
        table.loc[disclosure.is_suppressed(table["n"]).to_numpy(), "code"])
    hood = spatial.neighbours(level)
    blank = [code in hidden or any(other in hidden for other in hood.get(code, ())) for code in table["code"]]
    return table.assign(rate_seb=table["rate_seb"].where(~pd.Series(blank, index=table.index)))


def national_table(f: Filters) -> pd.DataFrame:
    """municipality.national_table, protected (ranks and peers on the Municipio page)."""
    return disclosure.protect_territories(f, municipality.national_table(f))


TREND_COLUMNS = ("change", "change_lo", "change_hi", "p_value", "dispersion")


def municipal_trends(f: Filters) -> pd.DataFrame:
    """trend.municipal_trends, with the trend blank where any yearly count behind it is reserved (a
    fit to the published years would give the hidden ones back)."""
    table = trend.municipal_trends(f).copy()
    sensitive = disclosure.covers_sensitive(f)
    yearly = rates.municipality_year_counts(f)
    small = set(yearly.index[disclosure.hides_each(yearly.to_numpy(), sensitive).any(axis=1)])
    hidden = table["code"].isin(small)
    for column in TREND_COLUMNS:
        table[column] = table[column].where(~hidden)
    table["verdict"] = table["verdict"].where(~hidden, "")
    return table


def national_trend(f: Filters) -> pd.Series | None:
    """trend.national_trend, or None where a yearly count of the scope is reserved."""
    series = rates.yearly(f, by=None)
    sensitive = disclosure.covers_sensitive(f)
    if disclosure.hides_each(series["n"].to_numpy(), sensitive).any():
        return None
    return trend.national_trend(f)


def year_to_date(f: Filters, code: str | None = None,
                 through_month: int | None = None) -> tuple[trend.YearToDate | None, Count | None, Count | None]:
    """The year so far (to ``through_month`` if given) against the same months of the year before,
    and both counts as shown (when either is reserved, the change is not shown)."""
    return _with_counts(f, trend.year_to_date(f, code, through_month))


def same_month(f: Filters, year: int, month: int,
               code: str | None = None) -> tuple[trend.YearToDate | None, Count | None, Count | None]:
    """One month against the same month of the year before, and both counts as shown."""
    return _with_counts(f, trend.same_month(f, year, month, code))


def _with_counts(f: Filters, result: trend.YearToDate | None) -> tuple[trend.YearToDate | None, Count | None, Count | None]:
    if result is None:
        return None, None, None
    return result, count(f, result.count), count(f, result.previous_count)


# ---- National series (Resumen) --------------------------------------------------------------

def yearly_by_group(f: Filters) -> pd.DataFrame:
    series = rates.yearly(f, by="crime_group")
    return disclosure.protect(series, "n", disclosure.rows_sensitive(f, series, group_column="crime_group"),
                              dims=["year", "crime_group"], derived=disclosure.RATE_COLUMNS)


def yearly_total(f: Filters) -> pd.DataFrame:
    """rates.yearly of the whole scope, protected (a reserved count takes its rate and interval with it)."""
    series = rates.yearly(f, by=None)
    return disclosure.protect(series, "n", disclosure.covers_sensitive(f), dims=["year"], derived=disclosure.RATE_COLUMNS)


def monthly_total(f: Filters, code: str | None = None) -> pd.DataFrame:
    """Counts per month of the scope (or of one municipality), every month of the period with data
    (0 where nothing was recorded). Columns: month (Timestamp), n (protected)."""
    f = f.resolved(filter_options())
    if code:
        raw = municipality.monthly(f, code)[["month", "n"]]
        raw = raw[raw["month"].dt.year.between(f.first_year, f.last_year)]
    else:
        raw = rates.monthly(f, by=None)
        raw = raw.assign(month=pd.to_datetime(raw["month"]))
        start, end = rates.data_period()
        months = pd.date_range(pd.Timestamp(max(start, dt.date(f.first_year, 1, 1)).replace(day=1)),
                               pd.Timestamp(min(end, dt.date(f.last_year, 12, 31))), freq="MS")
        raw = pd.DataFrame({"month": months}).merge(raw[["month", "n"]], on="month", how="left").fillna({"n": 0})
        raw["n"] = raw["n"].astype("int64")
    return disclosure.protect(raw.reset_index(drop=True), "n", disclosure.covers_sensitive(f), dims=["month"])


def monthly_by_group(f: Filters) -> pd.DataFrame:
    series = rates.monthly(f, by="crime_group")
    return disclosure.protect(series, "n", disclosure.rows_sensitive(f, series, group_column="crime_group"),
                              dims=["month", "crime_group"])


# ---- One municipality (Municipio) ----------------------------------------------------------

def municipality_monthly(f: Filters, code: str) -> pd.DataFrame:
    """Monthly counts with the reference (blank where a count behind it is reserved)."""
    sensitive = disclosure.covers_sensitive(f)
    m = disclosure.protect(municipality.monthly(f, code), "n", sensitive, dims=["month"])
    m["reference"] = disclosure.blank_if_small(m["reference"], m["reference_min"], sensitive)
    return m.drop(columns="reference_min")


def municipality_yearly(f: Filters, code: str) -> pd.DataFrame:
    sensitive = disclosure.covers_sensitive(f)
    yr = disclosure.protect(municipality.yearly(f, code), "n", sensitive, dims=["year"], derived=disclosure.RATE_COLUMNS)
    yr["reference_rate"] = disclosure.blank_if_small(yr["reference_rate"], yr["reference_min"], sensitive)
    return yr


def municipality_crime_types(f: Filters, code: str) -> pd.DataFrame:
    raw = municipality.by_crime_type(f, code)
    return disclosure.protect(raw, "n", disclosure.rows_sensitive(f, raw, type_column="crime_type"),
                              dims=["crime_type"], derived=["share"])


def municipality_pyramid(f: Filters, code: str) -> tuple[pd.DataFrame, Count]:
    """Victims by sex and age group, and the count without a recorded sex."""
    raw = municipality.pyramid(f, code)
    table = disclosure.protect(raw, "n", disclosure.rows_sensitive(f, raw, age_column="age_group"),
                               dims=["age_group", "victim_sex"])
    return table, count(f, int(raw.loc[raw["victim_sex"] == "ND", "n"].sum()))


def municipality_weekday_hour(f: Filters, code: str) -> tuple[pd.DataFrame, Count]:
    """Counts by weekday and hour, and the count without a recorded hour."""
    raw = municipality.weekday_hour(f, code)
    table = disclosure.protect(raw, "n", disclosure.covers_sensitive(f), dims=["weekday", "hour"])
    return table, count(f, int(raw.loc[raw["hour"] < 0, "n"].sum()))


def municipality_weapons(f: Filters, code: str) -> pd.DataFrame:
    return disclosure.protect(municipality.by_weapon(f, code), "n", disclosure.covers_sensitive(f), dims=["weapon"])


def municipality_sources(f: Filters, code: str) -> pd.DataFrame:
    return disclosure.protect(municipality.by_source(f, code), ["records", "counted"], disclosure.covers_sensitive(f),
                              dims=["source"])


def municipality_aldeas(f: Filters, code: str) -> tuple[pd.DataFrame, list[str], str | None]:
    """Aldeas by crime group (a cross table below the municipality), the group columns, the note."""
    raw, note = municipality.aldeas(f, code)
    groups = [c for c in raw.columns if c not in ("code", "name", "n", "population", "rate")]
    table = disclosure.protect_crosstab(raw, groups, total="n", derived=["rate"], below_municipality=True)
    return table, groups, note


def municipality_cells(f: Filters, code: str) -> tuple[pd.DataFrame, int]:
    """Geocoded counts in cells (below the municipality): the cells shown and how many are hidden."""
    cells = disclosure.protect(municipality.incident_cells(f, code), "n", dims=["lon", "lat"], below_municipality=True)
    hidden = disclosure.is_suppressed(cells["n"])
    return cells[~hidden].copy(), int(hidden.sum())


# ---- Schools --------------------------------------------------------------------------------

def school_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """The school ranking as shown: counts around a school are below the municipality (1 to 4
    read «<5»; they add up to nothing published), and so is the aldea rate of an aldea with 1 to 4
    victims."""
    shown = disclosure.protect(table, list(schools.NEAR_KEYS), below_municipality=True, complementary=False)
    shown["aldea"] = disclosure.blank_if_small(shown["aldea"], shown["aldea_n"].fillna(0), True)
    return shown
