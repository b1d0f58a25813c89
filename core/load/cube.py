"""The incident aggregates (incident_cube, reconciliation_cube, incident_year_cube,
incident_aldea_cube, source_month) and the department population, rebuilt at the end of every
load from ``incident`` (records), ``incident_aggregate`` (counts at a coarser grain) and
``population``.

Units are kept apart: a record counts its ``victims`` in unit 'victimas' and, when it is an
event, one in unit 'hechos'; an aggregate row counts in the unit its source declared. Counts
dated only by year go to the yearly cube alone (never spread over months); counts placed only in
a department have ``muni_code`` NULL (never spread over municipalities).

They are written sorted by municipality: DuckDB skips the row groups whose min/max cannot
match, so a query on one municipality reads a few thousand rows, not the whole table.
"""
from __future__ import annotations

from collections.abc import Sequence

import duckdb

from core.cellkey import AGGREGATE_KEY_SQL, RECORD_KEY_SQL

# Every fact with a month, with its unit and record key (core/cellkey.py), from both fact tables
# (a record counts its victims, and one hecho when it is an event).
MONTHLY_FACTS_SQL = f"""
    SELECT date_trunc('month', occurred_on)::DATE AS month, year(occurred_on)::SMALLINT AS year, dept_code,
           muni_code, crime_type, victim_sex, age_group, source, counted, 'victimas' AS unit, victims AS n,
           {RECORD_KEY_SQL} AS ck
    FROM incident
    UNION ALL
    SELECT date_trunc('month', occurred_on)::DATE, year(occurred_on)::SMALLINT, dept_code, muni_code, crime_type,
           victim_sex, age_group, source, counted, 'hechos', 1, {RECORD_KEY_SQL}
    FROM incident WHERE is_event
    UNION ALL
    SELECT month, year, dept_code, muni_code, crime_type, victim_sex, age_group, source, counted, unit, n,
           {AGGREGATE_KEY_SQL}
    FROM incident_aggregate WHERE month IS NOT NULL
"""

CUBE_SQL = f"""
INSERT INTO incident_cube
SELECT f.month, f.year, f.dept_code, f.muni_code, f.crime_type, c.crime_group,
       f.victim_sex, f.age_group, f.source, f.counted, f.unit, sum(f.n)::INTEGER AS n,
       sum(f.ck)::BIGINT AS ck
FROM ({MONTHLY_FACTS_SQL}) f JOIN crime_type c ON c.code = f.crime_type
GROUP BY ALL
HAVING sum(f.n) > 0
ORDER BY muni_code, month, crime_type, victim_sex, age_group, source, counted, unit
"""

# The monthly cube summed over months, plus the counts dated only by year (months = 0).
YEAR_CUBE_SQL = f"""
INSERT INTO incident_year_cube
SELECT year, dept_code, muni_code, crime_type, crime_group, victim_sex, age_group, source, counted, unit,
       sum(n)::INTEGER AS n, sum(ck)::BIGINT AS ck, count(DISTINCT month)::SMALLINT AS months
FROM (
    SELECT year, dept_code, muni_code, crime_type, crime_group, victim_sex, age_group, source, counted, unit,
           month, n, ck
    FROM incident_cube
    UNION ALL
    SELECT a.year, a.dept_code, a.muni_code, a.crime_type, c.crime_group, a.victim_sex, a.age_group, a.source,
           a.counted, a.unit, NULL, a.n, a.ck
    FROM (SELECT *, {AGGREGATE_KEY_SQL} AS ck FROM incident_aggregate) a JOIN crime_type c ON c.code = a.crime_type
    WHERE a.month IS NULL
)
GROUP BY ALL
HAVING sum(n) > 0
ORDER BY muni_code, year, crime_type, victim_sex, age_group, source, counted, unit
"""

ALDEA_CUBE_SQL = f"""
INSERT INTO incident_aldea_cube
SELECT year, dept_code, muni_code, aldea_code, i.crime_type, c.crime_group, victim_sex, age_group, counted, unit,
       sum(n)::INTEGER AS n, sum(ck)::BIGINT AS ck
FROM (SELECT year(occurred_on)::SMALLINT AS year, dept_code, muni_code, aldea_code, crime_type, victim_sex,
             age_group, counted, 'victimas' AS unit, victims AS n, {RECORD_KEY_SQL} AS ck FROM incident
      UNION ALL
      SELECT year(occurred_on)::SMALLINT, dept_code, muni_code, aldea_code, crime_type, victim_sex, age_group,
             counted, 'hechos', 1, {RECORD_KEY_SQL} FROM incident WHERE is_event) i
JOIN crime_type c ON c.code = i.crime_type
GROUP BY ALL
HAVING sum(n) > 0
ORDER BY muni_code, aldea_code, year, crime_type, victim_sex, age_group, counted, unit
"""

SOURCE_MONTH_SQL = """
INSERT INTO source_month
SELECT source, muni_code, month, sum(n)::INTEGER AS n
FROM incident_cube
GROUP BY ALL
ORDER BY source, month, muni_code
"""

# Departments without a population of their own get the sum of their municipalities (same year,
# sex and age group; estimated if any municipality's value is).
DEPARTMENT_POPULATION_SQL = """
INSERT INTO population
SELECT t.dept_code, p.year, p.sex, p.age_group, sum(p.population),
       CASE WHEN bool_or(p.estimated IS NOT NULL) THEN 'suma de municipios con población estimada' END
FROM population p JOIN territory t ON t.code = p.code AND t.level = 'municipio'
WHERE t.dept_code NOT IN (SELECT p2.code FROM population p2 JOIN territory d ON d.code = p2.code
                          AND d.level = 'departamento')
GROUP BY ALL
"""


def build_cube(con: duckdb.DuckDBPyConnection, reconciled_types: Sequence[str] = ()) -> int:
    """Rebuild the aggregates; ``reconciled_types``: the crime types recorded by several sources
    (meta reconciliation_types). Returns the rows of incident_cube."""
    for table in ("source_month", "incident_aldea_cube", "incident_year_cube", "reconciliation_cube",
                  "incident_cube"):
        con.execute(f"DELETE FROM {table}")
    con.execute(DEPARTMENT_POPULATION_SQL)
    con.execute(CUBE_SQL)
    con.execute("INSERT INTO reconciliation_cube SELECT * FROM incident_cube "
                "WHERE crime_type IN (SELECT unnest(?::VARCHAR[])) ORDER BY muni_code, month", [list(reconciled_types)])
    con.execute(YEAR_CUBE_SQL)
    con.execute(ALDEA_CUBE_SQL)
    con.execute(SOURCE_MONTH_SQL)
    return con.execute("SELECT count(*) FROM incident_cube").fetchall()[0][0]
