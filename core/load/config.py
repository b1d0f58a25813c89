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
INCIDENT_FIELDS = ("id", "fecha", "anio", "mes", "hora", "municipio_codigo", "municipio", "departamento_codigo",
                   "departamento", "aldea_codigo", "pais", "delito", "sexo", "edad", "grupo_edad", "arma",
                   "longitud", "latitud", "victimas", "cantidad")
# What one row of a source is, and what it counts.
ROW_UNITS = {"victima": "una víctima por fila", "hecho": "un hecho por fila, con su número de víctimas",
             "agregado": "un conteo agregado por fila"}
COUNT_UNITS = ("victimas", "hechos")
DATE_PRECISIONS = {"dia": "día", "mes": "mes", "anio": "año"}
TERRITORY_LEVELS = ("municipio", "departamento")
LOCATE_MODES = ("si_falta", "siempre", "nunca")
FILL_RULES = {"ninguna": "ninguna", "anio_mas_cercano": "año más cercano", "interpolacion_lineal": "interpolación lineal"}
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
    code: CodeSpec | None          # territory code column, or ...
    municipality: str | None       # ... municipality name column (with department) ...
    department: str | None         # ... or department name/code column (level departamento)
    level: str                     # municipio or departamento
    fill: str                      # rule for years of the period missing from the file (FILL_RULES)
    year_prefix: str | None        # wide: one column per year, named prefix + year
    year: str | None               # long: year column ...
    value: str | None              # ... and value column
    sex: str | None
    age_group: str | None
    sex_values: dict[str, tuple[str, ...]]
    age_values: dict[str, tuple[str, ...]]
    source: str


