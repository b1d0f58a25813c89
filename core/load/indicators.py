"""Vulnerability indicators from a table declared in the configuration (wide: one column per
indicator), with municipalities given by code or by name.

Published tables often interleave department header rows (``01-AHUACHAPÁN``) with the
municipality rows and carry a national total and a source note: ``encabezado_departamento``
(a regular expression with a group ``nombre``) turns header rows into the department used to
match the names that follow; total and note rows are kept as rejected rows with their reason.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core import fmt
from core.load.config import Indicators, LoadConfig
from core.load.incidents import parse_numbers
from core.load.readers import column
from core.load.report import Report, RowRejects, where
from core.load.territories import Geography, resolve_municipalities


def source_id(cfg: LoadConfig, spec: Indicators) -> str:
    i = cfg.indicators.index(spec)
    return "indicadores" if len(cfg.indicators) == 1 else f"indicadores_{i + 1}"


def load(cfg: LoadConfig, geo: Geography, report: Report) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for ``indicator`` and ``indicator_meta``."""
    values, metas = [], []
    for spec in cfg.indicators:
        source = source_id(cfg, spec)
        report.source(source, spec.source)
        for table in report.read_files(source, spec.table):
            values.append(_rows(spec, source, table, geo, report))
        metas.append(pd.DataFrame({"indicator": [c.indicator for c in spec.columns], "name": [c.name for c in spec.columns],
                                   "unit": [c.unit for c in spec.columns],
                                   "higher_is_worse": [c.higher_is_worse for c in spec.columns], "source": spec.source}))
    data = pd.concat(values, ignore_index=True) if values else pd.DataFrame(columns=["code", "indicator", "year", "value"])
    meta = pd.concat(metas, ignore_index=True) if metas else pd.DataFrame()
    dup_meta = meta["indicator"].duplicated() if len(meta) else pd.Series(dtype=bool)
    if dup_meta.any():
        report.errors.append(f"[indicadores] indicadores declarados dos veces: {meta.loc[dup_meta, 'indicator'].tolist()}")
    return data, meta


def _rows(spec: Indicators, source: str, table, geo: Geography, report: Report) -> pd.DataFrame:
    frame = table.frame
    rows = RowRejects(source, table)
    name_col = spec.municipality or spec.municipality_code
    key = column(table, name_col, "municipio")
    ind_cols = {c.indicator: column(table, c.column, c.name) for c in spec.columns}
    numbers = {k: parse_numbers(v) for k, v in ind_cols.items()}
    # A row with some cell written counts as a row of values (a cell that is not a number is said below).
    any_value = np.column_stack([v.notna().to_numpy() for v in ind_cols.values()]).any(axis=1)

    structural = np.zeros(len(frame), dtype=bool)
    cols: dict[str, str] = {}
    view = table
    if spec.municipality_code:
        cols["municipio_codigo"] = spec.municipality_code
    else:
        cols["municipio"] = spec.municipality
    if spec.department:
        cols["departamento"] = spec.department
    elif spec.department_header:
        pattern = re.compile(spec.department_header)
        current, depts = None, []
        for pos, text in enumerate(key.tolist()):
            m = pattern.match(text or "")
            if m:
                current = m.group("nombre")
                structural[pos] = True
            depts.append(current)
        unknown = {d for d in depts if d is not None and geo.index.department(d) is None}
        if unknown:
            first = {d: int(table.rows[p]) for p, d in reversed(list(enumerate(depts))) if d in unknown}
            report.errors.append(f"{source}: {table.name}: encabezados de departamento que no coinciden con la capa: "
                                 + "; ".join(f"fila {fmt.integer(first[d])}, columna {name_col}: '{d}' "
                                             f"{geo.index.resolve_department(d).reason}" for d in sorted(unknown)[:5]))
        frame = frame.assign(_departamento=depts)
        view = type(table)(table.file, frame, table.rows)
        cols["departamento"] = "_departamento"
    # Department header rows are layout, not records: they are not counted as rows read.
    report.stats[source].rows_read -= int(structural.sum())
    # Rows without a municipality or without any value: totals and notes, kept as rejected rows.
    rows.reject(~structural & key.isna().to_numpy() & any_value, "fila_sin_municipio", name_col, key,
                "(fila con valores pero sin municipio: ¿total nacional o de departamento?)")
    rows.reject(~structural & key.notna().to_numpy() & ~any_value, "fila_sin_valores", name_col, key,
                "no tiene ningún valor de indicador (¿nota o fuente al pie?)")
    candidates = ~structural & ~rows.mask & key.notna().to_numpy()
    sub = type(table)(table.file, view.frame[candidates].reset_index(drop=True), table.rows[candidates])
    muni_sub, problems = resolve_municipalities(sub, cols, spec.code, geo)
    muni = pd.Series([None] * len(frame), dtype=object)
    muni[np.flatnonzero(candidates)] = muni_sub.to_numpy()
    for mask, rule, column_name, _values, expected in problems:
        if column_name == "_departamento":
            # rows under a department header that does not match (said once above): rejected by their name
            column_name, expected = name_col, "está bajo un encabezado de departamento que no coincide con la capa"
        full = np.zeros(len(frame), dtype=bool)
        full[np.flatnonzero(candidates)[mask]] = True
        exp = expected if isinstance(expected, str) else pd.Series(
            dict(zip(np.flatnonzero(candidates), expected.to_numpy()))).reindex(range(len(frame)))
        rows.reject(full, rule, column_name, key if column_name == name_col else view.frame[column_name], exp)
    dup = muni.notna() & muni.duplicated(keep="first") & ~pd.Series(rows.mask)
    if dup.any():
        first_row = {c: int(table.rows[p]) for p, c in reversed(list(enumerate(muni.tolist()))) if c is not None}
        rows.reject(dup.to_numpy(), "municipio_repetido", name_col, key,
                    muni.map(lambda c: f"corresponde al municipio {c}, que ya tiene valores en la fila {fmt.integer(first_row.get(c, 0))}"))
    rows.report_to(report)
    keep = candidates & ~rows.mask
    report.stats[source].rows_loaded += int(keep.sum())
    # Non-numeric cells in kept rows: value missing, recorded.
    for ind, raw in ind_cols.items():
        bad = keep & raw.notna().to_numpy() & numbers[ind].isna().to_numpy()
        pos = np.flatnonzero(bad)
        if len(pos):
            column_name = next(c.column for c in spec.columns if c.indicator == ind)
            report.field_issue(source, table.name, table.rows[pos], column_name, raw.iloc[pos].tolist(), "valor_no_numerico",
                               [f"{where(source, table.name, int(table.rows[p]), column_name)}: '{raw.iloc[p]}' no es un número "
                                "(se esperaba p. ej. 12.5 o 12,5): se registra sin dato" for p in pos])
    out = pd.concat([pd.DataFrame({"code": muni[keep].to_numpy(), "indicator": ind, "year": spec.year,
                                   "value": numbers[ind][keep].to_numpy()}) for ind in ind_cols], ignore_index=True)
    missing = sorted(set(geo.municipalities["code"]) - set(out["code"]))
    if missing:
        report.issue(source, "municipios_sin_indicadores", "aviso", len(missing),
                     f"{table.name}: sin valores para {', '.join(missing[:10])}{'…' if len(missing) > 10 else ''}")
    return out
