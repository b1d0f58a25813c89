"""The load configuration: a TOML file that declares every input, read into typed settings.

Keys are in Spanish (the file is written by observatory technicians); see
``data/examples/honduras.toml`` for a documented example. Relative paths are resolved
against the folder of the configuration file. Every problem is reported with the key that
holds it, all at once (``ConfigError.problems``).
"""
from __future__ import annotations

import codecs
import datetime as dt
import difflib
import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.load import survey as survey_load
from core.load.reconciliation import RULES, Rule
from core.load.survey import SurveySpec

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
    reconciliation: tuple[Rule, ...]        # one per group of crimes several institutions record
    aliases: dict[str, str] = field(default_factory=dict)   # 'alias' or 'departamento/alias' -> name or code
    dept_aliases: dict[str, str] = field(default_factory=dict)   # department alias -> name or code
    open_data: dict[str, str] = field(default_factory=dict)   # meta keys of [datos_abiertos] (core/opendata_catalog.py)
    surveys: tuple[SurveySpec, ...] = ()    # [[encuestas]]: survey microdata (core/load/survey.py)
    plans: tuple[Path, ...] = ()            # planes = ["plan.toml"]: policy plans (core/load/plans.py)


ROOT_KEYS = ("pais", "nombre_pais", "periodo", "sintetico", "umbral_rechazo", "geografia", "poblacion", "incidentes",
             "centros_educativos", "indicadores", "conciliacion", "alias", "datos_abiertos", "encuestas", "planes")
SURVEY_KEYS = ("encuesta", "nombre", "institucion", "archivo", "anio", "unidad", "diseno", "columnas", "valores", "medidas",
               "sintetica")
SURVEY_DESIGN_KEYS = ("peso", "estrato", "upm")
SURVEY_COLUMN_KEYS = ("departamento", "municipio", "sexo", "edad", "area")
SURVEY_MEASURE_KEYS = ("medida", "estandar", "nombre", "definicion", "tipo", "pregunta", "si", "no", "excluir", "delito",
                       "ods", "universo")
OPEN_DATA_KEYS = ("licencia", "publicador", "contacto")
TABLE_FILE_KEYS = ("archivo", "archivos", "codificacion", "separador", "hoja", "fila_encabezado")
LAYER_KEYS = ("archivo", "codigo", "padre", "nombre", "nombres", "excluir_codigos", "capa")
CODE_KEYS = ("columna", "inicio", "fin", "rellenar", "quitar_prefijo")
POPULATION_KEYS = TABLE_FILE_KEYS + ("codigo", "municipio", "departamento", "nivel", "completar_anios", "anios", "anio",
                                     "valor", "sexo", "edad", "valores", "fuente")
INCIDENT_KEYS = TABLE_FILE_KEYS + ("fuente", "institucion", "formato_fecha", "columnas", "valores", "edad_maxima",
                                   "unidad_fila", "unidad", "precision_fecha", "nivel_territorio",
                                   "ubicar_por_coordenadas", "seleccion", "valores_vacios", "constantes")
SCHOOL_KEYS = TABLE_FILE_KEYS + ("columnas", "valores")
INDICATOR_KEYS = TABLE_FILE_KEYS + ("columnas", "municipio", "municipio_codigo", "departamento",
                                    "encabezado_departamento", "anio", "fuente")
INDICATOR_COLUMN_KEYS = ("columna", "nombre", "unidad", "mayor_es_peor")
# Source names used by the loader for its own inputs (rows, counts and findings are kept by source).
RESERVED_SOURCES = ("poblacion", "geografia", "centros_educativos", "indicadores")
DELIMITER_WORDS = {"tab": "\t", "tabulador": "\t", "\\t": "\t", "coma": ",", "punto y coma": ";", "pipe": "|",
                   "barra": "|", "barra vertical": "|"}
EXAMPLE_CONFIG = "data/examples/honduras.toml"


