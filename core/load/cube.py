"""The incident_cube aggregate, rebuilt from incident at the end of every load."""
from __future__ import annotations

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
ORDER BY month, muni_code, crime_type
"""


def build_cube(con: duckdb.DuckDBPyConnection) -> int:
    con.execute("DELETE FROM incident_cube")
    con.execute(CUBE_SQL)
    return con.execute("SELECT count(*) FROM incident_cube").fetchall()[0][0]
