"""Early warning: alerts fire where the latest months are improbably high, and only there."""
import json
import math

import pyarrow as pa
import pytest
from scipy.stats import poisson

from core import alerts
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import metrics, run_app


def robberies(muni, year, month, n):
    return [("pnc", f"{year}-{month:02d}-10", muni, "robo", "H", 30, True)] * n


# Alfa: 2 robberies every December 2018-2020, then 12 in December 2021 -> alert.
# Beta: 10 every December, then 12 -> ordinary.  Gamma: none before, 4 in December 2021 -> below the minimum.
# Alfa also: 3 thefts in Oct-Dec of each baseline year and 4 in Oct-Dec 2021 -> ordinary (three-month window).
HISTORY = (
    [r for y in (2018, 2019, 2020) for r in robberies("0101", y, 12, 2)] + robberies("0101", 2021, 12, 12)
    + [r for y in (2018, 2019, 2020) for r in robberies("0102", y, 12, 10)] + robberies("0102", 2021, 12, 12)
    + robberies("0201", 2021, 12, 4)
    + [("pnc", f"{y}-{m:02d}-05", "0101", "hurto", "M", 40, True) for y in (2018, 2019, 2020, 2021) for m in (10, 11, 12)]
    + [("pnc", "2021-11-05", "0101", "hurto", "M", 40, True)]
)


@pytest.fixture()
def history(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "a.duckdb", incidents=HISTORY, period_start="2018-01-01"))


def pick(result, code, group, window):
    t = result.table
    return t[(t["code"] == code) & (t["crime_group"] == group) & (t["window"] == window)].iloc[0]


def test_alert_fires_only_where_it_must(history):
    r = alerts.scan(Filters())
    assert str(r.latest_month) == "2021-12-01" and r.baseline_years == (2018, 2019, 2020) and r.note is None
    alfa = pick(r, "0101", "Delitos contra el patrimonio", "mes")
    # 12 robberies + 1 theft (hurto) in December 2021 against 2 + 1 expected
    assert (alfa["observed"], alfa["expected"]) == (13, 3.0)
    assert alfa["p_value"] == pytest.approx(poisson.sf(12, 3.0)) and alfa["alert"]
    assert alfa["z"] == pytest.approx((13 - 3) / math.sqrt(3))
    beta = pick(r, "0102", "Delitos contra el patrimonio", "mes")
    assert (beta["observed"], beta["expected"]) == (12, 10.0) and not beta["alert"]
    gamma = pick(r, "0201", "Delitos contra el patrimonio", "mes")
    assert gamma["expected"] == 0 and gamma["p_value"] == 0 and not gamma["alert"]  # 4 < minimum of 5
    assert alerts.scan(Filters(), min_count=4).table.pipe(
        lambda t: t[(t["code"] == "0201") & (t["window"] == "mes")]["alert"].any())
    quarter = pick(r, "0101", "Delitos contra el patrimonio", "trimestre")
    assert (quarter["observed"], quarter["expected"]) == (12 + 4, 2 + 3.0)
    assert r.table.iloc[0]["alert"] and r.table["alert"].sum() == 2  # Alfa: month and quarter


def test_threshold_filters_and_short_history(history):
    strict = alerts.scan(Filters(), threshold=1e-9)
    assert not strict.table["alert"].any()
    only_theft = alerts.scan(Filters(crime_types=("hurto",)))
    assert set(only_theft.table["crime_group"]) == {"Delitos contra el patrimonio"}
    assert not only_theft.table["alert"].any()
    r2019 = alerts.scan(Filters(2018, 2019))
    assert str(r2019.latest_month) == "2019-12-01" and r2019.baseline_years == (2018,) and "Solo hay 1" in r2019.note
    assert alerts.history(Filters(), "0101", "Delitos contra el patrimonio")["n"].iloc[-1] == 13


