"""atalaya-load build/check with real Honduras geography and population and synthetic incident
files carrying the defects observatories receive: each defect gets its clear message and no row
is lost; a failed load leaves the published warehouse untouched."""
from __future__ import annotations

import hashlib
import json

import duckdb
import pytest

from core import quality
from core.filters import Filters
from core.load import cli
from core.load.build import run
from core.load.config import ConfigError, load_config
from core.load.load_report import LoadFailed
from tests import fixture_warehouse
from tests.conftest import shared_file
from tests.source_files import excel, good_rows, incident_source, write_config, write_csv


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def defects(tmp_path_factory):
    """A config with three sources full of defects, built once; returns (report, warehouse path, files)."""
    d = tmp_path_factory.mktemp("defects")
    latin = good_rows(60, "POL")
    latin[4][4] = "F"
    latin.append(["POL-0061", "31/02/2021", "0801", "HOMICIDIO", "M", "30"])     # impossible date -> row 62
    latin.append(["POL-0062", "15/03/2021", "9999", "ROBO", "M", "30"])          # unknown municipality -> row 63
    latin.append(["POL-0063", "16/03/2021", "0801", "ROBO", "M", "-4"])          # negative age -> row 64
    latin.append(["POL-0064", "17/03/2021", "0801", "ROBO", "F", "150"])         # 150 years -> row 65
    latin.append(["POL-0001", "18/03/2021", "0801", "ROBO", "F", "40"])          # duplicate id -> row 66
    latin.append(["POL-0066", "19/03/2021", "0801", "ROBO", "Señora", "40"])    # unknown sex -> row 67
    latin.append(["POL-0067", "19/03/2019", "0801", "ROBO", "M", "40"])          # outside period -> row 68
    policia = write_csv(d / "sepol_2021.csv", latin, encoding="latin-1", delimiter=";",
                        trailer="Total de registros: 67 - Fin del reporte")       # junk line -> row 69
    bom_rows = good_rows(40, "FIS", start_day=3)
    fiscalia = write_csv(d / "fiscalia.csv", bom_rows, encoding="utf-8-sig")
    names = [["MF-1", "2021-05-01", "Cortés", "San Pedro Sula", "HOMICIDIO", "M", "20"],
             ["MF-2", "2021-05-02", "CORTES", "SAN PEDRO SULA", "HOMICIDIO", "M", "21"],
             ["MF-3", "2021-05-03", "Francisco Morazán", "Distrito  Central", "HOMICIDIO", "F", "22"],
             ["MF-4", "2021-05-04", "Cortés", "San Pedro Sul", "HOMICIDIO", "M", "23"],      # unresolved, suggestion
             ["MF-5", "2021-05-05", "Cortes", "Cholutek", "HOMICIDIO", "M", "24"]]
    names += [[f"MF-{i}", "2021-06-01", "Atlántida", "La Ceiba", "HOMICIDIO", "M", "30"] for i in range(6, 60)]
    import pandas as pd
    pd.DataFrame(names, columns=["ID", "FECHA", "DEPTO", "MUNI", "DELITO", "SEXO", "EDAD"]).to_excel(
        d / "forense.xlsx", sheet_name="Necropsias", index=False)
    config = write_config(
        d / "carga.toml",
        incident_source("policia", [policia]),
        incident_source("fiscalia", [fiscalia]),
        incident_source("forense", [d / "forense.xlsx"], extra='hoja = "Necropsias"\nformato_fecha = ["%Y-%m-%d"]',
                        columns='id = "ID"\nfecha = "FECHA"\ndepartamento = "DEPTO"\nmunicipio = "MUNI"\n'
                                'delito = "DELITO"\nsexo = "SEXO"\nedad = "EDAD"'),
        tail='\n[alias.municipios]\n"Cortés/Cholutek" = "0501"\n', threshold=0.2,
    )
    target = d / "w.duckdb"
    report = run(config, target)
    return report, target, d