def show(value: Any, limit: int = 80) -> str:
    """A value as it is written in TOML, for messages (``"x"``, ``[1, 2]``, ``{ a = 1 }``)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, (dt.date, dt.datetime, dt.time)):
        text = value.isoformat()
    elif isinstance(value, list):
        text = "[" + ", ".join(show(v, limit) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{k} = {show(v, limit)}" for k, v in value.items()) + " }"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def closest(word: str, options, cutoff: float = 0.6) -> str | None:
    """The option closest to ``word`` (a typo, other capitalisation or accents), or None."""
    options = [str(o) for o in options]
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[found[0]] if found else None


def misplaced_root_key(key: str) -> str:
    """The hint for a root key written after a [section] header (TOML puts it inside that section)."""
    if key not in ROOT_KEYS:
        return ""
    return (f"'{key}' es una clave de la raíz: en TOML, lo que se escribe después de un encabezado [sección] "
            f"pertenece a esa sección; mueva '{key}' al principio del archivo, antes de la primera [sección]")


def _kind_hint(key: str, value: Any, kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if list in kinds and isinstance(value, str):
        return f"; escriba una lista entre corchetes: {key} = [{show(value)}]"
    if list in kinds and isinstance(value, dict):
        return (f"; para declarar varias secciones escriba cada una con doble corchete [[{key}]] "
                f"(con [{key}] se declara una sola tabla)")
    if dict in kinds and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return f"; escriba [{key}] con un solo corchete ([[{key}]] declara una lista)"
    if (int in kinds or float in kinds) and isinstance(value, str):
        return f"; escriba el número sin comillas ({key} = 4)" if re.fullmatch(r"-?\d+([.,]\d+)?", value.strip()) else ""
    if bool in kinds and isinstance(value, str):
        return "; escriba true o false, sin comillas"
    if str in kinds and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"; escriba el texto entre comillas ({key} = \"{value}\")"
    if str in kinds and isinstance(value, dict):
        return f"; una clave escrita después de [{key}] o [{key}.algo] está dentro de esa tabla: revise los encabezados"
    return ""


def _nested(table: Any, key: str, path: str = "") -> str | None:
    """The dotted path of the first table below ``table`` that holds ``key`` (a root key written after a
    [section] header)."""
    if not isinstance(table, dict):
        return None
    for name, value in table.items():
        here = f"{path}.{name}" if path else str(name)
        for inner in (value if isinstance(value, list) else [value]):
            if isinstance(inner, dict):
                if key in inner:
                    return here
                found = _nested(inner, key, here)
                if found:
                    return found
    return None


class _Reader:
    """Typed access to a TOML table that records every problem with its key path."""

    def __init__(self, base: Path, problems: list[str], root: dict | None = None):
        self.base = base
        self.problems = problems
        self.root = root or {}

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"[{key}] {message}")

    def get(self, table: dict, key: str, where: str, kind: type | tuple, required: bool = False, default: Any = None):
        if not isinstance(table, dict):
            return default
        if key not in table:
            # A key written almost like the required one ('población', 'municipio') is reported once, as an
            # unknown key with its suggestion.
            if required and not any(closest(str(k), [key], cutoff=0.75) for k in table):
                inside = _nested(self.root, key) if where == "raíz" else None
                self.problem(where, f"falta la clave obligatoria '{key}'" + (
                    f"; está escrita dentro de [{inside}]: en TOML, lo que se escribe después de un encabezado "
                    f"[sección] pertenece a esa sección; mueva '{key}' al principio del archivo" if inside else ""))
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in kinds):
            names = " o ".join(k.__name__ for k in kinds)
            hint = _kind_hint(key, value, kind) or (f"; {misplaced_root_key(key)}" if misplaced_root_key(key)
                                                    and where != "raíz" else "")
            self.problem(f"{where}.{key}", f"se esperaba {_KIND_ES.get(names, names)}, se encontró {show(value)}{hint}")
            return default
        return value

    def sections(self, items: list | None, key: str, example: str) -> None:
        """One problem for the elements of a [[key]] list that are not tables (``key = [1, 2]``)."""
        bad = [str(i + 1) for i, item in enumerate(items or []) if not isinstance(item, dict)]
        if bad:
            which = f"el elemento {bad[0]} no es una tabla" if len(bad) == 1 else \
                f"los elementos {', '.join(bad)} no son tablas"
            self.problem(key, f"se esperaba una lista de secciones [[{key}]] ({example}), se encontró {show(items)}: {which}")

    def number(self, table: dict, key: str, where: str, default: int | None, minimum: int | None = None):
        """An optional whole number (not a boolean), at least ``minimum``."""
        value = self.get(table, key, where, int, default=default)
        if value is not None and minimum is not None and value < minimum:
            self.problem(f"{where}.{key}", f"debe ser un número entero mayor o igual que {minimum}, se encontró {value}")
            return default
        return value

    def known(self, table: Any, where: str, keys, label: str = "claves") -> None:
        """Report keys of ``table`` that are not in ``keys``, with the closest valid key."""
        if not isinstance(table, dict):
            return
        unknown = sorted(set(map(str, table)) - set(keys))
        if not unknown:
            return
        hints = []
        for key in unknown:
            misplaced = misplaced_root_key(key) if where != "raíz" else ""
            close = closest(key, keys)
            if misplaced:
                hints.append(misplaced)
            elif close:
                hints.append(f"'{key}': ¿quiso decir '{close}'?")
        article = "los" if label == "campos" else "las"
        self.problem(where, f"{label} desconocid{article[-2]}s {unknown}" + "".join(f"; {h}" for h in hints)
                     + f"; {article} {label} son {sorted(keys)}")

    def path(self, value: str, where: str) -> Path:
        given = Path(value).expanduser()
        p = (given if given.is_absolute() else self.base / given).resolve()
        if p.is_dir():
            inside = sorted(x.name for x in p.iterdir() if x.is_file() and not x.name.startswith("."))
            listed = (f" (contiene: {', '.join(inside[:8])}{'…' if len(inside) > 8 else ''})" if inside
                      else " (está vacía)")
            self.problem(where, f"{p} es una carpeta, no un archivo: declare sus archivos uno por uno en "
                                f"archivos = [\"...\", \"...\"]{listed}")
        elif not p.exists():
            hints = []
            if not given.is_absolute():
                hints.append(f"las rutas relativas se leen desde la carpeta del archivo de configuración ({self.base})")
                from_cwd = (Path.cwd() / given).resolve()
                if from_cwd.exists() and from_cwd != p:
                    hints.append(f"existe {from_cwd}, relativo a la carpeta desde la que se ejecuta la carga: escriba "
                                 "la ruta desde la carpeta de la configuración o una ruta absoluta")
            folder = next((f for f in [p.parent, *p.parent.parents] if f.is_dir()), None)
            if len(hints) > 1:
                pass  # the file is where the load runs from: that is the hint
            elif folder == p.parent:
                near = closest(p.name, [x.name for x in folder.iterdir()], cutoff=0.5)
                if near:
                    hints.append(f"¿quiso decir {near}? (en {folder})")
            elif folder is not None:
                hints.append(f"no existe la carpeta {p.parent}")
            if "\\" in value and not Path(value).exists():
                hints.append("use barras / en la ruta (o comillas simples en TOML: archivo = 'C:\\datos\\x.csv')")
            self.problem(where, f"el archivo {p} no existe" + "".join(f"; {h}" for h in hints))
        return p

    def files(self, table: dict, where: str) -> tuple[Path, ...]:
        single = self.get(table, "archivo", where, str)
        many = self.get(table, "archivos", where, list, default=[]) or []
        for i, v in enumerate(many):
            if not isinstance(v, str):
                self.problem(f"{where}.archivos", f"el elemento {i + 1} no es una ruta entre comillas: {show(v)}")
        if single is not None and not single.strip():
            self.problem(f"{where}.archivo", "la ruta está vacía")
        paths = [(single, f"{where}.archivo")] if single and single.strip() else []
        paths += [(v, f"{where}.archivos") for v in many if isinstance(v, str)]
        if not paths and "archivo" not in table and not many:
            self.problem(where, "falta 'archivo' (o 'archivos')")
        return tuple(self.path(v, key) for v, key in paths)

    def table_file(self, table: dict, where: str) -> TableFile:
        encoding = self.get(table, "codificacion", where, str, default="auto")
        if encoding != "auto":
            try:
                codecs.lookup(encoding)
            except LookupError:
                near = "cp1252" if encoding.strip().lower() in ("ansi", "windows", "ansi/windows") else \
                    closest(encoding, ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"), cutoff=0.4)
                self.problem(f"{where}.codificacion", f"'{encoding}' no es una codificación conocida; use \"auto\" "
                             f"(detecta UTF-8, UTF-16 y Latin-1), \"utf-8\", \"latin-1\", \"cp1252\" o \"utf-16\""
                             + (f"; ¿quiso decir \"{near}\"?" if near else ""))
                encoding = "auto"
        delimiter = self.get(table, "separador", where, str, default="auto")
        if delimiter != "auto":
            delimiter = DELIMITER_WORDS.get(delimiter.strip().lower(), delimiter)
            if len(delimiter) != 1:
                self.problem(f"{where}.separador", f"{show(delimiter)} no es un separador (un solo carácter); use "
                                                   "\"auto\", \",\", \";\", \"\\t\" (tabulador) o \"|\"")
                delimiter = "auto"
        sheet = self.get(table, "hoja", where, str)
        return TableFile(
            files=self.files(table, where), encoding=encoding, delimiter=delimiter, sheet=sheet,
            header_row=self.number(table, "fila_encabezado", where, 1, minimum=1),
        )

    def choice(self, table: dict, key: str, where: str, options, default: str) -> str:
        value = self.get(table, key, where, str, default=default)
        if value not in options:
            near = closest(value, options)
            self.problem(f"{where}.{key}", f"'{value}' no es válido; use uno de {list(options)}"
                         + (f" (¿quiso decir '{near}'?)" if near else ""))
            return default
        return value

    def code(self, value: Any, where: str) -> CodeSpec | None:
        if value is None:
            return None
        if isinstance(value, str):
            return CodeSpec(value)
        if not isinstance(value, dict) or not isinstance(value.get("columna"), str):
            self.problem(where, "se esperaba el nombre de una columna (\"COD\") o { columna = \"COD\", inicio = 0, "
                                f"fin = 4, rellenar = 4, quitar_prefijo = \"HN\" }}, se encontró {show(value)}")
            return None
        self.known(value, where, CODE_KEYS)
        numbers = {}
        for key, minimum in (("inicio", None), ("fin", None), ("rellenar", 1)):
            numbers[key] = self.number(value, key, where, None, minimum)
        prefix = self.get(value, "quitar_prefijo", where, str, default="")
        return CodeSpec(column=value["columna"], strip_prefix=prefix or "",
                        start=numbers["inicio"], end=numbers["fin"], pad=numbers["rellenar"])

    def columns(self, table: dict, where: str, fields: tuple[str, ...], required: tuple[str, ...]) -> dict[str, str]:
        """The ``columnas`` table: field -> column name, checked against the known fields."""
        columns = dict(self.get(table, "columnas", where, dict, required=True) or {})
        for key, value in list(columns.items()):
            if not isinstance(value, str) and not (isinstance(value, dict) and isinstance(value.get("columna"), str)):
                self.problem(f"{where}.columnas.{key}", f"se esperaba el nombre de una columna (texto) o "
                                                        f"{{columna = ...}}, se encontró {show(value)}")
                del columns[key]
        unknown = set(columns) - set(fields)
        if unknown:
            hints = "".join(f"; '{k}': ¿quiso decir '{c}'?" for k in sorted(unknown) if (c := closest(k, fields)))
            self.problem(f"{where}.columnas", f"campos desconocidos {sorted(unknown)}{hints}; los campos son {list(fields)}")
            for key in unknown:
                del columns[key]
        for needed in required:
            if needed not in columns:
                self.problem(f"{where}.columnas", f"falta la columna obligatoria '{needed}'")
        return columns

    def values(self, table: Any, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
        out: dict[str, dict[str, tuple[str, ...]]] = {}
        if table is None:
            return out
        if not isinstance(table, dict):
            self.problem(where, f"se esperaba una tabla [{where}.CAMPO] con destino = [grafías], se encontró {show(table)}")
            return out
        for fld, mapping in table.items():
            if not isinstance(mapping, dict):
                hint = misplaced_root_key(fld)
                self.problem(f"{where}.{fld}", "se esperaba una tabla destino = [grafías], p. ej. "
                                               f"[{where}.{fld}] con homicidio = [\"HOMICIDIO\", \"Homicidio doloso\"]; "
                                               f"se encontró {show(mapping)}" + (f"; {hint}" if hint else ""))
                continue
            out[fld] = {}
            for target, spellings in mapping.items():
                if isinstance(spellings, str):
                    spellings = [spellings]
                if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
                    hint = misplaced_root_key(target)
                    self.problem(f"{where}.{fld}.{target}", f"se esperaba una lista de textos, p. ej. [\"grafía 1\", \"grafía 2\"]; "
                                                            f"se encontró {show(spellings)}" + (f"; {hint}" if hint else ""))
                    continue
                out[fld][str(target)] = tuple(spellings)
        return out


_KIND_ES = {"str": "un texto", "int": "un número entero", "list": "una lista", "dict": "una tabla",
            "bool": "true o false", "float": "un número", "float o int": "un número", "int o float": "un número",
            "str o dict": "un texto o una tabla", "str o list": "un texto o una lista"}


def _layer(r: _Reader, table: dict | None, where: str, needs_parent: bool) -> Layer | None:
    if table is None:
        return None
    r.known(table, where, LAYER_KEYS + ("archivos",))
    code = r.code(r.get(table, "codigo", where, (str, dict), required=True), f"{where}.codigo")
    parent = r.code(r.get(table, "padre", where, (str, dict)), f"{where}.padre")
    if needs_parent and parent is None and "padre" not in table:
        r.problem(where, "falta 'padre' (columna con el código de la unidad que la contiene)")
    pattern = r.get(table, "excluir_codigos", where, str)
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            r.problem(f"{where}.excluir_codigos", f"expresión regular no válida: {exc}")
    names = r.get(table, "nombres", where, dict, default={}) or {}
    for key, value in names.items():
        if not isinstance(value, str):
            hint = misplaced_root_key(key)
            r.problem(f"{where}.nombres.{key}", f"se esperaba el nombre corregido entre comillas, se encontró {show(value)}"
                      + (f"; {hint}" if hint else ""))
    files = r.files(table, where)
    if len(files) > 1:
        r.problem(where, "una capa de geografía es un solo archivo: declare 'archivo', no varios en 'archivos'")
    return Layer(file=files[0] if files else Path("?"), code=code or CodeSpec("?"),
                 name=r.get(table, "nombre", where, str, required=True) or "?",
                 parent=parent, names={str(k): v for k, v in names.items() if isinstance(v, str)},
                 exclude_pattern=pattern, layer=r.get(table, "capa", where, str))


TOML_ERRORS = (
    (r"Invalid value", "valor no válido: los textos van entre comillas (fuente = \"policia\"), los números y "
                       "true/false sin ellas"),
    (r"Unescaped '\\' in a string", "barra invertida \\ dentro de comillas dobles: en una ruta use barras / "
                                     "(\"C:/datos/x.csv\") o comillas simples ('C:\\datos\\x.csv')"),
    (r"Illegal character '\\n'", "comillas sin cerrar: el texto termina en la línea sin su comilla final"),
    (r"Unterminated string", "comillas sin cerrar"),
    (r"Cannot declare \((.*?),?\) twice", "la sección [{0}] está declarada dos veces (para varias fuentes use "
                                           "[[...]] con doble corchete)"),
    (r"Cannot overwrite a value", "la clave está declarada dos veces (o ya tiene un valor en esta sección)"),
    (r"Expected '=' after a key", "falta '=' después de la clave (clave = valor); si la clave tiene espacios, "
                                  "escríbala entre comillas"),
    (r"Invalid initial character for a key part", "nombre de clave no válido (use letras, cifras, _ y -, o "
                                                  "escríbala entre comillas)"),
    (r"Unclosed array", "una lista [ ... ] no se cierra con ]"),
    (r"Unclosed inline table", "una tabla { ... } no se cierra con } (en TOML debe estar en una sola línea)"),
    (r"Expected newline or end of document", "sobra texto después del valor (¿una coma, o dos valores en la misma "
                                             "línea? los comentarios empiezan con #)"),
    (r"Expected '\]' at the end of a table declaration", "falta ] al final del encabezado de sección"),
    (r"Expected '\]\]' at the end of an array declaration", "falta ]] al final del encabezado [[...]]"),
    (r"Invalid date or datetime", "fecha no válida (use AAAA-MM-DD)"),
)


def _read_toml(path: Path) -> tuple[bytes, dict]:
    """The bytes and the parsed content of a configuration file; any problem is a ConfigError in Spanish
    that names the line."""
    if path.is_dir():
        tomls = sorted(p.name for p in path.glob("*.toml"))
        raise ConfigError(path, [f"{path} es una carpeta; indique el archivo de configuración .toml"
                                 + (f" (en la carpeta: {', '.join(tomls)})" if tomls else "")])
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        near = closest(path.name, [p.name for p in path.parent.glob("*.toml")], cutoff=0.5) \
            if path.parent.is_dir() else None
        raise ConfigError(path, [f"no existe el archivo de configuración {path}"
                                 + (f"; ¿quiso decir {near}?" if near else "")]) from None
    except OSError as exc:
        raise ConfigError(path, [f"no se puede leer el archivo de configuración ({exc.strerror})"]) from None
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw_bytes[:exc.start].count(b"\n") + 1
        raise ConfigError(path, [f"línea {line}: el archivo no está guardado en UTF-8 (byte 0x{raw_bytes[exc.start]:02x}); "
                                 "guárdelo como UTF-8 (en el Bloc de notas: Guardar como, Codificación UTF-8)"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\(at line (\d+), column (\d+)\)|\(at end of document\)", message)
        reason = message[:at.start()].strip() if at else message
        explained = next((spanish.format(*(".".join(re.findall(r"'([^']*)'", g)) or g for g in m.groups()))
                          for pattern, spanish in TOML_ERRORS if (m := re.search(pattern, reason))),
                         f"sintaxis TOML no válida ({reason})")
        lines = text.splitlines()
        if at and at.group(1):
            number = int(at.group(1))
            text_line = lines[number - 1] if 0 < number <= len(lines) else ""
            found = re.match(r"\s*\[{1,2}\s*([^\]\"']*?)\s*\]|\s*([^=\"'\[]+?)\s*=", text_line)
            name = next((g for g in found.groups() if g), "") if found else ""
            if name and not name.isascii():
                plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
                known = ROOT_KEYS + LAYER_KEYS + POPULATION_KEYS + INCIDENT_KEYS + INDICATOR_KEYS + INCIDENT_FIELDS
                near = ".".join(closest(part, known) or part for part in plain.split("."))
                explained = (f"'{name}' lleva tilde o ñ: los nombres de sección y de clave se escriben sin ellas "
                             f"(¿quiso decir {'[' + near + ']' if text_line.lstrip().startswith('[') else near}?)")
            shown = lines[number - 1].strip() if 0 < number <= len(lines) else ""
            place = f"línea {number}" + (f" «{shown[:100]}»" if shown else "")
        else:
            place = "al final del archivo"
        raise ConfigError(path, [f"no es un TOML válido: {place}: {explained}"]) from None
    if not raw:
        raise ConfigError(path, ["el archivo de configuración está vacío (no declara ninguna clave); "
                                 f"parta del ejemplo documentado {EXAMPLE_CONFIG}"])
    return raw_bytes, raw


def load_config(path: Path) -> LoadConfig:
    """Read and check a configuration file; raise ConfigError listing every problem.

    One function per section reads it and says its problems; nothing is built unless all are fine."""
    path = Path(path).expanduser().resolve()
    raw_bytes, raw = _read_toml(path)
    problems: list[str] = []
    r = _Reader(path.parent, problems, raw)
    r.known(raw, "raíz", ROOT_KEYS)

    country = r.get(raw, "pais", "raíz", str, required=True) or "?"
    country_name = r.get(raw, "nombre_pais", "raíz", str, default=country)
    start, end = _period(r, raw)
    synthetic = r.get(raw, "sintetico", "raíz", bool, default=False)
    threshold = _reject_threshold(r, raw)
    departments, municipalities, aldeas = _geography(r, raw)
    population = _population(r, raw)
    incidents, seen = _incident_sources(r, raw)
    schools = _schools(r, raw)
    indicators = _indicators(r, raw)
    reconciliation = _reconciliation(r, raw.get("conciliacion"), seen, incidents)
    aliases, dept_aliases = _aliases(r, raw)
    open_data = _open_data(r, raw)
    surveys = _surveys(r, raw, bool(synthetic))
    plan_files = r.get(raw, "planes", "raíz", list, default=[]) or []
    plans = tuple(r.path(v, "planes") for v in plan_files if isinstance(v, str))
    if any(not isinstance(v, str) for v in plan_files):
        r.problem("planes", "se esperaba una lista de rutas de archivos de plan (planes = [\"plan.toml\"])")

    if problems:
        raise ConfigError(path, problems)
    # required sections: a missing one is a problem above
    assert departments is not None and municipalities is not None and population is not None
    return LoadConfig(
        path=path, sha256=hashlib.sha256(raw_bytes).hexdigest(), country=country, country_name=country_name,
        period_start=start, period_end=end, synthetic=bool(synthetic),
        reject_threshold=float(threshold), departments=departments, municipalities=municipalities, aldeas=aldeas,
        population=population, incidents=tuple(incidents), schools=schools, indicators=tuple(indicators),
        reconciliation=reconciliation, aliases=aliases, dept_aliases=dept_aliases, open_data=open_data,
        surveys=tuple(surveys), plans=plans)


def _period(r: _Reader, raw: dict) -> tuple[dt.date, dt.date]:
    period = r.get(raw, "periodo", "raíz", dict, required=True) or {}
    r.known(period, "periodo", ("desde", "hasta"))
    start = end = dt.date(2000, 1, 1)
    for key in ("desde", "hasta"):
        if key not in period:
            if "periodo" in raw and isinstance(raw["periodo"], dict):
                r.problem("periodo", f"falta la clave obligatoria '{key}' (una fecha AAAA-MM-DD)")
            continue
        value = period.get(key)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            r.problem(f"periodo.{key}", f"se esperaba una fecha AAAA-MM-DD (p. ej. \"2020-01-01\"), se encontró {show(value)}")
        elif key == "desde":
            start = value
        else:
            end = value
    if end < start:
        r.problem("periodo", f"'hasta' ({end}) es anterior a 'desde' ({start})")
    return start, end


def _reject_threshold(r: _Reader, raw: dict) -> float:
    threshold = r.get(raw, "umbral_rechazo", "raíz", (float, int), default=DEFAULT_REJECT_THRESHOLD)
    if not 0 <= threshold <= 1:
        hint = f" (¿quiso decir {threshold / 100:g}, es decir {threshold:g} %?)" if 1 < threshold <= 100 else ""
        r.problem("umbral_rechazo", f"debe estar entre 0 y 1 (0.05 = 5 %), se encontró {threshold}{hint}")
        threshold = DEFAULT_REJECT_THRESHOLD
    return float(threshold)


def _geography(r: _Reader, raw: dict) -> tuple[Layer | None, Layer | None, Layer | None]:
    geo = r.get(raw, "geografia", "raíz", dict, required=True) or {}
    r.known(geo, "geografia", ("departamentos", "municipios", "aldeas"))
    departments = _layer(r, r.get(geo, "departamentos", "geografia", dict, required=True), "geografia.departamentos", False)
    municipalities = _layer(r, r.get(geo, "municipios", "geografia", dict, required=True), "geografia.municipios", True)
    aldeas = _layer(r, r.get(geo, "aldeas", "geografia", dict), "geografia.aldeas", True)

    return departments, municipalities, aldeas


def _population(r: _Reader, raw: dict) -> Population | None:
    population = None
    pop = r.get(raw, "poblacion", "raíz", dict, required=True)
    if pop is not None:
        where = "poblacion"
        r.known(pop, where, POPULATION_KEYS)
        wide = r.get(pop, "anios", where, dict)
        r.known(wide, f"{where}.anios", ("prefijo",))
        prefix = r.get(wide, "prefijo", f"{where}.anios", str) if wide else None
        year_col = r.get(pop, "anio", where, str)
        value_col = r.get(pop, "valor", where, str)
        if (prefix is None) == (year_col is None or value_col is None):
            r.problem(where, "declare o bien anios = {prefijo = \"pob_\"} (una columna por año) "
                             "o bien anio = ... y valor = ... (formato largo)")
        values = r.values(pop.get("valores"), f"{where}.valores")
        r.known(values, f"{where}.valores", ("sexo", "edad"), label="campos")
        level = r.choice(pop, "nivel", where, TERRITORY_LEVELS, "municipio")
        fill = r.choice(pop, "completar_anios", where, tuple(FILL_RULES), "ninguna")
        code_spec = r.code(r.get(pop, "codigo", where, (str, dict)), f"{where}.codigo")
        muni_name = r.get(pop, "municipio", where, str)
        dept_col = r.get(pop, "departamento", where, str)
        if code_spec is None and muni_name is None and not (level == "departamento" and dept_col) \
                and "codigo" not in pop:
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

    return population


def _incident_sources(r: _Reader, raw: dict) -> tuple[list[IncidentSource], set[str]]:
    """The [[incidentes]] sources and their names."""
    incidents: list[IncidentSource] = []
    seen: set[str] = set()
    sources = r.get(raw, "incidentes", "raíz", list, required=True)
    if sources == []:
        r.problem("incidentes", "la lista está vacía: declare al menos una fuente [[incidentes]]")
    r.sections(sources, "incidentes", "fuente = ..., archivo = ..., [incidentes.columnas]")
    for i, src in enumerate(sources or []):
        where = f"incidentes[{i + 1}]"
        if not isinstance(src, dict):
            continue
        sid = r.get(src, "fuente", where, str, required=True) or f"fuente{i + 1}"
        if not re.fullmatch(r"[a-z0-9_]+", sid):
            r.problem(f"{where}.fuente", f"'{sid}' debe usar solo minúsculas, cifras y _")
        if sid in seen:
            r.problem(f"{where}.fuente", f"la fuente '{sid}' está repetida: cada [[incidentes]] necesita un nombre "
                                         "distinto; si son varios archivos de la misma fuente, declárelos juntos en "
                                         "archivos = [\"...\", \"...\"]")
        if sid in RESERVED_SOURCES:
            r.problem(f"{where}.fuente", f"'{sid}' es el nombre de otra entrada de la carga (la carga usa "
                                         f"{list(RESERVED_SOURCES)}); use otro nombre")
        seen.add(sid)
        where = f"incidentes.{sid}"
        incidents.append(_incident_source(r, src, sid, where))

    return incidents, seen


def _schools(r: _Reader, raw: dict) -> Schools | None:
    schools = None
    sch = r.get(raw, "centros_educativos", "raíz", dict)
    if sch is not None:
        where = "centros_educativos"
        r.known(sch, where, SCHOOL_KEYS)
        columns = r.columns(sch, where, SCHOOL_FIELDS, ("codigo", "nombre"))
        schools = Schools(table=r.table_file(sch, where),
                          columns={k: (v["columna"] if isinstance(v, dict) else str(v)) for k, v in columns.items()},
                          code=r.code(columns.get("municipio_codigo"), f"{where}.columnas.municipio_codigo"),
                          values=r.values(sch.get("valores"), f"{where}.valores"))

    return schools


def _indicators(r: _Reader, raw: dict) -> list[Indicators]:
    indicators: list[Indicators] = []
    declared = r.get(raw, "indicadores", "raíz", list, default=[]) or []
    r.sections(declared, "indicadores", "archivo = ..., anio = ..., [indicadores.columnas]")
    for i, ind in enumerate(declared):
        where = f"indicadores[{i + 1}]"
        if not isinstance(ind, dict):
            continue
        r.known(ind, where, INDICATOR_KEYS)
        cols = []
        for key, spec in (r.get(ind, "columnas", where, dict, required=True) or {}).items():
            if not isinstance(spec, dict) or not isinstance(spec.get("columna"), str):
                r.problem(f"{where}.columnas.{key}", "se esperaba { columna = \"COLUMNA\", nombre = \"...\", unidad = \"%\", "
                                                     f"mayor_es_peor = true }}, se encontró {show(spec)}")
                continue
            r.known(spec, f"{where}.columnas.{key}", INDICATOR_COLUMN_KEYS)
            here = f"{where}.columnas.{key}"
            cols.append(IndicatorColumn(key, spec["columna"], r.get(spec, "nombre", here, str, default=key),
                                        r.get(spec, "unidad", here, str, default=""),
                                        r.get(spec, "mayor_es_peor", here, bool, default=True)))
        name_col = r.get(ind, "municipio", where, str)
        code_col = r.get(ind, "municipio_codigo", where, (str, dict))
        if (name_col is None) == (code_col is None) and not ({"municipio", "municipio_codigo"} & set(ind)
                                                              and name_col is None and code_col is None):
            r.problem(where, "declare 'municipio' (nombre) o 'municipio_codigo' (código), uno de los dos")
        code = r.code(code_col, f"{where}.municipio_codigo")
        header = r.get(ind, "encabezado_departamento", where, str)
        if header:
            try:
                if "nombre" not in re.compile(header).groupindex:
                    r.problem(f"{where}.encabezado_departamento", "la expresión debe tener un grupo (?P<nombre>...)")
            except re.error as exc:
                r.problem(f"{where}.encabezado_departamento", f"expresión regular no válida: {exc}")
        year = r.get(ind, "anio", where, int, required=True)
        if year is not None and not 1900 <= year <= 2100:
            r.problem(f"{where}.anio", f"se esperaba un año de cuatro cifras (p. ej. 2021), se encontró {year}")
        indicators.append(Indicators(
            table=r.table_file(ind, where), municipality=name_col, municipality_code=code.column if code else None,
            code=code, department=r.get(ind, "departamento", where, str), department_header=header,
            year=year or 0, columns=tuple(cols),
            source=r.get(ind, "fuente", where, str, required=True) or "?"))

    return indicators


def _aliases(r: _Reader, raw: dict) -> tuple[dict[str, str], dict[str, str]]:
    aliases: dict[str, str] = {}
    dept_aliases: dict[str, str] = {}
    alias_table = r.get(raw, "alias", "raíz", dict, default={}) or {}
    unknown = set(alias_table) - {"municipios", "departamentos"}
    if unknown:
        hints = "".join(f"; '{k}': ¿quiso decir '{c}'?" for k in sorted(unknown)
                        if (c := closest(k, ("municipios", "departamentos"))))
        r.problem("alias", f"secciones desconocidas {sorted(unknown)}{hints}; use [alias.municipios] o [alias.departamentos]")
    for key, out in (("municipios", aliases), ("departamentos", dept_aliases)):
        for name, value in (r.get(alias_table, key, "alias", dict, default={}) or {}).items():
            if isinstance(value, str):
                out[str(name)] = value
            else:
                hint = misplaced_root_key(str(name))
                r.problem(f"alias.{key}.{name}", f"se esperaba un texto (nombre o código), se encontró {show(value)}"
                          + (f"; {hint}" if hint else ""))

    return aliases, dept_aliases


def _surveys(r: _Reader, raw: dict, synthetic: bool) -> list[SurveySpec]:
    """[[encuestas]]: each survey's file, design, breakdown columns and measures."""
    items = r.get(raw, "encuestas", "raíz", list, default=[]) or []
    r.sections(items, "encuestas", "encuesta, archivo, anio, [encuestas.diseno] y [[encuestas.medidas]]")
    out, seen = [], set()
    for i, item in enumerate(x for x in items if isinstance(x, dict)):
        sid = r.get(item, "encuesta", f"encuestas[{i + 1}]", str, required=True) or f"encuesta_{i + 1}"
        where = f"encuestas.{sid}"
        if sid in seen:
            r.problem(where, f"la encuesta «{sid}» aparece dos veces")
        seen.add(sid)
        r.known(item, where, SURVEY_KEYS)
        path = r.path(r.get(item, "archivo", where, str, required=True) or "?", f"{where}.archivo")
        year = r.number(item, "anio", where, None, minimum=1900)
        if year is None and "anio" not in item:
            r.problem(where, "falta la clave obligatoria 'anio' (año del trabajo de campo)")
        unit = r.get(item, "unidad", where, str, default="persona")
        if unit not in ("persona", "hogar"):
            r.problem(f"{where}.unidad", f"se esperaba \"persona\" o \"hogar\", se encontró {show(unit)}")
        design = r.get(item, "diseno", where, dict, required=True) or {}
        r.known(design, f"{where}.diseno", SURVEY_DESIGN_KEYS)
        weight = r.get(design, "peso", f"{where}.diseno", str, required=True) or "?"
        columns = r.get(item, "columnas", where, dict, required=True) or {}
        r.known(columns, f"{where}.columnas", SURVEY_COLUMN_KEYS, label="campos")
        if "departamento" not in columns:
            r.problem(f"{where}.columnas", "falta 'departamento' (la columna con el código del departamento)")
        values = r.get(item, "valores", where, dict, default={}) or {}
        r.known(values, f"{where}.valores", ("sexo", "area"))
        mapped = {key: {str(t): tuple(c if isinstance(c, list) else [c]) for t, c in table.items()}
                  for key, table in values.items() if isinstance(table, dict)}
        for key, allowed in (("sexo", ("H", "M")), ("area", ("urbana", "rural"))):
            for target in mapped.get(key, {}):
                if target not in allowed:
                    r.problem(f"{where}.valores.{key}", f"'{target}' no es un valor de {key}; se esperaba "
                                                        f"{' o '.join(allowed)}")
        measures = []
        raw_measures = r.get(item, "medidas", where, list, default=[]) or []
        r.sections(raw_measures, f"{where}.medidas", "medida, pregunta y si/no/excluir")
        if not raw_measures:
            r.problem(where, "falta al menos una medida [[encuestas.medidas]] (pregunta y códigos)")
        for j, m in enumerate(x for x in raw_measures if isinstance(x, dict)):
            mid = r.get(m, "medida", f"{where}.medidas[{j + 1}]", str, required=True) or f"medida_{j + 1}"
            mwhere = f"{where}.medidas.{mid}"
            r.known(m, mwhere, SURVEY_MEASURE_KEYS)
            standard = r.get(m, "estandar", mwhere, str, default=mid if mid in survey_load.STANDARD else None)
            if standard is not None and standard not in survey_load.STANDARD:
                near = closest(standard, list(survey_load.STANDARD))
                r.problem(f"{mwhere}.estandar", f"'{standard}' no es una medida estándar ({', '.join(survey_load.STANDARD)})"
                          + (f"; ¿quiso decir '{near}'?" if near else ""))
                standard = None
            default_name, default_def, default_sdg = survey_load.STANDARD.get(standard or "", (None, None, None))
            name = r.get(m, "nombre", mwhere, str, default=default_name)
            definition = r.get(m, "definicion", mwhere, str, default=default_def)
            if not name or not definition:
                r.problem(mwhere, "una medida propia necesita 'nombre' y 'definicion' (lo que se muestra con cada "
                                  "estimación)")
            kind = r.get(m, "tipo", mwhere, str, default="proporcion")
            if kind not in ("proporcion", "media"):
                r.problem(f"{mwhere}.tipo", f"se esperaba \"proporcion\" o \"media\", se encontró {show(kind)}")
            codes = {k: tuple(v if isinstance(v, list) else [v]) for k in ("si", "no", "excluir")
                     if (v := m.get(k)) is not None}
            if kind == "proporcion" and (not codes.get("si") or not codes.get("no")):
                r.problem(mwhere, "una proporción necesita los códigos 'si' y 'no' (p. ej. si = [1], no = [2]); los de "
                                  "«No sabe / No responde» van en 'excluir'")
            crime = r.get(m, "delito", mwhere, str)
            if crime is not None:
                from core.load.catalog import crime_types

                codes_known = list(crime_types()["code"])
                if crime not in codes_known:
                    near = closest(crime, codes_known)
                    r.problem(f"{mwhere}.delito", f"'{crime}' no es un tipo de delito del catálogo data/crime_types.csv"
                              + (f"; ¿quiso decir '{near}'?" if near else ""))
                    crime = None
            measures.append(survey_load.MeasureSpec(
                mid, name or mid, definition or "", kind or "proporcion", r.get(m, "pregunta", mwhere, str, required=True)
                or "?", codes.get("si", ()), codes.get("no", ()), codes.get("excluir", ()), crime,
                r.get(m, "ods", mwhere, str, default=default_sdg), r.get(m, "universo", mwhere, str)))
        out.append(survey_load.SurveySpec(
            sid, r.get(item, "nombre", where, str, default=sid), r.get(item, "institucion", where, str, default="—"),
            int(year or 0), unit or "persona", path, weight, r.get(design, "estrato", f"{where}.diseno", str),
            r.get(design, "upm", f"{where}.diseno", str),
            {k: str(v) for k, v in columns.items() if isinstance(v, str)}, mapped, tuple(measures),
            bool(r.get(item, "sintetica", where, bool, default=synthetic))))
    return out


