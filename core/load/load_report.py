"""What a load found: errors that stop it, rejected rows, corrected fields, per-source counts.

Every message names the source, the file, the row, the column, the value and what was
expected, e.g. ``policia: sepol_2019.csv fila 1,204, columna FECHA: '31/02/2019' no es una
fecha válida (se esperaba DD/MM/AAAA)``.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from core import fmt
from core.load.readers import RawTable, encoding_hint, iter_table, raw_json


class LoadFailed(RuntimeError):
    def __init__(self, report: Report):
        self.report = report
        super().__init__("la carga falló:\n  - " + "\n  - ".join(report.errors))


def where(source: str, file: str, row: int | None, column: str | None = None) -> str:
    text = f"{source}: {file}"
    if row is not None:
        text += f" fila {fmt.integer(row)}"
    if column:
        text += f", columna {column}"
    return text


def quote(value) -> str:
    return "vacío" if value is None else f"'{value}'"


class RowRejects:
    """Which rows of one table are rejected and why (all reasons; the first rule names the case)."""

    def __init__(self, source: str, table):
        self.source, self.table = source, table
        self.reasons: dict[int, list[str]] = {}
        self.rules: dict[int, str] = {}
        self.scope: np.ndarray | None = None

    def only(self, in_scope: np.ndarray) -> None:
        """From now on, reject only rows in scope (rows left out by the selection are not errors)."""
        self.scope = np.asarray(in_scope, dtype=bool)

    def reject(self, mask: np.ndarray, rule: str, column_name: str, values, expected) -> None:
        """Reject the rows in ``mask``; ``expected`` is one text, or one text per row (a Series)."""
        mask = np.asarray(mask, dtype=bool)
        if self.scope is not None:
            mask = mask & self.scope
        for pos in np.flatnonzero(mask):
            text = expected if isinstance(expected, str) else expected.iloc[pos]
            value = values.iloc[pos]
            msg = (f"{where(self.source, self.table.name, int(self.table.rows[pos]), column_name)}: "
                   f"{quote(value)} {text}{encoding_hint(value, self.table.encoding)}")
            self.reasons.setdefault(int(pos), []).append(msg)
            self.rules.setdefault(int(pos), rule)

    @property
    def mask(self) -> np.ndarray:
        out = np.zeros(len(self.table.frame), dtype=bool)
        out[list(self.reasons)] = True
        return out

    def report_to(self, report: Report) -> None:
        positions = sorted(self.reasons)
        if positions:
            report.reject(self.source, self.table.name, self.table.rows[positions], [self.rules[p] for p in positions],
                          ["; ".join(self.reasons[p]) for p in positions], raw_json(self.table, positions))


@dataclass
class SourceStats:
    source: str
    institution: str
    files: list[str] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_out_of_scope: int = 0

    @property
    def rows_in_scope(self) -> int:
        return self.rows_read - self.rows_out_of_scope

    @property
    def reject_share(self) -> float:
        """Rejected rows over the rows that belong to the source (out-of-scope rows are not errors)."""
        return self.rows_rejected / self.rows_in_scope if self.rows_in_scope else 0.0


class RejectedRow(NamedTuple):
    """A row that is not loaded, kept with its reason in ``rejected_record``."""
    source: str
    file: str
    row_number: int
    rule: str
    reason: str   # the message: file, row, column, value and what was expected
    raw: Any      # the row as read (JSON text)


class FieldIssue(NamedTuple):
    """A value set to «sin dato» in a loaded row, kept in ``field_issue``."""
    source: str
    file: str
    row_number: int
    column: str
    value: Any
    rule: str
    message: str


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    field_issues: list[FieldIssue] = field(default_factory=list)
    # (source, rule, severity, count, example) found while reading (geography, population...)
    issues: list[tuple] = field(default_factory=list)
    stats: dict[str, SourceStats] = field(default_factory=dict)
    # (source, file, reason, rows, first row number)
    excluded: list[tuple] = field(default_factory=list)

    def source(self, source: str, institution: str) -> SourceStats:
        return self.stats.setdefault(source, SourceStats(source, institution))

    def add_file(self, source: str, path: Path, rows_read: int) -> None:
        stats = self.stats[source]
        stats.files.append(path.name)
        with open(path, "rb") as fh:
            stats.sha256.append(hashlib.file_digest(fh, "sha256").hexdigest())
        stats.rows_read += rows_read

    def read_files(self, source: str, spec, chunk_rows: int | None = None) -> Iterator[RawTable]:
        """Read each file of a ``TableFile`` spec (in parts of about ``chunk_rows`` rows, see
        readers.iter_table), counting its rows and rejecting unreadable ones."""
        for path in spec.files:
            for table in iter_table(path, spec.encoding, spec.delimiter, spec.sheet, spec.header_row, chunk_rows):
                if table.part == 0:
                    self.add_file(source, path, table.rows_read)
                else:
                    self.stats[source].rows_read += table.rows_read
                if table.bad:
                    self.reject(source, table.name, [b.row for b in table.bad], ["fila_malformada"] * len(table.bad),
                                [f"{where(source, table.name, b.row)}: {b.reason}" for b in table.bad],
                                [b.raw for b in table.bad])
                yield table

    def reject(self, source: str, file: str, rows, rules, reasons, raws) -> None:
        rows = list(rows)
        self.rejected.extend(map(RejectedRow._make, zip([source] * len(rows), [file] * len(rows), rows, rules, reasons, raws)))
        if source in self.stats:
            self.stats[source].rows_rejected += len(rows)

    def out_of_scope(self, source: str, file: str, reason: str, rows: int, example_row: int | None,
                     continued: bool = False) -> None:
        """Rows left out of a source for ``reason``; ``continued``: a later part of a file already
        reported, counted with the same reason of that file."""
        self.stats[source].rows_out_of_scope += int(rows)
        if continued:
            for i, (s, f, r, n, example) in enumerate(self.excluded):
                if (s, f, r) == (source, file, reason):
                    self.excluded[i] = (s, f, r, n + int(rows), example if example is not None else example_row)
                    return
        self.excluded.append((source, file, reason, int(rows), example_row))

    def field_issue(self, source: str, file: str, rows: np.ndarray, column: str, values, rule: str, messages) -> None:
        n = len(rows)
        self.field_issues.extend(map(FieldIssue._make, zip([source] * n, [file] * n, [int(r) for r in rows], [column] * n,
                                                           list(values), [rule] * n, list(messages))))

    def issue(self, source: str, rule: str, severity: str, count: int, example: str | None,
              continued: bool = False) -> None:
        """A finding about a source; ``continued``: a later part of a file, counted with the same
        finding already reported (its first example kept)."""
        if continued:
            for i, (s, r, sev, n, first) in enumerate(self.issues):
                if (s, r, sev) == (source, rule, severity):
                    self.issues[i] = (s, r, sev, n + int(count), first if first is not None else example)
                    return
        self.issues.append((source, rule, severity, int(count), example))

    def check_thresholds(self, threshold: float) -> None:
        for stats in self.stats.values():
            if stats.rows_read and stats.reject_share > threshold:
                top = Counter(r.rule for r in self.rejected if r.source == stats.source).most_common(3)
                # The example is of the commonest reason (the first rejected row is often a footer line).
                example = next(r.reason for r in self.rejected if r.source == stats.source and r.rule == top[0][0])
                scope = (f" (de las {fmt.integer(stats.rows_in_scope)} que pertenecen a la fuente; "
                         f"{fmt.integer(stats.rows_out_of_scope)} fuera de alcance no cuentan)"
                         if stats.rows_out_of_scope else "")
                self.errors.append(
                    f"{stats.source}: se rechazaron {fmt.integer(stats.rows_rejected)} de {fmt.integer(stats.rows_read)} "
                    f"filas{scope} ({fmt.percent(100 * stats.reject_share)}), más que el umbral de "
                    f"{fmt.percent(100 * threshold)}; motivos principales: "
                    f"{', '.join(f'{k} ({fmt.integer(v)})' for k, v in top)}; ejemplo del más frecuente: {example}")

    def render(self, examples: int = 5) -> str:
        """Plain-text summary for the terminal."""
        lines = []
        if self.stats:
            lines.append("Fuentes:")
            for s in self.stats.values():
                scope = f", {fmt.integer(s.rows_out_of_scope)} fuera de alcance" if s.rows_out_of_scope else ""
                lines.append(f"  {s.source} ({s.institution}): {fmt.integer(s.rows_read)} filas leídas, "
                             f"{fmt.integer(s.rows_loaded)} cargadas, {fmt.integer(s.rows_rejected)} rechazadas "
                             f"({fmt.percent(100 * s.reject_share)}){scope} — {', '.join(s.files)}")
        if self.rejected:
            lines.append(f"Filas rechazadas ({fmt.integer(len(self.rejected))}; se guardan en rejected_record):")
            lines.extend(_by_rule([(r.source, r.rule, r.reason) for r in self.rejected], examples))
        if self.excluded:
            lines.append(f"Filas fuera de alcance ({fmt.integer(sum(e[3] for e in self.excluded))}; no son errores, "
                         "se cuentan por motivo en out_of_scope):")
            for source, file, reason, n, row in self.excluded[:40]:
                lines.append(f"  {source} · {file}: {reason}: {fmt.integer(n)} filas (p. ej. fila {fmt.integer(row)})")
            if len(self.excluded) > 40:
                lines.append(f"  … y {fmt.integer(len(self.excluded) - 40)} motivos más")
        if self.field_issues:
            lines.append(f"Valores corregidos a 'sin dato' ({fmt.integer(len(self.field_issues))}; "
                         "se guardan en field_issue):")
            lines.extend(_by_rule([(f.source, f.rule, f.message) for f in self.field_issues], examples))
        if self.issues:
            lines.append("Otros hallazgos:")
            lines.extend(f"  [{sev}] {src} · {rule}: {fmt.integer(n)}" + (f" — {ex}" if ex else "")
                         for src, rule, sev, n, ex in self.issues)
        if self.notes:
            lines.append("Notas:")
            lines.extend(f"  {n}" for n in self.notes)
        if self.errors:
            lines.append("ERRORES (no se publica nada):")
            lines.extend(f"  - {e}" for e in self.errors)
        return "\n".join(lines)


def _by_rule(records: list[tuple[str, str, str]], examples: int) -> list[str]:
    """Lines 'source · rule: n' followed by the first messages of each (source, rule), from
    (source, rule, message) records."""
    lines = []
    counts = Counter((source, rule) for source, rule, _ in records)
    for (source, rule), n in sorted(counts.items()):
        lines.append(f"  {source} · {rule}: {fmt.integer(n)}")
        cases = (message for s, r, message in records if s == source and r == rule)
        lines.extend(f"      {c}" for c, _ in zip(cases, range(examples)))
    return lines
