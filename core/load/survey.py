"""Survey microdata (victimisation and perception surveys) as statistical institutes publish them:
SPSS (.sav), Stata (.dta) or CSV, read with their value labels (pyreadstat), with the design and
the questions declared in the load configuration ([[encuestas]], core/load/config.py).

Every row of the file is a respondent and every row is kept: the design (weights, strata, primary
sampling units) needs them all, so a row that cannot be read stops the load with a message that
names the file, the column, the row, the value and what was expected, instead of being dropped.
Answers declared as «No sabe / No responde» are kept as excluded (out of the denominator, counted).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.load import catalog
from core.load.names import normalise

# Standard measures: (name, definition, SDG indicator). A measure of the configuration names one of
# these as `estandar` to take its name and definition.
STANDARD = {
    "victimizacion": ("Víctimas de algún delito en los últimos 12 meses",
                      "Porcentaje de personas (u hogares, según la encuesta) que dicen haber sido víctimas de al menos "
                      "un delito en los 12 meses anteriores a la entrevista.", None),
    "denuncia": ("Víctimas que denunciaron el delito",
                 "Porcentaje de las víctimas que denunciaron el delito a la policía, la fiscalía u otra autoridad "
                 "(entre quienes dicen haber sido víctimas).", "16.3.1"),
    "inseguridad_noche": ("Se siente inseguro caminando solo de noche en su barrio",
                          "Porcentaje de personas que dicen sentirse inseguras o muy inseguras al caminar solas de "
                          "noche en la zona donde viven.", "16.1.4"),
    "confianza_policia": ("Confía en la policía",
                          "Porcentaje de personas que dicen confiar mucho o algo en la policía.", None),
}
SEXES = ("H", "M")
AREAS = ("urbana", "rural")


class SurveyError(ValueError):
    """A survey file that cannot be loaded; every problem names the file, column, row and value."""

    def __init__(self, path: Path, problems: Sequence[str]):
        self.path = path
        self.problems = list(problems)
        super().__init__(f"{path}: la encuesta no se puede cargar:\n  - " + "\n  - ".join(self.problems))


@dataclass(frozen=True)
class MeasureSpec:
    measure: str
    name: str
    definition: str
    kind: str                              # proporcion | media
    question: str                          # column
    yes: tuple[object, ...] = ()           # proporcion: codes counted as yes
    no: tuple[object, ...] = ()            # proporcion: codes counted as no
    excluded: tuple[object, ...] = ()      # No sabe / No responde
    crime_type: str | None = None
    sdg: str | None = None
    universe: str | None = None            # asked only of those with yes in that measure (e.g. denuncia: victims)


@dataclass(frozen=True)
class SurveySpec:
    survey: str
    name: str
    institution: str
    year: int
    unit: str                              # persona | hogar
    path: Path
    weight: str
    stratum: str | None
    psu: str | None
    columns: Mapping[str, str]             # departamento, municipio, sexo, edad, area -> column
    values: Mapping[str, Mapping[str, tuple[object, ...]]]  # sexo/area -> {H: (1,), M: (2,)}
    measures: tuple[MeasureSpec, ...]
    synthetic: bool = False
    dept_code_width: int = 2               # department codes are padded with zeros to this width
    muni_code_width: int = 4


@dataclass
class SurveyFrames:
    survey: pd.DataFrame
    respondents: pd.DataFrame
    measures: pd.DataFrame
    answers: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def read_file(path: Path) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The file's rows and the value labels of each column ({} for CSV)."""
    suffix = path.suffix.lower()
    if suffix in (".sav", ".zsav", ".dta"):
        import pyreadstat

        reader = pyreadstat.read_sav if suffix in (".sav", ".zsav") else pyreadstat.read_dta
        try:
            # user-defined missing values (SPSS) stay as their codes: «No sabe / No responde» must be counted
            frame, meta = reader(str(path), apply_value_formats=False, user_missing=True)
        except Exception as exc:  # pyreadstat raises its own ReadstatError and others
            raise SurveyError(path, [f"no se pudo leer como {'SPSS' if suffix != '.dta' else 'Stata'}: {exc}"]) from None
        return frame, dict(meta.variable_value_labels or {})
    if suffix in (".csv", ".txt"):
        try:
            return pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig"), {}
        except UnicodeDecodeError:
            return pd.read_csv(path, sep=None, engine="python", encoding="latin-1"), {}
    raise SurveyError(path, [f"formato «{suffix}» no admitido (se esperaba .sav, .dta o .csv)"])


