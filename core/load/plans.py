"""Plan files ([planes] of the load configuration, or the demo's): read, validated against what the
warehouse holds (crime types and groups of the catalogue, departments, surveys and their measures)
and stored in the table ``plan`` (core/plans.py computes the indicators when shown)."""
from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
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
    for ind in plan.indicators:
        at = f"indicador {ind.code}"
        problems += [f"{at}: '{t}' no es un tipo de delito del catálogo" for t in ind.crime_types if t not in codes]
        problems += [f"{at}: '{g}' no es un grupo de delito del catálogo ({', '.join(sorted(groups))})"
                     for g in ind.crime_groups if g not in groups]
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
    return plan


def frame(plans: Sequence[tuple[Plan, Path]]) -> pd.DataFrame:
    return pd.DataFrame([{"plan": p.plan, "name": p.name, "file": path.name, "definition": to_json(p)}
                         for p, path in plans], columns=["plan", "name", "file", "definition"])
