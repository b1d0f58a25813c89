"""Data tests run on every built warehouse before it is published (demo and configured loads alike).

Each test is a query returning the rows that break an invariant the dashboard relies on: the
cubes add up to the facts they summarise, every code exists in ``territory``, only allowed values,
every count that can become a rate has its population, no duplicated keys, ``counted`` follows
the reconciliation rule. A build where any test finds a row raises ``DataTestFailed`` inside the
build, so the published warehouse is left untouched; the tests that passed are listed in
``data_test`` (shown on the quality page).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from core.cellkey import AGGREGATE_KEY_SQL
from core.load.cube import MONTHLY_FACTS_SQL
from core.warehouse import row_count

EXAMPLES = 3
# What turns a displayed name into code: HTML tags, template braces (map tooltips), backticks, and
# Markdown images or links (an image is fetched from outside as soon as the page is drawn).
MARKUP = r"[<>{}`]|!\[|\]\("


@dataclass(frozen=True)
class DataTest:
    name: str
    description: str
    tables: tuple[str, ...]   # the tables it reads (their rows are reported as checked)
    sql: str                  # one VARCHAR column, one row per violation, describing it


class DataTestFailed(RuntimeError):
    def __init__(self, failures: list[tuple[str, str, int, list[str]]]):
        self.failures = failures
        lines = [f"- {name} ({description}): {n:,} fila(s) no la cumplen; p. ej. {'; '.join(examples)}"
                 for name, description, n, examples in failures]
        super().__init__("Pruebas de datos fallidas antes de publicar; no se publicó nada:\n" + "\n".join(lines))


def _sums_equal(left: str, right: str, keys: str, label: str) -> str:
    """Key combinations where two sums over the same keys differ (a missing side counts as 0; NULL
    keys match each other)."""
    shown = ", ".join(f"coalesce(CAST({k} AS VARCHAR), '-')" for k in keys.split(", "))
    return f"""
        SELECT '{label} ' || concat_ws(' ', {shown}) || ': ' || sum(a) || ' ≠ ' || sum(b)
        FROM (SELECT {keys}, n AS a, 0 AS b FROM ({left}) UNION ALL SELECT {keys}, 0, n FROM ({right}))
        GROUP BY {keys}
        HAVING sum(a) <> sum(b)
    """


_FACT_KEYS = "year, dept_code, muni_code, crime_type, source, counted, unit"
_CUBE_DIMS = "month, dept_code, muni_code, crime_type, victim_sex, age_group, source, counted, unit"
_YEAR_DIMS = "year, dept_code, muni_code, crime_type, victim_sex, age_group, source, counted, unit"

TESTS: tuple[DataTest, ...] = (
    DataTest("encuestas_completas", "cada persona entrevistada tiene una respuesta (o su ausencia) por medida, en un "
             "departamento que existe, y cada unidad primaria está en un solo estrato",
             ("survey", "survey_respondent", "survey_measure", "survey_answer", "territory"), """
        SELECT 'encuesta ' || r.survey || ': ' || count(*) || ' respuestas faltan' FROM survey_respondent r
        JOIN survey_measure m USING (survey)
        LEFT JOIN survey_answer a ON a.survey = r.survey AND a.respondent = r.respondent AND a.measure = m.measure
        WHERE a.respondent IS NULL GROUP BY r.survey
        UNION ALL SELECT DISTINCT 'encuesta ' || survey || ': departamento ' || dept_code || ' no existe'
        FROM survey_respondent WHERE dept_code NOT IN (SELECT code FROM territory WHERE level = 'departamento')
        UNION ALL SELECT 'encuesta ' || survey || ': unidad primaria ' || psu || ' en ' || count(DISTINCT stratum)
               || ' estratos' FROM survey_respondent GROUP BY survey, psu HAVING count(DISTINCT stratum) > 1
        UNION ALL SELECT 'encuesta ' || s.survey || ': ' || s.respondents || ' filas del archivo, '
               || (SELECT count(*) FROM survey_respondent r WHERE r.survey = s.survey) || ' cargadas'
        FROM survey s WHERE s.respondents <> (SELECT count(*) FROM survey_respondent r WHERE r.survey = s.survey)
    """),
    DataTest("cubo_mensual_suma_los_hechos", "el cubo mensual suma exactamente los registros y conteos con mes",
             ("incident", "incident_aggregate", "incident_cube"), _sums_equal(
                 f"SELECT {_FACT_KEYS}, sum(n) AS n FROM ({MONTHLY_FACTS_SQL}) GROUP BY ALL",
                 f"SELECT {_FACT_KEYS}, sum(n) AS n FROM incident_cube GROUP BY ALL", _FACT_KEYS, "hechos ≠ cubo:")),
    DataTest("cubo_anual_suma_el_mensual", "el cubo anual es el mensual por año más los conteos con solo el año",
             ("incident_cube", "incident_aggregate", "incident_year_cube"), _sums_equal(
                 f"""SELECT {_FACT_KEYS}, sum(n) AS n FROM (
                         SELECT {_FACT_KEYS}, n FROM incident_cube
                         UNION ALL SELECT {_FACT_KEYS}, n FROM incident_aggregate WHERE month IS NULL) GROUP BY ALL""",
                 f"SELECT {_FACT_KEYS}, sum(n) AS n FROM incident_year_cube GROUP BY ALL", _FACT_KEYS,
                 "mensual + anual ≠ cubo anual:")),
    DataTest("claves_de_celda", "cada celda de los cubos lleva la suma de las claves de sus registros (el ajuste "
             "del modo público depende solo de los registros contados)",
             ("incident", "incident_aggregate", "incident_cube", "incident_year_cube"), _sums_equal(
                 f"""SELECT {_FACT_KEYS}, sum(k) AS n FROM (
                         SELECT year, {_CUBE_DIMS}, sum(ck) AS k FROM ({MONTHLY_FACTS_SQL}) GROUP BY ALL HAVING sum(n) > 0)
                     GROUP BY ALL""",
                 f"SELECT {_FACT_KEYS}, sum(ck) AS n FROM incident_cube GROUP BY ALL", _FACT_KEYS,
                 "claves de los registros ≠ claves del cubo mensual:") + " UNION ALL " + _sums_equal(
                 f"""SELECT {_FACT_KEYS}, sum(k) AS n FROM (
                         SELECT {_YEAR_DIMS}, sum(ck) AS k, sum(n) AS n FROM (
                             SELECT {_YEAR_DIMS}, n, ck FROM incident_cube
                             UNION ALL SELECT {_YEAR_DIMS}, n, {AGGREGATE_KEY_SQL} FROM incident_aggregate
                             WHERE month IS NULL) GROUP BY ALL HAVING sum(n) > 0)
                     GROUP BY ALL""",
                 f"SELECT {_FACT_KEYS}, sum(ck) AS n FROM incident_year_cube GROUP BY ALL", _FACT_KEYS,
                 "claves del cubo mensual y de los conteos anuales ≠ claves del cubo anual:")),
    DataTest("cubo_de_aldeas_suma_los_registros", "el cubo de aldeas suma los registros por año",
             ("incident", "incident_aldea_cube"), _sums_equal(
                 """SELECT year, muni_code, crime_type, counted, unit, sum(n) AS n FROM (
                        SELECT year(occurred_on) AS year, muni_code, crime_type, counted, 'victimas' AS unit,
                               victims AS n FROM incident
                        UNION ALL SELECT year(occurred_on), muni_code, crime_type, counted, 'hechos', 1
                        FROM incident WHERE is_event) GROUP BY ALL""",
                 "SELECT year, muni_code, crime_type, counted, unit, sum(n) AS n FROM incident_aldea_cube GROUP BY ALL",
                 "year, muni_code, crime_type, counted, unit", "registros ≠ cubo de aldeas:")),
    DataTest("cubo_de_conciliacion", "el cubo de conciliación es el cubo mensual de los delitos conciliados",
             ("incident_cube", "reconciliation_cube", "reconciliation_rule"), _sums_equal(
                 """SELECT year, crime_type, source, counted, unit, sum(n) AS n FROM incident_cube
                    WHERE crime_type IN (SELECT crime_type FROM reconciliation_rule) GROUP BY ALL""",
                 "SELECT year, crime_type, source, counted, unit, sum(n) AS n FROM reconciliation_cube GROUP BY ALL",
                 "year, crime_type, source, counted, unit", "cubo ≠ conciliación:")),
    DataTest("cobertura_por_fuente_y_mes", "los conteos por fuente, municipio y mes suman el cubo mensual",
             ("incident_cube", "source_month"), _sums_equal(
                 "SELECT source, muni_code, month, sum(n) AS n FROM incident_cube GROUP BY ALL",
                 "SELECT source, muni_code, month, sum(n) AS n FROM source_month GROUP BY ALL",
                 "source, muni_code, month", "cubo ≠ cobertura:")),
    DataTest("municipios_y_departamentos_existen",
             "cada municipio y departamento de los registros y conteos existe en territory y el municipio es de "
             "ese departamento", ("incident", "incident_aggregate", "territory"), """
        SELECT DISTINCT 'incident ' || i.muni_code || ' / ' || i.dept_code FROM incident i
        LEFT JOIN territory t ON t.code = i.muni_code AND t.level = 'municipio'
        WHERE t.code IS NULL OR t.dept_code <> i.dept_code
        UNION ALL
        SELECT DISTINCT 'incident_aggregate ' || coalesce(a.muni_code, '-') || ' / ' || a.dept_code
        FROM incident_aggregate a
        LEFT JOIN territory d ON d.code = a.dept_code AND d.level = 'departamento'
        LEFT JOIN territory m ON m.code = a.muni_code AND m.level = 'municipio'
        WHERE d.code IS NULL OR (a.muni_code IS NOT NULL AND (m.code IS NULL OR m.dept_code <> a.dept_code))
    """),
    DataTest("aldeas_y_centros_existen", "cada aldea de un registro o centro educativo es de su municipio",
             ("incident", "school", "territory"), """
        SELECT DISTINCT 'incident ' || i.muni_code || ' / ' || i.aldea_code FROM incident i
        LEFT JOIN territory t ON t.code = i.aldea_code AND t.level = 'aldea' AND t.parent_code = i.muni_code
        WHERE i.aldea_code IS NOT NULL AND t.code IS NULL
        UNION ALL
        SELECT 'school ' || s.school_code || ': ' || s.muni_code || ' / ' || coalesce(s.aldea_code, '-') FROM school s
        LEFT JOIN territory m ON m.code = s.muni_code AND m.level = 'municipio'
        LEFT JOIN territory a ON a.code = s.aldea_code AND a.level = 'aldea' AND a.parent_code = s.muni_code
        WHERE m.code IS NULL OR (s.aldea_code IS NOT NULL AND a.code IS NULL)
    """),
    DataTest("codigos_de_territorio_existen",
             "la población, los indicadores, las geometrías y los padres de cada territorio tienen su código en "
             "territory", ("population", "indicator", "territory_geometry", "territory"), """
        SELECT DISTINCT 'population ' || p.code FROM population p ANTI JOIN territory t ON t.code = p.code
        UNION ALL SELECT DISTINCT 'indicator ' || i.code FROM indicator i ANTI JOIN territory t ON t.code = i.code
        UNION ALL SELECT 'territory_geometry ' || g.code FROM territory_geometry g ANTI JOIN territory t ON t.code = g.code
        UNION ALL
        SELECT 'territory ' || c.code || ' (padre ' || coalesce(c.parent_code, '-') || ')' FROM territory c
        LEFT JOIN territory p ON p.code = c.parent_code
             AND p.level = CASE c.level WHEN 'municipio' THEN 'departamento' WHEN 'aldea' THEN 'municipio' END
        WHERE (c.level = 'departamento' AND (c.parent_code IS NOT NULL OR c.dept_code <> c.code))
           OR (c.level <> 'departamento' AND (p.code IS NULL OR p.dept_code <> c.dept_code))
    """),
    DataTest("valores_permitidos",
             "delito, sexo, grupo de edad y fuente de cada registro y conteo están en sus catálogos; hora 0-23; "
             "coordenadas válidas", ("incident", "incident_aggregate", "population", "school"), """
        SELECT 'incident ' || incident_id || ': ' || concat_ws(', ',
                 CASE WHEN crime_type NOT IN (SELECT code FROM crime_type) THEN 'delito ' || crime_type END,
                 CASE WHEN victim_sex NOT IN ('H', 'M', 'ND') THEN 'sexo ' || victim_sex END,
                 CASE WHEN age_group NOT IN (SELECT code FROM age_group) THEN 'grupo de edad ' || age_group END,
                 CASE WHEN source NOT IN (SELECT source FROM source) THEN 'fuente ' || source END,
                 CASE WHEN occurred_hour NOT BETWEEN 0 AND 23 THEN 'hora ' || occurred_hour END,
                 CASE WHEN NOT (lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90) THEN 'coordenadas' END,
                 CASE WHEN (lon IS NULL) <> (lat IS NULL) THEN 'solo una coordenada' END)
        FROM incident
        WHERE crime_type NOT IN (SELECT code FROM crime_type) OR victim_sex NOT IN ('H', 'M', 'ND')
           OR age_group NOT IN (SELECT code FROM age_group) OR source NOT IN (SELECT source FROM source)
           OR occurred_hour NOT BETWEEN 0 AND 23 OR NOT (lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)
           OR (lon IS NULL) <> (lat IS NULL)
        UNION ALL
        SELECT 'incident_aggregate ' || file || ' fila ' || row_number FROM incident_aggregate
        WHERE crime_type NOT IN (SELECT code FROM crime_type) OR victim_sex NOT IN ('H', 'M', 'ND')
           OR age_group NOT IN (SELECT code FROM age_group) OR source NOT IN (SELECT source FROM source)
           OR (month IS NOT NULL AND year(month) <> year)
        UNION ALL
        SELECT 'population ' || code || ' ' || year || ' grupo ' || age_group FROM population
        WHERE age_group NOT IN (SELECT code FROM age_group) AND age_group <> 'total'
        UNION ALL
        SELECT 'school ' || school_code || ': coordenadas' FROM school
        WHERE NOT (lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90) OR (lon IS NULL) <> (lat IS NULL)
    """),
    DataTest("fechas_en_el_periodo", "cada registro y conteo cae dentro del periodo de la carga",
             ("incident", "incident_aggregate"), """
        SELECT 'incident ' || incident_id || ': ' || occurred_on FROM incident
        WHERE occurred_on NOT BETWEEN $start AND $end
        UNION ALL
        SELECT 'incident_aggregate ' || file || ' fila ' || row_number || ': ' || coalesce(CAST(month AS VARCHAR), CAST(year AS VARCHAR))
        FROM incident_aggregate
        WHERE coalesce(month, make_date(year, 12, 31)) < date_trunc('month', $start::DATE)
           OR year < year($start::DATE) OR coalesce(month, make_date(year, 1, 1)) > $end
    """),
    DataTest("cada_tasa_tiene_poblacion",
             "cada municipio y departamento con conteos tiene población en cada año de esos conteos",
             ("incident_year_cube", "population"), """
        WITH cells AS (SELECT DISTINCT muni_code AS code, year FROM incident_year_cube WHERE muni_code IS NOT NULL
                       UNION SELECT DISTINCT dept_code, year FROM incident_year_cube)
        SELECT 'sin población: ' || c.code || ' ' || c.year FROM cells c
        ANTI JOIN population p ON p.code = c.code AND p.year = c.year
    """),
    DataTest("claves_sin_duplicar", "ningún registro, id de la fuente ni celda de un cubo aparece dos veces",
             ("incident", "incident_cube", "incident_year_cube", "incident_aldea_cube", "source_month"), f"""
        SELECT 'incident_id ' || incident_id FROM incident GROUP BY incident_id HAVING count(*) > 1
        UNION ALL
        SELECT 'id de la fuente ' || source || ' ' || source_record_id FROM incident
        WHERE source_record_id IS NOT NULL GROUP BY source, source_record_id HAVING count(*) > 1
        UNION ALL
        SELECT 'incident_cube ' || muni_code || ' ' || month FROM incident_cube GROUP BY {_CUBE_DIMS} HAVING count(*) > 1
        UNION ALL
        SELECT 'incident_year_cube ' || coalesce(muni_code, dept_code) || ' ' || year FROM incident_year_cube
        GROUP BY {_CUBE_DIMS.replace('month', 'year')} HAVING count(*) > 1
        UNION ALL
        SELECT 'incident_aldea_cube ' || coalesce(aldea_code, muni_code) || ' ' || year FROM incident_aldea_cube
        GROUP BY year, dept_code, muni_code, aldea_code, crime_type, victim_sex, age_group, counted, unit
        HAVING count(*) > 1
        UNION ALL
        SELECT 'source_month ' || source || ' ' || coalesce(muni_code, '-') || ' ' || month FROM source_month
        GROUP BY source, muni_code, month HAVING count(*) > 1
    """),
    DataTest("textos_sin_marcas",
             "ningún nombre que se muestra (territorio, institución, indicador, delito, aldea, centro) contiene "
             "marcas que una página ejecutaría o cargaría: < > { } ` ni una imagen o enlace Markdown",
             ("territory", "source", "indicator_meta", "crime_type", "school"), f"""
        SELECT what || ': ' || text FROM (
            SELECT 'territory ' || code AS what, name AS text FROM territory
            UNION ALL SELECT 'source ' || source, institution FROM source
            UNION ALL SELECT 'indicator_meta ' || indicator, name FROM indicator_meta
            UNION ALL SELECT 'indicator_meta ' || indicator, source FROM indicator_meta
            UNION ALL SELECT 'crime_type ' || code, name FROM crime_type
            UNION ALL SELECT 'school ' || school_code, name FROM school)
        WHERE regexp_matches(text, '{MARKUP}')
    """),
    DataTest("conteo_segun_la_regla", "solo dejan de contar los registros que la regla de conciliación de su delito "
             "deja para la comparación; con la regla del máximo cuenta una sola fuente por municipio y mes",
             ("incident", "incident_aggregate", "reconciliation_rule"), """
        SELECT 'incident ' || i.source || ' ' || i.crime_type || ' ' || i.incident_id FROM incident i
        LEFT JOIN reconciliation_rule r ON r.crime_type = i.crime_type
        WHERE (r.crime_type IS NULL AND NOT i.counted)
           OR (r.rule = 'referencia' AND i.counted <> (i.source = r.reference))
        UNION ALL
        SELECT 'incident_aggregate ' || a.file || ' fila ' || a.row_number FROM incident_aggregate a
        LEFT JOIN reconciliation_rule r ON r.crime_type = a.crime_type
        WHERE (r.crime_type IS NULL AND NOT a.counted)
           OR (r.rule = 'referencia' AND a.counted <> (a.source = r.reference))
        UNION ALL
        SELECT 'máximo: ' || i.crime_type || ' ' || i.muni_code || ' ' || strftime(date_trunc('month', i.occurred_on), '%Y-%m')
               || ' cuenta ' || count(DISTINCT i.source) FILTER (WHERE i.counted) || ' fuentes'
        FROM incident i JOIN reconciliation_rule r ON r.crime_type = i.crime_type AND r.rule = 'maximo'
        GROUP BY i.crime_type, i.muni_code, date_trunc('month', i.occurred_on)
        HAVING count(DISTINCT i.source) FILTER (WHERE i.counted) <> 1
    """),
)


def run(con: duckdb.DuckDBPyConnection, period: tuple[dt.date, dt.date]) -> None:
    """Run every test; write ``data_test`` when all pass, else raise DataTestFailed with them all."""
    failures, passed = [], []
    for test in TESTS:
        params = {"start": period[0], "end": period[1]} if "$start" in test.sql else {}
        row = con.execute(f"SELECT count(*), list(v)[1:{EXAMPLES}] FROM ({test.sql}) AS t(v)", params).fetchone()
        assert row is not None  # an aggregate without GROUP BY returns one row
        n, examples = row
        if n:
            failures.append((test.name, test.description, int(n), [str(e) for e in examples]))
        else:
            checked = sum(row_count(con, t) for t in test.tables)
            passed.append((test.name, test.description, checked))
    if failures:
        raise DataTestFailed(failures)
    con.executemany("INSERT INTO data_test VALUES (?, ?, ?)", passed)
