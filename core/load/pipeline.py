"""The one way a warehouse is built, for the demo and for configured sources alike.

A build stages the base tables (territory, catalogues, population, incident, incident_aggregate,
source, schools, indicators and what the readers found) into a fresh warehouse, then ``publish``
runs the shared steps on them: reconciliation rules → ``counted`` → cubes → school exposure →
quality findings → data tests. Only when every data test passes is the file published (atomic
rename, core.load.publish); ``target=None`` runs it all in memory and publishes nothing (``check``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from core.load import datatests, findings, reconciliation
from core.load.cube import build_cube
from core.load.exposure import build_school_exposure
from core.load.load_report import FieldIssue, RejectedRow
from core.load.publish import building
from core.load.reconciliation import Rule
from core.warehouse import create_schema, row_count


@dataclass(frozen=True)
class Staged:
    """What the shared steps need besides the staged tables."""
    period: tuple[dt.date, dt.date]
    rules: tuple[Rule, ...]
    source_order: tuple[str, ...]        # the 'maximo' rule breaks ties in this order
    findings: list[tuple] = field(default_factory=list)      # (source, rule, severity, count, example)
    rejected: list[RejectedRow] = field(default_factory=list)
    field_issues: list[FieldIssue] = field(default_factory=list)


def reconciliation_meta(rules: Sequence[Rule], institutions: Mapping[str, str]) -> dict[str, str]:
    """The meta rows every build writes about reconciliation (the rules themselves are in the
    reconciliation_rule table)."""
    return {"counting_rule": reconciliation.counting_rule(rules, institutions),
            "reconciliation_types": ",".join(reconciliation.reconciled_types(rules))}


SUMMARY_TABLES = ("territory", "population", "incident", "incident_aggregate", "incident_cube", "school", "indicator")


def publish(target: Path | None, meta: dict[str, str], stage: Callable[[duckdb.DuckDBPyConnection], Staged],
            log: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Stage, derive, test and publish at ``target`` (or only check, in memory, when None).
    Returns the rows of the main tables."""
    with _connection(target, meta) as con:
        staged = stage(con)
        derive(con, staged, log)
        return {t: row_count(con, t) for t in SUMMARY_TABLES}


@contextmanager
def _connection(target: Path | None, meta: dict[str, str]) -> Iterator[duckdb.DuckDBPyConnection]:
    if target is not None:
        with building(Path(target), meta) as con:
            yield con
        return
    con = duckdb.connect(":memory:")
    try:
        create_schema(con)
        yield con
    finally:
        con.close()


def derive(con: duckdb.DuckDBPyConnection, staged: Staged, log: Callable[[str], None] = lambda _m: None) -> None:
    """Everything computed from the staged tables, then the data tests (raise DataTestFailed)."""
    reconciliation.write_rules(con, staged.rules)
    reconciliation.reconcile(con, staged.rules, staged.source_order)
    types = reconciliation.reconciled_types(staged.rules)
    log(f"Cubo de incidentes: {build_cube(con, types):,} filas")
    if row_count(con, "school"):
        log(f"Víctimas cerca de centros educativos: {build_school_exposure(con):,} filas")
    findings.assess(con, staged.period, staged.findings, staged.rejected, staged.field_issues, types)
    datatests.run(con, staged.period)
    log(f"Pruebas de datos: {len(datatests.TESTS)} superadas")
