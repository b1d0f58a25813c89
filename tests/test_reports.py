"""The report builder: results equal an independent pandas computation; any spec, even a hostile
one, gives a correct result or a SpecError and runs only the builder's own SQL."""
import json
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from core import reports, warehouse
from core.filters import Filters
from core.reports import DIMENSIONS, MEASURES, ReportSpec, SpecError
from tests import fixture_warehouse
from tests.apptest import run_app

HOSTILE = ["'; DROP TABLE incident; --", "x') OR 1=1 --", "robo\x00", "Ñandú ☠", "", " ", "year; SELECT 1",
           "1e309", "../../etc/passwd", "%s", "{}", "crime_type", "c.n", "SUM(n)"]


@pytest.fixture(scope="module")
def fixture_path(tmp_path_factory):
    return fixture_warehouse.build(tmp_path_factory.mktemp("rep") / "w.duckdb")


@pytest.fixture()
def fixture(fixture_path, use_warehouse):
    return use_warehouse(fixture_path)


def incidents() -> pd.DataFrame:
    """The fixture's counted records, in pandas, straight from the incident table."""
    df = warehouse.query("SELECT i.*, t.crime_group FROM incident i JOIN crime_type t ON t.code = i.crime_type")
    df = df[df["counted"]].copy()
    df["year"] = pd.to_datetime(df["occurred_on"]).dt.year
    return df


def test_counts_by_two_dimensions_equal_pandas(fixture):
    r = reports.run(ReportSpec("n", ("crime_group", "sex")))
    expected = incidents().groupby(["crime_group", "victim_sex"]).size()
    got = r.data.set_index(["Grupo de delito", "Sexo de la víctima"])["Víctimas"]
    sex = {"H": "Hombres", "M": "Mujeres", "ND": "Sin dato"}
    assert {(g, sex[s]): n for (g, s), n in expected.items()} == got.to_dict()
    assert reports.with_totals(r)["Víctimas"].iloc[-1] == 11


def test_rates_shares_and_changes_equal_pandas(fixture):
    inc = incidents()
    r = reports.run(ReportSpec("rate", ("department",)))
    pop = {"Norte": 300_000, "Sur": 20_000}  # person-years 2020-2021
    expected = inc.groupby("dept_code").size().rename({"01": "Norte", "02": "Sur"})
    got = r.data.set_index("Departamento")["Tasa por 100,000 hab."]
    assert got.to_dict() == pytest.approx({d: expected[d] / pop[d] * 1e5 for d in pop})
    assert reports.with_totals(r)["Tasa por 100,000 hab."].iloc[-1] == pytest.approx(11 / 320_000 * 1e5)
    # the exact (Garwood) interval of each rate, next to it: chi-square quantiles written out here
    data = r.data.set_index("Departamento")
    for d in pop:
        n = expected[d]
        assert data.loc[d, "IC 95 % inferior"] == pytest.approx(chi2.ppf(0.025, 2 * n) / 2 / pop[d] * 1e5)
        assert data.loc[d, "IC 95 % superior"] == pytest.approx(chi2.ppf(0.975, 2 * n + 2) / 2 / pop[d] * 1e5)
    assert list(r.data.columns[:4]) == ["Departamento", "Tasa por 100,000 hab.", "IC 95 % inferior", "IC 95 % superior"]
    women = reports.run(ReportSpec("rate", ("year",), filters=Filters(sexes=("M",))))
    by_year = inc[inc["victim_sex"] == "M"].groupby("year").size()
    assert women.value_label == "Tasa por 100,000 mujeres"  # the denominator is the women's population
    assert list(women.data["Tasa por 100,000 mujeres"]) == pytest.approx([by_year[y] / 80_000 * 1e5 for y in (2020, 2021)])
    share = reports.run(ReportSpec("share", ("source",)))
    assert share.data["% del total"].sum() == pytest.approx(100)
    change = reports.run(ReportSpec("change", ("crime_group",), filters=Filters(2021, 2021)))
    c = change.data.set_index("Grupo de delito")
    y21, y20 = inc[inc["year"] == 2021].groupby("crime_group").size(), inc[inc["year"] == 2020].groupby("crime_group").size()
    assert c.loc["Violencia letal", "Cambio vs periodo anterior (%)"] == pytest.approx((y21["Violencia letal"] - 1) / 1 * 100)
    assert pd.isna(c.loc["Drogas", "Cambio vs periodo anterior (%)"]) if "Drogas" in c.index else True
    assert int(c["Víctimas"].sum()) == y21.sum() and int(c["Víctimas del periodo anterior"].sum()) == y20.sum()


