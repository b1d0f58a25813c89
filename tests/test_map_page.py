"""The national map page under AppTest: one feature per territory, colours = classes, URL state."""
import json

import pandas as pd
import pytest

from core import classify, fmt, hotspots, priority, rates, trend, warehouse
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import deck_spec, features, metrics, run_app


def fills_by_code(at, layer_id="municipios"):
    return {f["properties"]["code"]: f["properties"]["fill"] for f in features(at, layer_id)}


def expected_fills(values: pd.Series, codes, method="cuantiles", k=3, palette="incidencia"):
    c = classify.classify(values.reset_index(drop=True), method, k, palette)
    return {code: classify.hex_to_rgba(c.color_of(label)) for code, label in zip(codes, c.labels)}


def test_incidence_map_on_the_demo(demo):
    at = run_app(page="mapa")
    assert not at.exception
    assert at.title[0].value == "Mapa nacional"
    munis = rates.by_municipality(Filters())
    assert sorted(fills_by_code(at)) == sorted(warehouse.query(
        "SELECT code FROM territory WHERE level = 'municipio'")["code"])
    assert fills_by_code(at) == expected_fills(munis["rate"], munis["code"])
    spec = deck_spec(at)
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec
    legend = at.dataframe[0].value
    assert list(legend["Clase"]) == ["Baja", "Media", "Alta"] and legend["N.º"].sum() == 340
    table = at.dataframe[1].value
    assert len(table) == 340 and table["Puesto"].iloc[0] == 1
    assert table["Municipio"].iloc[0] == munis.loc[munis["rate"].idxmax(), "name"]


def test_department_level_and_other_classifications(demo):
    at = run_app({"nivel": "departamento", "medida": "eb", "metodo": "jenks", "clases": "5"}, page="mapa")
    assert not at.exception
    depts = rates.by_department(Filters())
    assert len(features(at, "departamentos")) == 22
    assert fills_by_code(at, "departamentos") == expected_fills(depts["rate_eb"], depts["code"], "jenks", 5)
    at.selectbox(key="mapa_metodo").set_value("media_de").run()
    assert fills_by_code(at, "departamentos") == expected_fills(depts["rate_eb"], depts["code"], "media_de", 5)
    assert at.query_params["metodo"] == "media_de" and at.query_params["nivel"] == "departamento"


def test_priority_view_explains_the_selected_municipality(demo):
    at = run_app({"vista": "prioridad", "muni": "0101"}, page="mapa")
    assert not at.exception
    result = priority.priority_index(Filters())
    row = result.table.set_index("code").loc["0101"]
    values = metrics(at)
    assert values["Índice de prioridad (0-100)"] == fmt.decimal(row["index"])
    assert values["Puesto"] == f"{int(row['rank'])} de 340"
    position = next(m for m in at.metric if m.label == "Puesto")
    if row["rank_high"] > row["rank_low"]:
        assert position.help == f"Puesto entre {int(row['rank_low'])} y {int(row['rank_high'])} con otros pesos."
    contributions = next(d.value for d in at.dataframe if "Puntos del índice" in d.value.columns)
    assert contributions["Puntos del índice"].sum() == pytest.approx(row["index"])
    assert len(at.get("vega_lite_chart")) == 1
    t = result.table
    assert fills_by_code(at) == expected_fills(t["index"], t["code"], palette="prioridad")
    assert {"Pesos del índice de prioridad", "Metodología"} <= {e.label for e in at.expander}


def test_weights_in_the_url_change_the_ranking(demo):
    zero = {f"p_{c.key}": "0" for c in priority.components()}
    at = run_app(zero | {"vista": "prioridad", "p_pobreza": "100"}, page="mapa")
    assert not at.exception
    assert at.slider(key="mapa_w_pobreza").value == 100 and at.slider(key="mapa_w_hom").value == 0
    poverty = priority.priority_index(Filters(), {"pobreza": 100}).table
    top = at.dataframe[1].value["Código"].iloc[0]
    assert top == poverty.loc[poverty["rank"] == 1, "code"].iloc[0]
    at.slider(key="mapa_w_pobreza").set_value(0).run()
    at.slider(key="mapa_w_hom").set_value(100).run()
    homicide = priority.priority_index(Filters(), {"hom": 100}).table
    assert at.dataframe[1].value["Código"].iloc[0] == homicide.loc[homicide["rank"] == 1, "code"].iloc[0]
    assert at.query_params["p_hom"] == "100" and "p_pobreza" in at.query_params


def test_vulnerability_view_and_shareable_state(demo):
    at = run_app(page="mapa")
    at.selectbox(key="mapa_vista").set_value("vulnerabilidad").run()
    at.selectbox(key="mapa_indicador").set_value("pobreza").run()
    at.radio(key="mapa_clases").set_value(5).run()
    at.selectbox(key="mapa_muni").set_value("0108").run()
    assert not at.exception
    params = dict(at.query_params)
    assert params == {"vista": "vulnerabilidad", "indicador": "pobreza", "clases": "5", "muni": "0108"}
    values = warehouse.query("SELECT code, value FROM indicator WHERE indicator = 'pobreza' ORDER BY code")
    assert fills_by_code(at) == expected_fills(values["value"], values["code"], k=5, palette="vulnerabilidad")
    again = run_app(params, page="mapa")
    assert again.selectbox(key="mapa_indicador").value == "pobreza" and again.radio(key="mapa_clases").value == 5
    assert fills_by_code(again) == fills_by_code(at)
    assert "Mixco" in again.subheader[0].value


