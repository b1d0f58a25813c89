"""A tiny hand-made warehouse whose every figure can be computed by hand in the tests."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from core.load import catalog, pipeline
from core.load.publish import building, insert_frame
from core.load.reconciliation import Rule

SQUARE = '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}'


def build(path: Path, *, split_population: bool = True, period_end: str = "2021-12-31",
          synthetic: bool = False, incidents: list | pd.DataFrame | None = None, period_start: str = "2020-01-01",
          schools: list | None = None, extra_meta: dict | None = None,
          rules: tuple[Rule, ...] = (Rule(("homicidio", "femicidio"), "referencia", "inacif"),)) -> Path:
    """Two departments, three municipalities (Alfa with two aldeas), years 2020-2021.

    Population per municipality and year of the period: 0101 -> 100,000; 0102 -> 50,000;
    0201 -> 10,000, split 50/50 by sex and equally over the six age groups when
    ``split_population``. Incidents: listed in INCIDENTS below (or the given ``incidents``, same
    columns; a DataFrame may also give aldea_code, lon, lat, occurred_hour and weapon). Lethal violence
    counts the forensic records (``rules``); the build goes through the loader's pipeline (cubes,
    quality, data tests).
    """
    meta = {"country": "XX", "country_name": "Fixturia", "synthetic": "true" if synthetic else "false",
            "period_start": period_start, "period_end": period_end,
            **pipeline.reconciliation_meta(rules, {"pnc": "Policía", "inacif": "Forense"})} | (extra_meta or {})
    with building(path, meta) as con:
        territory = pd.DataFrame([
            ("01", "departamento", "Norte", None, "01"),
            ("02", "departamento", "Sur", None, "02"),
            ("0101", "municipio", "Alfa", "01", "01"),
            ("0102", "municipio", "Beta", "01", "01"),
            ("0201", "municipio", "Gamma", "02", "02"),
            ("010101", "aldea", "Aldea Uno", "0101", "01"),
            ("010102", "aldea", "Aldea Dos", "0101", "01"),
        ], columns=["code", "level", "name", "parent_code", "dept_code"])
        territory["centroid_lon"], territory["centroid_lat"], territory["area_km2"] = 0.5, 0.5, 100.0
        territory["geojson"] = SQUARE
        insert_frame(con, "territory", territory)
        insert_frame(con, "crime_type", catalog.crime_types())
        insert_frame(con, "age_group", catalog.age_groups())
        rows = []
        ages = [a for a in catalog.age_groups()["code"] if a != "ND"]
        years = range(int(period_start[:4]), int(period_end[:4]) + 1)
        for code, total in (("0101", 100_000), ("0102", 50_000), ("0201", 10_000)):
            for year in years:
                if split_population:
                    rows += [(code, year, sex, age, total / 2 / len(ages)) for sex in ("H", "M") for age in ages]
                else:
                    rows.append((code, year, "T", "total", float(total)))
        rows += [(code, year, "T", "total", total) for code, total in (("010101", 60_000.0), ("010102", 40_000.0))
                 for year in years]
        insert_frame(con, "population", pd.DataFrame(rows, columns=["code", "year", "sex", "age_group", "population"]))
        aldea_of, points = (ALDEA_OF, POINTS) if incidents is None else ({}, {})
        if isinstance(incidents, pd.DataFrame):  # may also carry aldea_code, lon, lat, occurred_hour, weapon
            incidents = incidents.reset_index(drop=True).copy()
        else:
            incidents = pd.DataFrame(INCIDENTS if incidents is None else incidents, columns=INCIDENT_COLUMNS)
        incidents["occurred_on"] = pd.to_datetime(incidents["occurred_on"]).dt.date
        if aldea_of:  # the default records: those of the period (the index still maps to ALDEA_OF and POINTS)
            incidents = incidents[incidents["occurred_on"].between(dt.date.fromisoformat(period_start),
                                                                   dt.date.fromisoformat(period_end))].copy()
        incidents["incident_id"] = range(1, len(incidents) + 1)
        incidents["source_record_id"] = incidents["incident_id"].astype(str)
        incidents["dept_code"] = incidents["muni_code"].str[:2]
        defaults = {"occurred_hour": lambda: 12, "weapon": lambda: "Sin dato",
                    "aldea_code": lambda: incidents.index.map(aldea_of),
                    "lon": lambda: incidents.index.map(lambda i: points.get(i, (None, None))[0]),
                    "lat": lambda: incidents.index.map(lambda i: points.get(i, (None, None))[1])}
        for column, default in defaults.items():
            if column not in incidents:
                incidents[column] = default()
        incidents["age_group"] = catalog.age_group_of(incidents["victim_age"].to_numpy(dtype=float))
        insert_frame(con, "incident", incidents)
        loaded = incidents["source"].value_counts()
        insert_frame(con, "source", pd.DataFrame([
            (s, name, f"{s}.csv", None, int(loaded.get(s, 0)), int(loaded.get(s, 0)), 0)
            for s, name in (("pnc", "Policía"), ("inacif", "Forense"))
        ], columns=["source", "institution", "file", "sha256", "rows_read", "rows_loaded", "rows_rejected"]))
        insert_frame(con, "indicator", pd.DataFrame(INDICATORS, columns=["code", "indicator", "year", "value"]))
        insert_frame(con, "indicator_meta", pd.DataFrame([
            ("pobreza", "Pobreza", "%", True, "Encuesta"), ("alfabetismo", "Alfabetismo", "%", False, "Censo"),
        ], columns=["indicator", "name", "unit", "higher_is_worse", "source"]))
        insert_frame(con, "school", pd.DataFrame(SCHOOLS if schools is None else schools, columns=[
            "school_code", "name", "muni_code", "aldea_code", "lon", "lat", "level", "sector", "enrollment"]))
        pipeline.derive(con, pipeline.Staged((dt.date.fromisoformat(period_start), dt.date.fromisoformat(period_end)),
                                             rules, ("inacif", "pnc")))
    return path


# code, indicator, year, value. The 2015 value is superseded by 2018; Gamma has no alfabetismo.
INDICATORS = [
    ("0101", "pobreza", 2015, 99.0),
    ("0101", "pobreza", 2018, 20.0), ("0102", "pobreza", 2018, 60.0), ("0201", "pobreza", 2018, 40.0),
    ("0101", "alfabetismo", 2018, 95.0), ("0102", "alfabetismo", 2018, 85.0),
]

INCIDENT_COLUMNS = ["source", "occurred_on", "muni_code", "crime_type", "victim_sex", "victim_age", "counted"]

# source, date, municipality, crime type, victim sex, victim age, counted
INCIDENTS = [
    ("inacif", "2020-03-01", "0101", "homicidio", "H", 25, True),
    ("pnc", "2020-03-01", "0101", "homicidio", "H", 25, False),      # duplicate of the forensic record
    ("inacif", "2021-05-10", "0101", "homicidio", "M", 40, True),
    ("inacif", "2021-06-10", "0201", "homicidio", "H", 19, True),
    ("pnc", "2020-01-15", "0101", "robo", "M", 33, True),
    ("pnc", "2020-02-15", "0102", "robo", "H", 51, True),
    ("pnc", "2021-02-15", "0102", "robo", "ND", None, True),
    ("pnc", "2021-07-01", "0201", "hurto", "M", 70, True),
    ("pnc", "2021-08-01", "0201", "violencia_mujer", "M", 15, True),
    ("pnc", "2021-09-01", "0101", "violencia_mujer", "M", 22, True),
    ("pnc", "2021-09-02", "0101", "violencia_mujer", "M", 23, True),
    ("pnc", "2021-12-31", "0102", "extorsion", "H", 45, True),
]

# Aldea and coordinates of some of Alfa's records (by position in INCIDENTS); the rest have none.
ALDEA_OF = {0: "010101", 1: "010101", 2: "010101", 4: "010102", 9: "010102"}
POINTS = {0: (0.5001, 0.5001), 1: (0.5001, 0.5001), 2: (0.5002, 0.5003), 4: (0.9, 0.9)}

# Next to Alfa's two forensic homicide records (0 m and ~40 m), next to the 2020 robbery, and far away.
SCHOOLS = [
    ("E1", "Escuela Uno", "0101", "010101", 0.5001, 0.5001, "Primaria", "Oficial", 300),
    ("E2", "Instituto Dos", "0101", "010102", 0.9, 0.9, "Básico", "Privado", 120),
    ("E3", "Escuela Tres", "0201", None, 0.2, 0.2, "Primaria", "Oficial", None),
]


# --------------------------------------------------------------------------------------
# A larger seeded random warehouse (hand-recomputation and public-mode sweep tests)
# --------------------------------------------------------------------------------------

RANDOM_PERIOD = ("2019-01-01", "2021-08-31")   # 2021 is a partial year (8 months)
_CENTRES = {"010101": (0.5, 0.5), "010102": (0.9, 0.9), None: (0.2, 0.2)}


def build_random(path: Path, seed: int = 11, n: int = 2000) -> Path:
    """The three municipalities with ~n random victims of every crime type, 2019 to August 2021.
    Lethal violence is recorded by the forensic institute (the reference, never in Gamma) and
    60 % of it again by the police (not counted); the police sent nothing in June 2020. Alfa's
    victims mostly have an aldea and coordinates near its schools."""
    incidents, school_rows = random_incidents(seed, n)
    return build(path, incidents=incidents, period_start=RANDOM_PERIOD[0], period_end=RANDOM_PERIOD[1],
                 schools=school_rows)


def random_incidents(seed: int = 11, n: int = 2000) -> tuple[pd.DataFrame, list]:
    """About n victims (plus non-counted police duplicates of forensic records) and 12 schools."""
    rng = np.random.default_rng(seed)
    types = catalog.crime_types()["code"].tolist()
    weight = np.array([{"robo": 8, "hurto": 8, "lesiones": 6, "homicidio": 5, "violencia_mujer": 4,
                        "violencia_intrafamiliar": 3, "amenazas": 3, "extorsion": 2, "narcomenudeo": 2}.get(t, 1)
                       for t in types], dtype=float)
    days = pd.date_range(*RANDOM_PERIOD, freq="D")
    muni = rng.choice(["0101", "0102", "0201"], n, p=[0.6, 0.3, 0.1])
    crime = rng.choice(types, n, p=weight / weight.sum())
    age = rng.integers(0, 90, n).astype(float)
    age[rng.random(n) < 0.06] = np.nan
    hour = rng.integers(0, 24, n).astype(float)
    hour[rng.random(n) < 0.08] = np.nan
    aldea = np.where(muni == "0101", rng.choice(["010101", "010102", "none"], n, p=[0.5, 0.35, 0.15]), "none")
    geocoded = rng.random(n) < np.where(muni == "0101", 0.8, 0.3)
    centre = np.array([_CENTRES[a if a != "none" else None] for a in aldea])
    lethal = np.isin(crime, ("homicidio", "femicidio"))
    df = pd.DataFrame({
        # the forensic institute records lethal violence (and is the reference), except in Gamma
        "source": np.where(lethal & (muni != "0201"), "inacif", "pnc"),
        "occurred_on": days[rng.integers(0, len(days), n)], "muni_code": muni, "crime_type": crime,
        "victim_sex": rng.choice(["H", "M", "ND"], n, p=[0.5, 0.45, 0.05]), "victim_age": age, "counted": True,
        "aldea_code": np.where(aldea == "none", None, aldea),
        "lon": np.where(geocoded, centre[:, 0] + rng.normal(0, 0.004, n), np.nan),
        "lat": np.where(geocoded, centre[:, 1] + rng.normal(0, 0.004, n), np.nan),
        "occurred_hour": hour,
        "weapon": rng.choice(["Arma de fuego", "Arma blanca", "Otro", "Sin dato"], n),
    })
    # the police also recorded most forensic cases: duplicates that do not count
    twins = df[(df["source"] == "inacif") & (rng.random(n) < 0.6)].assign(source="pnc", counted=False)
    df = pd.concat([df, twins], ignore_index=True)
    # June 2020: the police sent nothing
    june = (df["source"] == "pnc") & (df["occurred_on"].dt.strftime("%Y-%m") == "2020-06")
    df = df[~june].sort_values("occurred_on", kind="stable", ignore_index=True)
    df["occurred_on"] = df["occurred_on"].dt.date
    df.loc[df["lon"].isna(), "lat"] = np.nan
    points = [(0.5 + dx, 0.5 + dy) for dx, dy in rng.normal(0, 0.004, (6, 2))] + \
             [(0.9 + dx, 0.9 + dy) for dx, dy in rng.normal(0, 0.004, (4, 2))] + [(0.2, 0.2), (0.21, 0.19)]
    school_rows = []
    for i, (lon, lat) in enumerate(points):
        code = "0101" if i < 10 else "0201"
        aldea_code = "010101" if i < 6 else ("010102" if i < 10 else None)
        school_rows.append((f"S{i:02d}", f"Escuela {i}", code, aldea_code, float(lon), float(lat),
                            ["Primaria", "Básico"][i % 2], ["Oficial", "Privado"][i % 3 == 0], 100 + i))
    return df, school_rows
