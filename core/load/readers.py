"""Readers for source files: CSV (any encoding, BOM, delimiter), XLSX, Parquet and vector layers.

Every tabular reader returns the cells as text (``None`` when empty) with the row number a
person sees when opening the file (header = row 1 for CSV and the sheet row for Excel), so
that every message can point at the row. Rows that cannot be read as records (wrong number
of fields, such as a junk trailing line) are returned apart with the reason: nothing is lost.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from core.load.config import CodeSpec

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "coma", ";": "punto y coma", "\t": "tabulador", "|": "barra vertical"}


class SourceError(ValueError):
    """A problem that stops a file from being read at all (missing file, sheet or column, empty file)."""


@dataclass
class BadRow:
    row: int
    reason: str
    raw: str


@dataclass
class RawTable:
    file: Path
    frame: pd.DataFrame                # text cells (None when empty), original column names
    rows: np.ndarray                   # row number of each frame row in the file
    bad: list[BadRow] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    blank_rows: int = 0

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.bad)


def read_table(path: Path, encoding: str = "auto", delimiter: str = "auto", sheet: str | None = None,
               header_row: int = 1) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: el archivo no existe")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name}: el archivo está vacío (0 bytes)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        table = _read_excel(path, sheet, header_row)
    elif suffix in (".parquet", ".pq"):
        table = _read_parquet(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        table = _read_csv(path, encoding, delimiter, header_row)
    else:
        raise SourceError(f"{path.name}: formato no reconocido '{suffix}' (se esperaba .csv, .txt, .xlsx o .parquet)")
    if len(table.frame) == 0:
        raise SourceError(f"{path.name}: el archivo no tiene filas de datos (solo el encabezado)")
    return table


def detect_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252" if _decodes(data, "cp1252") else "latin-1"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, encoding: str, delimiter: str, header_row: int) -> RawTable:
    data = path.read_bytes()
    enc = detect_encoding(data) if encoding == "auto" else encoding
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"{path.name}: no se puede leer con la codificación '{enc}' ({exc}); "
                          "pruebe codificacion = \"auto\" o \"latin-1\"") from None
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if len(lines) < header_row:
        raise SourceError(f"{path.name}: el archivo tiene {len(lines)} líneas y el encabezado se esperaba en la fila {header_row}")
    delim = detect_delimiter(lines[header_row - 1]) if delimiter == "auto" else delimiter.replace("\\t", "\t")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] | None = None
    records, rows, bad = [], [], []
    blank = 0
    start_line = 1
    for values in reader:
        line = start_line
        start_line = reader.line_num + 1
        if line < header_row:
            continue
        if header is None:
            header = [v.strip() for v in values]
            continue
        if not any(v.strip() for v in values):
            blank += 1
            continue
        if len(values) != len(header):
            bad.append(BadRow(line, f"la fila tiene {len(values)} campos y el encabezado {len(header)} "
                                    f"(separador: {DELIMITER_NAMES.get(delim, repr(delim))}); "
                                    "¿línea de totales o texto al pie?", delim.join(values)))
            continue
        records.append(values)
        rows.append(line)
    if header is None:
        raise SourceError(f"{path.name}: el archivo no tiene encabezado")
    _check_header(path, header)
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
    frame = frame.apply(lambda col: col.str.strip().replace("", None)) if len(frame) else frame
    return RawTable(path, frame.reset_index(drop=True), np.array(rows, dtype=np.int64), bad, enc, delim, blank)


def _check_header(path: Path, header: list[str]) -> None:
    empty = [i + 1 for i, h in enumerate(header) if not h]
    seen, dups = set(), []
    for h in header:
        if h and h in seen:
            dups.append(h)
        seen.add(h)
    if dups:
        raise SourceError(f"{path.name}: columnas repetidas en el encabezado: {dups}")
    if empty and len(empty) == len(header):
        raise SourceError(f"{path.name}: el encabezado está vacío")


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d") if (value.hour, value.minute, value.second) == (0, 0, 0) \
            else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    text = str(value).strip()
    return text or None


def _read_excel(path: Path, sheet: str | None, header_row: int) -> RawTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # corrupt or not an xlsx
        raise SourceError(f"{path.name}: no se puede abrir como libro de Excel ({exc})") from None
    try:
        names = book.sheetnames
        if sheet is None:
            sheet = names[0]
        elif sheet not in names:
            raise SourceError(f"{path.name}: no existe la hoja '{sheet}'; hojas del libro: {names}")
        rows = list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    if len(rows) < header_row:
        raise SourceError(f"{path.name}, hoja '{sheet}': tiene {len(rows)} filas y el encabezado se esperaba en la fila {header_row}")
    header = [_cell_text(v) or "" for v in rows[header_row - 1]]
    while header and not header[-1]:
        header.pop()
    _check_header(path, header)
    width = len(header)
    records, numbers, bad = [], [], []
    blank = 0
    for i, values in enumerate(rows[header_row:], start=header_row + 1):
        cells = [_cell_text(v) for v in values]
        extra = [c for c in cells[width:] if c is not None]
        cells = (cells + [None] * width)[:width]
        if all(c is None for c in cells) and not extra:
            blank += 1
            continue
        if extra:
            bad.append(BadRow(i, f"la fila tiene valores fuera de las {width} columnas del encabezado", json.dumps(cells + extra, ensure_ascii=False)))
            continue
        records.append(cells)
        numbers.append(i)
    frame = pd.DataFrame(records, columns=[h or f"(columna {k + 1})" for k, h in enumerate(header)], dtype=object)
    return RawTable(path, frame, np.array(numbers, dtype=np.int64), bad, blank_rows=blank)


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise SourceError(f"{path.name}: no se puede leer como Parquet ({exc})") from None
    frame = frame.astype(object).map(_cell_text) if len(frame) else frame.astype(object)
    return RawTable(path, frame.reset_index(drop=True), np.arange(1, len(frame) + 1, dtype=np.int64))


def column(table: RawTable, name: str, what: str) -> pd.Series:
    """The column ``name``; a missing column raises an error that lists the columns that exist."""
    if name in table.frame.columns:
        return table.frame[name]
    hint = ""
    if table.delimiter is not None:
        # one column whose name holds another delimiter: the file was split with the wrong one
        others = [d for d in DELIMITERS if d != table.delimiter and any(d in str(c) for c in table.frame.columns)]
        if others:
            hint = (f"; el encabezado contiene {DELIMITER_NAMES[others[0]]} y se leyó con "
                    f"{DELIMITER_NAMES.get(table.delimiter, repr(table.delimiter))}: ¿separador equivocado? "
                    f"(pruebe separador = \"auto\" o \"{others[0]}\")")
    raise SourceError(f"{table.name}: falta la columna '{name}' ({what}); columnas del archivo: "
                      f"{list(table.frame.columns)}{hint}")


def apply_code(values: pd.Series, spec: CodeSpec) -> pd.Series:
    """Territory codes from a text column: strip prefix, slice, zero-pad (NaN stays NaN)."""
    out = values.astype(object).where(values.notna(), None)
    text = out.dropna().astype(str).str.strip()
    text = text.str.replace(r"\.0$", "", regex=True)  # 101.0 from spreadsheets
    if spec.strip_prefix:
        text = text.where(~text.str.startswith(spec.strip_prefix), text.str[len(spec.strip_prefix):])
    if spec.start is not None or spec.end is not None:
        text = text.str[spec.start:spec.end]
    if spec.pad:
        text = text.where(~text.str.fullmatch(r"\d+"), text.str.zfill(spec.pad))
    out = out.copy()
    out.loc[text.index] = text.replace("", None)
    return out


def raw_json(table: RawTable, positions) -> list[str]:
    """Rows of the table as JSON objects (column -> text) for rejected_record.raw."""
    sub = table.frame.iloc[list(positions)]
    # Columns added for declared constants ("(constante delito)") are not part of the row as read.
    return [json.dumps({k: v for k, v in zip(sub.columns, row) if not str(k).startswith("(constante ")},
                       ensure_ascii=False) for row in sub.itertuples(index=False)]


def read_layer(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """A vector layer (GeoJSON, TopoJSON, Shapefile, GeoPackage) in WGS84."""
    if not Path(path).exists():
        raise SourceError(f"{path}: el archivo de geografía no existe")
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:
        raise SourceError(f"{Path(path).name}: no se puede leer como capa geográfica ({exc})") from None
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    return frame
