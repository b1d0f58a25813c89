"""SYNTHETIC victimisation survey microdata with a realistic complex design, written as an SPSS file
with value labels (as statistical institutes publish them): strata by department × area, primary
sampling units (census segments) drawn in each stratum, about a dozen households each, one
person interviewed per household, unequal weights (expansion factors adjusted for non-response),
and «No sabe / No responde» codes. Victimisation follows each department's level of recorded
crime, so the demo's survey and its records tell a coherent story. Used by the demo and the
examples; never real data.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from core.load.survey import MeasureSpec, SurveySpec

YES, NO, DONT_KNOW, NO_ANSWER = 1, 2, 8, 9
YES_NO_LABELS: dict[int | float, str] = {YES: "Sí", NO: "No", DONT_KNOW: "No sabe", NO_ANSWER: "No responde"}
SAFETY_LABELS: dict[int | float, str] = {1: "Muy seguro", 2: "Algo seguro", 3: "Algo inseguro", 4: "Muy inseguro", 8: "No sabe",
                 9: "No responde"}
ROBBERY_NAME = "Víctimas de robo en los últimos 12 meses"
ROBBERY_DEFINITION = ("Porcentaje de personas que dicen haber sufrido un robo con violencia o amenaza en los 12 meses "
                      "anteriores a la entrevista.")
TRUST_LABELS: dict[int | float, str] = {1: "Mucha", 2: "Algo", 3: "Poca", 4: "Ninguna", 8: "No sabe", 9: "No responde"}


def write(path: Path, departments: Mapping[str, float], population: Mapping[str, float], year: int,
          rng: np.random.Generator, psus_per_stratum: int = 10, per_psu: int = 12) -> Path:
    """Write the microdata of one survey to ``path`` (.sav). ``departments``: code -> relative level of
    crime (1 = the country's); ``population``: code -> inhabitants (the weights add up to it)."""
    import pyreadstat

    rows = []
    psu_id = 0
    for d_i, (dept, level) in enumerate(sorted(departments.items())):
        for a_i, (area, share) in enumerate((("1", 0.55), ("2", 0.45))):  # 1 urbana, 2 rural
            stratum = (d_i + 1) * 10 + a_i + 1
            people = population.get(dept, 100_000) * share
            for _ in range(psus_per_stratum):
                psu_id += 1
                cluster = rng.normal(0, 0.35)  # neighbours share their risk: the design effect
                size = max(int(rng.poisson(per_psu)), 3)
                answered = rng.random(size) > 0.08
                weight = people / (psus_per_stratum * size) / np.where(answered, 0.92, 1.0) * rng.uniform(0.8, 1.25, size)
                p_victim = 1 / (1 + np.exp(-(np.log(0.17 / 0.83) + 0.6 * np.log(max(level, 0.05)) + cluster
                                             - 0.25 * (area == "2"))))
                victim = rng.random(size) < p_victim
                robbed = victim & (rng.random(size) < 0.45)  # of the victims, those of a robbery
                reported = victim & (rng.random(size) < 0.32)
                unsafe = rng.random(size) < np.minimum(0.85, 0.35 + 0.4 * p_victim + 0.15 * victim)
                for k in range(size):
                    sex = int(rng.integers(1, 3))
                    age = int(rng.integers(18, 80))
                    v = YES if victim[k] else NO
                    if rng.random() < 0.03:
                        v = int(rng.choice([DONT_KNOW, NO_ANSWER]))
                    r = (YES if reported[k] else NO) if v == YES else np.nan
                    robbery = (YES if robbed[k] else NO) if v in (YES, NO) else v
                    safety = int(rng.choice([3, 4])) if unsafe[k] else int(rng.choice([1, 2]))
                    if rng.random() < 0.04:
                        safety = int(rng.choice([8, 9]))
                    trust = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.3, 0.35, 0.25])) if rng.random() > 0.05 else 9
                    rows.append((dept, int(area), stratum, psu_id, round(float(weight[k]), 4), sex, age, v, robbery, r,
                                 safety, trust))
    frame = pd.DataFrame(rows, columns=["DEPTO", "AREA", "ESTRATO", "UPM", "FACTOR", "SEXO", "EDAD", "P10_VICTIMA",
                                        "P12_ROBO", "P11_DENUNCIA", "P20_SEGURIDAD", "P30_CONFIANZA_PNC"])
    frame["DEPTO"] = frame["DEPTO"].astype(int)
    labels: dict[str, dict[int | float, str]] = {
        "AREA": {1: "Urbana", 2: "Rural"}, "SEXO": {1: "Hombre", 2: "Mujer"}, "P10_VICTIMA": YES_NO_LABELS,
        "P12_ROBO": YES_NO_LABELS,
        "P11_DENUNCIA": YES_NO_LABELS, "P20_SEGURIDAD": SAFETY_LABELS, "P30_CONFIANZA_PNC": TRUST_LABELS}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels, column_labels={
        "P10_VICTIMA": "En los últimos 12 meses, ¿fue usted víctima de algún delito?",
        "P11_DENUNCIA": "¿Denunció el hecho a alguna autoridad?",
        "P12_ROBO": "En los últimos 12 meses, ¿le robaron algo con violencia o amenaza?",
        "P20_SEGURIDAD": "¿Qué tan seguro se siente caminando solo de noche en su barrio?",
        "P30_CONFIANZA_PNC": "¿Cuánto confía en la policía?", "FACTOR": f"Factor de expansión {year}"})
    return path


def spec(path: Path, survey: str, name: str, institution: str, year: int, synthetic: bool = True) -> SurveySpec:
    """How the file written by ``write`` is declared (the same as [[encuestas]] in a configuration)."""
    from core.load.survey import STANDARD

    def standard(measure: str, question: str, yes, no, **extra) -> MeasureSpec:
        title, definition, sdg = STANDARD[measure]
        return MeasureSpec(measure, title, definition, "proporcion", question, tuple(yes), tuple(no),
                           (DONT_KNOW, NO_ANSWER), sdg=sdg, **extra)

    return SurveySpec(survey, name, institution, year, "persona", path, "FACTOR", "ESTRATO", "UPM",
                      {"departamento": "DEPTO", "sexo": "SEXO", "edad": "EDAD", "area": "AREA"},
                      {"sexo": {"H": (1,), "M": (2,)}, "area": {"urbana": (1,), "rural": (2,)}},
                      (standard("victimizacion", "P10_VICTIMA", [YES], [NO]),
                       MeasureSpec("victimizacion_robo", ROBBERY_NAME, ROBBERY_DEFINITION, "proporcion", "P12_ROBO",
                                   (YES,), (NO,), (DONT_KNOW, NO_ANSWER), crime_type="robo"),
                       standard("denuncia", "P11_DENUNCIA", [YES], [NO], universe="victimizacion"),
                       standard("inseguridad_noche", "P20_SEGURIDAD", [3, 4], [1, 2]),
                       standard("confianza_policia", "P30_CONFIANZA_PNC", [1, 2], [3, 4])),
                      synthetic=synthetic)
