"""Violence against women: the crimes the catalogue marks (data/crime_types.csv, column ``vaw``:
femicide, sexual violence, intrafamily and other violence against women), counted for women
victims, with rates per 100,000 women (the population of women of the same ages and years).

Every table comes from the functions the other pages use (rates, views, reports), so the public
mode protects it the same way; this module only says which crimes and which victims.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from core import rates, reports, views, warehouse
from core.filters import Filters, filter_options

WOMEN = ("M",)
RELATION_FIELDS = ("relation", "relacion", "relacion_victima")  # a column the loader would keep if a source had it


@warehouse.cached
def types() -> tuple[str, ...]:
    """The crime types the catalogue marks as violence against women, in catalogue order."""
    return tuple(warehouse.query("SELECT code FROM crime_type WHERE vaw ORDER BY rowid")["code"])


@warehouse.cached
def catalogue() -> pd.DataFrame:
    """code, name, crime_group, iccs_code, definition of these crimes."""
    return warehouse.query("SELECT code, name, crime_group, iccs_code, definition FROM crime_type WHERE vaw ORDER BY rowid")


@dataclass(frozen=True)
class Scope:
    filters: Filters        # the page's filters: these crimes, women victims
    ignored: str | None     # what of the sidebar's selection does not apply here, said on the page


def scope(f: Filters) -> Scope:
    """The sidebar's filters narrowed to these crimes and to women victims. A crime selection that
    names some of these crimes narrows them further; one that names none does not apply (and the
    page says so), nor does a selection of sexes."""
    f = f.resolved(filter_options())
    mine = types()
    chosen = tuple(t for t in f.crime_types if t in mine)
    ignored = []
    if (f.crime_types or f.crime_groups) and not chosen:
        ignored.append("la selección de delitos (no incluye ninguno de estos)")
    if f.sexes and f.sexes != WOMEN:
        ignored.append("el filtro de sexo (aquí se cuentan mujeres)")
    narrowed = replace(f, crime_groups=(), crime_types=chosen or mine, sexes=WOMEN)
    text = ("En esta página no se aplica " + " ni ".join(ignored) + ".") if ignored else None
    return Scope(narrowed, text)


def by_crime(f: Filters) -> reports.Report:
    """Women victims and their rate per 100,000 women by crime type (protected as in the report builder)."""
    return reports.run(reports.ReportSpec(measure="rate", dims=("crime_type",), filters=f, sort="desc"))


def by_age(f: Filters) -> reports.Report:
    """Women victims by age group: the rate per 100,000 women of each age group where the population has
    ages, the count otherwise (the page says which)."""
    _, by_age_split = rates.population_split()
    measure = "rate" if by_age_split else "n"
    return reports.run(reports.ReportSpec(measure=measure, dims=("age_group",), filters=f))


def trend(f: Filters) -> reports.Report:
    """Rate per 100,000 women by year and crime type."""
    return reports.run(reports.ReportSpec(measure="rate", dims=("year", "crime_type"), filters=f, chart="line"))


def has_relation() -> bool:
    """Whether the records say how the victim and the aggressor are related (no source loaded so far does)."""
    columns = set(warehouse.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'incident'")
                  ["column_name"])
    return bool(columns & set(RELATION_FIELDS))


def priority(f: Filters, top: int = 15) -> pd.DataFrame:
    """The municipalities with the highest smoothed rate of these crimes per 100,000 women, from the
    protected table of the map: rank, name, department, victims, rate, its interval, smoothed rate.
    Municipalities whose count is reserved are left out of the ranking (their rate is not shown)."""
    table = views.municipalities(f)
    shown = table[views.numeric(table["rate_eb"]).notna() & ~views.is_suppressed(table["n"])].copy()
    shown["order"] = views.numeric(shown["rate_eb"])
    shown = shown.sort_values(["order", "code"], ascending=[False, True]).head(top)
    shown.insert(0, "rank", range(1, len(shown) + 1))
    return shown[["rank", "code", "name", "department", "n", "population", "rate", "rate_lo", "rate_hi", "rate_eb"]]
