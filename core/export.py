"""Downloads of tables: CSV that Excel opens with accents intact, and XLSX with a notes sheet.

Both hold plain numbers (``plain``): counts as whole numbers, other decimals rounded to 4 places;
and text from the data (a municipality name, an indicator name) never becomes a live spreadsheet
formula.
"""
from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd

DECIMALS = 4
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plain(df: pd.DataFrame, literal_text: bool = True) -> pd.DataFrame:
    """The table as downloaded: float columns holding whole numbers become integers, other floats
    are rounded to DECIMALS places (to DECIMALS significant figures in a column of tiny values such
    as probabilities); with ``literal_text``, text that would start a formula is
    prefixed with an apostrophe (what spreadsheets take as «this is text»)."""
    out = df.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_float_dtype(values):
            known = values.dropna()
            if len(known) and np.isfinite(known).all() and (known == known.round()).all():
                out[column] = values.round().astype("Int64")
            elif len(known) and (known.abs() < 10 ** -DECIMALS).any() and (known != 0).any():
                # small values (probabilities): significant figures, not decimals that would give 0
                out[column] = values.map(lambda v: v if pd.isna(v) else float(f"{v:.{DECIMALS}g}"))
            else:
                out[column] = values.round(DECIMALS)
        elif literal_text and values.dtype != object and pd.api.types.is_string_dtype(values):
            starts = values.str.startswith(FORMULA_START).fillna(False).astype(bool)
            if starts.any():  # vectorised: the fine open-data file has millions of rows
                out[column] = values.where(~starts, "'" + values)
        elif literal_text and values.dtype == object:
            out[column] = values.map(literal)
    if literal_text:  # column titles can come from the data too (an institution, an indicator)
        out.columns = [literal(c) for c in out.columns]
    return out


def literal(value):
    """Text that a spreadsheet would run as a formula, prefixed with an apostrophe («this is text»)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel in Spanish recognises the accents), comma-separated, point decimals."""
    return plain(df).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "Datos", notes: Iterable[str] = ()) -> bytes:
    """One sheet with the table (header frozen, columns sized) and an optional "Notas" sheet
    saying what the table is: filters, definitions, source."""
    buffer = io.BytesIO()
    df = plain(df, literal_text=False)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        df.to_excel(writer, sheet_name=sheet[:31], index=False)
        ws = writer.sheets[sheet[:31]]
        for row in ws.iter_rows():  # text from the data is text, never a formula
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        for i, column in enumerate(df.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in df[column].head(200)])
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(width + 2, 8), 60)
        notes = list(notes)
        if notes:
            pd.DataFrame({"Notas": notes}).to_excel(writer, sheet_name="Notas", index=False)
            for row in writer.sheets["Notas"].iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        cell.data_type = "s"
            writer.sheets["Notas"].column_dimensions["A"].width = 120
    return buffer.getvalue()
