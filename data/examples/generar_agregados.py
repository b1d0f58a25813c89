"""Genera los archivos SINTÉTICOS de los ejemplos de datos agregados y de hechos de Honduras.

Geografía y población son las REALES de ../shared/data/honduras; las cifras de delitos son
sintéticas (órdenes de magnitud plausibles, no cifras reales). Imitan las formas en que llegan
los datos abiertos, con sus rarezas:

- agregados/homicidios_departamento_2018_2022.csv (ejemplo honduras_agregados.toml): tabla
  oficial de homicidios por departamento y año con su población, Latin-1 con ';', un título y una
  línea en blanco antes del encabezado, nombres en mayúsculas sin tildes (y «FCO. MORAZAN»),
  una fila «TOTAL NACIONAL» por año, población vacía en 2018-2019 (la proyección empieza en 2020),
  cifras con separador de miles y una nota al pie.
- eventos/eventos_violencia_2020_2022.csv (ejemplo honduras_eventos.toml): un hecho por fila con
  su número de fallecidos, mezclando hechos fuera de alcance (protestas, detenciones, accidentes
  de tránsito), ataques sin fallecidos, masacres, filas sin municipio pero con coordenadas.
- eventos/denuncias_robo_municipio_mes.csv (ejemplo honduras_eventos.toml): denuncias de robo
  (hechos) por municipio, año y mes con el nombre del mes.

Uso: python data/examples/generar_agregados.py  (determinista: misma semilla, mismos archivos)
"""
from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent.parent / "shared" / "data" / "honduras"
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).upper()


def _population() -> pd.DataFrame:
    return pd.read_csv(SHARED / "poblacion_municipal_2020_2025.csv",
                       dtype={"cod_municipio": str, "cod_departamento": str})


def department_table(out: Path, rng: np.random.Generator) -> Path:
    pop = _population()
    depts = pop.groupby(["cod_departamento", "departamento"], sort=True)[[f"pob_{y}" for y in (2020, 2021, 2022)]].sum()
    rows = []
    for (code, name), values in depts.iterrows():
        rate = float(np.exp(rng.normal(np.log(35), 0.45)))  # homicides per 100,000 (synthetic)
        label = "FCO. MORAZAN" if code == "08" else _plain(name)
        for year in range(2018, 2023):
            base = values[f"pob_{max(year, 2020)}"]
            count = int(rng.poisson(rate * base / 1e5 * (1.15 - 0.05 * (year - 2018))))
            population = f"{int(values[f'pob_{year}']):,}" if year >= 2020 else ""
            rows.append([label, str(year), f"{count:,}", population])
    table = pd.DataFrame(rows, columns=["DEPARTAMENTO", "AÑO", "HOMICIDIOS", "POBLACION"])
    lines = []
    for year in range(2018, 2023):
        year_rows = table[table["AÑO"] == str(year)]
        lines += year_rows.values.tolist()
        total = sum(int(c.replace(",", "")) for c in year_rows["HOMICIDIOS"])
        pops = [int(p.replace(",", "")) for p in year_rows["POBLACION"] if p]
        lines.append(["TOTAL NACIONAL", str(year), f"{total:,}", f"{sum(pops):,}" if pops else ""])
    path = out / "agregados" / "homicidios_departamento_2018_2022.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="latin-1", newline="") as fh:
        fh.write("Homicidios por departamento y año, Honduras 2018-2022 (CIFRAS SINTÉTICAS de ejemplo)\r\n\r\n")
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(table.columns)
        w.writerows(lines)
        fh.write("Nota: la población de 2018 y 2019 no está disponible en la proyección municipal.\r\n")
    return path


