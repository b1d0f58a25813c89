"""Data quality as the dashboard shows it: sources, findings, completeness, the data tests passed
before publishing, and the side-by-side reconciliation of sources for each crime type several
institutions record, with the rule that decides which records count.

Only counts and messages: rejected rows themselves (``rejected_record.raw``) never leave the
warehouse through this module, and in public mode neither do the examples of findings (they
quote single records) nor counts from 1 to 4 of sensitive crime types (core.disclosure).
"""
from __future__ import annotations

import pandas as pd

from core import disclosure, warehouse
from core.filters import Filters
from core.load import reconciliation
from core.load.findings import FIELD_LABELS

SEVERITY_ORDER = {"error": 0, "aviso": 1, "info": 2}
SEVERITY_LABELS = {"error": "Filas rechazadas", "aviso": "Aviso", "info": "Información"}
RULE_LABELS = {
    "meses_sin_datos": "Meses del periodo sin ningún registro de la fuente",
    "municipios_sin_datos": "Municipios sin ningún registro de la fuente",
    "posibles_duplicados_en_fuente": "Posibles duplicados dentro de la fuente",
    "posibles_duplicados_entre_fuentes": "Posibles duplicados entre fuentes (delitos no conciliados)",
    "coordenadas_fuera_del_municipio": "Coordenadas fuera del municipio declarado",
    "poblacion_sin_desglose": "Población sin desglose por sexo ni edad",
}


# How the grain columns of ``source`` read on screen.
ROW_UNIT_LABELS = {"victima": "Una víctima", "hecho": "Un hecho", "agregado": "Un conteo agregado"}
COUNT_UNIT_LABELS = {"victimas": "Víctimas", "hechos": "Hechos", "victimas y hechos": "Víctimas y hechos"}
DATE_PRECISION_LABELS = {"dia": "Día", "mes": "Mes", "anio": "Año"}
TERRITORY_LEVEL_LABELS = {"municipio": "Municipio", "departamento": "Departamento"}


@warehouse.cached
def sources() -> pd.DataFrame:
    """Every source with its rows read, loaded, rejected and out of scope, and its grain: what one
    row is (row_unit), what it counts (count_unit), its finest date and territory, as Spanish labels."""
    df = warehouse.query("""
        SELECT source, institution, file, rows_read, rows_loaded, rows_rejected,
               CASE WHEN rows_read > 0 THEN 100.0 * rows_rejected / rows_read END AS reject_pct,
               rows_out_of_scope, row_unit, count_unit, date_precision, territory_level
        FROM source ORDER BY source
    """)
    for column, labels in (("row_unit", ROW_UNIT_LABELS), ("count_unit", COUNT_UNIT_LABELS),
                           ("date_precision", DATE_PRECISION_LABELS), ("territory_level", TERRITORY_LEVEL_LABELS)):
        df[column] = df[column].map(lambda v, labels=labels: labels.get(v, v))
    return df


@warehouse.cached
def out_of_scope() -> pd.DataFrame:
    """Rows that a source's declared row selection leaves out (not errors), per file and reason.
    Columns: source, file, reason, rows, example_row."""
    return warehouse.query("""
        SELECT source, file, reason, rows, example_row FROM out_of_scope ORDER BY source, file, rows DESC, reason
    """)


def issues() -> pd.DataFrame:
    """Findings of the load; the example (a quoted record) only in internal mode."""
    df = _issues()
    if disclosure.is_public() and not df.empty:
        df = df.assign(example="(no se muestra en modo público: cita un registro)")
    return df


@warehouse.cached
def _issues() -> pd.DataFrame:
    df = warehouse.query("SELECT source, rule, severity, count, example FROM quality_issue")
    if df.empty:
        return df.assign(label=pd.Series(dtype=str))
    df["order"] = df["severity"].map(SEVERITY_ORDER)
    df["label"] = df["rule"].map(_rule_label)
    return df.sort_values(["order", "source", "count"], ascending=[True, True, False]).drop(columns="order").reset_index(drop=True)


def _rule_label(rule: str) -> str:
    kind, _, name = rule.partition(":")
    if name:
        prefix = "Rechazo" if kind == "rechazo" else "Valor pasado a «sin dato»"
        return f"{prefix}: {name.replace('_', ' ')}"
    return RULE_LABELS.get(rule, rule.replace("_", " ").capitalize())


@warehouse.cached
def completeness() -> pd.DataFrame:
    """Percentage of records with each field known, per source, field and year."""
    df = warehouse.query("""
        SELECT source, field, year, records, filled, 100.0 * filled / records AS pct
        FROM completeness WHERE records > 0 ORDER BY source, field, year
    """)
    df["field_label"] = df["field"].map(FIELD_LABELS).fillna(df["field"])
    return df


