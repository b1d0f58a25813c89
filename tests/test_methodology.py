"""The definitions and reference tables of «Metodología y definiciones» (core/methodology.py)."""
import pytest

from core import cellkey, fmt, methodology, rates, warehouse
from tests import fixture_warehouse


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_definitions_start_with_the_unit_and_hold_every_rate_definition():
    defs = methodology.definitions()
    assert next(iter(defs)) == "Unidad de conteo"
    assert set(rates.DEFINITIONS) <= set(defs) and rates.RATE_NAME in defs
    assert all(isinstance(text, str) and len(text) > 40 for text in defs.values())


def test_adjustment_table_is_the_noise_of_the_cell_key_method():
    table = methodology.adjustment_table().set_index("Cifra exacta")
    assert list(table.index) == ["1", "2", "3", "4 o más"]
    assert list(table.columns) == ["-3", "-2", "-1", "0", "+1", "+2", "+3"]
    assert table.sum(axis=1).tolist() == pytest.approx([100.0] * 4, abs=0.2)  # rounded to 0.1 %
    # a count that is not zero never becomes zero (nor negative)
    assert (table.loc["1", ["-3", "-2", "-1"]] == 0).all() and (table.loc["2", ["-3", "-2"]] == 0).all()
    assert table.loc["3", "-3"] == 0
    for n, label in ((1, "1"), (4, "4 o más")):
        assert table.loc[label, "0"] == pytest.approx(round(100 * cellkey.noise_distribution(n).get(0, 0.0), 1))


def test_denominators_say_where_the_population_comes_from(fixture):
    got = methodology.denominators()
    lo, hi, munis = warehouse.query("""
        SELECT min(p.year), max(p.year), count(DISTINCT p.code)
        FROM population p JOIN territory t ON t.code = p.code AND t.level = 'municipio'
    """).iloc[0]
    assert got["Años"] == f"{int(lo)}–{int(hi)}"
    assert got["Municipios con población"] == fmt.integer(int(munis))
    by_sex, by_age = rates.population_split()
    assert got["Desagregación"] == ("por sexo y grupo de edad" if by_sex and by_age else "por sexo" if by_sex
                                    else "por grupo de edad" if by_age else "total (sin desagregación por sexo ni edad)")


def test_crime_catalogue_lists_every_crime_type(fixture):
    catalogue = methodology.crime_catalogue()
    assert sorted(catalogue["code"]) == sorted(warehouse.query("SELECT code FROM crime_type")["code"])
    assert catalogue["sensitive"].dtype == bool
    assert catalogue["iccs_code"].is_monotonic_increasing
