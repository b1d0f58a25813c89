"""The shared filters: what the user selected, as a WHERE clause with bound parameters,
and as URL query parameters so that any view is a shareable link."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from core import fmt, warehouse
from core.cellkey import RECORD_KEY_SQL

SEX_LABELS = {"H": "Hombres", "M": "Mujeres", "ND": "Sin dato"}
# What a figure counts. Victims and events (hechos) are never added together: every query on the
# cubes is restricted to one unit by ``Filters.where``.
UNITS = {"victimas": "Víctimas", "hechos": "Hechos"}
UNIT_NOUNS = {"victimas": ("víctima", "víctimas"), "hechos": ("hecho", "hechos")}
DEFAULT_UNIT = "victimas"

# URL keys (Spanish, readable in a shared link).
P_FROM, P_TO, P_GROUPS, P_TYPES, P_SEX, P_AGES, P_DEPT = "desde", "hasta", "grupos", "tipos", "sexo", "edad", "depto"
P_UNIT = "unidad"
PARAM_KEYS = (P_FROM, P_TO, P_GROUPS, P_TYPES, P_SEX, P_AGES, P_DEPT, P_UNIT)


@dataclass(frozen=True)
class Filters:
    """Empty tuples / None mean "all"."""
    year_from: int | None = None
    year_to: int | None = None
    crime_groups: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    age_groups: tuple[str, ...] = ()
    dept_code: str | None = None
    unit: str = DEFAULT_UNIT

    @property
    def first_year(self) -> int:
        """The first year of filters made explicit by ``resolved`` (arithmetic on the period reads it here)."""
        if self.year_from is None:
            raise ValueError("Filters.first_year: the period is not explicit; call Filters.resolved(options) first")
        return self.year_from

    @property
    def last_year(self) -> int:
        """The last year of filters made explicit by ``resolved``."""
        if self.year_to is None:
            raise ValueError("Filters.last_year: the period is not explicit; call Filters.resolved(options) first")
        return self.year_to

    @property
    def unit_label(self) -> str:
        """'Víctimas' or 'Hechos': the column title of a count."""
        return UNITS[self.unit]

    def noun(self, n: float | None = None) -> str:
        """'víctima(s)' or 'hecho(s)', singular when n == 1."""
        one, many = UNIT_NOUNS[self.unit]
        return one if n == 1 else many

    def measure(self, table: str = "cube") -> str:
        """SQL aggregate of the count in this unit: on the cubes sum(n); on incident the victims of
        the records, or the number of event records."""
        if table == "cube":
            return "sum(n)"
        if table == "incident":
            return "sum(victims)" if self.unit == "victimas" else "count(*)"
        raise ValueError(f"unknown table {table!r}")

    def key_sum(self, table: str = "cube") -> str:
        """SQL aggregate of the record keys of what ``measure`` counts (core/cellkey.py): every
        count query selects it as ``ck`` next to the count, for ``disclosure.published``."""
        if table == "cube":
            return "sum(ck)"
        if table == "incident":
            return f"sum({RECORD_KEY_SQL})"
        raise ValueError(f"unknown table {table!r}")

    def where(self, table: str = "cube", counted_only: bool = True) -> tuple[str, list[Any]]:
        """SQL condition and its parameters for ``incident_cube`` or ``incident_year_cube``
        (table='cube': the same columns) or ``incident``. Always restricted to one unit.

        Only column names written here reach the SQL; every value is a bound parameter.
        """
        if table not in ("cube", "incident"):
            raise ValueError(f"unknown table {table!r}")
        clauses: list[str] = []
        params: list[Any] = []
        if self.year_from is not None:
            clauses.append("year >= ?" if table == "cube" else "occurred_on >= make_date(?, 1, 1)")
            params.append(int(self.year_from))
        if self.year_to is not None:
            clauses.append("year <= ?" if table == "cube" else "occurred_on < make_date(? + 1, 1, 1)")
            params.append(int(self.year_to))
        if self.crime_groups:
            if table == "cube":
                clauses.append("crime_group IN (SELECT unnest(?::VARCHAR[]))")
            else:
                clauses.append("crime_type IN (SELECT code FROM crime_type WHERE crime_group IN (SELECT unnest(?::VARCHAR[])))")
            params.append(list(self.crime_groups))
        for column, values in (("crime_type", self.crime_types), ("victim_sex", self.sexes),
                               ("age_group", self.age_groups)):
            if values:
                clauses.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
                params.append(list(values))
        if self.dept_code:
            clauses.append("dept_code = ?")
            params.append(self.dept_code)
        if counted_only:
            clauses.append("counted")
        if table == "cube":
            clauses.append("unit = ?")
            params.append(self.unit)
        elif self.unit == "hechos":
            clauses.append("is_event")
        return (" AND ".join(clauses) or "TRUE"), params

    # ---- URL ---------------------------------------------------------------------------
    def to_params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.year_from is not None:
            out[P_FROM] = str(self.year_from)
        if self.year_to is not None:
            out[P_TO] = str(self.year_to)
        for key, values in ((P_GROUPS, self.crime_groups), (P_TYPES, self.crime_types),
                            (P_SEX, self.sexes), (P_AGES, self.age_groups)):
            if values:
                out[key] = ",".join(values)
        if self.dept_code:
            out[P_DEPT] = self.dept_code
        if self.unit != DEFAULT_UNIT:
            out[P_UNIT] = self.unit
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any], options: FilterOptions) -> Filters:
        """Read URL parameters, keeping only values that exist in this warehouse."""
        def text(key: str) -> str:
            value = params.get(key, "")
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            return str(value)

        def items(key: str, valid) -> tuple[str, ...]:
            seen = []
            for token in text(key).split(","):
                token = token.strip()
                if token in valid and token not in seen:
                    seen.append(token)
            return tuple(seen)

        def year(key: str) -> int | None:
            try:
                y = int(text(key))
            except ValueError:
                return None
            return y if options.min_year <= y <= options.max_year else None

        y0, y1 = year(P_FROM), year(P_TO)
        if y0 is not None and y1 is not None and y0 > y1:
            y0, y1 = y1, y0
        groups = items(P_GROUPS, options.crime_groups)
        types = items(P_TYPES, options.crime_type_names)
        if groups:
            types = tuple(t for t in types if options.crime_group_of[t] in groups)
        dept = text(P_DEPT).strip()
        unit = text(P_UNIT).strip()
        return cls(
            year_from=y0, year_to=y1, crime_groups=groups, crime_types=types,
            sexes=items(P_SEX, SEX_LABELS), age_groups=items(P_AGES, options.age_group_labels),
            dept_code=dept if dept in options.departments else None,
            unit=unit if unit in options.units else options.default_unit,
        )

    def resolved(self, options: FilterOptions) -> Filters:
        """The same filters with the period made explicit (and a unit the warehouse has)."""
        return replace(self, year_from=self.year_from if self.year_from is not None else options.min_year,
                       year_to=self.year_to if self.year_to is not None else options.max_year,
                       unit=self.unit if self.unit in options.units else options.default_unit)

    def period(self) -> str:
        """The years selected (of resolved filters): «2021» or «2019–2023»."""
        return fmt.period(self.first_year, self.last_year)

    def describe(self, options: FilterOptions) -> str:
        """One line in Spanish saying what is selected."""
        f = self.resolved(options)
        parts = [f.period()]
        if f.crime_types:
            parts.append(", ".join(options.crime_type_names[t] for t in f.crime_types))
        elif f.crime_groups:
            parts.append(", ".join(f.crime_groups))
        else:
            parts.append("todos los delitos")
        if f.sexes:
            parts.append("víctimas: " + ", ".join(SEX_LABELS[s].lower() for s in f.sexes))
        if f.age_groups:
            parts.append("edades: " + ", ".join(options.age_group_labels[a] for a in f.age_groups))
        parts.append(options.departments[f.dept_code] if f.dept_code else "todo el país")
        if len(options.units) > 1 or f.unit != DEFAULT_UNIT:
            parts.append(f"unidad: {UNIT_NOUNS[f.unit][1]}")
        return " · ".join(parts)


@dataclass(frozen=True)
class FilterOptions:
    """The values the filters can take in the open warehouse."""
    min_year: int
    max_year: int
    crime_groups: tuple[str, ...]
    crime_type_names: dict[str, str] = field(hash=False)
    crime_group_of: dict[str, str] = field(hash=False)
    age_group_labels: dict[str, str] = field(hash=False)
    departments: dict[str, str] = field(hash=False)
    units: tuple[str, ...] = (DEFAULT_UNIT,)

    @property
    def default_unit(self) -> str:
        return DEFAULT_UNIT if DEFAULT_UNIT in self.units else self.units[0]


@warehouse.cached
def filter_options() -> FilterOptions:
    years = warehouse.query("SELECT min(year) AS lo, max(year) AS hi FROM incident_year_cube")
    crimes = warehouse.query("SELECT code, name, crime_group FROM crime_type ORDER BY crime_group, name")
    ages = warehouse.query("SELECT code, label FROM age_group ORDER BY sort_order")
    depts = warehouse.query("SELECT code, name FROM territory WHERE level = 'departamento' ORDER BY name")
    units = warehouse.query("SELECT DISTINCT unit FROM incident_year_cube")["unit"].tolist()
    if years.empty or years["lo"].isna().all():
        meta = warehouse.meta()
        lo = hi = int(meta.get("period_end", "2000")[:4])
    else:
        lo, hi = int(years["lo"].iloc[0]), int(years["hi"].iloc[0])
    return FilterOptions(
        min_year=lo, max_year=hi,
        crime_groups=tuple(dict.fromkeys(crimes["crime_group"])),
        crime_type_names=dict(zip(crimes["code"], crimes["name"])),
        crime_group_of=dict(zip(crimes["code"], crimes["crime_group"])),
        age_group_labels=dict(zip(ages["code"], ages["label"])),
        departments=dict(zip(depts["code"], depts["name"])),
        units=tuple(u for u in UNITS if u in units) or (DEFAULT_UNIT,),
    )
