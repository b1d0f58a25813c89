"""Running a report: the spec's counts and person-years from the smallest table that holds its
dimensions, the measure, the protection of public mode, labels and order, and the total rows."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core import disclosure, municipality, rates, warehouse
from core.filters import SEX_LABELS, Filters, filter_options
from core.reports.spec import DIMENSIONS, NO_MUNICIPALITY, WEEKDAYS, ReportSpec, SpecError, measure_label, previous_label


@dataclass(frozen=True)
class Report:
    spec: ReportSpec
    # one column per dimension and the facet (labels), the measure, the count ("Víctimas" or "Hechos": f.unit_label)
    data: pd.DataFrame
                              # (and "Personas-año" for rates, previous-period victims for changes)
    value_label: str
    title: str
    caption: str
    notes: tuple[str, ...]
    totals: pd.DataFrame      # victims (and previous-period victims) of every category, before top-N:
                              # one row, or one per panel (facet label column)


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------

INTERVAL_COLUMNS = (f"{rates.INTERVAL_LABEL} inferior", f"{rates.INTERVAL_LABEL} superior")


def run(spec: ReportSpec) -> Report:
    """The report, protected when the deployment is public (core.disclosure)."""
    spec = spec.validate()
    return _run(spec, disclosure.is_public())


def _uses_incident(spec: ReportSpec) -> bool:
    return any(DIMENSIONS[d].cube is None for d in spec.columns())


def _table(spec: ReportSpec) -> str:
    """The smallest table holding the spec's dimensions: the yearly cube unless a dimension
    needs the month or the source, the incident rows for weekday, hour or weapon."""
    if _uses_incident(spec):
        return "incident"
    monthly = any(re.search(r"\bc\.(month|source)\b", DIMENSIONS[d].cube or "") for d in spec.columns())
    return "incident_cube" if monthly else "incident_year_cube"


def grain_needs(spec: ReportSpec) -> tuple[str, ...]:
    """What the spec's dimensions need that a coarser source may not give (core.coverage.NEEDS):
    "mes" for month, quarter, weekday or hour; "municipio" for municipality; "registro" for the
    dimensions read from individual records (weekday, hour, weapon)."""
    cols = spec.columns()
    needs = []
    if any(d in ("month", "quarter", "weekday", "hour") for d in cols):
        needs.append("mes")
    if "municipality" in cols:
        needs.append("municipio")
    if _uses_incident(spec):
        needs.append("registro")
    return tuple(needs)


@warehouse.cached
def counts(spec: ReportSpec, f: Filters) -> pd.DataFrame:
    """Victims grouped by the spec's dimensions (codes as stored): columns d0, d1..., n."""
    cols = spec.columns()
    table = _table(spec)
    where, params = f.where("incident" if table == "incident" else "cube")
    exprs = [(DIMENSIONS[d].incident if table == "incident" else DIMENSIONS[d].cube) for d in cols]
    select = ", ".join(f"{e} AS d{i}" for i, e in enumerate(exprs))
    grain = "incident" if table == "incident" else "cube"
    sql = (f"SELECT {select}, {f.measure(grain)}::BIGINT AS n, {f.key_sum(grain)}::BIGINT AS ck FROM {table} c "
           f"WHERE {where} GROUP BY {', '.join(f'd{i}' for i in range(len(cols)))}")
    return disclosure.published(warehouse.query(sql, params))


@warehouse.cached
def person_years(spec: ReportSpec, f: Filters) -> pd.DataFrame:
    """Person-years matching the filters, grouped by the population-relevant dimensions:
    columns d<i> for those dimensions (same positions as in ``counts``) and population."""
    cols = spec.columns()
    keyed = [(i, expr) for i, d in enumerate(cols) if (expr := DIMENSIONS[d].population)]
    # Municipal populations for a rate by municipality; department populations (given, or the sum of
    # the municipalities) otherwise, so that counts given only by department keep their denominator.
    level = "municipio" if "municipality" in cols else "departamento"
    df = rates.person_years_table(f, level, [expr for _, expr in keyed])
    return df.rename(columns={f"g{j}": f"d{i}" for j, (i, _) in enumerate(keyed)})


