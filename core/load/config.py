"""The load configuration: a TOML file that declares every input, read into typed settings.

Keys are in Spanish (the file is written by observatory technicians); see
``data/examples/honduras.toml`` for a documented example. Relative paths are resolved
against the folder of the configuration file. Every problem is reported with the key that
holds it, all at once (``ConfigError.problems``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REJECT_THRESHOLD = 0.05
DEFAULT_DATE_FORMATS = ("%d/%m/%Y",)
INCIDENT_FIELDS = ("id", "fecha", "hora", "municipio_codigo", "municipio", "departamento", "aldea_codigo",
                   "delito", "sexo", "edad", "arma", "longitud", "latitud")
SCHOOL_FIELDS = ("codigo", "nombre", "municipio_codigo", "municipio", "departamento", "aldea_codigo",
                 "longitud", "latitud", "nivel", "sector", "matricula")
RULES = ("referencia", "maximo")


class ConfigError(ValueError):
    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: configuración no válida:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class CodeSpec:
    """How to read a territory code from a column: optional prefix removal, slice and zero-padding."""
    column: str
    strip_prefix: str = ""
    start: int | None = None
    end: int | None = None
    pad: int | None = None

    def describe(self) -> str:
        parts = [f"columna {self.column}"]
        if self.strip_prefix:
            parts.append(f"sin el prefijo '{self.strip_prefix}'")
        if self.start is not None or self.end is not None:
            parts.append(f"caracteres {(self.start or 0) + 1} a {self.end or 'final'}")
        if self.pad:
            parts.append(f"rellenado con ceros a {self.pad} dígitos")
        return ", ".join(parts)


@dataclass(frozen=True)
class Layer:
    file: Path
    code: CodeSpec
    name: str
    parent: CodeSpec | None
    names: dict[str, str]          # code -> corrected name
    exclude_pattern: str | None    # regex on the transformed code (lakes, reservoirs)
    layer: str | None              # layer inside a GeoPackage / TopoJSON


@dataclass(frozen=True)
class TableFile:
    """Options shared by every tabular input (CSV, XLSX, Parquet)."""
    files: tuple[Path, ...]
    encoding: str = "auto"
    delimiter: str = "auto"
    sheet: str | None = None
    header_row: int = 1


@dataclass(frozen=True)
class Population:
    table: TableFile
    code: CodeSpec
    year_prefix: str | None        # wide: one column per year, named prefix + year
    year: str | None               # long: year column ...
    value: str | None              # ... and value column
    sex: str | None
    age_group: str | None
    sex_values: dict[str, tuple[str, ...]]
    age_values: dict[str, tuple[str, ...]]
    source: str


@dataclass(frozen=True)
class IncidentSource:
    source: str
    institution: str
    table: TableFile
    columns: dict[str, str]
    date_formats: tuple[str, ...]
    values: dict[str, dict[str, tuple[str, ...]]]   # field -> target -> spellings
    code: CodeSpec | None                            # municipality code transform
    max_age: int = 110


@dataclass(frozen=True)
class Schools:
    table: TableFile
    columns: dict[str, str]
    code: CodeSpec | None
    values: dict[str, dict[str, tuple[str, ...]]]


@dataclass(frozen=True)
class IndicatorColumn:
    indicator: str
    column: str
    name: str
    unit: str
    higher_is_worse: bool


@dataclass(frozen=True)
class Indicators:
    table: TableFile
    municipality: str | None         # name column
    municipality_code: str | None    # or code column
    code: CodeSpec | None
    department: str | None           # department column (name or code)
    department_header: str | None    # regex: rows that announce the department (group 'nombre')
    year: int
    columns: tuple[IndicatorColumn, ...]
    source: str


@dataclass(frozen=True)
class Reconciliation:
    crime_types: tuple[str, ...]
    rule: str
    reference: str | None


@dataclass(frozen=True)
class LoadConfig:
    path: Path
    sha256: str
    country: str
    country_name: str
    period_start: dt.date
    period_end: dt.date
    synthetic: bool
    reject_threshold: float
    departments: Layer
    municipalities: Layer
    aldeas: Layer | None
    population: Population
    incidents: tuple[IncidentSource, ...]
    schools: Schools | None
    indicators: tuple[Indicators, ...]
    reconciliation: Reconciliation | None
    aliases: dict[str, str] = field(default_factory=dict)   # 'alias' or 'departamento/alias' -> name or code


class _Reader:
    """Typed access to a TOML table that records every problem with its key path."""

    def __init__(self, base: Path, problems: list[str]):
        self.base = base
        self.problems = problems

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"[{key}] {message}")

    def get(self, table: dict, key: str, where: str, kind: type | tuple, required: bool = False, default: Any = None):
        if key not in table:
            if required:
                self.problem(where, f"falta la clave obligatoria '{key}'")
            return default
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " o ".join(k.__name__ for k in kind)
            self.problem(f"{where}.{key}", f"se esperaba {_KIND_ES.get(names, names)}, se encontró {value!r}")
            return default
        return value

    def path(self, value: str, where: str) -> Path:
        p = Path(value)
        p = p if p.is_absolute() else (self.base / p)
        p = p.resolve()
        if not p.exists():
            self.problem(where, f"el archivo {p} no existe")
        return p

    def files(self, table: dict, where: str) -> tuple[Path, ...]:
        single = self.get(table, "archivo", where, str)
        many = self.get(table, "archivos", where, list, default=[])
        values = ([single] if single else []) + [v for v in many if isinstance(v, str)]
        if not values:
            self.problem(where, "falta 'archivo' (o 'archivos')")
        return tuple(self.path(v, f"{where}.archivo") for v in values)

    def table_file(self, table: dict, where: str) -> TableFile:
        return TableFile(
            files=self.files(table, where),
            encoding=self.get(table, "codificacion", where, str, default="auto"),
            delimiter=self.get(table, "separador", where, str, default="auto"),
            sheet=self.get(table, "hoja", where, str),
            header_row=self.get(table, "fila_encabezado", where, int, default=1),
        )

    def code(self, value: Any, where: str) -> CodeSpec | None:
        if value is None:
            return None
        if isinstance(value, str):
            return CodeSpec(value)
        if not isinstance(value, dict) or "columna" not in value:
            self.problem(where, "se esperaba el nombre de una columna o {columna = ..., inicio, fin, rellenar, quitar_prefijo}")
            return None
        unknown = set(value) - {"columna", "inicio", "fin", "rellenar", "quitar_prefijo"}
        if unknown:
            self.problem(where, f"claves desconocidas {sorted(unknown)}")
        return CodeSpec(column=str(value["columna"]), strip_prefix=str(value.get("quitar_prefijo", "")),
                        start=value.get("inicio"), end=value.get("fin"), pad=value.get("rellenar"))

    def columns(self, table: dict, where: str, fields: tuple[str, ...], required: tuple[str, ...]) -> dict[str, str]:
        """The ``columnas`` table: field -> column name, checked against the known fields."""
        columns = self.get(table, "columnas", where, dict, required=True) or {}
        unknown = set(columns) - set(fields)
        if unknown:
            self.problem(f"{where}.columnas", f"campos desconocidos {sorted(unknown)}; los campos son {list(fields)}")
        for needed in required:
            if needed not in columns:
                self.problem(f"{where}.columnas", f"falta la columna obligatoria '{needed}'")
        return columns

    def values(self, table: dict, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
        out: dict[str, dict[str, tuple[str, ...]]] = {}
        for fld, mapping in (table or {}).items():
            if not isinstance(mapping, dict):
                self.problem(f"{where}.{fld}", "se esperaba una tabla destino = [grafías]")
                continue
            out[fld] = {}
            for target, spellings in mapping.items():
                if isinstance(spellings, str):
                    spellings = [spellings]
                if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
                    self.problem(f"{where}.{fld}.{target}", "se esperaba una lista de textos")
                    continue
                out[fld][str(target)] = tuple(spellings)
        return out


_KIND_ES = {"str": "un texto", "int": "un número entero", "list": "una lista", "dict": "una tabla",
            "bool": "true o false", "float": "un número", "float o int": "un número", "int o float": "un número"}


def _layer(r: _Reader, table: dict | None, where: str, needs_parent: bool) -> Layer | None:
    if table is None:
        return None
    code = r.code(r.get(table, "codigo", where, (str, dict), required=True), f"{where}.codigo")
    parent = r.code(table.get("padre"), f"{where}.padre")
    if needs_parent and parent is None:
        r.problem(where, "falta 'padre' (columna con el código de la unidad que la contiene)")
    pattern = r.get(table, "excluir_codigos", where, str)
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            r.problem(f"{where}.excluir_codigos", f"expresión regular no válida: {exc}")
    names = r.get(table, "nombres", where, dict, default={})
    files = r.files(table, where)
    return Layer(file=files[0] if files else Path("?"), code=code or CodeSpec("?"),
                 name=r.get(table, "nombre", where, str, required=True) or "?",
                 parent=parent, names={str(k): str(v) for k, v in names.items()},
                 exclude_pattern=pattern, layer=r.get(table, "capa", where, str))


def load_config(path: Path) -> LoadConfig:
    """Read and check a configuration file; raise ConfigError listing every problem."""
    path = Path(path).resolve()
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, [f"no existe el archivo de configuración {path}"]) from None
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"no es un TOML válido: {exc}"]) from None
    problems: list[str] = []
    r = _Reader(path.parent, problems)

    country = r.get(raw, "pais", "raíz", str, required=True) or "?"
    country_name = r.get(raw, "nombre_pais", "raíz", str, default=country)
    period = r.get(raw, "periodo", "raíz", dict, required=True) or {}
    start = end = dt.date(2000, 1, 1)
    for key in ("desde", "hasta"):
        value = period.get(key)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, dt.date):
            r.problem(f"periodo.{key}", f"se esperaba una fecha AAAA-MM-DD, se encontró {value!r}")
        elif key == "desde":
            start = value
        else:
            end = value
    if end < start:
        r.problem("periodo", f"'hasta' ({end}) es anterior a 'desde' ({start})")
    threshold = r.get(raw, "umbral_rechazo", "raíz", (float, int), default=DEFAULT_REJECT_THRESHOLD)
    if not 0 <= threshold <= 1:
        r.problem("umbral_rechazo", f"debe estar entre 0 y 1 (0,05 = 5 %), se encontró {threshold}")

    geo = r.get(raw, "geografia", "raíz", dict, required=True) or {}
    departments = _layer(r, r.get(geo, "departamentos", "geografia", dict, required=True), "geografia.departamentos", False)
    municipalities = _layer(r, r.get(geo, "municipios", "geografia", dict, required=True), "geografia.municipios", True)
    aldeas = _layer(r, r.get(geo, "aldeas", "geografia", dict), "geografia.aldeas", True)

    population = None
    pop = r.get(raw, "poblacion", "raíz", dict, required=True)
    if pop is not None:
        where = "poblacion"
        wide = r.get(pop, "anios", where, dict)
        prefix = wide.get("prefijo") if wide else None
        year_col = r.get(pop, "anio", where, str)
        value_col = r.get(pop, "valor", where, str)
        if (prefix is None) == (year_col is None or value_col is None):
            r.problem(where, "declare o bien anios = {prefijo = \"pob_\"} (una columna por año) "
                             "o bien anio = ... y valor = ... (formato largo)")
        values = r.values(pop.get("valores", {}), f"{where}.valores")
        population = Population(
            table=r.table_file(pop, where),
            code=r.code(r.get(pop, "codigo", where, (str, dict), required=True), f"{where}.codigo") or CodeSpec("?"),
            year_prefix=prefix, year=year_col, value=value_col,
            sex=r.get(pop, "sexo", where, str), age_group=r.get(pop, "edad", where, str),
            sex_values=values.get("sexo", {}), age_values=values.get("edad", {}),
            source=r.get(pop, "fuente", where, str, required=True) or "?")

    incidents = []
    seen = set()
    for i, src in enumerate(r.get(raw, "incidentes", "raíz", list, required=True) or []):
        where = f"incidentes[{i + 1}]"
        if not isinstance(src, dict):
            r.problem(where, "se esperaba una tabla [[incidentes]]")
            continue
        sid = r.get(src, "fuente", where, str, required=True) or f"fuente{i + 1}"
        if not re.fullmatch(r"[a-z0-9_]+", sid):
            r.problem(f"{where}.fuente", f"'{sid}' debe usar solo minúsculas, cifras y _")
        if sid in seen:
            r.problem(f"{where}.fuente", f"la fuente '{sid}' está repetida")
        seen.add(sid)
        where = f"incidentes.{sid}"
        columns = r.columns(src, where, INCIDENT_FIELDS, ("fecha", "delito"))
        if "municipio_codigo" not in columns and "municipio" not in columns:
            r.problem(f"{where}.columnas", "declare 'municipio_codigo' (código) o 'municipio' (nombre)")
        code = r.code(columns.get("municipio_codigo"), f"{where}.columnas.municipio_codigo")
        formats = r.get(src, "formato_fecha", where, (str, list), default=list(DEFAULT_DATE_FORMATS))
        formats = (formats,) if isinstance(formats, str) else tuple(formats)
        values = r.values(src.get("valores", {}), f"{where}.valores")
        if not values.get("delito"):
            r.problem(f"{where}.valores.delito", "falta el mapa de tipos de delito (código del catálogo = [grafías])")
        incidents.append(IncidentSource(
            source=sid, institution=r.get(src, "institucion", where, str, required=True) or sid,
            table=r.table_file(src, where),
            columns={k: (v["columna"] if isinstance(v, dict) else str(v)) for k, v in columns.items()},
            date_formats=formats, values=values, code=code,
            max_age=r.get(src, "edad_maxima", where, int, default=110)))

    schools = None
    sch = r.get(raw, "centros_educativos", "raíz", dict)
    if sch is not None:
        where = "centros_educativos"
        columns = r.columns(sch, where, SCHOOL_FIELDS, ("codigo", "nombre"))
        schools = Schools(table=r.table_file(sch, where),
                          columns={k: (v["columna"] if isinstance(v, dict) else str(v)) for k, v in columns.items()},
                          code=r.code(columns.get("municipio_codigo"), f"{where}.columnas.municipio_codigo"),
                          values=r.values(sch.get("valores", {}), f"{where}.valores"))

    indicators = []
    for i, ind in enumerate(r.get(raw, "indicadores", "raíz", list, default=[]) or []):
        where = f"indicadores[{i + 1}]"
        cols = []
        for key, spec in (r.get(ind, "columnas", where, dict, required=True) or {}).items():
            if not isinstance(spec, dict) or "columna" not in spec:
                r.problem(f"{where}.columnas.{key}", "se esperaba {columna = ..., nombre = ..., unidad = ..., mayor_es_peor = true}")
                continue
            cols.append(IndicatorColumn(key, str(spec["columna"]), str(spec.get("nombre", key)),
                                        str(spec.get("unidad", "")), bool(spec.get("mayor_es_peor", True))))
        name_col = r.get(ind, "municipio", where, str)
        code_col = r.get(ind, "municipio_codigo", where, (str, dict))
        if (name_col is None) == (code_col is None):
            r.problem(where, "declare 'municipio' (nombre) o 'municipio_codigo' (código), uno de los dos")
        code = r.code(code_col, f"{where}.municipio_codigo")
        header = r.get(ind, "encabezado_departamento", where, str)
        if header:
            try:
                if "nombre" not in re.compile(header).groupindex:
                    r.problem(f"{where}.encabezado_departamento", "la expresión debe tener un grupo (?P<nombre>...)")
            except re.error as exc:
                r.problem(f"{where}.encabezado_departamento", f"expresión regular no válida: {exc}")
        indicators.append(Indicators(
            table=r.table_file(ind, where), municipality=name_col, municipality_code=code.column if code else None,
            code=code, department=r.get(ind, "departamento", where, str), department_header=header,
            year=r.get(ind, "anio", where, int, required=True) or 0, columns=tuple(cols),
            source=r.get(ind, "fuente", where, str, required=True) or "?"))

    reconciliation = None
    rec = r.get(raw, "conciliacion", "raíz", dict)
    if rec is not None:
        rule = r.get(rec, "regla", "conciliacion", str, required=True)
        if rule not in RULES:
            r.problem("conciliacion.regla", f"'{rule}' no es una regla; use una de {list(RULES)}")
        reference = r.get(rec, "referencia", "conciliacion", str)
        if rule == "referencia" and reference not in seen:
            r.problem("conciliacion.referencia", f"'{reference}' no es una de las fuentes declaradas {sorted(seen)}")
        reconciliation = Reconciliation(tuple(r.get(rec, "delitos", "conciliacion", list, required=True) or []),
                                        rule or "referencia", reference)

    aliases = {}
    for key, value in (r.get(raw, "alias", "raíz", dict, default={}) or {}).get("municipios", {}).items():
        aliases[str(key)] = str(value)

    if problems:
        raise ConfigError(path, problems)
    return LoadConfig(
        path=path, sha256=hashlib.sha256(raw_bytes).hexdigest(), country=country, country_name=country_name,
        period_start=start, period_end=end, synthetic=bool(raw.get("sintetico", False)),
        reject_threshold=float(threshold), departments=departments, municipalities=municipalities, aldeas=aldeas,
        population=population, incidents=tuple(incidents), schools=schools, indicators=tuple(indicators),
        reconciliation=reconciliation, aliases=aliases)