def _open_data(r: _Reader, raw: dict) -> dict[str, str]:
    """[datos_abiertos]: the licence of the open data (an SPDX identifier such as "CC-BY-4.0", or
    {nombre, url}), who publishes them and a contact address."""
    from core.opendata_catalog import LICENCES

    table = r.get(raw, "datos_abiertos", "raíz", dict)
    if table is None:
        return {}
    where = "datos_abiertos"
    r.known(table, where, OPEN_DATA_KEYS)
    out: dict[str, str] = {}
    value = table.get("licencia")
    known = ", ".join(LICENCES)
    if isinstance(value, str):
        match = next((k for k in LICENCES if k.lower() == value.strip().lower()), None)
        if match is None:
            close = closest(value, list(LICENCES))
            r.problem(f"{where}.licencia", f"'{value}' no es una licencia conocida (use {known}"
                      + (f"; ¿quiso decir '{close}'?" if close else "")
                      + ", o declare otra con licencia = { nombre = \"...\", url = \"https://...\" })")
        else:
            out.update(license_id=match, license_name=LICENCES[match][0], license_url=LICENCES[match][1])
    elif isinstance(value, dict):
        r.known(value, f"{where}.licencia", ("nombre", "url"))
        name = r.get(value, "nombre", f"{where}.licencia", str, required=True)
        url = r.get(value, "url", f"{where}.licencia", str, required=True)
        if url and not url.startswith(("https://", "http://")):
            r.problem(f"{where}.licencia.url", f"se esperaba la dirección del texto de la licencia (https://...), se "
                                               f"encontró {show(url)}")
        elif name and url:
            out.update(license_name=name, license_url=url)
    elif value is not None:
        r.problem(f"{where}.licencia", f"se esperaba un identificador ({known}) o {{ nombre, url }}, se encontró {show(value)}")
    for key, meta_key in (("publicador", "publisher"), ("contacto", "contact")):
        text = r.get(table, key, where, str)
        if text:
            out[meta_key] = text.strip()
    return out


