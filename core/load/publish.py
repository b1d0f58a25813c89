"""Atomic publication of a new warehouse file.

A build writes ``<target>.tmp``, runs CHECKPOINT, closes it and only then renames it over
the published file with ``os.replace`` (atomic on POSIX). A build that fails, or that is
killed, never touches the published file; its leftover ``.tmp`` is removed by the next build.
A lock file stops two loads from writing at once.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from core.warehouse import SCHEMA_VERSION, create_schema

# Memory the database engine of a build may hold (DuckDB's ``memory_limit``); beyond it, sorts,
# joins and aggregations spill to a folder next to the warehouse (``<target>.tmp.spill``, removed
# at the end). The pandas frames of a real load are outside this budget.
BUILD_MEMORY_ENV = "ATALAYA_MEMORIA_CARGA"
DEFAULT_BUILD_MEMORY = "3GB"
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


class PublishError(RuntimeError):
    pass


def build_memory() -> str:
    """The engine's memory budget for a build, from ``ATALAYA_MEMORIA_CARGA`` (e.g. ``4GB``)."""
    value = os.environ.get(BUILD_MEMORY_ENV, "").strip() or DEFAULT_BUILD_MEMORY
    match = _MEMORY.match(value)
    if not match:
        raise PublishError(f"{BUILD_MEMORY_ENV}='{value}': se esperaba una cantidad con unidad, p. ej. 3GB o 800MB")
    return f"{match.group(1)}{match.group(2).upper()}"


def limit_memory(con: duckdb.DuckDBPyConnection, spill: Path) -> None:
    """Bound the engine's memory and let it spill to ``spill`` (a folder of this build only)."""
    con.execute(f"SET memory_limit = '{build_memory()}'")  # validated above: digits and a unit
    con.execute("SET temp_directory = ?", [str(spill)])


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def building(target: Path, meta: dict[str, str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a fresh warehouse with the schema created; publish it on success.

    ``meta`` rows are written at the end, together with schema_version, built_at and build_id (a
    random name of this build: the files prepared for it next to the warehouse carry it).
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    lock_path = target.with_name(target.name + ".lock")
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(f"Otra carga está escribiendo {target} (bloqueo {lock_path}); espere a que termine.") from None
        _remove(tmp)  # leftover of a killed build
        spill = target.with_name(target.name + ".tmp.spill")
        shutil.rmtree(spill, ignore_errors=True)
        con = duckdb.connect(str(tmp))
        try:
            limit_memory(con, spill)
            create_schema(con)
            yield con
            rows = {**meta, "schema_version": SCHEMA_VERSION,
                    "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "build_id": uuid.uuid4().hex}
            con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in rows.items()])
            con.execute("CHECKPOINT")
            con.close()
        except BaseException:
            try:
                con.close()
            finally:
                _remove(tmp)
                shutil.rmtree(spill, ignore_errors=True)
            raise
        shutil.rmtree(spill, ignore_errors=True)
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame, select: str | None = None) -> None:
    """Append a DataFrame to ``table``, matching columns by name (schema order).

    ``select`` optionally replaces the column list with SQL expressions over the frame
    (constant, loader-written SQL only).
    """
    from core.warehouse import TABLES

    name = f"_frame_{table}"
    con.register(name, frame)
    try:
        if select:
            con.execute(f"INSERT INTO {table} SELECT {select} FROM {name}")
        else:
            # By name: the table's columns the frame has; the others take their default.
            columns = ", ".join(c.name for c in TABLES[table].columns if c.name in frame.columns)
            con.execute(f"INSERT INTO {table} BY NAME SELECT {columns} FROM {name}")
    finally:
        con.unregister(name)