@warehouse.cached
def _run(spec: ReportSpec, public: bool) -> Report:
    f = spec.filters
    cols = spec.columns()
    keys = [f"d{i}" for i in range(len(cols))]
    df = counts(spec, f).copy()
    notes: list[str] = []
    if spec.measure == "n":
        df["value"] = df["n"].astype("float64")
    elif spec.measure == "share":
        groups = df.groupby(keys[len(spec.dims):])["n"].transform("sum") if spec.facet else df["n"].sum()
        df["value"] = df["n"] / groups * 100
        if spec.facet:
            notes.append("El % se calcula dentro de cada panel.")
    elif spec.measure == "rate":
        pop = person_years(spec, f)
        pop_keys = [k for k in keys if k in pop.columns]
        if pop_keys:
            for k in pop_keys:  # align key types (e.g. year as integer on both sides)
                pop[k] = pop[k].astype(df[k].dtype) if len(df) else pop[k]
            df = df.merge(pop, on=pop_keys, how="left")
        else:
            df["population"] = float(pop["population"].iloc[0]) if len(pop) and pd.notna(pop["population"].iloc[0]) else np.nan
        df["value"] = [rates.rate(n, p) if pd.notna(p) else np.nan for n, p in zip(df["n"], df["population"])]
        df["rate_lo"], df["rate_hi"] = rates.rate_interval(df["n"].to_numpy(dtype="float64"),
                                                           df["population"].to_numpy(dtype="float64"))
        note = rates.person_years(f).note
        if note:
            notes.append(note)
        if "sex" in cols or "age_group" in cols:
            notes.append(f"{'Las' if f.unit == 'victimas' else 'Los'} {f.noun()} sin sexo o sin edad de la víctima registrada "
                         "no tienen tasa (no hay población que les corresponda).")
    else:  # change vs previous period of equal length
        opts = filter_options()
        length = f.last_year - f.first_year + 1
        if f.first_year - length < opts.min_year:
            raise SpecError(f"No hay datos del periodo anterior ({f.first_year - length}–{f.first_year - 1}) para "
                            "calcular el cambio.")
        prev = counts(spec, replace(f, year_from=f.first_year - length, year_to=f.first_year - 1)).rename(
            columns={"n": "previous"})
        df = df.merge(prev, on=keys, how="outer").fillna({"n": 0, "previous": 0})
        df["value"] = np.where(df["previous"] > 0, (df["n"] - df["previous"]) / df["previous"].where(df["previous"] > 0) * 100,
                               np.nan)
        notes.append(f"Cambio de {f.first_year}–{f.last_year} frente a {f.first_year - length}–{f.first_year - 1}; "
                     f"sin valor donde el periodo anterior no tiene {f.noun()}.")
        partial = rates.partial_years(f.first_year - length, f.last_year)
        if partial:
            notes.append("Hay años parciales en la comparación (" + ", ".join(map(str, partial)) + "): no es comparable.")
    sums = [c for c in ("n", "previous") if c in df.columns]
    totals_source = df[[*keys, *sums]]
    if public:
        df = disclosure.protect(df, sums, _rows_sensitive(df, cols, f), dims=keys, derived=["value", "rate_lo", "rate_hi"])
    df = _labels(df, cols)
    if spec.facet:
        totals = _labels(totals_source, cols).groupby(keys[-1], sort=False)[sums].sum().reset_index()
    else:
        totals = totals_source[sums].sum().to_frame().T
    totals = totals.rename(columns={keys[-1]: DIMENSIONS[spec.facet].label} if spec.facet else {}).rename(
        columns={"n": f.unit_label, "previous": previous_label(f)})
    df = _order(df, spec, keys)
    opts = filter_options()
    value_label = measure_label(spec.measure, f)
    title = f"{value_label} por " + " y ".join(DIMENSIONS[d].label.lower() for d in spec.dims) + (
        f", por {DIMENSIONS[spec.facet].label.lower()}" if spec.facet else "")
    caption = rates.source_line(f)
    out_cols = {k: DIMENSIONS[c].label for k, c in zip(keys, cols)}
    extra = {"n": f.unit_label} | ({"population": "Personas-año"} if spec.measure == "rate" else {}) | (
        {"previous": previous_label(f)} if spec.measure == "change" else {})
    data = df[[*out_cols, *extra]].rename(columns=out_cols | extra)
    if spec.measure != "n":
        data.insert(len(out_cols), value_label, df["value"].to_numpy())
    if spec.measure == "rate":  # the exact interval of each rate, next to it
        data.insert(len(out_cols) + 1, INTERVAL_COLUMNS[0], df["rate_lo"].to_numpy())
        data.insert(len(out_cols) + 2, INTERVAL_COLUMNS[1], df["rate_hi"].to_numpy())
    return Report(spec, data.reset_index(drop=True), value_label, title, caption, tuple(notes), totals)


def _rows_sensitive(df: pd.DataFrame, cols: list[str], f: Filters) -> np.ndarray:
    """Per row: whether its count may include a sensitive crime type (its own type, group or ICCS
    section within the filters; otherwise every type the filters allow) or counts only minors."""
    by = {"crime_type": "code", "crime_group": "crime_group", "iccs_section": "iccs_section"}
    catalogue = warehouse.query("SELECT code, crime_group, iccs_section FROM crime_type")
    flags = np.full(len(df), disclosure.covers_sensitive(f))
    for i, c in enumerate(cols):
        if c in by:
            types_of = catalogue.groupby(by[c])["code"].apply(list).to_dict()
            cache = {v: disclosure.covers_sensitive(f, crime_types=types_of.get(v, [])) for v in df[f"d{i}"].unique()}
            flags &= df[f"d{i}"].map(cache).to_numpy(dtype=bool)
    for i, c in enumerate(cols):
        if c == "age_group":  # a row counting only minors is sensitive whatever the crime
            minors = {v: disclosure.minors_only(f, [v]) for v in df[f"d{i}"].dropna().unique()}
            flags |= df[f"d{i}"].map(minors).fillna(False).to_numpy(dtype=bool)
    return flags


