"""The page helpers that format every table (pages/_common.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pages import _common


def test_a_protected_count_column_without_reserved_rows_gets_the_count_format():
    """A slice of a protected table (object column of numbers, no «<5» in it) is formatted as
    counts, with thousands separators, not written raw (4165)."""
    df = pd.DataFrame({"Municipio": ["A", "B"], "Víctimas": pd.Series([4165, np.int64(2810)], dtype=object),
                       "Tasa": [12.5, 3.25]})
    shown = _common._numbers_as_numbers(df)
    assert pd.api.types.is_integer_dtype(shown["Víctimas"])
    formats = _common.number_formats(shown)
    assert formats["Víctimas"]["type_config"]["format"] == "%,d"
    assert formats["Tasa"]["type_config"]["format"] == "%,.1f"
    assert "Municipio" not in formats


def test_text_and_reserved_columns_stay_text():
    df = pd.DataFrame({"Víctimas": pd.Series([4165, "<5"], dtype=object), "Código": ["0101", "0102"]})
    assert _common._numbers_as_numbers(df) is df
