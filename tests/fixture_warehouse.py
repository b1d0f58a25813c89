"""A tiny hand-made warehouse whose every figure can be computed by hand in the tests."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.load import catalog
from core.load.cube import build_cube
from core.load.exposure import build_school_exposure
from core.load.publish import building, insert_frame

SQUARE = '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}'


def build(path: Path, *, split_population: bool = True, period_end: str = "2021-12-31",
          synthetic: bool = False, incidents: list | None = None, period_start: str = "2020-01-01") -> Path:
    """Two departments, three municipalities (Alfa with two aldeas), years 2020-2021.

    Population per municipality and year: 0101 -> 100,000; 0102 -> 50,000; 0201 -> 10,000,
    split 50/50 by sex and equally over the six age groups when ``split_population``.
    Incidents: listed in INCIDENTS below (or the given ``incidents``, same columns).
    """
    meta = {"country": "XX", "country_name": "Fixturia", "synthetic": "true" if synthetic else "false",
            "period_start": period_start, "period_end": period_end}
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
        for code, total in (("0101", 100_000), ("0102", 50_000), ("0201", 10_000)):
            for year in (2020, 2021):
                if split_population:
                    rows += [(code, year, sex, age, total / 2 / len(ages)) for sex in ("H", "M") for age in ages]
                else:
                    rows.append((code, year, "T", "total", float(total)))
        rows += [(code, year, "T", "total", total) for code, total in (("010101", 60_000.0), ("010102", 40_000.0))
                 for year in (2020, 2021)]
        insert_frame(con, "population", pd.DataFrame(rows, columns=["code", "year", "sex", "age_group", "population"]))
        aldea_of, points = (ALDEA_OF, POINTS) if incidents is None else ({}, {})
        incidents = pd.DataFrame(INCIDENTS if incidents is None else incidents,
                                 columns=["source", "occurred_on", "muni_code", "crime_type", "victim_sex", "victim_age",
                                          "counted"])
        incidents["occurred_on"] = pd.to_datetime(incidents["occurred_on"]).dt.date
        incidents["incident_id"] = range(1, len(incidents) + 1)
        incidents["source_record_id"] = incidents["incident_id"].astype(str)
        incidents["occurred_hour"] = 12
        incidents["dept_code"] = incidents["muni_code"].str[:2]
        incidents["aldea_code"] = incidents.index.map(aldea_of)
        incidents["lon"] = incidents.index.map(lambda i: points.get(i, (None, None))[0])
        incidents["lat"] = incidents.index.map(lambda i: points.get(i, (None, None))[1])
        incidents["age_group"] = catalog.age_group_of(incidents["victim_age"].to_numpy(dtype=float))
        incidents["weapon"] = "Sin dato"
        insert_frame(con, "incident", incidents)
        insert_frame(con, "source", pd.DataFrame([
            ("pnc", "Policía", "pnc.csv", None, 9, 9, 0), ("inacif", "Forense", "inacif.csv", None, 3, 3, 0),
        ], columns=["source", "institution", "file", "sha256", "rows_read", "rows_loaded", "rows_rejected"]))
        insert_frame(con, "indicator", pd.DataFrame(INDICATORS, columns=["code", "indicator", "year", "value"]))
        insert_frame(con, "indicator_meta", pd.DataFrame([
            ("pobreza", "Pobreza", "%", True, "Encuesta"), ("alfabetismo", "Alfabetismo", "%", False, "Censo"),
        ], columns=["indicator", "name", "unit", "higher_is_worse", "source"]))
        insert_frame(con, "school", pd.DataFrame(SCHOOLS, columns=["school_code", "name", "muni_code", "aldea_code",
                                                                  "lon", "lat", "level", "sector", "enrollment"]))
        build_cube(con)
        build_school_exposure(con)
    return path


# code, indicator, year, value. The 2015 value is superseded by 2018; Gamma has no alfabetismo.
INDICATORS = [
    ("0101", "pobreza", 2015, 99.0),
    ("0101", "pobreza", 2018, 20.0), ("0102", "pobreza", 2018, 60.0), ("0201", "pobreza", 2018, 40.0),
    ("0101", "alfabetismo", 2018, 95.0), ("0102", "alfabetismo", 2018, 85.0),
]

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
