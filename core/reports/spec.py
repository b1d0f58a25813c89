"""What a report is: its measure, dimensions, facet, filters, order and chart (``ReportSpec``), validated
against whitelists, and its URL/JSON form. Nothing here queries the warehouse but the valid values."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, cast

from core import rates
from core.filters import SEX_LABELS, UNITS, FilterOptions, Filters, filter_options

MEASURES = {
    "n": "Víctimas",
    "rate": rates.RATE_LABEL,
    "share": "% del total",
    "change": "Cambio vs periodo anterior (%)",
}


def measure_label(measure: str, f: Filters) -> str:
    """The title of a measure: the count reads in the filters' unit ('Víctimas' or 'Hechos'); a rate
    says its population (per 100,000 women when the filters count women: rates.rate_label)."""
    if measure == "rate":
        return rates.rate_label(f)
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

    def columns(self) -> list[str]:
        """The dimensions, then the facet: the columns d0, d1, ... of every query of the report."""
        return [*self.dims, *([self.facet] if self.facet else [])]

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
