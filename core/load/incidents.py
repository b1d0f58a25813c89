"""Incident sources: column mapping, parsing, validation and quarantine.

A row is rejected (kept in ``rejected_record`` with its reason) when a field the count needs
is missing or wrong: date, municipality, crime type, or a repeated record id. A descriptive
field that is wrong (sex, age, hour, weapon, coordinates, aldea) does not lose the victim: it
becomes "sin dato" and the original value is kept in ``field_issue`` with the message.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core import fmt
from core.load import catalog
from core.load.config import DATE_PRECISIONS, CodeSpec, IncidentSource
from core.load.load_report import Report, RowRejects, quote, where
from core.load.names import normalise
from core.load.readers import RawTable, apply_code, column, encoding_hint
from core.load.staging import FactStaging
from core.load.territories import Geography, resolve_departments, resolve_municipalities

DEFAULT_SEX = {"H": ("h", "hombre", "hombres", "masculino", "varon"),
               "M": ("mujer", "mujeres", "femenino", "f"),
               "ND": ("nd", "ne", "n d", "sin dato", "desconocido", "no consignado", "no indica", "ignorado")}
NO_WEAPON = "Sin dato"
_FORMAT_LABEL = (("%d", "DD"), ("%m", "MM"), ("%Y", "AAAA"), ("%y", "AA"), ("%H", "hh"), ("%M", "mm"), ("%S", "ss"),
                 ("%b", "mes"), ("%B", "mes"))


def format_label(fmt_: str) -> str:
    for code, label in _FORMAT_LABEL:
        fmt_ = fmt_.replace(code, label)
    return fmt_


@dataclass
class Context:
    geography: Geography
    crime_codes: dict[str, str]   # normalised spelling -> crime_type code (catalogue codes and names included)
    period: tuple[dt.date, dt.date]
    country: str = ""
    country_name: str = ""


def crime_lookup(extra: dict[str, tuple[str, ...]]) -> dict[str, str]:
    crimes = catalog.crime_types()
    lookup = {normalise(c): c for c in crimes["code"]}
    lookup.update({normalise(n): c for c, n in zip(crimes["code"], crimes["name"])})
    for target, spellings in extra.items():
        for s in spellings:
            lookup[normalise(s)] = target
    return lookup


def value_lookup(mapping: dict[str, tuple[str, ...]], defaults: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    lookup = {}
    for target, spellings in (defaults or {}).items():
        lookup.update({normalise(s): target for s in spellings})
    # Declared spellings win over the target names ("M" may mean Masculino: H = ["M"]).
    lookup.update({normalise(target): target for target in mapping})
    for target, spellings in mapping.items():
        lookup.update({normalise(s): target for s in spellings})
    return lookup


def _field_issue(report: Report, src: IncidentSource, table: RawTable, mask: np.ndarray, column_name: str,
                 values: pd.Series, rule: str, expected: str | pd.Series) -> None:
    """Values loaded as 'sin dato', each with its message; ``expected`` is one text or one per row."""
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return
    rows = table.rows[pos]
    vals = values.iloc[pos].tolist()
    texts = [expected] * len(pos) if isinstance(expected, str) else expected.iloc[pos].tolist()
    messages = [f"{where(src.source, table.name, int(r), column_name)}: {quote(v)} {t}{encoding_hint(v, table.encoding)}"
                for r, v, t in zip(rows, vals, texts)]
    report.field_issue(src.source, table.name, rows, column_name, vals, rule, messages)


def parse_dates(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    text = values.astype(object).where(values.notna(), None)
    for f in formats + ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=f, errors="coerce").astype("datetime64[us]")
    return out


def _swapped(fmt_: str) -> str | None:
    """The same format with day and month exchanged (%d/%m/%Y -> %m/%d/%Y); None without both."""
    if "%d" not in fmt_ or "%m" not in fmt_:
        return None
    return fmt_.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def date_order_problem(values: pd.Series, declared: pd.Series, formats: tuple[str, ...], rows: np.ndarray,
                       where_: str) -> str | None:
    """A declared day/month order that the data contradict: values that only read with day and month
    exchanged (e.g. '03/25/2021' under DD/MM/AAAA). Loading the others would swap day and month
    silently, so the load stops and shows examples of both orders."""
    text = values.astype(object).where(values.notna(), None)
    for f in formats:
        other = _swapped(f)
        if other is None:
            continue
        as_declared = pd.to_datetime(text, format=f, errors="coerce")
        as_other = pd.to_datetime(text, format=other, errors="coerce")
        contradict = declared.isna() & as_other.notna()
        if not contradict.any():
            continue
        # rows that only the declared order reads (a day above 12 where the declared order puts it)
        confirm = as_declared.notna() & as_other.isna()
        first = int(np.flatnonzero(contradict.to_numpy())[0])
        example = f"'{text.iloc[first]}' (fila {fmt.integer(int(rows[first]))})"
        n = int(contradict.sum())
        if confirm.any():
            if n <= 0.01 * int(confirm.sum()):
                continue  # a few typos among many confirmed dates: rejected one by one as invalid dates
            k = int(np.flatnonzero(confirm.to_numpy())[0])
            return (f"{where_}: el archivo mezcla dos órdenes de fecha: {fmt.integer(int(confirm.sum()))} valores solo se "
                    f"leen como {format_label(f)} (p. ej. '{text.iloc[k]}', fila {fmt.integer(int(rows[k]))}) y "
                    f"{fmt.integer(n)} solo como {format_label(other)} (p. ej. {example}); las fechas con día de 12 o "
                    "menos no se pueden leer con certeza: corrija el archivo o sepárelo por origen")
        return (f"{where_}: formato_fecha declara {format_label(f)}, pero {fmt.integer(n)} valores solo se leen como "
                f"{format_label(other)} (p. ej. {example}) y ninguno confirma el orden declarado: con ese formato se "
                f"cargarían con día y mes intercambiados. Declare formato_fecha = \"{other}\"")
    return None


COMMON_DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y",
                       "%Y%m%d", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                       "%d-%b-%Y", "%d/%m/%Y %I:%M %p")


def date_hint(invalid: pd.Series, formats: tuple[str, ...]) -> str:
    """A hint for dates that the declared formats do not read: the common format that reads them, or
    Excel serial day numbers written as text ('44197' = 2021-01-01)."""
    text = invalid.dropna().astype(str).str.strip()
    if text.empty:
        return ""
    serial = text.str.fullmatch(r"\d{5}(\.\d+)?")
    if serial.mean() > 0.5:
        example = text[serial].iloc[0]
        day = dt.date(1899, 12, 30) + dt.timedelta(days=int(float(example)))
        return (f"; parece un número de serie de fecha de Excel ({example} = {day.isoformat()}): dé formato de fecha "
                "a la columna en Excel antes de guardar, o guarde el libro como .xlsx")
    for f in COMMON_DATE_FORMATS:
        if f in formats:
            continue
        read = pd.to_datetime(text, format=f, errors="coerce").notna().mean()
        if read >= 0.8:
            return f"; con formato_fecha = \"{f}\" se leen ({format_label(f)})"
    return ""


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers written with a dot or a decimal comma; anything else -> NaN."""
    text = values.astype(object).where(values.notna(), None).astype("str").str.strip()
    comma = text.str.fullmatch(r"-?\d+,\d+")
    text = text.where(~comma, text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce")


# Rows of a CSV file read, checked and mapped at a time: a file of millions of rows is never held
# as text cells at once (core/load/readers.iter_table).
CHUNK_ROWS = 250_000


class SeenIds:
    """The record ids already accepted in a source (across its files and parts), with where each
    first appeared: one integer per id, not a message."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}
        self._files: list[str] = []

    def first(self, value: str) -> str | None:
        """Where ``value`` first appeared ('file fila N'), or None."""
        code = self._first.get(value)
        if code is None:
            return None
        return f"{self._files[code >> 40]} fila {fmt.integer(code & ((1 << 40) - 1))}"

    def add(self, value: str, file: str, row: int) -> None:
        if not self._files or self._files[-1] != file:
            self._files.append(file)
        self._first[value] = ((len(self._files) - 1) << 40) | int(row)


def read_source(src: IncidentSource, ctx: Context, report: Report) -> Iterator[pd.DataFrame]:
    """Read every file of a source, part by part; yields the accepted rows of each part (staged
    columns, no ids yet)."""
    report.source(src.source, src.institution)
    seen_ids = SeenIds()
    for table in report.read_files(src.source, src.table, chunk_rows=CHUNK_ROWS):
        yield _map_table(src, _prepared(src, table), ctx, report, seen_ids)


def constant_column(fld: str) -> str:
    return f"(constante {fld})"


def _prepared(src: IncidentSource, table: RawTable) -> RawTable:
    """The table with the declared empty values blanked and one column per declared constant."""
    frame = table.frame
    if src.empty_values:
        # as written ('-' normalises to nothing) or normalised ('n/d' = 'N/D' = 'n d')
        written = {v.strip() for v in src.empty_values}
        keys = {normalise(v) for v in src.empty_values} - {""}
        frame = frame.apply(lambda col: col.where(
            ~col.map(lambda v: v is not None and (v in written or normalise(v) in keys)), None))
    if src.constants:
        frame = frame.assign(**{constant_column(k): v for k, v in src.constants.items()})
    if frame is table.frame:
        return table
    return RawTable(table.file, frame, table.rows, table.bad, table.encoding, table.delimiter, table.blank_rows,
                    table.part)


TOTAL_WORDS = ("total", "totales", "total general", "total nacional", "total departamental", "total pais",
               "ambos sexos", "ambos", "todas las edades", "todos", "todas")
SCOPE_FIELDS = ("municipio", "municipio_codigo", "departamento", "departamento_codigo", "delito", "sexo",
                "grupo_edad", "edad", "mes")


def is_total(values: pd.Series) -> pd.Series:
    key = values.map(lambda v: normalise(v) if v is not None else "")
    return key.isin(TOTAL_WORDS) | key.str.startswith("total ")


def _scope(src: IncidentSource, table: RawTable, ctx: Context) -> tuple[np.ndarray, pd.Series]:
    """Which rows belong to the source (declared selection, country, total rows of an aggregate);
    returns the in-scope mask and, for the others, the reason."""
    n = len(table.frame)
    reason = pd.Series([None] * n, index=table.frame.index, dtype=object)

    def leave_out(mask: pd.Series, text: pd.Series | str) -> None:
        mask = mask & reason.isna()
        reason[mask] = text[mask] if isinstance(text, pd.Series) else text

    for col, wanted in src.selection.include.items():
        values = column(table, col, f"columna de [incidentes.{src.source}.seleccion.incluir]")
        keys = {normalise(v) for v in wanted}
        leave_out(~values.map(lambda v, keys=keys: normalise(v) in keys if v is not None else False),
                  values.map(lambda v, col=col: f"{col} = {quote(v)} no está en seleccion.incluir"))
    for col, unwanted in src.selection.exclude.items():
        values = column(table, col, f"columna de [incidentes.{src.source}.seleccion.excluir]")
        keys = {normalise(v) for v in unwanted}
        leave_out(values.map(lambda v, keys=keys: normalise(v) in keys if v is not None else False),
                  values.map(lambda v, col=col: f"{col} = {quote(v)} está en seleccion.excluir"))
    if "pais" in src.columns:
        values = column(table, src.columns["pais"], "país")
        mine = {normalise(ctx.country), normalise(ctx.country_name)}
        leave_out(values.notna() & ~values.map(lambda v: normalise(v) in mine),
                  values.map(lambda v: f"{src.columns['pais']} = {quote(v)}: otro país (el almacén es de {ctx.country_name})"))
    if src.row_unit == "agregado":
        # Official tables add total rows (by sex, age, month, territory): a count of counts.
        for fld in SCOPE_FIELDS:
            if fld in src.columns:
                col = src.columns[fld]
                values = column(table, col, fld)
                leave_out(is_total(values), values.map(lambda v, col=col: f"fila de total ({col} = {quote(v)})"))
    return reason.isna().to_numpy(), reason


MONTHS = {m: i + 1 for i, m in enumerate(("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                                          "septiembre", "octubre", "noviembre", "diciembre"))}
MONTHS.update({k[:3]: v for k, v in list(MONTHS.items())})
MONTHS.update({"setiembre": 9, "set": 9, "sept": 9})


def parse_month(values: pd.Series) -> pd.Series:
    """Month 1-12 from a number or a Spanish month name (enero, ene, Ene.); NaN otherwise."""
    def one(v):
        if v is None:
            return np.nan
        key = normalise(v)
        if key in MONTHS:
            return MONTHS[key]
        try:
            m = float(str(v).strip())
        except ValueError:
            return np.nan
        return m if m.is_integer() and 1 <= m <= 12 else np.nan
    return values.map(one).astype("float64")


def parse_counts(values: pd.Series) -> pd.Series:
    """Whole non-negative counts: '12', '1,234' or '1.234' (thousands), '12.0'; anything else -> NaN."""
    text = values.astype(object).where(values.notna(), None).astype("str").str.strip().str.replace(" ", "", regex=False)
    thousands = text.str.fullmatch(r"\d{1,3}([,.]\d{3})+")
    text = text.where(~thousands, text.str.replace(r"[,.]", "", regex=True))
    num = pd.to_numeric(text, errors="coerce")
    return num.where((num >= 0) & (num % 1 == 0))


def _dates(src: IncidentSource, table: RawTable, ctx: Context, rows: RowRejects,
           report: Report) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(day or NaT, first day of the month or NaT, year) at the source's date precision."""
    cols = src.columns | {k: constant_column(k) for k in src.constants}
    start, end = ctx.period
    precision = src.date_precision
    label = DATE_PRECISIONS[precision]
    if "fecha" in cols:
        raw = column(table, cols["fecha"], "fecha del hecho")
        dates = parse_dates(raw, src.date_formats)
        scope = rows.scope if rows.scope is not None else np.ones(len(raw), dtype=bool)
        problem = date_order_problem(raw[scope], dates[scope], src.date_formats, table.rows[scope],
                                     f"{src.source}: {table.name}, columna {cols['fecha']}")
        if problem:
            report.errors.append(problem)
        expected = " o ".join(format_label(f) for f in src.date_formats)
        rows.reject(raw.isna().to_numpy(), "fecha_vacia", cols["fecha"], raw, f"(se esperaba una fecha {expected})")
        invalid = raw.notna() & dates.isna()
        rows.reject(invalid.to_numpy(), "fecha_invalida", cols["fecha"], raw,
                    f"no es una fecha válida (se esperaba {expected}){date_hint(raw[invalid], src.date_formats)}")
        year = dates.dt.year
        month = dates.dt.to_period("M").dt.to_timestamp() if precision != "anio" else pd.Series(pd.NaT, index=raw.index)
        day = dates if precision == "dia" else pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
        date_col, shown = cols["fecha"], raw
    else:
        raw_year = column(table, cols["anio"], "año")
        year = parse_counts(raw_year).where(lambda y: y.between(1900, 2100))
        rows.reject((raw_year.isna() | year.isna()).to_numpy(), "anio_invalido", cols["anio"], raw_year,
                    "no es un año (se esperaba un número de cuatro cifras, p. ej. 2021)")
        month = pd.Series(pd.NaT, index=raw_year.index, dtype="datetime64[us]")
        if precision == "mes":
            raw_month = column(table, cols["mes"], "mes")
            m = parse_month(raw_month)
            rows.reject((raw_month.isna() | m.isna()).to_numpy(), "mes_invalido", cols["mes"], raw_month,
                        "no es un mes (se esperaba 1 a 12 o el nombre del mes, p. ej. 'enero')")
            ok = year.notna() & m.notna()
            month = pd.to_datetime(pd.DataFrame({"year": year.where(ok, 2000), "month": m.where(ok, 1), "day": 1}))
            month = month.where(ok).astype("datetime64[us]")
        day = pd.Series(pd.NaT, index=raw_year.index, dtype="datetime64[us]")
        date_col, shown = cols["anio"], raw_year
    if precision == "dia":
        # Timestamps, not .dt.date: a column where no value parsed has no dates to compare with.
        outside = day.notna() & ((day < pd.Timestamp(start)) | (day > pd.Timestamp(end) + pd.Timedelta(days=1) - pd.Timedelta(1, "us")))
    elif precision == "mes":
        first, last = pd.Timestamp(start.year, start.month, 1), pd.Timestamp(end.year, end.month, 1)
        outside = month.notna() & ((month < first) | (month > last))
    else:
        outside = year.notna() & ((year < start.year) | (year > end.year))
    rows.reject(outside.to_numpy(), "fecha_fuera_de_periodo", date_col, shown,
                f"está fuera del periodo declarado ({start.isoformat()} a {end.isoformat()}"
                + (")" if precision == "dia" else f"; la fuente da solo el {label})"))
    return day, month, year


def _departments(src: IncidentSource, table: RawTable, geo: Geography, rows: RowRejects) -> pd.Series:
    cols = src.columns | {k: constant_column(k) for k in src.constants}
    if "departamento_codigo" in cols:
        raw = column(table, cols["departamento_codigo"], "código de departamento")
        spec = src.dept_code or CodeSpec(cols["departamento_codigo"])
        codes = apply_code(raw, spec)
        known = set(geo.departments["code"])
        unknown = codes.notna() & ~codes.isin(known)
        rows.reject(raw.isna().to_numpy(), "departamento_vacio", cols["departamento_codigo"], raw,
                    "(se esperaba un código de departamento)")
        rows.reject(unknown.to_numpy(), "departamento_desconocido", cols["departamento_codigo"], raw,
                    f"no es un código de departamento de la capa (códigos: {', '.join(sorted(known))})")
        return codes.where(~unknown, None)
    raw = column(table, cols["departamento"], "departamento")
    codes, reasons = resolve_departments(raw, geo)
    rows.reject(raw.isna().to_numpy(), "departamento_vacio", cols["departamento"], raw, "(se esperaba el departamento)")
    rows.reject((raw.notna() & codes.isna()).to_numpy(), "departamento_desconocido", cols["departamento"], raw, reasons)
    return codes.astype(object).where(codes.notna(), None)


def point_in_municipality(lon: pd.Series, lat: pd.Series, geo: Geography) -> pd.Series:
    """Municipality code containing each point (vectorised spatial join); None outside every municipality."""
    out = pd.Series([None] * len(lon), index=lon.index, dtype=object)
    ok = lon.notna() & lat.notna()
    if not ok.any():
        return out
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[ok], lat[ok]), index=lon.index[ok], crs="EPSG:4326")
    joined = gpd.sjoin(points, geo.municipalities[["code", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out[joined.index] = joined["code"].where(joined["code"].notna(), None).to_numpy(dtype=object)
    return out


def _map_table(src: IncidentSource, table: RawTable, ctx: Context, report: Report, seen_ids: SeenIds) -> pd.DataFrame:
    cols = src.columns | {k: constant_column(k) for k in src.constants}
    geo = ctx.geography
    n = len(table.frame)
    rows = RowRejects(src.source, table)

    def col(key: str, what: str) -> pd.Series:
        return column(table, cols[key], what)

    # Which rows belong: out-of-scope rows are counted apart, never rejected.
    in_scope, why = _scope(src, table, ctx)
    if not in_scope.all():
        out = pd.DataFrame({"reason": why[~in_scope].to_numpy(), "row": table.rows[~in_scope]})
        for reason, group in out.groupby("reason", sort=False):
            report.out_of_scope(src.source, table.name, str(reason), len(group), int(group["row"].min()),
                                continued=table.part > 0)
    rows.only(in_scope)

    day, month, year = _dates(src, table, ctx, rows, report)

    # Coordinates (descriptive: wrong ones are dropped, the row is kept), read before the
    # territory because they can place a row.
    lon, lat = _coordinates(src, table, cols, geo, in_scope, report)

    # Territory at the declared level.
    if src.territory_level == "departamento":
        muni = pd.Series([None] * n, index=table.frame.index, dtype=object)
        dept = _departments(src, table, geo, rows)
    else:
        muni = _municipalities(src, table, cols, geo, lon, lat, in_scope, rows, report)
        dept = muni.map(geo.muni_dept)

    # Crime type through the value map.
    raw_crime = col("delito", "tipo de delito")
    crime = raw_crime.map(lambda v: ctx.crime_codes.get(normalise(v)) if v is not None else None)
    rows.reject(raw_crime.isna().to_numpy(), "delito_vacio", cols["delito"], raw_crime, "(se esperaba el tipo de delito)")
    unknown_crime = raw_crime.notna() & crime.isna()
    rows.reject(unknown_crime.to_numpy(), "delito_desconocido", cols["delito"], raw_crime,
                _unknown_crime_reasons(raw_crime, unknown_crime, src, ctx))

    # How many the row counts: 1 victim; the victims of an event; the count of an aggregate.
    victims = pd.Series(1, index=table.frame.index, dtype="int64")
    count = pd.Series(1, index=table.frame.index, dtype="int64")
    for fld, what in (("victimas", "número de víctimas del hecho"), ("cantidad", f"cantidad ({src.count_unit})")):
        if fld in cols:
            raw = col(fld, what)
            num = parse_counts(raw)
            rows.reject((raw.isna() | num.isna()).to_numpy(), f"{fld}_invalida", cols[fld], raw,
                        f"no es un número entero mayor o igual que 0 ({what}; se esperaba p. ej. 0, 3 o 1,204)")
            target = victims if fld == "victimas" else count
            target[:] = num.fillna(0).astype("int64")

    # Record id: unique within the source (across its files).
    ids = _record_ids(src, table, cols, in_scope, rows, seen_ids)

    keep = ~rows.mask & in_scope
    # Descriptive fields: wrong values become "sin dato", recorded in field_issue (only for kept rows).
    fields = _descriptive_fields(src, table, cols, geo, report, keep, day, muni)

    accepted = pd.DataFrame({
        "source": src.source,
        "source_record_id": ids,
        "occurred_on": day.dt.date,
        "month": month.dt.date,
        "year": year,
        "occurred_hour": fields["occurred_hour"],
        "dept_code": dept,
        "muni_code": muni,
        "aldea_code": fields["aldea_code"],
        "lon": lon, "lat": lat,
        "crime_type": crime,
        "victim_sex": fields["victim_sex"],
        "victim_age": fields["victim_age"],
        "age_group": fields["age_group"],
        "weapon": fields["weapon"],
        "victims": victims,
        "count": count,
        "file": table.name,
        "row_number": table.rows,
    })[keep]
    rows.report_to(report)
    report.stats[src.source].rows_loaded += int(keep.sum())
    return accepted.reset_index(drop=True)


def _coordinates(src: IncidentSource, table: RawTable, cols: dict[str, str], geo: Geography, in_scope: np.ndarray,
                 report: Report) -> tuple[pd.Series, pd.Series]:
    """Longitude and latitude of each row (descriptive: wrong ones are dropped and recorded, the row is kept)."""
    def col(key: str, what: str) -> pd.Series:
        return column(table, cols[key], what)

    lon = pd.Series(np.nan, index=table.frame.index)
    lat = pd.Series(np.nan, index=table.frame.index)
    if "longitud" in cols and "latitud" in cols:
        raw_lon, raw_lat = col("longitud", "longitud"), col("latitud", "latitud")
        x, y = parse_numbers(raw_lon), parse_numbers(raw_lat)
        given = raw_lon.notna() | raw_lat.notna()
        unreadable = given & (x.isna() | y.isna())
        _field_issue(report, src, table, unreadable.to_numpy() & in_scope, cols["longitud"],
                     raw_lon.fillna("") + " " + raw_lat.fillna(""), "coordenadas_invalidas",
                     "no son coordenadas legibles (se esperaban longitud y latitud en grados decimales): se registra sin coordenadas")
        minx, miny, maxx, maxy = geo.bounds()
        out_country = x.notna() & y.notna() & ~(x.between(minx, maxx) & y.between(miny, maxy))
        box = f"longitud {minx:.2f} a {maxx:.2f}, latitud {miny:.2f} a {maxy:.2f}"
        swapped = y.between(minx, maxx) & x.between(miny, maxy)
        expected = pd.Series(np.where(
            swapped, f"está fuera del país ({box}), pero dentro al intercambiarlas: la longitud y la latitud están "
                     f"invertidas (en la columna {cols['longitud']} está la latitud); intercambie columnas.longitud y "
                     "columnas.latitud: se registra sin coordenadas",
            f"está fuera del país ({box}; ¿latitud y longitud invertidas, o falta el signo menos?): se registra sin "
            "coordenadas"), index=x.index, dtype=object)
        _field_issue(report, src, table, out_country.to_numpy() & in_scope, f"{cols['longitud']}/{cols['latitud']}",
                     x.astype(str) + ", " + y.astype(str), "coordenadas_fuera_del_pais", expected)
        ok = ~(unreadable | out_country)
        lon, lat = x.where(ok), y.where(ok)
    return lon, lat


def _record_ids(src: IncidentSource, table: RawTable, cols: dict[str, str], in_scope: np.ndarray, rows: RowRejects,
                seen_ids: SeenIds) -> pd.Series:
    """The record id of each row, unique within the source (across its files): a repeated one is rejected."""
    n = len(table.frame)
    def col(key: str, what: str) -> pd.Series:
        return column(table, cols[key], what)

    if "id" in cols:
        ids = col("id", "identificador del registro")
        first_of: list[str | None] = [None] * n
        for pos, value in enumerate(ids.tolist()):
            if value is None or not in_scope[pos]:
                continue
            first = seen_ids.first(value)
            if first is not None:
                first_of[pos] = f"está repetido (ya aparece en {first})"
            elif pos not in rows.reasons:
                seen_ids.add(value, table.name, int(table.rows[pos]))
        firsts = pd.Series(first_of, index=table.frame.index, dtype=object)
        rows.reject(firsts.notna().to_numpy(), "id_duplicado", cols["id"], ids, firsts)
    else:
        ids = pd.Series([None] * n, index=table.frame.index, dtype=object)
    return ids


def _descriptive_fields(src: IncidentSource, table: RawTable, cols: dict[str, str], geo: Geography, report: Report,
                        keep: np.ndarray, day: pd.Series, muni: pd.Series) -> dict[str, pd.Series]:
    """Hour, sex, age, age group, weapon and aldea of each row. A wrong value becomes «sin dato» (the row is
    kept) and is recorded in field_issue, for the kept rows only."""
    def col(key: str, what: str) -> pd.Series:
        return column(table, cols[key], what)

    hours = pd.Series(pd.NA, index=table.frame.index, dtype="Int8")
    if "hora" in cols:
        raw_hour = col("hora", "hora")
        m = raw_hour.astype(object).where(raw_hour.notna(), None).astype("str").str.extract(
            r"^\s*(\d{1,2})(?:[:h.]\d{2})?(?::\d{2})?\s*$")[0]
        h = pd.to_numeric(m, errors="coerce")
        bad = raw_hour.notna() & (h.isna() | (h > 23))
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["hora"], raw_hour, "hora_invalida",
                     "no es una hora válida (se esperaba 0 a 23 o hh:mm): se registra sin hora")
        hours = h.where(~bad).astype("Int8")
    elif "fecha" in cols and any("%H" in f for f in src.date_formats):
        hours = day.dt.hour.astype("Int8")

    sex = pd.Series("ND", index=table.frame.index, dtype=object)
    if "sexo" in cols:
        raw_sex = col("sexo", "sexo de la víctima")
        lookup = value_lookup(src.values.get("sexo", {}), DEFAULT_SEX)
        mapped = raw_sex.map(lambda v: lookup.get(normalise(v)) if v is not None else "ND")
        bad = mapped.isna()
        spellings = sorted({s for t in ("H", "M") for s in src.values.get("sexo", {}).get(t, DEFAULT_SEX[t])})
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["sexo"], raw_sex, "sexo_desconocido",
                     f"no es un sexo reconocido (se esperaba una de {spellings[:8]}, o declárelo en "
                     f"[incidentes.{src.source}.valores.sexo]): se registra sin dato")
        sex = mapped.fillna("ND")
        invalid_target = set(sex.unique()) - {"H", "M", "ND"}
        if invalid_target:
            report.errors.append(f"[incidentes.{src.source}.valores.sexo] destinos no válidos {sorted(invalid_target)}; use H, M o ND")

    ages = pd.Series(pd.NA, index=table.frame.index, dtype="Int16")
    if "edad" in cols:
        raw_age = col("edad", "edad de la víctima")
        num = parse_numbers(raw_age.astype(object).where(raw_age.notna(), None).str.replace(r"\s*años?$", "", regex=True))
        bad = raw_age.notna() & (num.isna() | (num < 0) | (num > src.max_age) | (num % 1 != 0))
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["edad"], raw_age, "edad_fuera_de_rango",
                     f"no es una edad válida (se esperaba un entero de 0 a {src.max_age} años): se registra sin dato")
        ages = num.where(~bad).astype("Int16")
    age_group = pd.Series(catalog.age_group_of(ages.astype("float64").to_numpy()), index=table.frame.index, dtype=object)
    if "grupo_edad" in cols:
        raw_group = col("grupo_edad", "grupo de edad")
        groups = catalog.age_groups()
        lookup = value_lookup(src.values.get("grupo_edad", {}),
                              {c: (c, lbl) for c, lbl in zip(groups["code"], groups["label"])})
        mapped = raw_group.map(lambda v: lookup.get(normalise(v)) if v is not None else "ND")
        _field_issue(report, src, table, mapped.isna().to_numpy() & keep, cols["grupo_edad"], raw_group,
                     "grupo_edad_desconocido", f"no es un grupo de edad del catálogo ({', '.join(groups['code'])}; "
                     f"declare las grafías en [incidentes.{src.source}.valores.grupo_edad]): se registra sin dato")
        age_group = mapped.fillna("ND")

    weapon = pd.Series(NO_WEAPON, index=table.frame.index, dtype=object)
    if "arma" in cols:
        raw_weapon = col("arma", "arma o medio")
        mapping = src.values.get("arma")
        if mapping:
            lookup = value_lookup(mapping)
            mapped = raw_weapon.map(lambda v: lookup.get(normalise(v)) if v is not None else NO_WEAPON)
            _field_issue(report, src, table, mapped.isna().to_numpy() & keep, cols["arma"], raw_weapon, "arma_desconocida",
                         f"no está en el mapa de armas [incidentes.{src.source}.valores.arma]: se registra '{NO_WEAPON}'")
            weapon = mapped.fillna(NO_WEAPON)
        else:
            weapon = raw_weapon.fillna(NO_WEAPON).map(lambda s: " ".join(str(s).split()).capitalize())

    aldea = pd.Series(None, index=table.frame.index, dtype=object)
    if "aldea_codigo" in cols:
        raw_aldea = col("aldea_codigo", "código de aldea")
        parent = raw_aldea.map(geo.aldea_muni)
        bad = raw_aldea.notna() & (parent.isna() | (parent != muni))
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["aldea_codigo"], raw_aldea, "aldea_desconocida",
                     "no es una aldea del municipio del registro: se registra sin aldea")
        aldea = raw_aldea.where(~bad, None)
    return {"occurred_hour": hours, "victim_sex": sex, "victim_age": ages, "age_group": age_group, "weapon": weapon,
            "aldea_code": aldea}


