"""The page helpers that format every table (app_pages/_common.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from app_pages import _common


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


def test_no_page_draws_a_multiselect_with_the_english_bulk_action():
    """Every multiselect goes through _common.multiselect (no «Select all» in English)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in [root / "app.py", *sorted((root / "app_pages").glob("*.py"))]:
        if path.name == "_common.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "multiselect":
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_literal_markdown_escapes_every_markup_and_breaks_autolinks():
    from core import fmt

    text = fmt.literal_markdown('=HYPERLINK("http://x.invalid") *a* :red[b] $c$ www.d.org e@f.org # g')
    assert "\\# g" in text
    for raw in ("*a*", ":red[", "$c$", "http://", "www.", "e@f"):
        assert raw not in text
    # what a reader sees is the same text (escapes and the invisible word joiner aside)
    assert text.replace("\\", "").replace("\u2060", "") == \
        '=HYPERLINK("http://x.invalid") *a* :red[b] $c$ www.d.org e@f.org # g'
