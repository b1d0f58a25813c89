"""School prioritisation: distances at the edges of each radius, score and ranking by hand, the page."""
import math

import duckdb
import pandas as pd
import pytest

from core import schools
from core.filters import Filters
from core.load import catalog
from core.load.exposure import EARTH_RADIUS_M, build_school_exposure
from core.load.publish import insert_frame
from core.warehouse import create_schema
from tests import fixture_warehouse
from tests.apptest import metrics, run_app

LON0, LAT0 = -90.5, 14.6


def north(metres):
    return LON0, LAT0 + math.degrees(metres / EARTH_RADIUS_M)


def east(metres):  # along the parallel: the great-circle distance is a hair shorter than this
    return LON0 + math.degrees(metres / (EARTH_RADIUS_M * math.cos(math.radians(LAT0)))), LAT0


def test_counts_at_99_and_101_metres():
    placed = [  # (position, crime type, victim age)
        (north(99), "robo", 15), (north(101), "robo", 10), (east(99), "narcomenudeo", None),
        (east(101), "lesiones", 19), (north(499), "violacion", 9), (north(501), "violacion", 20),
        (north(999), "hurto", 12), (north(1001), "hurto", 12), ((LON0 + 0.5, LAT0), "robo", 15),
    ]
    con = duckdb.connect()
    create_schema(con)
    insert_frame(con, "crime_type", catalog.crime_types())
    insert_frame(con, "school", pd.DataFrame([("S", "Escuela", "0101", None, LON0, LAT0, "Primaria", "Oficial", 100)],
                                             columns=["school_code", "name", "muni_code", "aldea_code", "lon", "lat",
                                                      "level", "sector", "enrollment"]))
    incidents = pd.DataFrame({
        "incident_id": range(len(placed)), "source": "pnc", "source_record_id": None,
        "occurred_on": pd.Timestamp("2021-05-01").date(), "occurred_hour": None, "dept_code": "01", "muni_code": "0101",
        "aldea_code": None, "lon": [p[0][0] for p in placed], "lat": [p[0][1] for p in placed],
        "crime_type": [p[1] for p in placed], "victim_sex": "H", "victim_age": [p[2] for p in placed],
        "age_group": "ND", "weapon": "Sin dato", "counted": True})
    insert_frame(con, "incident", incidents)
    assert build_school_exposure(con) > 0
    got = con.execute("SELECT radius_m, sum(victims), sum(victims_10_19) FROM school_exposure GROUP BY 1 ORDER BY 1").fetchall()
    assert got == [(100, 2, 1), (500, 5, 3), (1000, 7, 4)]
    drugs = con.execute("SELECT victims FROM school_exposure WHERE crime_group = 'Drogas' AND radius_m = 100").fetchall()
    assert drugs == [(1,)]


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_score_and_ranking_by_hand(fixture):
    r = schools.risk(Filters())
    t = r.table.set_index("school_code")
    assert list(t["v100"]) == [2, 1, 0] and list(t["pat500"]) == [0, 1, 0] and list(t["jov500"]) == [0, 0, 0]
    assert list(t["v100_p"]) == [1.0, 0.5, 0.0]
    # the two aldea rates (2 / 120,000 and 2 / 80,000) differ by less than chance: Empirical Bayes
    # shrinks both to the common rate 4 / 200,000, so the aldea component does not separate them
    assert t.loc["E1", "aldea"] == pytest.approx(2.0) and t.loc["E2", "aldea"] == pytest.approx(2.0)
    assert math.isnan(t.loc["E3", "aldea"]) and t.loc["E1", "aldea_p"] == 0 and t.loc["E2", "aldea_p"] == 0
    # E1: near-victim components (10 + 10 + 5) x 1;  E2: 0.5 x 25 + patrimonio 5;  E3: (muni 5 + vuln 15) / 90
    assert list(t["score"]) == pytest.approx([25.0, 17.5, 100 * 20 / 90])
    assert list(t["rank"]) == [1, 3, 2]
    assert list(t["factors"]) == [3, 1, 2]
    pts = t[[f"{k}_pts" for k in schools.KEYS]].sum(axis=1)
    assert list(pts) == pytest.approx(list(t["score"]))
    assert r.notes and "sin tasa de aldea" in r.notes[0]


def test_weights_and_scope(fixture):
    def top(**w):
        return schools.risk(Filters(), weights=dict.fromkeys(schools.KEYS, 0) | w).table.sort_values("rank")["school_code"].iloc[0]
    assert top(v100=1) == "E1"
    assert top(pat500=1) == "E2"
    assert top(vuln=1) == "E3"
    assert list(schools.risk(Filters(), levels=["Básico"]).table["school_code"]) == ["E2"]
    assert list(schools.risk(Filters(dept_code="02")).table["school_code"]) == ["E3"]
    assert list(schools.risk(Filters(), muni_code="0101", sectors=["Oficial"]).table["school_code"]) == ["E1"]
    # the period applies: in 2020 only the first homicide is near E1
    assert schools.risk(Filters(2020, 2020)).table.set_index("school_code").loc["E1", "v100"] == 1
    with pytest.raises(ValueError):
        schools.risk(Filters(), weights=dict.fromkeys(schools.KEYS, 0))


def test_page_on_the_fixture(fixture):
    at = run_app(page="escuelas")
    assert not at.exception
    assert metrics(at)["Centros en la selección"] == "3"
    top = next(d.value for d in at.dataframe if "Código" in d.value.columns)
    assert list(top["Código"]) == ["E1", "E3", "E2"]
    at.selectbox(key="esc_sel").set_value("E1").run()
    explain = next(d.value for d in at.dataframe if "Componente" in d.value.columns)
    assert explain["Puntos"].sum() == pytest.approx(25.0)
    assert explain.set_index("Componente").loc["Víctimas a menos de 100 m", "Factor de riesgo"]
    assert at.query_params["escuela"] == "E1"


def test_page_on_the_demo_with_filters(demo):
    at = run_app({"niveles": "Básico,Diversificado", "sectores": "Oficial", "top": "10"}, page="escuelas")
    assert not at.exception
    assert at.multiselect(key="esc_niveles").value == ["Básico", "Diversificado"]
    expected = schools.risk(Filters(), levels=["Básico", "Diversificado"], sectors=["Oficial"]).table
    assert metrics(at)["Centros en la selección"] == f"{len(expected):,}"
    top = next(d.value for d in at.dataframe if "Código" in d.value.columns)
    assert len(top) == 10 and set(top["Nivel"]) <= {"Básico", "Diversificado"} and top["Puntaje"].is_monotonic_decreasing
    deck = at.get("deck_gl_json_chart")[0].proto.json
    assert '"id":"escuelas"' in deck and '"id":"municipios"' in deck
    at.slider(key="esc_w_v100").set_value(100).run()
    at.selectbox(key="esc_muni").set_value("0101").run()
    assert not at.exception and at.query_params["p_v100"] == "100" and at.query_params["muni"] == "0101"
