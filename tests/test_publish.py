"""Atomic publish: a failed or killed build leaves the published warehouse untouched."""
import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from core import warehouse
from core.load import demo as demo_module
from core.load.demo import build_demo
from core.load.publish import PublishError, building
from tests import fixture_warehouse

ROOT = Path(__file__).resolve().parent.parent


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_failure_mid_build_keeps_the_old_file(tmp_path, monkeypatch, use_warehouse):
    target = fixture_warehouse.build(tmp_path / "w.duckdb")
    before = sha(target)

    def boom(*args, **kwargs):
        raise RuntimeError("disco lleno (simulado)")

    monkeypatch.setattr(demo_module, "_schools", boom)
    with pytest.raises(RuntimeError, match="simulado"):
        build_demo(target, seed=1, scale=0.01, progress=None)
    assert sha(target) == before
    assert not (tmp_path / "w.duckdb.tmp").exists()
    use_warehouse(target)
    assert warehouse.meta()["country"] == "XX"


def test_cli_reports_failure_and_keeps_the_old_file(tmp_path, monkeypatch, capsys):
    from core.load import cli

    target = fixture_warehouse.build(tmp_path / "w.duckdb")
    before = sha(target)
    monkeypatch.setattr(demo_module, "_incidents", lambda *a, **k: (_ for _ in ()).throw(ValueError("fallo")))
    assert cli.main(["demo", "--scale", "0.01", "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert "no se modificó" in err and str(target) in err
    assert sha(target) == before


def test_if_stale_rebuilds_only_missing_or_old_warehouses(tmp_path, monkeypatch, capsys):
    import duckdb

    from core.load import cli

    built = []
    monkeypatch.setattr(demo_module, "build_demo", lambda target, **kw: built.append(target) or {"incident": 0})
    current = fixture_warehouse.build(tmp_path / "w.duckdb")
    assert cli.main(["demo", "--if-stale", "--out", str(current)]) == 0 and built == []
    assert "no se reconstruye" in capsys.readouterr().out
    with duckdb.connect(str(current)) as con:
        con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    assert cli.main(["demo", "--if-stale", "--out", str(current)]) == 0 and built == [current]
    missing = tmp_path / "nuevo.duckdb"
    assert cli.main(["demo", "--if-stale", "--out", str(missing)]) == 0 and built == [current, missing]


def test_killed_build_keeps_the_old_file_and_next_build_recovers(tmp_path, use_warehouse):
    target = fixture_warehouse.build(tmp_path / "w.duckdb")
    before = sha(target)
    tmp = tmp_path / "w.duckdb.tmp"
    proc = subprocess.Popen([sys.executable, "-m", "core.load.cli", "demo", "--scale", "0.5", "--out", str(target)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # wait until the build is writing incidents into the temporary file, then kill it hard
    for line in proc.stdout:
        if "Incidentes 2015" in line:
            break
    assert tmp.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert sha(target) == before
    use_warehouse(target)
    assert warehouse.meta()["country"] == "XX"
    # the next build removes the stale temporary file and publishes
    build_demo(target, seed=3, scale=0.01, progress=None)
    assert not tmp.exists()
    assert warehouse.meta()["demo_seed"] == "3"


def test_two_loads_cannot_write_at_once(tmp_path):
    target = tmp_path / "w.duckdb"
    with building(target, {"synthetic": "false"}):
        with pytest.raises(PublishError, match="Otra carga"):
            with building(target, {"synthetic": "false"}):
                pass


def test_published_file_has_no_wal_and_opens_read_only(tmp_path):
    target = fixture_warehouse.build(tmp_path / "w.duckdb")
    assert not Path(str(target) + ".wal").exists()
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == warehouse.SCHEMA_VERSION
    con.close()


def test_build_memory_is_bounded_and_spills_next_to_the_warehouse(tmp_path, monkeypatch):
    """The engine of a build holds at most ATALAYA_MEMORIA_CARGA and spills to a folder of its own,
    removed when the build ends (published or failed)."""
    target = tmp_path / "w.duckdb"
    monkeypatch.setenv("ATALAYA_MEMORIA_CARGA", "256MB")
    with building(target, {"synthetic": "false"}) as con:
        limit, spill = con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
        assert limit == "244.1 MiB"  # 256 MB as DuckDB shows it
        assert Path(spill) == tmp_path / "w.duckdb.tmp.spill"
        # a sort larger than the budget completes by spilling
        con.execute("CREATE TEMP TABLE big AS SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s "
                    "FROM range(6000000) t(i)")
        assert con.execute("SELECT count(*) FROM (SELECT * FROM big ORDER BY s)").fetchone()[0] == 6_000_000
        con.execute("DROP TABLE big")
    assert target.exists() and not (tmp_path / "w.duckdb.tmp.spill").exists()
    with pytest.raises(RuntimeError):
        with building(target, {"synthetic": "false"}):
            raise RuntimeError("falla simulada")
    assert not (tmp_path / "w.duckdb.tmp.spill").exists()


def test_build_memory_setting_must_have_a_unit(tmp_path, monkeypatch):
    monkeypatch.setenv("ATALAYA_MEMORIA_CARGA", "4")
    with pytest.raises(PublishError, match=r"ATALAYA_MEMORIA_CARGA='4': se esperaba una cantidad con unidad"):
        with building(tmp_path / "w.duckdb", {"synthetic": "false"}):
            pass
    assert not (tmp_path / "w.duckdb").exists()
