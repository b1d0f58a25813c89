"""Data quality as the dashboard shows it: sources, findings, completeness and the side-by-side
reconciliation of sources for the crime types several institutions record (homicide).

Only counts and messages: rejected rows themselves (``rejected_record.raw``) never leave the
warehouse through this module, and in public mode neither do the examples of findings (they
quote single records) nor counts from 1 to 4 of sensitive crime types (core.disclosure).
"""
from __future__ import annotations

import pandas as pd

from core import disclosure, warehouse
from core.filters import Filters
from core.load.quality import FIELD_LABELS

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


@warehouse.cached
def sources() -> pd.DataFrame:
    df = warehouse.query("""
        SELECT source, institution, file, rows_read, rows_loaded, rows_rejected,
               CASE WHEN rows_read > 0 THEN 100.0 * rows_rejected / rows_read END AS reject_pct
        FROM source ORDER BY source
    """)
    return df


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


def reconciled_types() -> list[str]:
    value = warehouse.meta().get("reconciliation_types", "")
    return [t for t in value.split(",") if t]


PUBLISHED = "Cifra publicada"


def reconciliation_monthly(f: Filters) -> pd.DataFrame:
    """Victims per month recorded by each source for the reconciled crime types, and the published
    figure as one more series (``series`` = source id or PUBLISHED); protected in public mode."""
    df = _reconciliation_monthly(f)
    sensitive = disclosure.covers_sensitive(f, crime_types=reconciled_types())
    return disclosure.protect(df, "victims", sensitive, dims=["month", "series"])


@warehouse.cached
def _reconciliation_monthly(f: Filters) -> pd.DataFrame:
    types = reconciled_types()
    where, params = f.where("cube", counted_only=False)
    return warehouse.query(f"""
        SELECT month, source AS series, sum(n) AS victims
        FROM incident_cube WHERE {where} AND crime_type IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL
        UNION ALL
        SELECT month, ? AS series, sum(n) AS victims
        FROM incident_cube WHERE {where} AND counted AND crime_type IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL
        ORDER BY month, series
    """, params + [types, PUBLISHED] + params + [types])


def reconciliation_by_municipality(f: Filters) -> pd.DataFrame:
    """Per municipality and month: victims recorded by each source side by side, the published
    figure, and the divergence (largest minus smallest source count). In public mode counts from
    1 to 4 read "<5" (lines: the months of a municipality, the municipalities of a month, the
    sources of a municipality-month) and a divergence that would give one back is blank."""
    return _reconciliation_by_municipality(f, disclosure.is_public())


@warehouse.cached
def _reconciliation_by_municipality(f: Filters, public: bool) -> pd.DataFrame:
    types = reconciled_types()
    where, params = f.where("cube", counted_only=False)
    long = warehouse.query(f"""
        WITH c AS (SELECT muni_code, month, source, sum(n) AS victims,
                          coalesce(sum(n) FILTER (WHERE counted), 0) AS published
                   FROM incident_cube WHERE {where} AND crime_type IN (SELECT unnest(?::VARCHAR[]))
                   GROUP BY ALL)
        SELECT c.muni_code, t.name AS municipality, c.month, c.source, c.victims, c.published
        FROM c JOIN territory t ON t.code = c.muni_code
    """, params + [types])
    if long.empty:
        return long
    keys = ["muni_code", "municipality", "month"]
    names = sorted(long["source"].unique())
    wide = long.pivot_table(index=keys, columns="source", values="victims",
                            aggfunc="sum", fill_value=0).reindex(columns=names, fill_value=0)
    wide.columns = list(wide.columns)
    published = long.groupby(keys)["published"].sum()
    out = wide.reset_index()
    out["published"] = published.to_numpy()
    out["divergence"] = wide.max(axis=1).to_numpy() - wide.min(axis=1).to_numpy()
    if public:
        sensitive = disclosure.covers_sensitive(f, crime_types=types)
        cells = out.melt(id_vars=keys, value_vars=names, var_name="source", value_name="victims")
        cells = disclosure.protect(cells, "victims", sensitive, dims=["muni_code", "month", "source"])
        shown = cells.pivot(index=keys, columns="source", values="victims").reindex(columns=names)
        hidden = shown.apply(disclosure.is_suppressed).any(axis=1).to_numpy()
        out[names] = shown.to_numpy()
        out = disclosure.protect(out, "published", sensitive, dims=["muni_code", "month"])
        out["divergence"] = out["divergence"].astype(float).where(~hidden)
    return out.sort_values(["divergence", "month"], ascending=[False, True], na_position="last").reset_index(drop=True)
