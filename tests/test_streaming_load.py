"""A real load reads its files in parts and stages the records as Parquet by country and year
(core/load/readers.iter_table, core/load/staging.py): the warehouse and the load report are the
same as when every file is read whole, and the staged facts can be kept for another engine."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from core.cellkey import RECORD_KEY_SQL
from core.load import incidents
from core.load.build import run
from core.load.cli import main as cli_main
from core.load.readers import iter_table, read_table
from tests.conftest import ROOT, shared_file

EXAMPLES = ROOT / "data" / "examples"
COMPARED = {
    "incident": "SELECT * EXCLUDE (incident_id) FROM incident ORDER BY ALL",
    "incident_ids": "SELECT source, source_record_id, incident_id FROM incident ORDER BY incident_id",
    "incident_aggregate": "SELECT * FROM incident_aggregate ORDER BY ALL",
    "incident_cube": "SELECT * FROM incident_cube ORDER BY ALL",
    "source": "SELECT * EXCLUDE (sha256) FROM source ORDER BY source",
    "rejected_record": "SELECT * FROM rejected_record ORDER BY ALL",
    "out_of_scope": "SELECT * FROM out_of_scope ORDER BY ALL",
    "field_issue": "SELECT * FROM field_issue ORDER BY ALL",
    "quality_issue": "SELECT * FROM quality_issue ORDER BY ALL",
}


def _rows(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _csv(path, n_rows: int, bad_every: int = 0) -> None:
    lines = ["id;fecha;valor"]
    for i in range(1, n_rows + 1):
        lines.append(f"{i};{i % 28 + 1:02d}/01/2021;{i * 3}")
        if bad_every and i % bad_every == 0:
            lines.append(f"suelta {i}")  # one field: a bad row
        if i % 11 == 0:
            lines.append(";;")  # a blank row
    path.write_text("\r\n".join(lines) + "\r\n", encoding="latin-1")


def test_parts_of_a_csv_add_up_to_the_whole_file(tmp_path):
    path = tmp_path / "t.csv"
    _csv(path, 1000, bad_every=97)
    whole = read_table(path)
    parts = list(iter_table(path, chunk_rows=300))
    # 300, 300 and 400: the last 100 rows (less than half a part) are joined to the third part
    assert [len(p.frame) for p in parts] == [300, 300, 400]
    assert [p.part for p in parts] == [0, 1, 2]
    pd.testing.assert_frame_equal(pd.concat([p.frame for p in parts], ignore_index=True), whole.frame)
    assert [r for p in parts for r in p.rows] == list(whole.rows)
    assert [b.row for p in parts for b in p.bad] == [b.row for b in whole.bad] and len(whole.bad) == 10
    assert sum(p.blank_rows for p in parts) == whole.blank_rows == 90
    assert sum(p.rows_read for p in parts) == whole.rows_read == 1010
    # each bad row is in the part of the rows around it
    for p in parts:
        assert all(p.rows.min() - 1 <= b.row <= p.rows.max() + 1 for b in p.bad)


def test_lone_carriage_return_line_ends_still_read(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"id,valor\r1,a\r2,b\r3,c\r")
    table = read_table(path)
    assert table.frame.to_dict("list") == {"id": ["1", "2", "3"], "valor": ["a", "b", "c"]}
    assert list(table.rows) == [2, 3, 4]


@pytest.mark.parametrize("config", ["honduras.toml", "honduras_eventos.toml"])
def test_a_load_in_small_parts_equals_the_load_of_whole_files(tmp_path, monkeypatch, config):
    """Ids repeated across parts, out-of-scope rows, coordinates outside their municipality, total
    lines: every count of the report and every table is the same with parts of 700 rows."""
    for f in ("municipios_sefin.geojson", "departamentos_sefin.geojson", "poblacion_municipal_2020_2025.csv"):
        shared_file(f"honduras/{f}")
    monkeypatch.setattr(incidents, "CHUNK_ROWS", 10_000_000)
    whole_report = run(EXAMPLES / config, tmp_path / "whole.duckdb")
    monkeypatch.setattr(incidents, "CHUNK_ROWS", 700)
    parts_report = run(EXAMPLES / config, tmp_path / "parts.duckdb")
    for table, sql in COMPARED.items():
        whole, parts = _rows(tmp_path / "whole.duckdb", sql), _rows(tmp_path / "parts.duckdb", sql)
        assert whole == parts, table
    assert parts_report.render() == whole_report.render()
    assert _rows(tmp_path / "parts.duckdb", "SELECT count(*) FROM incident")[0][0] > 5000
    read = {s: r for s, r in _rows(tmp_path / "parts.duckdb", "SELECT source, rows_read FROM source")}
    assert max(read.values()) > 5 * 700  # several parts were read


def test_staged_facts_are_kept_as_parquet_by_country_and_year(tmp_path, capsys):
    for f in ("municipios_sefin.geojson", "departamentos_sefin.geojson", "poblacion_municipal_2020_2025.csv"):
        shared_file(f"honduras/{f}")
    target, facts = tmp_path / "w.duckdb", tmp_path / "hechos"
    assert cli_main(["build", str(EXAMPLES / "honduras.toml"), "--out", str(target), "--hechos", str(facts)]) == 0
    folders = sorted(p.relative_to(facts / "incident").as_posix() for p in (facts / "incident").glob("*/*"))
    assert folders == ["pais=HN/anio=2020", "pais=HN/anio=2021", "pais=HN/anio=2022"]
    con = duckdb.connect()
    staged = con.execute(f"SELECT pais, anio, count(*) FROM read_parquet('{facts}/incident/**/*.parquet', "
                         "hive_partitioning = true) GROUP BY ALL ORDER BY ALL").fetchall()
    published = _rows(target, "SELECT 'HN', year(occurred_on), count(*) FROM incident GROUP BY ALL ORDER BY ALL")
    assert [(p, int(a), n) for p, a, n in staged] == published
    types = dict(con.execute(f"DESCRIBE SELECT * FROM read_parquet('{facts}/incident/pais=HN/anio=2021/*.parquet', "
                             "hive_partitioning = false)").fetchall()[i][:2] for i in range(3))
    assert types == {"incident_id": "BIGINT", "source": "VARCHAR", "source_record_id": "VARCHAR"}
    # the same files, read back by a plain engine, give the warehouse's records
    summary = ("SELECT count(*), sum(incident_id), count(DISTINCT source || source_record_id), sum(victims), "
               "count(DISTINCT muni_code) FROM {}")
    assert con.execute(summary.format(f"read_parquet('{facts}/incident/**/*.parquet')")).fetchall() == \
        _rows(target, summary.format("incident"))
    # each record's cell key is staged as the cube computes it: another engine only sums it
    by_cell = "SELECT muni_code, crime_type, sum({}) FROM {} GROUP BY ALL ORDER BY ALL"
    assert con.execute(by_cell.format("ck", f"read_parquet('{facts}/incident/**/*.parquet')")).fetchall() == \
        _rows(target, by_cell.format(RECORD_KEY_SQL, "incident"))
    # a rebuild replaces the staged records (never appends to the old ones)
    assert cli_main(["build", str(EXAMPLES / "honduras.toml"), "--out", str(target), "--hechos", str(facts)]) == 0
    again = con.execute(f"SELECT count(*) FROM read_parquet('{facts}/incident/**/*.parquet')").fetchone()[0]
    assert again == sum(n for *_, n in published)
    # without --hechos nothing is left next to the warehouse
    assert cli_main(["build", str(EXAMPLES / "honduras.toml"), "--out", str(target)]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("atalaya-hechos-")]
