"""Downloads of tables: CSV that Excel opens with accents intact, and XLSX with a notes sheet."""
from __future__ import annotations

import io
from typing import Iterable

import pandas as pd


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel in Spanish recognises the accents), comma-separated, point decimals."""
    return df.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "Datos", notes: Iterable[str] = ()) -> bytes:
    """One sheet with the table (header frozen, columns sized) and an optional "Notas" sheet
    saying what the table is: filters, definitions, source."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        df.to_excel(writer, sheet_name=sheet[:31], index=False)
        ws = writer.sheets[sheet[:31]]
        ws.freeze_panes = "A2"
        for i, column in enumerate(df.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in df[column].head(200)])
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(width + 2, 8), 60)
        notes = list(notes)
        if notes:
            pd.DataFrame({"Notas": notes}).to_excel(writer, sheet_name="Notas", index=False)
            writer.sheets["Notas"].column_dimensions["A"].width = 120
    return buffer.getvalue()
