"""The incident aggregates (incident_cube, reconciliation_cube, incident_year_cube,
incident_aldea_cube, source_month), rebuilt from incident at the end of every load.

They are written sorted by municipality: DuckDB skips the row groups whose min/max cannot
match, so a query on one municipality reads a few thousand rows, not the whole table.
"""
from __future__ import annotations

from typing import Sequence

import duckdb

CUBE_SQL = """
INSERT INTO incident_cube
SELECT date_trunc('month', i.occurred_on)::DATE AS month,
       year(i.occurred_on)::SMALLINT AS year,
       i.dept_code, i.muni_code, i.crime_type, c.crime_group,
       i.victim_sex, i.age_group, i.source, i.counted,
       count(*)::INTEGER AS n
FROM incident i JOIN crime_type c ON c.code = i.crime_type
GROUP BY ALL
ORDER BY muni_code, month, crime_type, victim_sex, age_group, source, counted
"""

YEAR_CUBE_SQL = """
INSERT INTO incident_year_cube
SELECT year, dept_code, muni_code, crime_type, crime_group, victim_sex, age_group, counted,
       sum(n)::INTEGER AS n, count(DISTINCT month)::SMALLINT AS months
FROM incident_cube
GROUP BY year, dept_code, muni_code, crime_type, crime_group, victim_sex, age_group, counted
ORDER BY muni_code, year, crime_type, victim_sex, age_group, counted
"""

ALDEA_CUBE_SQL = """
INSERT INTO incident_aldea_cube
SELECT year(i.occurred_on)::SMALLINT AS year, i.dept_code, i.muni_code, i.aldea_code,
       i.crime_type, c.crime_group, i.victim_sex, i.age_group, i.counted,
       count(*)::INTEGER AS n
FROM incident i JOIN crime_type c ON c.code = i.crime_type
GROUP BY ALL
ORDER BY muni_code, aldea_code, year, crime_type, victim_sex, age_group, counted
"""

SOURCE_MONTH_SQL = """
INSERT INTO source_month
SELECT source, muni_code, month, sum(n)::INTEGER AS n
FROM incident_cube
GROUP BY ALL
ORDER BY source, month, muni_code
"""


def build_cube(con: duckdb.DuckDBPyConnection, reconciled_types: Sequence[str] = ()) -> int:
    """Rebuild the aggregates; ``reconciled_types``: the crime types recorded by several sources
    (meta reconciliation_types). Returns the rows of incident_cube."""
    for table in ("source_month", "incident_aldea_cube", "incident_year_cube", "reconciliation_cube",
                  "incident_cube"):
        con.execute(f"DELETE FROM {table}")
    con.execute(CUBE_SQL)
    con.execute("INSERT INTO reconciliation_cube SELECT * FROM incident_cube "
                "WHERE crime_type IN (SELECT unnest(?::VARCHAR[])) ORDER BY muni_code, month", [list(reconciled_types)])
    con.execute(YEAR_CUBE_SQL)
    con.execute(ALDEA_CUBE_SQL)
    con.execute(SOURCE_MONTH_SQL)
    return con.execute("SELECT count(*) FROM incident_cube").fetchall()[0][0]