def _unknown_crime_reasons(raw: pd.Series, unknown: pd.Series, src: IncidentSource, ctx: Context) -> pd.Series:
    """Why a crime value is not mapped: the declared spellings, the closest one, and how to map or leave it out."""
    from rapidfuzz import fuzz, process

    declared = {s: target for target, spellings in src.values.get("delito", {}).items() for s in spellings}
    listed = ", ".join(f"'{s}'" for s in list(declared)[:12]) + ("…" if len(declared) > 12 else "")
    out = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    cache: dict[str, str] = {}
    for pos in np.flatnonzero(unknown.to_numpy()):
        value = raw.iloc[pos]
        if value not in cache:
            found = process.extractOne(normalise(value), {s: normalise(s) for s in declared}, scorer=fuzz.WRatio,
                                       score_cutoff=80) if declared else None
            close = f"; ¿quiso decir '{found[2]}' ({declared[found[2]]})?" if found else ""
            target = declared[found[2]] if found else "codigo_del_catalogo"
            cache[value] = (f"no está en el mapa de tipos de delito [incidentes.{src.source}.valores.delito] (grafías "
                            f"declaradas: {listed}){close}; añada la grafía a su tipo del catálogo data/crime_types.csv "
                            f"(p. ej. {target} = [..., \"{value}\"]) o, si la fila no pertenece a la fuente, déjela "
                            f"fuera en [incidentes.{src.source}.seleccion]")
        out.iloc[pos] = cache[value]
    return out


