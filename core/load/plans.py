"""Plan files ([planes] of the load configuration, or the demo's): read, validated against what the
warehouse holds (crime types and groups of the catalogue, departments, surveys and their measures)
and stored in the table ``plan`` (core/plans.py computes the indicators when shown)."""
from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from core.load import catalog
from core.plans import Plan, PlanError, parse, to_json


def read(path: Path, departments: Iterable[str], surveys: Mapping[str, Sequence[str]]) -> Plan:
    """One plan file, checked; PlanError naming the file, the indicator and the key."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PlanError(str(path), [f"no se pudo leer: {exc}"]) from None
    plan = parse(data, str(path))
    types = catalog.crime_types()
    codes, groups, depts = set(types["code"]), set(types["crime_group"]), set(departments)
    problems = []
    indicators = []
    for ind in plan.indicators:
        at = f"indicador {ind.code}"
        parts = [(ind.crime_types, ind.crime_groups)] + [
            (tuple(p.get("delitos", ())), tuple(p.get("grupos", ()))) for p in (ind.numerator, ind.denominator) if p]
        for crimes, crime_groups in parts:
            problems += [f"{at}: '{t}' no es un tipo de delito del catálogo" for t in crimes if t not in codes]
            problems += [f"{at}: '{g}' no es un grupo de delito del catálogo ({', '.join(sorted(groups))})"
                         for g in crime_groups if g not in groups]
        if ind.kind == "archivo" and ind.file:
            external, found = _values_file(Path(path).parent / ind.file, at)
            problems += found
            ind = replace(ind, external=external)
        indicators.append(ind)
        if ind.dept_code and ind.dept_code not in depts:
            problems.append(f"{at}: departamento '{ind.dept_code}' no está en la geografía cargada")
        if ind.kind == "encuesta" and ind.survey is not None:
            if ind.survey not in surveys:
                problems.append(f"{at}: la encuesta '{ind.survey}' no está cargada (encuestas: "
                                f"{', '.join(surveys) or 'ninguna'})")
            elif ind.measure not in surveys[ind.survey]:
                problems.append(f"{at}: la encuesta '{ind.survey}' no tiene la medida '{ind.measure}' "
                                f"({', '.join(surveys[ind.survey])})")
    if problems:
        raise PlanError(str(path), problems)
    return replace(plan, indicators=tuple(indicators))


def _values_file(path: Path, at: str) -> tuple[tuple[tuple[int, float, float | None, float | None], ...], list[str]]:
    """The values of an indicator measured elsewhere: a CSV with anio, valor and optionally inferior and
    superior (its 95 % interval)."""
    try:
        table = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", dtype=str)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        return (), [f"{at}: no se pudo leer {path.name}: {exc}"]
    table.columns = [str(c).strip().lower() for c in table.columns]
    if not {"anio", "valor"} <= set(table.columns):
        return (), [f"{at}: {path.name} necesita las columnas anio y valor (tiene: {', '.join(table.columns)})"]
    out, problems = [], []
    for i, row in enumerate(table.itertuples(index=False), start=2):
        record = row._asdict()
        try:
            year = int(str(record["anio"]).strip())
            numbers = [None if pd.isna(record.get(c)) or str(record.get(c)).strip() == "" else
                       float(str(record[c]).strip().replace(",", ".")) for c in ("valor", "inferior", "superior")]
        except ValueError:
            problems.append(f"{at}: {path.name} fila {i}: se esperaba un año y números (anio={record['anio']!r}, "
                            f"valor={record['valor']!r})")
            continue
        if numbers[0] is None:
            problems.append(f"{at}: {path.name} fila {i}: falta el valor")
            continue
        out.append((year, numbers[0], numbers[1], numbers[2]))
    return tuple(sorted(out)), problems

def frame(plans: Sequence[tuple[Plan, Path]]) -> pd.DataFrame:
    return pd.DataFrame([{"plan": p.plan, "name": p.name, "file": path.name, "definition": to_json(p)}
                         for p, path in plans], columns=["plan", "name", "file", "definition"])
