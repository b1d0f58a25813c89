"""Violencia contra las mujeres: the crimes the catalogue marks, women victims, rates per 100,000
women (checked by hand on the fixture), the public mode, and the sidebar's selections."""
from __future__ import annotations

import pandas as pd
import pytest

from core import priority, rates, vaw
from core.filters import Filters
from core.load import catalog
from tests import fixture_warehouse
from tests.apptest import run_app


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_crimes_are_those_the_catalogue_marks(fixture):
    crimes = catalog.crime_types()
    assert vaw.types() == tuple(crimes.loc[crimes["vaw"], "code"])
    assert set(vaw.types()) == {"femicidio", "violacion", "agresion_sexual", "violencia_intrafamiliar", "violencia_mujer"}
    # the priority index's component counts the same crimes, for women
    table, _ = priority.component_values(Filters().resolved(rates.filter_options()))
    assert dict(zip(table["code"], table["vcm_n"])) == {"0101": 2, "0102": 0, "0201": 1}


def test_page_figures_by_hand(fixture):
    """3 women victims of violence against women in 2021 (Alfa 2, Gamma 1); women: half of 160,000
    inhabitants, over 2 years = 160,000 person-years: 1.875 per 100,000 women a year."""
    at = run_app(page="mujeres")
    assert not at.exception
    shown = metrics(at)
    assert shown["Mujeres víctimas registradas"] == "3"
    assert shown["Tasa anual por 100,000 mujeres"] == "1.9"
    by_crime = at.dataframe[0].value
    row = by_crime[by_crime["Tipo de delito"] == "Violencia contra la mujer"].iloc[0]
    assert row["Víctimas"] == 3 and row["Personas-año"] == pytest.approx(160_000)
    assert row["Tasa por 100,000 mujeres"] == pytest.approx(1.875)
    top = at.dataframe[-1].value.set_index("Municipio")
    assert top.loc["Alfa", "Mujeres víctimas"] == 2 and top.loc["Alfa", "Tasa por 100,000 mujeres"] == pytest.approx(2.0)
    assert top.loc["Gamma", "Mujeres víctimas"] == 1 and top.loc["Gamma", "Tasa por 100,000 mujeres"] == pytest.approx(10.0)
    assert list(top["Puesto"]) == list(range(1, len(top) + 1))
    assert any("relación entre la víctima y el agresor" in i.value for i in at.info)
    texts = " ".join([*(c.value for c in at.caption), *(m.value for m in at.markdown)])
    assert "None" not in texts and "nan" not in texts.split()


def test_public_mode_reserves_the_small_counts(fixture, public_mode):
    at = run_app(page="mujeres")
    assert not at.exception
    shown = metrics(at)
    assert shown["Mujeres víctimas registradas"] == "<5" and shown["Tasa anual por 100,000 mujeres"] == "—"
    for table in at.dataframe[:-1]:
        counts = table.value.get("Víctimas")
        if counts is not None:
            assert not any(isinstance(v, (int, float)) and 0 < v < 5 for v in counts), counts.tolist()
    assert any("Ningún municipio tiene una tasa que se pueda mostrar" in i.value for i in at.info)
    assert any("no entran en el orden" in c.value for c in at.caption)


def test_sidebar_selections_narrow_or_do_not_apply(fixture):
    s = vaw.scope(Filters(crime_types=("violacion", "robo"), sexes=("H",)))
    assert s.filters.crime_types == ("violacion",) and s.filters.sexes == ("M",)
    assert s.ignored == "En esta página no se aplica el filtro de sexo (aquí se cuentan mujeres)."
    s = vaw.scope(Filters(crime_groups=("Delitos contra el patrimonio",)))
    assert s.filters.crime_types == vaw.types() and s.filters.crime_groups == ()
    assert "la selección de delitos (no incluye ninguno de estos)" in s.ignored
    at = run_app({"grupos": "Delitos contra el patrimonio"}, page="mujeres")
    assert any("no incluye ninguno de estos" in i.value for i in at.info)


def test_rate_label_names_its_population(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "split.duckdb"))
    assert rates.rate_label(Filters(sexes=("M",))) == "Tasa por 100,000 mujeres"
    assert rates.rate_label(Filters(sexes=("H",))) == "Tasa por 100,000 hombres"
    assert rates.rate_label(Filters(sexes=("H", "M"))) == rates.RATE_LABEL
    use_warehouse(fixture_warehouse.build(tmp_path / "total.duckdb", split_population=False))
    # without a population by sex the denominator is everyone: the label says so
    assert rates.rate_label(Filters(sexes=("M",))) == rates.RATE_LABEL
    assert isinstance(vaw.by_crime(Filters(sexes=("M",)).resolved(rates.filter_options())).data, pd.DataFrame)
