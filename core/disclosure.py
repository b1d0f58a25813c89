"""Statistical disclosure control: what a public dashboard may show about victims.

Deployment mode (``mode()``): ``publico`` (the default) or ``interno``, from the environment
variable ``ATALAYA_MODO`` or, if it is not set, the key ``modo`` of ``.streamlit/secrets.toml``.

Rules in public mode (shown to users in ``RULES``):
- Every count of victims or hechos is published with its cell-key adjustment (core/cellkey.py),
  applied where the core reads it (``published``): the same records always get the same
  adjustment, and a difference of two published counts never gives a hidden one back.
- A count (adjusted) from 1 to 4 is shown as "<5" when the crime types it covers include a sensitive
  type (``crime_type.sensitive``: sexual violence, violence against women and in the family,
  femicide), when it counts only minors (age groups entirely under 18: the age filter or the
  row's own age group), or when it is a count below the municipality (aldea, ~550 m cell, surroundings of a
  school), whatever the crime type. Zero is shown: it identifies nobody.
- Complementary suppression: in every published line of cells that adds up to a published
  total (a table's rows, each row and each column of a cross table), a single suppressed
  cell is never left alone; the smallest other cell of that line is suppressed too, repeated
  until no line has exactly one suppressed cell. A total therefore never reveals a cell.
- Rates, percentages and smoothed rates computed from a suppressed count are not shown (the
  population is published, so a rate would give the count back).
- No record-level data: lists of individual records are not shown; geolocated victims are
  only shown summed in cells.
Internal mode shows every figure.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from core import cellkey, fmt, warehouse
from core.deployment import ENV_VAR, INTERNAL, PUBLIC, SECRETS_KEY, ModeError, is_public, mode  # noqa: F401
from core.filters import Filters, filter_options

MIN_COUNT = 5  # counts from 1 to MIN_COUNT - 1 are reserved where the rules say so
SUPPRESSED = f"<{MIN_COUNT}"  # what a reserved count reads
SMALL_COUNTS = f"1 a {MIN_COUNT - 1}"  # how the text names the counts reserved

RULES = (
    "Modo público: cada cifra de víctimas o hechos lleva un ajuste pequeño y consistente (método de la clave de "
    "celda, el de las tablas a medida de las oficinas de estadística de Australia y del Reino Unido): entre −3 y +3, "
    "el 0 sigue siendo 0, una cifra distinta de 0 no pasa a 0, y las mismas víctimas reciben siempre el mismo ajuste, "
    "se pida la cifra como se pida. Así la resta de dos cifras publicadas (p. ej. violencia letal menos homicidio, o "
    "2013-2022 menos 2013-2021) no devuelve una cifra reservada; por eso un total puede no coincidir exactamente con "
    "la suma de sus partes.",
    f"Las cifras (ya ajustadas) de {SMALL_COUNTS} víctimas se muestran como «{SUPPRESSED}» cuando pueden incluir delitos sensibles "
    "(violencia sexual, violencia contra la mujer e intrafamiliar, femicidio), cuando cuentan solo a menores de "
    "18 años (filtro de edad o fila de un grupo de edad de menores) y en todo conteo por debajo del municipio "
    "(aldea, celda de ~550 m, entorno de un centro educativo).",
    "Supresión complementaria: en cada fila o columna cuya suma se publica, si queda una sola cifra reservada se "
    "reserva también la menor de las demás, para que el total no permita deducirla.",
    "Las tasas, porcentajes y tasas suavizadas se calculan con las cifras ajustadas; las de una cifra reservada no "
    "se muestran; el cero sí se muestra.",
    "No se publican registros individuales: las víctimas con coordenadas solo se muestran sumadas en celdas.",
)


# --------------------------------------------------------------------------------------
# Published counts: the cell-key adjustment (core/cellkey.py)
# --------------------------------------------------------------------------------------

def published(df: pd.DataFrame, keys: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Counts as the mode in force publishes them: in public mode each count column gets its
    cell-key adjustment; the key columns are dropped in both modes. ``keys``: {count column: the
    column with the sum of its record keys}, by default {"n": "ck"}. Every core query that counts
    victims or hechos selects ``sum(ck)`` next to ``sum(n)`` and passes its result here."""
    keys = dict(keys or {"n": "ck"})
    out = df.drop(columns=list(keys.values()))
    if is_public() and not df.empty:
        for count, key in keys.items():
            n = pd.to_numeric(df[count], errors="coerce").fillna(0).astype("int64")
            ck = pd.to_numeric(df[key], errors="coerce").fillna(0).astype("int64")
            out[count] = cellkey.perturb(n.to_numpy(), ck.to_numpy())
    return out


