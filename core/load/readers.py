"""Readers for source files: CSV (any encoding, BOM, delimiter), XLSX, Parquet and vector layers.

Every tabular reader returns the cells as text (``None`` when empty) with the row number a
person sees when opening the file in a spreadsheet (header = row 1 for CSV, where a cell with
line breaks is one row; the sheet row for Excel; the first record is row 2 for Parquet), so
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
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from core.load.config import CodeSpec

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "coma", ";": "punto y coma", "\t": "tabulador", "|": "barra vertical"}
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
# Formats that are tables but that the loader does not read: what to do with each.
CONVERT = {
    ".xls": "es un libro de Excel 97-2003 (.xls): ábralo en Excel y guárdelo como libro de Excel (.xlsx) o como CSV",
    ".ods": "es una hoja de cálculo de LibreOffice (.ods): guárdela como libro de Excel (.xlsx) o como CSV",
    ".json": "es un archivo JSON: la carga lee tablas; expórtelo como CSV (una fila por registro)",
    ".geojson": "es una capa geográfica: declárela en [geografia], no como tabla",
    ".shp": "es una capa geográfica: declárela en [geografia], no como tabla",
    ".gpkg": "es una capa geográfica: declárela en [geografia], no como tabla",
    ".dbf": "es la tabla de un Shapefile: ábrala en una hoja de cálculo y guárdela como CSV",
    ".sav": "es un archivo de SPSS: expórtelo como CSV",
    ".dta": "es un archivo de Stata: expórtelo como CSV",
    ".zip": "es un archivo comprimido: extraiga las tablas y declárelas una por una",
    ".pdf": "es un PDF: la carga necesita la tabla en CSV o Excel",
}
# A field this large is not a cell: a quote that never closes swallows the rest of the file.
FIELD_LIMIT = 50_000_000
# Characters that Latin-1 / Windows-1252 show for the bytes of an accented letter in UTF-8 (Ã¡ = á).
_MOJIBAKE = re.compile(r"Ã[\x80-\xbf¡-¿€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|Â[\xa0-\xbf]|â€")
EIGHT_BIT = ("latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252", "windows-1252", "l1", "8859")


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
    part: int = 0                      # which part of the file (iter_table), from 0

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.bad)


def read_table(path: Path, encoding: str = "auto", delimiter: str = "auto", sheet: str | None = None,
               header_row: int = 1) -> RawTable:
    """The whole table of a file (CSV, Excel or Parquet)."""
    return next(iter_table(path, encoding, delimiter, sheet, header_row))


def iter_table(path: Path, encoding: str = "auto", delimiter: str = "auto", sheet: str | None = None,
               header_row: int = 1, chunk_rows: int | None = None) -> Iterator[RawTable]:
    """The table of a file in parts of about ``chunk_rows`` data rows (CSV; other formats, and
    ``chunk_rows`` None, in one part), so that a file of millions of rows is never held as text
    cells at once. Row numbers, bad rows and blank rows belong to the part they are in; a last
    part shorter than half of ``chunk_rows`` is joined to the one before (a check over a part,
    such as the order of day and month, never judges a handful of rows alone)."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in TABLE_SUFFIXES)
        raise SourceError(f"{path}: es una carpeta, no un archivo; declare sus archivos en archivos = [...]"
                          + (f" (tablas en la carpeta: {', '.join(inside[:8])})" if inside else ""))
    if not path.exists():
        raise SourceError(f"{path}: el archivo no existe")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name}: el archivo está vacío (0 bytes)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        parts: Iterator[RawTable] = iter([_read_excel(path, sheet, header_row)])
    elif suffix in (".parquet", ".pq"):
        parts = iter([_read_parquet(path)])
    elif suffix in (".csv", ".txt", ".tsv"):
        parts = _joined_tail(_iter_csv(path, encoding, delimiter, header_row, chunk_rows), chunk_rows)
    else:
        raise SourceError(f"{path.name}: formato no reconocido '{suffix}'{_format_hint(path, suffix)}")
    first = next(parts)
    rest = next(parts, None)
    if rest is None and len(first.frame) == 0:
        _no_data_rows(path, first, header_row)
    yield first
    if rest is None:
        return
    for number, part in enumerate(_chain(rest, parts), start=1):
        part.part = number
        yield part


