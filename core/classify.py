"""High / medium / low classes of a territorial measure (mapclassify) and their legend.

Three methods, chosen by the user:
- ``cuantiles``: each class holds about the same number of territories;
- ``jenks``: Fisher-Jenks natural breaks (minimum variance inside each class);
- ``media_de``: mean +- one standard deviation (3 classes) or +- 1 and 2 (5 classes); the
  bounds are kept inside the observed range and a class no territory falls in is left out of
  the legend (counts are skewed: "mean - sd" is often below zero, where nothing can be);
- ``umbrales``: fixed thresholds the user sets (e.g. a homicide rate of 10 per 100,000), 2 for 3
  classes or 4 for 5: the class says where a value stands, not how it ranks among the others.

Class ``i`` holds values in (upper bound of class i-1, upper bound of class i]; the first
class starts at the minimum. Territories without a value (no population, no indicator)
get no class ("Sin dato") and do not take part in the breaks.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.disclosure import SMALL_COUNTS

METHODS = {
    "cuantiles": "Cuantiles",
    "jenks": "Cortes naturales (Jenks)",
    "media_de": "Media ± desv. estándar",
    "umbrales": "Umbrales fijos",
}
# What «Alta» (the top class) means with each method: classes are relative except fixed thresholds.
MEANINGS = {
    "cuantiles": "Las clases son relativas: «Alta» reúne el tercio (con 5 clases, el quinto) de los territorios "
                 "mostrados con los valores más altos, sea cual sea el nivel; siempre hay territorios en «Alta».",
    "jenks": "Las clases son relativas: agrupan valores parecidos entre los territorios mostrados y cortan donde "
             "hay saltos; «Alta» es el grupo de valores más altos, no un nivel fijo.",
    "media_de": "Las clases son relativas: «Alta» es más de una desviación estándar por encima de la media de los "
                "territorios mostrados; una clase en la que no cae ningún territorio no se muestra.",
    "umbrales": "Las clases son absolutas: cada territorio cae en la clase que le corresponde según los umbrales "
                "elegidos, compare con quien compare; una clase puede quedar vacía.",
}
THRESHOLDS_FOR = {3: 2, 5: 4}   # classes -> thresholds needed
RELATIVE_METHODS = {m: METHODS[m] for m in ("cuantiles", "jenks", "media_de")}  # no thresholds to set
HOW = {
    "cuantiles": "Cada clase tiene aproximadamente el mismo número de territorios.",
    "jenks": "Minimiza la varianza dentro de cada clase (algoritmo de Fisher-Jenks).",
    "media_de": "Cortes en la media ± 1 desviación estándar (3 clases) o ± 1 y 2 (5 clases), dentro de los valores "
                "observados; las clases sin ningún territorio no se muestran.",
    "umbrales": "Cortes en los valores que fija quien consulta (2 umbrales para 3 clases, 4 para 5), por ejemplo "
                "una tasa de homicidios de 10 por 100,000.",
}
LEVELS = {
    3: ("Baja", "Media", "Alta"),
    5: ("Muy baja", "Baja", "Media", "Alta", "Muy alta"),
}
NO_DATA = "Sin dato"
RESERVED = f"{SMALL_COUNTS} (reservado)"  # small counts hidden in public mode (core.disclosure)

# Sequential palettes (ColorBrewer), light = low; RGB.
PALETTES = {
    "incidencia": {3: ["#ffeda0", "#feb24c", "#f03b20"], 5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]},
    "vulnerabilidad": {3: ["#efedf5", "#bcbddc", "#756bb1"], 5: ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"]},
    "prioridad": {3: ["#fee8c8", "#fdbb84", "#e34a33"], 5: ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]},
    # points over an incidence background (schools): blues, told apart from the yellow-red below
    "centros": {3: ["#c6dbef", "#4292c6", "#08306b"], 5: ["#deebf7", "#9ecae1", "#4292c6", "#2171b5", "#08306b"]},
}
NO_DATA_COLOR = "#d9d9d9"
RESERVED_COLOR = "#c6dbef"
_JENKS_EXACT_LIMIT = 3_000  # above this, breaks are computed on an evenly spaced sample of the sorted values


@dataclass(frozen=True)
class Classification:
    """Class of every value (same index as the input) and the legend."""
    labels: pd.Series          # class label per territory, NO_DATA where the value is missing
    rank: pd.Series            # 0 = lowest class, -1 = no data, -2 = reserved
    legend: pd.DataFrame       # label, lower (exclusive; None for the first class), upper (inclusive),
                               # count, color: one row per class, then "Sin dato" if any
    method: str
    k: int                     # classes requested
    note: str | None           # why fewer classes than requested were formed, if so

    def color_of(self, label: str) -> str:
        return dict(zip(self.legend["label"], self.legend["color"])).get(label, NO_DATA_COLOR)


def classify(values: pd.Series, method: str = "cuantiles", k: int = 3, palette: str = "incidencia",
             reserved: pd.Series | None = None, thresholds: tuple[float, ...] = ()) -> Classification:
    """``reserved`` marks territories whose value is hidden (a count from 1 to 4 in public mode):
    they take no part in the breaks and get their own legend entry instead of "Sin dato".
    ``thresholds``: the increasing upper bounds of the first k-1 classes (method ``umbrales``)."""
    if method not in METHODS:
        raise ValueError(f"método de clasificación desconocido: {method!r} (use uno de {', '.join(METHODS)})")
    if k not in LEVELS:
        raise ValueError(f"número de clases no admitido: {k!r} (use 3 o 5)")
    values = pd.to_numeric(values, errors="coerce").astype("float64")
    present = values.dropna()
    ranks = pd.Series(-1, index=values.index, dtype="int64")
    if method == "umbrales":
        thresholds = tuple(float(t) for t in thresholds)
        if len(thresholds) != THRESHOLDS_FOR[k] or list(thresholds) != sorted(set(thresholds)):
            raise ValueError(f"con {k} clases se necesitan {THRESHOLDS_FOR[k]} umbrales crecientes")
        found = _Breaks((*thresholds, float("inf")))  # the top class has no upper bound
    else:
        found = _breaks(tuple(present.to_numpy()), method, k) if len(present) else _Breaks(())
    bins, note, levels = found.bins, found.note, found.levels
    if len(present):
        ranks.loc[present.index] = np.searchsorted(np.asarray(bins), present.to_numpy(), side="left")
    names = _labels_for(len(bins), k, levels)
    colors = _colors_for(len(bins), k, palette, levels)
    if reserved is not None:
        ranks[np.asarray(reserved, dtype=bool) & (ranks < 0).to_numpy()] = -2
    labels = ranks.map(lambda r: names[r] if r >= 0 else (RESERVED if r == -2 else NO_DATA))
    rows: list[tuple[str, float | None, float | None, int, str]] = []
    lowers = found.lowers or (None, *(float(b) for b in bins[:-1]))
    for i, upper in enumerate(bins):
        rows.append((names[i], lowers[i], float(upper), int((ranks == i).sum()), colors[i]))
    hidden = int((ranks == -2).sum())
    if hidden:
        rows.append((RESERVED, None, None, hidden, RESERVED_COLOR))
    missing = int((ranks == -1).sum())
    if missing:
        rows.append((NO_DATA, None, None, missing, NO_DATA_COLOR))
    legend = pd.DataFrame(rows, columns=["label", "lower", "upper", "count", "color"])
    return Classification(labels, ranks, legend, method, k, note)


def categorical(labels: pd.Series, order: list[str], colors: dict[str, str], method: str) -> Classification:
    """A map of categories (hot spots) drawn and explained like a classified measure: each label its
    colour, the legend in ``order`` with how many territories fall in each (empty ones left out)."""
    labels = labels.astype(str)
    ranks = labels.map({label: i for i, label in enumerate(order)}).fillna(-1).astype("int64")
    rows = [(label, None, None, int((labels == label).sum()), colors[label]) for label in order if (labels == label).any()]
    legend = pd.DataFrame(rows, columns=["label", "lower", "upper", "count", "color"])
    return Classification(labels, ranks, legend, method, len(order), None)


class _Breaks(NamedTuple):
    bins: tuple[float, ...]                      # upper bound of each class (inclusive)
    note: str | None = None                      # why fewer classes than requested, if so
    levels: tuple[int, ...] | None = None        # which of the k levels each class is (None: _spread)
    lowers: tuple[float | None, ...] | None = None  # lower bounds (None: the previous upper bound)


@functools.lru_cache(maxsize=256)
def _breaks(values: tuple[float, ...], method: str, k: int) -> _Breaks:
    """Upper bounds of the classes (the last one is the maximum) and a note if fewer than k."""
    import mapclassify  # imported lazily: it is slow to import and only the map pages need it

    y = np.asarray(values, dtype="float64")
    unique = np.unique(y)
    if len(unique) <= k:
        # Too few distinct values to form k classes: each distinct value is its own class.
        note = None if len(unique) == k else (
            f"Solo hay {len(unique)} valor(es) distinto(s): se forman {len(unique)} clase(s) en lugar de {k}.")
        return _Breaks(tuple(float(u) for u in unique), note)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "cuantiles":
            bins = mapclassify.Quantiles(y, k=k).bins
        elif method == "jenks":
            bins = fisher_jenks(y, k)
        else:
            multiples = [-1, 1] if k == 3 else [-2, -1, 1, 2]
            mean, sd = y.mean(), y.std()
            bins = np.array([mean + m * sd for m in multiples] + [y.max()])
    bins = np.asarray(bins, dtype="float64")
    bins[-1] = y.max()
    if method == "media_de":
        return _mean_sd_classes(y, bins, k)
    bins = np.unique(bins)
    note = None if len(bins) == k else (
        f"Muchos territorios comparten el mismo valor: se forman {len(bins)} clases en lugar de {k}.")
    return _Breaks(tuple(float(b) for b in bins), note)


def _mean_sd_classes(y: np.ndarray, bins: np.ndarray, k: int) -> _Breaks:
    """Mean +- sd classes shown only where territories are: a class no value falls in (a bound
    below the minimum, e.g. "mean - sd" of skewed counts, or above the maximum, or a gap in the
    values) is left out. The classes that remain keep their level, their colour and their own
    bounds (a class just above the mean is «Media» whatever was dropped below it, and it starts
    at "mean - sd", not lower); the first one shown starts at the minimum ("hasta ..."). So every
    bound shown lies between the minimum and the maximum of the values."""
    # Clipping at the maximum moves no value; a bound below the minimum is not raised to it (the
    # minimum would change class): its class is empty and dropped below.
    bins = np.minimum(bins, y.max())
    ranks = np.searchsorted(bins, y, side="left")
    kept = tuple(int(i) for i in range(k) if (ranks == i).any())
    note = None
    if len(kept) < k:
        empty = [f"«{LEVELS[k][i]}»" for i in range(k) if i not in kept]
        listed = " ni ".join([", ".join(empty[:-1]), empty[-1]]) if len(empty) > 1 else empty[0]
        note = (f"Ningún territorio cae en {listed} (media ± desviación estándar): "
                f"{'esa clase no se muestra' if len(empty) == 1 else 'esas clases no se muestran'}.")
    lowers = tuple(None if j == 0 else float(bins[i - 1]) for j, i in enumerate(kept))
    return _Breaks(tuple(float(bins[i]) for i in kept), note, kept, lowers)


def fisher_jenks(y: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of the k classes that minimise the sum of squared deviations from the class
    means (Fisher 1958), by dynamic programming over the sorted values, vectorised with numpy.

    Same optimum as ``mapclassify.FisherJenks`` (checked in the tests), which without numba
    runs in pure Python and takes about 2 s for 340 municipalities and 5 classes.
    """
    x = np.sort(np.asarray(y, dtype="float64"))
    if len(x) > _JENKS_EXACT_LIMIT:
        x = x[np.linspace(0, len(x) - 1, _JENKS_EXACT_LIMIT).round().astype(int)]
    n = len(x)
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])
    i = np.arange(n)[:, None]   # first index of the last class
    j = np.arange(n)[None, :]   # last index of the last class
    count = (j - i + 1).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        cost = (s2[j + 1] - s2[i]) - (s1[j + 1] - s1[i]) ** 2 / count
    cost = np.where(j >= i, np.maximum(cost, 0.0), np.inf)
    best = cost[0].copy()                    # best[j]: one class over x[0..j]
    starts = []
    for _ in range(1, k):
        prev = np.concatenate([[np.inf], best[:-1]])   # cost of the classes before index i
        total = prev[:, None] + cost
        start = np.argmin(total, axis=0)
        best = total[start, np.arange(n)]
        starts.append(start)
    # walk back from the last value to find where each class starts
    bounds, end = [], n - 1
    for start in reversed(starts):
        first = int(start[end])
        bounds.append(x[end])
        end = first - 1
    bounds.append(x[end])
    return np.array(bounds[::-1])


