"""The warehouse: its schema (the single source of truth) and the one read-only connect helper.

The loader (``core/load``) is the only code that writes; it creates the tables from
``SCHEMA`` below. Everything else opens the published file read-only through ``connect``
and runs each query on its own cursor (DuckDB refuses a connection shared across threads).
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core import deployment

SCHEMA_VERSION = "10"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = PROJECT_ROOT / "data" / "warehouse.duckdb"
BUILD_COMMAND = "make demo   (o bien: atalaya-load demo)"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str


@dataclass(frozen=True)
class Table:
    name: str
    comment: str
    columns: tuple[Column, ...]
    constraints: tuple[str, ...] = ()

    def ddl(self) -> str:
        parts = [f"    {c.name} {c.type}" for c in self.columns] + [f"    {c}" for c in self.constraints]
        return f"CREATE TABLE {self.name} (\n" + ",\n".join(parts) + "\n)"


def _t(name: str, comment: str, columns: Sequence[tuple[str, str, str]], *constraints: str) -> Table:
    return Table(name, comment, tuple(Column(*c) for c in columns), tuple(constraints))


_CUBE_COLUMNS = [
    ("month", "DATE NOT NULL", "First day of the month."),
    ("year", "SMALLINT NOT NULL", "Calendar year."),
    ("dept_code", "VARCHAR NOT NULL", "Department code."),
    ("muni_code", "VARCHAR", "Municipality code; NULL for counts a source gives only by department."),
    ("crime_type", "VARCHAR NOT NULL", "crime_type.code"),
    ("crime_group", "VARCHAR NOT NULL", "crime_type.crime_group (denormalised)."),
    ("victim_sex", "VARCHAR NOT NULL", "H, M or ND."),
    ("age_group", "VARCHAR NOT NULL", "age_group.code"),
    ("source", "VARCHAR NOT NULL", "source.source"),
    ("counted", "BOOLEAN NOT NULL", "incident.counted"),
    ("unit", "VARCHAR NOT NULL CHECK (unit IN ('victimas','hechos'))",
     "What n counts: victimas (victims) or hechos (events). Never added together."),
    ("n", "INTEGER NOT NULL", "Count, in unit."),
    ("ck", "BIGINT NOT NULL", "Sum of the record keys of the records counted (core/cellkey.py): the cell key "
                              "of any sum of cells is the sum of their ck, modulo 256."),
]


def _cube_columns(*columns: str | tuple[str, str, str]) -> list[tuple[str, str, str]]:
    """Columns of an aggregate: by name, those of incident_cube; or given in full."""
    known = {c[0]: c for c in _CUBE_COLUMNS}
    return [known[c] if isinstance(c, str) else c for c in columns]


SCHEMA: tuple[Table, ...] = (
    _t("meta", "Key/value facts about this warehouse build.", [
        ("key", "VARCHAR PRIMARY KEY",
         "schema_version, country, country_name, synthetic, period_start, period_end, built_at, build_id, config_sha256, ..."),
        ("value", "VARCHAR NOT NULL", "Value as text (dates ISO 8601, booleans 'true'/'false')."),
    ]),
    _t("territory", "Administrative units: departments, municipalities and aldeas (villages).", [
        ("code", "VARCHAR PRIMARY KEY", "Official code: department 'DD', municipality 'DDMM', aldea 'DDMM' + 3 digits."),
        ("level", "VARCHAR NOT NULL CHECK (level IN ('departamento','municipio','aldea'))", "Administrative level."),
        ("name", "VARCHAR NOT NULL", "Official name, with accents."),
        ("parent_code", "VARCHAR", "Code of the containing unit (NULL for departments)."),
        ("dept_code", "VARCHAR NOT NULL", "Department code (the unit itself for departments)."),
        ("centroid_lon", "DOUBLE", "Longitude of a point inside the unit (WGS84)."),
        ("centroid_lat", "DOUBLE", "Latitude of a point inside the unit (WGS84)."),
        ("area_km2", "DOUBLE", "Area in km2 computed on the full geometry (equal-area projection)."),
        ("geojson", "VARCHAR", "GeoJSON geometry simplified for display, coordinates rounded to 1e-4 degrees."),
    ]),
    _t("territory_geometry", "Full-resolution geometry of each territory, for spatial joins in the loader.", [
        ("code", "VARCHAR PRIMARY KEY", "territory.code"),
        ("wkb", "BLOB NOT NULL", "Well-known binary geometry, WGS84."),
    ]),
    _t("population", "Population (denominators), at the finest sex/age split available. Every department "
       "has rows: given by the source or the sum of its municipalities.", [
        ("code", "VARCHAR NOT NULL", "territory.code (department, municipality or aldea)."),
        ("year", "SMALLINT NOT NULL", "Calendar year (mid-year estimate or projection)."),
        ("sex", "VARCHAR NOT NULL CHECK (sex IN ('H','M','T'))", "H men, M women, T both (used where no split exists)."),
        ("age_group", "VARCHAR NOT NULL", "age_group.code, or 'total' where no age split exists."),
        ("population", "DOUBLE NOT NULL CHECK (population >= 0)", "Number of inhabitants."),
        ("estimated", "VARCHAR", "NULL when the value is in the source; else how it was estimated for a year the "
                                 "source lacks (e.g. 'año más cercano (2020)', 'interpolación lineal 2018-2020')."),
    ], "PRIMARY KEY (code, year, sex, age_group)"),
    _t("age_group", "Victim and population age groups.", [
        ("code", "VARCHAR PRIMARY KEY", "Group code, e.g. '18-29'; 'ND' when the age is unknown."),
        ("label", "VARCHAR NOT NULL", "Label shown to users."),
        ("min_age", "SMALLINT", "First age in the group (NULL for 'ND')."),
        ("max_age", "SMALLINT", "Last age in the group (NULL when open-ended or 'ND')."),
        ("sort_order", "SMALLINT NOT NULL", "Display order."),
    ]),
    _t("crime_type", "Crime catalogue, each type mapped to the UNODC ICCS.", [
        ("code", "VARCHAR PRIMARY KEY", "Crime type code used in incident.crime_type."),
        ("name", "VARCHAR NOT NULL", "Name shown to users."),
        ("crime_group", "VARCHAR NOT NULL", "Policy group (e.g. 'Violencia letal')."),
        ("iccs_code", "VARCHAR NOT NULL", "UNODC ICCS v1.0 code (level 2 to 4)."),
        ("iccs_section", "VARCHAR NOT NULL", "ICCS level-1 section ('01'..'11')."),
        ("sensitive", "BOOLEAN NOT NULL", "Sexual violence, violence against women or minors: small counts suppressed in public mode."),
        ("vaw", "BOOLEAN NOT NULL", "Violence against women when the victim is a woman (femicide, sexual, intrafamily and "
                                    "other violence against women): the page Violencia contra las mujeres, the priority "
                                    "index's component."),
        ("definition", "VARCHAR NOT NULL", "Short definition shown to users."),
    ]),
    _t("source", "Provenance of each loaded source (one row per institution feed).", [
        ("source", "VARCHAR PRIMARY KEY", "Short source id used in incident.source."),
        ("institution", "VARCHAR NOT NULL", "Institution that produced the records."),
        ("file", "VARCHAR NOT NULL", "File(s) read, or '(generado)' for the synthetic demo."),
        ("sha256", "VARCHAR", "SHA-256 of the file (or of the generated records)."),
        ("rows_read", "BIGINT NOT NULL", "Rows read from the file."),
        ("rows_loaded", "BIGINT NOT NULL", "Rows loaded into incident."),
        ("rows_rejected", "BIGINT NOT NULL", "Rows kept in rejected_record."),
        ("rows_out_of_scope", "BIGINT NOT NULL DEFAULT 0", "Rows left out by the declared row selection "
                                                         "(out_of_scope); not errors."),
        ("row_unit", "VARCHAR NOT NULL DEFAULT 'victima' CHECK (row_unit IN ('victima','hecho','agregado'))",
         "What one row of the source is: a victim, an event with a number of victims, or an aggregate count."),
        ("count_unit", "VARCHAR NOT NULL DEFAULT 'victimas' CHECK (count_unit IN ('victimas','hechos','victimas y hechos'))",
         "What the source counts."),
        ("date_precision", "VARCHAR NOT NULL DEFAULT 'dia' CHECK (date_precision IN ('dia','mes','anio'))",
         "Finest date the source gives: day, month or year."),
        ("territory_level", "VARCHAR NOT NULL DEFAULT 'municipio' CHECK (territory_level IN ('municipio','departamento'))",
         "Finest territory the source gives."),
        ("record_level", "BOOLEAN NOT NULL DEFAULT TRUE", "True when its rows are in incident (dated to the day, "
                                                          "placed in a municipality); false when in incident_aggregate."),
    ]),
    _t("out_of_scope", "Rows that the declared row selection leaves out, counted per reason (not errors).", [
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("file", "VARCHAR NOT NULL", "File the rows came from."),
        ("reason", "VARCHAR NOT NULL", "Why they are out of scope (the rule and value)."),
        ("rows", "BIGINT NOT NULL", "Number of rows."),
        ("example_row", "BIGINT", "Row number of the first one, as seen in the file."),
    ]),
    _t("incident", "One row per victim of an offence as recorded by one source: the unit of counting. "
       "Loaded in municipality order (per year in the demo), so one municipality's rows are read alone.", [
        ("incident_id", "BIGINT NOT NULL", "Warehouse id of the record."),
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("source_record_id", "VARCHAR", "Record id in the source file."),
        ("occurred_on", "DATE NOT NULL", "Date of the offence."),
        ("occurred_hour", "TINYINT", "Hour of the offence 0-23 (NULL when unknown)."),
        ("dept_code", "VARCHAR NOT NULL", "Department code (denormalised from muni_code)."),
        ("muni_code", "VARCHAR NOT NULL", "Municipality code (territory.code)."),
        ("aldea_code", "VARCHAR", "Aldea code (NULL when not recorded)."),
        ("lon", "DOUBLE", "Longitude WGS84 (NULL when not geocoded)."),
        ("lat", "DOUBLE", "Latitude WGS84 (NULL when not geocoded)."),
        ("crime_type", "VARCHAR NOT NULL", "crime_type.code"),
        ("victim_sex", "VARCHAR NOT NULL", "H, M or ND (unknown / no individual victim)."),
        ("victim_age", "SMALLINT", "Age in completed years (NULL when unknown)."),
        ("age_group", "VARCHAR NOT NULL", "age_group.code derived from victim_age ('ND' when unknown)."),
        ("weapon", "VARCHAR NOT NULL", "Weapon or means ('No aplica', 'Sin dato' when absent)."),
        ("counted", "BOOLEAN NOT NULL", "True when the record counts in the published figure; false for records of a source "
                                        "that duplicates the reference source (kept for reconciliation)."),
        ("victims", "INTEGER NOT NULL DEFAULT 1 CHECK (victims >= 0)",
         "Victims the record counts: 1 for a victim record; the declared number for an event record (may be 0)."),
        ("is_event", "BOOLEAN NOT NULL DEFAULT FALSE", "True when the record is an event (hecho) with a number of "
                                                        "victims; it then also counts as one hecho."),
    ]),
    _t("incident_aggregate", "Counts that are not individual records dated to the day and placed in a "
       "municipality: rows of aggregated tables, and events dated only by month or year or placed only in a "
       "department. Stored at the grain of the source; added to the cubes as they are.", [
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("year", "SMALLINT NOT NULL", "Calendar year."),
        ("month", "DATE", "First day of the month; NULL when the source gives only the year."),
        ("dept_code", "VARCHAR NOT NULL", "Department code."),
        ("muni_code", "VARCHAR", "Municipality code; NULL when the source gives only the department."),
        ("crime_type", "VARCHAR NOT NULL", "crime_type.code"),
        ("victim_sex", "VARCHAR NOT NULL", "H, M or ND (not split by sex)."),
        ("age_group", "VARCHAR NOT NULL", "age_group.code ('ND' when not split by age)."),
        ("unit", "VARCHAR NOT NULL CHECK (unit IN ('victimas','hechos'))", "What n counts."),
        ("n", "BIGINT NOT NULL CHECK (n >= 0)", "The count as given (or 1 hecho / its victims for an event)."),
        ("counted", "BOOLEAN NOT NULL", "As incident.counted (reconciliation between sources)."),
        ("file", "VARCHAR NOT NULL", "File the row came from."),
        ("row_number", "BIGINT NOT NULL", "Row number as seen in the file."),
    ]),
    _t("incident_cube", "Pre-aggregated incident counts so that pages stay fast at 10M+ records. Sorted by "
       "municipality and month, so that one municipality's rows are read alone.", _CUBE_COLUMNS),
    _t("reconciliation_cube", "The rows of incident_cube of the crime types recorded by several sources "
       "(reconciliation_rule): the source comparison reads them alone.", _CUBE_COLUMNS),
    _t("incident_year_cube", "incident_cube summed over months, plus the counts of sources dated only by year: "
       "the yearly figures (map, summary, rankings) read 7 times fewer rows. Sorted by municipality and year.", _cube_columns(
        "year", "dept_code", "muni_code", "crime_type", "crime_group", "victim_sex", "age_group", "source", "counted",
        "unit", "n", "ck", ("months", "SMALLINT NOT NULL", "Months of the year with records in the cell (rows of the monthly "
                                        "open-data table)."))),
    _t("incident_aldea_cube", "Victims per aldea and year with the filter columns (the aldea table of a "
       "municipality, the aldea rates of the school ranking). Sorted by municipality, aldea and year.", _cube_columns(
        "year", "dept_code", "muni_code", ("aldea_code", "VARCHAR", "Aldea code (NULL when not recorded)."),
        "crime_type", "crime_group", "victim_sex", "age_group", "counted", "unit", "n", "ck")),
    _t("source_month", "Records per source, municipality and month (all records, counted or not): where and "
       "when each source has data, for the coverage flags.", [
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("muni_code", "VARCHAR", "Municipality code (NULL for a source given by department)."),
        ("month", "DATE NOT NULL", "First day of the month."),
        ("n", "INTEGER NOT NULL", "Number of incident records, or the counts of an aggregated source."),
    ]),
    _t("school", "Schools (centros educativos).", [
        ("school_code", "VARCHAR PRIMARY KEY", "Official school code."),
        ("name", "VARCHAR NOT NULL", "School name."),
        ("muni_code", "VARCHAR NOT NULL", "Municipality code."),
        ("aldea_code", "VARCHAR", "Aldea code."),
        ("lon", "DOUBLE", "Longitude WGS84."),
        ("lat", "DOUBLE", "Latitude WGS84."),
        ("level", "VARCHAR NOT NULL", "Education level (Preprimaria, Primaria, Básico, Diversificado)."),
        ("sector", "VARCHAR NOT NULL", "Oficial, Privado, Municipal or Cooperativa."),
        ("enrollment", "INTEGER", "Enrolled students."),
    ]),
    _t("school_exposure", "Counted victims near each school, by year and crime group, computed at load time "
       "(great-circle distance; radii are cumulative: 500 m includes 100 m). Only non-zero rows.", [
        ("school_code", "VARCHAR NOT NULL", "school.school_code"),
        ("year", "SMALLINT NOT NULL", "Calendar year of the offences."),
        ("crime_group", "VARCHAR NOT NULL", "crime_type.crime_group"),
        ("radius_m", "SMALLINT NOT NULL", "Radius in metres: 100, 500 or 1000."),
        ("victims", "INTEGER NOT NULL", "Counted victims geocoded within the radius."),
        ("victims_10_19", "INTEGER NOT NULL", "Of them, victims aged 10 to 19."),
        ("ck", "BIGINT NOT NULL", "Sum of the record keys of the victims (core/cellkey.py)."),
        ("ck_10_19", "BIGINT NOT NULL", "Sum of the record keys of the victims aged 10 to 19."),
    ], "PRIMARY KEY (school_code, year, crime_group, radius_m)"),
    _t("indicator", "Vulnerability indicator values by territory.", [
        ("code", "VARCHAR NOT NULL", "territory.code"),
        ("indicator", "VARCHAR NOT NULL", "indicator_meta.indicator"),
        ("year", "SMALLINT NOT NULL", "Reference year of the value."),
        ("value", "DOUBLE", "Value in the unit of indicator_meta."),
    ], "PRIMARY KEY (code, indicator, year)"),
    _t("indicator_meta", "Definition of each vulnerability indicator.", [
        ("indicator", "VARCHAR PRIMARY KEY", "Indicator id."),
        ("name", "VARCHAR NOT NULL", "Name shown to users."),
        ("unit", "VARCHAR NOT NULL", "Unit (e.g. '%')."),
        ("higher_is_worse", "BOOLEAN NOT NULL", "True when a higher value means more vulnerability."),
        ("source", "VARCHAR NOT NULL", "Source of the indicator."),
    ]),
    _t("rejected_record", "Input rows that could not be loaded, with the reason: nothing is silently dropped.", [
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("file", "VARCHAR NOT NULL", "File the row came from."),
        ("row_number", "BIGINT", "Row number as seen in the file: CSV line (header = 1), Excel sheet row, Parquet record."),
        ("reason", "VARCHAR NOT NULL", "Why the row was rejected."),
        ("raw", "VARCHAR", "The row as read, JSON."),
    ]),
    _t("field_issue", "Values that could not be used and were loaded as unknown (the record itself was kept).", [
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("file", "VARCHAR NOT NULL", "File the row came from."),
        ("row_number", "BIGINT NOT NULL", "Row number as seen in the file (see rejected_record.row_number)."),
        ("column_name", "VARCHAR NOT NULL", "Column of the file."),
        ("value", "VARCHAR", "The value as read."),
        ("rule", "VARCHAR NOT NULL", "Rule that failed (e.g. edad_fuera_de_rango)."),
        ("message", "VARCHAR NOT NULL", "Message naming source, file, row, column, value and what was expected."),
    ]),
    _t("completeness", "Share of records with each descriptive field filled, per source and year.", [
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("field", "VARCHAR NOT NULL", "incident column (occurred_hour, victim_sex, victim_age, weapon, aldea_code, coordinates)."),
        ("year", "SMALLINT NOT NULL", "Calendar year of the offences."),
        ("records", "BIGINT NOT NULL", "Records of the source in the year."),
        ("filled", "BIGINT NOT NULL", "Records with the field known."),
    ], "PRIMARY KEY (source, field, year)"),
    _t("reconciliation_rule", "For each crime type recorded by several institutions, which records count in "
       "the published figure (core.load.reconciliation); the others stay with counted = false.", [
        ("crime_type", "VARCHAR PRIMARY KEY", "crime_type.code"),
        ("rule", "VARCHAR NOT NULL CHECK (rule IN ('referencia','maximo'))",
         "referencia: the reference source counts; maximo: per municipality and month, the source with most records."),
        ("reference", "VARCHAR", "source.source of the reference (rule 'referencia')."),
    ]),
    _t("survey", "Victimisation and perception surveys loaded from their microdata (core/load/survey.py).", [
        ("survey", "VARCHAR PRIMARY KEY", "Survey id of the configuration (e.g. enpevi_2022)."),
        ("name", "VARCHAR NOT NULL", "Name shown."),
        ("institution", "VARCHAR NOT NULL", "Who ran it."),
        ("year", "SMALLINT NOT NULL", "Year of the fieldwork (reference: the 12 months before it)."),
        ("unit", "VARCHAR NOT NULL CHECK (unit IN ('persona','hogar'))", "What a respondent is."),
        ("file", "VARCHAR NOT NULL", "Microdata file."),
        ("sha256", "VARCHAR NOT NULL", "Its checksum."),
        ("respondents", "BIGINT NOT NULL", "Rows of the file (every row is loaded: the design needs them all)."),
        ("weight", "VARCHAR NOT NULL", "Column of the weight."),
        ("stratum", "VARCHAR", "Column of the stratum (NULL: no strata)."),
        ("psu", "VARCHAR", "Column of the primary sampling unit (NULL: each respondent is one)."),
        ("synthetic", "BOOLEAN NOT NULL", "Generated data (demo and examples)."),
    ]),
    _t("survey_respondent", "One row per respondent with the design and the breakdowns.", [
        ("survey", "VARCHAR NOT NULL", "survey.survey"),
        ("respondent", "BIGINT NOT NULL", "Row of the file (from 1)."),
        ("stratum", "VARCHAR NOT NULL", "Stratum ('1' when the design has none)."),
        ("psu", "VARCHAR NOT NULL", "Primary sampling unit (the respondent itself when the design has none)."),
        ("weight", "DOUBLE NOT NULL CHECK (weight > 0)", "Sampling weight."),
        ("dept_code", "VARCHAR NOT NULL", "territory.code of the department."),
        ("muni_code", "VARCHAR", "territory.code of the municipality, where the file gives it."),
        ("sex", "VARCHAR NOT NULL", "H, M or ND."),
        ("age_group", "VARCHAR NOT NULL", "age_group.code (ND when the age is unknown)."),
        ("area", "VARCHAR NOT NULL", "urbana, rural or ND."),
    ]),
    _t("survey_measure", "What each question measures (declared in the configuration).", [
        ("survey", "VARCHAR NOT NULL", "survey.survey"),
        ("measure", "VARCHAR NOT NULL", "Measure id: a standard one (victimizacion, denuncia, inseguridad_noche, "
                                        "confianza_policia) or the configuration's own."),
        ("name", "VARCHAR NOT NULL", "Name shown."),
        ("kind", "VARCHAR NOT NULL CHECK (kind IN ('proporcion','media'))", "A share of yes answers, or a mean."),
        ("question", "VARCHAR NOT NULL", "Column of the file."),
        ("definition", "VARCHAR NOT NULL", "What it means, shown with every estimate."),
        ("yes_codes", "VARCHAR", "Codes counted as yes (proportions)."),
        ("excluded_codes", "VARCHAR", "Codes excluded from the denominator (No sabe / No responde)."),
        ("crime_type", "VARCHAR", "crime_type.code of the crime it asks about (for the hidden figure)."),
        ("sdg", "VARCHAR", "SDG indicator it corresponds to (e.g. 16.1.4)."),
    ]),
    _t("survey_answer", "Each respondent's answer to each measure.", [
        ("survey", "VARCHAR NOT NULL", "survey.survey"),
        ("respondent", "BIGINT NOT NULL", "survey_respondent.respondent"),
        ("measure", "VARCHAR NOT NULL", "survey_measure.measure"),
        ("value", "DOUBLE", "1/0 for a proportion, the number for a mean; NULL when not asked or excluded."),
        ("excluded", "BOOLEAN NOT NULL", "A declared No sabe / No responde code (out of the denominator, counted)."),
    ]),
    _t("plan", "Public-policy plans and their indicators (core/plans.py), declared in a file and validated at load "
       "time; the indicators' values are computed from the warehouse when shown.", [
        ("plan", "VARCHAR PRIMARY KEY", "Plan id."),
        ("name", "VARCHAR NOT NULL", "Name shown."),
        ("file", "VARCHAR NOT NULL", "The plan's file."),
        ("definition", "VARCHAR NOT NULL", "The plan and its indicators, JSON (core.plans.to_json)."),
    ]),
    _t("data_test", "The checks every table passed before this warehouse was published (core.load.datatests); "
       "a build that fails one is not published.", [
        ("name", "VARCHAR PRIMARY KEY", "Test id."),
        ("description", "VARCHAR NOT NULL", "What was checked, in Spanish."),
        ("rows_checked", "BIGINT NOT NULL", "Rows of the tables the test read."),
    ]),
    _t("quality_issue", "Data-quality findings per source and rule.", [
        ("source", "VARCHAR NOT NULL", "source.source"),
        ("rule", "VARCHAR NOT NULL", "Rule that was checked."),
        ("severity", "VARCHAR NOT NULL CHECK (severity IN ('info','aviso','error'))", "info, aviso (warning) or error."),
        ("count", "BIGINT NOT NULL", "Number of records affected."),
        ("example", "VARCHAR", "An example value or record."),
    ]),
)

TABLES: dict[str, Table] = {t.name: t for t in SCHEMA}


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table with its comments. Used only by the loader on a new file."""
    for table in SCHEMA:
        con.execute(table.ddl())
        con.execute(f"COMMENT ON TABLE {table.name} IS {_sql_literal(table.comment)}")
        for col in table.columns:
            con.execute(f"COMMENT ON COLUMN {table.name}.{col.name} IS {_sql_literal(col.comment)}")