def _chain(first: RawTable, rest: Iterator[RawTable]) -> Iterator[RawTable]:
    yield first
    yield from rest


def _no_data_rows(path: Path, table: RawTable, header_row: int) -> None:
    if table.bad:
        first = table.bad[0]
        header = list(table.frame.columns)
        width = len(_cells(first.raw, table.delimiter))
        raise SourceError(f"{path.name}: ninguna fila tiene el número de campos del encabezado (fila {header_row}, "
                          f"{len(header)} {'campo' if len(header) == 1 else 'campos'}: {header}); la fila "
                          f"{first.row} tiene {width}: si el encabezado está en esa fila (las de arriba son "
                          f"títulos), declare fila_encabezado = {first.row}")
    raise SourceError(f"{path.name}: el archivo no tiene filas de datos (solo el encabezado"
                      + (f", en la fila {header_row}" if header_row != 1 else "") + ")")


def _joined_tail(parts: Iterator[RawTable], chunk_rows: int | None) -> Iterator[RawTable]:
    """The parts, with a last part shorter than half of ``chunk_rows`` joined to the one before."""
    pending = next(parts)
    for part in parts:
        if chunk_rows and len(part.frame) < chunk_rows // 2:  # only the last part can be short
            pending = RawTable(pending.file, pd.concat([pending.frame, part.frame], ignore_index=True),
                               np.concatenate([pending.rows, part.rows]), pending.bad + part.bad, pending.encoding,
                               pending.delimiter, pending.blank_rows + part.blank_rows)
            break
        yield pending
        pending = part
    yield pending


def _format_hint(path: Path, suffix: str) -> str:
    """What an unreadable format is and what to do, from its extension or its first bytes."""
    accepted = " (se aceptan .csv, .txt, .tsv, .xlsx, .xlsm y .parquet)"
    if suffix in CONVERT:
        return f": {CONVERT[suffix]}{accepted}"
    head = path.read_bytes()[:4096]
    if head.startswith(b"PK"):
        return f": parece un libro de Excel o un archivo comprimido; si es Excel, cámbiele la extensión a .xlsx{accepted}"
    try:
        text = head.decode(detect_encoding(head))
    except (UnicodeDecodeError, LookupError):
        return accepted
    first = text.splitlines()[0] if text.splitlines() else ""
    delim = detect_delimiter(first)
    if first.count(delim) >= 1 and "\x00" not in text:
        return (f": parece texto separado por {DELIMITER_NAMES[delim]}; cámbiele la extensión a .csv "
                f"(o a .txt){accepted}")
    return accepted


def detect_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    nul = _utf16_without_bom(data)
    if nul:
        return nul
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252" if _decodes(data, "cp1252") else "latin-1"


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without its byte-order mark: text with a NUL byte next to every ASCII character."""
    sample = data[:4000]
    if len(sample) < 4 or sample.count(b"\x00") < len(sample) // 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(b"\x00") > len(odd) * 0.6:
        return "utf-16-le"
    if even.count(b"\x00") > len(even) * 0.6:
        return "utf-16-be"
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _family(encoding: str) -> str:
    """'utf-8', 'utf-16', '8-bit' or 'other' for an encoding name."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return "other"
    if name.startswith("utf-8"):
        return "utf-8"
    if name.startswith(("utf-16", "utf-32")):
        return "utf-16"
    if name in ("latin-1", "iso8859-1", "cp1252", "iso8859-15", "cp850", "mac-roman"):
        return "8-bit"
    return "other"


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def mojibake(text) -> bool:
    """True when the text shows UTF-8 read as Latin-1 / Windows-1252 ('ColÃ³n' for 'Colón')."""
    return isinstance(text, str) and bool(_MOJIBAKE.search(text))


def encoding_hint(text, encoding: str | None = None) -> str:
    """A hint to add to a message about ``text`` when it looks like a wrongly decoded value; '' otherwise."""
    if not mojibake(text):
        return ""
    try:
        fixed = text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        try:
            fixed = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            fixed = None
    shown = f" ('{text}' sería '{fixed}')" if fixed else ""
    if encoding is not None and _family(encoding) == "8-bit":
        return (f"; el texto parece UTF-8 leído como {encoding}{shown}: declare codificacion = \"utf-8\" "
                "(o \"auto\")")
    return (f"; el texto parece mal codificado en el propio archivo{shown}: alguien lo abrió como Latin-1 y lo guardó "
            "como UTF-8; corrija el archivo")


