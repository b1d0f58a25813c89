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