def _sql_literal(text: str) -> str:
    # Only used for the constant comments above, never for user input.
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------
# Read-only access
# --------------------------------------------------------------------------------------

class WarehouseError(RuntimeError):
    """The warehouse is missing, unreadable or built with another schema version."""


ENV_VAR = "ATALAYA_WAREHOUSE"


# The warehouse chosen for the current run (a regional deployment serves one per country,
# core/countries.py); unset, the published one of the environment.
_chosen: contextvars.ContextVar[Path | None] = contextvars.ContextVar("atalaya_warehouse", default=None)


def warehouse_path() -> Path:
    """The warehouse being read: the one chosen for this run (``choose``/``using``), else
    $ATALAYA_WAREHOUSE or data/warehouse.duckdb."""
    chosen = _chosen.get()
    return chosen if chosen is not None else _resolved(os.environ.get(ENV_VAR, str(DEFAULT_PATH)))


def choose(path: Path | None) -> None:
    """Read ``path`` (None: the environment's) for the rest of this thread's work: one dashboard run."""
    _chosen.set(None if path is None else _resolved(str(path)))


@contextlib.contextmanager
def using(path: Path) -> Iterator[None]:
    """Read ``path`` inside the block (one country's figures of a regional page), then as before."""
    token = _chosen.set(_resolved(str(path)))
    try:
        yield
    finally:
        _chosen.reset(token)