def _decode(path: Path, data: bytes, encoding: str) -> tuple[str, str]:
    """(text, encoding used) of a CSV file; a declared encoding the bytes contradict is an error that says
    which encoding the file has."""
    name = path.name
    if encoding == "auto":
        enc = detect_encoding(data)
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:  # an odd UTF-16 file
            raise SourceError(f"{name}: no se puede leer como {enc} (byte {exc.start}); guárdelo como UTF-8") from None
    family = _family(encoding)
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data)
    if utf16 and family != "utf-16":
        mark = "tiene la marca BOM" if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else \
            "un byte nulo en cada carácter"
        raise SourceError(f"{name}: el archivo está en UTF-16 (Unicode de Excel: {mark}) y se declaró "
                          f"codificacion = \"{encoding}\"; declare codificacion = \"auto\" o \"utf-16\"")
    if family == "utf-16" and not utf16 and not data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        actual = detect_encoding(data)
        raise SourceError(f"{name}: se declaró codificacion = \"{encoding}\", pero el archivo no es UTF-16 (no tiene "
                          f"la marca BOM ni bytes nulos; parece {actual}): declare codificacion = \"auto\"")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line_end = data.find(b"\n", exc.start)
        line = data[line_start:line_end if line_end >= 0 else None]
        row = data[:exc.start].count(b"\n") + 1
        actual = detect_encoding(data)
        shown = line.decode(actual, errors="replace").strip()[:80]
        raise SourceError(f"{name} fila {row}: el byte 0x{data[exc.start]:02x} no es {encoding} (en «{shown}»); el "
                          f"archivo parece {'Latin-1 / Windows-1252' if _family(actual) == '8-bit' else actual}: "
                          f"declare codificacion = \"{'latin-1' if _family(actual) == '8-bit' else actual}\" "
                          "(o \"auto\")") from None
    except LookupError:
        raise SourceError(f"{name}: '{encoding}' no es una codificación conocida; use \"auto\"") from None
    if family == "8-bit" and not data.isascii() and _decodes(data, "utf-8"):
        # Latin-1 text is practically never valid UTF-8 once it has an accented letter.
        sample = next(iter(re.findall(r"[^\s,;|\t\"']*(?:Ã|Â|â€)[^\s,;|\t\"']*", text)), None)
        example = ""
        if sample:
            right = sample.encode(encoding, errors="replace").decode("utf-8", errors="replace")
            example = f" (fila {text[:text.index(sample)].count(chr(10)) + 1}: '{right}' se leería '{sample}')"
        raise SourceError(f"{name}: el archivo está en UTF-8 y se declaró codificacion = \"{encoding}\": las letras "
                          f"con tilde se leerían mal{example}; declare codificacion = \"utf-8\" (o \"auto\")")
    return text, encoding


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their line endings, one at a time (a StringIO would copy the whole
    text, four bytes a character)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


def _head_lines(text: str, count: int) -> list[str]:
    """The first ``count`` lines of ``text`` (fewer if it has fewer), without their endings."""
    out: list[str] = []
    start = 0
    while len(out) < count and start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        out.extend(text[start:end].splitlines() or [""])
        start = end
    return out[:count]


