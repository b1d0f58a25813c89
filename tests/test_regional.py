"""A regional deployment (core/countries.py, core/regional.py): two countries, one warehouse each,
built by `atalaya-load region` from a registry like data/examples/region.toml (the Guatemala demo
and Honduras from the real shared boundaries and population with the example's synthetic
incidents). The regional figures are recomputed by hand from each warehouse's tables, and every
page runs for each country."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from app_pages._pages import PAGES as ALL_PAGES
from core import countries, regional, warehouse
from core.countries import Country, RegistryError
from core.load import cli
from tests.apptest import run_app
from tests.conftest import ROOT, shared_file

EXAMPLE = ROOT / "data" / "examples"


def write_registry(folder: Path, scale: float, seed: int) -> Path:
    """The two-country registry of the example (Guatemala's demo at ``scale``, Honduras' configuration)
    in ``folder``, built by the command the README gives; the Honduras files must be present."""
    for f in ("municipios_sefin.geojson", "departamentos_sefin.geojson", "poblacion_municipal_2020_2025.csv"):
        shared_file(f"honduras/{f}")
    registry = folder / "paises.toml"
    registry.write_text(f'''
[[pais]]
codigo = "GT"
almacen = "gt.duckdb"
demo = {{ escala = {scale}, semilla = {seed} }}

[[pais]]
codigo = "hn"
almacen = "hn.duckdb"
configuracion = "{(EXAMPLE / "honduras.toml").as_posix()}"
''', encoding="utf-8")
    assert cli.main(["region", str(registry)]) == 0
    return registry


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> Path:
    """The two-country registry (the demo at a small scale)."""
    registry = write_registry(tmp_path_factory.mktemp("region"), 0.05, 7)
    assert cli.main(["region", str(registry), "--if-stale"]) == 0  # both current: nothing rebuilt
    return registry


@pytest.fixture()
def deployment(region, monkeypatch):
    monkeypatch.setenv(countries.ENV_VAR, str(region))
    warehouse.close_all()
    yield countries.registered()
    warehouse.close_all()


def hand_rates(path: Path, crime_type: str) -> pd.DataFrame:
    """Victims of one type per year and their rate, from the warehouse's own tables: counted victims
    over the population of the year (every year of these warehouses is complete)."""
    with duckdb.connect(str(path), read_only=True) as con:
        n = con.execute("SELECT year, sum(n)::BIGINT AS n FROM incident_year_cube WHERE counted AND unit = 'victimas' "
                        "AND crime_type = ? GROUP BY year", [crime_type]).df().set_index("year")["n"]
        pop = con.execute("SELECT year, sum(population) AS p FROM population p JOIN territory t ON t.code = p.code "
                          "WHERE t.level = 'municipio' GROUP BY year").df().set_index("year")["p"]
    out = pd.DataFrame({"n": n}).join(pop.rename("population"), how="left")
    out["rate"] = out["n"] / out["population"] * 1e5
    return out


def test_the_registry_lists_each_country_with_its_warehouse(deployment, region):
    assert [c.code for c in deployment] == ["GT", "HN"]  # codes upper-cased, in the file's order
    gt, hn = deployment
    assert gt.path == (region.parent / "gt.duckdb").resolve() and gt.demo_scale == 0.05 and gt.demo_seed == 7
    assert hn.config == (EXAMPLE / "honduras.toml").resolve()
    assert [countries.name(c) for c in deployment] == ["Guatemala", "Honduras"]
    assert countries.chosen({"pais": "hn"}) == hn and countries.chosen({}) == gt and countries.chosen({"pais": "XX"}) == gt
    with warehouse.using(hn.path):
        assert warehouse.meta()["country"] == "HN"
    assert warehouse.warehouse_path() != hn.path  # outside the block: the environment's warehouse again


@pytest.mark.parametrize("text,message", [
    ("", "falta la lista de países"),
    ("[[pais]]\ncodigo = 'Guatemala'\nalmacen = 'a.duckdb'", "no es un código de país de dos letras"),
    ("[[pais]]\ncodigo = 'GT'\nalmacen = 'a.duckdb'\n[[pais]]\ncodigo = 'gt'\nalmacen = 'b.duckdb'", "aparece dos veces"),
    ("[[pais]]\ncodigo = 'GT'", "falta almacen"),
    ("[[pais]]\ncodigo = 'GT'\nalmacen = 'a.duckdb'\n\"almacén\" = 'b'", "claves desconocidas almacén"),
    ("[[pais]]\ncodigo = 'GT'\nalmacen = 'a.duckdb'\ndemo = { escala = -1 }", "demo debe ser"),
    ("[[pais]]\ncodigo = 'GT'\nalmacen = 'a.duckdb'\ndemo = {}\nconfiguracion = 'x.toml'", "no van juntos"),
    ("[[pais]\ncodigo = 'GT'", "no es un TOML válido"),
])
def test_a_wrong_registry_names_the_file_the_entry_and_what_was_expected(tmp_path, text, message):
    path = tmp_path / "paises.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=message) as info:
        countries.read(path)
    assert str(path) in str(info.value)
    with pytest.raises(RegistryError, match="no existe el archivo de países"):
        countries.read(tmp_path / "otro.toml")
    assert cli.main(["region", str(path)]) == 2


def test_only_crimes_every_country_records_are_compared(deployment):
    table = regional.catalogue(deployment)
    with warehouse.using(deployment[1].path):  # Honduras maps five of its crime names to the catalogue
        hn_types = set(warehouse.query("SELECT DISTINCT crime_type FROM incident_year_cube WHERE counted")["crime_type"])
    assert hn_types == {"homicidio", "robo", "violencia_intrafamiliar", "violacion", "extorsion"}
    assert set(table.loc[table["comparable"], "code"]) == hn_types  # the Guatemala demo has every type
    assert not table.set_index("code").loc["femicidio", "HN"] and table.set_index("code").loc["femicidio", "GT"]
    assert table.set_index("code").loc["homicidio", "iccs_code"] == "0101"


def test_regional_rates_are_each_countrys_own_computed_by_hand(deployment):
    got = regional.yearly_rates(deployment, "homicidio")
    for country in deployment:
        mine = got[got["country"] == country.code].set_index("year")
        hand = hand_rates(country.path, "homicidio")
        assert list(mine.index) == list(hand.index)
        assert mine["n"].astype(int).tolist() == hand["n"].tolist()
        np.testing.assert_allclose(mine["population"].astype(float), hand["population"], rtol=1e-9)
        np.testing.assert_allclose(mine["rate"].astype(float), hand["rate"], rtol=1e-9)
        assert (mine["rate_lo"] <= mine["rate"]).all() and (mine["rate"] <= mine["rate_hi"]).all()
    assert set(got["country_name"]) == {"Guatemala", "Honduras"}
    assert regional.common_years(deployment) == (2020, 2022)  # Honduras 2020-2022 inside Guatemala's 2013-2022


def test_department_maps_share_one_scale(deployment):
    maps, classes = regional.department_maps(deployment, "homicidio", (2020, 2022))
    assert [m.country.code for m in maps] == ["GT", "HN"]
    assert [len(m.table) for m in maps] == [22, 18]
    assert [len(m.collection["features"]) for m in maps] == [22, 18]
    both = pd.concat([m.table for m in maps])
    # one scale: every department of the higher class has a higher rate than every one of a lower class
    legend = list(classes.legend["label"])
    order = {label: i for i, label in enumerate(legend)}
    ranked = both.dropna(subset=["value"]).assign(rank=lambda d: d["class"].map(order))
    for lower, upper in zip(legend, legend[1:]):
        assert ranked.loc[ranked["class"] == lower, "value"].max() <= ranked.loc[ranked["class"] == upper, "value"].min()
    assert classes.legend["count"].sum() == len(both)
    # Honduras' departments by hand: 2020-2022 homicides over the three years' population
    hn = maps[1].table.set_index("code")
    with duckdb.connect(str(deployment[1].path), read_only=True) as con:
        n = con.execute("SELECT dept_code, sum(n) FROM incident_year_cube WHERE counted AND crime_type = 'homicidio' "
                        "AND year BETWEEN 2020 AND 2022 GROUP BY 1").fetchall()
    for dept, count in n:
        assert int(hn.loc[dept, "n"]) == count


def test_coverage_says_what_each_countrys_figures_stand_on(deployment):
    gt, hn = (regional.coverage(c) for c in deployment)
    assert (hn.name, hn.first, hn.last) == ("Honduras", "01/2020", "12/2022")
    assert "Dirección de Medicina Forense (Ministerio Público)" in hn.institutions
    assert "Homicidio doloso: cuenta la fuente de referencia" in hn.counting_rule
    assert hn.synthetic and gt.synthetic
    assert "proyecciones" in hn.population_source.lower()


def test_every_page_runs_for_each_country_and_the_region_page_shows_both(deployment):
    pages = [stem for stem, _, _ in ALL_PAGES]
    for country in ("GT", "HN"):
        for page in pages:
            at = run_app({"pais": country}, page=page)
            assert not at.exception, (country, page, [e.message for e in at.exception])
        at = run_app({"pais": country})
        assert at.selectbox(key=f"pais_{country}").value == country
        assert any(country_name in c.value for c in at.caption for country_name in ("Guatemala", "Honduras"))
    at = run_app({"pais": "HN"}, page="region")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["País"]) == {"Guatemala", "Honduras"}
    assert len(at.get("deck_gl_json_chart")) == 2  # one map per country


def test_a_country_alone_has_no_region_page(use_warehouse, demo_path):
    use_warehouse(demo_path)
    at = run_app()
    assert not at.exception
    assert all("pais_" not in str(s.key) for s in at.selectbox)
    assert Country("GT", demo_path) not in countries.registered()
