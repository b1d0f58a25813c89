"""Municipal priority index: where should policy go first?

    index_i = 100 x sum_c (w_c x s_ic) / sum_c w_c      (c over the components available for i)

- s_ic: component c of municipality i scaled to 0..1 as its percentile rank among every
  municipality of the country (the share of the others with a lower value; 1 = worst). Scaled
  against the country, the index of a municipality, and so the order of a department's
  municipalities, is the same with or without the department filter; and one extreme value does
  not compress everyone else's score, as min-max scaling would. Incidence components use
  Empirical-Bayes smoothed rates per 100,000 (towards the national mean) so that small
  municipalities do not top the list by chance; vulnerability components are the indicators of
  ``core.vulnerability``.
- w_c: the weights chosen by the user (any non-negative numbers; only their proportions matter).
- contribution of c to i's index: 100 x w_c x s_ic / sum_c w_c (the contributions add up to the index).
- rank band: the 5th and 95th percentiles of i's rank among the municipalities shown when each
  weight is multiplied by an independent uniform factor in [1 - WEIGHT_SPREAD, 1 + WEIGHT_SPREAD]
  (BAND_DRAWS draws, fixed seed): how much the rank depends on the exact weights chosen.

The components have fixed definitions: of the shared filters only the period and the
department apply.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core import composite, rates, vaw, vulnerability, warehouse
from core.filters import Filters, filter_options

LETHAL_TYPES = ("homicidio", "femicidio")
PROPERTY_TYPES = ("extorsion", "robo", "hurto", "robo_vehiculo")
TREND_YEARS = 2  # the last year of the period against the mean of the two years before it
WEIGHT_SPREAD = 0.5
BAND_DRAWS = 400
BAND_SEED = 20240601


@dataclass(frozen=True)
class Component:
    key: str            # short id, also used in the URL
    name: str
    kind: str           # "incidencia" or "vulnerabilidad"
    definition: str
    default_weight: int  # on a 0-100 scale; only the proportions between weights matter


INCIDENCE = (
    Component("hom", "Tasa de homicidios", "incidencia",
              "Víctimas de homicidio doloso y femicidio por 100,000 habitantes (tasa suavizada).", 25),
    Component("vcm", "Tasa de violencia contra la mujer", "incidencia",
              "Mujeres víctimas de femicidio, violencia contra la mujer, violencia intrafamiliar, violación y otras "
              "agresiones sexuales por 100,000 mujeres (tasa suavizada).", 15),
    Component("pat", "Tasa de delitos contra el patrimonio", "incidencia",
              "Víctimas de extorsión, robo, hurto y robo de vehículos por 100,000 habitantes (tasa suavizada).", 10),
    Component("ten", "Tendencia", "incidencia",
              "Cambio de las víctimas de los tres delitos anteriores: ln((víctimas del último año + 1) ÷ "
              "(promedio anual de los dos años anteriores + 1)); los años parciales se anualizan.", 10),
)
VULNERABILITY_SHARE = 40  # default weight shared equally by the vulnerability indicators


def components() -> tuple[Component, ...]:
    inds = vulnerability.catalog()
    each = round(VULNERABILITY_SHARE / len(inds)) if inds else 0
    vuln = tuple(Component(ind.code, ind.name, "vulnerabilidad",
                           f"{ind.name} ({ind.unit}, {ind.year}; fuente: {ind.source}). "
                           + ("Un valor alto indica más vulnerabilidad." if ind.higher_is_worse
                              else "Un valor alto indica menos vulnerabilidad (se invierte)."), each)
                 for ind in inds)
    return INCIDENCE + vuln


def default_weights() -> dict[str, float]:
    return {c.key: c.default_weight for c in components()}


@dataclass(frozen=True)
class PriorityResult:
    table: pd.DataFrame  # one row per municipality; see priority_index
    components: tuple[Component, ...]
    weights: dict[str, float]  # normalised to sum 1 over the components with a positive weight
    notes: tuple[str, ...]


def priority_index(f: Filters, weights: Mapping[str, float] | None = None) -> PriorityResult:
    """The index for every municipality in scope.

    Table columns: code, name, dept_code, department, population, for each component ``key``:
    ``key`` (raw value), ``key_s`` (scaled 0..1 against the country) and ``key_pts`` (points
    contributed); then index (0-100), rank (1 = highest priority among the municipalities shown),
    rank_low and rank_high (the rank band under weights moved by ±WEIGHT_SPREAD), missing
    (components without data, comma list).
    """
    comps = components()
    w = default_weights() if weights is None else {c.key: float(weights.get(c.key, 0.0)) for c in comps}
    if any(v < 0 or not math.isfinite(v) for v in w.values()):
        raise ValueError("los pesos deben ser números no negativos")
    scope = Filters(year_from=f.year_from, year_to=f.year_to, dept_code=f.dept_code).resolved(filter_options())
    return _priority(scope, tuple(w.items()))


@warehouse.cached
def _priority(f: Filters, weights: tuple[tuple[str, float], ...]) -> PriorityResult:
    comps = components()
    w = dict(weights)
    total = sum(w.values())
    if total <= 0:
        raise ValueError("al menos un componente debe tener un peso mayor que cero")
    national, notes = component_values(replace(f, dept_code=None))
    worse = {i.code: i.higher_is_worse for i in vulnerability.catalog()}
    scaled_all = {c.key: _scale(national[c.key], worse.get(c.key, True)) for c in comps}
    shown = (national["dept_code"] == f.dept_code).to_numpy() if f.dept_code else np.ones(len(national), bool)
    raw = national[shown].reset_index(drop=True)
    scaled = {key: values[shown] for key, values in scaled_all.items()}
    points, index = composite.weighted_points(scaled, w)
    columns: dict[str, np.ndarray] = {f"{key}_s": values for key, values in scaled.items()}
    columns |= {f"{key}_pts": values for key, values in points.items()}
    columns["index"] = index
    table = pd.concat([raw, pd.DataFrame(columns)], axis=1)
    table["rank"] = table["index"].rank(ascending=False, method="min").astype("Int64")
    low, high = composite.rank_band(scaled, w, WEIGHT_SPREAD, BAND_DRAWS, BAND_SEED)
    table["rank_low"], table["rank_high"] = pd.array(low, dtype="Int64"), pd.array(high, dtype="Int64")
    absent = [(c.name, np.isnan(raw[c.key].to_numpy(dtype="float64"))) for c in comps if w[c.key] > 0]
    table["missing"] = [", ".join(name for name, mask in absent if mask[i]) for i in range(len(table))]
    if (table["missing"] != "").any():
        notes = notes + (f"{int((table['missing'] != '').sum())} municipio(s) no tienen dato de algún componente: "
                         "su índice se calcula con los componentes disponibles (los pesos se reparten entre ellos).",)
    constant = [c.name for c in comps if w[c.key] > 0 and table[c.key].nunique(dropna=True) <= 1]
    if constant:
        notes = notes + ("Sin variación entre municipios (no distinguen a ninguno): " + ", ".join(constant) + ".",)
    normalised = {k: v / total for k, v in w.items() if v > 0}
    return PriorityResult(table, comps, normalised, notes)


def _scale(values: pd.Series, higher_is_worse: bool) -> np.ndarray:
    """Percentile rank among the municipalities with a value (1 = worst)."""
    ranked = composite.percentile_below(pd.to_numeric(values, errors="coerce").astype("float64"))
    return (ranked if higher_is_worse else 1.0 - ranked).to_numpy(dtype="float64")


@warehouse.cached
def component_values(f: Filters) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Raw component values per municipality in scope (period and department of ``f``).

    Columns: code, name, dept_code, department, population, hom, vcm, pat, ten, <rates...>,
    plus the counts behind each rate (hom_n, vcm_n, pat_n) and trend (ten_last, ten_prev).
    """
    base = Filters(year_from=f.year_from, year_to=f.year_to, dept_code=f.dept_code).resolved(filter_options())
    notes: list[str] = []
    parts = (("hom", replace(base, crime_types=LETHAL_TYPES)),
             ("vcm", replace(base, crime_types=vaw.types(), sexes=vaw.WOMEN)),
             ("pat", replace(base, crime_types=PROPERTY_TYPES)))
    total, *scoped_rates = rates.by_municipality_many((base, *(filt for _, filt in parts)))
    table = total[["code", "name", "dept_code", "department", "population"]].copy()
    for (key, filt), df in zip(parts, scoped_rates):
        table[key] = df["rate_eb"].to_numpy()
        table[f"{key}_n"] = df["n"].to_numpy()
        note = rates.population_note(filt)
        if note:
            notes.append(f"{dict((c.key, c.name) for c in INCIDENCE)[key]}: {note}")
    last, prev = trend_counts(base)
    table["ten_last"], table["ten_prev"] = last, prev
    table["ten"] = np.log((last + 1) / (prev + 1)) if prev is not None else np.nan
    if prev is None:
        notes.append("Tendencia: no hay años anteriores al último año del periodo en los datos; el componente no se usa.")
    vul = vulnerability.values(f.dept_code)
    codes = [i.code for i in vulnerability.catalog()]
    table = table.merge(vul[["code", *codes]], on="code", how="left")
    return table, tuple(notes)


def trend_counts(f: Filters) -> tuple[np.ndarray, np.ndarray | None]:
    """Annualised victims of the index crimes per municipality in the last year of the period
    and their mean over the TREND_YEARS years before it (None if no earlier year has data)."""
    opts = filter_options()
    types = tuple(dict.fromkeys(LETHAL_TYPES + vaw.types() + PROPERTY_TYPES))
    last_year = f.last_year
    first_year = max(opts.min_year, last_year - TREND_YEARS)
    by_year = rates.municipality_year_counts(replace(f, year_from=first_year, year_to=last_year,
                                                          crime_types=types))  # municipalities in code order

    def annual(year: int) -> np.ndarray:
        return by_year[year].to_numpy(dtype="float64") / rates.year_coverage(year)

    last = annual(last_year)
    earlier = [y for y in range(first_year, last_year) if rates.year_coverage(y) > 0]
    if not earlier:
        return last, None
    return last, np.mean([annual(y) for y in earlier], axis=0)