def _same(value, code) -> bool:
    try:
        return float(value) == float(code)
    except (TypeError, ValueError):
        return str(value).strip() == str(code).strip()


def _codes(column: pd.Series, codes: Sequence[object]) -> np.ndarray:
    """Which rows hold one of ``codes`` (numbers compare as numbers: 1 == 1.0 == "1")."""
    out = np.zeros(len(column), dtype=bool)
    for code in codes:
        out |= np.array([_same(v, code) for v in column], dtype=bool) if column.dtype == object else \
            (pd.to_numeric(column, errors="coerce").to_numpy() == _as_float(code))
    return out


def _as_float(code) -> float:
    try:
        return float(code)
    except (TypeError, ValueError):
        return np.nan


def _rows(mask: np.ndarray, first: int = 1, limit: int = 3) -> str:
    """«fila 12», «filas 12, 40, 41 (y 9 más)»: rows as seen in the file, ``first`` being the first
    respondent's (2 in a CSV, whose header is line 1, as the incident files count; 1 for the first case
    of an SPSS or Stata file)."""
    rows = (np.flatnonzero(mask) + first).tolist()
    shown = ", ".join(f"{r:,}" for r in rows[:limit])
    more = f" (y {len(rows) - limit:,} más)" if len(rows) > limit else ""
    return ("fila " if len(rows) == 1 else "filas ") + shown + more