def _labels(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Replace codes by names users know; keep the order key in a hidden column per dimension."""
    opts = filter_options()
    m = municipality.municipalities()
    munis = dict(zip(m["code"], m["label"]))
    src = rates.sources()
    sources = dict(zip(src["source"], src["institution"]))
    sections = {"01": "01 Actos que causan la muerte", "02": "02 Actos que causan daño o lo pretenden",
                "03": "03 Actos sexuales lesivos", "04": "04 Actos contra la propiedad con violencia",
                "05": "05 Actos contra la propiedad", "06": "06 Drogas"}
    maps = {"department": opts.departments, "municipality": munis, "crime_type": opts.crime_type_names,
            "sex": SEX_LABELS, "age_group": opts.age_group_labels, "source": sources, "weekday": WEEKDAYS,
            "iccs_section": sections}
    df = df.copy()
    for i, c in enumerate(cols):
        k = f"d{i}"
        df[f"_order{i}"] = df[k]
        if c == "municipality":  # a count a source gives only by department has no municipality
            df[k] = df[k].map(lambda v: munis.get(v, NO_MUNICIPALITY if v is None or pd.isna(v) else str(v)))
        elif c in maps:
            df[k] = df[k].map(lambda v, m=maps[c]: m.get(v, "Sin dato" if v is None or pd.isna(v) else str(v)))
        elif c == "hour":
            df[k] = df[k].map(lambda v: "Sin hora" if pd.isna(v) else f"{int(v):02d} h")
        elif c == "year":
            df[k] = df[k].map(lambda v: rates.year_label(int(v)))
        else:
            df[k] = df[k].astype(str)
    if "age_group" in cols:
        order = {code: k for k, code in enumerate(opts.age_group_labels)}  # age_group.sort_order order
        i = cols.index("age_group")
        df[f"_order{i}"] = df[f"_order{i}"].map(order)
    return df


def _order(df: pd.DataFrame, spec: ReportSpec, keys: list[str]) -> pd.DataFrame:
    first = keys[0]
    if spec.top_n:
        totals = df.groupby(first)["value"].sum(min_count=1).sort_values(ascending=False, na_position="last")
        df = df[df[first].isin(totals.index[:spec.top_n])]
    order_cols = [f"_order{i}" for i in range(len(keys))]
    if spec.sort == "dim":
        return df.sort_values(order_cols, kind="stable", na_position="last")
    return df.sort_values(["value", *order_cols], ascending=[spec.sort == "asc", *[True] * len(order_cols)],
                          na_position="last", kind="stable")


def with_totals(report: Report) -> pd.DataFrame:
    """The table with a total row (one per panel when there is a facet). Totals cover every category
    (also those left out by «primeros N») and are recomputed, never summed: rate = all victims /
    all person-years of the filter, change = (victims - previous) / previous, share = 100."""
    spec, data = report.spec, report.data
    if data.empty:
        return data
    facet = DIMENSIONS[spec.facet].label if spec.facet else None
    parts = []
    for _, tot in report.totals.iterrows():
        part = data[data[facet] == tot[facet]] if facet else data
        total: dict[str, Any] = dict.fromkeys(data.columns)
        total[DIMENSIONS[spec.dims[0]].label] = "Total" + (" (todas las categorías)" if spec.top_n else "")
        if facet:
            total[facet] = tot[facet]
        count, previous = spec.filters.unit_label, previous_label(spec.filters)
        total[count] = int(tot[count])
        sensitive = disclosure.covers_sensitive(spec.filters)
        if disclosure.hides(total[count], sensitive) or (
                spec.measure == "change" and disclosure.hides(tot[previous], sensitive)):
            total[count] = disclosure.count_text(total[count], sensitive)
            if spec.measure == "change":
                total[previous] = disclosure.count_text(tot[previous], sensitive)
            parts.extend([part, pd.DataFrame([total])])
            continue
        if spec.measure == "share":
            total[report.value_label] = 100.0
        elif spec.measure == "rate":
            den = rates.person_years(spec.filters).person_years
            total["Personas-año"] = den
            total[report.value_label] = rates.rate(total[count], den) if not facet else None
        elif spec.measure == "change":
            prev = int(tot[previous])
            total[previous] = prev
            total[report.value_label] = (total[count] - prev) / prev * 100 if prev else None
        parts.extend([part, pd.DataFrame([total])])
    return pd.concat(parts, ignore_index=True)