def test_hand_figures_on_the_fixture(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    at = run_app(page="mapa")
    assert not at.exception
    table = at.dataframe[1].value.set_index("Código")
    # all victims 2020-2021 over person-years: Alfa 5 / 200,000; Beta 3 / 100,000; Gamma 3 / 20,000
    assert list(table.loc[["0101", "0102", "0201"], "Tasa por 100,000 hab."]) == pytest.approx([2.5, 3.0, 15.0])
    assert list(table.loc[["0101", "0102", "0201"], "Clase"]) == ["Baja", "Media", "Alta"]
    assert list(table["Puesto"]) == [1, 2, 3]
    at.selectbox(key="mapa_muni").set_value("0201").run()
    assert metrics(at)["Víctimas"] == "3"


@pytest.mark.parametrize("view", [{}, {"nivel": "departamento", "medida": "n"}, {"vista": "vulnerabilidad"},
                                  {"vista": "prioridad", "metodo": "media_de"}, {"vista": "calientes"}])
@pytest.mark.parametrize("filters", [{}, {"grupos": "Violencia sexual", "sexo": "ND", "edad": "ND"},
                                     {"depto": "05", "desde": "2022", "hasta": "2022", "muni": "0501"}])
def test_filter_grid_runs_without_exceptions(demo, view, filters):
    at = run_app(view | filters, page="mapa")
    assert not at.exception
    n = len(deck_spec(at)["layers"][0]["data"]["features"])
    if filters.get("depto"):  # a department chosen in the filters: its municipalities only
        expected = warehouse.scalar("SELECT count(*) FROM territory WHERE level = 'municipio' AND dept_code = '05'")
    else:
        expected = 22 if view.get("nivel") else 340
    assert n == expected


def test_fixed_thresholds_from_the_url_and_what_classes_mean(demo):
    at = run_app({"metodo": "umbrales", "umbrales": "300, 600"}, page="mapa")
    assert not at.exception
    assert at.text_input(key="mapa_umbrales").value == "300, 600"
    legend = at.dataframe[0].value
    assert legend["Rango"].tolist()[:3] == ["hasta 300.0", "más de 300.0 a 600.0", "más de 600.0"]
    assert any("Las clases son absolutas" in c.value for c in at.caption)
    # quantiles say that «Alta» is relative
    at = run_app(page="mapa")
    assert any("Las clases son relativas" in c.value for c in at.caption)
    # thresholds missing or not increasing: the map says so and uses quantiles meanwhile
    at = run_app({"metodo": "umbrales"}, page="mapa")
    assert not at.exception
    assert any("Escriba 2 umbrales crecientes" in w.value for w in at.warning)


def test_hot_spot_view_draws_the_categories_of_the_statistic(demo):
    at = run_app({"vista": "calientes", "tipos": "homicidio"}, page="mapa")
    assert not at.exception
    f = Filters(crime_types=("homicidio",))
    found = hotspots.hotspots(f).table
    expected = {c: classify.hex_to_rgba(hotspots.COLORS[label]) for c, label in zip(found["code"], found["lisa_class"])}
    assert fills_by_code(at) == expected
    legend = at.dataframe[0].value
    assert legend["N.º"].sum() == 340
    assert list(legend["Clase"]) == [c for c in hotspots.ORDER["lisa"] if (found["lisa_class"] == c).any()]
    assert any("I de Moran global" in n.value for n in at.info)
    table = at.dataframe[1].value.set_index("Código")
    hot = found.loc[found["lisa_class"] == "Alto-Alto", "code"].iloc[0]
    assert table.loc[hot, "Categoría"] == "Alto-Alto"
    assert table.loc[hot, "Probabilidad ajustada"] <= hotspots.FDR
    at.selectbox(key="mapa_estadistico").set_value("gi").run()
    assert not at.exception and at.query_params["estadistico"] == "gi"
    gi = {c: classify.hex_to_rgba(hotspots.COLORS[label]) for c, label in zip(found["code"], found["gi_class"])}
    assert fills_by_code(at) == gi
    at.selectbox(key="mapa_muni").set_value(hot).run()
    assert metrics(at)["Categoría"] in ("Punto caliente", "No significativo")


def test_rate_table_has_its_interval_and_the_ranks_it_cannot_be_told_from(demo):
    at = run_app(page="mapa")
    assert not at.exception
    table = at.dataframe[1].value.set_index("Código")
    munis = rates.by_municipality(Filters()).set_index("code")
    assert list(table["IC 95 % inferior"]) == pytest.approx(list(munis.loc[table.index, "rate_lo"]))
    assert list(table["IC 95 % superior"]) == pytest.approx(list(munis.loc[table.index, "rate_hi"]))
    best, worst = rates.overlap_ranks(munis["rate"], munis["rate_lo"], munis["rate_hi"])
    first = table.index[0]
    i = list(munis.index).index(first)
    assert table.loc[first, "Puestos de los que no se distingue (intervalos que se solapan)"] == (
        f"{best[i]} a {worst[i]}" if worst[i] > best[i] else "")
    trends = trend.municipal_trends(Filters()).set_index("code")
    assert list(table["Tendencia del periodo"]) == list(trends.loc[table.index, "verdict"])
    tip = json.loads(at.get("deck_gl_json_chart")[0].proto.tooltip)["html"]
    assert "IC 95 % de la tasa: <b>{interval_label}</b>" in tip
    props = {f["properties"]["code"]: f["properties"] for f in features(at, "municipios")}
    assert props[first]["interval_label"] == rates.interval_text(munis.loc[first, "rate_lo"], munis.loc[first, "rate_hi"],
                                                                 fmt.decimal)
