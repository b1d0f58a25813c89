"""``atalaya-load build|check CONFIG.toml``: a warehouse from real source files, declared in a config.

Reading, mapping and validating every input happens before anything is written; if a required
input is missing, a file cannot be read or a source rejects more rows than the threshold, the
load stops with every error listed and the published warehouse is untouched. The tables are then
staged and go through the same steps as the demo (core.load.pipeline: reconciliation, cubes,
quality, data tests, publish). ``check`` runs it all in a throw-away in-memory database.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from core.load import (
    catalog,
    incidents,
    pipeline,
    plans,
    population,
    schools,
    survey,
    territories,
    vulnerability_indicators,
)
from core.load.config import LoadConfig, load_config
from core.load.geography import NATIONAL_VERTEX_BUDGET, territory_frame
from core.load.load_report import LoadFailed, Report
from core.load.names import normalise
from core.load.publish import insert_frame
from core.load.readers import SourceError
from core.load.reconciliation import Rule
from core.load.staging import FactStaging, staging
from core.plans import PlanError

ALDEA_SIMPLIFY_DEG = 1e-4


def run(config_path: Path, target: Path | None = None, check: bool = False,
        progress: Callable[[str], None] | None = None, keep_facts: Path | None = None) -> Report:
    """Read, validate and (unless ``check``) publish. Raises ConfigError, LoadFailed or DataTestFailed.

    The accepted records are staged as Parquet by country and year while the sources are read
    (core/load/staging.py), in a temporary folder next to ``target``, or in ``keep_facts``, kept.
    """
    log = progress or (lambda _m: None)
    cfg = load_config(config_path)
    if not check and target is None:
        raise ValueError("build: a target path is needed unless check=True")
    report = Report()
    if not cfg.open_data.get("license_name"):
        report.notes.append("[datos_abiertos] no declara licencia: la página de datos abiertos y el catálogo lo dirán; "
                            "declárela (p. ej. licencia = \"CC-BY-4.0\") antes de publicar los datos para reutilizar")
    with staging(cfg.country, keep=keep_facts, near=target) as facts:
        data = _read_all(cfg, report, log, facts)
        report.check_thresholds(cfg.reject_threshold)
        if report.errors:
            raise LoadFailed(report)
        rules = cfg.reconciliation
        pipeline.publish(None if check or target is None else Path(target), _meta(cfg, rules),
                         lambda con: _stage(con, cfg, data, report, rules, log), log)
    log("Revisión en memoria: nada publicado" if check else f"Publicado {target}")
    return report


def _read_all(cfg: LoadConfig, report: Report, log, facts: FactStaging) -> dict:
    data: dict = {}

    def step(label: str, func):
        try:
            return func()
        except SourceError as exc:
            report.errors.append(f"{label}: {exc}")
            return None

    geo = step("geografia", lambda: territories.load(cfg, report))
    if geo is None:
        return data
    data["geo"] = geo
    log(f"Geografía: {len(geo.departments)} departamentos, {len(geo.municipalities)} municipios"
        + (f", {len(geo.aldeas):,} aldeas" if geo.aldeas is not None else ""))
    data["population"] = step("poblacion", lambda: population.load(cfg, geo, report))
    ctx = incidents.Context(geo, {}, (cfg.period_start, cfg.period_end), cfg.country, cfg.country_name)
    collected = incidents.Facts({s.source: s for s in cfg.incidents}, geo, report, facts)

    def read(src) -> bool:
        for part in incidents.read_source(src, ctx, report):
            collected.add(part)
        return True
    for src in cfg.incidents:  # (crime codes were checked with the configuration)
        country = src.constants.get("pais")
        if country is not None and normalise(country) not in (normalise(cfg.country), normalise(cfg.country_name)):
            report.errors.append(f"[incidentes.{src.source}.constantes.pais] '{country}' no es el país de este almacén "
                                 f"({cfg.country}, {cfg.country_name}): la fuente no se carga")
            continue
        ctx.crime_codes = incidents.crime_lookup(src.values.get("delito", {}))
        if step(f"incidentes.{src.source}", lambda src=src: read(src)):
            stats = report.stats[src.source]
            log(f"{src.source}: {stats.rows_loaded:,} de {stats.rows_read:,} filas cargadas")
    aggregate = collected.aggregate()
    data["incidents"], data["aggregate"] = facts, aggregate
    if not facts.rows and not len(aggregate) and not report.errors:
        report.errors.append("incidentes: ninguna fuente aportó registros")
    if cfg.schools:
        data["schools"] = step("centros_educativos", lambda: schools.load(cfg, geo, report))
    if cfg.indicators:
        data["indicators"] = step("indicadores", lambda: vulnerability_indicators.load(cfg, geo, report))
    loaded = []
    for spec in cfg.surveys:
        try:
            frames = survey.load(spec, list(geo.departments["code"]), list(geo.municipalities["code"]),
                                 dict(zip(geo.departments["code"], geo.departments["name"])))
        except survey.SurveyError as exc:
            report.errors.extend(f"encuestas.{spec.survey}: {p}" for p in exc.problems)
            continue
        loaded.append(frames)
        log(f"Encuesta {spec.survey}: {len(frames.respondents):,} personas entrevistadas, {len(spec.measures)} medidas"
            + "".join(f"; {n}" for n in frames.notes))
    data["surveys"] = loaded
    measures = {f.survey["survey"].iloc[0]: list(f.measures["measure"]) for f in loaded}
    read_plans = []
    for path in cfg.plans:
        try:
            read_plans.append((plans.read(path, list(geo.departments["code"]), measures), path))
        except PlanError as exc:
            report.errors.extend(f"planes: {path.name}: {p}" for p in exc.problems)
    data["plans"] = read_plans
    for plan, path in read_plans:
        log(f"Plan {plan.plan} ({path.name}): {len(plan.indicators)} indicadores")
    return data


def _meta(cfg: LoadConfig, rules: tuple[Rule, ...]) -> dict[str, str]:
    return {
        "country": cfg.country, "country_name": cfg.country_name, "synthetic": "true" if cfg.synthetic else "false",
        "period_start": cfg.period_start.isoformat(), "period_end": cfg.period_end.isoformat(),
        "config_sha256": cfg.sha256, "config_file": cfg.path.name,
        **pipeline.reconciliation_meta(rules, {s.source: s.institution for s in cfg.incidents}),
        "geography_source": f"{cfg.municipalities.file.name} ({cfg.departments.file.name})",
        "population_source": cfg.population.source,
        **cfg.open_data,
    }


def _stage(con: duckdb.DuckDBPyConnection, cfg: LoadConfig, data: dict, report: Report,
           rules: tuple[Rule, ...], log: Callable[[str], None]) -> pipeline.Staged:
    """Write the base tables of the configured sources (the shared steps derive the rest)."""
    geo: territories.Geography = data["geo"]
    dept_rows, dept_geom = territory_frame(geo.departments, "departamento", NATIONAL_VERTEX_BUDGET // 2)
    muni_rows, muni_geom = territory_frame(geo.municipalities, "municipio", NATIONAL_VERTEX_BUDGET)
    frames, geoms = [dept_rows, muni_rows], [dept_geom, muni_geom]
    if geo.aldeas is not None:
        rows, full = territory_frame(geo.aldeas, "aldea", None, ALDEA_SIMPLIFY_DEG)
        frames.append(rows)
        geoms.append(full)
    insert_frame(con, "territory", pd.concat(frames, ignore_index=True))
    insert_frame(con, "territory_geometry", pd.concat(geoms, ignore_index=True))
    insert_frame(con, "crime_type", catalog.crime_types())
    insert_frame(con, "age_group", catalog.age_groups())
    insert_frame(con, "population", data["population"])
    facts: FactStaging = data["incidents"]
    aggregate = data["aggregate"]
    facts.insert_into(con)
    if len(aggregate):
        insert_frame(con, "incident_aggregate", aggregate.sort_values(["muni_code", "year", "month"], kind="stable"))
    log_counts = f"Incidentes: {facts.rows:,} registros, {len(aggregate):,} conteos agregados"
    if data.get("schools") is not None:
        insert_frame(con, "school", data["schools"])
        log_counts += f"; centros educativos: {len(data['schools']):,}"
    if data.get("indicators") is not None:
        values, meta = data["indicators"]
        insert_frame(con, "indicator_meta", meta)
        insert_frame(con, "indicator", values)
    log(log_counts)
    survey.insert(con, data.get("surveys", []))
    if data.get("plans"):
        insert_frame(con, "plan", plans.frame(data["plans"]))
    specs = {s.source: s for s in cfg.incidents}
    for s in report.stats.values():
        spec = specs.get(s.source)
        grain = ([spec.row_unit, spec.stored_unit, spec.date_precision, spec.territory_level, spec.record_level]
                 if spec else ["victima", "victimas", "dia", "municipio", True])
        con.execute("INSERT INTO source VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [s.source, s.institution, ", ".join(s.files), ",".join(s.sha256), s.rows_read, s.rows_loaded,
                     s.rows_rejected, s.rows_out_of_scope, *grain])
    if report.excluded:
        con.executemany("INSERT INTO out_of_scope VALUES (?, ?, ?, ?, ?)", report.excluded)
    if report.rejected:
        con.executemany("INSERT INTO rejected_record VALUES (?, ?, ?, ?, ?)",
                        [(r.source, r.file, int(r.row_number), r.reason, r.raw) for r in report.rejected])
    if report.field_issues:
        insert_frame(con, "field_issue", pd.DataFrame(report.field_issues, columns=[
            "source", "file", "row_number", "column_name", "value", "rule", "message"]).astype({"value": str}))
    return pipeline.Staged((cfg.period_start, cfg.period_end), rules, tuple(s.source for s in cfg.incidents),
                           report.issues, report.rejected, report.field_issues)