def test_incident_only_dimensions_top_n_and_sort(fixture):
    r = reports.run(ReportSpec("n", ("weekday",), sort="desc", top_n=2))
    by_day = pd.to_datetime(incidents()["occurred_on"]).dt.day_of_week.value_counts()
    assert list(r.data["Víctimas"]) == sorted(by_day, reverse=True)[:2]
    names = dict(enumerate(["Lunes", "Martes", "Miércoles", "Jueves", "Viernes", "Sábado", "Domingo"]))
    assert r.data["Día de la semana"].iloc[0] == names[by_day.idxmax()]
    totals = reports.with_totals(r)
    assert totals["Día de la semana"].iloc[-1] == "Total (todas las categorías)" and totals["Víctimas"].iloc[-1] == 11
    hours = reports.run(ReportSpec("n", ("hour", "age_group"), chart="heatmap"))
    assert set(hours.data["Hora"]) == {"12 h"} and hours.data["Víctimas"].sum() == 11
    assert reports.chart(hours) is not None


@pytest.mark.parametrize("spec, message", [
    (ReportSpec("rate", ("month",)), "no se calcula por mes"),
    (ReportSpec("n", ("year", "year")), "distinta"),
    (ReportSpec("change", ("crime_group",)), "periodo anterior"),
    (ReportSpec("n", ("year",), chart="heatmap"), "dos dimensiones"),
    (ReportSpec("n", ("year",), filters=Filters(dept_code="'; DROP TABLE x")), "Departamento desconocido"),
    (ReportSpec("n", ("year",), filters=Filters(year_from=1999)), "entre 2020 y 2021"),
    (ReportSpec("n", ("year",), top_n=0), "Primeros N"),
])
def test_invalid_specs_say_why(fixture, spec, message):
    with pytest.raises(SpecError, match=message):
        reports.run(spec)


def test_spec_round_trips_through_json_and_url(fixture):
    spec = ReportSpec("share", ("crime_type", "sex"), facet="department",
                      filters=Filters(2021, 2021, crime_groups=("Violencia letal",)), sort="desc", top_n=5, chart="stacked")
    assert ReportSpec.from_json(spec.to_json()) == spec
    assert ReportSpec.from_param(spec.to_param()) == spec
    for bad in ("{", "[]", '{"measure": "n", "extra": 1}', '{"filters": {"dept": "01"}}'):
        with pytest.raises(SpecError):
            ReportSpec.from_json(bad)
    with pytest.raises(SpecError):
        ReportSpec.from_param("%%%")


def text_or_hostile(valid):
    """Mostly valid values (so that many specs run), plus hostile and random text."""
    return st.one_of(st.sampled_from(list(valid)), st.sampled_from(list(valid)), st.sampled_from(list(valid)),
                     st.sampled_from(HOSTILE), st.text(max_size=12))

specs = st.fixed_dictionaries({}, optional={
    "measure": text_or_hostile(MEASURES),
    "dims": st.one_of(st.lists(text_or_hostile(DIMENSIONS), min_size=0, max_size=3), st.sampled_from(HOSTILE), st.integers()),
    "facet": st.one_of(st.none(), text_or_hostile(DIMENSIONS)),
    "sort": text_or_hostile(reports.SORTS),
    "chart": text_or_hostile(reports.CHARTS),
    "top_n": st.one_of(st.none(), st.integers(-3, 600), st.sampled_from(HOSTILE)),
    "filters": st.fixed_dictionaries({}, optional={
        "year_from": st.one_of(st.none(), st.integers(2018, 2023), st.sampled_from(HOSTILE)),
        "year_to": st.one_of(st.none(), st.integers(2018, 2023)),
        "crime_groups": st.lists(text_or_hostile(["Violencia letal", "Drogas", "Delitos contra el patrimonio"]), max_size=2),
        "crime_types": st.lists(text_or_hostile(["robo", "homicidio", "violencia_mujer"]), max_size=2),
        "sexes": st.lists(text_or_hostile(["H", "M", "ND"]), max_size=2),
        "age_groups": st.lists(text_or_hostile(["18-29", "30-44", "ND"]), max_size=2),
        "dept_code": st.one_of(st.none(), text_or_hostile(["01", "02"])),
    }),
})


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=specs)
def test_any_spec_gives_a_correct_result_or_a_spec_error(fixture, monkeypatch_sql, data):
    try:
        spec = ReportSpec.from_dict(json.loads(json.dumps(data)))
        report = reports.run(spec)
    except SpecError:
        return
    # a valid spec: its total equals pandas on the same filters
    f = spec.validate().filters
    inc = incidents()
    inc = inc[inc["year"].between(f.year_from, f.year_to)]
    for column, values in (("crime_group", f.crime_groups), ("crime_type", f.crime_types),
                           ("victim_sex", f.sexes), ("age_group", f.age_groups)):
        if values:
            inc = inc[inc[column].isin(values)]
    if f.dept_code:
        inc = inc[inc["dept_code"] == f.dept_code]
    assert int(report.totals["Víctimas"].sum()) == len(inc)