def _spread(n: int, k: int) -> list[int]:
    """Which of the k levels to use when only n < k classes could be formed (keep both ends)."""
    if n >= k:
        return list(range(k))
    if n == 1:
        return [0]
    return [int(round(i * (k - 1) / (n - 1))) for i in range(n)]


def _labels_for(n: int, k: int, levels: tuple[int, ...] | None = None) -> list[str]:
    return [LEVELS[k][i] for i in (levels if levels is not None else _spread(n, k))]


def _colors_for(n: int, k: int, palette: str, levels: tuple[int, ...] | None = None) -> list[str]:
    colors = PALETTES[palette][k]
    return [colors[i] for i in (levels if levels is not None else _spread(n, k))]


def parse_thresholds(text: str) -> tuple[float, ...] | None:
    """«10, 20» -> (10.0, 20.0): increasing numbers separated by commas or semicolons (a decimal
    point, thousands without separator); None when the text is not that."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        return None
    if not values or list(values) != sorted(set(values)) or not all(np.isfinite(values)):
        return None
    return values


def range_text(lower: float | None, upper: float | None, fmt) -> str:
    """Human-readable bounds of a class: "hasta 12.5" / "más de 12.5 a 30.0"."""
    if upper is None or pd.isna(upper):
        return "—"
    if np.isinf(upper):
        return f"más de {fmt(lower)}"
    if lower is None or pd.isna(lower):
        return f"hasta {fmt(upper)}"
    return f"más de {fmt(lower)} a {fmt(upper)}"


def hex_to_rgba(color: str, alpha: int = 210) -> list[int]:
    color = color.lstrip("#")
    return [int(color[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]
