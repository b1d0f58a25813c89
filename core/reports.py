"""Free-form reports without SQL: a ``ReportSpec`` (validated against whitelists) -> query -> table and chart.

Only identifiers written in this module reach the SQL; every value chosen by the user (years,
crime types, departments...) is checked against the values that exist in the warehouse and is
passed as a bound parameter. A spec that does not validate raises ``SpecError`` with a message
for the user, never anything else.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, cast

import altair as alt
import numpy as np
import pandas as pd

from core import charts, disclosure, municipality, rates, warehouse
from core.filters import SEX_LABELS, UNITS, FilterOptions, Filters, filter_options

MEASURES = {
    "n": "Víctimas",
    "rate": rates.RATE_LABEL,
    "share": "% del total",
    "change": "Cambio vs periodo anterior (%)",
}


def measure_label(measure: str, f: Filters) -> str:
    """The title of a measure: the count reads in the filters' unit ('Víctimas' or 'Hechos')."""
    return f.unit_label if measure == "n" else MEASURES[measure]


def previous_label(f: Filters) -> str:
    """The title of the previous period's count column."""
    return f"{f.unit_label} del periodo anterior"


@dataclass(frozen=True)
class Dimension:
    label: str
    cube: str | None        # expression on incident_cube (alias c), None if only in incident
    incident: str           # expression on incident (alias c)
    population: str | None  # matching expression on population (alias p, territory t) for rates, None if the
                            # denominator does not depend on this dimension
    rate_ok: bool           # whether a rate by this dimension is meaningful


DIMENSIONS: dict[str, Dimension] = {
    "year": Dimension("Año", "c.year", "year(c.occurred_on)", "p.year", True),
    "quarter": Dimension("Trimestre", "strftime(c.month, '%Y-T') || quarter(c.month)",
                         "strftime(c.occurred_on, '%Y-T') || quarter(c.occurred_on)", None, False),
    "month": Dimension("Mes", "strftime(c.month, '%Y-%m')", "strftime(c.occurred_on, '%Y-%m')", None, False),
    "weekday": Dimension("Día de la semana", None, "isodow(c.occurred_on)", None, False),
    "hour": Dimension("Hora", None, "c.occurred_hour", None, False),
    "department": Dimension("Departamento", "c.dept_code", "c.dept_code", "t.dept_code", True),
    "municipality": Dimension("Municipio", "c.muni_code", "c.muni_code", "p.code", True),
    "crime_type": Dimension("Tipo de delito", "c.crime_type", "c.crime_type", None, True),
    "crime_group": Dimension("Grupo de delito", "c.crime_group",
                             "(SELECT crime_group FROM crime_type k WHERE k.code = c.crime_type)", None, True),
    "iccs_section": Dimension("Sección ICCS", "(SELECT iccs_section FROM crime_type k WHERE k.code = c.crime_type)",
                              "(SELECT iccs_section FROM crime_type k WHERE k.code = c.crime_type)", None, True),
    "sex": Dimension("Sexo de la víctima", "c.victim_sex", "c.victim_sex", "p.sex", True),
    "age_group": Dimension("Grupo de edad", "c.age_group", "c.age_group", "p.age_group", True),
    "weapon": Dimension("Arma o medio", None, "c.weapon", None, False),
    "source": Dimension("Institución", "c.source", "c.source", None, True),
}
CHARTS = {"bar": "Barras", "stacked": "Barras apiladas", "line": "Líneas", "area": "Áreas",
          "heatmap": "Mapa de calor", "table": "Solo tabla"}
SORTS = {"dim": "Por categoría", "desc": "Mayor a menor", "asc": "Menor a mayor"}
WEEKDAYS = {1: "Lunes", 2: "Martes", 3: "Miércoles", 4: "Jueves", 5: "Viernes", 6: "Sábado", 7: "Domingo"}
MAX_TOP_N = 500
NO_MUNICIPALITY = "Sin municipio (fuentes por departamento)"


class SpecError(ValueError):
    """The spec cannot be run; the message says why, in Spanish, for the user."""


