"""Genera los archivos de incidentes SINTÉTICOS del ejemplo de Honduras (data/examples/incidentes/).

Honduras no publica registros de incidentes en ../shared/data: estos archivos imitan lo que
entregan tres instituciones, con sus formatos y algunos defectos reales (menos del 5 %):
- policia (SEPOL, homicidios y robos): CSV Latin-1 con ';', fechas DD/MM/AAAA, municipio por código, sexo M/F,
  una línea de totales al final, edades imposibles, alguna fecha inexistente.
- medicina_forense: Excel (hoja 'Necropsias'), solo homicidios, municipio y departamento por
  NOMBRE (mayúsculas, sin tildes, con errores de escritura), fechas de Excel.
- fiscalia: CSV UTF-8 con BOM y ',', fechas AAAA-MM-DD, denuncias de violencia doméstica,
  violación y extorsión, con expedientes repetidos.
Uso: python data/examples/generar_incidentes.py  (determinista: misma semilla, mismos archivos)
"""
from __future__ import annotations

import csv
import datetime as dt
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent.parent / "shared" / "data" / "honduras"
YEARS = (2020, 2021, 2022)
# Victims per 100,000 inhabitants per year (plausible orders of magnitude, not real figures).
RATES = {"homicidio": 38.0, "robo": 20.0, "violencia_domestica": 12.0, "violacion": 5.0, "extorsion": 5.0}


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).upper()


