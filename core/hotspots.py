"""Hot spots: where high (or low) rates cluster in space more than chance would give.

On the smoothed rate of every municipality of the country (Empirical Bayes towards the national
mean, ``rates.by_municipality``: small populations do not make clusters by chance), with the
contiguity of ``core.spatial``:

- Global Moran's I (row-standardised weights): do neighbouring municipalities have similar rates?
  I = (n / S0) · Σ_ij w_ij z_i z_j / Σ_i z_i², with a pseudo p-value from GLOBAL_PERMUTATIONS
  random permutations of the rates over the map (Anselin 1995; PySAL ``esda.Moran``): one test,
  so 999 (GeoDa's default, smallest p-value 0.001) are enough, where the local statistics need
  9,999 for a p-value small enough to survive the correction over 340 tests.
- Local Moran (LISA, Anselin 1995): I_i = (n − 1) z_i Σ_j w_ij z_j / Σ_j z_j². Its quadrant says
  whether a municipality is high among high neighbours («Alto-Alto»), low among low («Bajo-Bajo»),
  or an outlier («Alto entre bajos», «Bajo entre altos»).
- Getis-Ord Gi* (Ord & Getis 1995): the z-score of the sum of the rates of the municipality and its
  neighbours (binary weights, the municipality itself included) against the national mean;
  positive and significant = punto caliente, negative = punto frío.

The p-values are conditional-permutation pseudo p-values (the municipality's own value fixed, its
neighbours drawn at random from the others: (M + 1) / (P + 1) in the direction observed, doubled
to answer the two-sided question «distinto del azar», at most 1; fixed seed so that a figure can
be reproduced). With the same neighbours and permutations, LISA and Gi* usually mark the same
municipalities: Gi* says where high values concentrate, LISA also tells outliers apart. With 340 tests at once, 5 % of them would come out
«significant» by chance alone: the Benjamini–Hochberg procedure keeps the expected share of false
discoveries among those declared significant at FDR (5 %). A municipality without neighbours (an
island) or without a rate takes no part; in public mode neither does one whose count is reserved
(«<5»): its class, and its neighbours' statistics, would give its count back.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core import disclosure, fmt, rates, spatial, warehouse
from core.filters import Filters, filter_options

PERMUTATIONS = 9_999
GLOBAL_PERMUTATIONS = 999
SEED = 20_240_601
FDR = 0.05

METHODS = {"lisa": "Moran local (LISA)", "gi": "Getis-Ord Gi*"}
LISA_CLASSES = {1: "Alto-Alto", 2: "Bajo entre altos", 3: "Bajo-Bajo", 4: "Alto entre bajos"}
GI_CLASSES = {1: "Punto caliente", -1: "Punto frío"}
NOT_SIGNIFICANT = "No significativo"
NO_NEIGHBOURS = "Sin vecinos o sin dato"
RESERVED = "Reservado (modo público)"
COLORS = {
    "Alto-Alto": "#d7191c", "Bajo-Bajo": "#2c7bb6", "Alto entre bajos": "#fdae61", "Bajo entre altos": "#abd9e9",
    "Punto caliente": "#d7191c", "Punto frío": "#2c7bb6", NOT_SIGNIFICANT: "#f0f0f0", NO_NEIGHBOURS: "#bdbdbd",
    RESERVED: "#c6dbef",
}
ORDER = {
    "lisa": ["Alto-Alto", "Alto entre bajos", "Bajo entre altos", "Bajo-Bajo", NOT_SIGNIFICANT, NO_NEIGHBOURS, RESERVED],
    "gi": ["Punto caliente", "Punto frío", NOT_SIGNIFICANT, NO_NEIGHBOURS, RESERVED],
}
DEFINITION = (
    "Un punto caliente es un grupo de municipios vecinos con tasas altas que difícilmente se daría por azar. Se "
    "calcula sobre la tasa suavizada (Bayes empírico) de todos los municipios del país. **Moran local (LISA)**: "
    "compara la tasa de cada municipio con la de sus vecinos (Alto-Alto, Bajo-Bajo, o atípicos: alto entre bajos, "
    "bajo entre altos). **Getis-Ord Gi\\***: compara la suma de las tasas del municipio y sus vecinos con la media "
    f"nacional; con la misma vecindad, las dos suelen marcar los mismos municipios (LISA además distingue los "
    f"atípicos). La significación (bilateral) se obtiene con {fmt.integer(PERMUTATIONS)} permutaciones condicionales y se "
    f"corrige por pruebas múltiples (Benjamini–Hochberg, tasa de falsos descubrimientos {fmt.percent(FDR * 100, 0)}; "
    f"la I de Moran global, una sola prueba, con {fmt.integer(GLOBAL_PERMUTATIONS)} permutaciones): "
    f"entre los municipios marcados, se espera que como mucho un {fmt.percent(FDR * 100, 0)} lo sean por azar. "
    "**I de Moran global**: mide si los municipios vecinos se parecen más de lo que daría el azar (0 = sin "
    "relación, positivo = se agrupan)."
)


@dataclass(frozen=True)
class GlobalMoran:
    i: float            # Moran's I
    expected: float     # E[I] = -1 / (n - 1) under no spatial pattern
    p_value: float      # permutation pseudo p-value, doubled (two-sided), at most 1
    n: int              # municipalities taking part


@dataclass(frozen=True)
class HotspotResult:
    table: pd.DataFrame  # code, value, neighbours, lisa_i, lisa_quadrant, lisa_p, lisa_q, lisa_class,
                         # gi_z, gi_p, gi_q, gi_class (q: Benjamini–Hochberg adjusted p-values)
    moran: GlobalMoran | None
    left_out: int        # municipalities without neighbours or without a rate


def benjamini_hochberg(p, tests: int | None = None) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values): a test is significant at FDR level α when q ≤ α.

    ``tests``: the number m of tests when ``p`` holds only some of them and the others are known to
    be larger than every q of interest (counted as p = 1: they can only raise a q, never lower one
    below 1). q_(i) = min(1, min over j ≥ i of p_(j) m / j); NaN stays NaN."""
    p = np.asarray(p, dtype="float64")
    out = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        values = p[ok]
        m = len(values) if tests is None else tests
        order = np.argsort(values, kind="stable")
        ranked = values[order] * m / np.arange(1, len(values) + 1)
        q = np.empty(len(values))
        q[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
        out[ok] = q
    return out


def _weights(adjacency: np.ndarray, transform: str):
    from libpysal.weights import W  # imported lazily: only the hot-spot view needs it

    neighbours = {i: [int(j) for j in np.flatnonzero(row)] for i, row in enumerate(adjacency)}
    w = W(neighbours, silence_warnings=True)
    w.transform = transform
    return w


def statistics(values, adjacency: np.ndarray, permutations: int = PERMUTATIONS,
               seed: int = SEED) -> tuple[pd.DataFrame, GlobalMoran | None]:
    """Local Moran, Gi* and global Moran's I of ``values`` over the areas of ``adjacency`` (0/1).
    Areas with a missing value or no neighbour with a value take no part (NaN, class NO_NEIGHBOURS).
    Columns as in ``HotspotResult.table`` without code."""
    import esda  # imported lazily (about 2 s)

    y = np.asarray(values, dtype="float64")
    adj = (np.asarray(adjacency, dtype="float64") > 0).astype("float64")
    ok = ~np.isnan(y)
    # drop areas left without a neighbour once the missing ones are out (repeat: dropping one may isolate another)
    keep = ok.copy()
    while True:
        sub = adj[np.ix_(keep, keep)]
        isolated = sub.sum(axis=1) == 0
        if not isolated.any():
            break
        idx = np.flatnonzero(keep)
        keep[idx[isolated]] = False
    m = int(keep.sum())
    out = pd.DataFrame({"value": y, "neighbours": (adj @ ok.astype(float)).astype(int)})
    for column in ("lisa_i", "lisa_p", "lisa_q", "gi_z", "gi_p", "gi_q"):
        out[column] = np.nan
    out["lisa_quadrant"] = 0
    out["lisa_class"] = NO_NEIGHBOURS
    out["gi_class"] = NO_NEIGHBOURS
    if m < 3 or np.nanstd(y[keep]) == 0:
        return out, None
    adj_ok = adj[np.ix_(keep, keep)]
    yk = y[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lisa = esda.Moran_Local(yk, _weights(adj_ok, "r"), transformation="r", permutations=permutations,
                                seed=seed, n_jobs=1, keep_simulations=False)
        binary = adj_ok.copy()
        np.fill_diagonal(binary, 0.0)
        gi = esda.G_Local(yk, _weights(binary, "b"), transform="B", star=True, permutations=permutations,
                          seed=seed, n_jobs=1, keep_simulations=False)
        saved = np.random.get_state()  # esda.Moran draws from numpy's global generator: seed it, then restore it
        np.random.seed(seed)
        try:
            moran = esda.Moran(yk, _weights(adj_ok, "r"), transformation="r",
                               permutations=min(permutations, GLOBAL_PERMUTATIONS))
        finally:
            np.random.set_state(saved)
    idx = np.flatnonzero(keep)
    lisa_p, gi_p = two_sided(lisa.p_sim), two_sided(gi.p_sim)
    lisa_q = benjamini_hochberg(lisa_p)
    gi_q = benjamini_hochberg(gi_p)
    out.loc[idx, "lisa_i"] = lisa.Is
    out.loc[idx, "lisa_p"] = lisa_p
    out.loc[idx, "lisa_q"] = lisa_q
    out.loc[idx, "lisa_quadrant"] = lisa.q.astype(int)
    out.loc[idx, "lisa_class"] = [LISA_CLASSES[int(q)] if s <= FDR else NOT_SIGNIFICANT for q, s in zip(lisa.q, lisa_q)]
    out.loc[idx, "gi_z"] = gi.Zs
    out.loc[idx, "gi_p"] = gi_p
    out.loc[idx, "gi_q"] = gi_q
    out.loc[idx, "gi_class"] = [GI_CLASSES[1 if z > 0 else -1] if s <= FDR else NOT_SIGNIFICANT for z, s in zip(gi.Zs, gi_q)]
    return out, GlobalMoran(float(moran.I), float(moran.EI), float(two_sided([moran.p_sim])[0]), m)


def two_sided(p) -> np.ndarray:
    """A folded permutation p-value (the tail in the direction observed) made two-sided: doubled, at most 1."""
    return np.minimum(1.0, 2 * np.asarray(p, dtype="float64"))


@warehouse.cached
def hotspots(f: Filters) -> HotspotResult:
    """Hot spots of the smoothed rate of every municipality of the country under the filters (the
    department filter does not narrow the analysis: a cluster crosses department borders; pages
    show the department's municipalities)."""
    national = replace(f, dept_code=None).resolved(filter_options())
    table = rates.by_municipality(national)
    reserved = disclosure.is_suppressed(disclosure.protect_territories(national, table)["n"]).to_numpy()
    values = np.where(reserved, np.nan, table["rate_eb"].to_numpy(dtype="float64"))
    stats, moran = statistics(values, spatial.adjacency(table["code"]))
    stats.insert(0, "code", table["code"].to_numpy())
    left_out = int((stats["lisa_class"] == NO_NEIGHBOURS).sum()) - int(reserved.sum())
    stats.loc[reserved, ["lisa_class", "gi_class"]] = RESERVED
    stats.loc[reserved, "value"] = np.nan
    return HotspotResult(stats, moran, left_out)


def moran_text(moran: GlobalMoran | None) -> str:
    """One sentence on the global Moran's I for a caption."""
    if moran is None:
        return "No hay suficientes municipios con tasa y vecinos para medir la autocorrelación espacial."
    verdict = ("los municipios vecinos tienen tasas más parecidas de lo que daría el azar" if moran.p_value <= 0.05
               and moran.i > moran.expected else
               "no se distingue un patrón espacial del azar" if moran.p_value > 0.05 else
               "los municipios vecinos tienen tasas más distintas de lo que daría el azar")
    return (f"I de Moran global = {fmt.decimal(moran.i, 3)} (esperado sin patrón: {fmt.decimal(moran.expected, 3)}; "
            f"probabilidad por azar: {fmt.chance(moran.p_value)}; {fmt.integer(moran.n)} municipios): {verdict}.")


def status(f: Filters, code: str) -> str | None:
    """One sentence on a municipality's cluster status for its page (None when it takes no part)."""
    found = hotspots(f)
    rows = found.table[found.table["code"] == code]
    if rows.empty or rows["lisa_class"].iloc[0] in (NO_NEIGHBOURS, RESERVED):
        return None
    row = rows.iloc[0]
    lisa, gi = row["lisa_class"], row["gi_class"]
    if lisa == NOT_SIGNIFICANT and gi == NOT_SIGNIFICANT:
        verdict = "no forma parte de ningún punto caliente ni frío significativo"
    else:
        verdict = f"Moran local: **{lisa}**; Getis-Ord Gi\\*: **{gi}**"
    return (f"**Puntos calientes** (tasa suavizada, todo el país, {fmt.integer(row['neighbours'])} vecinos): {verdict}. "
            f"Probabilidad ajustada por azar: {fmt.chance(row['lisa_q'])} (LISA), {fmt.chance(row['gi_q'])} (Gi\\*).")