@warehouse.cached
def data_tests() -> pd.DataFrame:
    """The data tests the warehouse passed before it was published: name, description, rows_checked."""
    return warehouse.query("SELECT name, description, rows_checked FROM data_test ORDER BY name")


@warehouse.cached
def reconciliation_rules() -> pd.DataFrame:
    """Each crime type recorded by several institutions with the rule that decides which records
    count: crime_type, crime (name), rule, rule_label, reference (institution, for 'referencia')."""
    df = warehouse.query("""
        SELECT r.crime_type, c.name AS crime, r.rule, s.institution AS reference
        FROM reconciliation_rule r JOIN crime_type c ON c.code = r.crime_type
        LEFT JOIN source s ON s.source = r.reference
        ORDER BY c.crime_group, c.name
    """)
    df["rule_label"] = df["rule"].map(reconciliation.RULE_LABELS).fillna(df["rule"])
    df["reference"] = df["reference"].fillna(NO_REFERENCE)
    return df


NO_REFERENCE = "No aplica (cuenta la de más registros)"


def reconciled_types() -> list[str]:
    return reconciliation_rules()["crime_type"].tolist()


def reconciliation_summary(f: Filters) -> pd.DataFrame:
    """Per reconciled crime type under the filters: the count of each source (one column per
    source id), the published figure, and how often the sources disagree: the municipality-months
    with records of the crime (``cells``), those where the sources' counts differ
    (``cells_differ``, a source without records there counts 0) and its share ``differ_pct``.
    In public mode counts from 1 to 4 of sensitive types read "<5"."""
    df = _reconciliation_summary(f)
    if df.empty or not disclosure.is_public():
        return df
    names = [c for c in df.columns if c not in _SUMMARY_FIXED]
    sensitive = disclosure.rows_sensitive(f, df, type_column="crime_type")
    out = disclosure.protect(df, names + ["published"], sensitive, dims=["crime_type"])
    return out


def _by_source(every: list[str]) -> str:
    """One count column per source (s0, s1...: the ids are data, not SQL) with its key sum."""
    return ", ".join(f"coalesce(sum(n) FILTER (WHERE source = ?), 0)::BIGINT AS s{i}, "
                     f"coalesce(sum(ck) FILTER (WHERE source = ?), 0)::BIGINT AS ck{i}" for i in range(len(every)))


def _source_params(every: list[str]) -> list[str]:
    return [source for source in every for _ in range(2)]


def _source_keys(every: list[str]) -> dict[str, str]:
    return {f"s{i}": f"ck{i}" for i in range(len(every))} | {"published": "ck_published"}


_SUMMARY_FIXED = ("crime_type", "crime", "rule_label", "reference", "published", "cells", "cells_differ", "differ_pct")


@warehouse.cached
def _reconciliation_summary(f: Filters) -> pd.DataFrame:
    where, params = f.where("cube", counted_only=False)
    every = list(sources()["source"])
    totals = disclosure.published(warehouse.query(f"""
        SELECT crime_type, {_by_source(every)}, coalesce(sum(n) FILTER (WHERE counted), 0)::BIGINT AS published,
               coalesce(sum(ck) FILTER (WHERE counted), 0)::BIGINT AS ck_published
        FROM reconciliation_cube WHERE {where} GROUP BY crime_type
    """, _source_params(every) + params), _source_keys(every))
    gaps = warehouse.query(f"""
        WITH cells AS (SELECT crime_type, muni_code, month, source, sum(n) AS n
                       FROM reconciliation_cube WHERE {where} GROUP BY ALL),
             k AS (SELECT crime_type, count(DISTINCT source) AS sources FROM cells GROUP BY ALL),
             d AS (SELECT c.crime_type, c.muni_code, c.month,
                          max(c.n) - CASE WHEN count(*) < any_value(k.sources) THEN 0 ELSE min(c.n) END AS gap
                   FROM cells c JOIN k USING (crime_type) GROUP BY ALL)
        SELECT crime_type, count(*) AS cells, count(*) FILTER (WHERE gap > 0) AS cells_differ FROM d GROUP BY ALL
    """, params)
    rules = reconciliation_rules()[["crime_type", "crime", "rule_label", "reference"]]
    df = rules.merge(totals, on="crime_type").merge(gaps, on="crime_type", how="left")
    df = df.rename(columns={f"s{i}": source for i, source in enumerate(every)})
    present = [s for s in every if s in df and df[s].sum() > 0]
    df = df[[c for c in df.columns if c not in every or c in present]]
    df["differ_pct"] = 100.0 * df["cells_differ"] / df["cells"]
    return df.reset_index(drop=True)


