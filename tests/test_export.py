"""Downloads: accents and notes kept, plain numbers, and data text never a live formula."""
import io

import openpyxl
import pandas as pd

from core import export, opendata


def test_downloads_keep_accents_and_notes():
    df = pd.DataFrame({"Municipio": ["Sololá", "Petén"], "Tasa": [1.5, 2.25]})
    csv = export.csv_bytes(df)
    assert csv.startswith(b"\xef\xbb\xbf") and "Sololá".encode() in csv
    back = pd.read_excel(io.BytesIO(export.xlsx_bytes(df, "Mapa", ["Filtros: 2020"])), sheet_name=None)
    assert list(back) == ["Mapa", "Notas"]
    assert back["Mapa"].equals(df) and back["Notas"]["Notas"].tolist() == ["Filtros: 2020"]


def test_counts_are_whole_numbers_and_decimals_are_rounded():
    df = pd.DataFrame({"Víctimas": [2337182.0, 3.0, None], "Tasa": [894.7527406937073, 1.0, 2.5], "Año": [2020, 2021, 2022]})
    lines = export.csv_bytes(df).decode("utf-8-sig").splitlines()
    assert lines == ["Víctimas,Tasa,Año", "2337182,894.7527,2020", "3,1.0,2021", ",2.5,2022"]
    sheet = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(df))).active
    assert [c.value for c in sheet["A"]] == ["Víctimas", 2337182, 3, None]
    assert sheet["B2"].value == 894.7527
    parquet = pd.read_parquet(io.BytesIO(opendata.parquet_bytes(df)))
    assert str(parquet["Víctimas"].dtype) == "Int64" and parquet["Tasa"].iloc[0] == 894.7527


def test_text_from_the_data_never_becomes_a_formula():
    hostile = ['=HYPERLINK("http://example.invalid/x","Guatemala")', "+1+1", "-2+3", "@SUM(A1)", "Mixco"]
    df = pd.DataFrame({"Municipio": hostile, "n": range(5)})
    csv = pd.read_csv(io.BytesIO(export.csv_bytes(df)), encoding="utf-8-sig")
    assert csv["Municipio"].tolist() == ["'" + h for h in hostile[:4]] + ["Mixco"]
    sheet = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(df))).active
    cells = sheet["A"][1:]
    assert [c.value for c in cells] == hostile
    assert {c.data_type for c in cells} == {"s"}  # text, not a formula
