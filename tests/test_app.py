"""The dashboard shell and the home page under streamlit.testing.v1.AppTest."""
import pytest

from core import fmt, rates
from core.filters import Filters, filter_options
from tests import fixture_warehouse
from tests.apptest import metrics, run_app


def test_home_page_on_the_demo(demo):
    at = run_app()
    assert not at.exception
    assert any("Datos sintéticos de demostración" in w.value for w in at.warning)
    values = metrics(at)
    h = rates.headline(Filters())
    assert values["Víctimas registradas"] == fmt.integer(h.count)
    assert values["Tasa anual por 100,000 hab."] == fmt.decimal(h.rate)
    assert at.title[0].value == "Resumen"
    assert len(at.get("vega_lite_chart")) == 1
    top = at.dataframe[0].value
    assert len(top) == 10 and top["Víctimas"].is_monotonic_decreasing
    assert at.dataframe[1].value["Institución"].str.contains("Forenses").any()


def test_filters_change_the_page_and_the_url(demo):
    at = run_app()
    at.multiselect(key="f_groups").set_value(["Violencia letal"]).run()
    at.multiselect(key="f_sexes").set_value(["M"]).run()
    assert not at.exception
    assert at.query_params["grupos"] == "Violencia letal" and at.query_params["sexo"] == "M"
    h = rates.headline(Filters(crime_groups=("Violencia letal",), sexes=("M",)))
    assert metrics(at)["Víctimas registradas"] == fmt.integer(h.count)
    at.slider(key="f_years").set_value((2019, 2020)).run()
    assert at.query_params["desde"] == "2019" and at.query_params["hasta"] == "2020"
    h = rates.headline(Filters(2019, 2020, crime_groups=("Violencia letal",), sexes=("M",)))
    assert metrics(at)["Víctimas registradas"] == fmt.integer(h.count)


def test_a_shared_url_opens_the_same_view(demo):
    at = run_app({"desde": "2016", "hasta": "2016", "tipos": "extorsion", "depto": "01"})
    assert not at.exception
    h = rates.headline(Filters(2016, 2016, crime_types=("extorsion",), dept_code="01"))
    assert metrics(at)["Víctimas registradas"] == fmt.integer(h.count)
    assert at.selectbox(key="f_dept").value == "01"
    assert "Extorsión" in at.caption[0].value and "Guatemala" in at.caption[0].value


def test_monthly_series_and_rate_ordering(demo):
    at = run_app()
    at.radio(key="resumen_serie").set_value("Mensual").run()
    at.radio(key="resumen_orden").set_value("Tasa por 100,000 hab.").run()
    assert not at.exception
    top = at.dataframe[0].value
    assert top["Tasa por 100,000"].is_monotonic_decreasing


@pytest.mark.parametrize("groups", [[], ["Drogas"], ["Violencia sexual", "Delitos contra la libertad"]])
@pytest.mark.parametrize("sexes", [[], ["ND"], ["H", "M"]])
def test_filter_grid_shows_the_core_figures(demo, groups, sexes):
    ages = ["ND"] if sexes == ["ND"] else []
    at = run_app()
    at.multiselect(key="f_groups").set_value(groups)
    at.multiselect(key="f_sexes").set_value(sexes)
    at.multiselect(key="f_ages").set_value(ages)
    at.run()
    assert not at.exception
    opts = filter_options()
    f = Filters(crime_groups=tuple(groups), sexes=tuple(sexes), age_groups=tuple(ages)).resolved(opts)
    h = rates.headline(f)
    shown = metrics(at)
    assert shown["Víctimas registradas"] == fmt.integer(h.count)
    # victims without a registered sex have no population: no rate, said with a dash
    assert shown[rates.RATE_ANNUAL_LABEL] == ("—" if h.rate is None else fmt.decimal(h.rate))
    assert at.caption[0].value == f.describe(opts)


def test_real_warehouse_has_no_synthetic_banner(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb", synthetic=False))
    at = run_app()
    assert not at.exception
    assert not any("sintéticos" in w.value for w in at.warning)
    assert metrics(at)["Víctimas registradas"] == "11"


def test_missing_warehouse_explains_how_to_build_it(tmp_path, use_warehouse):
    use_warehouse(tmp_path / "no-existe.duckdb")
    at = run_app()
    assert not at.exception
    assert "atalaya-load demo" in at.error[0].value



def test_quality_and_methodology_give_the_rule_and_divergence_of_each_crime(demo):
    from core import quality
    from core.load.datatests import TESTS
    from core.load.demo import RECONCILIATION

    at = run_app(page="calidad")
    assert not at.exception
    summary = next(d.value for d in at.dataframe if "Publicada" in d.value.columns).set_index("Delito")
    crimes = quality.reconciliation_rules().set_index("crime_type")["crime"]
    assert sorted(summary.index) == sorted(crimes[t] for r in RECONCILIATION for t in r.crime_types)
    assert set(summary["Regla"]) == {"Fuente de referencia", "Máximo por municipio y mes"}
    forensic = "Instituto Nacional de Ciencias Forenses (INACIF)"
    homicide = summary.loc["Homicidio doloso"]
    assert homicide["Fuente de referencia"] == forensic and homicide["Publicada"] == homicide[forensic]
    assert 0 < homicide["% en que difieren"] <= 100
    # one crime at a time, month by month and per municipality
    box = at.selectbox(key="calidad_delito")
    assert len(box.options) == len(summary)
    box.set_value("lesiones").run()
    assert not at.exception
    assert any(m.value.startswith("**Lesiones: municipio × mes**") for m in at.markdown)
    tests = at.table[-1].value
    assert sorted(tests["Prueba"]) == sorted(t.name for t in TESTS)
    assert [d.lower() for d in tests.index] == [t.description.lower() for t in sorted(TESTS, key=lambda t: t.name)]
    assert not (tests["Filas revisadas"] == "0").any()

    at = run_app(page="metodologia")
    assert not at.exception
    rules = next(d.value for d in at.dataframe if "Fuente de referencia" in d.value.columns)
    assert len(rules) == len(summary) and list(rules.columns) == ["Delito", "Regla", "Fuente de referencia"]
    text = " ".join(m.value for m in at.markdown)
    assert "**Fuente de referencia.** Cuentan solo los registros" in text
    assert "**Máximo por municipio y mes.** En cada municipio y mes" in text

