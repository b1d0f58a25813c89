"""Pages on a warehouse of mixed grain and unit: the small demo plus an annual department-level
source of victims and a monthly municipal source of events (hechos). What a person sees: the
unit control, the unit in every count label, and the sentences that say what a view leaves out,
with the exact counts of the warehouse."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from core import coverage, fmt, rates
from core.filters import Filters
from core.load.cube import build_cube
from core.load.demo import build_demo
from tests.apptest import metrics, run_app

INE = "Instituto Nacional de Estadística (INE)"
HECHOS = "Policía Nacional Civil, hechos (PNC-H)"
PAGES = ["resumen", "mapa", "municipio", "escuelas", "informes", "alertas", "datos_abiertos", "boletin", "calidad",
         "metodologia"]

SOURCE_COLUMNS = ("source, institution, file, sha256, rows_read, rows_loaded, rows_rejected, rows_out_of_scope, "
                  "row_unit, count_unit, date_precision, territory_level, record_level")


def _add_mixed_sources(path) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"INSERT INTO source ({SOURCE_COLUMNS}) VALUES "
                "('ine', ?, 'ine_homicidios_departamento.csv', NULL, 9, 6, 0, 3, 'agregado', 'victimas', 'anio', "
                "'departamento', FALSE), "
                "('pnch', ?, 'pnc_hechos_robo.csv', NULL, 48, 48, 0, 0, 'agregado', 'hechos', 'mes', 'municipio', FALSE)",
                [INE, HECHOS])
    rows = []
    # annual, department only, victims of homicide: 01 Guatemala and 05 Escuintla, 2020-2022
    for i, (year, dept) in enumerate((y, d) for y in (2020, 2021, 2022) for d in ("01", "05")):
        rows.append(("ine", year, None, dept, None, "homicidio", "ND", "ND", "victimas", 40 + 7 * i,
                     "ine_homicidios_departamento.csv", i + 2))
    # monthly, municipal, events of robbery: 0101 and 0102, 2021-2022
    i = 0
    for year in (2021, 2022):
        for month in range(1, 13):
            for muni in ("0101", "0102"):
                rows.append(("pnch", year, dt.date(year, month, 1), "01", muni, "robo", "ND", "ND", "hechos",
                             3 + (i % 5), "pnc_hechos_robo.csv", i + 2))
                i += 1
    con.executemany("INSERT INTO incident_aggregate (source, year, month, dept_code, muni_code, crime_type, victim_sex, "
                    "age_group, unit, n, counted, file, row_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?)",
                    rows)
    con.execute("INSERT INTO out_of_scope (source, file, reason, rows, example_row) VALUES "
                "('ine', 'ine_homicidios_departamento.csv', 'fila de total: departamento = Total', 3, 24)")
    con.execute("DELETE FROM population WHERE code IN (SELECT code FROM territory WHERE level = 'departamento')")
    build_cube(con, ["homicidio", "femicidio"])
    con.execute("CHECKPOINT")
    con.close()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """(plain small demo, the same with the two coarser sources)."""
    base = tmp_path_factory.mktemp("grain")
    plain, mixed = base / "plain.duckdb", base / "mixed.duckdb"
    build_demo(plain, seed=2024, scale=0.05, progress=None)
    build_demo(mixed, seed=2024, scale=0.05, progress=None)
    _add_mixed_sources(mixed)
    return plain, mixed


@pytest.fixture()
def mixed(warehouses, use_warehouse):
    return use_warehouse(warehouses[1])


def sql(path, query: str, params=()) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute(query, list(params)).fetchall()[0][0] or 0)
    finally:
        con.close()


def texts(at) -> list[str]:
    """Every text a person reads on the page: titles, text, notes, metric labels and values, table
    headers, widget labels."""
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        out += [str(m.label), str(m.value)]
    for d in at.dataframe:
        out += [str(c) for c in d.value.columns]
    for kind in ("radio", "selectbox", "multiselect", "slider"):
        out += [str(w.label) for w in getattr(at, kind)]
    return out


def count_labels(at) -> list[str]:
    """Labels of counts: metric labels and table headers."""
    return [str(m.label) for m in at.metric] + [str(c) for d in at.dataframe for c in d.value.columns]


# ---- core: the left-out numbers recomputed by hand -----------------------------------------

def test_left_out_counts_recomputed_with_sql(mixed):
    path = mixed
    annual = sql(path, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine'")
    assert annual == sum(40 + 7 * i for i in range(6))
    f = Filters()
    assert coverage.left_out(f, "mes") == (f"La serie mensual no incluye {fmt.integer(annual)} víctimas de {INE} "
                                           "(la fuente da solo el año).")
    assert coverage.left_out(f, "municipio") == (f"Las cifras por municipio no incluyen {fmt.integer(annual)} víctimas "
                                                 f"de {INE} (la fuente da solo el departamento).")
    # a period and a department restrict it the same way
    in_2021_01 = sql(path, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine' AND year = 2021 "
                           "AND dept_code = '01'")
    assert in_2021_01 == 54
    assert f"{fmt.integer(in_2021_01)} víctimas" in coverage.left_out(Filters(2021, 2021, dept_code="01"), "mes")
    # crime filters that exclude homicide leave nothing out
    assert coverage.left_out(Filters(crime_types=("robo",)), "mes", "municipio") is None
    # events: monthly and municipal, so only record-level views leave them out
    events = sql(path, "SELECT sum(n) FROM incident_aggregate WHERE source = 'pnch'")
    h = Filters(unit="hechos")
    assert coverage.left_out(h, "mes") is None and coverage.left_out(h, "municipio") is None
    assert coverage.left_out(h, "registro") == (f"Esta vista (día, hora, arma, aldea, coordenadas) no incluye "
                                                f"{fmt.integer(events)} hechos de {HECHOS} (no son registros con "
                                                "fecha y municipio).")
    # the department-only note of Guatemala (01)
    dept = sql(path, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine' AND dept_code = '01'")
    assert coverage.department_only_note(f, "01", "Guatemala").startswith(
        f"En Guatemala hay además {fmt.integer(dept)} víctimas que una fuente da solo por departamento")
    assert coverage.department_only_note(f, "02", "El Progreso") is None
    # the headline in hechos is exactly the events of the new source
    assert rates.headline(h).count == events


# ---- the unit control ------------------------------------------------------------------------

def test_unit_control_only_with_two_units(warehouses, use_warehouse):
    use_warehouse(warehouses[0])
    at = run_app()
    assert not at.exception
    assert not [r for r in at.radio if r.key == "f_unit"]
    assert "Víctimas registradas" in metrics(at)

    use_warehouse(warehouses[1])
    at = run_app()
    assert not at.exception
    unit = at.radio(key="f_unit")
    assert unit.label == "Unidad" and list(unit.options) == ["Víctimas", "Hechos"] and unit.value == "victimas"
    assert "personas afectadas" in unit.help and "nunca se suman" in unit.help
    unit.set_value("hechos").run()
    assert not at.exception
    assert at.query_params["unidad"] == "hechos"
    assert "Hechos registrados" in metrics(at)


# ---- Resumen ---------------------------------------------------------------------------------

def test_resumen_in_hechos_labels_the_unit_and_matches_the_core(mixed):
    at = run_app({"unidad": "hechos"})
    assert not at.exception
    values = metrics(at)
    h = rates.headline(Filters(unit="hechos"))
    assert values["Hechos registrados"] == fmt.integer(h.count)
    assert not [label for label in count_labels(at) if "Víctimas" in label]
    assert "Municipios con más hechos" in [s.value for s in at.subheader]
    assert "Hechos" in at.dataframe[0].value.columns
    # the other unit exists and is not added
    victims = rates.headline(Filters()).count
    assert any(f"Además hay {fmt.integer(victims)} víctimas con estos filtros" in i.value for i in at.info)
    page = texts(at)
    assert not [t for t in page if "None" in t]


def test_resumen_monthly_and_municipal_notes(mixed):
    annual = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine'")
    at = run_app()
    assert not at.exception
    captions = [c.value for c in at.caption]
    municipal = (f"Las cifras por municipio no incluyen {fmt.integer(annual)} víctimas de {INE} "
                 "(la fuente da solo el departamento).")
    assert municipal in captions
    assert not any(c.startswith("La serie mensual") for c in captions)  # the annual series includes them
    at.radio(key="resumen_serie").set_value("Mensual").run()
    assert not at.exception
    assert (f"La serie mensual no incluye {fmt.integer(annual)} víctimas de {INE} (la fuente da solo el año)."
            in [c.value for c in at.caption])
    events = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'pnch'")
    assert any(f"Además hay {fmt.integer(events)} hechos con estos filtros" in i.value for i in at.info)


# ---- Mapa --------------------------------------------------------------------------------------

def test_map_says_what_the_municipal_level_leaves_out(mixed):
    annual = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine'")
    note = (f"Las cifras por municipio no incluyen {fmt.integer(annual)} víctimas de {INE} "
            "(la fuente da solo el departamento).")
    at = run_app(page="mapa")
    assert not at.exception
    assert note in [i.value for i in at.info]
    at = run_app({"nivel": "departamento"}, page="mapa")
    assert not at.exception
    assert note not in [i.value for i in at.info]  # departments include them


def test_map_in_hechos_has_no_victims_label(mixed):
    at = run_app({"unidad": "hechos", "medida": "n", "muni": "0101"}, page="mapa")
    assert not at.exception
    assert not [label for label in count_labels(at) if "Víctimas" in label]
    assert "Hechos" in metrics(at)
    assert "**Hechos**" in [m.value for m in at.markdown]
    assert not [t for t in texts(at) if "None" in t]


# ---- Municipio ---------------------------------------------------------------------------------

def test_municipio_notes_department_only_and_record_views(mixed):
    dept = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine' AND dept_code = '01'")
    annual = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine'")
    at = run_app({"muni": "0101"}, page="municipio")
    assert not at.exception
    infos = [i.value for i in at.info]
    assert any(i.startswith(f"En Guatemala hay además {fmt.integer(dept)} víctimas que una fuente da solo por "
                            "departamento") for i in infos)
    assert (f"Las cifras por municipio no incluyen {fmt.integer(annual)} víctimas de {INE} "
            "(la fuente da solo el departamento).") in infos
    captions = [c.value for c in at.caption]
    assert f"La serie mensual no incluye {fmt.integer(annual)} víctimas de {INE} (la fuente da solo el año)." in captions
    assert any(c.startswith("Esta vista (día, hora, arma, aldea, coordenadas) no incluye") for c in captions)


def test_municipio_in_hechos(mixed):
    events_0101 = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'pnch' AND muni_code = '0101'")
    at = run_app({"unidad": "hechos", "muni": "0101"}, page="municipio")
    assert not at.exception
    assert metrics(at)["Hechos registrados"] == fmt.integer(events_0101)
    assert not [label for label in count_labels(at) if "Víctimas" in label]
    events = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'pnch'")
    assert (f"Esta vista (día, hora, arma, aldea, coordenadas) no incluye {fmt.integer(events)} hechos de {HECHOS} "
            "(no son registros con fecha y municipio).") in [c.value for c in at.caption]
    assert not [t for t in texts(at) if "None" in t]


# ---- Informes ----------------------------------------------------------------------------------

def test_report_by_month_or_weekday_says_what_it_leaves_out(mixed):
    annual = sql(mixed, "SELECT sum(n) FROM incident_aggregate WHERE source = 'ine'")
    at = run_app(page="informes")
    assert not at.exception
    assert not any("no incluye" in c.value for c in at.caption)  # by year and crime group: everything
    at.selectbox(key="inf_dim1").set_value("month").run()
    assert not at.exception
    assert (f"La serie mensual no incluye {fmt.integer(annual)} víctimas de {INE} (la fuente da solo el año)."
            in [c.value for c in at.caption])
    at.selectbox(key="inf_dim1").set_value("weekday").run()
    assert f"Esta vista no incluye {fmt.integer(annual)} víctimas de {INE} (la fuente da solo el año)." in [
        c.value for c in at.caption]
    at = run_app({"unidad": "hechos"}, page="informes")
    assert not at.exception
    assert "Hechos" in at.selectbox(key="inf_medida").options and "Víctimas" not in at.selectbox(key="inf_medida").options
    table = at.dataframe[0].value
    assert "Hechos" in table.columns and "Víctimas" not in table.columns
    assert table["Hechos"].iloc[-1] == rates.headline(Filters(unit="hechos")).count


# ---- Calidad -----------------------------------------------------------------------------------

def test_quality_shows_the_grain_of_sources_and_rows_out_of_scope(mixed):
    at = run_app(page="calidad")
    assert not at.exception
    sources = at.dataframe[0].value.set_index("Fuente")
    assert {"Fuera de alcance", "Cada fila es", "Cuenta", "Fecha hasta", "Territorio hasta"} <= set(sources.columns)
    assert sources.loc["ine", "Fecha hasta"] == "Año" and sources.loc["ine", "Territorio hasta"] == "Departamento"
    assert sources.loc["pnch", "Cuenta"] == "Hechos" and sources.loc["ine", "Fuera de alcance"] == 3
    assert "Filas fuera de alcance (no son errores)" in [s.value for s in at.subheader]
    scope = next(d.value for d in at.dataframe if "Motivo" in d.value.columns)
    assert list(scope.columns) == ["Fuente", "Archivo", "Motivo", "Filas", "Primera fila (n.º)"]
    assert scope["Filas"].tolist() == [3] and scope["Primera fila (n.º)"].tolist() == [24]


def test_methodology_defines_unit_grain_and_estimated_population(mixed):
    at = run_app(page="metodologia")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for term in ("**Unidad de conteo.**", "**Granularidad de las fuentes.**", "**Población estimada.**"):
        assert term in text
    assert "nunca se suman" in text and "interpolación lineal" in text


# ---- every page, both units --------------------------------------------------------------------

@pytest.mark.parametrize("unit", ["victimas", "hechos"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_in_both_units(mixed, page, unit):
    at = run_app({"unidad": unit} if unit != "victimas" else None, page=page)
    assert not at.exception, [e.value for e in at.exception]
    page_texts = texts(at)
    assert not [t for t in page_texts if "None" in t]
    # a select box shows its placeholder while a person types to search it: never Streamlit's English one
    assert not [(b.label, b.proto.placeholder) for b in at.selectbox if not b.proto.placeholder
                or "Choose" in b.proto.placeholder]
    if unit == "hechos" and page not in ("escuelas", "metodologia", "calidad"):
        assert not [label for label in count_labels(at) if label.startswith("Víctimas")], page
