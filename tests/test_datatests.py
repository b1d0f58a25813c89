"""Data tests before publishing: each one catches the defect it is written for, and a build that
fails one (demo or configured sources) publishes nothing."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from core.load import cli, datatests, pipeline
from core.load.cube import build_cube
from core.load.demo import build_demo
from tests import fixture_warehouse

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "examples"
PERIOD = (dt.date(2020, 1, 1), dt.date(2021, 12, 31))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return fixture_warehouse.build(tmp_path_factory.mktemp("dt") / "w.duckdb")


# test name -> SQL that breaks what it checks in a copy of the hand-made warehouse. Defects in the
# cubes themselves also show in the tests that compare one cube with another; defects in the base
# tables are followed by a rebuild of the cubes, so that only the test written for them fails.
CUBE_DEFECTS = {
    "cubo_mensual_suma_los_hechos": "UPDATE incident_cube SET n = n + 1 WHERE crime_type = 'robo'",
    "claves_de_celda": "UPDATE incident_cube SET ck = ck + 1 WHERE crime_type = 'robo'",
    "cubo_anual_suma_el_mensual": "UPDATE incident_year_cube SET n = n + 1 WHERE crime_type = 'robo' AND year = 2020 "
                                  "AND muni_code = '0101'",
    "cubo_de_aldeas_suma_los_registros": "DELETE FROM incident_aldea_cube WHERE crime_type = 'hurto'",
    "cubo_de_conciliacion": "DELETE FROM reconciliation_cube WHERE source = 'pnc'",
    "cobertura_por_fuente_y_mes": "UPDATE source_month SET n = n * 2 WHERE source = 'inacif'",
    "encuestas_completas": "INSERT INTO survey VALUES ('e', 'E', 'INE', 2021, 'persona', 'e.sav', 'x', 2, 'P', NULL, "
                           "NULL, TRUE); INSERT INTO survey_respondent VALUES ('e', 1, '1', '1', 1.0, '99', NULL, 'H', "
                           "'18-29', 'urbana')",
}
BASE_DEFECTS = {
    "municipios_y_departamentos_existen": "UPDATE incident SET dept_code = '02' WHERE incident_id = 1",
    "aldeas_y_centros_existen": "UPDATE school SET aldea_code = '010101' WHERE school_code = 'E3'",
    "codigos_de_territorio_existen": "INSERT INTO population VALUES ('9999', 2020, 'T', 'total', 5, NULL)",
    "valores_permitidos": "UPDATE incident SET victim_sex = 'X' WHERE incident_id = 2",
    "fechas_en_el_periodo": "UPDATE incident SET occurred_on = '2019-12-31' WHERE incident_id = 6",
    "cada_tasa_tiene_poblacion": "DELETE FROM population WHERE code = '0201' AND year = 2021",
    "claves_sin_duplicar": "INSERT INTO incident SELECT * FROM incident WHERE incident_id = 3",
    "conteo_segun_la_regla": "UPDATE incident SET counted = TRUE WHERE source = 'pnc' AND crime_type = 'homicidio'",
    "textos_sin_marcas": "UPDATE territory SET name = 'Beta ![t](http://example.invalid/t.png)' WHERE code = '0102'",
}
DEFECTS = CUBE_DEFECTS | BASE_DEFECTS


def test_every_data_test_has_a_defect_case():
    assert set(DEFECTS) == {t.name for t in datatests.TESTS}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_data_test_catches_its_defect(name, built, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(built, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("DELETE FROM data_test")
        datatests.run(con, PERIOD)  # the intact warehouse passes
        con.execute(DEFECTS[name])
        if name in BASE_DEFECTS:
            build_cube(con, ["homicidio", "femicidio"])
        with pytest.raises(datatests.DataTestFailed) as info:
            datatests.run(con, PERIOD)
    finally:
        con.close()
    failed = [f[0] for f in info.value.failures]
    assert failed[0] == name
    if name in BASE_DEFECTS and name != "fechas_en_el_periodo":  # (a year outside the period has no population)
        assert failed == [name]
    message = str(info.value)
    assert name in message and "no se publicó nada" in message and "p. ej." in message


def test_the_fixture_records_the_tests_it_passed(built):
    with duckdb.connect(str(built), read_only=True) as con:
        rows = con.execute("SELECT name, description, rows_checked FROM data_test").fetchall()
    assert {r[0] for r in rows} == {t.name for t in datatests.TESTS}
    assert all(r[2] > 0 and r[1] for r in rows)


def _break_the_year_cube(monkeypatch):
    """The cube step forgets the counts dated only by year of one crime (a bug to be caught)."""
    original = pipeline.build_cube

    def faulty(con, types):
        n = original(con, types)
        con.execute("DELETE FROM incident_year_cube WHERE crime_type = (SELECT min(crime_type) FROM incident_year_cube)")
        return n
    monkeypatch.setattr(pipeline, "build_cube", faulty)


def test_a_configured_load_that_fails_a_data_test_publishes_nothing(tmp_path, monkeypatch, capsys):
    from tests.conftest import shared_file
    shared_file("honduras/municipios_sefin.geojson")
    target = fixture_warehouse.build(tmp_path / "w.duckdb")
    before = sha(target)
    _break_the_year_cube(monkeypatch)
    assert cli.main(["build", str(EXAMPLES / "honduras_agregados.toml"), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert "cubo_anual_suma_el_mensual" in err and "no se modificó" in err
    assert sha(target) == before and not (tmp_path / "w.duckdb.tmp").exists()


def test_the_demo_that_fails_a_data_test_publishes_nothing(tmp_path, monkeypatch):
    target = fixture_warehouse.build(tmp_path / "w.duckdb")
    before = sha(target)
    _break_the_year_cube(monkeypatch)
    with pytest.raises(datatests.DataTestFailed, match="cubo_anual_suma_el_mensual"):
        build_demo(target, seed=1, scale=0.01, progress=None)
    assert sha(target) == before and not (tmp_path / "w.duckdb.tmp").exists()