def _reconciliation(r: _Reader, raw: Any, sources: set[str], incidents: list) -> tuple[Rule, ...]:
    """``[conciliacion]`` (one rule) or ``[[conciliacion]]`` (one per group of crimes): the rule that
    decides which records count for each crime several institutions record."""
    if raw is None:
        return ()
    if isinstance(raw, dict):
        tables, keyed = [raw], lambda i: "conciliacion"
    elif isinstance(raw, list) and raw and all(isinstance(t, dict) for t in raw):
        tables, keyed = raw, lambda i: f"conciliacion[{i + 1}]"
    else:
        r.problem("conciliacion", f"se esperaba una tabla [conciliacion] o una lista de tablas [[conciliacion]], se "
                  f"encontró {show(raw)}")
        return ()
    from core.load.catalog import crime_types

    codes = list(crime_types()["code"])
    rules: list[Rule] = []
    seen_types: dict[str, str] = {}
    for i, rec in enumerate(tables):
        where = keyed(i)
        r.known(rec, where, ("delitos", "regla", "referencia"))
        rule = r.get(rec, "regla", where, str, required=True)
        if rule is not None and rule not in RULES:
            near = closest(rule, RULES)
            r.problem(f"{where}.regla", f"'{rule}' no es una regla; use una de {list(RULES)}"
                      + (f" (¿quiso decir '{near}'?)" if near else ""))
        reference = r.get(rec, "referencia", where, str)
        if rule == "referencia" and reference not in sources:
            near = closest(str(reference), sources) if reference else None
            r.problem(f"{where}.referencia", (f"'{reference}' no es una de las fuentes declaradas" if reference else
                                              "la regla 'referencia' necesita 'referencia' (la fuente que cuenta)")
                      + (f"; ¿quiso decir '{near}'?" if near else "") + f" (fuentes: {sorted(sources)})")
        if rule == "maximo" and reference is not None:
            r.problem(f"{where}.referencia", "la regla 'maximo' no usa 'referencia': quítela o use regla = \"referencia\"")
        if rule == "maximo":
            coarse = [s.source for s in incidents if not s.record_level]
            if coarse:
                r.problem(f"{where}.regla", "la regla 'maximo' compara registros por municipio y mes; las fuentes "
                          f"{coarse} no tienen registros con fecha y municipio: use regla = \"referencia\"")
        types = r.get(rec, "delitos", where, list, required=True) or []
        for t in types:
            if not isinstance(t, str) or t not in codes:
                near = closest(str(t), codes)
                r.problem(f"{where}.delitos", f"{show(t)} no es un tipo de delito del catálogo data/crime_types.csv"
                          + (f"; ¿quiso decir '{near}'?" if near else "") + f" (tipos: {', '.join(codes)})")
            elif t in seen_types:
                r.problem(f"{where}.delitos", f"'{t}' ya tiene regla en [{seen_types[t]}]: cada delito lleva una sola regla")
            else:
                seen_types[t] = where
        if rule in RULES:
            rules.append(Rule(tuple(t for t in types if isinstance(t, str)), rule,
                              reference if rule == "referencia" else None))
    return tuple(rules)


