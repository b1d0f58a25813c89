"""Coverage flags: where a figure may be low because a source sent no data, not because there
were fewer crimes.

A source "has no data" in a month of the period when it has no record at all that month, in
the whole country; and in a municipality when it has no record there in the whole period. Only
sources that record some crime type the filters allow are considered (a forensic institute that
records only homicides says nothing about thefts). Partial years are labelled by
``indicators.year_label``.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from core import disclosure, indicators, warehouse
from core.filters import Filters, filter_options


@warehouse.cached
def _source_types() -> dict[str, frozenset[str]]:
    df = warehouse.query("SELECT DISTINCT source, crime_type FROM incident_cube")
    return {s: frozenset(g["crime_type"]) for s, g in df.groupby("source")}


def relevant_sources(f: Filters) -> list[str]:
    """Sources that record at least one crime type allowed by the filters."""
    scope = disclosure.scope_types(f)
    return sorted(s for s, types in _source_types().items() if types & scope)


@warehouse.cached
def _empty_months() -> pd.DataFrame:
    """Every (source, month) of the data period without a single record. Columns: source, institution, month."""
    start, end = indicators.data_period()
    return warehouse.query("""
        WITH months AS (SELECT unnest(generate_series(?::DATE, ?::DATE, INTERVAL 1 MONTH))::DATE AS month)
        SELECT s.source, s.institution, m.month
        FROM source s CROSS JOIN months m
        WHERE s.rows_loaded > 0
          AND NOT EXISTS (SELECT 1 FROM source_month c WHERE c.source = s.source AND c.month = m.month)
        ORDER BY s.source, m.month
    """, [dt.date(start.year, start.month, 1), dt.date(end.year, end.month, 1)])


def month_gaps(f: Filters) -> pd.DataFrame:
    """Months of the selected period in which a relevant source has no data.
    Columns: source, institution, month (Timestamp)."""
    f = f.resolved(filter_options())
    df = _empty_months()
    df = df[df["source"].isin(relevant_sources(f))].copy()
    df["month"] = pd.to_datetime(df["month"])
    return df[df["month"].dt.year.between(f.year_from, f.year_to)].reset_index(drop=True)


def gap_months(f: Filters) -> list[pd.Timestamp]:
    return sorted(month_gaps(f)["month"].unique())


def describe_month_gaps(f: Filters, limit: int = 12) -> str | None:
    """One sentence per source: which months have no data; None when every source is complete."""
    gaps = month_gaps(f)
    if gaps.empty:
        return None
    parts = []
    for institution, group in gaps.groupby("institution", sort=True):
        labels = [m.strftime("%m/%Y") for m in group["month"]]
        parts.append(f"{institution}: {len(labels)} mes(es) sin datos ({', '.join(labels[:limit])}"
                     + ("…" if len(labels) > limit else "") + ")")
    return ("Cobertura incompleta: " + "; ".join(parts) + ". Las cifras de esos meses pueden ser bajas por falta "
            "de datos, no por menos delitos.")


def year_flags(f: Filters) -> dict[int, str]:
    """Years of the period with months in which a relevant source has no data: year -> note."""
    gaps = month_gaps(f)
    out = {}
    for year, group in gaps.groupby(gaps["month"].dt.year):
        out[int(year)] = "; ".join(f"{inst}: {len(g)} mes(es) sin datos" for inst, g in group.groupby("institution"))
    return out


@warehouse.cached
def _empty_municipalities() -> pd.DataFrame:
    """Every (source, municipality) without a single record in the whole period.
    Columns: source, institution, muni_code."""
    return warehouse.query("""
        SELECT s.source, s.institution, t.code AS muni_code
        FROM source s CROSS JOIN territory t
        WHERE s.rows_loaded > 0 AND t.level = 'municipio'
          AND NOT EXISTS (SELECT 1 FROM source_month c WHERE c.source = s.source AND c.muni_code = t.code)
        ORDER BY t.code, s.source
    """)


def municipality_gaps(f: Filters) -> dict[str, str]:
    """Municipalities in which a relevant source has no record in the whole period:
    code -> "Sin datos de <institution>[, <institution>]"."""
    df = _empty_municipalities()
    df = df[df["source"].isin(relevant_sources(f))]
    return {code: "Sin datos de " + ", ".join(g["institution"]) for code, g in df.groupby("muni_code")}
