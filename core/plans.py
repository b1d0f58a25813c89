"""Public-policy monitoring: the indicators of a plan (a national prevention policy, a municipal
safety plan, the strategy against violence towards women), each computed from the warehouse —
never typed in — and judged against the straight path from its baseline to its targets.

A plan is declared in a TOML file (``[[indicadores]]``), validated and stored when the warehouse is
loaded (table ``plan``); its indicators are computed when shown:
- ``tipo = "tasa"``: victims of the crimes or groups given per 100,000 inhabitants (of one sex when
  ``sexo`` is given: then per 100,000 women or men), nationally or in a department, with the exact
  Poisson interval, exactly as the pages compute it (core.views.yearly_total);
- ``tipo = "porcentaje"``: victims of a ``numerador`` (crimes, groups, sex) as a share of those of a
  ``denominador``, with the exact (Clopper–Pearson) interval;
- ``tipo = "encuesta"``: a survey measure (core.survey), its estimate and 95 % interval;
- ``tipo = "archivo"``: an indicator measured elsewhere, its values (year, value, bounds) read from
  the CSV file the plan names when the warehouse is loaded.

Status («en camino», «en riesgo», «fuera de ruta», «incierto») compares the latest value's interval
with the path expected that year (STATUS_RULE): noise alone never flips it.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from core import warehouse

KINDS = ("tasa", "porcentaje", "encuesta", "archivo")
DIRECTIONS = {"bajar": "Bajar", "subir": "Subir"}
ON_TRACK, AT_RISK, OFF_TRACK, UNCERTAIN, NO_DATA = "en camino", "en riesgo", "fuera de ruta", "incierto", "sin dato"
BASELINE_ONLY = "solo línea de base"  # one measurement so far: nothing to judge yet
STATUS_RULE = (
    "La trayectoria esperada es la línea recta entre la línea de base y cada meta (de una meta a la siguiente). Con el "
    "último valor y su intervalo de confianza del 95 %, para un indicador que debe bajar (al revés si debe subir): "
    "«en camino» si todo el intervalo está en la trayectoria o mejor; «fuera de ruta» si todo el intervalo está en la "
    "línea de base o peor (no se avanza); «en riesgo» si todo el intervalo está peor que la trayectoria pero mejor que "
    "la línea de base; «incierto» si el intervalo incluye el valor esperado: el azar no permite decirlo.")
INDICATOR_KEYS = ("codigo", "nombre", "definicion", "tipo", "delitos", "grupos", "sexo", "departamento", "encuesta",
                  "medida", "anio_base", "metas", "sentido", "responsable", "ods", "unidad", "numerador",
                  "denominador", "archivo")
PART_KEYS = ("delitos", "grupos", "sexo")


class PlanError(ValueError):
    """A plan file that cannot be used; every problem names the file, the indicator and the key."""

    def __init__(self, where: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{where}: el plan no es válido:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str
    kind: str
    baseline_year: int
    targets: tuple[tuple[int, float], ...]   # (year, value), in year order
    direction: str                           # bajar | subir
    institution: str
    sdg: str | None
    unit: str
    crime_types: tuple[str, ...] = ()
    crime_groups: tuple[str, ...] = ()
    sex: str | None = None
    dept_code: str | None = None
    survey: str | None = None
    measure: str | None = None
    numerator: dict | None = None            # porcentaje: {delitos, grupos, sexo}
    denominator: dict | None = None
    file: str | None = None                  # archivo: the CSV (read at load time into ``external``)
    external: tuple[tuple[int, float, float | None, float | None], ...] = ()


@dataclass(frozen=True)
class Plan:
    plan: str
    name: str
    institution: str
    indicators: tuple[Indicator, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Value:
    year: int
    value: float | None
    lo: float | None
    hi: float | None


def parse(data: Mapping, where: str) -> Plan:
    """A plan from its TOML (as a dict); PlanError listing every problem."""
    problems: list[str] = []
    plan_id = str(data.get("plan", "")).strip()
    if not plan_id:
        problems.append("falta 'plan' (un identificador, p. ej. politica_prevencion_2022)")
    unknown = set(data) - {"plan", "nombre", "responsable", "indicadores"}
    if unknown:
        problems.append(f"claves desconocidas {sorted(unknown)}; las claves son plan, nombre, responsable e indicadores")
    items = data.get("indicadores")
    if not isinstance(items, list) or not items:
        problems.append("falta la lista de indicadores ([[indicadores]])")
        items = []
    indicators, seen = [], set()
    for i, raw in enumerate(items, start=1):
        at = f"indicador {i}"
        if not isinstance(raw, dict):
            problems.append(f"{at}: se esperaba una sección [[indicadores]]")
            continue
        code = str(raw.get("codigo", "")).strip()
        at = f"indicador {code or i}"
        if not code:
            problems.append(f"{at}: falta 'codigo'")
        if code in seen:
            problems.append(f"{at}: el código aparece dos veces")
        seen.add(code)
        extra = set(raw) - set(INDICATOR_KEYS)
        if extra:
            problems.append(f"{at}: claves desconocidas {sorted(extra)}; las claves son {', '.join(INDICATOR_KEYS)}")
        for key in ("nombre", "definicion", "responsable"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                problems.append(f"{at}: falta '{key}' (texto)")
        kind = raw.get("tipo")
        if kind not in KINDS:
            problems.append(f"{at}: tipo = {kind!r} no es válido; se esperaba \"tasa\" (de los registros) o \"encuesta\" "
                            "(una medida de una encuesta cargada); los valores se calculan, nunca se escriben")
        if kind == "tasa" and not (raw.get("delitos") or raw.get("grupos")):
            problems.append(f"{at}: una tasa necesita 'delitos' (tipos del catálogo) o 'grupos' (grupos de delito)")
        if kind == "encuesta" and not (raw.get("encuesta") and raw.get("medida")):
            problems.append(f"{at}: un indicador de encuesta necesita 'encuesta' y 'medida'")
        if kind == "porcentaje":
            for part in ("numerador", "denominador"):
                table = raw.get(part)
                if not isinstance(table, dict) or not (table.get("delitos") or table.get("grupos") or table.get("sexo")):
                    problems.append(f"{at}: un porcentaje necesita '{part}' = {{ delitos = [...], grupos = [...], "
                                    "sexo = \"M\" }}")
                elif set(table) - set(PART_KEYS):
                    problems.append(f"{at}: {part}: claves desconocidas {sorted(set(table) - set(PART_KEYS))}; las "
                                    f"claves son {', '.join(PART_KEYS)}")
        if kind == "archivo" and not isinstance(raw.get("archivo"), str):
            problems.append(f"{at}: un indicador medido fuera del observatorio necesita 'archivo' (CSV con anio, valor "
                            "y, si los tiene, inferior y superior)")
        if raw.get("sexo") not in (None, "H", "M"):
            problems.append(f"{at}: sexo = {raw.get('sexo')!r}; se esperaba \"H\" o \"M\"")
        direction = raw.get("sentido")
        if direction not in DIRECTIONS:
            problems.append(f"{at}: sentido = {direction!r}; se esperaba \"bajar\" o \"subir\"")
        base = raw.get("anio_base")
        if not isinstance(base, int) or isinstance(base, bool):
            problems.append(f"{at}: falta anio_base (un año)")
            base = 0
        targets_raw = raw.get("metas")
        targets: list[tuple[int, float]] = []
        if not isinstance(targets_raw, dict) or not targets_raw:
            problems.append(f"{at}: faltan las metas (metas = {{ 2025 = 15.0, 2030 = 10.0 }})")
        else:
            for year, value in targets_raw.items():
                if not str(year).isdigit() or not isinstance(value, (int, float)) or isinstance(value, bool):
                    problems.append(f"{at}: la meta {year} = {value!r} no es un año con un número")
                elif int(year) <= base:
                    problems.append(f"{at}: la meta de {year} no es posterior al año base {base}")
                else:
                    targets.append((int(year), float(value)))
        if problems:
            continue
        assert isinstance(kind, str) and isinstance(direction, str)  # checked above
        indicators.append(Indicator(
            code, raw["nombre"].strip(), raw["definicion"].strip(), kind, base, tuple(sorted(targets)), direction,
            raw["responsable"].strip(), raw.get("ods"), raw.get("unidad", "por 100,000 hab." if kind == "tasa" else "%"),
            tuple(raw.get("delitos", ())), tuple(raw.get("grupos", ())), raw.get("sexo"), raw.get("departamento"),
            raw.get("encuesta"), raw.get("medida"), raw.get("numerador"), raw.get("denominador"), raw.get("archivo")))
    if problems:
        raise PlanError(where, problems)
    return Plan(plan_id, str(data.get("nombre", plan_id)), str(data.get("responsable", "—")), tuple(indicators))


def to_json(plan: Plan) -> str:
    return json.dumps({"plan": plan.plan, "name": plan.name, "institution": plan.institution,
                       "indicators": [ind.__dict__ | {"targets": [list(t) for t in ind.targets]}
                                      for ind in plan.indicators]}, ensure_ascii=False)


def from_json(text: str) -> Plan:
    data = json.loads(text)
    return Plan(data["plan"], data["name"], data["institution"], tuple(
        Indicator(**(d | {"targets": tuple((int(y), float(v)) for y, v in d["targets"]),
                          "crime_types": tuple(d["crime_types"]), "crime_groups": tuple(d["crime_groups"]),
                          "external": tuple((int(y), float(v), lo, hi) for y, v, lo, hi in d.get("external", ()))}))
        for d in data["indicators"]))


@warehouse.cached
def plans() -> tuple[Plan, ...]:
    """The plans stored with the warehouse."""
    table = warehouse.query("SELECT definition FROM plan ORDER BY plan")
    return tuple(from_json(text) for text in table["definition"])


def values(ind: Indicator) -> list[Value]:
    """The indicator's value for every year the data give, with its 95 % interval (None where reserved
    in public mode or without data)."""
    if ind.kind == "archivo":
        return [Value(y, v, lo, hi) for y, v, lo, hi in ind.external]
    if ind.kind == "porcentaje":
        return _shares(ind)
    if ind.kind == "encuesta":
        from core import survey

        listed = survey.surveys()
        year = listed.loc[listed["survey"] == ind.survey, "year"]
        if year.empty:
            return []
        est = survey.estimate(str(ind.survey), str(ind.measure)).iloc[0]
        scale = 100.0 if ind.unit == "%" else 1.0
        return [Value(int(year.iloc[0]), *(None if pd.isna(est[c]) else float(est[c]) * scale
                                          for c in ("est", "lci", "uci")))]
    from core import views
    from core.filters import Filters, filter_options

    opts = filter_options()
    f = Filters(crime_types=ind.crime_types, crime_groups=ind.crime_groups, sexes=(ind.sex,) if ind.sex else (),
                dept_code=ind.dept_code).resolved(opts)
    series = views.yearly_total(f)
    out = []
    for row in series.itertuples():
        rate, lo, hi = (views.numeric(pd.Series([v])).iloc[0] for v in (row.rate, row.rate_lo, row.rate_hi))
        out.append(Value(int(row.year), *(None if pd.isna(v) else float(v) for v in (rate, lo, hi))))
    return out


def _part_filters(part: Mapping, dept_code: str | None):
    from core.filters import Filters, filter_options

    return Filters(crime_types=tuple(part.get("delitos", ())), crime_groups=tuple(part.get("grupos", ())),
                   sexes=(part["sexo"],) if part.get("sexo") else (), dept_code=dept_code).resolved(filter_options())


def _shares(ind: Indicator) -> list[Value]:
    """Numerator victims as a percentage of the denominator's, each year, with the exact binomial interval;
    None where either count is reserved (public mode)."""
    from scipy.stats import binomtest

    from core import views

    num = views.yearly_total(_part_filters(ind.numerator or {}, ind.dept_code)).set_index("year")["n"]
    den = views.yearly_total(_part_filters(ind.denominator or {}, ind.dept_code)).set_index("year")["n"]
    out = []
    for year in den.index:
        k, n = views.numeric(pd.Series([num.get(year, 0)])).iloc[0], views.numeric(pd.Series([den[year]])).iloc[0]
        if pd.isna(k) or pd.isna(n) or n <= 0 or k > n:
            out.append(Value(int(year), None, None, None))
            continue
        ci = binomtest(int(k), int(n)).proportion_ci(0.95, method="exact")
        out.append(Value(int(year), 100 * k / n, 100 * ci.low, 100 * ci.high))
    return out


def expected(ind: Indicator, baseline: float, year: int) -> float:
    """The value on the straight path from the baseline to the targets in ``year``."""
    points = [(ind.baseline_year, baseline), *ind.targets]
    if year <= points[0][0]:
        return baseline
    for (y0, v0), (y1, v1) in zip(points, points[1:]):
        if year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return points[-1][1]


def status(ind: Indicator, baseline: float | None, latest: Value | None) -> str:
    """STATUS_RULE for the latest value against the path (its interval, so that noise never flips it)."""
    if baseline is None or latest is None or latest.value is None:
        return NO_DATA
    # a value measured elsewhere without its interval is taken as exact (the page says it has none)
    lo = latest.lo if latest.lo is not None else latest.value
    hi = latest.hi if latest.hi is not None else latest.value
    sign = 1 if ind.direction == "bajar" else -1  # «better» is lower when it must go down
    path = expected(ind, baseline, latest.year)
    worst, best = max(sign * lo, sign * hi), min(sign * lo, sign * hi)
    if worst <= sign * path:
        return ON_TRACK
    if best >= sign * baseline:
        return OFF_TRACK
    if best > sign * path:
        return AT_RISK
    return UNCERTAIN


def summary(plan: Plan) -> pd.DataFrame:
    """One row per indicator: code, name, sdg, unit, baseline_year, baseline, latest_year, latest, lo, hi,
    target_year, target, expected (on the path in the latest year), status, institution, direction and
    trend (every value computed, in year order)."""
    rows = []
    for ind in plan.indicators:
        found = [v for v in values(ind) if v.value is not None]
        base = next((v.value for v in found if v.year == ind.baseline_year), None)
        latest = found[-1] if found else None
        final_year, final_target = ind.targets[-1]
        rows.append({
            "code": ind.code, "name": ind.name, "sdg": ind.sdg, "unit": ind.unit, "baseline_year": ind.baseline_year,
            "baseline": base, "latest_year": latest.year if latest else None, "latest": latest.value if latest else None,
            "lo": latest.lo if latest else None, "hi": latest.hi if latest else None, "target_year": final_year,
            "target": final_target,
            "expected": expected(ind, base, latest.year) if base is not None and latest else None,
            "status": BASELINE_ONLY if latest is not None and latest.year <= ind.baseline_year else
            status(ind, base, latest),
            "institution": ind.institution, "direction": DIRECTIONS[ind.direction],
            "trend": [v.value for v in found]})
    return pd.DataFrame(rows)


SDMX_COLUMNS = ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "REF_AREA", "SERIES", "INDICATOR", "TIME_PERIOD",
                "OBS_VALUE", "LOWER_BOUND", "UPPER_BOUND", "UNIT_MEASURE", "OBS_STATUS", "COMMENT_OBS"]


def sdmx_csv(plan: Plan, country: str) -> str:
    """Every computed value of the plan's indicators in SDMX-CSV (the SDG global dataflow's layout:
    one observation per indicator and year, with its bounds), for a ministry to report without
    retyping. Reserved values are left out."""
    rows = []
    for ind in plan.indicators:
        for v in values(ind):
            if v.value is None:
                continue
            rows.append(["dataflow", "IAEG-SDGs:DF_SDG_GLH(1.0)", "I", "A", country, ind.code, ind.sdg or "",
                         str(v.year), _number(v.value), _number(v.lo), _number(v.hi),
                         "PER_100000_POP" if ind.kind == "tasa" else "PT" if ind.unit == "%" else ind.unit, "A", ind.name])
    return pd.DataFrame(rows, columns=SDMX_COLUMNS).to_csv(index=False)


def _number(x: float | None) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}".rstrip("0").rstrip(".")


def report(plan: Plan):
    """The monitoring report of a plan as bulletin blocks (core.bulletin: HTML; core.bulletin_pdf: PDF):
    the status of every indicator, the rule, and each indicator's definition, calculation and institution."""
    import datetime as dt

    from core import bulletin, fmt

    meta = warehouse.meta()
    table = summary(plan)
    latest = table["latest_year"].dropna()
    period = f"datos hasta {int(latest.max())}" if len(latest) else "sin datos"
    doc = bulletin.Bulletin(
        plan.name, period, f"{plan.institution} · {len(plan.indicators)} indicadores · {period}",
        meta.get("synthetic") == "true",
        f"Atalaya · informe generado el {dt.date.today():%d/%m/%Y} con el almacén del {meta.get('built_at', '—')[:10]}.",
        heading="Informe de seguimiento")

    def number(x, unit: str) -> str:
        return "—" if x is None or pd.isna(x) else (fmt.percent(x) if unit == "%" else fmt.decimal(x))

    counts = table["status"].value_counts()
    doc.blocks += [
        bulletin.Heading("Estado de los indicadores"),
        bulletin.KeyFigures(tuple((s.capitalize(), str(int(counts.get(s, 0))))
                                  for s in (ON_TRACK, AT_RISK, OFF_TRACK, UNCERTAIN, BASELINE_ONLY))),
        bulletin.Table(pd.DataFrame({
            "Código": table["code"], "Indicador": table["name"], "ODS": table["sdg"].fillna("—"),
            "Línea de base": [f"{number(v, u)} ({y})" for v, u, y in zip(table["baseline"], table["unit"],
                                                                          table["baseline_year"])],
            "Último valor (IC 95 %)": [("—" if pd.isna(v) else f"{number(v, u)} ({number(lo, u)} a {number(hi, u)}), "
                                        f"{int(y)}") for v, lo, hi, u, y in
                                       zip(table["latest"], table["lo"], table["hi"], table["unit"], table["latest_year"])],
            "Esperado": [number(v, u) for v, u in zip(table["expected"], table["unit"])],
            "Meta": [f"{number(v, u)} ({y})" for v, u, y in zip(table["target"], table["unit"], table["target_year"])],
            "Estado": table["status"]}), frozenset({"Esperado"})),
        bulletin.Text(STATUS_RULE, "sub"),
        bulletin.Heading("Indicadores"),
        bulletin.Definitions(tuple(
            (f"{ind.code} · {ind.name}", (ind.definition, f"Cálculo: {_calculation(ind)}.",
                                          f"Responsable: {ind.institution}." + (f" ODS {ind.sdg}." if ind.sdg else "")))
            for ind in plan.indicators)),
    ]
    return doc


def _calculation(ind: Indicator) -> str:
    if ind.kind == "archivo":
        return f"valores del archivo {ind.file}, medidos fuera del observatorio"
    if ind.kind == "porcentaje":
        def part(p: Mapping | None) -> str:
            p = p or {}
            return ", ".join([*p.get("delitos", ()), *p.get("grupos", ())]) + (
                f" ({'mujeres' if p.get('sexo') == 'M' else 'hombres'})" if p.get("sexo") else "")
        return f"víctimas de {part(ind.numerator)} en % de las de {part(ind.denominator)} (intervalo exacto binomial)"
    if ind.kind == "encuesta":
        return f"medida «{ind.measure}» de la encuesta «{ind.survey}», con su diseño muestral"
    what = ", ".join([*ind.crime_types, *ind.crime_groups])
    per = "100,000 mujeres" if ind.sex == "M" else "100,000 hombres" if ind.sex == "H" else "100,000 habitantes"
    return f"víctimas de {what} por {per}" + (f", departamento {ind.dept_code}" if ind.dept_code else "") + \
        ", con la población del mismo año (intervalo exacto de Poisson)"