def published_count(n, ck) -> int:
    """One count as the mode in force publishes it (see ``published``)."""
    n, ck = int(n or 0), int(ck or 0)
    return int(cellkey.perturb(n, ck)) if is_public() else n


# --------------------------------------------------------------------------------------
# Which counts are sensitive
# --------------------------------------------------------------------------------------

@warehouse.cached
def sensitive_types() -> frozenset[str]:
    df = warehouse.query("SELECT code FROM crime_type WHERE sensitive")
    return frozenset(df["code"])


@warehouse.cached
def minor_age_groups() -> frozenset[str]:
    """Age groups entirely below 18 years: counts of child and adolescent victims are sensitive."""
    df = warehouse.query("SELECT code FROM age_group WHERE max_age IS NOT NULL AND max_age < 18")
    return frozenset(df["code"])


def minors_only(f: Filters, age_groups: Iterable[str] | None = None) -> bool:
    """Whether a count under the filters (restricted to these age groups) counts only minors."""
    ages = {a for a in (f.age_groups or ()) if a != "ND"}
    if age_groups is not None:
        wanted = {a for a in age_groups if a != "ND"}
        ages = (ages & wanted) if ages else wanted
    return bool(ages) and ages <= minor_age_groups()


def scope_types(f: Filters) -> set[str]:
    """The crime types a count under these filters can include."""
    opts = filter_options()
    types = set(f.crime_types) if f.crime_types else set(opts.crime_type_names)
    if f.crime_groups:
        types = {t for t in types if opts.crime_group_of[t] in f.crime_groups}
    return types


def covers_sensitive(f: Filters, crime_types: Iterable[str] | None = None,
                     crime_groups: Iterable[str] | None = None, age_groups: Iterable[str] | None = None) -> bool:
    """Whether a count under the filters (restricted to these types, groups or age groups) may
    include a sensitive crime type, or counts only minors."""
    if minors_only(f, age_groups):
        return True
    types = scope_types(f)
    if crime_types is not None:
        types &= set(crime_types)
    if crime_groups is not None:
        groups = set(crime_groups)
        opts = filter_options()
        types = {t for t in types if opts.crime_group_of[t] in groups}
    return bool(types & sensitive_types())


def rows_sensitive(f: Filters, df: pd.DataFrame, type_column: str | None = None,
                   group_column: str | None = None, age_column: str | None = None) -> pd.Series:
    """Per row: whether its count may include a sensitive crime type (the row's own type or
    group, within the filters) or counts only minors (the row's own age group)."""
    if type_column is not None:
        cache = {t: covers_sensitive(f, crime_types=[t]) for t in df[type_column].dropna().unique()}
        flags = df[type_column].map(cache).fillna(covers_sensitive(f)).astype(bool)
    elif group_column is not None:
        cache = {g: covers_sensitive(f, crime_groups=[g]) for g in df[group_column].dropna().unique()}
        flags = df[group_column].map(cache).fillna(covers_sensitive(f)).astype(bool)
    else:
        flags = pd.Series(covers_sensitive(f), index=df.index)
    if age_column is not None:
        minors = {a: minors_only(f, [a]) for a in df[age_column].dropna().unique()}
        flags = flags | df[age_column].map(minors).fillna(False).astype(bool)
    return flags


# --------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------