def _check_crime_codes(r: _Reader, mapping: dict, constant: str | None, where: str) -> None:
    """Crime types of the value map (and the constant) must be codes of data/crime_types.csv."""
    from core.load.catalog import crime_types

    codes = list(crime_types()["code"])
    for key, targets in (("valores.delito", list(mapping)), ("constantes.delito", [constant] if constant else [])):
        for target in targets:
            if target not in codes:
                near = closest(target, codes)
                r.problem(f"{where}.{key}", f"'{target}' no es un tipo de delito del catálogo data/crime_types.csv"
                          + (f"; ¿quiso decir '{near}'?" if near else "") + f" (tipos: {', '.join(codes)})")


def _incident_source(r: _Reader, src: dict, sid: str, where: str) -> IncidentSource:
    """One [[incidentes]] table: what a row is, its grain, its columns and which rows belong."""
    r.known(src, where, INCIDENT_KEYS)
    columns = r.columns(src, where, INCIDENT_FIELDS, ())
    # Without a valid [columnas] table, what it lacks is not reported again field by field.
    declared = isinstance(src.get("columnas"), dict)
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
            r.problem(f"{where}.constantes.{key}", f"se esperaba un texto o un número, se encontró {show(value)}")
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
        if "cantidad" not in columns and declared:
            r.problem(f"{where}.columnas", "una fuente agregada (unidad_fila = \"agregado\") necesita la columna 'cantidad'")
    elif "unidad" in src:
        r.problem(f"{where}.unidad", "solo se declara con unidad_fila = \"agregado\" (una fila de víctima cuenta víctimas; "
                                     "una fila de hecho cuenta el hecho y sus víctimas)")
    if row_unit == "hecho" and "victimas" not in columns and declared:
        r.problem(f"{where}.columnas", "una fuente de hechos (unidad_fila = \"hecho\") necesita la columna 'victimas' "
                                       "(número de víctimas de cada hecho)")
    if row_unit != "hecho" and "victimas" in columns:
        r.problem(f"{where}.columnas.victimas", "solo con unidad_fila = \"hecho\"")
    if row_unit != "agregado" and "cantidad" in columns:
        r.problem(f"{where}.columnas.cantidad", "solo con unidad_fila = \"agregado\" (y unidad = \"victimas\" o \"hechos\")")

    def has(fld):
        return fld in columns or fld in constants

    xy = "longitud" in columns and "latitud" in columns
    if declared:
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
            r.problem(f"{where}.formato_fecha", f"{show(f)} no es un formato de fecha (p. ej. \"%d/%m/%Y\" para "
                                                "25/03/2021, \"%Y-%m-%d\" para 2021-03-25)")
        elif not re.search(r"%[Yy]", f) and precision != "anio" and "anio" not in columns:
            r.problem(f"{where}.formato_fecha", f"{show(f)} no tiene el año (%Y de cuatro cifras o %y de dos)")
    formats = tuple(f for f in formats if isinstance(f, str)) or DEFAULT_DATE_FORMATS
    values = r.values(src.get("valores"), f"{where}.valores")
    r.known(values, f"{where}.valores", ("delito", "sexo", "arma", "grupo_edad"), label="campos")
    _check_crime_codes(r, values.get("delito", {}), constants.get("delito"), where)
    bad_sex = sorted(set(values.get("sexo", {})) - {"H", "M", "ND"})
    if bad_sex:
        r.problem(f"{where}.valores.sexo", f"destinos no válidos {bad_sex}: se escribe destino = [grafías en el archivo] "
                                           "con destino H (hombre), M (mujer) o ND (sin dato), p. ej. H = [\"M\", "
                                           "\"Masculino\"]")
    if not values.get("delito") and "delito" not in constants and isinstance(src.get("valores", {}), dict):
        r.problem(f"{where}.valores.delito", "falta el mapa de tipos de delito (código del catálogo = [grafías])")
    sel = r.get(src, "seleccion", where, dict, default={}) or {}
    selection = RowSelection()
    if sel:
        bad = set(sel) - {"incluir", "excluir"}
        if bad:
            r.problem(f"{where}.seleccion", f"claves desconocidas {sorted(bad)}; use incluir = {{COLUMNA = [valores]}} "
                                            "o excluir = {COLUMNA = [valores]}")
        parts: dict[str, dict[str, tuple[str, ...]]] = {}
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
        max_age=r.number(src, "edad_maxima", where, 110, minimum=1),
        row_unit=row_unit, count_unit=count_unit if row_unit == "agregado" else "victimas",
        date_precision=precision, territory_level=level, locate=locate, selection=selection,
        empty_values=tuple(empty_values), constants=constants, dept_code=dept_code)
