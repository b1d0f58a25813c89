"""The documented example (data/examples/honduras.toml) builds a Honduras warehouse from the real
shared geography and population plus the synthetic incident files, and the dashboard runs on it;
El Salvador's census indicators (names only, department header rows) match the OCHA boundaries."""
from __future__ import annotations

import duckdb
import geopandas as gpd
import pandas as pd
import pytest

from core import warehouse
from core.load.build import run
from core.load.config import load_config
from tests.apptest import run_app
from tests.conftest import ROOT, shared_file

EXAMPLE = ROOT / "data" / "examples" / "honduras.toml"
PAGES = ["resumen", "mapa", "municipio", "escuelas", "informes", "alertas", "datos_abiertos", "boletin", "calidad",
         "encuestas", "seguimiento"]


@pytest.fixture(scope="module")
def honduras(tmp_path_factory):
    for f in ("municipios_sefin.geojson", "departamentos_sefin.geojson", "poblacion_municipal_2020_2025.csv"):
        shared_file(f"honduras/{f}")
    path = tmp_path_factory.mktemp("hn") / "warehouse.duckdb"
    report = run(EXAMPLE, path)
    return path, report


def q(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_example_builds_with_every_row_accounted_for(honduras):
    path, report = honduras
    sources = {r[0]: r[1:] for r in q(path, "SELECT source, rows_read, rows_loaded, rows_rejected FROM source")}
    assert set(sources) == {"poblacion", "policia", "medicina_forense", "fiscalia"}
    for source, (read, loaded, rejected) in sources.items():
        assert read == loaded + rejected, source
        assert rejected / read < 0.05
    assert sum(s[2] for s in sources.values()) == q(path, "SELECT count(*) FROM rejected_record")[0][0]
    # Homicides: only the reference source (forensic medicine) counts; the police copy is kept.
    assert q(path, "SELECT DISTINCT source FROM incident WHERE crime_type = 'homicidio' AND counted") == [("medicina_forense",)]
    assert q(path, "SELECT count(*) > 0 FROM incident WHERE crime_type = 'homicidio' AND source = 'policia' AND NOT counted") == [(True,)]
    # The Latin-1 names and the junk trailing line of the police file.
    assert q(path, "SELECT count(*) FROM rejected_record WHERE source = 'policia' AND reason LIKE '%línea de totales%'") == [(1,)]
    assert q(path, "SELECT name FROM territory WHERE code = '0313'") == [("San Jerónimo",)]
    assert q(path, "SELECT value FROM meta WHERE key = 'synthetic'") == [("true",)]
    # the declared survey (every respondent of the SPSS file) and plan
    assert q(path, "SELECT survey, respondents, synthetic FROM survey") == [
        ("enpevi_hn_2022", q(path, "SELECT count(*) FROM survey_respondent")[0][0], True)]
    assert q(path, "SELECT count(DISTINCT measure) FROM survey_measure") == [(5,)]
    assert q(path, "SELECT plan FROM plan") == [("plan_seguridad_hn",)]


def test_dashboard_runs_on_the_honduras_warehouse(honduras, use_warehouse):
    use_warehouse(honduras[0])
    for page in PAGES:
        at = run_app(page=page)
        assert not at.exception, (page, [e.message for e in at.exception])
    for view in ("vulnerabilidad", "prioridad"):
        at = run_app({"vista": view}, page="mapa")
        assert not at.exception, view
    at = run_app({"muni": "0801"}, page="municipio")
    assert not at.exception
    assert "Distrito Central" in " ".join(m.value for m in at.markdown) + " ".join(s.value for s in at.subheader)


def el_salvador_config(tmp_path, aliases: bool) -> tuple:
    munis = shared_file("el_salvador/municipios_ocha.geojson")
    depts = shared_file("el_salvador/departamentos_ocha.geojson")
    xlsx = shared_file("el_salvador/indicadores_sociodemograficos_municipio.xlsx")
    codes = gpd.read_file(munis)["ADM2_PCODE"]
    codes = codes[~codes.str.contains("9[89]$")]
    pd.DataFrame({"codigo": codes, "pob_2020": 10_000}).to_csv(tmp_path / "poblacion_sintetica.csv", index=False)
    (tmp_path / "incidentes.csv").write_text("ID,FECHA,MUNI,DELITO\n1,05/01/2020,SV0101,HOMICIDIO\n2,06/01/2020,SV1401,ROBO\n")
    alias = '''
[alias.municipios]
"Sonsonate/Santo Domingo de Guzmán" = "Santo Domingo"
"Chalatenango/Cancasque" = "San José Cancasque"
"Chalatenango/Las Flores" = "San José Las Flores"
"La Libertad/San Juán Opico" = "Opico"
"La Libertad/Santa Tecla" = "Nueva San Salvador"
"San Miguel/San Rafael Oriente" = "San Rafael"
''' if aliases else ""
    text = f'''
pais = "SV"
nombre_pais = "El Salvador"
periodo = {{ desde = "2020-01-01", hasta = "2020-12-31" }}
sintetico = true

[geografia.departamentos]
archivo = "{depts}"
codigo = {{ columna = "ADM1_PCODE", quitar_prefijo = "SV" }}
nombre = "ADM1_ES"

[geografia.municipios]
archivo = "{munis}"
codigo = {{ columna = "ADM2_PCODE", quitar_prefijo = "SV" }}
padre = {{ columna = "ADM1_PCODE", quitar_prefijo = "SV" }}
nombre = "ADM2_ES"
excluir_codigos = "9[89]$"

[poblacion]
archivo = "poblacion_sintetica.csv"
codigo = {{ columna = "codigo", quitar_prefijo = "SV" }}
anios = {{ prefijo = "pob_" }}
fuente = "Población sintética de prueba"

[[incidentes]]
fuente = "policia"
institucion = "PNC (sintético)"
archivo = "incidentes.csv"
[incidentes.columnas]
id = "ID"
fecha = "FECHA"
municipio_codigo = {{ columna = "MUNI", quitar_prefijo = "SV" }}
delito = "DELITO"
[incidentes.valores.delito]
homicidio = ["HOMICIDIO"]
robo = ["ROBO"]

[[indicadores]]
archivo = "{xlsx}"
hoja = "Municipios"
municipio = "municipio"
encabezado_departamento = "^\\\\d+-(?P<nombre>.+)$"
anio = 2007
fuente = "DIGESTYC, VI Censo de Población y V de Vivienda 2007"
[indicadores.columnas]
analfabetismo = {{ columna = "Tasa - Analfabetismo", nombre = "Tasa de analfabetismo", unidad = "%", mayor_es_peor = true }}
piso_tierra = {{ columna = "Con Piso de Tierra", nombre = "Viviendas con piso de tierra", unidad = "%", mayor_es_peor = true }}
agua_potable = {{ columna = "Agua Potable", nombre = "Hogares con agua potable", unidad = "%", mayor_es_peor = false }}
{alias}'''
    config = tmp_path / "el_salvador.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_el_salvador_indicators_match_by_name_within_the_department(tmp_path):
    config = el_salvador_config(tmp_path, aliases=True)
    path = tmp_path / "sv.duckdb"
    run(config, path)
    assert q(path, "SELECT count(*) FROM territory WHERE level = 'municipio'") == [(262,)]
    assert q(path, "SELECT count(DISTINCT code) FROM indicator") == [(262,)]
    # Departments in the file follow DIGESTYC order (09-CABAÑAS), OCHA numbers them alphabetically (02).
    cabanas = q(path, "SELECT t.name, t.dept_code, i.value FROM indicator i JOIN territory t ON t.code = i.code "
                      "WHERE t.name = 'Sensuntepeque' AND i.indicator = 'analfabetismo'")
    assert cabanas[0][1] == "02" and cabanas[0][2] == pytest.approx(23.9, abs=5)
    tecla = q(path, "SELECT i.value FROM indicator i JOIN territory t ON t.code = i.code "
                    "WHERE t.name = 'Nueva San Salvador' AND i.indicator = 'analfabetismo'")
    assert len(tecla) == 1
    # The national total row and the source note are kept as rejected rows; nothing else is.
    rejected = q(path, "SELECT row_number, reason FROM rejected_record WHERE source = 'indicadores' ORDER BY 1")
    assert [r[0] for r in rejected] == [2, 280]
    assert "fila con valores pero sin municipio" in rejected[0][1]
    assert "'FUENTE: DIGESTYC - VI CENSO DE POBLACIÓN Y V DE VIVIENDA' no tiene ningún valor de indicador" in rejected[1][1]
    read, loaded, n_rejected = q(path, "SELECT rows_read, rows_loaded, rows_rejected FROM source WHERE source = 'indicadores'")[0]
    assert (read, loaded, n_rejected) == (264, 262, 2)
    assert q(path, "SELECT higher_is_worse FROM indicator_meta WHERE indicator = 'agua_potable'") == [(False,)]


def test_el_salvador_unmatched_names_are_reported_with_suggestions(tmp_path):
    config = el_salvador_config(tmp_path, aliases=False)
    report = run(config, check=True)
    unmatched = {r.row_number: r.reason for r in report.rejected if r.source == "indicadores" and r.rule == "municipio_desconocido"}
    assert len(unmatched) == 6
    cancasque = next(v for v in unmatched.values() if "'Cancasque'" in v)
    assert "en el departamento Chalatenango; ¿quiso decir 'San José Cancasque'" in cancasque
    assert all("puede declarar un alias" in v for v in unmatched.values())
    assert load_config(config).aliases == {}


def test_example_config_is_valid_and_documented():
    cfg = load_config(EXAMPLE)
    assert [s.source for s in cfg.incidents] == ["policia", "medicina_forense", "fiscalia"]
    assert cfg.reconciliation[0].reference == "medicina_forense"
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("\n#") > 30   # the example explains itself
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Cargar datos reales" in readme and "atalaya-load check data/examples/honduras.toml" in readme
    warehouse.close_all()