def is_small(values) -> np.ndarray:
    """1 to 4 (also an average between 0 and 5: a reference built from a handful of victims)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    return (v > 0) & (v < MIN_COUNT)


def suppression_mask(df: pd.DataFrame, count: str, sensitive, dims: Sequence[str] = (),
                     below_municipality: bool = False, lines: Sequence[Sequence[str]] = (),
                     complementary: bool = True) -> pd.Series:
    """Cells of ``count`` to hide: primary (small and sensitive) plus complementary along every
    line of ``dims`` (cells sharing all the other dimensions). With no dims, or one, every row
    belongs to one line (the table adds up to a published total). ``lines`` adds other sets of
    cells whose sum is published, each given by the columns its cells share (e.g. the
    municipalities of one department: ``[["dept_code"]]``). ``complementary=False`` for rows that
    add up to nothing published (e.g. victims around each school)."""
    if not is_public() or df.empty:
        return pd.Series(False, index=df.index)
    return public_suppression_mask(df, count, sensitive, dims, below_municipality, lines, complementary)


def public_suppression_mask(df: pd.DataFrame, count: str, sensitive, dims: Sequence[str] = (),
                            below_municipality: bool = False, lines: Sequence[Sequence[str]] = (),
                            complementary: bool = True) -> pd.Series:
    """``suppression_mask`` as public mode applies it, whatever the mode in force (to measure
    what the rules hide)."""
    if df.empty:
        return pd.Series(False, index=df.index)
    values = pd.to_numeric(df[count], errors="coerce").fillna(0).to_numpy(dtype=float)
    flag = np.ones(len(df), dtype=bool) if below_municipality else (
        np.asarray(sensitive, dtype=bool) if not np.isscalar(sensitive) else np.full(len(df), bool(sensitive)))
    mask = is_small(values) & flag
    if not mask.any() or not complementary:
        return pd.Series(mask, index=df.index)
    # Candidates for complementary suppression: the smallest cell, non-zero first; ties go to
    # the first row.
    key = values + np.where(values > 0, 0.0, 1e15)
    dims = list(dims)
    groupings = ([[d for d in dims if d != dim] for dim in dims] if dims else [[]]) + [list(cols) for cols in lines]
    codes = {c: pd.factorize(df[c], use_na_sentinel=False)[0] for cols in groupings for c in cols}
    line_ids = [_line_ids([codes[c] for c in cols], len(df)) for cols in groupings]
    for _ in range(100):
        changed = False
        for line in line_ids:
            hidden = np.bincount(line, weights=mask, minlength=line.max() + 1)
            lonely = (hidden == 1)[line]
            candidates = np.flatnonzero(lonely & ~mask)
            if not len(candidates):
                continue
            # per line, the candidate with the smallest key (then the lowest row)
            order = candidates[np.lexsort((candidates, key[candidates], line[candidates]))]
            first = np.ones(len(order), dtype=bool)
            first[1:] = line[order][1:] != line[order][:-1]
            mask[order[first]] = True
            changed = True
        if not changed:
            break
    return pd.Series(mask, index=df.index)


def _line_ids(codes: list[np.ndarray], n: int) -> np.ndarray:
    """One integer per distinct combination of the factorised columns (0 .. lines - 1)."""
    ids, size = np.zeros(n, dtype=np.int64), 1
    for c in codes:
        cardinality = int(c.max()) + 1 if len(c) else 1
        if size * cardinality >= 2**62:  # renumber before the combined code could overflow
            ids = pd.factorize(ids)[0].astype(np.int64)
            size = int(ids.max()) + 1
        ids, size = ids * cardinality + c, size * cardinality
    return pd.factorize(ids)[0]


def protect(df: pd.DataFrame, counts: str | Sequence[str], sensitive=True, dims: Sequence[str] = (),
            derived: Sequence[str] = (), below_municipality: bool = False,
            lines: Sequence[Sequence[str]] = (), complementary: bool = True) -> pd.DataFrame:
    """A copy of a table safe to publish: suppressed counts read "<5", and the rates or
    shares of the same row (``derived``) are blank. Internal mode returns an unchanged copy.

    ``sensitive`` is a bool or a per-row boolean (see ``rows_sensitive``). The number of
    suppressed cells is in ``out.attrs['suppressed']``.
    """
    out = df.copy()
    out.attrs["suppressed"] = 0
    if not is_public() or df.empty:
        return out
    counts = [counts] if isinstance(counts, str) else list(counts)
    any_hidden = pd.Series(False, index=df.index)
    for column in counts:
        mask = suppression_mask(df, column, sensitive, dims, below_municipality, lines, complementary)
        if mask.any():
            out[column] = out[column].astype(object).where(~mask, SUPPRESSED)
            any_hidden |= mask
            out.attrs["suppressed"] += int(mask.sum())
    for column in derived:
        if column in out and any_hidden.any():
            out[column] = out[column].astype(float).where(~any_hidden, np.nan)
    return out


def numeric(values: pd.Series) -> pd.Series:
    """A protected column as numbers for charts: "<5" becomes missing (not drawn)."""
    return pd.to_numeric(values, errors="coerce")


def count_text(value, sensitive: bool, below_municipality: bool = False) -> str:
    """A single count for a metric or a sentence."""
    if is_public() and (sensitive or below_municipality) and is_small([value])[0]:
        return SUPPRESSED
    return fmt.integer(value)


def hides(value, sensitive: bool, below_municipality: bool = False) -> bool:
    """Whether a single count is suppressed (its rate and change are then not shown either)."""
    return bool(hides_each([value], sensitive, below_municipality)[0])


def hides_each(values, sensitive: bool, below_municipality: bool = False) -> np.ndarray:
    """``hides`` for every count of an array (any shape), at once."""
    v = np.asarray(values, dtype=float)
    if not (is_public() and (sensitive or below_municipality)):
        return np.zeros(v.shape, dtype=bool)
    return is_small(v.ravel()).reshape(v.shape)


def notes() -> list[str]:
    """What a download says about the rules applied."""
    if not is_public():
        return [f"Modo interno: se muestran todas las cifras, incluidas las menores que {MIN_COUNT}. No publicar."]
    return list(RULES)


# Figures computed from a count (core.rates): blank wherever the count is reserved.
RATE_COLUMNS = ("rate", "rate_lo", "rate_hi", "rate_eb", "rate_seb")


def protect_territories(f: Filters, df: pd.DataFrame, count: str = "n",
                        derived: Sequence[str] = RATE_COLUMNS) -> pd.DataFrame:
    """Municipalities (or departments) with their victims under the filters: the rows add up to
    the national total and, for municipalities, to each department's total."""
    lines = [["dept_code"]] if "dept_code" in df else []
    return protect(df, count, covers_sensitive(f), dims=["code"], derived=derived, lines=lines)