def load(spec: SurveySpec, departments: Sequence[str], municipalities: Sequence[str] = (),
         department_names: Mapping[str, str] | None = None) -> SurveyFrames:
    """Read, check and shape one survey; SurveyError listing every problem. Department codes of the file
    that are not the geography's are matched by name, through the column's value labels or its text
    (institutes number departments their own way: LAPOP, for one)."""
    from core.load.incidents import parse_numbers  # (here: the configuration imports this module)

    frame, labels = read_file(spec.path)
    first = 2 if spec.path.suffix.lower() in (".csv", ".txt") else 1

    def rows(mask: np.ndarray) -> str:
        return _rows(mask, first)

    problems: list[str] = []
    name = spec.path.name
    needed = {"peso": spec.weight, **({"estrato": spec.stratum} if spec.stratum else {}),
              **({"upm": spec.psu} if spec.psu else {}), **dict(spec.columns),
              **{f"medida {m.measure}": m.question for m in spec.measures}}
    missing = {k: c for k, c in needed.items() if c not in frame.columns}
    if missing:
        raise SurveyError(spec.path, [f"{name}: falta la columna «{c}» ({k}); el archivo tiene: "
                                      f"{', '.join(map(str, frame.columns[:30]))}" for k, c in missing.items()])
    n = len(frame)
    if n == 0:
        raise SurveyError(spec.path, [f"{name}: el archivo no tiene filas"])

    # ---- design
    weight = parse_numbers(frame[spec.weight])
    bad = weight.isna().to_numpy()
    if bad.any():
        problems.append(f"{name}, columna {spec.weight} (peso): {rows(bad)} sin peso o con un valor que no es un "
                        f"número (p. ej. {_show(frame[spec.weight][bad].iloc[0])}); se esperaba un número mayor que 0")
    negative = (weight <= 0).to_numpy()
    if negative.any():
        problems.append(f"{name}, columna {spec.weight} (peso): {rows(negative)} con peso {weight[negative].iloc[0]:g}; "
                        "se esperaba un número mayor que 0")
    stratum = frame[spec.stratum].map(lambda v: _code_text(v, 0)).fillna("ND") if spec.stratum else \
        pd.Series("1", index=frame.index)
    psu = frame[spec.psu].map(lambda v: _code_text(v, 0)).fillna("ND") if spec.psu else \
        pd.Series(np.arange(1, n + 1).astype(str), index=frame.index)
    if spec.stratum and spec.psu:
        spread = pd.DataFrame({"s": stratum, "p": psu}).groupby("p")["s"].nunique()
        for unit in spread[spread > 1].index[:5]:
            where = (psu == unit).to_numpy()
            strata = sorted(stratum[where].unique())
            problems.append(f"{name}, columna {spec.psu} (upm): la unidad primaria {unit} aparece en los estratos "
                            f"{', '.join(strata)} ({rows(where)}); cada unidad primaria pertenece a un solo estrato "
                            f"(columna {spec.stratum})")
    notes = []
    if spec.stratum and spec.psu:
        lonely = pd.DataFrame({"s": stratum, "p": psu}).groupby("s")["p"].nunique()
        if (lonely < 2).any():
            notes.append(f"{name}: {int((lonely < 2).sum())} estrato(s) con una sola unidad primaria (p. ej. "
                         f"{lonely[lonely < 2].index[0]}): su varianza se centra en la media general (como la opción "
                         "«adjust» del paquete survey de R)")

    # ---- breakdowns
    dept_col = spec.columns["departamento"]
    dept = frame[dept_col].map(lambda v: _code_text(v, spec.dept_code_width))
    unknown = ~dept.isin(list(departments)).to_numpy()
    if unknown.any() and department_names:
        by_name = {normalise(n): c for c, n in department_names.items()}
        named = labels.get(dept_col, {})

        def by_label(value) -> str | None:
            text = next((t for k, t in named.items() if _same(k, value)), value)
            return by_name.get(normalise(str(text)))
        matched = frame[dept_col][unknown].map(by_label)
        if matched.notna().all():  # every department by its name: the file's own numbering
            dept = dept.copy()
            dept[unknown] = matched
            unknown = ~dept.isin(list(departments)).to_numpy()
    if unknown.any():
        problems.append(f"{name}, columna {dept_col} (departamento): {rows(unknown)} con el código "
                        f"{_show(frame[dept_col][unknown].iloc[0])}, que no es un departamento de la geografía cargada "
                        f"(códigos: {', '.join(sorted(departments)[:6])}…)")
    muni = pd.Series([None] * n, index=frame.index, dtype=object)
    if "municipio" in spec.columns:
        mcol = spec.columns["municipio"]
        muni = frame[mcol].map(lambda v: _code_text(v, spec.muni_code_width))
        unknown = muni.notna().to_numpy() & ~muni.isin(list(municipalities)).to_numpy()
        if unknown.any():
            problems.append(f"{name}, columna {mcol} (municipio): {rows(unknown)} con el código "
                            f"{_show(frame[mcol][unknown].iloc[0])}, que no es un municipio de la geografía cargada")
    sex = _mapped(frame, spec, "sexo", SEXES, labels, problems, rows)
    area = _mapped(frame, spec, "area", AREAS, labels, problems, rows)
    ages = parse_numbers(frame[spec.columns["edad"]]) if "edad" in spec.columns else \
        pd.Series(np.nan, index=frame.index)
    age_group = np.where(ages.notna() & (ages >= 0) & (ages <= 120),
                         catalog.age_group_of(ages.fillna(-1).to_numpy()), "ND")

    # ---- measures
    answers, measure_rows = [], []
    values_of: dict[str, np.ndarray] = {}
    for m in spec.measures:
        column = frame[m.question]
        where = f"{name}, columna {m.question} (medida {m.measure})"
        known = labels.get(m.question, {})
        declared = [*m.yes, *m.no, *m.excluded]
        if known:
            listed = ", ".join(f"{_code_text(k, 0)}={v}" for k, v in list(known.items())[:8])
            for code in declared:
                if not any(_same(k, code) for k in known):
                    problems.append(f"{where}: el código {_show(code)} declarado no está entre las etiquetas del archivo "
                                    f"({listed})")
        excluded = _codes(column, m.excluded)
        blank = column.isna().to_numpy()
        if m.kind == "proporcion":
            yes, no = _codes(column, m.yes), _codes(column, m.no)
            other = ~(yes | no | excluded | blank)
            if other.any():
                value = column[other].iloc[0]
                label = known.get(value) if known else None
                problems.append(f"{where}: {rows(other)} con el valor {_show(value)}" + (f" («{label}»)" if label else "")
                                + f" que no está declarado; se esperaba uno de si = {list(m.yes)}, no = {list(m.no)} o "
                                  f"excluir = {list(m.excluded)}")
            value_arr = np.where(yes, 1.0, np.where(no, 0.0, np.nan))
        else:
            numeric = parse_numbers(column).to_numpy(dtype=float)
            bad = ~blank & ~excluded & np.isnan(numeric)
            if bad.any():
                problems.append(f"{where}: {rows(bad)} con {_show(column[bad].iloc[0])}, que no es un número")
            value_arr = np.where(excluded, np.nan, numeric)
        if m.universe:
            if m.universe not in values_of:
                problems.append(f"medida {m.measure}: universo = «{m.universe}» no es una medida declarada antes")
            else:
                value_arr = np.where(values_of[m.universe] == 1, value_arr, np.nan)
                excluded = excluded & (values_of[m.universe] == 1)
        values_of[m.measure] = value_arr
        answers.append(pd.DataFrame({"survey": spec.survey, "respondent": np.arange(1, n + 1), "measure": m.measure,
                                     "value": value_arr, "excluded": excluded}))
        measure_rows.append((spec.survey, m.measure, m.name, m.kind, m.question, m.definition,
                             ",".join(map(str, m.yes)) or None, ",".join(map(str, m.excluded)) or None,
                             m.crime_type, m.sdg))
    if problems:
        raise SurveyError(spec.path, problems)

    respondents = pd.DataFrame({
        "survey": spec.survey, "respondent": np.arange(1, n + 1), "stratum": stratum.to_numpy(), "psu": psu.to_numpy(),
        "weight": weight.to_numpy(dtype=float), "dept_code": dept.to_numpy(), "muni_code": muni.to_numpy(),
        "sex": sex, "age_group": age_group, "area": area})
    survey = pd.DataFrame([{
        "survey": spec.survey, "name": spec.name, "institution": spec.institution, "year": spec.year, "unit": spec.unit,
        "file": name, "sha256": hashlib.sha256(spec.path.read_bytes()).hexdigest(), "respondents": n,
        "weight": spec.weight, "stratum": spec.stratum, "psu": spec.psu, "synthetic": spec.synthetic}])
    measures = pd.DataFrame(measure_rows, columns=["survey", "measure", "name", "kind", "question", "definition",
                                                   "yes_codes", "excluded_codes", "crime_type", "sdg"])
    return SurveyFrames(survey, respondents, measures, pd.concat(answers, ignore_index=True), notes)


