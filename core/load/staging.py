"""Facts staged as Parquet while the sources are read, partitioned by country and year.

A real load reads each source file in parts (core/load/readers.iter_table); the accepted records
of each part are written here at once, so that the load holds one part in memory, not every
source. The warehouse's ``incident`` table is then filled from these files by the database
engine in one sorted insert (within its memory budget, spilling to disk: core/load/publish.py).

The layout is the one engines that read Parquet understand (Hive partitions)::

    <carpeta>/incident/pais=HN/anio=2021/parte_<uuid>.parquet

with the columns of ``incident`` (core/warehouse.py), typed as in the warehouse, and ``ck``, each
record's cell key (core/cellkey.py: DuckDB's hash, computed here so that another engine only sums
it). When a region outgrows one machine, the cube stage (core/load/cube.py: SQL over these
columns) can run on Spark or Trino over the same folder; ``atalaya-load build --hechos CARPETA``
keeps it.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from core.cellkey import RECORD_KEY_SQL
from core.warehouse import TABLES

TABLE = "incident"
PARTITIONS = ("pais", "anio")


def _literal(path: Path) -> str:
    """A path as an SQL string literal (the loader's own folder, never user text in a query)."""
    return "'" + str(path).replace("'", "''") + "'"


class FactStaging:
    """Writes parts of accepted records under ``root``/incident and fills the warehouse from them."""

    def __init__(self, root: Path, country: str):
        self.root = Path(root)
        self.folder = self.root / TABLE
        self.country = country
        self.rows = 0
        self.columns: list[str] = []   # the incident columns staged, in the table's order
        self._con = duckdb.connect(":memory:")

    def add(self, records: pd.DataFrame) -> None:
        """Append ``records`` (columns named as in ``incident``; others are ignored)."""
        if not len(records):
            return
        columns = [c for c in TABLES[TABLE].columns if c.name in records.columns]
        if self.columns and [c.name for c in columns] != self.columns:
            raise ValueError(f"columnas distintas entre partes: {[c.name for c in columns]} y {self.columns}")
        self.columns = [c.name for c in columns]
        select = ", ".join(f"CAST({c.name} AS {c.type.split()[0]}) AS {c.name}" for c in columns)
        frame = records[[c.name for c in columns]].assign(pais=self.country)
        self._con.register("part", frame)
        try:
            self._con.execute(f"COPY (SELECT *, {RECORD_KEY_SQL} AS ck FROM (SELECT {select}, pais, "
                              "year(occurred_on)::INTEGER AS anio FROM part)) "
                              f"TO {_literal(self.folder)} (FORMAT parquet, PARTITION_BY ({', '.join(PARTITIONS)}), "
                              "APPEND, FILENAME_PATTERN 'parte_{uuid}')")
        finally:
            self._con.unregister("part")
        self.rows += len(records)

    def files(self) -> list[Path]:
        return sorted(self.folder.rglob("*.parquet")) if self.folder.exists() else []

    def insert_into(self, con: duckdb.DuckDBPyConnection) -> int:
        """Fill ``incident`` from the staged files, sorted by municipality and date (a query on one
        municipality then reads only its row groups); returns the rows inserted."""
        if not self.rows:
            return 0
        con.execute(f"INSERT INTO {TABLE} BY NAME SELECT {', '.join(self.columns)} "
                    f"FROM read_parquet({_literal(self.folder / '**' / '*.parquet')}, hive_partitioning = false) "
                    "ORDER BY muni_code, occurred_on, incident_id")
        return self.rows

    def close(self) -> None:
        self._con.close()


@contextmanager
def staging(country: str, keep: Path | None = None, near: Path | None = None) -> Iterator[FactStaging]:
    """A staging folder for one load: ``keep`` (its ``incident`` folder emptied first, kept after the
    load) or a temporary folder next to ``near`` (the warehouse being built), removed at the end."""
    if keep is not None:
        keep = Path(keep)
        shutil.rmtree(keep / TABLE, ignore_errors=True)
        keep.mkdir(parents=True, exist_ok=True)
        stage = FactStaging(keep, country)
        try:
            yield stage
        finally:
            stage.close()
        return
    parent = Path(near).resolve().parent if near is not None else None
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="atalaya-hechos-", dir=parent) as folder:
        stage = FactStaging(Path(folder), country)
        try:
            yield stage
        finally:
            stage.close()