def _municipalities(src: IncidentSource, table: RawTable, cols: dict[str, str], geo: Geography, lon: pd.Series,
                    lat: pd.Series, in_scope: np.ndarray, rows: RowRejects, report: Report) -> pd.Series:
    """Municipality of each row: by code or name, or by its coordinates (point in polygon) when the
    territory is missing, or always when so declared. A row placed by coordinates is a finding."""
    n = len(table.frame)
    by_xy = src.locate != "nunca" and "longitud" in cols and "latitud" in cols
    pip = point_in_municipality(lon, lat, geo) if by_xy else pd.Series([None] * n, index=table.frame.index, dtype=object)
    if "municipio_codigo" in cols or "municipio" in cols:
        muni, problems = resolve_municipalities(table, cols, src.code, geo)
        given = column(table, cols.get("municipio_codigo") or cols["municipio"], "municipio").notna()
    else:
        muni, problems = pd.Series([None] * n, index=table.frame.index, dtype=object), []
        given = pd.Series(False, index=table.frame.index)
    placed = pd.Series(False, index=table.frame.index)
    if by_xy:
        placed = pip.notna() if src.locate == "siempre" else (~given & pip.notna())
        muni = muni.where(~placed, pip)
    for mask, rule, column_name, values, expected in problems:
        rows.reject(np.asarray(mask) & ~placed.to_numpy(), rule, column_name, values, expected)
    if not problems:
        xy = pd.Series([None if pd.isna(x) or pd.isna(y) else f"{x}, {y}" for x, y in zip(lon, lat)],
                       index=table.frame.index, dtype=object)
        rows.reject((~placed).to_numpy(), "sin_municipio", f"{cols['longitud']}/{cols['latitud']}", xy,
                    "no cae dentro de ningún municipio de la capa (el archivo no tiene columna de municipio: "
                    "cada fila se ubica por sus coordenadas)")
    placed_kept = placed.to_numpy() & in_scope
    if placed_kept.any():
        first = int(np.flatnonzero(placed_kept)[0])
        how = "siempre, por declaración" if src.locate == "siempre" else "filas sin municipio en el archivo"
        report.issue(src.source, "municipio_por_coordenadas", "info", int(placed_kept.sum()),
                     f"{table.name} fila {fmt.integer(int(table.rows[first]))}: ({lon.iloc[first]}, {lat.iloc[first]}) "
                     f"ubicada en {muni.iloc[first]} por sus coordenadas ({how})", continued=table.part > 0)
    return muni


