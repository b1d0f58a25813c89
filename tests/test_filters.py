"""Filters -> bound SQL and URL parameters."""
import pytest

from core import warehouse
from core.filters import FilterOptions, Filters, filter_options
from tests import fixture_warehouse

OPTS = FilterOptions(
    min_year=2013, max_year=2022, crime_groups=("Violencia letal", "Delitos contra el patrimonio"),
    crime_type_names={"homicidio": "Homicidio doloso", "femicidio": "Femicidio", "robo": "Robo con violencia"},
    crime_group_of={"homicidio": "Violencia letal", "femicidio": "Violencia letal", "robo": "Delitos contra el patrimonio"},
    age_group_labels={"0-11": "0 a 11 años", "18-29": "18 a 29 años", "ND": "Sin dato"},
    departments={"01": "Guatemala", "05": "Escuintla"},
)


def test_where_binds_every_value():
    f = Filters(2015, 2018, ("Violencia letal",), ("homicidio",), ("M",), ("18-29",), "01")
    sql, params = f.where("cube")
    assert params == [2015, 2018, ["Violencia letal"], ["homicidio"], ["M"], ["18-29"], "01", "victimas"]
    for value in ("2015", "Violencia", "homicidio", "'M'", "18-29", "'01'", "victimas"):
        assert value not in sql
    assert sql.endswith("counted AND unit = ?")
    sql_i, params_i = f.where("incident", counted_only=False)
    assert "occurred_on" in sql_i and "counted" not in sql_i and params_i == params[:-1]
    # victims and events are never added: every cube query is of one unit
    assert Filters().where("cube", counted_only=False) == ("unit = ?", ["victimas"])
    assert Filters(unit="hechos").where("incident", counted_only=False) == ("is_event", [])
    assert (Filters().measure("incident"), Filters(unit="hechos").measure("incident")) == ("sum(victims)", "count(*)")
    with pytest.raises(ValueError):
        f.where("territory")


def test_url_round_trip():
    f = Filters(2015, 2018, ("Violencia letal",), ("homicidio", "femicidio"), ("M", "ND"), ("0-11",), "05")
    params = f.to_params()
    assert params == {"desde": "2015", "hasta": "2018", "grupos": "Violencia letal", "tipos": "homicidio,femicidio",
                      "sexo": "M,ND", "edad": "0-11", "depto": "05"}
    assert Filters.from_params(params, OPTS) == f
    assert Filters().to_params() == {}


def test_url_values_outside_the_warehouse_are_dropped():
    hostile = {"desde": "1900", "hasta": "2016; DROP TABLE incident", "grupos": "Violencia letal,x' OR '1'='1",
               "tipos": "robo,homicidio", "sexo": "Z,H", "edad": "99-100", "depto": "99"}
    f = Filters.from_params(hostile, OPTS)
    # robo is not in the selected group: dropped; unknown values: dropped
    assert f == Filters(None, None, ("Violencia letal",), ("homicidio",), ("H",), (), None)


def test_url_swapped_years_are_ordered():
    f = Filters.from_params({"desde": "2020", "hasta": "2014"}, OPTS)
    assert (f.year_from, f.year_to) == (2014, 2020)


def test_describe_in_spanish():
    text = Filters(2016, 2016, crime_types=("homicidio",), sexes=("M",), dept_code="01").describe(OPTS)
    assert text == "2016 · Homicidio doloso · víctimas: mujeres · Guatemala"
    assert Filters().describe(OPTS) == "2013–2022 · todos los delitos · todo el país"


def test_where_selects_the_right_rows(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    opts = filter_options()
    assert (opts.min_year, opts.max_year) == (2020, 2021)
    assert opts.departments == {"01": "Norte", "02": "Sur"}
    cases = [
        (Filters(), 11),                                   # 12 records, one non-counted duplicate
        (Filters(2021, 2021), 8),
        (Filters(crime_groups=("Violencia letal",)), 3),
        (Filters(crime_types=("robo",), sexes=("ND",)), 1),
        (Filters(age_groups=("12-17",)), 1),
        (Filters(dept_code="02"), 3),
    ]
    for f, expected in cases:
        for table in ("cube", "incident"):
            sql, params = f.where(table)
            name = "incident_cube" if table == "cube" else "incident"
            agg = "sum(n)" if table == "cube" else "count(*)"
            assert warehouse.scalar(f"SELECT coalesce({agg}, 0) FROM {name} WHERE {sql}", params) == expected, (f, table)