PUBLISHED = "Cifra publicada"


def reconciliation_monthly(f: Filters, crime_type: str | None = None) -> pd.DataFrame:
    """Victims (or events) per month recorded by each source for one reconciled crime type (all
    of them when None), and the published figure as one more series (``series`` = source id or
    PUBLISHED); protected in public mode."""
    df = _reconciliation_monthly(f, crime_type)
    sensitive = disclosure.covers_sensitive(f, crime_types=_types(crime_type))
    return disclosure.protect(df, "victims", sensitive, dims=["month", "series"])


def _types(crime_type: str | None) -> list[str]:
    types = reconciled_types()
    return [crime_type] if crime_type in types else types


@warehouse.cached
def _reconciliation_monthly(f: Filters, crime_type: str | None) -> pd.DataFrame:
    types = _types(crime_type)
    where, params = f.where("cube", counted_only=False)
    return disclosure.published(warehouse.query(f"""
        SELECT month, source AS series, sum(n) AS victims, sum(ck) AS ck
        FROM reconciliation_cube WHERE {where} AND crime_type IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL
        UNION ALL
        SELECT month, ? AS series, sum(n) AS victims, sum(ck) AS ck
        FROM reconciliation_cube WHERE {where} AND counted AND crime_type IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL
        ORDER BY month, series
    """, params + [types, PUBLISHED] + params + [types]), {"victims": "ck"})


def reconciliation_by_municipality(f: Filters, crime_type: str | None = None) -> pd.DataFrame:
    """Per municipality and month: victims recorded by each source side by side, the published
    figure, and the divergence (largest minus smallest source count). In public mode counts from
    1 to 4 read "<5" (lines: the months of a municipality, the municipalities of a month, the
    sources of a municipality-month) and a divergence that would give one back is blank."""
    return _reconciliation_by_municipality(f, disclosure.is_public(), crime_type)


@warehouse.cached
def _reconciliation_by_municipality(f: Filters, public: bool, crime_type: str | None) -> pd.DataFrame:
    types = _types(crime_type)
    where, params = f.where("cube", counted_only=False)
    every = list(sources()["source"])  # ordered by source
    wide = warehouse.query(f"""
        WITH c AS (SELECT muni_code, month, {_by_source(every)},
                          coalesce(sum(n) FILTER (WHERE counted), 0)::BIGINT AS published,
                          coalesce(sum(ck) FILTER (WHERE counted), 0)::BIGINT AS ck_published
                   FROM reconciliation_cube WHERE {where} AND crime_type IN (SELECT unnest(?::VARCHAR[]))
                   GROUP BY muni_code, month)
        SELECT c.*, t.name AS municipality
        FROM c JOIN territory t ON t.code = c.muni_code
        ORDER BY c.muni_code, c.month
    """, _source_params(every) + params + [types])
    if wide.empty:
        return pd.DataFrame(columns=["muni_code", "municipality", "month", "published", "divergence"])
    # The divergence comes from the counts as published: computed from the exact ones it would
    # give a count back exactly wherever one source has none (divergence = the other's count), and
    # subtracted across crime types it would undo the adjustment. In public mode two sources with
    # the same victims may therefore differ by a few units (their records have different keys).
    wide = disclosure.published(wide, _source_keys(every)).rename(columns={f"s{i}": source for i, source in enumerate(every)})
    names = [source for source in every if wide[source].sum() > 0]  # the sources with records here
    keys = ["muni_code", "municipality", "month"]
    out = wide[keys + names + ["published"]].copy()
    counts = out[names].to_numpy()
    out["divergence"] = counts.max(axis=1) - counts.min(axis=1) if names else 0
    if public:
        sensitive = disclosure.covers_sensitive(f, crime_types=types)
        cells = out.melt(id_vars=keys, value_vars=names, var_name="source", value_name="victims")
        cells = disclosure.protect(cells, "victims", sensitive, dims=["muni_code", "month", "source"])
        # melt stacks the sources one after the other: back to one column per source
        shown = cells["victims"].to_numpy(dtype=object).reshape(len(names), len(out)).T
        hidden = disclosure.is_suppressed(shown.ravel()).to_numpy().reshape(shown.shape).any(axis=1)
        out[names] = shown
        out = disclosure.protect(out, "published", sensitive, dims=["muni_code", "month"])
        out["divergence"] = out["divergence"].astype(float).where(~hidden)
    return out.sort_values(["divergence", "month"], ascending=[False, True], na_position="last").reset_index(drop=True)
