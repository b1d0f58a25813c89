"""The municipal drilldown: figures by hand on the fixture, and the page under AppTest."""
import math

import pytest

from core import municipality
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import deck_spec, metrics, run_app


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_profile_by_hand(fixture):
    p = municipality.profile(Filters(), "0101")
    # Alfa 2020-2021: forensic homicides 2020 and 2021, robbery 2020, two cases of violence against women 2021
    assert (p.count, p.population, p.rate) == (5, pytest.approx(200_000), pytest.approx(2.5))
    assert p.national_rate == pytest.approx(11 / 320_000 * 1e5)
    assert p.department_rate == pytest.approx(8 / 300_000 * 1e5)
    assert (p.rank_national, p.n_national) == (3, 3)        # rates 2.5 < 3.0 (Beta) < 15.0 (Gamma)
    assert (p.rank_department, p.n_department) == (2, 2)
    assert p.previous_label is None and p.change_pct is None  # 2018-2019 is not in the data
    one_year = municipality.profile(Filters(2021, 2021), "0101")
    assert (one_year.count, one_year.previous_label, one_year.previous_count) == (3, "2020", 2)
    assert one_year.change_pct == pytest.approx(50.0)
    # the department filter does not hide a municipality of another department
    assert municipality.profile(Filters(dept_code="02"), "0101").count == 5
    with pytest.raises(KeyError):
        municipality.profile(Filters(), "9999")


def test_breakdowns_by_hand(fixture):
    f = Filters()
    types = municipality.by_crime_type(f, "0101").set_index("crime_type")
    assert types["n"].to_dict() == {"homicidio": 2, "violencia_mujer": 2, "robo": 1}
    assert types.loc["homicidio", "iccs_code"] == "0101" and types["share"].sum() == pytest.approx(100)
    pyr = municipality.pyramid(f, "0101").set_index(["age_group", "victim_sex"])["n"]
    assert (pyr[("18-29", "H")], pyr[("18-29", "M")], pyr[("30-44", "M")]) == (1, 2, 2)
    assert pyr.sum() == 5 and len(pyr) == 7 * 3
    wh = municipality.weekday_hour(f, "0101")
    assert {(r.day, r.hour): r.n for r in wh.itertuples()} == {
        ("Domingo", 12): 1, ("Lunes", 12): 1, ("Miércoles", 12): 2, ("Jueves", 12): 1}
    src = municipality.by_source(f, "0101").set_index("source")
    assert (src.loc["pnc", "records"], src.loc["pnc", "counted"]) == (4, 3)  # one duplicate of INACIF
    assert municipality.by_weapon(f, "0101")["n"].sum() == 5


def test_trends_by_hand(fixture):
    m = municipality.monthly(Filters(), "0101")
    assert len(m) == 24 and m["n"].sum() == 5 and m["reference"].isna().all()  # no 3 earlier years
    y = municipality.yearly(Filters(), "0101")
    assert list(y["n"]) == [2, 3] and list(y["rate"]) == pytest.approx([2.0, 3.0])


def test_aldeas_and_cells_by_hand(fixture):
    table, note = municipality.aldeas(Filters(), "0101")
    rows = {r["code"]: r for r in table.to_dict("records")}
    assert rows["010101"]["n"] == 2 and rows["010101"]["Violencia letal"] == 2
    assert rows["010101"]["rate"] == pytest.approx(2 / 120_000 * 1e5)
    assert rows["010102"]["n"] == 2 and rows["010102"]["rate"] == pytest.approx(2.5)
    assert rows[None]["name"] == "Sin aldea registrada" and rows[None]["n"] == 1
    assert table["n"].sum() == 5 and note is None
    _, note = municipality.aldeas(Filters(sexes=("M",)), "0101")
    assert "no está desagregada" in note
    cells = municipality.incident_cells(Filters(), "0101")
    assert [(round(r.lon, 4), round(r.lat, 4), r.n) for r in cells.itertuples()] == [(0.5025, 0.5025, 2), (0.9025, 0.9025, 1)]
    empty, _ = municipality.aldeas(Filters(), "0201")
    assert empty.empty or (empty["code"].isna().all())


def test_peers(fixture):
    peers = municipality.peers(Filters(), "0101")
    assert list(peers["code"]) == ["0101", "0102"] and list(peers["is_self"]) == [True, False]


def test_page_with_aldeas_on_the_fixture(fixture):
    at = run_app({"muni": "0101"}, page="municipio")
    assert not at.exception
    values = metrics(at)
    assert values["Víctimas registradas"] == "5" and values["Tasa anual por 100,000 hab."] == "2.5"
    assert values["Puesto nacional (por tasa)"] == "3 de 3" and values["Tasa nacional"] == "3.4"
    spec = deck_spec(at)
    assert [f["properties"]["code"] for f in spec["layers"][0]["data"]["features"]] == ["010101", "010102"]
    cells = spec["layers"][1]
    assert cells["id"] == "celdas" and sorted(d["n"] for d in cells["data"]) == [1, 2]  # aggregated, not records
    assert at.query_params["muni"] == "0101"
    # every table downloads as CSV and Excel: evolution, types, sex x age, day x hour, weapon, source, aldeas, peers
    assert len(at.get("download_button")) == 16


def test_page_without_aldeas_and_with_zero_victims(fixture):
    at = run_app({"muni": "0201", "grupos": "Drogas"}, page="municipio")
    assert not at.exception
    assert metrics(at)["Víctimas registradas"] == "0"
    assert any("no tiene aldeas" in i.value for i in at.info)
    assert any("No hay víctimas" in i.value for i in at.info)
    at.radio(key="muni_serie").set_value("anual").run()
    assert not at.exception


def test_page_on_the_demo_follows_the_map_selection(demo):
    at = run_app(page="mapa")
    at.selectbox(key="mapa_muni").set_value("0108").run()
    links = at.get("page_link")
    assert links and links[0].proto.page == "municipio"
    at.switch_page("app_pages/municipio.py").run()
    assert not at.exception
    assert at.selectbox(key="muni_sel").value == "0108"
    p = municipality.profile(Filters(), "0108")
    assert metrics(at)["Víctimas registradas"] == f"{p.count:,}"
    at.radio(key="muni_aldea_medida").set_value("tasa").run()
    at.radio(key="muni_serie").set_value("anual").run()
    assert not at.exception
    assert math.isclose(deck_spec(at)["initialViewState"]["longitude"], -90.6, abs_tol=0.2)


def test_page_states_the_interval_the_indistinct_ranks_and_the_cluster(demo):
    from core import fmt, hotspots, rates

    at = run_app({"muni": "0101"}, page="municipio")
    assert not at.exception
    p = municipality.profile(Filters(), "0101")
    assert p.rate_lo < p.rate < p.rate_hi
    lower, upper = rates.rate_interval([p.count], [p.population])
    assert (p.rate_lo, p.rate_hi) == pytest.approx((lower[0], upper[0]))
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"IC 95 % de la tasa: {fmt.decimal(p.rate_lo)} a {fmt.decimal(p.rate_hi)} por 100,000 hab.")
               for c in captions)
    assert p.national_band[0] <= p.rank_national <= p.national_band[1]
    row = hotspots.hotspots(Filters()).table.set_index("code").loc["0101"]
    status = next(m.value for m in at.markdown if m.value.startswith("**Puntos calientes**"))
    assert f"Moran local: **{row['lisa_class']}**" in status or row["lisa_class"] == hotspots.NOT_SIGNIFICANT
    assert f"{int(row['neighbours'])} vecinos" in status