def is_suppressed(values) -> pd.Series:
    """Which cells of a protected column read "<5"."""
    return pd.Series(values).astype(object).eq(SUPPRESSED)


def label(value, formatter=fmt.integer) -> str:
    """A cell of a protected column as text: "<5" stays, numbers are formatted."""
    return value if isinstance(value, str) else formatter(value)


def protect_crosstab(df: pd.DataFrame, columns: Sequence[str], sensitive=True, total: str | None = None,
                     derived: Sequence[str] = (), below_municipality: bool = False) -> pd.DataFrame:
    """A wide table (one row per category, one count column per category of a second variable,
    optionally a row total): every row and every column adds up to a published total.
    ``sensitive`` may be a bool or one bool per column (e.g. per crime group)."""
    out = df.copy()
    out.attrs["suppressed"] = 0
    if not is_public() or df.empty:
        return out
    columns = list(columns)
    flags = sensitive if isinstance(sensitive, dict) else {c: bool(sensitive) for c in columns}
    hidden = np.zeros((len(df), len(columns)), dtype=bool)
    if columns:  # no category column (no case in any group): only the row totals to protect
        long = df[columns].reset_index(drop=True).rename_axis("_row").reset_index().melt(
            id_vars="_row", var_name="_col", value_name="_n")
        mask = suppression_mask(long, "_n", long["_col"].map(flags).to_numpy(dtype=bool), dims=["_row", "_col"],
                                below_municipality=below_municipality)
        hidden[long["_row"].to_numpy(dtype=int),
               long["_col"].map({c: i for i, c in enumerate(columns)}).to_numpy(dtype=int)] = mask.to_numpy()
    for j, column in enumerate(columns):
        if hidden[:, j].any():
            out[column] = out[column].astype(object).where(~hidden[:, j], SUPPRESSED)
    out.attrs["suppressed"] = int(hidden.sum())
    if total is not None:
        totals = protect(df, total, any(flags.values()) if flags else bool(sensitive),
                         derived=derived, below_municipality=below_municipality)
        out[total] = totals[total]
        for column in derived:
            out[column] = totals[column]
        out.attrs["suppressed"] += totals.attrs["suppressed"]
    return out