def _iter_csv(path: Path, encoding: str, delimiter: str, header_row: int, chunk_rows: int | None) -> Iterator[RawTable]:
    data = path.read_bytes()
    text, enc = _decode(path, data, encoding)
    del data
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise SourceError(f"{path.name}: el archivo tiene bytes nulos: no es un archivo de texto (¿un archivo binario o "
                          "de Excel con extensión .csv?)")
    lines = _head_lines(text, header_row)
    if len(lines) < header_row:
        raise SourceError(f"{path.name}: el archivo tiene {len(lines)} líneas y el encabezado se esperaba en la fila {header_row}")
    if not lines[header_row - 1].strip():
        raise SourceError(f"{path.name}: la fila {header_row} (fila_encabezado) está vacía; el encabezado debe ser la "
                          "fila con los nombres de las columnas")
    delim = detect_delimiter(lines[header_row - 1]) if delimiter == "auto" else delimiter.replace("\\t", "\t")
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    # Lines end in \n (or \r\n); a file with lone \r line ends (old Mac) is read whole.
    source = _lines(text) if "\n" in text or "\r" not in text else io.StringIO(text, newline="")
    reader = csv.reader(source, delimiter=delim)
    header: list[str] | None = None
    records: list[list[str]] = []
    rows: list[int] = []
    bad: list[BadRow] = []
    blank = 0
    row = 0             # the row a spreadsheet shows (a cell with line breaks is one row)
    start_line = 1      # the physical line where the record starts

    def part() -> RawTable:
        assert header is not None
        frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
        frame = frame.apply(lambda col: col.str.strip().replace("", None)) if len(frame) else frame
        return RawTable(path, frame.reset_index(drop=True), np.array(rows, dtype=np.int64), bad, enc, delim, blank)

    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SourceError(f"{path.name} fila {row + 1}: no se puede leer ({exc}); revise las comillas de esa fila: "
                              "una comilla que abre un campo y no se cierra une el resto del archivo en una celda") from None
        row += 1
        line, start_line = start_line, reader.line_num + 1
        if row < header_row:
            continue
        if header is None:
            header = [v.strip() for v in values]
            _check_header(path, header)
            continue
        if not any(v.strip() for v in values):
            blank += 1
            continue
        if len(values) != len(header):
            if reader.line_num > line and any("\n" in v or "\r" in v for v in values):
                _unclosed_quote(path, header, values, row, line, reader.line_num, delim)
            swallowed = next((i for i, v in enumerate(values) if delim in v), None) if len(values) < len(header) else None
            why = ("¿línea de totales o texto al pie?" if swallowed is None else
                   f"la columna {header[swallowed] if swallowed < len(header) else swallowed + 1} tiene una comilla (\") "
                   "que abre un campo y no se cierra, y se tragó los separadores que siguen")
            bad.append(BadRow(row, f"la fila tiene {len(values)} campos y el encabezado {len(header)} "
                                   f"(separador: {DELIMITER_NAMES.get(delim, repr(delim))}); {why}",
                              delim.join(values)))
            continue
        records.append(values)
        rows.append(row)
        if chunk_rows and len(records) >= chunk_rows:
            yield part()
            records, rows, bad, blank = [], [], [], 0
    if header is None:
        raise SourceError(f"{path.name}: el archivo no tiene encabezado")
    yield part()


def _unclosed_quote(path: Path, header: list[str], values: list[str], row: int, first_line: int, last_line: int,
                    delim: str) -> None:
    """A record that runs over several lines with the wrong number of fields: a quote opened a field and
    never closed, so the following rows were read into one cell. Nothing after it can be trusted."""
    k = next(i for i, v in enumerate(values) if "\n" in v or "\r" in v)
    col = header[k] if k < len(header) else f"campo {k + 1}"
    start = values[k].splitlines()[0][:40]
    raise SourceError(f"{path.name} fila {row}, columna {col}: una comilla (\") abre el campo «\"{start}…» y no se "
                      f"cierra hasta la línea {last_line} del archivo: las líneas {first_line} a {last_line} se "
                      "leerían como una sola fila y se perderían. Quite esa comilla o ciérrela (\"texto\"), o "
                      "guarde de nuevo el archivo desde la hoja de cálculo")


