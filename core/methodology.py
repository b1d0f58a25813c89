"""What every figure means: the formulas and reference tables shown on the page
"Metodología y definiciones" (and reused by the pages that compute each figure)."""
from __future__ import annotations

import html

import pandas as pd

from core import cellkey, disclosure, fmt, priority, rates, warehouse

EB_FORMULA = (
    "Con $r_i = n_i/P_i$, $b = \\sum n / \\sum P$, $s^2 = \\sum P_i (r_i-b)^2 / \\sum P$ y "
    "$a = \\max(0,\\ s^2 - b/\\bar P)$: tasa suavizada $= b + C_i (r_i - b)$ con $C_i = a / (a + b/P_i)$ "
    "(Marshall, 1991). Se calcula sobre todos los municipios (o departamentos) del país, también cuando se elige "
    "un departamento, de modo que la tasa suavizada de un municipio no depende del filtro; entre aldeas, para los "
    "centros educativos."
)
def _interval_example() -> str:
    (small_lo, large_lo), (small_hi, large_hi) = rates.rate_interval([2, 2_000], [3_000, 3_000_000])
    return (f"Con 2 casos en 3,000 habitantes la tasa es {fmt.decimal(rates.rate(2, 3_000))} y su intervalo va de "
            f"{fmt.decimal(small_lo)} a {fmt.decimal(small_hi)}; con 2,000 casos en 3 millones, de "
            f"{fmt.decimal(large_lo)} a {fmt.decimal(large_hi)}: las dos tasas son iguales, pero solo la segunda es precisa.")


INTERVAL_FORMULA = (
    "Con $n$ casos y $P$ personas-año: límite inferior $= \\chi^2_{\\alpha/2}(2n) / 2P \\times 100{,}000$ (0 si "
    "$n = 0$), superior $= \\chi^2_{1-\\alpha/2}(2n+2) / 2P \\times 100{,}000$, con $\\alpha = 0.05$ (Garwood, 1936). "
    + _interval_example()
)
SPATIAL_EB_FORMULA = (
    "Como la tasa suavizada, con $b_i$, $s_i^2$ y $a_i$ calculados sobre el vecindario $N_i$ (el municipio y los que "
    "lindan con él): $b_i = \\sum_{N_i} n / \\sum_{N_i} P$, tasa $= b_i + a_i/(a_i + b_i/P_i)\\,(r_i - b_i)$ "
    "(Marshall, 1991; Anselin, Lozano y Koschinsky, 2006)."
)
HOTSPOT_FORMULAS = (
    "Con $z_i$ la tasa suavizada menos la media y $w_{ij}$ los vecinos (fila estandarizada): "
    "**I de Moran global** $= \\frac{n}{S_0} \\frac{\\sum_i \\sum_j w_{ij} z_i z_j}{\\sum_i z_i^2}$; "
    "**Moran local** $I_i = (n-1)\\, z_i \\sum_j w_{ij} z_j / \\sum_j z_j^2$ (Anselin, 1995); "
    "**Gi\\*** $= \\frac{\\sum_j w_{ij} x_j - \\bar x \\sum_j w_{ij}}{S \\sqrt{(n \\sum_j w_{ij}^2 - "
    "(\\sum_j w_{ij})^2)/(n-1)}}$ con el propio municipio entre sus vecinos (Ord y Getis, 1995). Probabilidades por "
    "permutaciones condicionales y corrección de Benjamini y Hochberg (1995)."
)
# Works cited: (authors and year, title in its language, the title's language, where it was published).
REFERENCES = (
    ("Anselin, L. (1995)", "Local indicators of spatial association — LISA", "en", "Geographical Analysis 27(2)"),
    ("Anselin, L., Lozano, N. y Koschinsky, J. (2006)", "Rate transformations and smoothing", "en",
     "GeoDa Center, Universidad de Illinois"),
    ("Benjamini, Y. y Hochberg, Y. (1995)", "Controlling the false discovery rate", "en", "JRSS B 57(1)"),
    ("Farrington, C. P., Andrews, N. J., Beale, A. D. y Catchpole, M. A. (1996)",
     "A statistical algorithm for the early detection of outbreaks of infectious disease", "en", "JRSS A 159(3)"),
    ("Garwood, F. (1936)", "Fiducial limits for the Poisson distribution", "en", "Biometrika 28(3/4)"),
    ("Marshall, R. J. (1991)", "Mapping disease and mortality rates using empirical Bayes estimators", "en",
     "JRSS C 40(2)"),
    ("Ord, J. K. y Getis, A. (1995)", "Local spatial autocorrelation statistics", "en", "Geographical Analysis 27(4)"),
    ("Ulm, K. (1990)", "A simple method to calculate the confidence interval of a standardized mortality ratio", "en",
     "American Journal of Epidemiology 131(2)"),
)