def _show(value) -> str:
    """A value of the file as a person reads it: 7 (not 7.0), «texto» quoted."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        return "vacío" if np.isnan(number) else (f"{number:g}" if not number.is_integer() else str(int(number)))
    return f"«{value}»"


def _code_text(value, width: int) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(int(value)) if isinstance(value, float) and float(value).is_integer() else str(value).strip()
    return text.zfill(width) if text.isdigit() else text


def _mapped(frame: pd.DataFrame, spec: SurveySpec, key: str, allowed: Sequence[str], labels: dict,
            problems: list[str], rows) -> np.ndarray:
    """A breakdown column (sexo, area) translated by the declared values; unknown codes are a problem,
    blanks are ND."""
    if key not in spec.columns:
        return np.full(len(frame), "ND", dtype=object)
    column = frame[spec.columns[key]]
    out = np.full(len(frame), "ND", dtype=object)
    matched = column.isna().to_numpy().copy()
    for target, codes in spec.values.get(key, {}).items():
        hit = _codes(column, codes)
        out[hit] = target
        matched |= hit
    if not spec.values.get(key):
        text = column.astype(str).str.strip()
        for target in allowed:
            hit = (text.str.lower() == target.lower()).to_numpy()
            out[hit] = target
            matched |= hit
    if (~matched).any():
        value = column[~matched].iloc[0]
        label = labels.get(spec.columns[key], {}).get(value)
        problems.append(f"{spec.path.name}, columna {spec.columns[key]} ({key}): {rows(~matched)} con el valor {_show(value)}"
                        + (f" («{label}»)" if label else "") + " que no está declarado en [encuestas.valores."
                        f"{key}] (se esperaba {', '.join(allowed)})")
    return out


def insert(con, loaded: Sequence[SurveyFrames]) -> None:
    """Write the surveys' tables (the only writer of survey*)."""
    from core.load.publish import insert_frame

    for frames in loaded:
        insert_frame(con, "survey", frames.survey)
        insert_frame(con, "survey_respondent", frames.respondents)
        insert_frame(con, "survey_measure", frames.measures)
        insert_frame(con, "survey_answer", frames.answers)
