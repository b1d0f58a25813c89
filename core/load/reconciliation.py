"""Crime types recorded by more than one institution: which records count in the published figure.

Each such crime type has one rule, decided in the configuration (``[[conciliacion]]``) or by the
demo, and written to ``reconciliation_rule``:

- ``referencia``: the records of one designated source count (the institution of record for that
  crime: forensic medicine for lethal violence, the prosecutor's office for complaints...).
- ``maximo``: per municipality and month, the records of the source with the most of them count
  (ties go to the source declared first). Only for sources with records (a date and a municipality).

The records of the other sources stay in the warehouse with ``counted = false``: the quality page
puts them side by side with the published figure. Crime types without a rule are recorded by one
source, or are summed over their sources (the load reports it as a finding).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb

from core.load import catalog

RULES = ("referencia", "maximo")
RULE_LABELS = {"referencia": "Fuente de referencia", "maximo": "Máximo por municipio y mes"}


@dataclass(frozen=True)
class Rule:
    crime_types: tuple[str, ...]
    rule: str                   # one of RULES
    reference: str | None = None  # source id, for 'referencia'


def reconciled_types(rules: Sequence[Rule]) -> list[str]:
    return [t for r in rules for t in r.crime_types]


def write_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule]) -> None:
    rows = [(t, r.rule, r.reference if r.rule == "referencia" else None) for r in rules for t in r.crime_types]
    if rows:
        con.executemany("INSERT INTO reconciliation_rule VALUES (?, ?, ?)", rows)


def reconcile(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], source_order: Sequence[str]) -> None:
    """Set ``counted`` on incident and incident_aggregate: every record counts except those a rule
    leaves for the comparison."""
    con.execute("UPDATE incident SET counted = TRUE")
    con.execute("UPDATE incident_aggregate SET counted = TRUE")
    for r in rules:
        types = list(r.crime_types)
        if r.rule == "referencia":
            for table in ("incident", "incident_aggregate"):
                con.execute(f"UPDATE {table} SET counted = (source = ?) "
                            "WHERE crime_type IN (SELECT unnest(?::VARCHAR[]))", [r.reference, types])
            continue
        # 'maximo' compares records per municipality and month (the configuration refuses it for
        # sources without records).
        con.execute("""
            WITH per_source AS (
                SELECT muni_code, date_trunc('month', occurred_on) AS month, crime_type, source, count(*) AS n
                FROM incident WHERE crime_type IN (SELECT unnest($types::VARCHAR[]))
                GROUP BY ALL
            ), ranked AS (
                SELECT *, row_number() OVER (PARTITION BY muni_code, month, crime_type
                                             ORDER BY n DESC, list_position($order::VARCHAR[], source)) AS rk
                FROM per_source
            )
            UPDATE incident AS i SET counted = (r.rk = 1)
            FROM ranked r
            WHERE i.muni_code = r.muni_code AND date_trunc('month', i.occurred_on) = r.month
              AND i.crime_type = r.crime_type AND i.source = r.source
        """, {"types": types, "order": list(source_order)})


def counting_rule(rules: Sequence[Rule], institutions: Mapping[str, str]) -> str:
    """The counting rule in words (meta ``counting_rule``), shown with every figure's notes."""
    if not rules:
        return "Ningún delito está declarado como registrado por varias instituciones: cuentan todos los registros."
    crime = catalog.crime_types()
    names = dict(zip(crime["code"], crime["name"]))
    parts = []
    for r in rules:
        crimes = _join([names.get(t, t) for t in r.crime_types])
        if r.rule == "referencia":
            parts.append(f"{crimes}: cuenta la fuente de referencia, {institutions.get(r.reference or '', r.reference)}")
        else:
            parts.append(f"{crimes}: en cada municipio y mes cuenta la fuente con más registros (máximo)")
    return ("Delitos que registran varias instituciones (sin sumarlas, para no contar dos veces a la misma víctima): "
            + "; ".join(parts) + ". Los registros de las demás fuentes se conservan para la conciliación (Calidad de "
            "datos). Resto de delitos: cuentan todos los registros.")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]