def references_html() -> str:
    """The works cited as an HTML list, each title marked with its language (``<cite lang="en">``) so
    that a screen reader reads it in that language. Built from the constants above only."""
    items = "".join(f"<li>{html.escape(who)}. <cite lang=\"{lang}\">{html.escape(title)}</cite>. {html.escape(where)}.</li>"
                    for who, title, lang, where in REFERENCES)
    return f"<ul>{items}</ul>"
RATE_FORMULA = (
    "$\\text{tasa} = \\dfrac{\\text{víctimas}}{\\sum_{\\text{años}} \\text{población} \\times "
    "\\text{fracción del año cubierta}} \\times 100{,}000$"
)
PRIORITY_FORMULA = (
    "$\\text{índice}_i = 100 \\times \\sum_c w_c\\, s_{ic} / \\sum_c w_c$, donde $s_{ic}$ es el componente $c$ "
    "del municipio $i$ escalado de 0 a 1 como su percentil entre todos los municipios del país (proporción de "
    "los demás con un valor menor; 1 = peor) y $w_c$ su peso. Al escalar contra el país, el orden de los "
    "municipios de un departamento no cambia al elegirlo en los filtros, y un valor extremo no aplasta a los "
    "demás. "
    "Si a un municipio le falta un componente, la suma se hace sobre los que tiene. El aporte de cada componente "
    "es $100\\, w_c s_{ic} / \\sum_c w_c$ y los aportes suman el índice. La banda del puesto es el rango (percentiles "
    f"5 y 95) de puestos que ocupa el municipio cuando cada peso se multiplica al azar por un factor entre "
    f"{1 - priority.WEIGHT_SPREAD:g} y {1 + priority.WEIGHT_SPREAD:g} ({priority.BAND_DRAWS} repeticiones): muestra "
    "cuánto depende el puesto de los pesos exactos."
)
SCHOOL_FORMULA = (
    "Puntaje $= 100 \\times \\sum_c w_c p_c / \\sum_c w_c$ sobre los componentes con dato, donde $p_c$ es el "
    "percentil del centro en el componente $c$ (proporción de los centros mostrados con un valor menor). Un "
    "factor de riesgo está presente cuando el centro está en el cuarto superior de un componente y el valor es "
    "mayor que cero. Las víctimas cerca de un centro se cuentan a menos de 100 m, 500 m y 1 km (distancia sobre "
    "la esfera)."
)
COVERAGE = (
    "Un año que los datos cubren solo en parte se rotula «(parcial)» y su población se cuenta solo por los meses "
    "cubiertos; no se compara con años completos (no se calcula el cambio). Los meses o municipios en los que una "
    "fuente no tiene ningún registro se marcan en las series (Resumen, Municipio) y se listan en «Calidad de "
    "datos»: una cifra baja en esos meses puede deberse a la falta de datos y no a menos delitos."
)

# How each reconciliation rule (core.load.reconciliation) decides which records count, keyed by
# its label as shown on screen.
RECONCILIATION_RULES = {
    "Fuente de referencia": (
        "Cuentan solo los registros de la institución de referencia del delito (la que lo registra de forma más "
        "completa o por mandato: medicina forense para las muertes violentas, la fiscalía para las denuncias). "
        "Las demás instituciones no se suman: si registran a la misma víctima, se contaría dos veces."),
    "Máximo por municipio y mes": (
        "En cada municipio y mes cuentan los registros de la institución que registró más casos de ese delito (si "
        "empatan, la declarada primero). Da una cifra no menor que la de cualquier institución por separado en "
        "cada municipio-mes, sin sumar instituciones que registran las mismas víctimas."),
}

