"""Data quality as the dashboard shows it: sources, findings, completeness and the side-by-side
reconciliation of sources for the crime types several institutions record (homicide).

Only counts and messages: rejected rows themselves (``rejected_record.raw``) never leave the
warehouse through this module.
"""
from __future__ import annotations

import pandas as pd

from core import warehouse
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


@warehouse.cached
def issues() -> pd.DataFrame:
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


@warehouse.cached
def reconciliation_monthly(f: Filters) -> pd.DataFrame:
    """Victims per month recorded by each source for the reconciled crime types, and the published
    figure as one more series (``series`` = source id or PUBLISHED)."""
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


@warehouse.cached
def reconciliation_by_municipality(f: Filters) -> pd.DataFrame:
    """Per municipality and month: victims recorded by each source side by side, the published
    figure, and the divergence (largest minus smallest source count)."""
    types = reconciled_types()
    where, params = f.where("cube", counted_only=False)
    long = warehouse.query(f"""
        SELECT c.muni_code, t.name AS municipality, c.month, c.source, sum(c.n) AS victims,
               coalesce(sum(c.n) FILTER (WHERE c.counted), 0) AS published
        FROM incident_cube c JOIN territory t ON t.code = c.muni_code
        WHERE {where} AND c.crime_type IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL
    """, params + [types])
    if long.empty:
        return long
    names = sorted(long["source"].unique())
    wide = long.pivot_table(index=["muni_code", "municipality", "month"], columns="source", values="victims",
                            aggfunc="sum", fill_value=0).reindex(columns=names, fill_value=0)
    wide.columns = list(wide.columns)
    published = long.groupby(["muni_code", "municipality", "month"])["published"].sum()
    out = wide.reset_index()
    out["published"] = published.to_numpy()
    out["divergence"] = wide.max(axis=1).to_numpy() - wide.min(axis=1).to_numpy()
    return out.sort_values(["divergence", "month"], ascending=[False, True]).reset_index(drop=True)