class Facts:
    """The accepted rows of every source, collected part by part as they are mapped.

    Rows dated to the day and placed in a municipality, of a victim or event source, are records:
    numbered in reading order, aldeas located by coordinates, and written at once to the staging
    folder (core/load/staging.py), so that millions of records are never held together. Every
    other row is kept as a count at its own grain: an aggregate in its declared unit; an event as
    its victims and one hecho; a victim as one victim (``aggregate()``).
    """

    def __init__(self, sources: dict[str, IncidentSource], geo: Geography, report: Report, staging: FactStaging):
        self.sources, self.geo, self.report, self.staging = sources, geo, report, staging
        self.records = 0
        self._coarse: list[pd.DataFrame] = []
        self._outside: dict[str, list] = {}   # source -> [count, example] of coordinates outside the municipality
        self._aldeas = 0

    def add(self, data: pd.DataFrame) -> None:
        if not len(data):
            return
        record = data["source"].map({s: spec.record_level for s, spec in self.sources.items()}).astype(bool)
        records = data[record].reset_index(drop=True)
        if len(records):
            records["incident_id"] = np.arange(self.records + 1, self.records + len(records) + 1, dtype=np.int64)
            records["counted"] = True
            records["is_event"] = records["source"].map(
                {s: spec.row_unit == "hecho" for s, spec in self.sources.items()}).astype(bool)
            outside, located = _locate(records, self.geo)
            for source, (count, example) in outside.items():
                self._outside.setdefault(source, [0, example])[0] += count
            self._aldeas += located
            self.staging.add(records)
            self.records += len(records)
        if not record.all():
            self._coarse.append(data[~record])

    def aggregate(self) -> pd.DataFrame:
        """The incident_aggregate rows; reports what the location of the records found."""
        for source, (count, example) in self._outside.items():
            self.report.issue(source, "coordenadas_fuera_del_municipio", "aviso", count, example)
        if self._aldeas:
            self.report.notes.append(f"{fmt.integer(self._aldeas)} registros sin código de aldea se ubicaron en su aldea "
                                     "por sus coordenadas")
        parts = []
        coarse = pd.concat(self._coarse, ignore_index=True) if self._coarse else pd.DataFrame()
        for source, rows in (coarse.groupby("source", sort=False) if len(coarse) else ()):
            spec = self.sources[source]
            if spec.row_unit == "agregado":
                parts.append(rows.assign(unit=spec.count_unit, n=rows["count"]))
            elif spec.row_unit == "hecho":
                parts.append(rows.assign(unit="victimas", n=rows["victims"]))
                parts.append(rows.assign(unit="hechos", n=1))
            else:
                parts.append(rows.assign(unit="victimas", n=1))
        aggregate = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if len(aggregate):
            aggregate = aggregate.assign(counted=True, year=aggregate["year"].astype("int64"))
        return aggregate


