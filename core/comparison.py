"""Comparisons side by side: two periods for every municipality (the change of the rate, its exact
interval and whether chance explains it), and two territories.

Two periods: for each municipality, victims and person-years of period A and period B (the
protected table of the map in each period, so the public mode hides what it hides there), the
change of the rate B vs A in %, the exact 95 % interval of the rate ratio and the p-value of the
conditional binomial test (core/trend.compare_counts: given the total, B's count is binomial with
B's share of the person-years under no change), and the Benjamini-Hochberg adjustment over the
municipalities compared (the probability of a false "significant" among 340 tests). Periods of
different length compare correctly: the person-years carry the length.

In public mode a change is not shown where either count is reserved (a difference would give the
reserved count back), and such a municipality is not classified.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core import disclosure, hotspots, rates, views, warehouse
from core.filters import Filters, filter_options
from core.trend import compare_counts

SIGNIFICANCE = 0.05  # adjusted (false discovery rate)
UP, UP_NS, DOWN_NS, DOWN, NO_DATA, RESERVED = ("Aumento significativo", "Aumento (puede ser azar)",
                                               "Descenso (puede ser azar)", "Descenso significativo", "Sin dato",
                                               "Cifra reservada")
ORDER = [UP, UP_NS, DOWN_NS, DOWN, RESERVED, NO_DATA]
# a reserved or missing figure in greys, never a shade of the change
COLORS = {UP: "#b2182b", UP_NS: "#f4a582", DOWN_NS: "#92c5de", DOWN: "#2166ac", RESERVED: "#bdbdbd", NO_DATA: "#f0f0f0"}
METHOD = ("Cambio de la tasa del periodo B frente al A. Significativo: la prueba binomial condicional (dado el total "
          "de los dos periodos, el número de B es binomial con la parte de las personas-año de B si la tasa no "
          "cambió) da una probabilidad ajustada por Benjamini-Hochberg sobre los municipios comparados menor que "
          f"{SIGNIFICANCE:g}: se esperan a lo sumo un {SIGNIFICANCE:.0%} de falsos «significativos» entre ellos. El "
          "intervalo es el del 95 % exacto del cociente de tasas.")


@dataclass(frozen=True)
class Periods:
    a: Filters
    b: Filters

    @property
    def labels(self) -> tuple[str, str]:
        return period_label(self.a), period_label(self.b)


def period_label(f: Filters) -> str:
    return f.period()


def periods(f: Filters, a: tuple[int, int], b: tuple[int, int]) -> Periods:
    """The filters of the two periods (the other filters as they are)."""
    f = f.resolved(filter_options())
    return Periods(replace(f, year_from=a[0], year_to=a[1]), replace(f, year_from=b[0], year_to=b[1]))


def default_periods(f: Filters) -> tuple[tuple[int, int], tuple[int, int]]:
    """The last year of the filters against the year before (or the same year when there is none)."""
    f = f.resolved(filter_options())
    last = f.last_year
    before = max(filter_options().min_year, last - 1)
    return (before, before), (last, last)


@warehouse.cached
def municipalities(p: Periods) -> pd.DataFrame:
    """One row per municipality: code, name, dept_code, department, n_a, rate_a, n_b, rate_b (as shown:
    «<5» where reserved), diff (B - A victims), change (% of the rate), change_lo, change_hi (% bounds
    of the exact interval), p_value, q_value, significant, verdict (one of ORDER)."""
    a, b = views.municipalities(p.a), views.municipalities(p.b)
    table = a[["code", "name", "dept_code", "department"]].copy()
    b = b.set_index("code").reindex(table["code"])
    table["n_a"], table["rate_a"], table["population_a"] = a["n"].to_numpy(), a["rate"].to_numpy(), a["population"].to_numpy()
    table["n_b"], table["rate_b"], table["population_b"] = (b["n"].to_numpy(), b["rate"].to_numpy(),
                                                            b["population"].to_numpy())
    reserved = (views.is_suppressed(table["n_a"]) | views.is_suppressed(table["n_b"])).to_numpy()
    n_a, n_b = views.numeric(table["n_a"]).to_numpy(), views.numeric(table["n_b"]).to_numpy()
    pop_a = pd.to_numeric(table["population_a"], errors="coerce").to_numpy(dtype="float64")
    pop_b = pd.to_numeric(table["population_b"], errors="coerce").to_numpy(dtype="float64")
    results = [compare_counts(int(nb), pb, int(na), pa) if not hidden and np.isfinite(na) and np.isfinite(nb)
               and pa > 0 and pb > 0 else (None, None, None, None)
               for na, nb, pa, pb, hidden in zip(n_a, n_b, pop_a, pop_b, reserved)]
    change, lo, hi, pv = (np.array([r[i] if r[i] is not None else np.nan for r in results], dtype="float64")
                          for i in range(4))
    table["diff"] = np.where(reserved, np.nan, n_b - n_a)
    table["change"], table["change_lo"], table["change_hi"] = change, (lo - 1) * 100, (hi - 1) * 100
    table["p_value"] = pv
    tested = np.isfinite(pv)
    q = np.full(len(table), np.nan)
    if tested.any():
        q[tested] = hotspots.benjamini_hochberg(pv[tested])
    table["q_value"] = q
    table["significant"] = np.isfinite(q) & (q < SIGNIFICANCE)
    rising = np.isfinite(lo) & (lo > 1)
    verdict = np.where(reserved, RESERVED, np.where(~tested, NO_DATA, np.where(
        table["significant"] & rising, UP, np.where(table["significant"] & (hi < 1), DOWN,
                                                     np.where((n_b / np.where(pop_b > 0, pop_b, np.nan))
                                                              >= (n_a / np.where(pop_a > 0, pop_a, np.nan)), UP_NS, DOWN_NS)))))
    table["verdict"] = verdict
    return table


def largest_increases(table: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """The municipalities whose victims grew most from A to B (reserved ones left out)."""
    shown = table[table["diff"].notna() & (table["diff"] > 0)]
    return shown.sort_values(["diff", "code"], ascending=[False, True]).head(top)


def totals(p: Periods) -> pd.DataFrame:
    """The whole scope in each period: period, n (as shown), rate, and the change B vs A with its
    interval and p-value (hidden where either count is reserved)."""
    rows = []
    for label, f in zip(p.labels, (p.a, p.b)):
        h = rates.headline(f)
        rows.append({"period": label, "n": views.count(f, h.count).text, "count": h.count,
                     "person_years": h.denominator.person_years, "rate": h.rate, "hidden": views.count(f, h.count).hidden})
    out = pd.DataFrame(rows)
    a, b = rows
    change = compare_counts(b["count"], b["person_years"] or 0, a["count"], a["person_years"] or 0)
    hidden = a["hidden"] or b["hidden"]
    out.attrs["change"] = None if hidden else change
    return out.drop(columns=["count"])


def territory_figures(f: Filters, code: str, level: str) -> dict:
    """Victims (as shown), person-years and rate of one municipality or department, in the filters."""
    table = views.municipalities(f) if level == "municipio" else views.departments(f)
    row = table[table["code"] == code]
    if row.empty:
        raise ValueError(f"territorio desconocido: {code!r}")
    r = row.iloc[0]
    hidden = disclosure.is_suppressed(pd.Series([r["n"]])).iloc[0]
    return {"code": code, "name": r["name"], "n": views.label(r["n"]), "rate": None if hidden else r["rate"],
            "rate_lo": None if hidden else r["rate_lo"], "rate_hi": None if hidden else r["rate_hi"],
            "population": r["population"]}


def territory_years(f: Filters, codes: list[tuple[str, str]]) -> pd.DataFrame:
    """Rate per year of each territory ((code, level) pairs): territory, year, n (as shown), rate
    (None where reserved). Read from the same protected tables, one period a year."""
    f = f.resolved(filter_options())
    rows = []
    for year in range(f.first_year, f.last_year + 1):
        g = replace(f, year_from=year, year_to=year)
        for code, level in codes:
            fig = territory_figures(g, code, level)
            rows.append({"territory": fig["name"], "code": code, "year": year, "n": fig["n"], "rate": fig["rate"]})
    return pd.DataFrame(rows)