@functools.lru_cache(maxsize=16)
def _resolved(path: str) -> Path:
    # Every cached call asks for the path: resolving it (a few system calls) once is enough.
    return Path(path).resolve()


@dataclass(frozen=True)
class Version:
    """Identity of one published file: a republished file has a new inode/mtime."""
    path: str
    inode: int
    mtime_ns: int
    size: int


def current_version(path: Path | None = None) -> Version:
    path = Path(path) if path is not None else warehouse_path()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise WarehouseError(
            f"No existe el almacén de datos {path}. Constrúyalo con: {BUILD_COMMAND}"
        ) from None
    return Version(str(path), st.st_ino, st.st_mtime_ns, st.st_size)


_lock = threading.Lock()
_connections: dict[str, tuple[Version, duckdb.DuckDBPyConnection]] = {}


CATALOG = "wh"


def connect(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The read-only connection to the published warehouse, reopened when the file changes.

    The file is ATTACHed read-only to a private in-memory database: DuckDB caches database
    instances by path, so a plain ``duckdb.connect(path)`` could hand back the instance of
    the file that was just replaced. Callers must not share it across threads: use ``query``,
    ``scalar`` or ``cursor``.
    """
    version = current_version(path)
    with _lock:
        cached = _connections.get(version.path)
        if cached is not None and cached[0] == version:
            return cached[1]
        con = duckdb.connect(":memory:")
        try:
            # The path comes from configuration, never from a user; quotes are escaped anyway.
            con.execute(f"ATTACH {_sql_literal(version.path)} AS {CATALOG} (READ_ONLY)")
            con.execute(f"USE {CATALOG}")
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(
                f"No se pudo abrir el almacén {version.path}: {exc}. Reconstrúyalo con: {BUILD_COMMAND}"
            ) from exc
        try:
            _check_schema(con, version.path)
        except Exception:
            con.close()
            raise
        if cached is not None:
            try:
                cached[1].close()
            except duckdb.Error:
                pass
        _connections[version.path] = (version, con)
        return con


def cursor(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A new cursor on the warehouse, for one thread; close it when done."""
    cur = connect(path).cursor()
    cur.execute(f"USE {CATALOG}")
    return cur


def _check_schema(con: duckdb.DuckDBPyConnection, path: str) -> None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error:
        row = None
    if row is None:
        raise WarehouseError(
            f"El archivo {path} no es un almacén de Atalaya (falta meta.schema_version). "
            f"Reconstrúyalo con: {BUILD_COMMAND}"
        )
    if row[0] != SCHEMA_VERSION:
        raise WarehouseError(
            f"El almacén {path} tiene la versión de esquema {row[0]} y esta versión de Atalaya "
            f"necesita la {SCHEMA_VERSION}. Reconstrúyalo con: {BUILD_COMMAND}"
        )


def close_all() -> None:
    """Close every cached connection (tests, shutdown)."""
    with _lock:
        for _, con in _connections.values():
            try:
                con.close()
            except duckdb.Error:
                pass
        _connections.clear()
    clear_cache()


def query(sql: str, params: Sequence[Any] | dict[str, Any] | None = None, path: Path | None = None) -> pd.DataFrame:
    """Run one read-only query on its own cursor and return a DataFrame."""
    cur = cursor(path)
    try:
        return cur.execute(sql, params or []).df()
    finally:
        cur.close()


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows of ``table`` on an open connection (the loader's; ``table`` is a name of the schema, never user text)."""
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None  # count(*) without GROUP BY returns one row
    return int(row[0])


def scalar(sql: str, params: Sequence[Any] | dict[str, Any] | None = None, path: Path | None = None) -> Any:
    cur = cursor(path)
    try:
        row = cur.execute(sql, params or []).fetchone()
        return None if row is None else row[0]
    finally:
        cur.close()


# --------------------------------------------------------------------------------------
# Result cache keyed on the file version: aggregates only, bounded in entries and in bytes.
# Identical requests arriving together are computed once (the others wait for that result).
# --------------------------------------------------------------------------------------

_CACHE_SIZE = 512
CACHE_MB_VARIABLE = "ATALAYA_CACHE_MB"
DEFAULT_CACHE_MB = 1024
_cache: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
_cache_bytes = 0


@dataclass
class _Flight:
    """A computation in progress: the threads asking for the same key wait on ``done``."""
    done: threading.Event
    result: Any = None
    ok: bool = False


_flights: dict[tuple, _Flight] = {}


def cache_budget() -> int:
    """Bytes the result cache may hold (``ATALAYA_CACHE_MB``, 1,024 MB by default)."""
    try:
        mb = float(os.environ.get(CACHE_MB_VARIABLE, DEFAULT_CACHE_MB))
    except ValueError:
        raise WarehouseError(f"{CACHE_MB_VARIABLE} debe ser un número de megabytes, no "
                             f"{os.environ.get(CACHE_MB_VARIABLE)!r}") from None
    return int(mb * 2**20)


def result_size(value: Any) -> int:
    """Approximate bytes a cached result holds: the buffers of DataFrames, Series and arrays
    (strings stored by pandas/Arrow counted at their size), the items of containers and dataclasses."""
    if isinstance(value, pd.DataFrame):  # the column buffers (memory_usage() costs a millisecond per frame)
        return int(sum(column.array.nbytes for _, column in value.items()) + value.index.nbytes)
    if isinstance(value, pd.Series):
        return int(value.array.nbytes + value.index.nbytes)
    if isinstance(value, pd.Index):
        return int(value.nbytes)
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + (sum(map(sys.getsizeof, value.ravel()[:1000])) * max(1, value.size // 1000)
                                    if value.dtype == object else 0)
    if isinstance(value, bytes | str):
        return len(value) + 64
    if isinstance(value, tuple | list | set | frozenset):
        return 64 + sum(result_size(v) for v in value)
    if isinstance(value, dict):
        return 64 + sum(result_size(k) + result_size(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(result_size(getattr(value, f.name)) for f in dataclasses.fields(value))
    return sys.getsizeof(value)


def _store(key: tuple, result: Any) -> None:
    """Keep ``result`` (the lock held), evicting the least recently used beyond the entries or the
    bytes allowed; a result larger than the whole budget is not kept."""
    global _cache_bytes
    size = result_size(result)
    budget = cache_budget()
    if size > budget:
        return
    if key in _cache:
        _cache_bytes -= _cache.pop(key)[1]
    _cache[key] = (result, size)
    _cache_bytes += size
    while len(_cache) > _CACHE_SIZE or _cache_bytes > budget:
        _cache_bytes -= _cache.popitem(last=False)[1][1]


def cached(func: Callable) -> Callable:
    """Memoise a core query function on (warehouse version, deployment mode, arguments): a
    result computed for internal mode is never served in public mode.

    Several threads (users) asking for the same key at once: the first computes it, the others
    wait and get the same result (a failure is not shared: a waiting thread then tries itself).
    Arguments must be hashable (use tuples and frozen dataclasses). Results are shared:
    callers must treat returned DataFrames as read-only (copy before mutating).
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        key = (func.__module__, func.__qualname__, current_version(), deployment.mode(), args,
               tuple(sorted(kwargs.items())))
        while True:
            with _lock:
                if key in _cache:
                    _cache.move_to_end(key)
                    return _cache[key][0]
                flight = _flights.get(key)
                if flight is None:
                    flight = _flights[key] = _Flight(threading.Event())
                    break
            flight.done.wait()
            if flight.ok:
                return flight.result
        try:
            result = func(*args, **kwargs)
            flight.result, flight.ok = result, True
            with _lock:
                _store(key, result)
            return result
        finally:
            with _lock:
                _flights.pop(key, None)
            flight.done.set()

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper


def clear_cache() -> None:
    """Forget every cached result (the connections stay open): benchmarks time the queries."""
    global _cache_bytes
    with _lock:
        _cache.clear()
        _cache_bytes = 0


def cache_stats() -> dict[str, int]:
    """Entries and bytes held, and the budget (benchmarks)."""
    with _lock:
        return {"entries": len(_cache), "bytes": _cache_bytes, "budget": cache_budget()}


def cache_snapshot() -> dict[tuple, Any]:
    """The cached results as they are now (benchmarks: to come back to this state)."""
    with _lock:
        return dict(_cache)


def restore_cache(snapshot: dict[tuple, Any]) -> None:
    """Make the cache hold exactly ``snapshot`` again."""
    global _cache_bytes
    with _lock:
        _cache.clear()
        _cache.update(snapshot)
        _cache_bytes = sum(size for _, size in snapshot.values())


@cached
def meta() -> dict[str, str]:
    df = query("SELECT key, value FROM meta")
    return dict(zip(df["key"], df["value"]))


def is_synthetic() -> bool:
    return meta().get("synthetic") == "true"


def synthetic_notice() -> str:
    """The banner of a warehouse marked synthetic: what is real and what is generated, from its meta."""
    m = meta()
    if "demo_seed" in m:
        return ("**Datos sintéticos de demostración.** La geografía es real (departamentos y municipios de "
                f"{m.get('country_name', '')}, {m.get('geography_source', '')}), pero los incidentes, la población, "
                "las aldeas, los centros educativos y los indicadores son generados por computadora. No representan "
                "la situación real ni deben usarse para tomar decisiones.")
    return (f"**Datos sintéticos de demostración.** Este almacén de {m.get('country_name', '')} se construyó con "
            f"la configuración {m.get('config_file', '')}, marcada como sintética: la geografía "
            f"({m.get('geography_source', '')}) y la población ({m.get('population_source', '')}) pueden ser "
            "reales, pero las cifras de delitos no lo son. No deben usarse para tomar decisiones.")
