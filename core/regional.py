"""The regional view: the countries of a regional deployment (core/countries.py) compared on one
standard.

Every country's load maps its own crime names to the shared catalogue (data/crime_types.csv, each
type with its UNODC ICCS code); a crime is comparable when every country has records of it. For
each, the rate per 100,000 inhabitants of each country and year is computed in that country's
warehouse exactly as its own pages compute it (victims over the person-years of the matching
population, exact interval), under the same protection of the deployment's mode; nothing is added
across countries. Department maps share one colour scale: quantile classes of all the countries'
departments together.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core import classify, fmt, geo, rates, views, warehouse
from core.countries import Country, name
from core.filters import Filters, filter_options

DEFINITION = (
    "Cada país carga sus propios registros y los asigna al catálogo común de delitos (cada tipo con su código de la "
    "Clasificación Internacional de Delitos con Fines Estadísticos, ICCS, de UNODC). La tasa de cada país y año es "
    "víctimas ÷ personas-año de su población × 100,000, calculada en su propio almacén como en sus páginas, con su "
    "intervalo exacto. Un delito se compara solo si todos los países tienen registros de él; las fuentes, los años y "
    "la regla de conteo de cada país se muestran abajo: las diferencias entre instituciones y definiciones nacionales "
    "pueden explicar parte de las diferencias entre tasas.")


@dataclass(frozen=True)
class Coverage:
    """What one country's figures stand on."""
    code: str
    name: str
    first: str                      # first and last month with data, «01/2020»
    last: str
    institutions: tuple[str, ...]
    crime_types: tuple[str, ...]    # catalogue types with counted records
    counting_rule: str
    population_source: str
    synthetic: bool
    unmapped: pd.DataFrame          # rows whose crime name is in no type of the catalogue: source, rows, example


@dataclass(frozen=True)
class CountryMap:
    """One country's department map: its table (code, name, n, rate..., class) and GeoJSON."""
    country: Country
    name: str
    table: pd.DataFrame
    collection: dict
    box: tuple[float, float, float, float] | None


def coverage(country: Country) -> Coverage:
    with warehouse.using(country.path):
        meta = warehouse.meta()
        start, end = rates.data_period()
        types = warehouse.query("SELECT crime_type FROM incident_year_cube WHERE counted GROUP BY crime_type "
                                "HAVING sum(n) > 0 ORDER BY crime_type")["crime_type"]
        unmapped = warehouse.query("""
            SELECT source, count(*) AS rows, min(reason) AS example FROM rejected_record
            WHERE reason LIKE '%mapa de tipos de delito%' GROUP BY source ORDER BY source
        """)
        return Coverage(country.code, name(country), f"{start:%m/%Y}", f"{end:%m/%Y}",
                        tuple(rates.sources()["institution"]), tuple(types), meta.get("counting_rule", ""),
                        meta.get("population_source", ""), meta.get("synthetic") == "true", unmapped)


def catalogue(countries: Sequence[Country]) -> pd.DataFrame:
    """The shared catalogue's types with, per country, whether it has records of each, and whether all
    do (``comparable``). Columns: code, name, crime_group, iccs_code, one boolean per country code,
    comparable."""
    with warehouse.using(countries[0].path):
        table = warehouse.query("SELECT code, name, crime_group, iccs_code FROM crime_type ORDER BY iccs_code, code")
    for country in countries:
        table[country.code] = table["code"].isin(coverage(country).crime_types)
    table["comparable"] = table[[c.code for c in countries]].all(axis=1)
    return table


def common_years(countries: Sequence[Country]) -> tuple[int, int] | None:
    """The years every country has data for (first, last), or None when they do not overlap."""
    spans = []
    for country in countries:
        with warehouse.using(country.path):
            opts = filter_options()
            spans.append((opts.min_year, opts.max_year))
    first, last = max(s[0] for s in spans), min(s[1] for s in spans)
    return (first, last) if first <= last else None


def yearly_rates(countries: Sequence[Country], crime_type: str) -> pd.DataFrame:
    """Victims of ``crime_type`` and their rate per 100,000 by country and year (each country over its
    own years; partial years flagged). Columns: country, country_name, year, n (protected), population,
    rate, rate_lo, rate_hi, partial."""
    frames = []
    for country in countries:
        with warehouse.using(country.path):
            series = views.yearly_total(Filters(crime_types=(crime_type,)))
            frames.append(series.assign(country=country.code, country_name=name(country)))
    out = pd.concat(frames, ignore_index=True)
    return out[["country", "country_name", "year", "n", "population", "rate", "rate_lo", "rate_hi", "partial"]]


def department_maps(countries: Sequence[Country], crime_type: str, years: tuple[int, int],
                    k: int = 3) -> tuple[list[CountryMap], classify.Classification]:
    """Each country's departments with their rate of ``crime_type`` over ``years``, classed on one
    scale (quantiles over every country's departments together; a reserved count is never classed by
    its value)."""
    tables = []
    for country in countries:
        with warehouse.using(country.path):
            table = views.departments(Filters(year_from=years[0], year_to=years[1], crime_types=(crime_type,)))
            tables.append(table.assign(country=country.code))
    both = pd.concat(tables, ignore_index=True)
    value = views.numeric(both["rate"])
    classes = classify.classify(value, "cuantiles", k, "incidencia", reserved=views.is_suppressed(both["n"]))
    both = both.assign(value=value.to_numpy(), **{"class": classes.labels.to_numpy()})
    maps = []
    for country in countries:
        table = both[both["country"] == country.code].reset_index(drop=True)
        with warehouse.using(country.path):
            props = table.assign(
                value_label=[views.SUPPRESSED if r else fmt.decimal(v) for v, r in
                             zip(table["value"], views.is_suppressed(table["n"]))],
                n_label=table["n"].map(views.label),
                fill=[classify.hex_to_rgba(classes.color_of(c)) for c in table["class"]])
            collection = geo.feature_collection("departamento", props, ["code", "name", "value_label", "n_label",
                                                                         "class", "fill"])
            maps.append(CountryMap(country, name(country), table, collection, geo.bounds("departamento")))
    return maps, classes
