"""Survey microdata: the loader (core/load/survey.py, [[encuestas]] in a load configuration) and the
design-based estimates (core/survey.py), checked against an independent Taylor-linearisation
computation written here, to 4 decimals; ignoring the design gives another standard error."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from scipy.stats import t as student_t

from core import survey
from core.load import survey as survey_load
from core.load import survey_example
from core.load.build import run
from core.load.config import ConfigError, load_config
from tests.source_files import good_rows, incident_source, write_config, write_csv

DEPTS = {f"{i:02d}": 0.4 + i / 12 for i in range(1, 19)}  # Honduras' 18 departments


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, survey_load.SurveyFrames]:
    path = tmp_path_factory.mktemp("enc") / "encuesta.sav"
    survey_example.write(path, DEPTS, {d: 400_000 for d in DEPTS}, 2022, np.random.default_rng(3))
    spec = survey_example.spec(path, "enc", "Encuesta de prueba", "INE", 2022)
    return path, survey_load.load(spec, list(DEPTS))


def measure_frame(frames: survey_load.SurveyFrames, measure: str) -> pd.DataFrame:
    answers = frames.answers[frames.answers["measure"] == measure]
    return frames.respondents.merge(answers, on=["survey", "respondent"])


def taylor(frame: pd.DataFrame, domain: np.ndarray) -> tuple[float, float, int]:
    """Weighted mean of value over the rows in ``domain`` with value known, and its Taylor-linearised
    standard error with the whole design (strata, PSUs, with-replacement first stage): the linearised
    values are 0 outside the domain, every PSU of every stratum counts."""
    d = (domain & frame["value"].notna()).to_numpy()
    w, y = frame["weight"].to_numpy(), frame["value"].fillna(0).to_numpy()
    total = (w * d).sum()
    mean = (w * d * y).sum() / total
    z = pd.DataFrame({"s": frame["stratum"], "p": frame["psu"], "z": w * d * (y - mean) / total})
    by_psu = z.groupby(["s", "p"])["z"].sum().reset_index()
    variance = sum(len(g) / (len(g) - 1) * ((g["z"] - g["z"].mean()) ** 2).sum() for _, g in by_psu.groupby("s"))
    dof = by_psu["p"].nunique() - by_psu["s"].nunique()
    return mean, float(np.sqrt(variance)), dof


def test_design_based_estimates_match_an_independent_taylor_computation(sample):
    _, frames = sample
    frame = measure_frame(frames, "victimizacion")
    got = survey.design_estimates(frame)
    mean, se, dof = taylor(frame, np.ones(len(frame), bool))
    assert got.loc[0, "est"] == pytest.approx(mean, abs=1e-4)
    assert round(got.loc[0, "se"], 4) == round(se, 4)
    crit = student_t.ppf(0.975, dof)
    assert (got.loc[0, "lci"], got.loc[0, "uci"]) == pytest.approx((mean - crit * se, mean + crit * se), abs=1e-4)
    assert got.loc[0, "n"] == frame["value"].notna().sum()
    by_sex = survey.design_estimates(frame, "sex").set_index("domain")
    for sex in ("H", "M"):  # domains estimated on the whole design, not on a cut-out sample
        mean, se, _ = taylor(frame, (frame["sex"] == sex).to_numpy())
        assert by_sex.loc[sex, "est"] == pytest.approx(mean, abs=1e-4)
        assert round(by_sex.loc[sex, "se"], 4) == round(se, 4)
    # «denuncia» is asked of victims only: its denominator is them
    reported = measure_frame(frames, "denuncia")
    assert reported["value"].notna().sum() == (frame["value"] == 1).sum()


def test_ignoring_the_design_gives_another_standard_error(sample):
    _, frames = sample
    frame = measure_frame(frames, "victimizacion")
    design = survey.design_estimates(frame).loc[0, "se"]
    simple = survey.design_estimates(frame.assign(stratum="1", psu=np.arange(len(frame)).astype(str))).loc[0, "se"]
    assert design > simple * 1.08  # clusters of neighbours: the design effect is real, and it is used


def test_undeclared_codes_bad_weights_and_a_psu_in_two_strata_are_named(tmp_path, sample):
    path, _ = sample
    frame, meta = pyreadstat.read_sav(str(path))
    frame.loc[4, "FACTOR"] = -3.5
    frame.loc[6, "FACTOR"] = np.nan
    frame.loc[10, "P10_VICTIMA"] = 7
    frame.loc[20, "UPM"] = frame.loc[400, "UPM"]  # a PSU of another stratum
    broken = tmp_path / "rota.sav"
    pyreadstat.write_sav(frame, str(broken), variable_value_labels=meta.variable_value_labels)
    spec = survey_example.spec(broken, "rota", "Rota", "INE", 2022)
    with pytest.raises(survey_load.SurveyError) as info:
        survey_load.load(spec, list(DEPTS))
    text = str(info.value)
    assert "rota.sav, columna FACTOR (peso): fila 5 con peso -3.5; se esperaba un número mayor que 0" in text
    assert "rota.sav, columna FACTOR (peso): fila 7 sin peso" in text
    assert "rota.sav, columna P10_VICTIMA (medida victimizacion): fila 11 con el valor 7 que no está declarado" in text
    moved, home, other = int(frame.loc[400, "UPM"]), int(frame.loc[400, "ESTRATO"]), int(frame.loc[20, "ESTRATO"])
    assert (f"rota.sav, columna UPM (upm): la unidad primaria {moved} aparece en los estratos "
            f"{', '.join(sorted([str(home), str(other)]))} (filas 21, ") in text
    assert "cada unidad primaria pertenece a un solo estrato (columna ESTRATO)" in text

    declared = survey_example.spec(path, "x", "x", "INE", 2022)
    wrong = survey_load.MeasureSpec("confianza_policia", "Confía", "def", "proporcion", "P30_CONFIANZA_PNC", (1, 2),
                                    (3, 4), (8, 99))
    bad = survey_load.SurveySpec(**{**declared.__dict__, "measures": (wrong,)})
    with pytest.raises(survey_load.SurveyError, match=r"el código 99 declarado no está entre las etiquetas del archivo "
                                                      r"\(1=Mucha, 2=Algo"):
        survey_load.load(bad, list(DEPTS))
    missing = survey_load.SurveySpec(**{**declared.__dict__, "weight": "PESO"})
    with pytest.raises(survey_load.SurveyError, match="falta la columna «PESO» \\(peso\\); el archivo tiene: DEPTO"):
        survey_load.load(missing, list(DEPTS))


SURVEY_TOML = '''
[[encuestas]]
encuesta = "enc_2022"
nombre = "Encuesta de prueba (sintética)"
institucion = "INE"
archivo = "{file}"
anio = 2022
[encuestas.diseno]
peso = "FACTOR"
estrato = "ESTRATO"
upm = "UPM"
[encuestas.columnas]
departamento = "DEPTO"
sexo = "SEXO"
edad = "EDAD"
area = "AREA"
[encuestas.valores]
sexo = {{ H = [1], M = [2] }}
area = {{ urbana = [1], rural = [2] }}
[[encuestas.medidas]]
medida = "victimizacion"
pregunta = "P10_VICTIMA"
si = [1]
no = [2]
excluir = [8, 9]
delito = "robo"
[[encuestas.medidas]]
medida = "confia_vecinos"
nombre = "Confía en sus vecinos"
definicion = "Porcentaje que confía mucho o algo en sus vecinos."
pregunta = "P30_CONFIANZA_PNC"
si = [1, 2]
no = [3, 4]
excluir = [8, 9]
'''


def test_a_declared_survey_loads_with_the_warehouse_and_its_estimates_read_back(tmp_path, sample, use_warehouse):
    path, frames = sample
    config = write_config(tmp_path / "c.toml", incident_source("policia", [write_csv(tmp_path / "a.csv",
                                                                                     good_rows(40, "A"))]),
                          tail=SURVEY_TOML.format(file=path.as_posix()))
    target = tmp_path / "w.duckdb"
    run(config, target)
    use_warehouse(target)
    assert list(survey.surveys()["survey"]) == ["enc_2022"]
    listed = survey.measures("enc_2022").set_index("measure")
    assert listed.loc["victimizacion", "name"] == survey_load.STANDARD["victimizacion"][0]
    assert listed.loc["victimizacion", "crime_type"] == "robo" and listed.loc["confia_vecinos", "kind"] == "proporcion"
    national = survey.estimate("enc_2022", "victimizacion")
    direct = survey.design_estimates(measure_frame(frames, "victimizacion"))
    assert national.loc[0, "est"] == pytest.approx(direct.loc[0, "est"]) and national.loc[0, "status"] == "ok"
    assert national.loc[0, "excluded"] == int(measure_frame(frames, "victimizacion")["excluded"].sum()) > 0
    by_dept = survey.estimate("enc_2022", "victimizacion", "dept_code")
    assert len(by_dept) == 18 and set(by_dept["status"]) <= {"ok", "poco precisa", survey.NOISY, survey.FEW}
    withheld = by_dept[by_dept["status"].isin([survey.NOISY, survey.FEW])]
    assert withheld["est"].isna().all() and withheld["lci"].isna().all()
    by_age = survey.estimate("enc_2022", "victimizacion", "age_group")
    assert (by_age.loc[by_age["n"] < survey.MIN_RESPONDENTS, "status"] == survey.FEW).all()


def test_configuration_mistakes_in_a_survey_are_named(tmp_path, sample):
    path, _ = sample
    bad = SURVEY_TOML.format(file=path.as_posix()).replace('peso = "FACTOR"\n', "").replace(
        'medida = "confia_vecinos"\nnombre = "Confía en sus vecinos"\n', 'medida = "confia_vecinos"\n').replace(
        'delito = "robo"', 'delito = "robos"').replace("sexo = { H = [1], M = [2] }", "sexo = { H = [1], F = [2] }")
    config = write_config(tmp_path / "c.toml", incident_source("policia", [write_csv(tmp_path / "a.csv",
                                                                                     good_rows(4, "A"))]), tail=bad)
    with pytest.raises(ConfigError) as info:
        load_config(config)
    text = str(info.value)
    assert "[encuestas.enc_2022.diseno] falta la clave obligatoria 'peso'" in text
    assert "[encuestas.enc_2022.medidas.confia_vecinos] una medida propia necesita 'nombre' y 'definicion'" in text
    assert "[encuestas.enc_2022.medidas.victimizacion.delito] 'robos' no es un tipo de delito" in text
    assert "¿quiso decir 'robo'?" in text
    assert "[encuestas.enc_2022.valores.sexo] 'F' no es un valor de sexo; se esperaba H o M" in text


@pytest.mark.parametrize("mode", ["interno", "publico"])
def test_the_encuestas_page_shows_every_estimate_with_its_interval(demo, monkeypatch, mode):
    from tests.apptest import metrics, run_app

    monkeypatch.setenv("ATALAYA_MODO", mode)
    code = survey.surveys()["survey"].iloc[0]
    national = survey.estimate(code, "victimizacion").iloc[0]
    at = run_app(page="encuestas")
    assert not at.exception, [e.message for e in at.exception]
    shown = metrics(at)
    assert shown["Estimación nacional, 2022"] == f"{national['est'] * 100:.1f} %"
    assert shown["Intervalo de confianza del 95 %"] == f"{national['lci'] * 100:.1f} % a {national['uci'] * 100:.1f} %"
    assert any("DATOS SINTÉTICOS DE DEMOSTRACIÓN" in c.value for c in at.caption)
    at = run_app({"por": "dept_code", "medida": "denuncia"}, page="encuestas")
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Estado" in d.value.columns)  # (the first is the map's legend)
    published = table[table["Estado"].isin(["ok", "poco precisa"])]
    assert (published["IC 95 % inferior"] != "—").all() and (published["Estimación"] != "—").all()
    hidden = table[~table["Estado"].isin(["ok", "poco precisa"])]
    assert (hidden["Estimación"] == "—").all()
    assert set(hidden["Estado"]) <= {survey.FEW, survey.NOISY}
    assert len(at.get("deck_gl_json_chart")) == 1


def test_the_hidden_figure_sets_survey_victims_against_the_records_by_hand(demo):
    from core import warehouse

    code = survey.surveys()["survey"].iloc[0]
    hidden = survey.hidden_figure(code, "victimizacion_robo").set_index("domain")
    share = survey.estimate(code, "victimizacion_robo").iloc[0]
    people = warehouse.scalar("SELECT sum(weight) FROM survey_respondent WHERE survey = ?", [code])
    national = hidden.loc[""]
    assert national["estimated"] == pytest.approx(share["est"] * people)
    assert (national["estimated_lo"], national["estimated_hi"]) == pytest.approx((share["lci"] * people,
                                                                                   share["uci"] * people))
    recorded = warehouse.scalar("""SELECT sum(n) FROM incident_year_cube WHERE counted AND unit = 'victimas'
        AND crime_type = 'robo' AND year = 2022 AND age_group IN ('18-29', '30-44', '45-59', '60+')""")
    assert national["recorded"] == f"{int(recorded):,}"
    assert national["recorded_share"] == pytest.approx(recorded / national["estimated"] * 100)
    by_dept = warehouse.query("""SELECT dept_code, sum(n) AS n FROM incident_year_cube WHERE counted AND unit = 'victimas'
        AND crime_type = 'robo' AND year = 2022 AND age_group IN ('18-29', '30-44', '45-59', '60+') GROUP BY 1""")
    for dept, n in by_dept.itertuples(index=False):
        assert hidden.loc[dept, "recorded"] == f"{int(n):,}"
    assert len(hidden) == 23  # the country and its 22 departments
    assert survey.hidden_figure(code, "inseguridad_noche").empty  # no crime type: nothing to compare


def test_files_as_institutes_publish_them_own_department_numbers_and_declared_missing_values(tmp_path, sample):
    """Departments numbered the institute's way (labelled with their names), and «No sabe / No responde»
    declared as SPSS missing values: both read as a person would mean them."""
    path, frames = sample
    frame, meta = pyreadstat.read_sav(str(path))
    names = {code: f"Departamento {code}" for code in DEPTS}
    frame["DEPTO"] = frame["DEPTO"] + 100  # 101..118
    labels = dict(meta.variable_value_labels) | {"DEPTO": {int(c) + 100: n for c, n in names.items()}}
    own = tmp_path / "propia.sav"
    pyreadstat.write_sav(frame, str(own), variable_value_labels=labels,
                         missing_ranges={"P10_VICTIMA": [8, 9], "P20_SEGURIDAD": [8, 9]})
    spec = survey_example.spec(own, "propia", "Propia", "INE", 2022)
    loaded = survey_load.load(spec, list(DEPTS), department_names={c: n.upper() for c, n in names.items()})
    assert (loaded.respondents["dept_code"] == frames.respondents["dept_code"]).all()
    victims = loaded.answers[loaded.answers["measure"] == "victimizacion"]
    assert victims["excluded"].sum() == frames.answers.query("measure == 'victimizacion'")["excluded"].sum() > 0
    with pytest.raises(survey_load.SurveyError, match="columna DEPTO \\(departamento\\): filas 1, 2, 3 \\(y"):
        survey_load.load(spec, list(DEPTS))  # without the names: the codes are not the geography's


def test_a_csv_export_with_decimal_commas_is_read_and_its_rows_are_the_files_lines(tmp_path, sample):
    path, frames = sample
    frame, _ = pyreadstat.read_sav(str(path))
    frame["FACTOR"] = frame["FACTOR"].map(lambda v: f"{v:.4f}".replace(".", ","))  # a spreadsheet in Spanish
    export = tmp_path / "encuesta.csv"
    frame.to_csv(export, sep=";", index=False, encoding="latin-1")
    spec = survey_example.spec(export, "csv", "CSV", "INE", 2022)
    loaded = survey_load.load(spec, list(DEPTS))
    np.testing.assert_allclose(loaded.respondents["weight"], frames.respondents["weight"], rtol=1e-6)
    frame.loc[11, "FACTOR"] = ""
    frame.to_csv(export, sep=";", index=False, encoding="latin-1")
    with pytest.raises(survey_load.SurveyError, match="encuesta.csv, columna FACTOR \\(peso\\): fila 13 sin peso"):
        survey_load.load(spec, list(DEPTS))  # line 13 of the file: the header is line 1