def _locate(data: pd.DataFrame, geo: Geography) -> tuple[dict[str, tuple[int, str]], int]:
    """Check coordinates against the municipality; fill missing aldeas from the coordinates.
    Returns, per source, the records whose coordinates fall outside their municipality (count and
    an example), and how many aldeas were filled."""
    has_xy = data["lon"].notna().to_numpy()
    if not has_xy.any():
        return {}, 0
    idx = np.flatnonzero(has_xy)
    points = shapely.points(data["lon"].to_numpy()[idx], data["lat"].to_numpy()[idx])
    munis = np.asarray(geo.municipalities.geometry.values)
    tree = shapely.STRtree(munis)
    pt_i, poly_i = tree.query(points, predicate="within")
    found = np.full(len(idx), None, dtype=object)
    found[pt_i] = geo.municipalities["code"].to_numpy()[poly_i]
    declared = data["muni_code"].to_numpy()[idx]
    wrong = np.flatnonzero(found != declared)
    sources = data["source"].to_numpy()[idx]
    outside = {}
    for source in pd.unique(sources[wrong]):
        mine = wrong[sources[wrong] == source]
        r = data.iloc[idx[mine[0]]]
        outside[source] = (len(mine), f"{r['file']} fila {fmt.integer(int(r['row_number']))}: ({r['lon']}, {r['lat']}) está "
                                      f"en {found[mine[0]] or 'ningún municipio'}, no en {r['muni_code']}")
    located = 0
    if geo.aldeas is not None:
        missing = data["aldea_code"].isna().to_numpy()[idx]
        if missing.any():
            tree = shapely.STRtree(np.asarray(geo.aldeas.geometry.values))
            sub = np.flatnonzero(missing)
            pt_i, poly_i = tree.query(points[sub], predicate="within")
            codes = geo.aldeas["code"].to_numpy()[poly_i]
            parents = geo.aldeas["parent_code"].to_numpy()[poly_i]
            rows = idx[sub[pt_i]]
            same = parents == data["muni_code"].to_numpy()[rows]
            col = data.columns.get_loc("aldea_code")
            data.iloc[rows[same], col] = codes[same]
            located = int(same.sum())
    return outside, located
