"""Coverage flags: where a figure may be low because a source sent no data, not because there
were fewer crimes; and what a view leaves out because a source is coarser than the view needs
(dated only by month or year, placed only in a department, counts without individual records)
or counts in the other unit (víctimas / hechos).

A source "has no data" in a month of the period when it has no record at all that month, in
the whole country; and in a municipality when it has no record there in the whole period. Only
sources that record some crime type the filters allow are considered (a forensic institute that
records only homicides says nothing about thefts). Partial years are labelled by
``rates.year_label``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from core import disclosure, rates, warehouse
from core.filters import UNIT_NOUNS, UNITS, Filters, filter_options


@warehouse.cached
def _source_types() -> dict[tuple[str, str], frozenset[str]]:
    """(source, unit) -> the crime types it records in that unit."""
    df = warehouse.query("SELECT DISTINCT source, unit, crime_type FROM incident_cube")
    return {k: frozenset(g["crime_type"]) for k, g in df.groupby(["source", "unit"])}


def relevant_sources(f: Filters) -> list[str]:
    """Sources that record at least one crime type allowed by the filters, in the filters' unit."""
    scope = disclosure.scope_types(f)
    unit = f.resolved(filter_options()).unit
    return sorted(s for (s, u), types in _source_types().items() if u == unit and types & scope)


@warehouse.cached
def _empty_months() -> pd.DataFrame:
    """Every (source, month) of the data period without a single record. Columns: source, institution, month."""
    start, end = rates.data_period()
    return warehouse.query("""
        WITH months AS (SELECT unnest(generate_series(?::DATE, ?::DATE, INTERVAL 1 MONTH))::DATE AS month)
        SELECT s.source, s.institution, m.month
        FROM source s CROSS JOIN months m
        WHERE s.rows_loaded > 0 AND s.date_precision <> 'anio'
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
        WHERE s.rows_loaded > 0 AND t.level = 'municipio' AND s.territory_level = 'municipio'
          AND NOT EXISTS (SELECT 1 FROM source_month c WHERE c.source = s.source AND c.muni_code = t.code)
        ORDER BY t.code, s.source
    """)


def municipality_gaps(f: Filters) -> dict[str, str]:
    """Municipalities in which a relevant source has no record in the whole period:
    code -> "Sin datos de <institution>[, <institution>]"."""
    df = _empty_municipalities()
    df = df[df["source"].isin(relevant_sources(f))]
    return {code: "Sin datos de " + ", ".join(g["institution"]) for code, g in df.groupby("muni_code")}


# --------------------------------------------------------------------------------------
# Grain: what a view cannot include
# --------------------------------------------------------------------------------------

# What a view needs -> (SQL condition on the yearly cube c joined to source s for what it cannot
# include, why, in Spanish).
NEEDS = {
    "mes": ("s.date_precision = 'anio'", "la fuente da solo el año"),
    "municipio": ("c.muni_code IS NULL", "la fuente da solo el departamento"),
    "registro": ("NOT s.record_level", "no son registros con fecha y municipio"),
}
NEED_VIEWS = {"mes": "la serie mensual no incluye", "municipio": "las cifras por municipio no incluyen",
              "registro": "esta vista (día, hora, arma, aldea, coordenadas) no incluye"}


@warehouse.cached
def left_out_counts(f: Filters, need: str) -> pd.DataFrame:
    """Counts of the filters' scope that a view needing ``need`` (NEEDS) cannot include, per source.
    Columns: source, institution, n."""
    cond, _ = NEEDS[need]
    where, params = f.resolved(filter_options()).where("cube")
    df = disclosure.published(warehouse.query(f"""
        SELECT c.source, s.institution, sum(c.n)::BIGINT AS n, sum(c.ck)::BIGINT AS ck
        FROM incident_year_cube c JOIN source s ON s.source = c.source
        WHERE {where} AND {cond}
        GROUP BY ALL HAVING sum(c.n) > 0
    """, params))
    return df.sort_values(["n", "source"], ascending=[False, True], ignore_index=True)


def _count(f: Filters, n: int) -> str:
    return disclosure.count_text(n, disclosure.covers_sensitive(f))


def left_out(f: Filters, *needs: str) -> str | None:
    """One sentence saying what a view leaves out and why, or None when it includes everything.

    E.g. "La serie mensual no incluye 1,204 víctimas de INE (la fuente da solo el año)."
    """
    f = f.resolved(filter_options())
    parts = []
    seen: set[str] = set()
    for need in needs:
        df = left_out_counts(f, need)
        df = df[~df["source"].isin(seen)]
        seen.update(df["source"])
        _, why = NEEDS[need]
        parts += [f"{_count(f, n)} {f.noun(n)} de {inst} ({why})" for inst, n in zip(df["institution"], df["n"])]
    if not parts:
        return None
    view = NEED_VIEWS[needs[0]] if len(needs) == 1 else "esta vista no incluye"
    return f"{view[0].upper()}{view[1:]} " + "; ".join(parts) + "."


@warehouse.cached
def department_only(f: Filters, dept_code: str) -> int:
    """The count a source gives only by department for ``dept_code`` (not assigned to any municipality)."""
    where, params = f.resolved(filter_options()).where("cube")
    row = warehouse.query(f"SELECT coalesce(sum(n), 0) AS n, coalesce(sum(ck), 0) AS ck FROM incident_year_cube "
                          f"WHERE {where} AND muni_code IS NULL AND dept_code = ?", params + [dept_code]).iloc[0]
    return disclosure.published_count(row["n"], row["ck"])


def department_only_note(f: Filters, dept_code: str, dept_name: str) -> str | None:
    """The note of a municipal figure whose department has counts with no municipality."""
    n = department_only(f, dept_code)
    if not n:
        return None
    return (f"En {dept_name} hay además {_count(f, n)} {f.noun(n)} que una fuente da solo por departamento: "
            "no se asignan a ningún municipio (sí cuentan en el departamento y en el país).")


@warehouse.cached
def other_unit_count(f: Filters) -> tuple[str, int]:
    """(the other unit, its count under the same filters)."""
    opts = filter_options()
    f = f.resolved(opts)
    other = next((u for u in opts.units if u != f.unit), None)
    if other is None:
        return f.unit, 0
    where, params = replace(f, unit=other).where("cube")
    row = warehouse.query(f"SELECT coalesce(sum(n), 0) AS n, coalesce(sum(ck), 0) AS ck FROM incident_year_cube "
                          f"WHERE {where}", params).iloc[0]
    return other, disclosure.published_count(row["n"], row["ck"])


def other_unit(f: Filters) -> str | None:
    """The sentence that says the other unit exists and is not added: None when there is none."""
    other, n = other_unit_count(f)
    if not n:
        return None
    mine = f.resolved(filter_options()).unit
    article = {"victimas": "las", "hechos": "los"}
    return (f"Además hay {_count(replace(f, unit=other), n)} {UNIT_NOUNS[other][1]} con estos filtros, que no se "
            f"suman a {article[mine]} {UNIT_NOUNS[mine][1]}: elija «Unidad: {UNITS[other]}» en la barra lateral "
            f"para ver{article[other]}.")
