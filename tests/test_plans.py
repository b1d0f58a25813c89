"""Plan indicators (core/plans.py, core/load/plans.py): the status rule on constructed series, the
declared file's mistakes, values computed from the warehouse (never typed in) checked by hand, the
SDMX-CSV export and the Seguimiento page."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from core import plans, views
from core.filters import Filters
from core.load import plans as plan_load
from core.plans import Indicator, PlanError, Value
from tests.conftest import ROOT

PATH = ROOT / "data" / "examples" / "plan_guatemala.toml"


def indicator(direction: str = "bajar") -> Indicator:
    # baseline 2018 at 20; targets 10 in 2028: the path is 20 - year offset
    return Indicator("X", "X", "x", "tasa", 2018, ((2028, 10.0),), direction, "Inst", None, "por 100,000 hab.",
                     crime_types=("homicidio",))


@pytest.mark.parametrize("direction,value,lo,hi,expected", [
    # must go down; expected on the path in 2022: 16
    ("bajar", 15.0, 14.0, 15.9, plans.ON_TRACK),          # the whole interval at or below the path
    ("bajar", 17.5, 16.5, 18.5, plans.AT_RISK),           # above the path, below the baseline
    ("bajar", 21.0, 20.0, 22.0, plans.OFF_TRACK),         # not better than the baseline
    ("bajar", 16.5, 14.0, 19.0, plans.UNCERTAIN),         # the interval holds the path: chance could explain it
    ("bajar", 19.0, 16.1, 25.0, plans.AT_RISK),           # worse than the path for sure, maybe not than the baseline
    # must go up (baseline 20 -> target 30 in 2028: 24 expected in 2022)
    ("subir", 25.0, 24.0, 26.0, plans.ON_TRACK),
    ("subir", 22.0, 21.0, 23.0, plans.AT_RISK),
    ("subir", 19.0, 18.0, 20.0, plans.OFF_TRACK),
    ("subir", 24.0, 20.5, 27.0, plans.UNCERTAIN),
])
def test_the_status_rule_uses_the_interval_so_noise_never_flips_it(direction, value, lo, hi, expected):
    ind = indicator(direction)
    if direction == "subir":
        ind = Indicator(**{**ind.__dict__, "targets": ((2028, 30.0),)})
    assert plans.status(ind, 20.0, Value(2022, value, lo, hi)) == expected
    assert plans.status(ind, 20.0, Value(2022, None, None, None)) == plans.NO_DATA


def test_the_path_runs_straight_from_the_baseline_through_every_target():
    ind = Indicator(**{**indicator().__dict__, "targets": ((2020, 18.0), (2030, 8.0))})
    assert [plans.expected(ind, 20.0, y) for y in (2018, 2019, 2020, 2025, 2030, 2035)] == [20.0, 19.0, 18.0, 13.0, 8.0,
                                                                                          8.0]


def test_a_plan_file_with_mistakes_names_each_indicator_and_key(tmp_path):
    bad = tmp_path / "plan.toml"
    bad.write_text('''
plan = "p"
[[indicadores]]
codigo = "A-1"
nombre = "Homicidios"
definicion = "x"
tipo = "valor"
anio_base = 2018
metas = { 2016 = 5.0 }
sentido = "abajo"
responsable = "PNC"
[[indicadores]]
codigo = "A-2"
nombre = "Robo"
definicion = "x"
tipo = "tasa"
delitos = ["robos"]
grupos = ["Patrimonio"]
anio_base = 2018
metas = { 2024 = 5.0 }
sentido = "bajar"
responsable = "PNC"
valor = 3.2
''', encoding="utf-8")
    with pytest.raises(PlanError) as info:
        plan_load.read(bad, ["01"], {})
    text = str(info.value)
    assert str(bad) in text
    assert "indicador A-1: tipo = 'valor' no es válido; se esperaba \"tasa\"" in text and "nunca se escriben" in text
    assert "indicador A-1: la meta de 2016 no es posterior al año base 2018" in text
    assert "indicador A-1: sentido = 'abajo'; se esperaba \"bajar\" o \"subir\"" in text
    assert "indicador A-2: claves desconocidas ['valor']" in text
    fixed = bad.read_text(encoding="utf-8").replace('tipo = "valor"', 'tipo = "tasa"\ndelitos = ["homicidio"]').replace(
        "{ 2016 = 5.0 }", "{ 2024 = 5.0 }").replace('"abajo"', '"bajar"').replace("valor = 3.2\n", "")
    bad.write_text(fixed, encoding="utf-8")
    with pytest.raises(PlanError) as info:
        plan_load.read(bad, ["01"], {})
    assert "indicador A-2: 'robos' no es un tipo de delito del catálogo" in str(info.value)
    assert "indicador A-2: 'Patrimonio' no es un grupo de delito del catálogo" in str(info.value)


def test_the_example_plan_has_twelve_indicators_or_more_over_records_and_survey(demo):
    plan = plans.plans()[0]
    assert plan.plan == "politica_prevencion" and len(plan.indicators) >= 12
    assert {ind.kind for ind in plan.indicators} == {"tasa", "porcentaje", "encuesta", "archivo"}
    assert {"16.1.1", "16.1.4", "5.2.1", "16.3.1"} <= {ind.sdg for ind in plan.indicators}
    with pytest.raises(PlanError, match="la encuesta 'enpevi_2022' no está cargada"):
        plan_load.read(PATH, ["01"], {})


def test_indicator_values_are_the_warehouse_figures_and_export_as_sdmx(demo):
    plan = plans.plans()[0]
    codes = {ind.code: ind for ind in plan.indicators}
    femicide = codes["PV-02"]  # women victims of femicide per 100,000 women
    by_hand = views.yearly_total(Filters(crime_types=("femicidio",), sexes=("M",))).set_index("year")
    got = {v.year: v for v in plans.values(femicide)}
    assert set(got) == set(by_hand.index)
    for year, v in got.items():
        assert v.value == pytest.approx(float(by_hand.loc[year, "rate"]))
        assert (v.lo, v.hi) == pytest.approx((float(by_hand.loc[year, "rate_lo"]), float(by_hand.loc[year, "rate_hi"])))
    summary = plans.summary(plan).set_index("code")
    assert summary.loc["PV-02", "baseline"] == pytest.approx(got[2018].value)
    assert summary.loc["PV-02", "latest_year"] == 2022
    assert summary.loc["PV-11", "status"] == plans.BASELINE_ONLY  # one survey so far: nothing to judge
    assert set(summary["status"]) <= {plans.ON_TRACK, plans.AT_RISK, plans.OFF_TRACK, plans.UNCERTAIN,
                                      plans.BASELINE_ONLY}
    sdmx = pd.read_csv(io.StringIO(plans.sdmx_csv(plan, "GT")), dtype=str)
    assert list(sdmx.columns) == plans.SDMX_COLUMNS
    row = sdmx[(sdmx["SERIES"] == "PV-02") & (sdmx["TIME_PERIOD"] == "2022")].iloc[0]
    assert (row["REF_AREA"], row["INDICATOR"], row["UNIT_MEASURE"]) == ("GT", "5.2.1", "PER_100000_POP")
    assert float(row["OBS_VALUE"]) == pytest.approx(got[2022].value, abs=1e-4)
    assert float(row["LOWER_BOUND"]) == pytest.approx(got[2022].lo, abs=1e-4)
    survey_row = sdmx[sdmx["SERIES"] == "PV-11"].iloc[0]
    assert survey_row["UNIT_MEASURE"] == "PT" and survey_row["INDICATOR"] == "16.1.4"


@pytest.mark.parametrize("mode", ["interno", "publico"])
def test_the_seguimiento_page_shows_every_indicator_with_its_status(demo, monkeypatch, mode):
    from tests.apptest import run_app

    monkeypatch.setenv("ATALAYA_MODO", mode)
    at = run_app(page="seguimiento")
    assert not at.exception, [e.message for e in at.exception]
    table = next(d.value for d in at.dataframe if "Estado" in d.value.columns)
    assert len(table) == len(plans.plans()[0].indicators)
    assert "None" not in table.to_string() and "nan" not in table.to_string()
    assert any(plans.STATUS_RULE[:40] in c.value for c in at.caption)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Indicadores en SDMX-CSV (ODS)" in labels and "Descargar Excel" in labels
    assert len(at.get("vega_lite_chart")) == 1  # the trajectory


def test_the_monitoring_report_reads_back_from_its_pdf(demo):
    from pypdf import PdfReader

    from core import bulletin, bulletin_pdf

    plan = plans.plans()[0]
    doc = plans.report(plan)
    reader = PdfReader(io.BytesIO(bulletin_pdf.to_pdf(doc)))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert reader.metadata.title == f"Informe de seguimiento · {plan.name} · datos hasta 2022"
    assert "Página 1 Informe de seguimiento" in text  # (the footer is drawn first on each page)
    for ind in plan.indicators:
        assert ind.code in text and ind.name in text
    assert "Estado de los indicadores" in text and "La trayectoria esperada es la línea recta" in text
    assert "None" not in text and " nan " not in text
    assert "<h1>Informe de seguimiento</h1>" in bulletin.to_html(doc)


def test_shares_and_values_measured_elsewhere(demo, tmp_path):
    from scipy.stats import binomtest

    from core import warehouse

    codes = {ind.code: ind for ind in plans.plans()[0].indicators}
    share = {v.year: v for v in plans.values(codes["PV-14"])}
    counts = warehouse.query("""SELECT year, sum(n) FILTER (WHERE crime_type = 'femicidio') AS k, sum(n) AS n
        FROM incident_year_cube WHERE counted AND unit = 'victimas' AND victim_sex = 'M'
        AND crime_group = 'Violencia letal' GROUP BY year""").set_index("year")
    k, n = int(counts.loc[2022, "k"]), int(counts.loc[2022, "n"])
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    assert (share[2022].value, share[2022].lo, share[2022].hi) == pytest.approx((100 * k / n, 100 * ci.low, 100 * ci.high))
    measured = plans.values(codes["PV-15"])
    assert [(v.year, v.value, v.lo) for v in measured] == [(2018, 21.2, None), (2019, 24.7, None), (2020, 27.1, None),
                                                           (2021, 33.5, None), (2022, 38.8, None)]
    # 38.8 in 2022 against 21.2 + (50 - 21.2) * 4/6 = 40.4 on the path, better than the baseline: at risk
    assert plans.summary(plans.plans()[0]).set_index("code").loc["PV-15", "status"] == plans.AT_RISK

    bad = tmp_path / "plan.toml"
    (tmp_path / "v.csv").write_text("year,value\n2020,3\n", encoding="utf-8")
    bad.write_text('''plan = "p"
[[indicadores]]
codigo = "B-1"
nombre = "Medido fuera"
definicion = "x"
tipo = "archivo"
archivo = "v.csv"
anio_base = 2018
metas = { 2024 = 5.0 }
sentido = "subir"
responsable = "X"
[[indicadores]]
codigo = "B-2"
nombre = "Porcentaje"
definicion = "x"
tipo = "porcentaje"
numerador = { delitos = ["femicidio"] }
anio_base = 2018
metas = { 2024 = 5.0 }
sentido = "bajar"
responsable = "X"
''', encoding="utf-8")
    with pytest.raises(PlanError) as info:
        plan_load.read(bad, ["01"], {})
    text = str(info.value)
    assert "indicador B-2: un porcentaje necesita 'denominador'" in text
    bad.write_text(bad.read_text(encoding="utf-8").replace('numerador = { delitos = ["femicidio"] }',
                                                           'numerador = { delitos = ["femicidio"] }\n'
                                                           'denominador = { grupos = ["Violencia letal"] }'),
                   encoding="utf-8")
    with pytest.raises(PlanError, match="indicador B-1: v.csv necesita las columnas anio y valor \\(tiene: year, value\\)"):
        plan_load.read(bad, ["01"], {})