# Definitions of the counting unit, the grain of the sources and the estimated population. They
# complete ``rates.DEFINITIONS`` wherever definitions are shown (``definitions()``).
UNIT_OF_COUNT = (
    "Cada cifra cuenta una sola unidad, víctimas o hechos. Una víctima es una persona afectada por un delito "
    "(una persona víctima de dos delitos cuenta dos veces). Un hecho es un suceso delictivo: un hecho puede "
    "tener varias víctimas o ninguna (por ejemplo, el narcomenudeo). Las fuentes que registran víctimas y las "
    "que registran hechos nunca se suman: si el almacén tiene ambas, la barra lateral permite elegir la unidad "
    "y cada página dice si hay cifras en la otra."
)
SOURCE_GRAIN = (
    "Las fuentes no llegan todas al mismo detalle. Las que dan solo el año no se reparten entre los meses: "
    "cuentan en las cifras anuales, pero no en las series mensuales. Las que dan solo el departamento no se "
    "reparten entre sus municipios: cuentan en las cifras del departamento y del país, pero no en las "
    "municipales. Las que entregan conteos en lugar de registros individuales no aparecen en las vistas por "
    "día de la semana, hora, arma, aldea o coordenadas. Cada vista dice qué deja fuera y cuánto."
)
ESTIMATED_POPULATION = (
    "Si la fuente de población no tiene algún año del periodo, ese año se completa solo con una regla "
    "declarada al cargar los datos: el año más cercano con población o la interpolación lineal entre los dos "
    "años conocidos que lo rodean. Las tasas que usan una población estimada lo dicen junto a la cifra."
)
GRAIN_DEFINITIONS = {
    "Unidad de conteo": UNIT_OF_COUNT,
    "Granularidad de las fuentes": SOURCE_GRAIN,
    "Población estimada": ESTIMATED_POPULATION,
}


def definitions() -> dict[str, str]:
    """Every definition shown to users: the counting unit (víctimas or hechos, never added) first, then
    ``rates.DEFINITIONS``, the grain of the sources and the estimated population."""
    return {"Unidad de conteo": UNIT_OF_COUNT, **rates.DEFINITIONS, **GRAIN_DEFINITIONS}


@warehouse.cached
def crime_catalogue() -> pd.DataFrame:
    """Every crime type with its group, ICCS code and section, whether it is sensitive, and its definition."""
    return warehouse.query("""
        SELECT name, crime_group, iccs_code, iccs_section, sensitive, definition, code
        FROM crime_type ORDER BY iccs_code, name
    """)


@warehouse.cached
def age_groups() -> pd.DataFrame:
    return warehouse.query("SELECT code, label, min_age, max_age FROM age_group ORDER BY sort_order")


@warehouse.cached
def denominators() -> dict[str, str]:
    """Where the populations come from and how finely they are split."""
    meta = warehouse.meta()
    years = warehouse.query("""
        SELECT min(p.year) AS lo, max(p.year) AS hi, count(DISTINCT p.code) AS munis
        FROM population p JOIN territory t ON t.code = p.code AND t.level = 'municipio'
    """).iloc[0]
    aldeas = int(warehouse.scalar("""
        SELECT count(DISTINCT p.code) FROM population p JOIN territory t ON t.code = p.code AND t.level = 'aldea'
    """))
    by_sex, by_age = rates.population_split()
    split = ("por sexo y grupo de edad" if by_sex and by_age else "por sexo" if by_sex
             else "por grupo de edad" if by_age else "total (sin desagregación por sexo ni edad)")
    return {
        "Fuente": meta.get("population_source", "—"),
        "Años": "—" if pd.isna(years["lo"]) else f"{int(years['lo'])}–{int(years['hi'])}",
        "Municipios con población": fmt.integer(int(years["munis"])),
        "Desagregación": split,
        "Aldeas con población": fmt.integer(aldeas) if aldeas else "ninguna (por aldea solo hay conteos)",
    }


def adjustment_table() -> pd.DataFrame:
    """The cell-key adjustment as probabilities: one row per exact count (1, 2, 3, 4 or more),
    one column per adjustment, in %."""
    rows = []
    for n, label in ((1, "1"), (2, "2"), (3, "3"), (4, "4 o más")):
        dist = cellkey.noise_distribution(n)
        rows.append({"Cifra exacta": label} | {f"{v:+d}" if v else "0": round(100 * dist.get(v, 0.0), 1)
                                              for v in range(-cellkey.MAX_ADJUSTMENT, cellkey.MAX_ADJUSTMENT + 1)})
    return pd.DataFrame(rows)


def information_loss() -> pd.DataFrame:
    """disclosure.information_loss with Spanish column names."""
    return disclosure.information_loss().rename(columns={
        "level": "Tabla", "cells": "Celdas", "altered_pct": "% ajustadas", "hidden_pct": "% reservadas",
        "mean_abs": "Ajuste promedio", "mean_rel_pct": "Ajuste promedio %"})
