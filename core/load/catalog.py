"""The catalogues shipped in data/: crime types (-> UNODC ICCS) and age groups."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
UNKNOWN_AGE_GROUP = "ND"


def crime_types() -> pd.DataFrame:
    df = pd.read_csv(DATA_DIR / "crime_types.csv", dtype=str, keep_default_na=False)
    for flag in ("sensitive", "vaw"):
        df[flag] = df[flag].str.lower().map({"true": True, "false": False})
    if df[["sensitive", "vaw"]].isna().any().any() or df["code"].duplicated().any():
        raise ValueError(f"{DATA_DIR / 'crime_types.csv'}: 'sensitive' and 'vaw' must be true/false and codes unique")
    return df


def age_groups() -> pd.DataFrame:
    df = pd.read_csv(DATA_DIR / "age_groups.csv", dtype={"code": str, "label": str})
    for col in ("min_age", "max_age", "sort_order"):
        df[col] = df[col].astype("Int16")
    return df


def age_group_of(ages: np.ndarray, groups: pd.DataFrame | None = None) -> np.ndarray:
    """Age-group code for each age (NaN or negative -> 'ND')."""
    groups = age_groups() if groups is None else groups
    known = groups[groups["min_age"].notna()].sort_values("min_age")
    bounds = known["min_age"].to_numpy(dtype=float)
    codes = known["code"].to_numpy(dtype=object)
    ages = np.asarray(ages, dtype=float)
    idx = np.searchsorted(bounds, ages, side="right") - 1
    out = np.where(idx >= 0, codes[np.clip(idx, 0, len(codes) - 1)], UNKNOWN_AGE_GROUP)
    out[np.isnan(ages)] = UNKNOWN_AGE_GROUP
    return out.astype(object)
