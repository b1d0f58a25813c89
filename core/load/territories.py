"""Geography layers declared in a load configuration: departments, municipalities, aldeas.

Codes come from a column with an optional transform (prefix, slice, zero-padding). Units
without a code (a lake) or whose code matches ``excluir_codigos`` are left out and reported;
names are cleaned (spaces), corrected from the configuration, and a broken character (U+FFFD)
is reported, never used to join. Aldeas given as points become Voronoi cells clipped to their
municipality (approximate boundaries, said so in the quality report).
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.load.config import CodeSpec, Layer, LoadConfig
from core.load.geography import repair
from core.load.names import NameIndex
from core.load.readers import RawTable, SourceError, apply_code, column, read_layer
from core.load.report import Report

LEVEL_LABEL = {"departamento": "departamentos", "municipio": "municipios", "aldea": "aldeas"}


@dataclass
class Geography:
    departments: gpd.GeoDataFrame   # code, name, parent_code, dept_code, geometry
    municipalities: gpd.GeoDataFrame
    aldeas: gpd.GeoDataFrame | None
    index: NameIndex

    @property
    def muni_dept(self) -> dict[str, str]:
        return dict(zip(self.municipalities["code"], self.municipalities["dept_code"]))

    @property
    def aldea_muni(self) -> dict[str, str]:
        if self.aldeas is None:
            return {}
        return dict(zip(self.aldeas["code"], self.aldeas["parent_code"]))

    def bounds(self, margin: float = 0.25) -> tuple[float, float, float, float]:
        minx, miny, maxx, maxy = self.municipalities.total_bounds
        return minx - margin, miny - margin, maxx + margin, maxy + margin


def _layer(spec: Layer, level: str, report: Report) -> gpd.GeoDataFrame:
    source = "geografia"
    frame = read_layer(spec.file, spec.layer)
    for col in {spec.code.column, spec.name} | ({spec.parent.column} if spec.parent else set()):
        if col not in frame.columns:
            raise SourceError(f"{spec.file.name}: falta la columna '{col}' en la capa de {LEVEL_LABEL[level]}; "
                              f"columnas de la capa: {[c for c in frame.columns if c != 'geometry']}")
    codes = apply_code(frame[spec.code.column].astype(object).where(frame[spec.code.column].notna(), None), spec.code)
    names = frame[spec.name].astype(object).where(frame[spec.name].notna(), None)
    keep = codes.notna()
    if (~keep).any():
        dropped = names[~keep].fillna("(sin nombre)").tolist()
        report.issue(source, f"{level}_sin_codigo_omitido", "info", int((~keep).sum()),
                     f"{spec.file.name}: sin código en {spec.code.column}: {', '.join(map(str, dropped[:5]))}")
    if spec.exclude_pattern:
        excluded = keep & codes.fillna("").str.contains(spec.exclude_pattern, regex=True)
        if excluded.any():
            report.issue(source, f"{level}_excluido", "info", int(excluded.sum()),
                         f"{spec.file.name}: excluidos por excluir_codigos: " +
                         ", ".join(f"{c} {n}" for c, n in zip(codes[excluded], names[excluded]))[:300])
            keep &= ~excluded
    frame, codes, names = frame[keep], codes[keep], names[keep]
    dups = codes[codes.duplicated()].unique().tolist()
    if dups:
        raise SourceError(f"{spec.file.name}: códigos de {LEVEL_LABEL[level]} repetidos tras aplicar "
                          f"({spec.code.describe()}): {dups[:10]}")
    clean = names.fillna("").astype(str).map(lambda s: " ".join(s.split()))
    fixed = codes.map(spec.names).where(codes.isin(list(spec.names)), clean)
    broken = fixed.str.contains("\ufffd", regex=False)
    if broken.any():
        report.issue(source, f"{level}_nombre_con_caracter_roto", "aviso", int(broken.sum()),
                     f"{spec.file.name}: " + ", ".join(f"{c} '{n}'" for c, n in zip(codes[broken], fixed[broken]))[:300]
                     + " (corríjalos en [geografia.*.nombres]; la unión se hace por código)")
    doubled = names.fillna("").str.contains("  ", regex=False) & ~codes.isin(list(spec.names))
    if doubled.any():
        report.issue(source, f"{level}_nombre_con_espacios", "info", int(doubled.sum()),
                     f"{spec.file.name}: espacios dobles quitados en " + ", ".join(codes[doubled].tolist()[:10]))
    unknown_fixes = set(spec.names) - set(codes)
    if unknown_fixes:
        report.errors.append(f"[geografia] nombres corregidos para códigos que no existen en {spec.file.name}: "
                             f"{sorted(unknown_fixes)}")
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        raise SourceError(f"{spec.file.name}: {LEVEL_LABEL[level]} sin geometría: {codes[empty].tolist()[:10]}")
    parent = apply_code(frame[spec.parent.column].astype(object), spec.parent) if spec.parent else None
    out = gpd.GeoDataFrame({
        "code": codes.to_numpy(dtype=object),
        "name": fixed.to_numpy(dtype=object),
        "parent_code": parent.to_numpy(dtype=object) if parent is not None else None,
        "dept_code": (parent.to_numpy(dtype=object) if parent is not None else codes.to_numpy(dtype=object)),
    }, geometry=repair(frame.geometry).to_numpy(), crs="EPSG:4326")
    return out.sort_values("code").reset_index(drop=True)


def load(cfg: LoadConfig, report: Report) -> Geography:
    departments = _layer(cfg.departments, "departamento", report)
    municipalities = _layer(cfg.municipalities, "municipio", report)
    orphans = sorted(set(municipalities["parent_code"].dropna()) - set(departments["code"]))
    missing_parent = municipalities["parent_code"].isna()
    if orphans or missing_parent.any():
        raise SourceError(f"{cfg.municipalities.file.name}: municipios cuyo departamento ({cfg.municipalities.parent.describe()}) "
                          f"no existe en {cfg.departments.file.name}: {orphans[:10] or municipalities.loc[missing_parent, 'code'].tolist()[:10]}; "
                          f"departamentos: {departments['code'].tolist()}")
    aldeas = None
    if cfg.aldeas is not None:
        aldeas = _layer(cfg.aldeas, "aldea", report)
        unknown = sorted(set(aldeas["parent_code"].dropna()) - set(municipalities["code"]))
        if unknown:
            raise SourceError(f"{cfg.aldeas.file.name}: aldeas cuyo municipio no existe: {unknown[:10]}")
        aldeas["dept_code"] = aldeas["parent_code"].map(dict(zip(municipalities["code"], municipalities["dept_code"])))
        if aldeas.geom_type.isin(["Point", "MultiPoint"]).all():
            aldeas = _voronoi_cells(aldeas, municipalities, report)
    dept_names = dict(zip(departments["code"], departments["name"]))
    index = NameIndex([(c, n, d, dept_names[d]) for c, n, d in
                       zip(municipalities["code"], municipalities["name"], municipalities["dept_code"])], cfg.aliases,
                      cfg.dept_aliases)
    return Geography(departments, municipalities, aldeas, index)


def _voronoi_cells(points: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame, report: Report) -> gpd.GeoDataFrame:
    """Aldea points -> Voronoi cells clipped to their municipality."""
    muni_geom = dict(zip(municipalities["code"], municipalities.geometry))
    cells = np.empty(len(points), dtype=object)
    outside = 0
    for muni, group in points.groupby("parent_code"):
        container = muni_geom[muni]
        pts = np.array([(g.x, g.y) for g in shapely.get_geometry(np.asarray(group.geometry.values), 0)])
        outside += int((~shapely.contains_xy(container, pts[:, 0], pts[:, 1])).sum())
        if len(pts) == 1:
            cells[group.index[0]] = container
            continue
        # Duplicate points would share one cell: nudge them by a micro-degree.
        _, first = np.unique(np.round(pts, 7), axis=0, return_index=True)
        dup = np.setdiff1d(np.arange(len(pts)), first)
        pts[dup] += 1e-6 * (1 + np.arange(len(dup)))[:, None]
        regions = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=container, ordered=True)
        for idx, cell in zip(group.index, regions.geoms):
            clipped = shapely.intersection(cell, container)
            cells[idx] = clipped if not clipped.is_empty else cell
    report.issue("geografia", "aldeas_como_puntos", "info", len(points),
                 "las aldeas vienen como puntos: sus límites son celdas de Voronoi recortadas al municipio (aproximados)")
    if outside:
        report.issue("geografia", "aldea_fuera_de_su_municipio", "aviso", outside,
                     "puntos de aldea fuera del polígono de su municipio")
    out = points.copy()
    out["geometry"] = repair(gpd.GeoSeries(cells, crs="EPSG:4326"))
    return out


def code_pattern(codes: pd.Series) -> str:
    """A short description of what codes look like, for error messages ('4 dígitos, p. ej. 0101')."""
    lengths = codes.str.len().value_counts()
    example = codes.iloc[0] if len(codes) else "?"
    if len(lengths) == 1:
        return f"{lengths.index[0]} caracteres, p. ej. {example}"
    return f"p. ej. {example}"


def resolve_departments(values: pd.Series, geo: Geography) -> tuple[pd.Series, pd.Series]:
    """Department code of each name, alias or code (missing where it does not resolve), and why not."""
    found = {v: geo.index.resolve_department(v) for v in values.dropna().unique()}
    return (values.map({v: r.code for v, r in found.items()}).astype(object),
            values.map({v: r.reason for v, r in found.items()}).astype(object))


def resolve_municipalities(table: RawTable, cols: dict[str, str], code: CodeSpec | None, geo: Geography):
    """Municipality code of each row, from a code column (``municipio_codigo``) or from a name
    (``municipio``, within ``departamento`` when given). Returns the codes (None where unresolved)
    and the problems as (mask, rule, column, values, expected text or one text per row)."""
    problems = []
    if "municipio_codigo" in cols:
        raw = column(table, cols["municipio_codigo"], "código de municipio")
        muni = apply_code(raw, code)
        unknown = muni.notna() & ~muni.isin(geo.index.codes)
        transform = f"; transformación: {code.describe()}" if code != CodeSpec(code.column) else ""
        problems.append((raw.isna().to_numpy(), "municipio_vacio", cols["municipio_codigo"], raw,
                         "(se esperaba un código de municipio)"))
        problems.append((unknown.to_numpy(), "municipio_desconocido", cols["municipio_codigo"], raw,
                         f"no es un código de municipio de la capa ({code_pattern(geo.municipalities['code'])}{transform})"))
        return muni.where(~unknown, None), problems
    raw_name = column(table, cols["municipio"], "nombre de municipio")
    dept = pd.Series(None, index=table.frame.index, dtype=object)
    if "departamento" in cols:
        raw_dept = column(table, cols["departamento"], "departamento")
        dept, reasons = resolve_departments(raw_dept, geo)
        problems.append(((raw_dept.notna() & dept.isna()).to_numpy(), "departamento_desconocido", cols["departamento"],
                         raw_dept, reasons))
        dept = dept.where(raw_dept.isna() | dept.notna(), "?")  # unknown department: reported above, not resolved
    keys = list(zip(dept.where(dept.notna(), None).tolist(), raw_name.tolist()))
    resolved = {k: geo.index.resolve(k[1], k[0]) for k in set(keys) if k[1] is not None and k[0] != "?"}
    muni = pd.Series([resolved[k].code if k in resolved else None for k in keys], index=table.frame.index, dtype=object)
    reasons = pd.Series([resolved[k].reason if k in resolved else None for k in keys], index=table.frame.index, dtype=object)
    problems.append((raw_name.isna().to_numpy(), "municipio_vacio", cols["municipio"], raw_name,
                     "(se esperaba el nombre del municipio)"))
    problems.append((reasons.notna().to_numpy(), "municipio_desconocido", cols["municipio"], raw_name, reasons))
    return muni, problems