def generate(out: Path, seed: int = 7) -> dict[str, int]:
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    pop = pd.read_csv(SHARED / "poblacion_municipal_2020_2025.csv", dtype={"cod_municipio": str, "cod_departamento": str})
    shapes = gpd.read_file(SHARED / "municipios.geojson").set_index("cod_municipio")
    codes = pop["cod_municipio"].to_numpy()
    # Spatially uneven risk: a few municipalities (big cities, north coast) carry much more.
    risk = np.exp(rng.normal(0, 0.6, len(codes)))
    risk[np.isin(codes, ["0501", "0801", "0101", "0301", "0506"])] *= 2.5
    records = []
    for year in YEARS:
        weight = pop[f"pob_{year}"].to_numpy() * risk
        for crime, rate in RATES.items():
            expected = rate * pop[f"pob_{year}"].sum() / 1e5 * (1 - 0.08 * (year - 2020))
            counts = rng.poisson(expected * weight / weight.sum())
            for i in np.flatnonzero(counts):
                for _ in range(counts[i]):
                    day = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
                    female = rng.random() < {"homicidio": 0.1, "violencia_domestica": 0.85, "violacion": 0.9}.get(crime, 0.35)
                    age = int(np.clip(rng.normal(14 if crime == "violacion" else 31, 11), 0, 95))
                    records.append((crime, codes[i], day, int(rng.integers(0, 24)), female, age))
    data = pd.DataFrame(records, columns=["crime", "muni", "date", "hour", "female", "age"])
    # Coordinates for half of the police records: a random point inside the municipality.
    lon = np.full(len(data), np.nan)
    lat = np.full(len(data), np.nan)
    for muni, idx in data.groupby("muni").groups.items():
        geom = shapes.loc[muni, "geometry"]
        minx, miny, maxx, maxy = geom.bounds
        idx = np.asarray(idx)
        todo = idx[rng.random(len(idx)) < 0.5]
        while len(todo):
            xs, ys = rng.uniform(minx, maxx, len(todo)), rng.uniform(miny, maxy, len(todo))
            inside = shapely.contains_xy(geom, xs, ys)
            lon[todo[inside]], lat[todo[inside]] = xs[inside], ys[inside]
            todo = todo[~inside]
    data["lon"], data["lat"] = lon.round(5), lat.round(5)
    out.mkdir(parents=True, exist_ok=True)
    names = pop.set_index("cod_municipio")
    counts = {}

    # policia: 92 % of homicides and the robberies; fiscalia: the rest (each victim in one source,
    # except homicides, recorded by police and forensic medicine and reconciled at load time).
    pol = data[((data["crime"] == "homicidio") & (rng.random(len(data)) < 0.92)) | (data["crime"] == "robo")]
    pol = pol.reset_index(drop=True)
    crime_pol = {"homicidio": "HOMICIDIO", "robo": "ROBO", "violencia_domestica": "VIOLENCIA DOMESTICA",
                 "violacion": "VIOLACION", "extorsion": "EXTORSION"}
    weapons = np.array(["ARMA DE FUEGO", "ARMA BLANCA", "CONTUNDENTE", "NINGUNA", "NO CONSTA"])
    rows = []
    for k, r in pol.iterrows():
        date = r["date"].strftime("%d/%m/%Y")
        age = str(r["age"])
        if k % 211 == 5:
            age = "-1"          # edad imposible
        if k % 397 == 7:
            age = "150"
        if k % 509 == 11:
            date = f"31/02/{r['date'].year}"  # fecha inexistente
        rows.append([f"SEPOL-{r['date'].year}-{k + 1:06d}", date, f"{r['hour']:02d}:{rng.integers(0, 60):02d}", r["muni"],
                     names.loc[r["muni"], "municipio_fuente"], crime_pol[r["crime"]], "F" if r["female"] else "M", age,
                     weapons[rng.choice(5, p=[0.55, 0.15, 0.1, 0.1, 0.1])] if r["crime"] != "violencia_domestica" else "NINGUNA",
                     "" if np.isnan(r["lon"]) else f"{r['lon']:.5f}", "" if np.isnan(r["lat"]) else f"{r['lat']:.5f}"])
    path = out / "sepol_2020_2022.csv"
    with open(path, "w", encoding="latin-1", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["ID_DENUNCIA", "FECHA", "HORA", "COD_MUNI", "MUNICIPIO", "DELITO", "SEXO", "EDAD", "ARMA", "LONGITUD", "LATITUD"])
        w.writerows(rows)
        fh.write(f"TOTAL REGISTROS: {len(rows)}\r\n")
    counts["policia"] = len(rows)

    # medicina_forense: 97 % of homicides, by name, upper case without accents, some typos.
    mf = data[(data["crime"] == "homicidio") & (rng.random(len(data)) < 0.97)].reset_index(drop=True)
    typo = {"0801": "DISTRITO CENTRAL (TEGUCIGALPA)"}
    frame = pd.DataFrame({
        "No. Autopsia": [f"MF-{d.year}-{k + 1:05d}" for k, d in enumerate(mf["date"])],
        "Fecha del hecho": pd.to_datetime(mf["date"]),
        "Departamento": [_plain(names.loc[m, "departamento"]) for m in mf["muni"]],
        "Municipio": [typo.get(m, _plain(names.loc[m, "municipio_fuente"])) for m in mf["muni"]],
        "Sexo": np.where(mf["female"], "MUJER", "HOMBRE"),
        "Edad": mf["age"].astype(object),
        "Causa": "HOMICIDIO",
    })
    frame.loc[frame.index % 701 == 3, "Edad"] = "IGNORADA"
    frame.loc[frame.index % 1301 == 9, "Municipio"] = "SAN PEDRO SUL"   # no coincide: se rechaza con sugerencia
    with pd.ExcelWriter(out / "medicina_forense_2020_2022.xlsx") as xl:
        frame.to_excel(xl, sheet_name="Necropsias", index=False)
    counts["medicina_forense"] = len(frame)

    # fiscalia: reports of several crimes (no homicides), UTF-8 with BOM.
    fis = data[data["crime"].isin(["violencia_domestica", "violacion", "extorsion"])]
    fis = fis.reset_index(drop=True)
    crime_fis = {"violencia_domestica": "Violencia doméstica", "violacion": "Violación", "extorsion": "Extorsión"}
    frame = pd.DataFrame({
        "expediente": [f"FIS-{k + 1:07d}" for k in range(len(fis))],
        "fecha_hecho": [d.isoformat() for d in fis["date"]],
        "codigo_municipio": fis["muni"],
        "delito": [crime_fis[c] for c in fis["crime"]],
        "sexo_victima": np.where(fis["female"], "Mujer", "Hombre"),
        "edad_victima": fis["age"],
    })
    dup = frame.iloc[::997].copy()            # expedientes repetidos
    frame = pd.concat([frame, dup]).sort_values("expediente", kind="stable").reset_index(drop=True)
    frame.to_csv(out / "fiscalia_2020_2022.csv", index=False, encoding="utf-8-sig")
    counts["fiscalia"] = len(frame)
    return counts


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "incidentes"
    print(generate(target))
