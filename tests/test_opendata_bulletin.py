"""Open data downloads and the bulletin, checked against the fixture warehouse."""
import io
import json
import re

import pandas as pd
import pytest

from core import bulletin, disclosure, opendata
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import run_app


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_aggregates_add_up_and_are_documented(fixture):
    mm = opendata.municipality_month(Filters())
    assert mm["victimas"].sum() == 11 and len(mm) == opendata.municipality_month_rows(Filters())
    alfa_2021 = mm[(mm["codigo_municipio"] == "0101") & (mm["mes"].astype(str).str.startswith("2021"))]
    assert alfa_2021["victimas"].sum() == 3
    dy = opendata.department_year(Filters()).set_index(["codigo_departamento", "anio"])
    assert dy.loc[("01", 2020), "victimas"] == 3 and dy.loc[("01", 2020), "personas_anio"] == pytest.approx(150_000)
    assert dy.loc[("02", 2021), "tasa_100k"] == pytest.approx(3 / 10_000 * 1e5)
    for name, frame in (("municipio_mes", mm), ("departamento_anio", dy.reset_index())):
        assert set(frame.columns) == set(opendata.dictionary(name)["campo"])
    back = pd.read_parquet(io.BytesIO(opendata.parquet_bytes(mm)))
    assert back["victimas"].sum() == 11 and list(back.columns) == list(mm.columns)


def test_boundaries_need_full_geometries(fixture):
    gj = json.loads(opendata.boundaries_geojson(Filters()))
    assert gj == {"type": "FeatureCollection", "features": []}  # the fixture stores no full-resolution geometry


def test_boundaries_geojson_on_the_demo(demo):
    gj = json.loads(opendata.boundaries_geojson(Filters(2022, 2022)))
    assert len(gj["features"]) == 340
    props = gj["features"][0]["properties"]
    fields = set(opendata.dictionary("limites_municipales")["campo"])
    assert set(props) == fields
    assert gj["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_bulletin_for_the_country_and_a_municipality(fixture):
    doc = bulletin.render(Filters())
    assert doc.startswith("<!doctype html>") and "</html>" in doc
    assert "Fixturia" in doc and "<svg" in doc and "<script" not in doc
    assert ">11<" in doc                               # victims 2020-2021
    assert "3.4" in doc                                # 11 / 320,000 x 100,000
    assert "Gamma" in doc and "Mayores aumentos 2021 frente a 2020" in doc
    assert "Alertas tempranas (12/2021)" in doc and "Sin alertas" in doc  # December 2021: no count reaches 5
    assert "Unidad de conteo" in doc and "Forense" in doc
    muni = bulletin.render(Filters(), "0101")
    assert "Alfa (depto. de Norte)" in muni and ">5<" in muni and "Homicidio doloso" in muni
    assert "<b>2.5</b>" in muni
    tricky = bulletin.render(Filters(crime_types=("robo",)))
    assert "Robo con violencia" in tricky


def test_pages(fixture):
    at = run_app(page="datos_abiertos")
    assert not at.exception
    assert any(c.value.startswith(f"{opendata.municipality_month_rows(Filters())} filas") for c in at.caption)
    assert at.dataframe[0].value["victimas"].sum() == 11
    at = run_app({"muni": "0101"}, page="boletin")
    assert not at.exception and at.selectbox(key="bol_muni").value == "0101"
    assert [b.proto.label for b in at.get("download_button")] == ["Descargar el boletín (PDF)", "Descargar el boletín (HTML)"]
    monthly = run_app({"muni": "0101", "mes": "2021-12"}, page="boletin")
    assert not monthly.exception and monthly.selectbox(key="bol_mes").value == "2021-12"
    assert monthly.selectbox(key="bol_mes").options[:2] == ["Del periodo 2020–2021", "Mensual: diciembre de 2021"]


def test_bulletin_states_each_rule_once_and_aligns_numbers(fixture, public_mode):
    doc = bulletin.render(Filters(), None)
    assert doc.count("Protección de las víctimas") == 1
    assert doc.count("<dd>") >= len(disclosure.notes()) + 1
    # every numeric column is right-aligned, its header too
    for table in re.findall(r"<table>.*?</table>", doc, flags=re.S):
        heads = re.findall(r"<th( class='n')?>", table)
        first_row = re.search(r"<tbody><tr>(.*?)</tr>", table, flags=re.S)
        if first_row:
            cells = re.findall(r"<td( class='n')?>", first_row.group(1))
            assert [bool(h) for h in heads] == [bool(c) for c in cells]


def test_open_data_rates_carry_their_exact_interval(fixture):
    from scipy.stats import chi2

    table = opendata.department_year(Filters())
    for row in table.itertuples():
        n, p = row.victimas, row.personas_anio
        assert row.tasa_ic95_inferior == pytest.approx(chi2.ppf(0.025, 2 * n) / 2 / p * 1e5 if n else 0.0)
        assert row.tasa_ic95_superior == pytest.approx(chi2.ppf(0.975, 2 * n + 2) / 2 / p * 1e5)
    documented = {(d, field) for d, field, *_ in opendata.DICTIONARY}
    assert ("departamento_anio", "tasa_ic95_inferior") in documented
    assert ("limites_municipales", "tasa_ic95_superior") in documented