@dataclass(frozen=True)
class ReportSpec:
    measure: str = "n"
    dims: tuple[str, ...] = ("year",)
    facet: str | None = None
    filters: Filters = field(default_factory=Filters)
    sort: str = "dim"
    top_n: int | None = None
    chart: str = "bar"

    # ---- validation --------------------------------------------------------------------
    def validate(self, opts: FilterOptions | None = None) -> ReportSpec:
        """Raise SpecError unless every part is known; returns the spec with the period resolved."""
        opts = opts or filter_options()
        if self.measure not in MEASURES:
            raise SpecError(f"Medida desconocida: {self.measure!r}. Use una de: {', '.join(MEASURES.values())}.")
        if not isinstance(self.dims, tuple) or not 1 <= len(self.dims) <= 2:
            raise SpecError("Elija una o dos dimensiones.")
        for d in (*self.dims, *([self.facet] if self.facet else [])):
            if d not in DIMENSIONS:
                raise SpecError(f"Dimensión desconocida: {d!r}.")
        used = [*self.dims, *([self.facet] if self.facet else [])]
        if len(set(used)) != len(used):
            raise SpecError("Cada dimensión (y el panel) debe ser distinta.")
        if self.measure == "rate":
            bad = [DIMENSIONS[d].label for d in used if not DIMENSIONS[d].rate_ok]
            if bad:
                raise SpecError(f"La tasa por 100,000 hab. necesita población anual: no se calcula por "
                                f"{', '.join(bad).lower()}. Use el conteo o % del total.")
            by_sex, by_age = rates.population_split()
            if "sex" in used and not by_sex:
                raise SpecError("Este almacén no tiene población por sexo: no hay tasa por sexo.")
            if "age_group" in used and not by_age:
                raise SpecError("Este almacén no tiene población por edad: no hay tasa por grupo de edad.")
        if self.measure == "change" and any(d in ("year", "quarter", "month") for d in used):
            raise SpecError("El cambio frente al periodo anterior no se desglosa por año, trimestre ni mes.")
        if self.sort not in SORTS:
            raise SpecError(f"Orden desconocido: {self.sort!r}.")
        if self.chart not in CHARTS:
            raise SpecError(f"Tipo de gráfico desconocido: {self.chart!r}.")
        if self.chart == "heatmap" and len(self.dims) != 2:
            raise SpecError("El mapa de calor necesita dos dimensiones.")
        if self.top_n is not None and (not isinstance(self.top_n, int) or isinstance(self.top_n, bool)
                                       or not 1 <= self.top_n <= MAX_TOP_N):
            raise SpecError(f"«Primeros N» debe ser un número entero de 1 a {MAX_TOP_N}.")
        f = self.filters
        for name, y in (("desde", f.year_from), ("hasta", f.year_to)):
            if y is not None and (not isinstance(y, int) or isinstance(y, bool) or not opts.min_year <= y <= opts.max_year):
                raise SpecError(f"El año «{name}» debe estar entre {opts.min_year} y {opts.max_year}.")
        if f.year_from is not None and f.year_to is not None and f.year_from > f.year_to:
            raise SpecError("El año inicial es posterior al final.")
        for label, values, valid in (("grupo de delito", f.crime_groups, opts.crime_groups),
                                     ("tipo de delito", f.crime_types, opts.crime_type_names),
                                     ("sexo", f.sexes, SEX_LABELS), ("grupo de edad", f.age_groups, opts.age_group_labels)):
            if not isinstance(values, tuple):
                raise SpecError(f"Filtro de {label} no válido.")
            unknown = [v for v in values if not isinstance(v, str) or v not in valid]
            if unknown:
                raise SpecError(f"Valor de {label} desconocido: {str(unknown[0])[:60]!r}.")
        if f.dept_code is not None and (not isinstance(f.dept_code, str) or f.dept_code not in opts.departments):
            raise SpecError(f"Departamento desconocido: {str(f.dept_code)[:60]!r}.")
        if not isinstance(f.unit, str) or f.unit not in opts.units:
            raise SpecError(f"Unidad desconocida: {str(f.unit)[:60]!r}. Este almacén cuenta: "
                            f"{', '.join(UNITS[u].lower() for u in opts.units)}.")
        return replace(self, filters=f.resolved(opts))

    # ---- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d["dims"] = list(self.dims)
        d["filters"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.filters).items()}
        return d

    @classmethod
    def from_dict(cls, data: Any) -> ReportSpec:
        """Build a spec from untrusted data (JSON upload, URL); shape errors become SpecError."""
        if not isinstance(data, Mapping):
            raise SpecError("La especificación debe ser un objeto JSON.")
        allowed = {"measure", "dims", "facet", "filters", "sort", "top_n", "chart"}
        extra = set(data) - allowed
        if extra:
            raise SpecError(f"Campo desconocido en la especificación: {sorted(map(str, extra))[0][:60]!r}.")
        filters = data.get("filters") or {}
        if not isinstance(filters, Mapping):
            raise SpecError("«filters» debe ser un objeto.")
        fields = {"year_from", "year_to", "crime_groups", "crime_types", "sexes", "age_groups", "dept_code", "unit"}
        if set(filters) - fields:
            raise SpecError(f"Filtro desconocido: {sorted(map(str, set(filters) - fields))[0][:60]!r}.")
        as_tuple = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
        dims = data.get("dims", ["year"])
        return cls(
            measure=data.get("measure", "n"),
            dims=tuple(dims) if isinstance(dims, (list, tuple)) else dims,
            facet=data.get("facet"),
            filters=Filters(**cast(dict[str, Any], {
                k: (as_tuple(v) if k not in ("year_from", "year_to", "dept_code", "unit") else v) for k, v in filters.items()})),
            sort=data.get("sort", "dim"), top_n=data.get("top_n"), chart=data.get("chart", "bar"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> ReportSpec:
        try:
            return cls.from_dict(json.loads(text))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SpecError(f"El archivo no es JSON válido: {exc}") from None

    def to_param(self) -> str:
        compact = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(compact.encode()).decode().rstrip("=")

    @classmethod
    def from_param(cls, text: str) -> ReportSpec:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise SpecError("El informe de la dirección no se puede leer.") from None
        return cls.from_json(raw)


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

def run(spec: ReportSpec) -> Report:
    """The report, protected when the deployment is public (core.disclosure)."""
    spec = spec.validate()
    return _run(spec, disclosure.is_public())


def _columns(spec: ReportSpec) -> list[str]:
    return [*spec.dims, *([spec.facet] if spec.facet else [])]


def _uses_incident(spec: ReportSpec) -> bool:
    return any(DIMENSIONS[d].cube is None for d in _columns(spec))


def _table(spec: ReportSpec) -> str:
    """The smallest table holding the spec's dimensions: the yearly cube unless a dimension
    needs the month or the source, the incident rows for weekday, hour or weapon."""
    if _uses_incident(spec):
        return "incident"
    monthly = any(re.search(r"\bc\.(month|source)\b", DIMENSIONS[d].cube or "") for d in _columns(spec))
    return "incident_cube" if monthly else "incident_year_cube"


def grain_needs(spec: ReportSpec) -> tuple[str, ...]:
    """What the spec's dimensions need that a coarser source may not give (core.coverage.NEEDS):
    "mes" for month, quarter, weekday or hour; "municipio" for municipality; "registro" for the
    dimensions read from individual records (weekday, hour, weapon)."""
    cols = _columns(spec)
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
    cols = _columns(spec)
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
    cols = _columns(spec)
    keyed = [(i, expr) for i, d in enumerate(cols) if (expr := DIMENSIONS[d].population)]
    # Municipal populations for a rate by municipality; department populations (given, or the sum of
    # the municipalities) otherwise, so that counts given only by department keep their denominator.
    level = "municipio" if "municipality" in cols else "departamento"
    df = rates.person_years_table(f, level, [expr for _, expr in keyed])
    return df.rename(columns={f"g{j}": f"d{i}" for j, (i, _) in enumerate(keyed)})


@warehouse.cached
def _run(spec: ReportSpec, public: bool) -> Report:
    f = spec.filters
    cols = _columns(spec)
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
        df = disclosure.protect(df, sums, _rows_sensitive(df, cols, f), dims=keys, derived=["value"])
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
    meta = warehouse.meta()
    caption = (f"Fuente: Atalaya, {meta.get('country_name', '')}, registros de {len(rates.sources())} "
               f"instituciones · {f.describe(opts)}")
    if meta.get("synthetic") == "true":
        caption += " · DATOS SINTÉTICOS DE DEMOSTRACIÓN"
    out_cols = {k: DIMENSIONS[c].label for k, c in zip(keys, cols)}
    extra = {"n": f.unit_label} | ({"population": "Personas-año"} if spec.measure == "rate" else {}) | (
        {"previous": previous_label(f)} if spec.measure == "change" else {})
    data = df[[*out_cols, *extra]].rename(columns=out_cols | extra)
    if spec.measure != "n":
        data.insert(len(out_cols), value_label, df["value"].to_numpy())
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


# ---------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------

def chart(report: Report) -> alt.Chart | None:
    """An Altair chart of the report (None for the table view). Drawn from a copy whose columns are
    safe field names (core.charts): the labels are titles."""
    spec, data = report.spec, report.data
    if spec.chart == "table" or data.empty:
        return None
    cols = _columns(spec)
    x_name = DIMENSIONS[spec.dims[0]].label
    order = list(dict.fromkeys(data[x_name]))
    hidden = disclosure.suppressed_columns(data)
    # A count read "<5" (public mode) is not drawn; the tooltip says "<5".
    y = report.value_label if report.value_label not in hidden else f"{report.value_label} (gráfico)"
    data = disclosure.as_text(data).assign(**{y: disclosure.numeric(data[report.value_label])})
    data, field = charts.safe_fields(data)

    def tip(name: str, number_format: str) -> alt.Tooltip:
        if name in hidden:
            return alt.Tooltip(f"{field[name]}:N", title=name)
        return alt.Tooltip(f"{field[name]}:Q", format=number_format, title=name)

    tooltip = [alt.Tooltip(f"{field[DIMENSIONS[c].label]}:N", title=DIMENSIONS[c].label) for c in cols] + [
        tip(report.value_label, ",.1f")]
    if report.value_label != spec.filters.unit_label:
        tooltip.append(tip(spec.filters.unit_label, ","))
    base = alt.Chart(data)
    second = DIMENSIONS[spec.dims[1]].label if len(spec.dims) == 2 else None
    x = alt.X(f"{field[x_name]}:N", sort=order, title=x_name, axis=alt.Axis(labelLimit=220))
    if spec.chart == "heatmap":
        assert second is not None  # validated: a heatmap has two dimensions
        ch = base.mark_rect().encode(
            x=x, y=alt.Y(f"{field[second]}:N", sort=list(dict.fromkeys(data[field[second]])), title=second,
                         axis=alt.Axis(labelLimit=0)),
            color=alt.Color(f"{field[y]}:Q", title=report.value_label, scale=alt.Scale(scheme="orangered"),
                            legend=alt.Legend(titleLimit=0)),
            tooltip=tooltip)
    else:
        mark = {"bar": "bar", "stacked": "bar", "line": "line", "area": "area"}[spec.chart]
        enc = dict(x=x, y=alt.Y(f"{field[y]}:Q", title=report.value_label), tooltip=tooltip)
        if second:
            series = list(dict.fromkeys(data[field[second]]))
            enc["color"] = charts.category_color(field[second], second, series)
            if spec.chart == "bar":
                enc["xOffset"] = alt.XOffset(f"{field[second]}:N", sort=series)
        if spec.chart == "area" and spec.measure in ("n", "share") and second:
            enc["y"] = alt.Y(f"{field[y]}:Q", title=report.value_label, stack=True)
        elif spec.chart in ("line", "area") or (spec.chart == "bar" and second):
            enc["y"] = alt.Y(f"{field[y]}:Q", title=report.value_label, stack=None)
        ch = getattr(base, f"mark_{mark}")(**({"point": True} if mark == "line" else {})).encode(**enc)
    # a heatmap gives each row of its second dimension the room of a label
    rows = data[field[second]].nunique() if spec.chart == "heatmap" and second else 0
    height = max(320 if not spec.facet else 200, 22 * rows)
    ch = ch.properties(width="container" if not spec.facet else 260, height=height,
                       **({} if spec.facet else {"autosize": charts.FIT_WIDTH}),
                       title=alt.TitleParams(report.title, subtitle=[report.caption], anchor="start"))
    if spec.facet:
        facet = DIMENSIONS[spec.facet].label
        ch = ch.facet(facet=alt.Facet(f"{field[facet]}:N", title=facet), columns=3).properties(
            title=alt.TitleParams(report.title, subtitle=[report.caption], anchor="start"), autosize=charts.PAD)
    return ch


def chart_image(report: Report, fmt: str) -> bytes:
    """PNG or SVG of the chart, rendered offline with vl-convert."""
    import vl_convert as vlc

    ch = chart(report)
    if ch is None:
        raise SpecError("La vista de tabla no tiene gráfico.")
    spec = ch.to_dict()
    if spec.get("width") == "container":
        spec["width"] = 800
    if fmt == "png":
        return vlc.vegalite_to_png(json.dumps(spec), scale=2)
    if fmt == "svg":
        return vlc.vegalite_to_svg(json.dumps(spec)).encode()
    raise ValueError(fmt)


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
