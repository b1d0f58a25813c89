"""The yearly cube in memory gives what the SQL over incident_year_cube gives, for any filter and grouping."""
from __future__ import annotations

import pandas as pd
import pytest

from core import warehouse, yearcube
from core.filters import Filters, filter_options
from core.load.demo import build_demo
from tests.test_grain_pages import _add_mixed_sources

GROUPINGS = [(), ("muni_code",), ("dept_code",), ("year",), ("year", "crime_group"), ("muni_code", "year"),
             ("source", "victim_sex"), ("age_group",)]


@pytest.fixture(scope="module")
def mixed_path(tmp_path_factory):
    """A small demo plus a department-only source (no municipality) and a source of hechos."""
    path = tmp_path_factory.mktemp("yearcube") / "mixed.duckdb"
    build_demo(path, seed=2024, scale=0.05, progress=None)
    _add_mixed_sources(path)
    return path


@pytest.fixture(params=["demo", "mixed"])
def cube_warehouse(request, demo_path, mixed_path, use_warehouse):
    return use_warehouse(demo_path if request.param == "demo" else mixed_path)


def _sql(f: Filters, by: tuple[str, ...]) -> pd.DataFrame:
    where, params = f.where("cube")
    if not by:
        return warehouse.query(f"SELECT coalesce(sum(n), 0)::BIGINT AS n, coalesce(sum(ck), 0)::BIGINT AS ck "
                               f"FROM incident_year_cube WHERE {where}", params)
    keys = ", ".join(by)
    return warehouse.query(f"SELECT {keys}, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_year_cube "
                           f"WHERE {where} GROUP BY {keys} ORDER BY {keys} NULLS LAST", params)


def _filters() -> list[Filters]:
    opts = filter_options()
    return [
        Filters().resolved(opts),
        Filters(year_from=opts.max_year - 2, year_to=opts.max_year).resolved(opts),
        Filters(crime_groups=("Violencia letal", "Violencia sexual"), sexes=("M",)).resolved(opts),
        Filters(crime_types=("homicidio",), age_groups=("18-29", "ND"), dept_code="01").resolved(opts),
        Filters(sexes=("ND",), year_from=opts.min_year, year_to=opts.min_year).resolved(opts),
        Filters(unit="hechos").resolved(opts),
        Filters(crime_types=("no_existe",)),
    ]


@pytest.mark.parametrize("by", GROUPINGS, ids=lambda b: "+".join(b) or "total")
def test_sums_equal_the_sql_over_the_cube(cube_warehouse, by):
    for f in _filters():
        got = yearcube.sums(f, by)
        want = _sql(f, by)
        for column in by:
            if column == "year":
                want[column] = want[column].astype("int64")
            else:  # the same missing value on both sides (None), whatever the string dtype
                want[column] = want[column].astype(object).where(want[column].notna(), None)
                got[column] = got[column].astype(object).where(got[column].notna(), None)
        assert list(got.columns) == list(by) + ["n", "ck"]
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.astype({"n": "int64", "ck": "int64"}),
                                      check_dtype=False, obj=f"{f} por {by}")
        if f.crime_types != ("no_existe",):
            assert got["n"].sum() > 0 or f.unit == "hechos"


def test_a_null_value_is_its_own_group(mixed_path, use_warehouse):
    """Counts a source gives only by department have no municipality: the group-by keeps them apart."""
    use_warehouse(mixed_path)
    f = Filters(crime_types=("homicidio",)).resolved(filter_options())
    got = yearcube.sums(f, ("muni_code",))
    assert got["muni_code"].isna().sum() == 1
    assert int(got.loc[got["muni_code"].isna(), "n"].iloc[0]) == sum(40 + 7 * i for i in range(6))
    hechos = yearcube.sums(Filters(unit="hechos").resolved(filter_options()), ("year",))
    assert hechos["n"].tolist() == [sum(3 + (i % 5) for i in range(24)), sum(3 + (i % 5) for i in range(24, 48))]


def test_an_unknown_column_is_refused(demo):
    with pytest.raises(ValueError, match="columnas desconocidas"):
        yearcube.sums(Filters(), ("occurred_on",))