def blank_if_small(values: pd.Series, basis, sensitive) -> pd.Series:
    """Figures derived from other counts (``basis``: e.g. the smallest past count behind an
    average), blanked where a basis count is from 1 to 4. ``sensitive``: a bool or one per row."""
    if not is_public():
        return values
    return values.where(~(is_small(basis) & np.broadcast_to(np.asarray(sensitive, dtype=bool), len(values))))


def suppressed_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if df[c].dtype == object and is_suppressed(df[c]).any()]


def as_text(df: pd.DataFrame) -> pd.DataFrame:
    """The protected table with every column holding "<5" turned into text (numbers formatted):
    what charts and on-screen tables take (they need one type per column)."""
    mixed = suppressed_columns(df)
    if not mixed:
        return df
    return df.assign(**{c: [label(v) if pd.notna(v) else None for v in df[c]] for c in mixed})


@warehouse.cached
def information_loss() -> pd.DataFrame:
    """What public mode changes, measured on this warehouse over the cells of two tables: the
    national one (year x crime type) and the municipal one (municipality x year x crime group),
    victims, counted records. Columns: level, cells (non-zero), altered_pct (published figure not
    the exact count), hidden_pct («<5»), mean_abs (mean absolute adjustment, victims),
    mean_rel_pct (mean absolute adjustment over the count, %). Computed from the exact counts in
    both modes (it describes the method, not a view)."""
    tables = (
        ("Nacional: año × tipo de delito", "year, crime_type", ["year", "crime_type"], "crime_type"),
        ("Municipal: municipio × año × grupo de delito", "muni_code, year, crime_group",
         ["muni_code", "year", "crime_group"], "crime_group"),
    )
    opts = filter_options()
    sensitive_groups = {opts.crime_group_of[t] for t in sensitive_types()}
    rows = []
    for label, keys, dims, crime in tables:
        df = warehouse.query(f"SELECT {keys}, sum(n)::BIGINT AS n, sum(ck)::BIGINT AS ck FROM incident_year_cube "
                             f"WHERE counted AND unit = 'victimas' AND muni_code IS NOT NULL GROUP BY ALL")
        df = df[df["n"] > 0].reset_index(drop=True)
        if df.empty:
            continue
        df["published"] = cellkey.perturb(df["n"].to_numpy(), df["ck"].to_numpy())
        flags = df[crime].isin(sensitive_types() if crime == "crime_type" else sensitive_groups).to_numpy()
        hidden = public_suppression_mask(df, "published", flags, dims=dims)
        change = (df["published"] - df["n"]).abs()
        rows.append({"level": label, "cells": len(df), "altered_pct": 100 * float((change > 0).mean()),
                     "hidden_pct": 100 * float(hidden.mean()), "mean_abs": float(change.mean()),
                     "mean_rel_pct": 100 * float((change / df["n"]).mean())})
    return pd.DataFrame(rows, columns=["level", "cells", "altered_pct", "hidden_pct", "mean_abs", "mean_rel_pct"])
