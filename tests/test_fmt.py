"""Numbers as users read them."""
import math

import pytest

from core import export, fmt


@pytest.mark.parametrize("p, text", [(0.5, "50 %"), (0.12, "12 %"), (0.0234, "1 en 43"), (0.00123, "1 en 810"),
                                     (2.3e-5, "1 en 43,000"), (5.36e-7, "menos de 1 en un millón"),
                                     (None, "—"), (math.nan, "—")])
def test_probabilities_read_in_words(p, text):
    assert fmt.chance(p) == text
    assert "e-" not in fmt.chance(p)


def test_counts_and_missing_values():
    assert fmt.integer(9332470) == "9,332,470" and fmt.integer(None) == "—"
    assert fmt.decimal(894.7527406937073) == "894.8" and fmt.percent(-3.25, signed=True) == "-3.2 %"


def test_tiny_values_keep_significant_figures_in_downloads():
    import pandas as pd
    out = export.plain(pd.DataFrame({"p": [5.3612e-7, 0.2, None]}))
    assert out["p"].tolist()[:2] == [5.361e-7, 0.2]


def test_a_value_that_rounds_to_zero_has_no_sign():
    assert fmt.percent(-0.04, 1, signed=True) == "+0.0 %"
    assert fmt.percent(-0.04) == "0.0 %" and fmt.decimal(-0.001, 2) == "0.00"
    assert fmt.decimal(-0.06) == "-0.1" and fmt.percent(-1.25, 1, signed=True) == "-1.2 %"
