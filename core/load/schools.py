"""Schools (centros educativos) from a CSV/XLSX/Parquet declared in the configuration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from core import fmt
from core.load.config import LoadConfig
from core.load.incidents import parse_numbers, value_lookup
from core.load.load_report import Report, RowRejects, where
from core.load.names import normalise
from core.load.readers import RawTable, column
from core.load.territories import Geography, resolve_municipalities

SOURCE = "centros_educativos"
UNKNOWN = "Sin dato"


def load(cfg: LoadConfig, geo: Geography, report: Report) -> pd.DataFrame:
    spec = cfg.schools
    assert spec is not None  # called only when the configuration declares [centros_educativos]
    report.source(SOURCE, "Centros educativos")
    frames = []
    for table in report.read_files(SOURCE, spec.table):
        frames.append(_rows(cfg, table, geo, report))
    schools = pd.concat(frames, ignore_index=True)
    dup = schools["school_code"].duplicated()
    if dup.any():
        d = schools[dup]
        first = {c: f"{f} fila {fmt.integer(int(r))}" for c, f, r in
                 zip(schools["school_code"][::-1], schools["file"][::-1], schools["row"][::-1])}
        report.reject(SOURCE, d["file"].iloc[0], d["row"], ["codigo_duplicado"] * len(d),
                      [f"{where(SOURCE, f, r, spec.columns['codigo'])}: '{c}' está repetido (ya aparece en {first[c]}; "
                       "se esperaba un código distinto por centro)" for f, r, c in
                       zip(d["file"], d["row"], d["school_code"])], [None] * len(d))
        report.stats[SOURCE].rows_loaded -= int(dup.sum())
        schools = schools[~dup]
    _aldeas(schools, geo)
    return schools.drop(columns=["file", "row"]).reset_index(drop=True)


def _rows(cfg: LoadConfig, table: RawTable, geo: Geography, report: Report) -> pd.DataFrame:
    spec = cfg.schools
    assert spec is not None
    cols = spec.columns
    n = len(table.frame)
    rows = RowRejects(SOURCE, table)
    reject = rows.reject

    code = column(table, cols["codigo"], "código del centro")
    name = column(table, cols["nombre"], "nombre del centro")
    reject(code.isna().to_numpy(), "codigo_vacio", cols["codigo"], code, "(se esperaba el código del centro)")
    reject(name.isna().to_numpy(), "nombre_vacio", cols["nombre"], name, "(se esperaba el nombre del centro)")
    if "municipio_codigo" in cols or "municipio" in cols:
        muni, problems = resolve_municipalities(table, cols, spec.code, geo)
        for problem in problems:
            reject(*problem)
    else:
        muni = pd.Series([None] * n, index=table.frame.index, dtype=object)
    lon = pd.Series(np.nan, index=table.frame.index)
    lat = pd.Series(np.nan, index=table.frame.index)
    if "longitud" in cols and "latitud" in cols:
        raw_lon, raw_lat = column(table, cols["longitud"], "longitud"), column(table, cols["latitud"], "latitud")
        x, y = parse_numbers(raw_lon), parse_numbers(raw_lat)
        minx, miny, maxx, maxy = geo.bounds()
        ok = x.between(minx, maxx) & y.between(miny, maxy)
        keep = ~rows.mask
        bad = (raw_lon.notna() | raw_lat.notna()) & ~ok
        pos = np.flatnonzero(bad.to_numpy() & keep)
        report.field_issue(SOURCE, table.name, table.rows[pos], cols["longitud"],
                           (raw_lon.fillna("") + ", " + raw_lat.fillna("")).iloc[pos].tolist(), "coordenadas_invalidas",
                           [f"{where(SOURCE, table.name, int(table.rows[p]), cols['longitud'])}: "
                            f"({raw_lon.iloc[p]}, {raw_lat.iloc[p]}) no son coordenadas dentro del país: se registra sin coordenadas"
                            for p in pos])
        lon, lat = x.where(ok), y.where(ok)
        # Without a municipality column, the municipality comes from the coordinates.
        if "municipio_codigo" not in cols and "municipio" not in cols:
            pts = shapely.points(lon.fillna(0).to_numpy(), lat.fillna(0).to_numpy())
            pt_i, poly_i = shapely.STRtree(np.asarray(geo.municipalities.geometry.values)).query(pts, predicate="within")
            muni.iloc[pt_i] = geo.municipalities["code"].to_numpy()[poly_i]
            muni[lon.isna()] = None
    no_muni = muni.isna().to_numpy() & ~rows.mask
    reject(no_muni, "sin_municipio", cols.get("longitud", cols["codigo"]), code,
           "no tiene municipio (ni código, ni nombre, ni coordenadas dentro de un municipio)")

    def mapped(key: str) -> pd.Series:
        if key not in cols:
            return pd.Series(UNKNOWN, index=table.frame.index, dtype=object)
        raw = column(table, cols[key], key)
        mapping = spec.values.get(key)
        if not mapping:
            return raw.fillna(UNKNOWN)
        lookup = value_lookup(mapping)
        return raw.map(lambda v: lookup.get(normalise(v), UNKNOWN) if v is not None else UNKNOWN)

    enrollment = pd.Series(pd.NA, index=table.frame.index, dtype="Int32")
    if "matricula" in cols:
        num = parse_numbers(column(table, cols["matricula"], "matrícula"))
        enrollment = num.where((num >= 0) & (num % 1 == 0)).astype("Int32")
    aldea = column(table, cols["aldea_codigo"], "código de aldea") if "aldea_codigo" in cols else \
        pd.Series([None] * n, index=table.frame.index, dtype=object)
    aldea = aldea.where(aldea.map(geo.aldea_muni) == muni, None)
    keep = ~rows.mask
    out = pd.DataFrame({"school_code": code, "name": name, "muni_code": muni, "aldea_code": aldea,
                        "lon": lon, "lat": lat, "level": mapped("nivel"), "sector": mapped("sector"),
                        "enrollment": enrollment, "file": table.name, "row": table.rows})[keep]
    rows.report_to(report)
    report.stats[SOURCE].rows_loaded += int(keep.sum())
    return out


def _aldeas(schools: pd.DataFrame, geo: Geography) -> None:
    """Schools without an aldea code get the aldea their coordinates fall in (same municipality)."""
    if geo.aldeas is None:
        return
    todo = np.flatnonzero(schools["aldea_code"].isna().to_numpy() & schools["lon"].notna().to_numpy())
    if len(todo) == 0:
        return
    pts = shapely.points(schools["lon"].to_numpy()[todo], schools["lat"].to_numpy()[todo])
    pt_i, poly_i = shapely.STRtree(np.asarray(geo.aldeas.geometry.values)).query(pts, predicate="within")
    same = geo.aldeas["parent_code"].to_numpy()[poly_i] == schools["muni_code"].to_numpy()[todo[pt_i]]
    schools.iloc[todo[pt_i][same], schools.columns.get_loc("aldea_code")] = geo.aldeas["code"].to_numpy()[poly_i][same]
