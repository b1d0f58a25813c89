"""Small SYNTHETIC incident files with known defects at known rows, and load configs that use them
together with the real Honduras geography and population in ../shared/data."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from tests.conftest import shared_file

HEADER = ["ID", "FECHA", "COD_MUNI", "DELITO", "SEXO", "EDAD"]


def good_rows(n: int, prefix: str, start_day: int = 1) -> list[list[str]]:
    munis = ["0801", "0501", "0101", "0301"]
    crimes = ["HOMICIDIO", "ROBO", "LESIONES"]
    return [[f"{prefix}-{i + 1:04d}", f"{(start_day + i) % 28 + 1:02d}/{i % 12 + 1:02d}/2021", munis[i % 4],
             crimes[i % 3], "M" if i % 3 else "F", str(18 + i % 50)] for i in range(n)]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",",
              trailer: str | None = None, header: list[str] | None = None) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header or HEADER)
        w.writerows(rows)
        if trailer:
            fh.write(trailer + "\r\n")
    return path


def honduras_geography(threshold: float = 0.05) -> str:
    munis = shared_file("honduras/municipios_sefin.geojson")
    depts = shared_file("honduras/departamentos_sefin.geojson")
    pop = shared_file("honduras/poblacion_municipal_2020_2025.csv")
    return f'''
pais = "HN"
nombre_pais = "Honduras"
periodo = {{ desde = "2020-01-01", hasta = "2022-12-31" }}
sintetico = true
umbral_rechazo = {threshold}

[geografia.departamentos]
archivo = "{depts}"
codigo = {{ columna = "COD_DPT", rellenar = 2 }}
nombre = "NOMBRE"

[geografia.municipios]
archivo = "{munis}"
codigo = {{ columna = "GEOCODIGO", fin = 4 }}
padre = {{ columna = "GEOCODIGO", fin = 2 }}
nombre = "NOMBRE"

[poblacion]
archivo = "{pop}"
codigo = "cod_municipio"
anios = {{ prefijo = "pob_" }}
fuente = "Proyecciones municipales"
'''


def incident_source(source: str, files: list[Path], extra: str = "", columns: str | None = None) -> str:
    names = ", ".join(f'"{f}"' for f in files)
    columns = columns or '''id = "ID"
fecha = "FECHA"
municipio_codigo = { columna = "COD_MUNI", rellenar = 4 }
delito = "DELITO"
sexo = "SEXO"
edad = "EDAD"'''
    return f'''
[[incidentes]]
fuente = "{source}"
institucion = "Institución {source}"
archivos = [{names}]
{extra}
[incidentes.columnas]
{columns}
[incidentes.valores.delito]
homicidio = ["HOMICIDIO"]
robo = ["ROBO"]
lesiones = ["LESIONES"]
[incidentes.valores.sexo]
H = ["M"]
M = ["F"]
'''


def write_config(path: Path, *sources: str, tail: str = "", threshold: float = 0.05) -> Path:
    path.write_text(honduras_geography(threshold) + "".join(sources) + tail, encoding="utf-8")
    return path


def excel(path: Path, rows: list[list[str]], sheet: str = "Datos") -> Path:
    pd.DataFrame(rows, columns=HEADER).to_excel(path, sheet_name=sheet, index=False)
    return path


# ---------------------------------------------------------------------------------------------
# A tiny SYNTHETIC country for fast loader tests: 2 departments x 2 municipalities (squares in
# EPSG:4326), their population 2020-2021 and a small incident file. Every file is a few hundred
# bytes, so a load takes a fraction of a second.
# ---------------------------------------------------------------------------------------------

TINY_DEPARTMENTS = {"01": ("Cortés", -88.0), "02": ("Colón", -87.0)}
TINY_MUNICIPALITIES = {"0101": ("San Pedro Sula", -88.0), "0102": ("Puerto Cortés", -87.5),
                       "0201": ("Trujillo", -87.0), "0202": ("Santa Rosa de Aguán", -86.5)}
TINY_HEADER = ["ID", "FECHA", "COD_MUNI", "DELITO", "SEXO", "EDAD"]


def square(x0: float, y0: float, width: float, height: float = 1.0) -> list:
    return [[[x0, y0], [x0 + width, y0], [x0 + width, y0 + height], [x0, y0 + height], [x0, y0]]]


def write_geojson(path: Path, features: list[tuple[dict, list]], crs: str | None = None) -> Path:
    """A GeoJSON FeatureCollection of polygons: (properties, rings)."""
    import json

    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": props,
                         "geometry": None if rings is None else {"type": "Polygon", "coordinates": rings}}
                        for props, rings in features]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def tiny_municipality_features(**override) -> list[tuple[dict, list]]:
    """Municipality features (GEOCODIGO = DDMM00, NOMBRE); ``override`` replaces rings by code."""
    return [({"GEOCODIGO": code + "00", "NOMBRE": name}, override.get(f"m{code}", square(x, 15.0, 0.5)))
            for code, (name, x) in TINY_MUNICIPALITIES.items()]


def tiny_geography_files(d: Path, municipalities: list[tuple[dict, list]] | None = None) -> dict[str, Path]:
    depts = write_geojson(d / "departamentos.geojson",
                          [({"COD_DEPT": code, "NOMBRE": name}, square(x, 15.0, 1.0))
                           for code, (name, x) in TINY_DEPARTMENTS.items()])
    munis = write_geojson(d / "municipios.geojson", municipalities or tiny_municipality_features())
    pop = d / "poblacion.csv"
    pop.write_text("cod_municipio,pob_2020,pob_2021\n0101,1000,1100\n0102,2000,2100\n0201,3000,3100\n"
                   "0202,4000,4100\n", encoding="utf-8")
    return {"departamentos": depts, "municipios": munis, "poblacion": pop}


def tiny_rows(n: int = 8) -> list[list[str]]:
    """Valid victim rows of 2021 spread over the four municipalities."""
    munis = list(TINY_MUNICIPALITIES)
    crimes = ["HOMICIDIO", "ROBO"]
    return [[f"P-{i + 1}", f"{i % 27 + 1:02d}/{i % 12 + 1:02d}/2021", munis[i % 4], crimes[i % 2],
             "M" if i % 2 else "F", str(20 + i)] for i in range(n)]


def tiny_geography_toml(files: dict[str, Path], threshold: float = 0.0) -> str:
    return f'''pais = "HN"
nombre_pais = "Honduras"
periodo = {{ desde = "2020-01-01", hasta = "2021-12-31" }}
umbral_rechazo = {threshold}

[geografia.departamentos]
archivo = "{files["departamentos"]}"
codigo = "COD_DEPT"
nombre = "NOMBRE"

[geografia.municipios]
archivo = "{files["municipios"]}"
codigo = {{ columna = "GEOCODIGO", fin = 4 }}
padre = {{ columna = "GEOCODIGO", fin = 2 }}
nombre = "NOMBRE"
'''


def tiny_population_toml(path: Path, extra: str = "") -> str:
    return f'''
[poblacion]
archivo = "{path}"
codigo = "cod_municipio"
anios = {{ prefijo = "pob_" }}
fuente = "Proyecciones"
{extra}'''


TINY_COLUMNS = '''id = "ID"
fecha = "FECHA"
municipio_codigo = "COD_MUNI"
delito = "DELITO"
sexo = "SEXO"
edad = "EDAD"'''


def tiny_source_toml(files: list[Path] | Path, source: str = "policia", extra: str = "", columns: str = TINY_COLUMNS,
                     crimes: str = 'homicidio = ["HOMICIDIO"]\nrobo = ["ROBO"]') -> str:
    files = files if isinstance(files, list) else [files]
    return f'''
[[incidentes]]
fuente = "{source}"
institucion = "Institución {source}"
archivos = [{", ".join(f'"{f}"' for f in files)}]
{extra}
[incidentes.columnas]
{columns}
[incidentes.valores.delito]
{crimes}
[incidentes.valores.sexo]
H = ["M"]
M = ["F"]
'''
