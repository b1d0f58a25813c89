"""Real data as it comes: aggregated tables, events with a number of victims, coarser dates and
territories, row selection, placing by coordinates, population by name or with missing years.

The two documented examples (data/examples/honduras_agregados.toml, honduras_eventos.toml) are
built through `atalaya-load build` and every published figure is recomputed here from the source
files themselves, independently of the loader."""
from __future__ import annotations

import csv
import json

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from core import coverage, municipality, rates
from core.filters import Filters, filter_options
from core.load import cli
from core.load.build import run
from core.load.config import ConfigError, load_config
from core.load.load_report import LoadFailed
from tests.conftest import ROOT, shared_file
from tests.source_files import honduras_geography, write_csv

EXAMPLES = ROOT / "data" / "examples"
AGG_FILE = EXAMPLES / "agregados" / "homicidios_departamento_2018_2022.csv"
EVENTS_FILE = EXAMPLES / "eventos" / "eventos_violencia_2020_2022.csv"
ROBBERY_FILE = EXAMPLES / "eventos" / "denuncias_robo_municipio_mes.csv"
IN_SCOPE = {"Homicidio": "homicidio", "Masacre": "homicidio", "Ataque armado": "tentativa_homicidio"}


def q(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _shared():
    for f in ("municipios_sefin.geojson", "departamentos_sefin.geojson", "poblacion_municipal_2020_2025.csv"):
        shared_file(f"honduras/{f}")


# ---------------------------------------------------------------------------------------------
# Aggregated department x year table with its population
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def aggregated(tmp_path_factory):
    _shared()
    path = tmp_path_factory.mktemp("agg") / "warehouse.duckdb"
    assert cli.main(["build", str(EXAMPLES / "honduras_agregados.toml"), "--out", str(path)]) == 0
    return path


def _department_file() -> pd.DataFrame:
    """The table as a person reads it: title, blank line, header, rows, totals, a note."""
    with open(AGG_FILE, encoding="latin-1", newline="") as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    header = lines[2]
    rows = [r for r in lines[3:] if len(r) == len(header)]
    df = pd.DataFrame(rows, columns=header)
    df["count"] = df["HOMICIDIOS"].str.replace(",", "").astype(int)
    df["pop"] = pd.to_numeric(df["POBLACION"].str.replace(",", ""), errors="coerce")
    return df


def test_aggregated_table_loads_at_its_grain_with_every_row_accounted_for(aggregated):
    df = _department_file()
    depts = df[df["DEPARTAMENTO"] != "TOTAL NACIONAL"]
    totals = df[df["DEPARTAMENTO"] == "TOTAL NACIONAL"]
    assert len(depts) == 90 and len(totals) == 5
    # stored as given: 90 department x year counts, none placed in a municipality or a month
    assert q(aggregated, "SELECT count(*), sum(n), count(muni_code), count(month) FROM incident_aggregate") == [
        (90, int(depts["count"].sum()), 0, 0)]
    assert q(aggregated, "SELECT count(*) FROM incident") == [(0,)]
    assert q(aggregated, "SELECT count(*) FROM incident_cube") == [(0,)]  # never spread over months
    # the file's own totals agree with its rows, and the national figure is their sum
    assert int(totals["count"].sum()) == int(depts["count"].sum())
    assert q(aggregated, "SELECT row_unit, count_unit, date_precision, territory_level, record_level, rows_read, "
                         "rows_loaded, rows_rejected, rows_out_of_scope FROM source WHERE source = 'homicidios_depto'") == [
        ("agregado", "victimas", "anio", "departamento", False, 96, 90, 1, 5)]
    for source, read, loaded, rejected, out in q(aggregated, "SELECT source, rows_read, rows_loaded, rows_rejected, "
                                                             "rows_out_of_scope FROM source"):
        assert read == loaded + rejected + out, source
    # the total rows are out of scope (not errors); the note under the table is the one rejection
    assert q(aggregated, "SELECT source, reason, rows, example_row FROM out_of_scope WHERE source = 'homicidios_depto'") == [
        ("homicidios_depto", "fila de total (DEPARTAMENTO = 'TOTAL NACIONAL')", 5, 22)]
    assert q(aggregated, "SELECT row_number FROM rejected_record WHERE source = 'homicidios_depto'") == [(99,)]
    # «FCO. MORAZAN» through [alias.departamentos]
    fm = int(depts.loc[(depts["DEPARTAMENTO"] == "FCO. MORAZAN") & (depts["AÑO"] == "2021"), "count"].iloc[0])
    assert q(aggregated, "SELECT n FROM incident_aggregate WHERE dept_code = '08' AND year = 2021") == [(fm,)]


def test_department_rates_recomputed_from_the_file(aggregated, use_warehouse):
    use_warehouse(aggregated)
    df = _department_file()
    names = {"ATLANTIDA": "Atlántida", "CORTES": "Cortés", "FCO. MORAZAN": "Francisco Morazán", "YORO": "Yoro"}
    for year in (2020, 2021, 2022):
        table = rates.by_department(Filters(year_from=year, year_to=year)).set_index("name")
        for label, name in names.items():
            row = df[(df["DEPARTAMENTO"] == label) & (df["AÑO"] == str(year))].iloc[0]
            assert table.loc[name, "n"] == row["count"]
            assert table.loc[name, "rate"] == pytest.approx(row["count"] / row["pop"] * 1e5, abs=0.01)
    # 2018 has no population in the file: the declared rule takes 2020's, and the rate says so
    row18 = df[(df["DEPARTAMENTO"] == "CORTES") & (df["AÑO"] == "2018")].iloc[0]
    pop20 = df[(df["DEPARTAMENTO"] == "CORTES") & (df["AÑO"] == "2020")].iloc[0]["pop"]
    t18 = rates.by_department(Filters(year_from=2018, year_to=2018)).set_index("name")
    assert t18.loc["Cortés", "rate"] == pytest.approx(row18["count"] / pop20 * 1e5, abs=0.01)
    note = rates.person_years(Filters(year_from=2018, year_to=2019)).note
    assert "2018: año más cercano (2020)" in note and "2019: año más cercano (2020)" in note
    assert rates.person_years(Filters(year_from=2021, year_to=2022)).note is None
    # national rate: every department's count over the country's population
    nat = df[df["DEPARTAMENTO"] == "TOTAL NACIONAL"].set_index("AÑO")
    head = rates.headline(Filters(year_from=2022, year_to=2022))
    assert head.count == nat.loc["2022", "count"]
    assert head.rate == pytest.approx(nat.loc["2022", "count"] / nat.loc["2022", "pop"] * 1e5, abs=0.01)


def test_views_that_need_months_or_municipalities_say_what_they_leave_out(aggregated, use_warehouse):
    use_warehouse(aggregated)
    f = Filters().resolved(filter_options())
    total = int(_department_file().query("DEPARTAMENTO != 'TOTAL NACIONAL'")["count"].sum())
    assert rates.monthly(f, None).empty
    assert rates.yearly(f, None)["n"].sum() == total
    assert rates.by_municipality(f)["n"].sum() == 0   # nothing invented for municipalities
    assert rates.by_municipality(f)["rate"].isna().all()  # no municipal population either
    month = coverage.left_out(f, "mes")
    muni = coverage.left_out(f, "municipio")
    assert month == (f"La serie mensual no incluye {total:,} víctimas de Observatorio de la Violencia (tabla "
                     "departamental) (la fuente da solo el año).")
    assert muni.startswith(f"Las cifras por municipio no incluyen {total:,} víctimas")
    n08 = q(aggregated, "SELECT sum(n) FROM incident_aggregate WHERE dept_code = '08'")[0][0]
    assert coverage.department_only_note(f, "08", "Francisco Morazán").startswith(
        f"En Francisco Morazán hay además {n08:,} víctimas que una fuente da solo por departamento")
    assert coverage.other_unit(f) is None


# ---------------------------------------------------------------------------------------------
# Events with a number of victims, out-of-scope rows, placing by coordinates; monthly counts
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def events(tmp_path_factory):
    _shared()
    path = tmp_path_factory.mktemp("events") / "warehouse.duckdb"
    report = run(EXAMPLES / "honduras_eventos.toml", path)
    return path, report


def _events_file() -> pd.DataFrame:
    df = pd.read_csv(EVENTS_FILE, dtype=str, keep_default_na=False)
    df["deaths"] = df["fallecidos"].astype(int)
    df["row"] = np.arange(2, len(df) + 2)
    return df


def test_events_count_their_victims_and_themselves_never_added(events, use_warehouse):
    path, _ = events
    use_warehouse(path)
    df = _events_file()
    scope = df[df["tipo_evento"].isin(IN_SCOPE)].assign(crime=lambda d: d["tipo_evento"].map(IN_SCOPE))
    robbery = pd.read_csv(ROBBERY_FILE, dtype={"cod_municipio": str})
    opts = filter_options()
    assert opts.units == ("victimas", "hechos")
    victims = rates.total_count(Filters().resolved(opts))
    hechos = rates.total_count(Filters(unit="hechos").resolved(opts))
    assert victims == scope["deaths"].sum()
    assert hechos == len(scope) + robbery["denuncias_robo"].sum()
    # an armed attack without deaths is an event, never a victim
    attacks = scope[scope["crime"] == "tentativa_homicidio"]
    assert len(attacks) > 0 and attacks["deaths"].sum() == 0
    assert rates.total_count(Filters(crime_types=("tentativa_homicidio",)).resolved(opts)) == 0
    assert rates.total_count(Filters(crime_types=("tentativa_homicidio",), unit="hechos").resolved(opts)) == len(attacks)
    # every record keeps its victims; the cubes hold each unit apart
    assert q(path, "SELECT count(*), sum(victims), count(*) FILTER (WHERE is_event) FROM incident") == [
        (len(scope), int(scope["deaths"].sum()), len(scope))]
    assert q(path, "SELECT unit, sum(n) FROM incident_year_cube GROUP BY unit ORDER BY unit") == [
        ("hechos", int(hechos)), ("victimas", int(victims))]
    # a record-level view counts victims or events of the same records
    dc = scope[scope["municipio"] == "DISTRITO CENTRAL"]
    assert municipality.weekday_hour(Filters().resolved(opts), "0801")["n"].sum() >= dc["deaths"].sum()
    assert municipality.weekday_hour(Filters(unit="hechos").resolved(opts), "0801")["n"].sum() == q(
        path, "SELECT count(*) FROM incident WHERE muni_code = '0801'")[0][0]
    assert "no se suman a las víctimas" in coverage.other_unit(Filters().resolved(opts))


def test_out_of_scope_rows_are_counted_apart_not_rejected(events):
    path, report = events
    df = _events_file()
    out = df[~df["tipo_evento"].isin(IN_SCOPE)]
    expected = {f"tipo_evento = '{k}' no está en seleccion.incluir": (len(g), int(g["row"].min()))
                for k, g in out.groupby("tipo_evento")}
    got = {r[0]: (r[1], r[2]) for r in q(path, "SELECT reason, rows, example_row FROM out_of_scope WHERE source = 'eventos'")}
    assert got == expected
    assert q(path, "SELECT rows_read, rows_loaded, rows_rejected, rows_out_of_scope FROM source WHERE source = 'eventos'") == [
        (len(df), len(df) - len(out), 0, len(out))]
    assert q(path, "SELECT count(*) FROM rejected_record") == [(0,)]
    # a third of the file is out of scope: far above the 5 % threshold, and the load went through
    assert len(out) / len(df) > 0.3
    assert "fuera de alcance" in report.render()


def test_rows_without_municipality_are_placed_by_their_coordinates(events):
    path, _ = events
    df = _events_file()
    blank = df[df["tipo_evento"].isin(IN_SCOPE) & (df["municipio"] == "")]
    assert len(blank) > 100
    layer = gpd.read_file(shared_file("honduras/municipios_sefin.geojson"))
    layer = layer[layer["GEOCODIGO"].notna()]
    sample = blank.sample(60, random_state=1)
    placed = dict(q(path, "SELECT source_record_id, muni_code FROM incident WHERE list_contains(?, source_record_id)",
                    [sample["id_evento"].tolist()]))
    for rec in sample.itertuples(index=False):
        point = Point(float(rec.longitud), float(rec.latitud))
        inside = layer[layer.geometry.contains(point)]["GEOCODIGO"].str[:4].tolist()
        assert placed[rec.id_evento] == inside[0], rec.id_evento
    finding = q(path, "SELECT count, example FROM quality_issue WHERE rule = 'municipio_por_coordenadas'")
    assert finding[0][0] == len(blank) and "por sus coordenadas" in finding[0][1]


def test_monthly_municipal_counts_in_hechos(events, use_warehouse):
    path, _ = events
    use_warehouse(path)
    robbery = pd.read_csv(ROBBERY_FILE, dtype={"cod_municipio": str})
    months = {m: i + 1 for i, m in enumerate(("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                                              "septiembre", "octubre", "noviembre", "diciembre"))}
    robbery["month"] = robbery["mes"].str.lower().map(months)
    f = Filters(crime_types=("robo",), unit="hechos").resolved(filter_options())
    series = rates.monthly(f, None).assign(month=lambda d: pd.to_datetime(d["month"]))
    got = {(m.year, m.month): n for m, n in zip(series["month"], series["n"])}
    want = robbery.groupby(["anio", "month"])["denuncias_robo"].sum()
    assert got == {(int(y), int(m)): int(n) for (y, m), n in want.items()}
    dc = rates.by_municipality(f).set_index("code").loc["0801"]
    assert dc["n"] == robbery.loc[robbery["cod_municipio"] == "0801", "denuncias_robo"].sum()
    person_years = q(path, "SELECT sum(population) FROM population WHERE code = '0801' AND year BETWEEN 2020 AND 2022")[0][0]
    assert dc["rate"] == pytest.approx(dc["n"] / person_years * 1e5)
    # robbery counts have no records: day-level views say so
    assert "Policía Nacional (denuncias de robo)" in coverage.left_out(f, "registro")
    assert coverage.left_out(f, "mes") is None


# ---------------------------------------------------------------------------------------------
# Small configs: each declaration and each mistake
# ---------------------------------------------------------------------------------------------

def _config(tmp_path, source: str, population: str | None = None, tail: str = "", threshold: float = 0.05):
    _shared()
    text = honduras_geography(threshold)
    if population:
        text = text[:text.index("[poblacion]")] + population
    path = tmp_path / "carga.toml"
    path.write_text(text + source + tail, encoding="utf-8")
    return path


AGG_SOURCE = '''
[[incidentes]]
fuente = "tabla"
institucion = "Tabla"
archivo = "{file}"
unidad_fila = "agregado"
unidad = "victimas"
precision_fecha = "anio"
nivel_territorio = "departamento"
constantes = {{ delito = "homicidio" }}
[incidentes.columnas]
departamento = "depto"
anio = "anio"
cantidad = "n"
'''


def test_counts_must_be_whole_non_negative_numbers(tmp_path):
    rows = [["Cortés", "2021", "10"], ["Yoro", "2021", "-3"], ["Olancho", "2021", "2.5"], ["Valle", "2021", "muchos"],
            ["Colón", "2021", ""], ["Atlántida", "2021", "1,204"], ["Copán", "2021", "0"]] + \
           [["Lempira", str(y), "5"] for y in (2020, 2022)] * 1
    file = write_csv(tmp_path / "tabla.csv", rows, header=["depto", "anio", "n"])
    cfg = _config(tmp_path, AGG_SOURCE.format(file=file), threshold=0.9)
    path = tmp_path / "w.duckdb"
    run(cfg, path)
    reasons = dict(q(path, "SELECT row_number, reason FROM rejected_record WHERE source = 'tabla'"))
    assert reasons[3] == ("tabla: tabla.csv fila 3, columna n: '-3' no es un número entero mayor o igual que 0 "
                          "(cantidad (victimas); se esperaba p. ej. 0, 3 o 1,204)")
    assert "'2.5' no es un número entero" in reasons[4] and "'muchos' no es un número entero" in reasons[5]
    assert "fila 6, columna n: vacío no es un número entero" in reasons[6]
    assert q(path, "SELECT dept_code, n FROM incident_aggregate WHERE year = 2021 ORDER BY dept_code") == [
        ("01", 1204), ("04", 0), ("05", 10)]


def test_department_names_get_aliases_suggestions_and_the_full_list(tmp_path):
    rows = [["Cortes", "2021", "10"], ["Fco. Morazán", "2021", "20"], ["Santa Barbra", "2021", "3"],
            ["Narnia", "2021", "1"]]
    file = write_csv(tmp_path / "tabla.csv", rows, header=["depto", "anio", "n"])
    cfg = _config(tmp_path, AGG_SOURCE.format(file=file), tail='\n[alias.departamentos]\n"Fco. Morazán" = "08"\n',
                  threshold=0.9)
    path = tmp_path / "w.duckdb"
    run(cfg, path)
    assert q(path, "SELECT dept_code, n FROM incident_aggregate ORDER BY dept_code") == [("05", 10), ("08", 20)]
    reasons = dict(q(path, "SELECT row_number, reason FROM rejected_record"))
    assert "'Santa Barbra' no es un departamento de la capa; ¿quiso decir 'Santa Barbara'" in reasons[4]
    every = "Atlantida, Choluteca, Colon, Comayagua, Copan, Cortes, El Paraiso, Francisco Morazan, Gracias A Dios, " \
            "Intibuca, Islas de La Bahia, La Paz, Lempira, Ocotepeque, Olancho, Santa Barbara, Valle, Yoro"
    assert f"(departamentos: {every}; puede declarar un alias en [alias.departamentos])" in reasons[5]


def test_country_column_and_constant(tmp_path):
    header = ["pais", "depto", "anio", "n"]
    rows = [["Honduras", "La Paz", "2021", "7"], ["El Salvador", "La Paz", "2021", "9"], ["HN", "Valle", "2021", "2"]]
    file = write_csv(tmp_path / "tabla.csv", rows, header=header)
    source = AGG_SOURCE.format(file=file).replace('departamento = "depto"', 'departamento = "depto"\npais = "pais"')
    path = tmp_path / "w.duckdb"
    run(_config(tmp_path, source), path)
    # La Paz exists in both countries: the Salvadoran row is out of scope, never added to Honduras' La Paz
    assert q(path, "SELECT dept_code, n FROM incident_aggregate ORDER BY dept_code") == [("12", 7), ("17", 2)]
    assert q(path, "SELECT reason, rows FROM out_of_scope") == [
        ("pais = 'El Salvador': otro país (el almacén es de Honduras)", 1)]
    other = AGG_SOURCE.format(file=file).replace('constantes = { delito = "homicidio" }',
                                                 'constantes = { delito = "homicidio", pais = "SV" }')
    with pytest.raises(LoadFailed) as err:
        run(_config(tmp_path, other), tmp_path / "w2.duckdb")
    assert "[incidentes.tabla.constantes.pais] 'SV' no es el país de este almacén (HN, Honduras)" in str(err.value)


def test_config_mistakes_are_explained(tmp_path):
    file = write_csv(tmp_path / "t.csv", [["Yoro", "2021", "1"]], header=["depto", "anio", "n"])
    base = AGG_SOURCE.format(file=file)
    cases = {
        base.replace('cantidad = "n"', ''): "una fuente agregada (unidad_fila = \"agregado\") necesita la columna 'cantidad'",
        base.replace('unidad = "victimas"', 'unidad = "personas"'): "'personas' no es válido; use \"victimas\" o \"hechos\"",
        base.replace('unidad_fila = "agregado"', 'unidad_fila = "hecho"'): "necesita la columna 'victimas'",
        base.replace('precision_fecha = "anio"', 'precision_fecha = "semana"'): "'semana' no es válido; use uno de ['dia', 'mes', 'anio']",
        base.replace('precision_fecha = "anio"', 'precision_fecha = "mes"'):
            "precision_fecha = \"mes\" con 'anio' necesita también la columna 'mes'",
        base.replace('departamento = "depto"', 'municipio = "depto"'):
            "nivel_territorio = \"departamento\" necesita 'departamento_codigo' o 'departamento'",
        base.replace("[incidentes.columnas]", 'seleccion = { incluir = { tipo = [] } }\n[incidentes.columnas]'):
            "seleccion.incluir.tipo] se esperaba una lista de valores",
        base + 'sexo = { nombre = "x" }\n': "[incidentes.tabla.columnas.sexo] se esperaba el nombre de una columna",
        base.replace('fuente = "tabla"', 'fuente = "tabla"\nfiltro = 1'): "claves desconocidas ['filtro']",
    }
    for source, message in cases.items():
        with pytest.raises(ConfigError) as err:
            load_config(_config(tmp_path, source))
        assert any(message in p for p in err.value.problems), (message, err.value.problems)
    maximo = '\n[conciliacion]\ndelitos = ["homicidio"]\nregla = "maximo"\n'
    with pytest.raises(ConfigError) as err:
        load_config(_config(tmp_path, base, tail=maximo))
    assert any("la regla 'maximo' compara registros por municipio y mes; las fuentes ['tabla']" in p
               for p in err.value.problems)


EVENT_SOURCE = '''
[[incidentes]]
fuente = "hechos"
institucion = "Hechos"
archivo = "{file}"
unidad_fila = "hecho"
formato_fecha = ["%d/%m/%Y"]
ubicar_por_coordenadas = "{mode}"
valores_vacios = ["N/D", "-"]
[incidentes.columnas]
fecha = "fecha"
delito = "tipo"
{muni}
latitud = "lat"
longitud = "lon"
victimas = "muertos"
[incidentes.valores.delito]
homicidio = ["Homicidio"]
'''


def test_placing_by_coordinates_always_or_only_with_coordinates(tmp_path):
    # 14.0818, -87.2068 is in Distrito Central (0801); 15.5042, -88.0250 in San Pedro Sula (0501)
    rows = [["01/02/2021", "Homicidio", "0501", "14.0818", "-87.2068", "2"],
            ["02/02/2021", "Homicidio", "N/D", "15.5042", "-88.0250", "1"],
            ["03/02/2021", "Homicidio", "-", "N/D", "N/D", "1"]]
    file = write_csv(tmp_path / "h.csv", rows, header=["fecha", "tipo", "muni", "lat", "lon", "muertos"])
    path = tmp_path / "w.duckdb"
    muni = 'municipio_codigo = { columna = "muni", rellenar = 4 }'
    cfg = _config(tmp_path, EVENT_SOURCE.format(file=file, mode="siempre", muni=muni), threshold=0.5)
    run(cfg, path)
    assert q(path, "SELECT occurred_on::VARCHAR, muni_code, victims FROM incident ORDER BY occurred_on") == [
        ("2021-02-01", "0801", 2), ("2021-02-02", "0501", 1)]
    assert "sin_municipio" not in str(q(path, "SELECT reason FROM rejected_record")) and \
        q(path, "SELECT count(*) FROM rejected_record") == [(1,)]
    only_xy = EVENT_SOURCE.format(file=file, mode="si_falta", muni="")
    path2 = tmp_path / "w2.duckdb"
    cfg = _config(tmp_path, only_xy, threshold=0.5)
    run(cfg, path2)
    assert q(path2, "SELECT muni_code FROM incident ORDER BY occurred_on") == [("0801",), ("0501",)]
    assert q(path2, "SELECT reason FROM rejected_record") == [(
        "hechos: h.csv fila 4, columna lon/lat: vacío no cae dentro de ningún municipio de la capa (el archivo no "
        "tiene columna de municipio: cada fila se ubica por sus coordenadas)",)]


def test_population_by_name_with_interpolated_years(tmp_path):
    _shared()
    real = pd.read_csv(shared_file("honduras/poblacion_municipal_2020_2025.csv"), dtype={"cod_municipio": str})
    # a census for 2020 and 2022 only, by department name and municipality name
    pop = pd.DataFrame({"depto": real["departamento"], "muni": real["municipio_fuente"],
                        "p2020": real["pob_2020"], "p2022": real["pob_2022"]})
    pop_file = tmp_path / "pob.csv"
    pop.to_csv(pop_file, index=False)
    population = f'''[poblacion]
archivo = "{pop_file}"
departamento = "depto"
municipio = "muni"
anios = {{ prefijo = "p" }}
completar_anios = "interpolacion_lineal"
fuente = "Censos 2020 y 2022"
'''
    rows = [["Cortés", "2021", "10"]]
    file = write_csv(tmp_path / "tabla.csv", rows, header=["depto", "anio", "n"])
    aliases = (ROOT / "data" / "examples" / "honduras.toml").read_text(encoding="utf-8")
    aliases = aliases[aliases.index("[alias.municipios]"):aliases.index("# ----", aliases.index("[alias.municipios]"))]
    # the layer's broken names (U+FFFD) corrected by code, as in the documented example
    fixes = 'nombres = { "0313" = "San Jerónimo", "0403" = "Concepción", "0904" = "Juan Francisco Bulnes", ' \
            '"0905" = "Ramón Villeda Morales" }\n'
    path = tmp_path / "w.duckdb"
    cfg = _config(tmp_path, AGG_SOURCE.format(file=file), population=population, tail="\n" + aliases)
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace('padre = { columna = "GEOCODIGO", fin = 2 }\nnombre = "NOMBRE"\n',
                                'padre = { columna = "GEOCODIGO", fin = 2 }\nnombre = "NOMBRE"\n' + fixes), encoding="utf-8")
    run(cfg, path)
    got = dict(((c, y), (p, e)) for c, y, p, e in q(
        path, "SELECT code, year, population, estimated FROM population WHERE code = '0801'"))
    r = real.set_index("cod_municipio").loc["0801"]
    assert got[("0801", 2020)] == (r["pob_2020"], None)
    assert got[("0801", 2021)] == (pytest.approx((r["pob_2020"] + r["pob_2022"]) / 2), "interpolación lineal 2020-2022")
    assert q(path, "SELECT count(*) FROM population p JOIN territory t USING (code) WHERE t.level = 'municipio' "
                   "AND year = 2021 AND estimated IS NOT NULL") == [(298,)]
    # without the rule, the load stops and says which years the file has and how to declare the rule
    with pytest.raises(LoadFailed) as err:
        cfg.write_text(cfg.read_text(encoding="utf-8").replace('completar_anios = "interpolacion_lineal"\n', ""),
                       encoding="utf-8")
        run(cfg, tmp_path / "w3.duckdb")
    assert "faltan 298 combinaciones municipio × año" in str(err.value)
    assert "el archivo tiene los años 2020, 2022: declare completar_anios" in str(err.value)


def test_monthly_dates_from_a_date_column_and_a_failed_load_publishes_nothing(tmp_path):
    rows = [["2021-03", "Cortés", "4"], ["2021-04", "Cortés", "6"], ["2019-12", "Cortés", "5"]]
    file = write_csv(tmp_path / "m.csv", rows, header=["periodo", "depto", "n"])
    source = AGG_SOURCE.format(file=file).replace('precision_fecha = "anio"', 'precision_fecha = "mes"\nformato_fecha = "%Y-%m"') \
        .replace('anio = "anio"', 'fecha = "periodo"')
    path = tmp_path / "w.duckdb"
    cfg = _config(tmp_path, source, threshold=0.5)
    run(cfg, path)
    assert q(path, "SELECT month::VARCHAR, n FROM incident_aggregate ORDER BY month") == [("2021-03-01", 4), ("2021-04-01", 6)]
    assert q(path, "SELECT reason FROM rejected_record") == [(
        "tabla: m.csv fila 4, columna periodo: '2019-12' está fuera del periodo declarado (2020-01-01 a 2022-12-31; "
        "la fuente da solo el mes)",)]
    before = path.read_bytes()
    cfg.write_text(cfg.read_text().replace("umbral_rechazo = 0.5", "umbral_rechazo = 0.1"))
    with pytest.raises(LoadFailed):
        run(cfg, path)
    assert path.read_bytes() == before
    assert json.loads(q(path, "SELECT raw FROM rejected_record")[0][0]) == {"periodo": "2019-12", "depto": "Cortés", "n": "5"}


PAGES = ["resumen", "mapa", "municipio", "escuelas", "informes", "alertas", "datos_abiertos", "boletin", "calidad",
         "metodologia"]


@pytest.mark.parametrize("example", ["aggregated", "events"])
def test_every_page_runs_on_each_example(example, request, use_warehouse):
    from tests.apptest import run_app

    built = request.getfixturevalue(example)
    use_warehouse(built[0] if isinstance(built, tuple) else built)
    for page in PAGES:
        for params in ({}, {"unidad": "hechos"}):
            at = run_app(params, page=page)
            assert not at.exception, (example, page, params, [e.message for e in at.exception])
            shown = " ".join(str(getattr(e, "value", "")) for e in at.markdown) + " ".join(m.value for m in at.caption)
            assert "None" not in shown, (example, page, params)


DATE_SOURCE = '''
[[incidentes]]
fuente = "fechas"
institucion = "Fechas"
archivo = "{file}"
formato_fecha = ["{fmt}"]
[incidentes.columnas]
fecha = "fecha"
municipio_codigo = {{ columna = "muni", rellenar = 4 }}
delito = "tipo"
[incidentes.valores.delito]
homicidio = ["Homicidio"]
'''


def test_a_day_month_order_the_data_contradict_stops_the_load(tmp_path):
    # month/day data declared as day/month: some values read both ways and would be swapped silently
    us = [["03/25/2021", "0801", "Homicidio"], ["04/02/2021", "0801", "Homicidio"], ["12/31/2021", "0501", "Homicidio"]]
    file = write_csv(tmp_path / "us.csv", us, header=["fecha", "muni", "tipo"])
    with pytest.raises(LoadFailed) as err:
        run(_config(tmp_path, DATE_SOURCE.format(file=file, fmt="%d/%m/%Y"), threshold=0.9), tmp_path / "w.duckdb")
    assert ("fechas: us.csv, columna fecha: formato_fecha declara DD/MM/AAAA, pero 2 valores solo se leen como "
            "MM/DD/AAAA (p. ej. '03/25/2021' (fila 2)) y ninguno confirma el orden declarado") in str(err.value)
    assert not (tmp_path / "w.duckdb").exists()
    # the right declaration loads, with 2 April (not 4 February)
    run(_config(tmp_path, DATE_SOURCE.format(file=file, fmt="%m/%d/%Y")), tmp_path / "w.duckdb")
    assert q(tmp_path / "w.duckdb", "SELECT occurred_on::VARCHAR FROM incident ORDER BY occurred_on") == [
        ("2021-03-25",), ("2021-04-02",), ("2021-12-31",)]
    # a file with both orders cannot be read with certainty
    mixed = us + [["25/03/2021", "0801", "Homicidio"]]
    file = write_csv(tmp_path / "mixed.csv", mixed, header=["fecha", "muni", "tipo"])
    with pytest.raises(LoadFailed) as err:
        run(_config(tmp_path, DATE_SOURCE.format(file=file, fmt="%d/%m/%Y"), threshold=0.9), tmp_path / "w2.duckdb")
    assert ("el archivo mezcla dos órdenes de fecha: 1 valores solo se leen como DD/MM/AAAA (p. ej. '25/03/2021', "
            "fila 5) y 2 solo como MM/DD/AAAA") in str(err.value)


def test_a_date_format_that_matches_no_row_is_explained(tmp_path):
    # ISO dates (AAAA-MM-DD) are read whatever the declared format: they cannot be misread
    rows = [["2021-03-25", "0801", "Homicidio"], ["2021-04-02", "0801", "Homicidio"]]
    file = write_csv(tmp_path / "iso.csv", rows, header=["fecha", "muni", "tipo"])
    run(_config(tmp_path, DATE_SOURCE.format(file=file, fmt="%d.%m.%Y")), tmp_path / "iso.duckdb")
    assert q(tmp_path / "iso.duckdb", "SELECT count(*) FROM incident") == [(2,)]
    # a format that reads no value: every row rejected with the expected format, no Python error
    rows = [["25.03.2021 10h", "0801", "Homicidio"], ["02.04.2021 11h", "0801", "Homicidio"]]
    file = write_csv(tmp_path / "dots.csv", rows, header=["fecha", "muni", "tipo"])
    with pytest.raises(LoadFailed) as err:
        run(_config(tmp_path, DATE_SOURCE.format(file=file, fmt="%d/%m/%Y")), tmp_path / "w.duckdb")
    assert ("se rechazaron 2 de 2 filas (100.0 %), más que el umbral de 5.0 %; motivos principales: fecha_invalida (2); "
            "ejemplo del más frecuente: fechas: dots.csv fila 2, columna fecha: '25.03.2021 10h' no es una fecha "
            "válida (se esperaba DD/MM/AAAA)") in str(err.value)


def test_a_wrong_separator_is_named_in_the_missing_column_message(tmp_path):
    rows = [["25/03/2021", "0801", "Homicidio"]]
    file = write_csv(tmp_path / "coma.csv", rows, header=["fecha", "muni", "tipo"])
    source = DATE_SOURCE.format(file=file, fmt="%d/%m/%Y").replace('formato_fecha', 'separador = ";"\nformato_fecha')
    with pytest.raises(LoadFailed) as err:
        run(_config(tmp_path, source), tmp_path / "w.duckdb")
    assert ("coma.csv: falta la columna 'fecha' (fecha del hecho); columnas del archivo: ['fecha,muni,tipo']; el "
            "encabezado contiene coma y se leyó con punto y coma: ¿separador equivocado? (pruebe separador = \"auto\" "
            "o \",\")") in str(err.value)