def test_alerts_page(history):
    at = run_app(page="alertas")
    assert not at.exception
    assert metrics(at)["Alertas"] == "2"
    assert list(at.dataframe[0].value["Municipio"]) == ["Alfa", "Alfa"]
    assert len(at.get("vega_lite_chart")) == 1
    at.slider(key="al_minimo").set_value(4).run()
    assert metrics(at)["Alertas"] == "4" and at.query_params["minimo"] == "4"  # Gamma: month and quarter
    at.selectbox(key="al_umbral").set_value(0.001).run()
    assert not at.exception


def test_a_zero_expected_count_is_explained_not_shown_as_a_rounded_zero(history):
    r = alerts.scan(Filters(), min_count=4)
    t = r.table[(r.table["crime_group"] == "Delitos contra el patrimonio") & (r.table["window"] == "mes")]
    gamma = t[t["code"] == "0201"]
    # no robbery in the Decembers of 2018-2020: expected 0, and Poisson(0) calls 4 cases impossible
    assert gamma["expected"].tolist() == [0] and gamma["p_value"].tolist() == [0] and gamma["alert"].all()
    note = alerts.notes(gamma, 4).iloc[0]
    assert note == ("Sin casos registrados en los mismos meses de 2018, 2019 y 2020: con un esperado de 0, "
                    "cualquier cifra desde el mínimo (4) da alerta; la probabilidad no se puede calcular.")
    alfa = t[t["code"] == "0101"]
    assert (alerts.notes(alfa, 4) == "").all()  # expected 3: nothing to explain
    assert alerts.expected_label(0.0) == "0" and alerts.expected_label(1 / 3) == "0.3"
    assert alerts.expected_label(1234.5) == "1,234.5" and alerts.expected_label(float("nan")) == "—"
    no_years = gamma.assign(years="")  # no baseline at all: no expected value, nothing to say about it
    assert (alerts.notes(no_years.assign(expected=float("nan")), 4) == "").all()

    at = run_app({"minimo": "4"}, page="alertas")
    assert not at.exception
    table = at.dataframe[0].value.set_index(["Municipio", "Ventana"])
    row = table.loc[("Gamma", "Último mes")]
    assert (row["Observado"], row["Esperado"], row["Probabilidad"]) == (4, "0", "—")
    assert row["Nota"].startswith("Sin casos registrados en los mismos meses de 2018, 2019 y 2020")
    alfa_row = table.loc[("Alfa", "Último mes")]
    assert (alfa_row["Esperado"], alfa_row["Nota"]) == ("3.0", "")
    assert any("2 alerta(s) sin casos registrados" in w.value for w in at.warning)


def test_alerts_page_on_the_demo_shows_every_alert_trend(demo):
    at = run_app(page="alertas")
    assert not at.exception
    found = alerts.scan(Filters()).table.query("alert").drop_duplicates(["code", "crime_group"])
    assert metrics(at)["Municipios con alerta"] == f"{found['code'].nunique():,}"
    assert len(at.get("vega_lite_chart")) == min(len(found), 12) + (len(found) > 12)
    if len(found) > 12:
        last = found.iloc[-1]
        at.selectbox(key="al_otra").set_value(f"{last['code']}|{last['crime_group']}").run()
        assert not at.exception
        title = json.loads(at.get("vega_lite_chart")[-1].proto.spec)["title"]["text"]
        assert title == f"{last['name']} (depto. de {last['department']})"
    # each trend marks the months of its alert and draws the expected count there
    first = found.iloc[0]
    proto = at.get("vega_lite_chart")[0].proto
    spec = json.loads(proto.spec)
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks[:2] == ["line", "point"]
    datasets = {ds.name: pa.ipc.open_stream(ds.data.data).read_pandas() for ds in proto.datasets}
    marked = datasets[spec["layer"][1]["data"]["name"]]
    assert len(marked) == (3 if first["window"] == "trimestre" else 1)
    assert marked["n"].sum() == first["observed"]
    if "tick" in marks:
        assert marked["expected"].iloc[-1] == pytest.approx(first["expected"] / len(marked))
    assert spec["layer"][0]["encoding"]["x"]["axis"]["tickCount"] == "year"