def _check_header(path: Path, header: list[str]) -> None:
    empty = [i + 1 for i, h in enumerate(header) if not h]
    seen, dups = set(), []
    for h in header:
        if h and h in seen:
            dups.append(h)
        seen.add(h)
    if dups:
        raise SourceError(f"{path.name}: columnas repetidas en el encabezado: {dups}; cada columna necesita un nombre "
                          "distinto")
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
    import zipfile

    import openpyxl

    head = path.read_bytes()[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceError(f"{path.name}: {CONVERT['.xls']}")
    if not head.startswith(b"PK"):
        hint = _format_hint(path, "")
        raise SourceError(f"{path.name}: no es un libro de Excel (.xlsx){hint.split(' (se aceptan')[0]}")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:  # damaged, or another zip format (.ods, .docx)
        raise SourceError(f"{path.name}: no se puede abrir como libro de Excel (.xlsx): el archivo está dañado o es "
                          f"de otro programa ({type(exc).__name__}); ábralo y guárdelo de nuevo como .xlsx o CSV") from None
    except Exception as exc:  # openpyxl raises its own errors on unusual workbooks
        raise SourceError(f"{path.name}: no se puede abrir como libro de Excel ({exc}); guárdelo de nuevo como .xlsx "
                          "o CSV") from None
    try:
        names = book.sheetnames
        if sheet is None:
            sheet = names[0]
        elif sheet not in names:
            near = next((n for n in names if n.strip().lower() == sheet.strip().lower()), None)
            if near is None:
                import difflib
                found = difflib.get_close_matches(sheet, names, n=1, cutoff=0.6)
                near = found[0] if found else None
            raise SourceError(f"{path.name}: no existe la hoja '{sheet}'; hojas del libro: {names}"
                              + (f"; ¿quiso decir hoja = \"{near}\"?" if near else ""))
        rows = list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    if len(rows) < header_row:
        raise SourceError(f"{path.name}, hoja '{sheet}': tiene {len(rows)} filas y el encabezado se esperaba en la fila {header_row}")
    header = [_cell_text(v) or "" for v in rows[header_row - 1]]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise SourceError(f"{path.name}, hoja '{sheet}': la fila {header_row} (fila_encabezado) está vacía; el "
                          "encabezado debe ser la fila con los nombres de las columnas")
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
            bad.append(BadRow(i, f"la fila tiene valores fuera de las {width} columnas del encabezado",
                              json.dumps(cells + extra, ensure_ascii=False)))
            continue
        records.append(cells)
        numbers.append(i)
    frame = pd.DataFrame(records, columns=[h or f"(columna {k + 1})" for k, h in enumerate(header)], dtype=object)
    return RawTable(path, frame, np.array(numbers, dtype=np.int64), bad, blank_rows=blank)


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds of errors on a file that is not Parquet
        raise SourceError(f"{path.name}: no se puede leer como Parquet: el archivo está dañado o es de otro formato con "
                          f"extensión .parquet ({type(exc).__name__})") from None
    frame = frame.astype(object).map(_cell_text) if len(frame) else frame.astype(object)
    return RawTable(path, frame.reset_index(drop=True), np.arange(2, len(frame) + 2, dtype=np.int64))


def column(table: RawTable, name: str, what: str) -> pd.Series:
    """The column ``name``; a missing column raises an error that lists the columns that exist, with the
    closest one and what may have gone wrong (separator, encoding, spaces, capitals)."""
    if name in table.frame.columns:
        return table.frame[name]
    # the columns as read (those added for declared constants are not in the file)
    columns = [str(c) for c in table.frame.columns if not str(c).startswith("(constante ")]
    hints = []
    same = [c for c in columns if " ".join(c.split()).casefold() == " ".join(name.split()).casefold()]
    if same:
        hints.append(f"la columna se llama '{same[0]}' (con otras mayúsculas o espacios): escríbala igual en la "
                     "configuración")
    if table.delimiter is not None:
        # one column whose name holds another delimiter: the file was split with the wrong one
        others = [d for d in DELIMITERS if d != table.delimiter and any(d in c for c in columns)]
        if others and len(columns) <= 2:
            hints.append(f"el encabezado contiene {DELIMITER_NAMES[others[0]]} y se leyó con "
                         f"{DELIMITER_NAMES.get(table.delimiter, repr(table.delimiter))}: ¿separador equivocado? "
                         f"(pruebe separador = \"auto\" o \"{others[0]}\")")
    below = next((b.row for b in table.bad if name in _cells(b.raw, table.delimiter)), None)
    if below is not None:
        hints.append(f"el encabezado parece estar en la fila {below} (las filas de arriba son títulos): declare "
                     f"fila_encabezado = {below}")
    broken = next((c for c in columns if mojibake(c)), None)
    if broken:
        hints.append(encoding_hint(broken, table.encoding).lstrip("; "))
    if not same:
        import difflib
        lowered = {c.casefold(): c for c in columns}
        found = difflib.get_close_matches(name.casefold(), list(lowered), n=1, cutoff=0.6)
        if found:
            hints.append(f"¿quiso decir '{lowered[found[0]]}'?")
    raise SourceError(f"{table.name}: falta la columna '{name}' ({what}); columnas del archivo: "
                      f"{columns}" + "".join(f"; {h}" for h in hints))


def _cells(raw: str, delimiter: str | None) -> list[str]:
    """The cells of a row kept apart (BadRow.raw): a JSON list (Excel) or the CSV line."""
    if raw.startswith("["):
        try:
            return [str(c).strip() for c in json.loads(raw) if c is not None]
        except ValueError:
            pass
    return [c.strip() for c in raw.split(delimiter or ",")]


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


LAYER_SUFFIXES = (".geojson", ".json", ".topojson", ".shp", ".gpkg", ".zip", ".kml", ".gml", ".fgb")


def read_layer(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """A vector layer (GeoJSON, TopoJSON, Shapefile, GeoPackage) in WGS84.

    A layer without a coordinate reference system is taken as WGS84 only when its coordinates are
    degrees; a projected layer is reprojected (``frame.attrs['source_crs']`` says from which CRS)."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in LAYER_SUFFIXES)
        raise SourceError(f"{path}: es una carpeta, no una capa geográfica"
                          + (f"; capas en la carpeta: {', '.join(inside[:8])}" if inside else ""))
    if not path.exists():
        raise SourceError(f"{path}: el archivo de geografía no existe")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name}: el archivo de geografía está vacío (0 bytes)")
    import pyogrio

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception:  # not a vector format GDAL knows: said below with the reader's own error
        layers = []
    if layer is not None and layers and layer not in layers:
        raise SourceError(f"{path.name}: no existe la capa '{layer}'; capas del archivo: {layers}")
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # GDAL/pyogrio errors have many types
        what = ("un CSV o una tabla: las capas geográficas son GeoJSON, TopoJSON, Shapefile o GeoPackage"
                if path.suffix.lower() in (".csv", ".txt", ".xlsx") else
                "el archivo está dañado o no es un formato geográfico (GeoJSON, TopoJSON, Shapefile, GeoPackage)")
        raise SourceError(f"{path.name}: no se puede leer como capa geográfica: {what} ({exc})") from None
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame.columns:
        raise SourceError(f"{path.name}: no tiene geometrías: es una tabla, no una capa geográfica (GeoJSON, TopoJSON, "
                          "Shapefile o GeoPackage)")
    if len(frame) == 0:
        raise SourceError(f"{path.name}: la capa no tiene ninguna entidad" + (f" (capas del archivo: {layers})"
                                                                              if len(layers) > 1 else ""))
    minx, miny, maxx, maxy = frame.total_bounds
    degrees = -180.5 <= minx <= maxx <= 180.5 and -90.5 <= miny <= maxy <= 90.5
    extent = f"x de {minx:,.0f} a {maxx:,.0f}, y de {miny:,.0f} a {maxy:,.0f}"
    if frame.crs is None:
        if not degrees:
            raise SourceError(f"{path.name}: la capa no declara su sistema de coordenadas y sus coordenadas no son "
                              f"grados ({extent}): guárdela con su sistema de coordenadas (el archivo .prj de un "
                              "Shapefile) o expórtela en WGS84 (EPSG:4326)")
        frame = frame.set_crs("EPSG:4326")
        frame.attrs["source_crs"] = None
    elif frame.crs.is_geographic and not degrees:
        raise SourceError(f"{path.name}: la capa dice estar en grados ({frame.crs.name}) pero sus coordenadas no lo "
                          f"son ({extent}): probablemente está proyectada (UTM u otra) sin declararlo; expórtela "
                          "con su sistema de coordenadas o en WGS84 (EPSG:4326)")
    elif frame.crs.to_epsg() != 4326:
        source = frame.crs.to_string()
        try:
            frame = frame.to_crs("EPSG:4326")
        except Exception as exc:  # pyproj without the grid, or a broken CRS
            raise SourceError(f"{path.name}: no se puede convertir de {source} a WGS84 ({exc})") from None
        frame.attrs["source_crs"] = source
    return frame
