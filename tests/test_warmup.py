"""The background computation of what no filter changes, once per published warehouse and mode."""
from __future__ import annotations

import logging
import threading

from core import warehouse, warmup, yearcube


def _wait_for_warmup() -> None:
    for thread in threading.enumerate():
        if thread.name == "atalaya-precalculo":
            thread.join(timeout=120)


def test_warmup_fills_the_cache_once_per_warehouse_and_mode(demo, monkeypatch):
    warehouse.clear_cache()
    warmup._started.clear()
    assert warmup.start() is True
    _wait_for_warmup()
    cached = warehouse.cache_snapshot()
    names = {key[1] for key in cached}
    for expected in ("load", "population_rows", "filter_options", "neighbours", "shapes", "school_list"):
        assert expected in names, expected
    cube = yearcube.load()
    assert any(value[0] is cube for value in cached.values())  # served from the warm-up, not recomputed
    assert warmup.start() is False  # the same warehouse and mode: not again
    monkeypatch.setenv("ATALAYA_MODO", "publico")
    assert warmup.start() is True  # the public mode has its own results
    _wait_for_warmup()


def test_a_failing_call_is_logged_and_the_rest_still_computed(demo, monkeypatch, caplog):
    warehouse.clear_cache()
    done = []

    def broken():
        raise RuntimeError("roto")

    monkeypatch.setattr(warmup, "calls", lambda: [("x", "roto", broken), ("y", "bien", lambda: done.append(1))])
    with caplog.at_level(logging.ERROR, logger="atalaya"):
        warmup.run()
    assert done == [1]
    assert "Precálculo de roto fallido" in caplog.text


def test_no_warmup_without_a_warehouse(tmp_path, use_warehouse):
    use_warehouse(tmp_path / "no_existe.duckdb")
    assert warmup.start() is False


def test_the_warmup_reads_the_warehouse_the_run_reads(demo_path, tmp_path, use_warehouse):
    """A regional deployment chooses a warehouse per run (warehouse.choose): the background thread reads
    that one, not the environment's (here a file that does not exist)."""
    use_warehouse(tmp_path / "no_existe.duckdb")
    warehouse.clear_cache()
    warmup._started.clear()
    with warehouse.using(demo_path):
        version = warehouse.current_version()
        assert warmup.start() is True
    _wait_for_warmup()
    assert any(key[1] == "filter_options" and key[2] == version for key in warehouse.cache_snapshot())