def q(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def reasons(path, source):
    return {r[0]: r[1] for r in q(path, "SELECT row_number, reason FROM rejected_record WHERE source = ?", [source])}


def test_each_defect_has_its_message(defects):
    _, path, _ = defects
    pol = reasons(path, "policia")
    assert pol[62] == "policia: sepol_2021.csv fila 62, columna FECHA: '31/02/2021' no es una fecha válida (se esperaba DD/MM/AAAA)"
    assert pol[63].startswith(
        "policia: sepol_2021.csv fila 63, columna COD_MUNI: '9999' no es un código de municipio de la capa (4 caracteres")
    assert pol[66] == ("policia: sepol_2021.csv fila 66, columna ID: 'POL-0001' está repetido "
                       "(ya aparece en sepol_2021.csv fila 2)")
    assert "fila 68, columna FECHA: '19/03/2019' está fuera del periodo declarado (2020-01-01 a 2022-12-31)" in pol[68]
    assert pol[69].startswith("policia: sepol_2021.csv fila 69: la fila tiene 1 campos y el encabezado 6 (separador: punto y coma)")
    assert set(pol) == {62, 63, 66, 68, 69}
    issues = {r[0]: r[1] for r in q(path, "SELECT row_number, message FROM field_issue WHERE source = 'policia'")}
    assert issues[64] == ("policia: sepol_2021.csv fila 64, columna EDAD: '-4' no es una edad válida "
                          "(se esperaba un entero de 0 a 110 años): se registra sin dato")
    assert "fila 65, columna EDAD: '150' no es una edad válida" in issues[65]
    assert "fila 67, columna SEXO: 'Señora' no es un sexo reconocido" in issues[67]
    # The records with a bad age or sex are kept, with the field unknown.
    kept = q(path, "SELECT source_record_id, victim_age, age_group, victim_sex FROM incident "
                   "WHERE source_record_id IN ('POL-0063', 'POL-0064', 'POL-0066') ORDER BY 1")
    assert kept == [("POL-0063", None, "ND", "H"), ("POL-0064", None, "ND", "M"), ("POL-0066", 40, "30-44", "ND")]


def test_names_resolve_insensitively_and_unresolved_ones_get_suggestions(defects):
    _, path, _ = defects
    got = dict(q(path, "SELECT source_record_id, muni_code FROM incident WHERE source = 'forense' AND source_record_id IN "
                       "('MF-1', 'MF-2', 'MF-3', 'MF-5')"))
    assert got == {"MF-1": "0501", "MF-2": "0501", "MF-3": "0801", "MF-5": "0501"}   # accents, case, spaces, alias
    forense = reasons(path, "forense")
    assert set(forense) == {5}
    assert forense[5] == ("forense: forense.xlsx fila 5, columna MUNI: 'San Pedro Sul' no coincide con ningún municipio "
                          "en el departamento Cortes; ¿quiso decir 'San Pedro Sula' (96 %)? "
                          "(puede declarar un alias en [alias.municipios])")


def test_nothing_is_lost(defects):
    report, path, _ = defects
    for source, read, loaded, rejected in q(path, "SELECT source, rows_read, rows_loaded, rows_rejected FROM source "
                                                  "WHERE source <> 'poblacion'"):
        assert read == loaded + rejected, source
        assert loaded == q(path, "SELECT count(*) FROM incident WHERE source = ?", [source])[0][0]
        assert rejected == q(path, "SELECT count(*) FROM rejected_record WHERE source = ?", [source])[0][0]
    assert q(path, "SELECT rows_read, rows_rejected FROM source WHERE source = 'policia'") == [(68, 5)]
    raw = json.loads(q(path, "SELECT raw FROM rejected_record WHERE source = 'policia' AND row_number = 62")[0][0])
    assert raw == {"ID": "POL-0061", "FECHA": "31/02/2021", "COD_MUNI": "0801", "DELITO": "HOMICIDIO", "SEXO": "M", "EDAD": "30"}
    # The BOM is not part of the first column name: every UTF-8-with-BOM row loaded.
    assert q(path, "SELECT rows_read, rows_loaded FROM source WHERE source = 'fiscalia'") == [(40, 40)]
    assert q(path, "SELECT count(*) FROM quality_issue WHERE rule = 'rechazo:fecha_invalida' AND count = 1") == [(1,)]


def test_real_honduras_geography_and_population(defects):
    _, path, _ = defects
    assert q(path, "SELECT level, count(*) FROM territory GROUP BY level ORDER BY level") == [("departamento", 18), ("municipio", 298)]
    assert q(path, "SELECT count(*) FROM territory WHERE name = 'Lago de Yojoa'") == [(0,)]   # the lake is dropped
    assert q(path, "SELECT name, dept_code FROM territory WHERE code = '0801'") == [("Distrito Central", "08")]
    assert q(path, "SELECT sum(population) FROM population JOIN territory USING (code) WHERE year = 2020 "
                   "AND level = 'municipio'") == [(9_304_370,)]
    # each department's population is the sum of its municipalities, written once at load time
    assert q(path, "SELECT sum(population) FROM population JOIN territory USING (code) WHERE year = 2020 "
                   "AND level = 'departamento'") == [(9_304_370,)]
    assert q(path, "SELECT population FROM population WHERE code = '0101' AND year = 2020") == [(222_056,)]
    broken = q(path, "SELECT count, example FROM quality_issue WHERE rule = 'municipio_nombre_con_caracter_roto'")
    assert broken[0][0] == 3 and "0313" in broken[0][1]
    assert q(path, "SELECT name FROM territory WHERE code = '0904'") == [("Juan Francisco Bulnes",)]  # double space


def test_empty_file_wrong_sheet_missing_column_fail_and_keep_the_published_file(tmp_path):
    published = fixture_warehouse.build(tmp_path / "w.duckdb")
    before = sha(published)
    empty = tmp_path / "vacio.csv"
    empty.write_bytes(b"")
    ok = write_csv(tmp_path / "ok.csv", good_rows(10, "A"))
    book = excel(tmp_path / "libro.xlsx", good_rows(10, "B"), sheet="Hoja1")
    renamed = write_csv(tmp_path / "renombrado.csv", good_rows(10, "C"), header=["ID", "FECHA_HECHO", "COD_MUNI", "DELITO", "SEXO", "EDAD"])
    config = write_config(tmp_path / "c.toml", incident_source("a", [ok, empty]),
                          incident_source("b", [book], extra='hoja = "Datos"'),
                          incident_source("c", [renamed]))
    with pytest.raises(LoadFailed) as info:
        run(config, published)
    errors = "\n".join(info.value.report.errors)
    assert "incidentes.a: vacio.csv: el archivo está vacío (0 bytes)" in errors
    assert "incidentes.b: libro.xlsx: no existe la hoja 'Datos'; hojas del libro: ['Hoja1']" in errors
    assert ("incidentes.c: renombrado.csv: falta la columna 'FECHA' (fecha del hecho); columnas del archivo: "
            "['ID', 'FECHA_HECHO', 'COD_MUNI', 'DELITO', 'SEXO', 'EDAD']") in errors
    assert sha(published) == before
    assert not (tmp_path / "w.duckdb.tmp").exists()


def test_reject_threshold_fails_the_load(tmp_path, capsys):
    published = fixture_warehouse.build(tmp_path / "w.duckdb")
    before = sha(published)
    rows = good_rows(90, "A") + [[f"X-{i}", "99/99/2021", "0801", "ROBO", "M", "1"] for i in range(10)]
    config = write_config(tmp_path / "c.toml", incident_source("a", [write_csv(tmp_path / "a.csv", rows)]))
    assert cli.main(["build", str(config), "--out", str(published)]) == 1
    err = capsys.readouterr().err
    assert "a: se rechazaron 10 de 100 filas (10.0 %), más que el umbral de 5.0 %" in err
    assert "no se modificó" in err
    assert sha(published) == before
    # A higher threshold in the config lets it through; check publishes nothing.
    config.write_text(config.read_text().replace('umbral_rechazo = 0.05', 'umbral_rechazo = 0.2'))
    assert cli.main(["check", str(config)]) == 0
    assert "Revisión terminada: sin errores; no se publicó nada." in capsys.readouterr().out
    assert sha(published) == before


def test_reconciliation_maximum_rule(tmp_path, use_warehouse):
    a = write_csv(tmp_path / "a.csv", [["A1", "01/01/2021", "0801", "HOMICIDIO", "M", "20"],
                                       ["A2", "02/01/2021", "0801", "HOMICIDIO", "M", "21"],
                                       ["A3", "03/02/2021", "0501", "HOMICIDIO", "M", "22"]])
    b = write_csv(tmp_path / "b.csv", [["B1", "01/01/2021", "0801", "HOMICIDIO", "M", "20"],
                                       ["B2", "03/02/2021", "0501", "HOMICIDIO", "M", "22"],
                                       ["B3", "04/02/2021", "0501", "HOMICIDIO", "F", "30"],
                                       ["B4", "05/02/2021", "0501", "ROBO", "F", "30"]])
    config = write_config(tmp_path / "c.toml", incident_source("a", [a]), incident_source("b", [b]),
                          tail='\n[conciliacion]\ndelitos = ["homicidio"]\nregla = "maximo"\n')
    path = tmp_path / "w.duckdb"
    run(config, path)
    counted = q(path, "SELECT muni_code, strftime(occurred_on, '%Y-%m'), source, count(*) FROM incident "
                      "WHERE counted AND crime_type = 'homicidio' GROUP BY ALL ORDER BY 1, 2")
    assert counted == [("0501", "2021-02", "b", 2), ("0801", "2021-01", "a", 2)]
    assert q(path, "SELECT count(*) FROM incident WHERE crime_type = 'robo' AND counted") == [(1,)]
    assert "máximo" in q(path, "SELECT value FROM meta WHERE key = 'counting_rule'")[0][0]
    # The side-by-side table of the quality page: per municipality-month, each source, published, divergence.
    use_warehouse(path)
    table = quality.reconciliation_by_municipality(Filters())
    rows = {(r.muni_code, r.month.strftime("%Y-%m")): (r.a, r.b, r.published, r.divergence) for r in table.itertuples()}
    assert rows == {("0801", "2021-01"): (2, 1, 2, 1), ("0501", "2021-02"): (1, 2, 2, 1)}
    monthly = quality.reconciliation_monthly(Filters())
    assert monthly[monthly["series"] == quality.PUBLISHED]["victims"].tolist() == [2, 2]


def test_one_rule_per_group_of_crimes(tmp_path, use_warehouse):
    """[[conciliacion]]: homicide by the maximum, robbery by a reference source; the rest summed."""
    a = write_csv(tmp_path / "a.csv", [["A1", "01/01/2021", "0801", "HOMICIDIO", "M", "20"],
                                       ["A2", "02/01/2021", "0801", "HOMICIDIO", "M", "21"],
                                       ["A3", "03/02/2021", "0501", "ROBO", "M", "22"],
                                       ["A4", "04/02/2021", "0501", "LESIONES", "M", "23"]])
    b = write_csv(tmp_path / "b.csv", [["B1", "01/01/2021", "0801", "HOMICIDIO", "M", "20"],
                                       ["B2", "03/02/2021", "0501", "ROBO", "M", "22"],
                                       ["B3", "04/02/2021", "0501", "ROBO", "F", "30"],
                                       ["B4", "05/02/2021", "0501", "LESIONES", "F", "30"]])
    rules = ('\n[[conciliacion]]\ndelitos = ["homicidio"]\nregla = "maximo"\n'
             '\n[[conciliacion]]\ndelitos = ["robo"]\nregla = "referencia"\nreferencia = "a"\n')
    config = write_config(tmp_path / "c.toml", incident_source("a", [a]), incident_source("b", [b]), tail=rules)
    path = tmp_path / "w.duckdb"
    run(config, path)
    counted = dict(q(path, "SELECT crime_type || ':' || source, count(*) FILTER (WHERE counted) FROM incident "
                           "GROUP BY ALL"))
    assert counted == {"homicidio:a": 2, "homicidio:b": 0, "robo:a": 1, "robo:b": 0, "lesiones:a": 1, "lesiones:b": 1}
    assert q(path, "SELECT crime_type, rule, reference FROM reconciliation_rule ORDER BY 1") == [
        ("homicidio", "maximo", None), ("robo", "referencia", "a")]
    rule = q(path, "SELECT value FROM meta WHERE key = 'counting_rule'")[0][0]
    assert "Homicidio doloso: en cada municipio y mes cuenta la fuente con más registros" in rule
    assert "Robo con violencia: cuenta la fuente de referencia, Institución a" in rule
    use_warehouse(path)
    summary = quality.reconciliation_summary(Filters()).set_index("crime_type")
    assert summary.loc["robo", ["a", "b", "published", "cells", "cells_differ"]].tolist() == [1, 2, 1, 1, 1]
    # injuries are summed over the two sources, and the load says so
    found = quality.issues()
    assert "lesiones (victimas): se suman a, b" in " ".join(found[found["rule"] == "delito_sumado_entre_fuentes"]["example"])


def test_config_errors_are_listed_with_their_keys(tmp_path):
    bad = tmp_path / "mal.toml"
    bad.write_text('pais = "HN"\nperiodo = { desde = "2020-01-01", hasta = "2019-12-31" }\numbral_rechazo = 5\n'
                   '[geografia.departamentos]\narchivo = "no_existe.geojson"\ncodigo = "C"\nnombre = "N"\n'
                   '[[incidentes]]\nfuente = "Policía"\ninstitucion = "x"\narchivo = "x.csv"\n[incidentes.columnas]\nedad = "E"\n')
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    problems = "\n".join(info.value.problems)
    for expected in ("[periodo] 'hasta' (2019-12-31) es anterior a 'desde' (2020-01-01)",
                     "[umbral_rechazo] debe estar entre 0 y 1",
                     "[geografia] falta la clave obligatoria 'municipios'",
                     "no_existe.geojson no existe",
                     "[raíz] falta la clave obligatoria 'poblacion'",
                     "[incidentes[1].fuente] 'Policía' debe usar solo minúsculas",
                     "falta la columna obligatoria 'fecha'",
                     "declare 'municipio_codigo' (código) o 'municipio' (nombre)"):
        assert expected in problems


def test_aldeas_as_points_become_cells_and_locate_geocoded_victims(tmp_path):
    import geopandas as gpd
    import shapely

    munis = gpd.read_file(shared_file("honduras/municipios_sefin.geojson"))
    dc = munis.loc[munis["GEOCODIGO"] == "080100", "geometry"].iloc[0]
    sps = munis.loc[munis["GEOCODIGO"] == "050100", "geometry"].iloc[0]
    pts = [shapely.point_on_surface(dc)]
    minx, miny, maxx, maxy = dc.bounds
    for fx, fy in ((0.3, 0.3), (0.7, 0.6), (0.5, 0.8), (0.2, 0.7), (0.8, 0.2)):
        p = shapely.Point(minx + fx * (maxx - minx), miny + fy * (maxy - miny))
        if dc.contains(p) and len(pts) < 3:
            pts.append(p)
    codes = [f"0801{i + 1:03d}" for i in range(len(pts))] + ["0501001"]
    gpd.GeoDataFrame({"COD": codes, "NOMBRE": [f"Aldea {c}" for c in codes]},
                     geometry=pts + [shapely.point_on_surface(sps)], crs="EPSG:4326").to_file(tmp_path / "aldeas.geojson")
    victim = pts[1]
    rows = [["A1", "01/01/2021", "0801", "ROBO", "M", "20", f"{victim.x:.6f}", f"{victim.y:.6f}"],
            ["A2", "02/01/2021", "0801", "ROBO", "M", "20", "", ""]]
    csv_path = write_csv(tmp_path / "a.csv", rows, header=["ID", "FECHA", "COD_MUNI", "DELITO", "SEXO", "EDAD", "LON", "LAT"])
    columns = ('id = "ID"\nfecha = "FECHA"\nmunicipio_codigo = "COD_MUNI"\ndelito = "DELITO"\nsexo = "SEXO"\n'
               'edad = "EDAD"\nlongitud = "LON"\nlatitud = "LAT"')
    config = write_config(tmp_path / "c.toml", incident_source("a", [csv_path], columns=columns),
                          tail=f'\n[geografia.aldeas]\narchivo = "{tmp_path / "aldeas.geojson"}"\ncodigo = "COD"\n'
                               'padre = { columna = "COD", fin = 4 }\nnombre = "NOMBRE"\n')
    path = tmp_path / "w.duckdb"
    run(config, path)
    assert q(path, "SELECT count(*) FROM territory WHERE level = 'aldea'") == [(len(codes),)]
    # The cells of a municipality's aldeas tile it: their areas add up to the municipality's.
    dc_area = q(path, "SELECT area_km2 FROM territory WHERE code = '0801'")[0][0]
    cells = q(path, "SELECT sum(area_km2) FROM territory WHERE level = 'aldea' AND parent_code = '0801'")[0][0]
    assert cells == pytest.approx(dc_area, rel=0.01)
    assert q(path, "SELECT area_km2 FROM territory WHERE code = '0501001'") == q(path, "SELECT area_km2 FROM territory WHERE code = '0501'")
    # The geocoded victim falls in the cell of the point it sits on; the other has no aldea.
    assert q(path, "SELECT source_record_id, aldea_code FROM incident ORDER BY 1") == [("A1", "0801002"), ("A2", None)]
    assert q(path, "SELECT count FROM quality_issue WHERE rule = 'aldeas_como_puntos'") == [(len(codes),)]