@dataclass(frozen=True)
class RowSelection:
    """Which rows of a file belong to the source: column -> values kept (include) or left out (exclude)."""
    include: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)


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
    row_unit: str = "victima"                        # ROW_UNITS
    count_unit: str = "victimas"                     # agregado: what the count counts
    date_precision: str = "dia"
    territory_level: str = "municipio"
    locate: str = "si_falta"                         # place by coordinates: when the territory is missing / always / never
    selection: RowSelection = field(default_factory=RowSelection)
    empty_values: tuple[str, ...] = ()               # cell values read as empty (e.g. 'N/D', '-')
    constants: dict[str, str] = field(default_factory=dict)   # field -> value for every row
    dept_code: CodeSpec | None = None                # department code transform

    def has(self, fld: str) -> bool:
        return fld in self.columns or fld in self.constants

    @property
    def record_level(self) -> bool:
        """Rows become individual records (incident) rather than counts (incident_aggregate)."""
        return self.row_unit != "agregado" and self.date_precision == "dia" and self.territory_level == "municipio"

    @property
    def stored_unit(self) -> str:
        return {"victima": "victimas", "hecho": "victimas y hechos"}.get(self.row_unit, self.count_unit)


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
    dept_aliases: dict[str, str] = field(default_factory=dict)   # department alias -> name or code


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

    def choice(self, table: dict, key: str, where: str, options, default: str) -> str:
        value = self.get(table, key, where, str, default=default)
        if value not in options:
            self.problem(f"{where}.{key}", f"'{value}' no es válido; use uno de {list(options)}")
            return default
        return value

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
        for key, value in list(columns.items()):
            if not isinstance(value, str) and not (isinstance(value, dict) and isinstance(value.get("columna"), str)):
                self.problem(f"{where}.columnas.{key}", f"se esperaba el nombre de una columna (texto) o "
                                                        f"{{columna = ...}}, se encontró {value!r}")
                del columns[key]
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
        level = r.choice(pop, "nivel", where, TERRITORY_LEVELS, "municipio")
        fill = r.choice(pop, "completar_anios", where, tuple(FILL_RULES), "ninguna")
        code_spec = r.code(r.get(pop, "codigo", where, (str, dict)), f"{where}.codigo")
        muni_name = r.get(pop, "municipio", where, str)
        dept_col = r.get(pop, "departamento", where, str)
        if code_spec is None and muni_name is None and not (level == "departamento" and dept_col):
            r.problem(where, "declare 'codigo' (columna con el código del territorio) o 'municipio' (nombre, con "
                             "'departamento' si lo hay); para nivel = \"departamento\", 'codigo' o 'departamento'")
        if level == "departamento" and muni_name:
            r.problem(f"{where}.municipio", "con nivel = \"departamento\" la población es por departamento: quite 'municipio'")
        population = Population(
            table=r.table_file(pop, where), code=code_spec, municipality=muni_name, department=dept_col,
            level=level, fill=fill,
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
        incidents.append(_incident_source(r, src, sid, where))

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
        if rule == "maximo":
            coarse = [s.source for s in incidents if not s.record_level]
            if coarse:
                r.problem("conciliacion.regla", "la regla 'maximo' compara registros por municipio y mes; las fuentes "
                          f"{coarse} no tienen registros con fecha y municipio: use regla = \"referencia\"")

    aliases, dept_aliases = {}, {}
    alias_table = r.get(raw, "alias", "raíz", dict, default={}) or {}
    unknown = set(alias_table) - {"municipios", "departamentos"}
    if unknown:
        r.problem("alias", f"secciones desconocidas {sorted(unknown)}; use [alias.municipios] o [alias.departamentos]")
    for key, out in (("municipios", aliases), ("departamentos", dept_aliases)):
        for name, value in (r.get(alias_table, key, "alias", dict, default={}) or {}).items():
            if isinstance(value, str):
                out[str(name)] = value
            else:
                r.problem(f"alias.{key}.{name}", f"se esperaba un texto (nombre o código), se encontró {value!r}")

    if problems:
        raise ConfigError(path, problems)
    return LoadConfig(
        path=path, sha256=hashlib.sha256(raw_bytes).hexdigest(), country=country, country_name=country_name,
        period_start=start, period_end=end, synthetic=bool(raw.get("sintetico", False)),
        reject_threshold=float(threshold), departments=departments, municipalities=municipalities, aldeas=aldeas,
        population=population, incidents=tuple(incidents), schools=schools, indicators=tuple(indicators),
        reconciliation=reconciliation, aliases=aliases, dept_aliases=dept_aliases)


def _incident_source(r: _Reader, src: dict, sid: str, where: str) -> IncidentSource:
    """One [[incidentes]] table: what a row is, its grain, its columns and which rows belong."""
    known = {"fuente", "institucion", "archivo", "archivos", "codificacion", "separador", "hoja", "fila_encabezado",
             "formato_fecha", "columnas", "valores", "edad_maxima", "unidad_fila", "unidad", "precision_fecha",
             "nivel_territorio", "ubicar_por_coordenadas", "seleccion", "valores_vacios", "constantes"}
    unknown = set(src) - known
    if unknown:
        r.problem(where, f"claves desconocidas {sorted(unknown)}; las claves son {sorted(known)}")
    columns = r.columns(src, where, INCIDENT_FIELDS, ())
    constants_raw = r.get(src, "constantes", where, dict, default={}) or {}
    constants = {}
    for key, value in constants_raw.items():
        if key not in INCIDENT_FIELDS:
            r.problem(f"{where}.constantes", f"campo desconocido '{key}'; los campos son {list(INCIDENT_FIELDS)}")
        elif key in columns:
            r.problem(f"{where}.constantes.{key}", "el campo ya tiene una columna en [columnas]: declare uno de los dos")
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            constants[key] = str(value)
        else:
            r.problem(f"{where}.constantes.{key}", f"se esperaba un texto o un número, se encontró {value!r}")
    row_unit = r.choice(src, "unidad_fila", where, tuple(ROW_UNITS), "victima")
    precision = r.choice(src, "precision_fecha", where, tuple(DATE_PRECISIONS), "dia")
    level = r.choice(src, "nivel_territorio", where, TERRITORY_LEVELS, "municipio")
    locate = r.choice(src, "ubicar_por_coordenadas", where, LOCATE_MODES, "si_falta")
    count_unit = "victimas"
    if row_unit == "agregado":
        count_unit = r.get(src, "unidad", where, str, required=True) or "victimas"
        if count_unit not in COUNT_UNITS:
            r.problem(f"{where}.unidad", f"'{count_unit}' no es válido; use \"victimas\" o \"hechos\" (lo que cuenta la columna cantidad)")
            count_unit = "victimas"
        if "cantidad" not in columns:
            r.problem(f"{where}.columnas", "una fuente agregada (unidad_fila = \"agregado\") necesita la columna 'cantidad'")
    elif "unidad" in src:
        r.problem(f"{where}.unidad", "solo se declara con unidad_fila = \"agregado\" (una fila de víctima cuenta víctimas; "
                                     "una fila de hecho cuenta el hecho y sus víctimas)")
    if row_unit == "hecho" and "victimas" not in columns:
        r.problem(f"{where}.columnas", "una fuente de hechos (unidad_fila = \"hecho\") necesita la columna 'victimas' "
                                       "(número de víctimas de cada hecho)")
    if row_unit != "hecho" and "victimas" in columns:
        r.problem(f"{where}.columnas.victimas", "solo con unidad_fila = \"hecho\"")
    if row_unit != "agregado" and "cantidad" in columns:
        r.problem(f"{where}.columnas.cantidad", "solo con unidad_fila = \"agregado\" (y unidad = \"victimas\" o \"hechos\")")

    def has(fld):
        return fld in columns or fld in constants

    # Date at the declared precision.
    if not has("fecha") and not has("anio"):
        r.problem(f"{where}.columnas", "falta la columna obligatoria 'fecha' (con formato_fecha), o 'anio'"
                  + (" y 'mes'" if precision != "anio" else "") + " con precision_fecha")
    if has("anio") and not has("fecha"):
        if precision == "dia":
            r.problem(f"{where}.precision_fecha", "con 'anio' (sin 'fecha') declare precision_fecha = \"mes\" "
                                                  "(y la columna 'mes') o \"anio\"")
        elif precision == "mes" and not has("mes"):
            r.problem(f"{where}.columnas", "precision_fecha = \"mes\" con 'anio' necesita también la columna 'mes'")
    if not has("delito"):
        r.problem(f"{where}.columnas", "falta la columna obligatoria 'delito' (o constantes.delito)")
    # Territory at the declared level.
    xy = "longitud" in columns and "latitud" in columns
    if level == "municipio":
        if not (has("municipio_codigo") or has("municipio")) and not (xy and locate != "nunca"):
            r.problem(f"{where}.columnas", "declare 'municipio_codigo' (código) o 'municipio' (nombre), o 'longitud' y "
                                           "'latitud' para ubicar por coordenadas")
    else:
        if not (has("departamento_codigo") or has("departamento")):
            r.problem(f"{where}.columnas", "nivel_territorio = \"departamento\" necesita 'departamento_codigo' o 'departamento'")
        for fld in ("municipio", "municipio_codigo", "aldea_codigo"):
            if fld in columns:
                r.problem(f"{where}.columnas.{fld}", "con nivel_territorio = \"departamento\" no se lee el municipio: "
                                                     "quite la columna o use nivel_territorio = \"municipio\"")
    if locate == "siempre" and not xy:
        r.problem(f"{where}.ubicar_por_coordenadas", "\"siempre\" necesita las columnas 'longitud' y 'latitud'")
    code = r.code(columns.get("municipio_codigo"), f"{where}.columnas.municipio_codigo")
    dept_code = r.code(columns.get("departamento_codigo"), f"{where}.columnas.departamento_codigo")
    formats = r.get(src, "formato_fecha", where, (str, list), default=list(DEFAULT_DATE_FORMATS))
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    for f in formats:
        if not isinstance(f, str) or "%" not in f:
            r.problem(f"{where}.formato_fecha", f"{f!r} no es un formato de fecha (p. ej. \"%d/%m/%Y\")")
    values = r.values(src.get("valores", {}), f"{where}.valores")
    if not values.get("delito") and "delito" not in constants:
        r.problem(f"{where}.valores.delito", "falta el mapa de tipos de delito (código del catálogo = [grafías])")
    sel = r.get(src, "seleccion", where, dict, default={}) or {}
    selection = RowSelection()
    if sel:
        bad = set(sel) - {"incluir", "excluir"}
        if bad:
            r.problem(f"{where}.seleccion", f"claves desconocidas {sorted(bad)}; use incluir = {{COLUMNA = [valores]}} "
                                            "o excluir = {COLUMNA = [valores]}")
        parts = {}
        for key in ("incluir", "excluir"):
            parts[key] = {}
            for col, vals in (r.get(sel, key, f"{where}.seleccion", dict, default={}) or {}).items():
                if isinstance(vals, (str, int)):
                    vals = [vals]
                if not isinstance(vals, list) or not vals or not all(isinstance(v, (str, int)) for v in vals):
                    r.problem(f"{where}.seleccion.{key}.{col}", "se esperaba una lista de valores")
                    continue
                parts[key][str(col)] = tuple(str(v) for v in vals)
        selection = RowSelection(parts["incluir"], parts["excluir"])
    empty_values = r.get(src, "valores_vacios", where, list, default=[]) or []
    if not all(isinstance(v, str) for v in empty_values):
        r.problem(f"{where}.valores_vacios", "se esperaba una lista de textos (p. ej. [\"N/D\", \"-\"])")
        empty_values = []
    return IncidentSource(
        source=sid, institution=r.get(src, "institucion", where, str, required=True) or sid,
        table=r.table_file(src, where),
        columns={k: (v["columna"] if isinstance(v, dict) else str(v)) for k, v in columns.items()},
        date_formats=formats, values=values, code=code,
        max_age=r.get(src, "edad_maxima", where, int, default=110),
        row_unit=row_unit, count_unit=count_unit if row_unit == "agregado" else "victimas",
        date_precision=precision, territory_level=level, locate=locate, selection=selection,
        empty_values=tuple(empty_values), constants=constants, dept_code=dept_code)
