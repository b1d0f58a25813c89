"""Load-time data quality, written into the new warehouse (which records count when several
institutions record a crime is core.load.reconciliation).

- ``assess``: completeness per source, field and year; and ``quality_issue`` rows for what the
  readers found (rejected rows, values loaded as unknown, geography) plus rules checked on the
  loaded records: months and municipalities without data per source, probable duplicates
  within and across sources.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import pandas as pd

from core.load.load_report import FieldIssue, RejectedRow

# Descriptive fields and the SQL condition for "known".
FIELDS = {
    "occurred_hour": "occurred_hour IS NOT NULL",
    "victim_sex": "victim_sex <> 'ND'",
    "victim_age": "victim_age IS NOT NULL",
    "weapon": "weapon <> 'Sin dato'",
    "aldea_code": "aldea_code IS NOT NULL",
    "coordinates": "lon IS NOT NULL AND lat IS NOT NULL",
}
FIELD_LABELS = {"occurred_hour": "Hora", "victim_sex": "Sexo", "victim_age": "Edad", "weapon": "Arma o medio",
                "aldea_code": "Aldea", "coordinates": "Coordenadas"}


def write_completeness(con: duckdb.DuckDBPyConnection) -> None:
    sums = ", ".join(f"count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in FIELDS.items())
    con.execute(f"""
        INSERT INTO completeness
        SELECT source, field, year, records, filled FROM (
            SELECT source, year(occurred_on)::SMALLINT AS year, count(*) AS records, {sums}
            FROM incident GROUP BY ALL
        ) UNPIVOT (filled FOR field IN ({", ".join(FIELDS)}))
    """)


def assess(con: duckdb.DuckDBPyConnection, period: tuple[dt.date, dt.date], found: list[tuple],
           rejected: list[RejectedRow], field_issues: list[FieldIssue], reconciled: list[str]) -> None:
    """Write ``completeness`` and ``quality_issue``."""
    write_completeness(con)
    rows = list(found)
    for (source, rule), n in Counter((r.source, r.rule) for r in rejected).items():
        example = next(r.reason for r in rejected if r.source == source and r.rule == rule)
        rows.append((source, f"rechazo:{rule}", "error", n, example))
    for (source, rule), n in Counter((f.source, f.rule) for f in field_issues).items():
        example = next(f.message for f in field_issues if f.source == source and f.rule == rule)
        rows.append((source, f"sin_dato:{rule}", "aviso", n, example))
    rows.extend(_coverage(con, period))
    rows.extend(_duplicates(con, reconciled))
    rows.extend(_summed_across_sources(con, reconciled))
    if rows:
        con.executemany("INSERT INTO quality_issue VALUES (?, ?, ?, ?, ?)", rows)


def _coverage(con: duckdb.DuckDBPyConnection, period: tuple[dt.date, dt.date]) -> list[tuple]:
    months = con.execute("""
        WITH m AS (SELECT unnest(generate_series(date_trunc('month', ?::DATE), date_trunc('month', ?::DATE),
                                                 INTERVAL 1 MONTH))::DATE AS month),
             s AS (SELECT DISTINCT source FROM incident),
             have AS (SELECT DISTINCT source, date_trunc('month', occurred_on)::DATE AS month FROM incident)
        SELECT s.source, m.month FROM s CROSS JOIN m
        ANTI JOIN have h ON h.source = s.source AND h.month = m.month
        ORDER BY s.source, m.month
    """, [period[0], period[1]]).df()
    rows = []
    for source, group in months.groupby("source"):
        labels = [m.strftime("%Y-%m") for m in pd.to_datetime(group["month"])]
        rows.append((source, "meses_sin_datos", "aviso", len(labels),
                     ", ".join(labels[:12]) + ("…" if len(labels) > 12 else "")))
    munis = con.execute("""
        SELECT s.source, list(t.code ORDER BY t.code) AS codes, count(*) AS n
        FROM (SELECT DISTINCT source FROM incident) s CROSS JOIN territory t
        WHERE t.level = 'municipio'
          AND NOT EXISTS (SELECT 1 FROM incident i WHERE i.source = s.source AND i.muni_code = t.code)
        GROUP BY s.source
    """).fetchall()
    for source, codes, n in munis:
        rows.append((source, "municipios_sin_datos", "info", n, ", ".join(codes[:15]) + ("…" if n > 15 else "")))
    return rows


def _duplicates(con: duckdb.DuckDBPyConnection, reconciled: list[str]) -> list[tuple]:
    """Probable duplicates: same municipality, date, hour, crime type, victim sex and known age (the example
    shown is the first in text order: the same on every build of the same data)."""
    rows = []
    within = con.execute("""
        SELECT source, sum(n - 1) AS extra, min(example) AS example FROM (
            SELECT source, count(*) AS n,
                   any_value(muni_code || ' ' || occurred_on || ' ' || crime_type || ' ' || victim_sex || ' ' || victim_age) AS example
            FROM incident WHERE victim_age IS NOT NULL
            GROUP BY source, muni_code, occurred_on, occurred_hour, crime_type, victim_sex, victim_age, weapon
            HAVING count(*) > 1
        ) GROUP BY source
    """).fetchall()
    for source, extra, example in within:
        rows.append((source, "posibles_duplicados_en_fuente", "info", int(extra),
                     f"mismo municipio, fecha, hora, delito, sexo, edad y arma: {example} (pueden ser víctimas distintas "
                     "del mismo hecho)"))
    across = con.execute("""
        SELECT source, count(*) AS n, min(example) AS example FROM (
            SELECT i.source, i.muni_code || ' ' || i.occurred_on || ' ' || i.crime_type || ' ' || i.victim_sex || ' '
                   || i.victim_age AS example
            FROM incident i
            WHERE i.victim_age IS NOT NULL AND i.crime_type NOT IN (SELECT unnest(?::VARCHAR[]))
              AND EXISTS (SELECT 1 FROM incident j WHERE j.source <> i.source AND j.muni_code = i.muni_code
                          AND j.occurred_on = i.occurred_on AND j.crime_type = i.crime_type
                          AND j.victim_sex = i.victim_sex AND j.victim_age = i.victim_age
                          AND j.occurred_hour IS NOT DISTINCT FROM i.occurred_hour)
        ) GROUP BY source
    """, [reconciled]).fetchall()
    for source, n, example in across:
        rows.append((source, "posibles_duplicados_entre_fuentes", "aviso", int(n),
                     f"el mismo municipio, fecha, hora, delito, sexo y edad aparece en otra fuente: {example}; "
                     "si es la misma víctima se cuenta dos veces (declare el delito en [conciliacion])"))
    return rows



def _summed_across_sources(con: duckdb.DuckDBPyConnection, reconciled: list[str]) -> list[tuple]:
    """Crime types that several sources record in the same unit without a reconciliation rule:
    the published figure adds them, which double counts the victims (or events) they share."""
    found = con.execute("""
        SELECT unit, crime_type, list(DISTINCT source ORDER BY source) AS sources, sum(n)::BIGINT AS n
        FROM incident_year_cube
        WHERE counted AND crime_type NOT IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY unit, crime_type HAVING count(DISTINCT source) > 1
        ORDER BY crime_type, unit
    """, [reconciled]).fetchall()
    return [(", ".join(sources), "delito_sumado_entre_fuentes", "aviso", int(n),
             f"{crime} ({unit}): se suman {', '.join(sources)}; si registran los mismos casos se cuentan dos veces "
             "(declare el delito en [conciliacion])") for unit, crime, sources, n in found]
