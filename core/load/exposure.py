"""Victims near each school, precomputed at load time so that the schools page is instant at
any scale: for every school, year and crime group, the counted geocoded victims within 100 m,
500 m and 1 km (cumulative) and how many of them were 10 to 19 years old.

Distances are great-circle distances on a sphere of the mean Earth radius: points are placed on
the unit sphere, a k-d tree finds the pairs within the chord of the largest radius, and each
chord is converted back to an arc length.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from core.cellkey import RECORD_KEY_SQL
from core.load.publish import insert_frame

RADII_M = (100, 500, 1000)
EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
YOUTH_AGES = (10, 19)


def unit_vectors(lon, lat) -> np.ndarray:
    lon_r, lat_r = np.radians(np.asarray(lon, dtype="float64")), np.radians(np.asarray(lat, dtype="float64"))
    return np.column_stack([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)])


def chord_for(distance_m: float) -> float:
    return 2 * np.sin(distance_m / (2 * EARTH_RADIUS_M))


def arc_from_chord(chord) -> np.ndarray:
    return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2, 0, 1))


def build_school_exposure(con) -> int:
    """Fill ``school_exposure`` from ``school`` and ``incident``; returns the number of rows."""
    schools = con.execute("SELECT school_code, lon, lat FROM school WHERE lon IS NOT NULL AND lat IS NOT NULL "
                          "ORDER BY school_code").df()
    if schools.empty:
        return 0
    school_tree = cKDTree(unit_vectors(schools["lon"], schools["lat"]))
    years = [r[0] for r in con.execute("SELECT DISTINCT year(occurred_on) FROM incident WHERE counted "
                                       "AND lon IS NOT NULL AND lat IS NOT NULL ORDER BY 1").fetchall()]
    groups = con.execute("SELECT DISTINCT crime_group FROM crime_type ORDER BY 1").df()["crime_group"].tolist()
    total = 0
    for year in years:  # one year at a time keeps memory flat at 10M+ records
        inc = con.execute(f"""
            WITH i AS (SELECT lon, lat, crime_type, victim_age, victims, {RECORD_KEY_SQL} AS rk FROM incident
                       WHERE counted AND victims > 0 AND lon IS NOT NULL AND lat IS NOT NULL
                         AND occurred_on >= make_date(?, 1, 1) AND occurred_on < make_date(? + 1, 1, 1))
            SELECT i.lon, i.lat, t.crime_group, i.victim_age, i.victims, i.rk FROM i
            JOIN crime_type t ON t.code = i.crime_type
        """, [year, year]).df()
        if inc.empty:
            continue
        pairs = school_tree.sparse_distance_matrix(cKDTree(unit_vectors(inc["lon"], inc["lat"])),
                                                   chord_for(max(RADII_M)), output_type="ndarray")
        if len(pairs) == 0:
            continue
        distance = arc_from_chord(pairs["v"])
        group_idx = pd.Categorical(inc["crime_group"], categories=groups).codes[pairs["j"]]
        age = inc["victim_age"].to_numpy(dtype="float64")[pairs["j"]]
        # An event record counts its victims (a victim record counts 1).
        weight = inc["victims"].to_numpy(dtype="int64")[pairs["j"]]
        is_youth = (age >= YOUTH_AGES[0]) & (age <= YOUTH_AGES[1])
        youth = is_youth * weight
        key = inc["rk"].to_numpy(dtype="int64")[pairs["j"]]
        frames = []
        for radius in RADII_M:
            inside = distance <= radius
            df = pd.DataFrame({"school": pairs["i"][inside], "group": group_idx[inside], "weight": weight[inside],
                               "youth": youth[inside], "key": key[inside], "youth_key": (key * is_youth)[inside]})
            agg = df.groupby(["school", "group"], sort=True).agg(victims=("weight", "sum"), victims_10_19=("youth", "sum"),
                                                                 ck=("key", "sum"), ck_10_19=("youth_key", "sum"))
            agg = agg.reset_index()
            agg["radius_m"] = radius
            frames.append(agg)
        out = pd.concat(frames, ignore_index=True)
        out["school_code"] = schools["school_code"].to_numpy()[out["school"]]
        out["crime_group"] = np.asarray(groups, dtype=object)[out["group"]]
        out["year"] = year
        insert_frame(con, "school_exposure", out[["school_code", "year", "crime_group", "radius_m", "victims",
                                                  "victims_10_19", "ck", "ck_10_19"]])
        total += len(out)
    return total
