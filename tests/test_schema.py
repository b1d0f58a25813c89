"""The schema in core/warehouse.py is the single source of truth and is created as documented."""
import duckdb

from core import warehouse
from core.warehouse import SCHEMA, SCHEMA_VERSION, TABLES, create_schema

DESIGN_TABLES = {"meta", "territory", "population", "crime_type", "incident", "incident_cube", "school",
                 "indicator", "indicator_meta", "source", "rejected_record", "quality_issue"}


def test_schema_has_every_design_table_with_comments():
    con = duckdb.connect()
    create_schema(con)
    tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal").fetchall())
    assert DESIGN_TABLES <= set(tables)
    assert set(tables) == set(TABLES)
    for name, comment in tables.items():
        assert comment, f"table {name} has no comment"
    columns = con.execute("SELECT table_name, column_name, data_type, comment FROM duckdb_columns() WHERE NOT internal").fetchall()
    by_table: dict[str, list[str]] = {}
    for table, column, _type, comment in columns:
        assert comment, f"{table}.{column} has no comment"
        by_table.setdefault(table, []).append(column)
    for table in SCHEMA:
        assert by_table[table.name] == [c.name for c in table.columns]


def test_design_columns_present():
    expected = {
        "territory": ["code", "level", "name", "parent_code", "dept_code", "centroid_lon", "centroid_lat", "area_km2", "geojson"],
        "population": ["code", "year", "sex", "age_group", "population"],
        "crime_type": ["code", "name", "crime_group", "iccs_code", "iccs_section", "sensitive"],
        "incident": ["incident_id", "source", "source_record_id", "occurred_on", "occurred_hour", "muni_code",
                     "aldea_code", "lon", "lat", "crime_type", "victim_sex", "victim_age", "age_group", "weapon"],
        "school": ["school_code", "name", "muni_code", "aldea_code", "lon", "lat", "level", "sector", "enrollment"],
        "indicator": ["code", "indicator", "year", "value"],
        "indicator_meta": ["indicator", "name", "unit", "higher_is_worse", "source"],
        "source": ["source", "institution", "file", "sha256", "rows_read", "rows_loaded", "rows_rejected"],
        "rejected_record": ["source", "file", "row_number", "reason", "raw"],
        "quality_issue": ["source", "rule", "severity", "count", "example"],
    }
    for table, cols in expected.items():
        names = [c.name for c in TABLES[table].columns]
        assert set(cols) <= set(names), (table, set(cols) - set(names))


def test_constraints_reject_bad_rows():
    con = duckdb.connect()
    create_schema(con)
    import pytest
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO territory (code, level, name, dept_code) VALUES ('01', 'provincia', 'X', '01')")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO population VALUES ('0101', 2020, 'X', 'total', 1, NULL)")


def test_demo_warehouse_matches_schema(demo):
    assert warehouse.meta()["schema_version"] == SCHEMA_VERSION
    cols = warehouse.query("SELECT table_name, column_name FROM duckdb_columns() ORDER BY table_name, column_index")
    for table in SCHEMA:
        assert cols.loc[cols.table_name == table.name, "column_name"].tolist() == [c.name for c in table.columns]
    comments = warehouse.query("SELECT comment FROM duckdb_columns() WHERE table_name = 'incident'")
    assert comments["comment"].notna().all()