def _points_in(geom, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    import shapely

    minx, miny, maxx, maxy = geom.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        xs, ys = rng.uniform(minx, maxx, 64), rng.uniform(miny, maxy, 64)
        inside = shapely.contains_xy(geom, xs, ys)
        out += [(round(float(x), 5), round(float(y), 5)) for x, y in zip(xs[inside], ys[inside])]
    return out[:n]


# (type in the file, mean events per 100,000 per year, deaths) ; deaths: fixed, or (low, high)
EVENT_TYPES = (("Homicidio", 30.0, (1, 2)), ("Masacre", 0.6, (3, 6)), ("Ataque armado", 8.0, (0, 0)),
               ("Protesta", 3.0, (0, 0)), ("Detención", 6.0, (0, 0)), ("Accidente de tránsito", 10.0, (0, 1)))


def events_table(out: Path, rng: np.random.Generator) -> Path:
    import geopandas as gpd

    pop = _population()
    shapes = gpd.read_file(SHARED / "municipios.geojson").set_index("cod_municipio")
    names = dict(zip(pop["cod_municipio"], pop["municipio_fuente"]))
    depts = dict(zip(pop["cod_municipio"], pop["departamento"]))
    risk = np.exp(rng.normal(0, 0.5, len(pop)))
    rows = []
    for year in (2020, 2021, 2022):
        weight = pop[f"pob_{year}"].to_numpy() * risk
        for kind, rate, (lo, hi) in EVENT_TYPES:
            counts = rng.poisson(rate * pop[f"pob_{year}"].sum() / 1e5 * weight / weight.sum())
            for i in np.flatnonzero(counts):
                code = pop["cod_municipio"].iloc[i]
                points = _points_in(shapes.loc[code, "geometry"], int(counts[i]), rng)
                for lon, lat in points:
                    day = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
                    deaths = int(rng.integers(lo, hi + 1))
                    rows.append([kind, code, day, int(rng.integers(0, 24)), int(rng.integers(0, 60)), lon, lat, deaths])
    data = pd.DataFrame(rows, columns=["kind", "code", "date", "hour", "minute", "lon", "lat", "deaths"])
    data = data.sort_values(["date", "hour", "minute"], kind="stable").reset_index(drop=True)
    no_place = rng.random(len(data)) < 0.08  # the reporter gave only the coordinates
    with_xy = rng.random(len(data)) < 0.7
    path = out / "eventos" / "eventos_violencia_2020_2022.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id_evento", "fecha", "hora", "tipo_evento", "departamento", "municipio", "latitud", "longitud",
                    "fallecidos"])
        for k, r in enumerate(data.itertuples(index=False)):
            place = not no_place[k]
            xy = with_xy[k] or no_place[k]
            w.writerow([f"EV-{k + 1:06d}", r.date.strftime("%d/%m/%Y"), f"{r.hour:02d}:{r.minute:02d}", r.kind,
                        _plain(depts[r.code]) if place else "", _plain(names[r.code]) if place else "",
                        f"{r.lat:.5f}" if xy else "", f"{r.lon:.5f}" if xy else "", r.deaths])
    return path


def robbery_table(out: Path, rng: np.random.Generator) -> Path:
    pop = _population()
    risk = np.exp(rng.normal(0, 0.6, len(pop)))
    path = out / "eventos" / "denuncias_robo_municipio_mes.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cod_municipio", "anio", "mes", "denuncias_robo"])
        for year in (2020, 2021, 2022):
            expected = 90.0 * pop[f"pob_{year}"].to_numpy() * risk / 1e5 / 12
            for m, month in enumerate(MONTHS):
                season = 1 + 0.15 * np.cos(2 * np.pi * (m - 11) / 12)
                for code, n in zip(pop["cod_municipio"], rng.poisson(expected * season)):
                    w.writerow([code, year, month.capitalize() if m % 2 else month, int(n)])
    return path


def generate(out: Path = HERE, seed: int = 11) -> list[Path]:
    rng = np.random.default_rng(seed)
    return [department_table(out, rng), events_table(out, rng), robbery_table(out, rng)]


if __name__ == "__main__":
    for p in generate():
        print(p.relative_to(HERE), p.stat().st_size, "bytes")
