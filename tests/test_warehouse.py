"""The one read-only connect helper and the result cache."""
import threading
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from core import warehouse
from core.load.publish import building
from tests import fixture_warehouse


def test_missing_warehouse_says_how_to_build_it(tmp_path, use_warehouse):
    use_warehouse(tmp_path / "nada.duckdb")
    with pytest.raises(warehouse.WarehouseError) as err:
        warehouse.connect()
    assert "nada.duckdb" in str(err.value) and "atalaya-load demo" in str(err.value)


def test_outdated_schema_is_refused_with_the_command(tmp_path, use_warehouse):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    con.close()
    use_warehouse(path)
    with pytest.raises(warehouse.WarehouseError, match="versión de esquema 0.*atalaya-load demo"):
        warehouse.connect()


def test_not_a_warehouse(tmp_path, use_warehouse):
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    use_warehouse(path)
    with pytest.raises(warehouse.WarehouseError, match="no es un almacén"):
        warehouse.connect()


def test_connection_is_read_only(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    with pytest.raises(duckdb.Error):
        warehouse.cursor().execute("DELETE FROM meta")


def test_helper_sees_a_republished_file(tmp_path, use_warehouse):
    path = use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    first = warehouse.connect()
    assert warehouse.meta()["country"] == "XX"
    assert warehouse.scalar("SELECT count(*) FROM incident") == len(fixture_warehouse.INCIDENTS)
    # republish with other content while the old connection is open and cached
    with building(path, {"country": "YY", "synthetic": "false", "period_start": "2020-01-01",
                         "period_end": "2020-12-31"}):
        pass
    assert warehouse.meta()["country"] == "YY"  # cached result invalidated too
    assert warehouse.scalar("SELECT count(*) FROM incident") == 0
    assert warehouse.connect() is not first


def test_same_file_reuses_the_connection(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    assert warehouse.connect() is warehouse.connect()


def test_queries_from_many_threads(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    errors, results = [], []

    def work():
        try:
            for _ in range(30):
                results.append(warehouse.scalar("SELECT sum(n) FROM incident_cube"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(results) == {len(fixture_warehouse.INCIDENTS)}


def test_core_never_imports_streamlit():
    import pathlib
    import re
    root = pathlib.Path(warehouse.__file__).parent
    offenders = [str(p) for p in root.rglob("*.py")
                 if re.search(r"^\s*(import streamlit|from streamlit)", p.read_text(), re.M)]
    assert offenders == []


def test_front_end_holds_no_sql_nor_duckdb():
    import pathlib
    import re
    root = pathlib.Path(warehouse.__file__).parent.parent
    files = [root / "app.py", *sorted((root / "app_pages").glob("*.py"))]
    offenders = [str(p) for p in files
                 if re.search(r"^\s*(import duckdb|from duckdb)|\b(SELECT|GROUP BY|FROM \w+ WHERE)\b", p.read_text(), re.M)]
    assert offenders == []


def test_identical_concurrent_requests_are_computed_once(tmp_path, use_warehouse):
    """Eight users asking for the same figure at the same moment: one computation, one shared result."""
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    calls, started = [], threading.Event()

    @warehouse.cached
    def slow(x):
        calls.append(x)
        started.set()
        time.sleep(0.3)
        return pd.DataFrame({"x": [x]})

    results = [None] * 8
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, slow(1))) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert all(r is results[0] for r in results)
    other = threading.Thread(target=slow, args=(2,))
    other.start()
    other.join()
    assert calls == [1, 2]  # another argument is another computation


def test_a_failure_is_not_shared_with_the_waiting_threads(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    attempts = []

    @warehouse.cached
    def flaky():
        attempts.append(1)
        time.sleep(0.2)
        if len(attempts) == 1:
            raise RuntimeError("primera vez")
        return "bien"

    outcomes = []

    def ask():
        try:
            outcomes.append(flaky())
        except RuntimeError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["bien", "bien", "bien", "primera vez"]
    assert len(attempts) == 2


def test_cache_is_bounded_in_bytes(tmp_path, use_warehouse, monkeypatch):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    monkeypatch.setenv("ATALAYA_CACHE_MB", "1")
    warehouse.clear_cache()

    @warehouse.cached
    def block(i):
        return np.zeros(300_000 // 8 * 1, dtype="float64") + i  # 300 kB

    for i in range(10):
        block(i)
    stats = warehouse.cache_stats()
    assert stats["budget"] == 2**20
    assert stats["bytes"] <= 2**20 and stats["entries"] == 3  # the three most recent 300 kB results
    assert warehouse.result_size(pd.DataFrame({"a": np.zeros(1000)})) >= 8000

    @warehouse.cached
    def huge():
        return np.zeros(2**20)  # 8 MB: served, never kept

    assert huge().nbytes == 8 * 2**20 and warehouse.cache_stats()["entries"] == 3


def test_cache_budget_must_be_a_number(monkeypatch):
    monkeypatch.setenv("ATALAYA_CACHE_MB", "mucho")
    with pytest.raises(warehouse.WarehouseError, match="ATALAYA_CACHE_MB.*megabytes"):
        warehouse.cache_budget()
