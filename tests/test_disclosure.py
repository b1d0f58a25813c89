"""Public mode: which counts are sensitive, primary and complementary
suppression, derived figures, and the map's reserved class."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import classify, deployment, disclosure
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import run_app

SUPPRESSED = disclosure.SUPPRESSED


# --------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------

def test_one_small_cell_takes_the_smallest_other_with_it(public_mode):
    df = pd.DataFrame({"k": list("abcde"), "n": [10, 3, 7, 0, 12], "rate": [1.0, 2.0, 3.0, 0.0, 4.0]})
    out = disclosure.protect(df, "n", True, dims=["k"], derived=["rate"])
    assert list(out["n"]) == [10, SUPPRESSED, SUPPRESSED, 0, 12]   # 7 goes with the 3 (not the 0)
    assert out["rate"].isna().tolist() == [False, True, True, False, False]
    assert out.attrs["suppressed"] == 2
    assert list(df["n"]) == [10, 3, 7, 0, 12]  # the input is not modified


def test_zero_is_taken_only_when_nothing_else_is_left(public_mode):
    df = pd.DataFrame({"k": list("abc"), "n": [0, 2, 0]})
    assert list(disclosure.protect(df, "n", True, dims=["k"])["n"]) == [SUPPRESSED, SUPPRESSED, 0]


def test_two_small_cells_need_no_complement(public_mode):
    df = pd.DataFrame({"k": list("abc"), "n": [1, 4, 9]})
    assert list(disclosure.protect(df, "n", True)["n"]) == [SUPPRESSED, SUPPRESSED, 9]


def test_only_sensitive_rows_are_primary(public_mode):
    df = pd.DataFrame({"k": list("abcd"), "n": [3, 3, 8, 20]})
    out = disclosure.protect(df, "n", np.array([True, False, False, False]), dims=["k"])
    assert list(out["n"]) == [SUPPRESSED, SUPPRESSED, 8, 20]  # the other 3 is the complement
    assert list(disclosure.protect(df, "n", False, dims=["k"])["n"]) == [3, 3, 8, 20]


def test_below_municipality_is_always_protected(public_mode):
    df = pd.DataFrame({"aldea": list("xyz"), "n": [1, 30, 40]})
    out = disclosure.protect(df, "n", False, below_municipality=True, complementary=False)
    assert list(out["n"]) == [SUPPRESSED, 30, 40]


def test_internal_mode_shows_everything():
    df = pd.DataFrame({"k": list("ab"), "n": [1, 2], "rate": [0.5, 0.7]})
    out = disclosure.protect(df, "n", True, dims=["k"], derived=["rate"], below_municipality=True)
    pd.testing.assert_frame_equal(out, df)
    assert disclosure.count_text(3, True) == "3"
    assert disclosure.notes()[0].startswith("Modo interno")


def test_single_counts(public_mode):
    assert disclosure.count_text(3, True) == SUPPRESSED
    assert disclosure.count_text(3, False) == "3"
    assert disclosure.count_text(3, False, below_municipality=True) == SUPPRESSED
    assert disclosure.count_text(0, True) == "0"
    assert disclosure.count_text(1234, True) == "1,234"
    assert disclosure.hides(4, True) and not disclosure.hides(5, True) and not disclosure.hides(0, True)


def lonely_lines(frame: pd.DataFrame, hidden: np.ndarray, groupings: list[list[str]]) -> list:
    """Lines (cells sharing the given columns) with exactly one hidden cell and more than one cell."""
    bad = []
    for cols in groupings:
        g = pd.DataFrame({"hidden": hidden, "one": 1}, index=frame.index)
        keys = [frame[c] for c in cols] if cols else [np.zeros(len(frame))]
        stats = g.groupby(keys).agg(hidden=("hidden", "sum"), size=("one", "sum"))
        bad += stats[(stats["hidden"] == 1) & (stats["size"] > 1)].index.tolist()
    return bad


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_no_total_reveals_a_cell_in_a_two_way_table(rows, cols, data):
    values = data.draw(st.lists(st.integers(0, 12), min_size=rows * cols, max_size=rows * cols))
    sensitive = data.draw(st.lists(st.booleans(), min_size=rows * cols, max_size=rows * cols))
    frame = pd.DataFrame({"r": np.repeat(range(rows), cols), "c": np.tile(range(cols), rows), "n": values,
                          "dept": np.repeat(range(rows), cols) % 2})
    os.environ[deployment.ENV_VAR] = "publico"  # hypothesis does not re-run function-scoped fixtures
    try:
        mask = disclosure.suppression_mask(frame, "n", np.array(sensitive), dims=["r", "c"], lines=[["dept", "c"]])
    finally:
        os.environ[deployment.ENV_VAR] = "interno"
    v = np.asarray(values)
    primary = (v >= 1) & (v <= 4) & np.asarray(sensitive)
    assert mask[primary].all()                                   # every small sensitive cell is hidden
    assert not lonely_lines(frame, mask.to_numpy(), [["r"], ["c"], ["dept", "c"]])  # no total gives one back
    if not primary.any():
        assert not mask.any()                                    # nothing is hidden without a reason


def test_crosstab_protects_rows_columns_and_totals(public_mode):
    df = pd.DataFrame({"name": ["Uno", "Dos", "Tres"], "A": [3, 10, 12], "B": [9, 8, 15], "n": [12, 18, 27],
                       "rate": [1.0, 2.0, 3.0]})
    out = disclosure.protect_crosstab(df, ["A", "B"], {"A": True, "B": False}, total="n", derived=["rate"])
    hidden = out[["A", "B"]].apply(disclosure.is_suppressed).to_numpy()
    assert hidden[0, 0]                                          # the 3 of a sensitive column
    assert hidden[:, 0].sum() >= 2 and hidden[0, :].sum() >= 2   # neither its column nor its row reveals it
    assert list(out["n"]) == [12, 18, 27] and out["rate"].notna().all()  # totals of 5+ stay


def test_parquet_keeps_numbers_and_flags_reserved_cells(public_mode):
    import io

    from core import opendata

    df = disclosure.protect(pd.DataFrame({"k": list("abc"), "victimas": [2, 3, 50]}), "victimas", True)
    back = pd.read_parquet(io.BytesIO(opendata.parquet_bytes(df)))
    assert back["victimas"].isna().tolist() == [True, True, False] and back["victimas"].iloc[2] == 50
    assert back["victimas_reservada"].tolist() == [True, True, False]


# --------------------------------------------------------------------------------------
# What is sensitive (on the fixture warehouse's catalogue)
# --------------------------------------------------------------------------------------

@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_sensitive_scope(fixture):
    assert {"violacion", "agresion_sexual", "violencia_mujer", "violencia_intrafamiliar", "femicidio"} == \
        disclosure.sensitive_types()
    assert disclosure.covers_sensitive(Filters())                           # all types include sensitive ones
    assert not disclosure.covers_sensitive(Filters(crime_types=("robo", "hurto")))
    assert disclosure.covers_sensitive(Filters(crime_groups=("Violencia letal",)))   # femicidio
    assert not disclosure.covers_sensitive(Filters(crime_types=("homicidio",)))
    assert not disclosure.covers_sensitive(Filters(), crime_groups=["Delitos contra el patrimonio"])
    # counts of minors only are sensitive whatever the crime
    assert disclosure.covers_sensitive(Filters(crime_types=("robo",), age_groups=("0-11", "12-17")))
    assert disclosure.covers_sensitive(Filters(crime_types=("robo",), age_groups=("12-17", "ND")))
    assert not disclosure.covers_sensitive(Filters(crime_types=("robo",), age_groups=("12-17", "18-29")))
    assert disclosure.covers_sensitive(Filters(crime_types=("robo",)), age_groups=["0-11"])


def test_rows_sensitive_by_type_and_age(fixture):
    f = Filters(crime_types=("robo", "violencia_mujer"))
    df = pd.DataFrame({"t": ["robo", "violencia_mujer", "robo", "robo"], "age": ["18-29", "18-29", "12-17", "ND"]})
    assert disclosure.rows_sensitive(f, df, type_column="t").tolist() == [False, True, False, False]
    assert disclosure.rows_sensitive(f, df, type_column="t", age_column="age").tolist() == [False, True, True, False]
    assert disclosure.rows_sensitive(Filters(crime_types=("robo",)), df, age_column="age").tolist() == \
        [False, False, True, False]


def test_map_classes_leave_reserved_municipalities_out_of_the_breaks():
    values = pd.Series([1.0, 2.0, 3.0, np.nan, np.nan, 7.0, 8.0, 9.0, 10.0])
    reserved = pd.Series([False, False, False, True, False, False, False, False, False])
    c = classify.classify(values, "cuantiles", 3, reserved=reserved)
    assert c.labels.iloc[3] == classify.RESERVED and c.labels.iloc[4] == classify.NO_DATA
    assert c.rank.iloc[3] == -2
    legend = c.legend.set_index("label")
    assert legend.loc[classify.RESERVED, "count"] == 1 and legend.loc[classify.NO_DATA, "count"] == 1
    assert legend.loc[classify.RESERVED, "color"] == classify.RESERVED_COLOR
    assert c.legend["count"].iloc[:3].sum() == 7


def test_a_cross_table_without_category_columns_protects_its_totals(public_mode):
    """An aldea table with no case in any crime group has no group column: its totals are still
    protected, and nothing fails (the Municipio page of a municipality without cases under the filters)."""
    df = pd.DataFrame({"code": ["a", "b", "c"], "n": [0, 3, 9], "rate": [0.0, 1.5, 4.5]})
    out = disclosure.protect_crosstab(df, [], True, total="n", derived=["rate"], below_municipality=True)
    assert list(out["n"].astype(str)) == ["0", disclosure.SUPPRESSED, disclosure.SUPPRESSED]  # 3, and 9 to protect it
    assert out["rate"].isna().tolist() == [False, True, True]


def test_municipio_page_without_cases_in_public_mode(demo, public_mode):
    at = run_app({"tipos": "femicidio", "desde": "2022", "hasta": "2022", "muni": "0104"}, page="municipio")
    assert not at.exception