@pytest.fixture(scope="module")
def monkeypatch_sql():
    """Record every SQL statement the core sends while the hypothesis test runs."""
    seen = []
    original = warehouse.query

    def spy(sql, params=None, path=None):
        seen.append(sql)
        return original(sql, params, path)

    warehouse.query = spy
    yield seen
    warehouse.query = original
    for sql in seen:  # only the builder's own SQL: no user text inside it, read-only statements
        assert sql.lstrip().upper().startswith(("SELECT", "WITH"))
        for hostile in HOSTILE:
            if len(hostile.strip()) > 3 and hostile not in ("crime_type", "c.n"):
                assert hostile not in sql


def test_page_builds_reports_and_shares_them(fixture):
    at = run_app(page="informes")
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 1
    at.selectbox(key="inf_medida").set_value("rate").run()
    at.selectbox(key="inf_dim1").set_value("department").run()
    at.selectbox(key="inf_dim2").set_value("").run()
    table = at.dataframe[0].value
    assert list(table["Departamento"]) == ["Norte", "Sur", "Total"]
    assert table["Tasa por 100,000 hab."].iloc[-1] == pytest.approx(11 / 320_000 * 1e5)
    shared = at.query_params["informe"]
    again = run_app({"informe": shared}, page="informes")
    assert again.selectbox(key="inf_dim1").value == "department" and again.selectbox(key="inf_medida").value == "rate"
    at.selectbox(key="inf_dim1").set_value("month").run()
    assert any("no se calcula por mes" in w.value for w in at.warning)
    broken = run_app({"informe": "no-es-un-informe"}, page="informes")
    assert not broken.exception and any("no es válido" in e.value for e in broken.error)


@pytest.fixture(scope="module")
def random_path(tmp_path_factory):
    return fixture_warehouse.build_random(tmp_path_factory.mktemp("rep_random") / "w.duckdb")


@pytest.fixture()
def hw_reports(random_path, use_warehouse):
    return use_warehouse(random_path)


def drawn_marks(svg: str) -> list[str]:
    """The graphics symbols (bars, lines, cells) drawn in a Vega SVG, with their path."""
    return [m.group(0) for m in re.finditer(r'<(?:path|rect)[^>]*role="graphics-symbol"[^>]*>', svg)]


@pytest.mark.parametrize("measure", list(reports.MEASURES))
@pytest.mark.parametrize("chart_type", [c for c in reports.CHARTS if c != "table"])
def test_every_chart_of_every_measure_draws_its_marks(hw_reports, measure, chart_type):
    """Rendered offline as the PNG/SVG export is: marks are drawn at different heights (a field name
    with a dot, like «Tasa por 100,000 hab.», once left every rate chart empty)."""
    dims = ("year", "department") if chart_type in ("heatmap", "stacked") else ("year", "sex")
    if measure == "change":
        dims = ("department", "sex") if chart_type in ("heatmap", "stacked") else ("department",)
    report = reports.run(ReportSpec(measure, dims, chart=chart_type, filters=Filters(2021, 2021) if measure == "change"
                                    else Filters()))
    assert not report.data.empty
    svg = reports.chart_image(report, "svg").decode()
    marks = drawn_marks(svg)
    assert marks, f"{chart_type}/{measure}: no marks"
    label = report.value_label
    # every value of the measure is in the marks' descriptions, and the axis is not flat
    assert all(f"{label}:" in m for m in marks if "aria-label" in m)
    if chart_type in ("line", "area"):  # one path per series: its points are at several heights
        heights = {y for m in marks for y in re.findall(r"[ML][\d.]+,([\d.]+)", m)}
        assert len(heights) > 1, f"{chart_type}/{measure}: flat line"
    else:
        values = {v for m in marks for v in re.findall(re.escape(label) + r": ([^;\"]+)", m)}
        assert len(values) > 1, f"{chart_type}/{measure}: one value only {values}"
    assert "NaN" not in svg and "Infinity" not in svg


def test_panels_and_heatmaps_size_themselves(hw_reports):
    """A faceted report pads (fit-x is for single views); a heatmap gives each row a label's room."""
    panels = reports.chart(reports.run(ReportSpec("n", ("sex",), facet="year"))).to_dict()
    assert panels["autosize"]["type"] == "pad" and "autosize" not in panels["spec"]
    heat = reports.chart(reports.run(ReportSpec("n", ("year", "crime_type"), chart="heatmap"))).to_dict()
    assert heat["autosize"]["type"] == "fit-x"
    rows = len(reports.run(ReportSpec("n", ("year", "crime_type"), chart="heatmap")).data["Tipo de delito"].unique())
    assert heat["height"] >= 22 * rows
