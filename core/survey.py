"""Design-based estimates from the victimisation and perception surveys in the warehouse.

Every estimate respects the survey's design: the weights, the strata and the primary sampling
units declared when it was loaded (core/load/survey.py). Proportions and means and their standard
errors come from ``svy`` (Taylor linearisation, validated against R's survey package), domains
(department, sex, age group, area) estimated on the whole sample so that the design is kept; 95 %
intervals use the design's degrees of freedom (PSUs minus strata). Answers declared «No sabe / No
responde» leave the denominator and are counted.

An estimate is withheld, with the reason, when fewer than ``MIN_RESPONDENTS`` people answered (too
few to say anything and, in public mode, too close to identifying them) or its coefficient of
variation exceeds ``CV_WITHHELD``; between ``CV_CAUTION`` and ``CV_WITHHELD`` it is shown marked
«poco precisa», the rule national statistical institutes of the region publish (e.g. INE Chile,
INEC Costa Rica: reliable up to 15 %, use with caution up to 30 %, not published beyond).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from core import warehouse

MIN_RESPONDENTS = 30
CV_CAUTION, CV_WITHHELD = 0.15, 0.30
BREAKDOWNS = {"": "Nacional", "dept_code": "Departamento", "sex": "Sexo", "age_group": "Grupo de edad",
              "area": "Área"}
FEW = f"menos de {MIN_RESPONDENTS} personas respondieron"
NOISY = f"coeficiente de variación mayor que {CV_WITHHELD:.0%}".replace("%", " %")
RULE = (f"Cada estimación usa el diseño de la encuesta (pesos, estratos y unidades primarias de muestreo; varianza por "
        f"linealización de Taylor) y su intervalo de confianza del 95 %. No se publica si respondieron menos de "
        f"{MIN_RESPONDENTS} personas o si su coeficiente de variación pasa del {CV_WITHHELD:.0%}; entre "
        f"{CV_CAUTION:.0%} y {CV_WITHHELD:.0%} se marca «poco precisa». Las respuestas «No sabe / No responde» no "
        "entran en el denominador y se cuentan aparte.").replace("%", " %").replace("  %", " %")


@warehouse.cached
def surveys() -> pd.DataFrame:
    """Every survey loaded: survey, name, institution, year, unit, file, respondents, synthetic."""
    return warehouse.query("SELECT survey, name, institution, year, unit, file, respondents, weight, stratum, psu, "
                           "synthetic FROM survey ORDER BY year, survey")


@warehouse.cached
def measures(survey: str) -> pd.DataFrame:
    """The measures of one survey: measure, name, kind, question, definition, excluded_codes, crime_type, sdg."""
    return warehouse.query("SELECT measure, name, kind, question, definition, yes_codes, excluded_codes, crime_type, sdg "
                           "FROM survey_measure WHERE survey = ? ORDER BY measure", [survey])


@warehouse.cached
def _answers(survey: str, measure: str) -> pd.DataFrame:
    return warehouse.query("""
        SELECT r.respondent, r.stratum, r.psu, r.weight, r.dept_code, r.sex, r.age_group, r.area, a.value, a.excluded
        FROM survey_respondent r JOIN survey_answer a ON a.survey = r.survey AND a.respondent = r.respondent
        WHERE r.survey = ? AND a.measure = ? ORDER BY r.respondent
    """, [survey, measure])


def design_estimates(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Weighted mean of ``value`` (a proportion when it is 0/1) over the rows where it is known, by
    ``by`` (None: the whole population), with the full design of ``frame`` (columns stratum, psu,
    weight, value). Columns: domain, est, se, lci, uci, cv, df, n (respondents who answered)."""
    import polars as pl
    import svy

    data = pl.from_pandas(frame.assign(answered=frame["value"].notna(),
                                       value=frame["value"].astype(float))[
        ["stratum", "psu", "weight", "value", "answered", *([by] if by else [])]])
    sample = svy.Sample(data=data, design=svy.Design(stratum="stratum", psu="psu", wgt="weight", singleton="center"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # svy's notices (e.g. singleton strata) are in the load report
        result = sample.estimation.mean(y="value", by=by, where=pl.col("answered"), drop_nulls=True)
    assert not isinstance(result, list)  # one variable: one estimate
    out = result.to_polars().to_pandas()
    if by is None:
        out.insert(0, "domain", "")
    else:
        out = out.rename(columns={by: "domain"})
    counts = frame[frame["value"].notna()].groupby(by).size() if by else pd.Series({"": int(frame["value"].notna().sum())})
    out["n"] = out["domain"].map(counts).fillna(0).astype(int)
    return out[["domain", "est", "se", "lci", "uci", "cv", "df", "n"]]


@warehouse.cached
def estimate(survey: str, measure: str, by: str = "") -> pd.DataFrame:
    """The measure's estimate nationally (``by`` "") or by dept_code, sex, age_group or area, as the pages
    show it. Columns: domain, est, se, lci, uci, cv, n (answered), excluded (No sabe / No responde),
    status («ok», «poco precisa», or why it is withheld); a withheld row has no est, se, lci, uci or cv."""
    if by not in BREAKDOWNS:
        raise ValueError(f"unsupported breakdown {by!r}")
    frame = _answers(survey, measure)
    if frame.empty:
        return pd.DataFrame(columns=["domain", "est", "se", "lci", "uci", "cv", "n", "excluded", "status"])
    out = design_estimates(frame, by or None)
    excluded = frame[frame["excluded"]].groupby(by).size() if by else pd.Series({"": int(frame["excluded"].sum())})
    out["excluded"] = out["domain"].map(excluded).fillna(0).astype(int)
    if by:  # domains where nobody answered still say how many were excluded
        missing = sorted(set(frame[by]) - set(out["domain"]))
        if missing:
            out = pd.concat([out, pd.DataFrame({"domain": missing, "n": 0,
                                                "excluded": [int(excluded.get(m, 0)) for m in missing]})],
                            ignore_index=True)
    few = out["n"] < MIN_RESPONDENTS
    noisy = ~few & (out["cv"] > CV_WITHHELD)
    out["status"] = np.where(few, FEW, np.where(noisy, NOISY, np.where(out["cv"] > CV_CAUTION, "poco precisa", "ok")))
    for column in ("est", "se", "lci", "uci", "cv"):
        out[column] = out[column].where(~(few | noisy))
    return out.drop(columns="df").sort_values("domain", kind="stable").reset_index(drop=True)


HIDDEN_FIGURE_CAVEATS = (
    "La encuesta cuenta personas que dicen haber sido víctimas al menos una vez en los 12 meses anteriores a la "
    "entrevista; los registros cuentan víctimas de cada hecho en el año calendario: una persona robada dos veces es una "
    "en la encuesta y dos en los registros.",
    "La encuesta representa a las personas de la edad que entrevista (en sus hogares); los registros se limitan aquí a "
    "las mismas edades, pero incluyen a quienes no viven en hogares (turistas, personas en tránsito).",
    "Las definiciones no son idénticas: la pregunta de la encuesta y el tipo de delito del catálogo pueden abarcar "
    "hechos distintos; y una estimación de la encuesta tiene su margen de error (el intervalo).",
)


@warehouse.cached
def hidden_figure(survey: str, measure: str) -> pd.DataFrame:
    """The «cifra oculta» of a measure tied to a crime type of the catalogue: nationally and by department,
    the victims the survey estimates (the share of yes times the population the weights represent, with
    the share's 95 % interval) against the victims of that crime recorded in the warehouse the same year
    at the ages the survey interviews. Columns: domain, estimated, estimated_lo, estimated_hi, recorded
    (as shown: «<5» when reserved), recorded_share (% of the estimated ones that are recorded), status."""
    from core import rates, views
    from core.filters import Filters, filter_options

    info = warehouse.query("SELECT crime_type FROM survey_measure WHERE survey = ? AND measure = ?", [survey, measure])
    crime = info["crime_type"].iloc[0] if len(info) else None
    if crime is None or pd.isna(crime):
        return pd.DataFrame()
    year = int(warehouse.scalar("SELECT year FROM survey WHERE survey = ?", [survey]))
    opts = filter_options()
    if not opts.min_year <= year <= opts.max_year:
        return pd.DataFrame()
    youngest = warehouse.scalar("SELECT min(CASE WHEN age_group = 'ND' THEN NULL ELSE age_group END) FROM "
                                "survey_respondent WHERE survey = ?", [survey])
    ages = tuple(code for code in opts.age_group_labels if _lower_age(code) >= _lower_age(youngest or "0"))
    f = Filters(year_from=year, year_to=year, crime_types=(crime,), age_groups=ages).resolved(opts)
    represented = warehouse.query("SELECT dept_code AS domain, sum(weight) AS people FROM survey_respondent "
                                  "WHERE survey = ? GROUP BY dept_code", [survey]).set_index("domain")["people"]
    national_people = float(represented.sum())
    rows = []
    shares = pd.concat([estimate(survey, measure).assign(domain=""), estimate(survey, measure, "dept_code")])
    recorded_by_dept = views.departments(f).set_index("code")["n"]
    national_recorded = views.count(f, rates.total_count(f))
    for r in shares.itertuples():
        people = national_people if r.domain == "" else float(represented.get(r.domain, np.nan))
        recorded = national_recorded.value if r.domain == "" else recorded_by_dept.get(r.domain)
        hidden = national_recorded.hidden if r.domain == "" else views.is_suppressed(pd.Series([recorded])).iloc[0]
        estimated = r.est * people if pd.notna(r.est) else np.nan
        share = (float(recorded) / estimated * 100 if not hidden and pd.notna(estimated) and estimated > 0
                 and recorded is not None else np.nan)
        rows.append({"domain": r.domain, "estimated": estimated, "estimated_lo": r.lci * people if pd.notna(r.lci) else np.nan,
                     "estimated_hi": r.uci * people if pd.notna(r.uci) else np.nan,
                     "recorded": national_recorded.text if r.domain == "" else views.label(recorded),
                     "recorded_share": share, "status": r.status})
    return pd.DataFrame(rows)


def _lower_age(code: str) -> int:
    """The first age of an age group code: «18-29» -> 18, «60+» -> 60."""
    head = str(code).split("-")[0].rstrip("+").strip()
    return int(head) if head.isdigit() else 0
