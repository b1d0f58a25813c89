"""Geography layers declared in a load configuration: departments, municipalities, aldeas.

Codes come from a column with an optional transform (prefix, slice, zero-padding). Units
without a code (a lake) or whose code matches ``excluir_codigos`` are left out and reported;
names are cleaned (spaces), corrected from the configuration, and a broken character (U+FFFD)
is reported, never used to join. Aldeas given as points become Voronoi cells clipped to their
municipality (approximate boundaries, said so in the quality report).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.load.config import CodeSpec, Layer, LoadConfig
from core.load.geography import repair
from core.load.load_report import Report
from core.load.names import NameIndex
from core.load.readers import RawTable, SourceError, apply_code, column, read_layer

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
    available = [str(c) for c in frame.columns if c != "geometry"]
    for key, col in (("codigo", spec.code.column), ("nombre", spec.name),
                     ("padre", spec.parent.column if spec.parent else None)):
        if col is not None and col not in frame.columns:
            near = difflib.get_close_matches(col.casefold(), [c.casefold() for c in available], n=1, cutoff=0.6)
            hint = f"; ¿quiso decir '{available[[c.casefold() for c in available].index(near[0])]}'?" if near else ""
            raise SourceError(f"{spec.file.name}: falta la columna '{col}' (declarada en {key}) en la capa de "
                              f"{LEVEL_LABEL[level]}; columnas de la capa: {available}{hint}")
    source_crs = frame.attrs.get("source_crs", "EPSG:4326")
    if source_crs is None:
        report.issue(source, f"{level}_sin_sistema_de_coordenadas", "aviso", len(frame),
                     f"{spec.file.name}: la capa no declara su sistema de coordenadas; sus coordenadas son grados y se "
                     "leyó como WGS84 (EPSG:4326)")
    elif source_crs != "EPSG:4326":
        report.issue(source, f"{level}_reproyectado", "info", len(frame),
                     f"{spec.file.name}: capa en {source_crs}, convertida a WGS84 (EPSG:4326)")
    kinds = set(frame.geometry.dropna().geom_type)
    allowed = {"Polygon", "MultiPolygon"} | ({"Point", "MultiPoint"} if level == "aldea" else set())
    if kinds - allowed:
        raise SourceError(f"{spec.file.name}: la capa de {LEVEL_LABEL[level]} tiene geometrías de tipo "
                          f"{sorted(kinds - allowed)}; se esperaban polígonos"
                          + (" (o puntos)" if level == "aldea" else "")
                          + " con el límite de cada unidad")
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
    }, geometry=_repaired(frame.geometry, codes, fixed, spec, level, report).to_numpy(), crs="EPSG:4326")
    return out.sort_values("code").reset_index(drop=True)


def _repaired(geoms: gpd.GeoSeries, codes: pd.Series, names: pd.Series, spec: Layer, level: str,
              report: Report) -> gpd.GeoSeries:
    """Valid geometries: an invalid polygon (a ring that crosses itself, a bow-tie) is repaired with
    make_valid and reported with its code, so that its area and the points it contains are computed
    on a valid shape."""
    values = np.asarray(geoms.values)
    invalid = ~shapely.is_valid(values)
    fixed = repair(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(values[invalid])
        before, after = shapely.area(values[invalid]), shapely.area(np.asarray(fixed.values)[invalid])
        examples = [f"{c} {n} ({_validity(r)}; área {b:.4g} -> {a:.4g} grados²)" for c, n, r, b, a in
                    zip(codes[invalid], names[invalid], reasons, before, after)]
        report.issue("geografia", f"{level}_geometria_invalida_reparada", "aviso", int(invalid.sum()),
                     f"{spec.file.name}: {'; '.join(examples[:5])}{' …' if len(examples) > 5 else ''}: reparadas con "
                     "make_valid; revise el límite en el archivo de origen")
    empty = np.asarray(fixed.is_empty)
    if empty.any():
        raise SourceError(f"{spec.file.name}: {LEVEL_LABEL[level]} sin superficie después de reparar la geometría: "
                          f"{codes[empty].tolist()[:10]}")
    return fixed


def _validity(reason: str) -> str:
    """shapely's validity reason in Spanish ('Self-intersection[-87.7 15.5]' -> 'se corta a sí mismo en ...')."""
    m = re.match(r"([^[]+?)\s*\[(.*)\]", reason or "")
    kind, at = (m.group(1), m.group(2)) if m else (reason, "")
    spanish = {"Self-intersection": "el límite se corta a sí mismo", "Ring Self-intersection": "un anillo se corta a sí mismo",
               "Too few points": "tiene muy pocos puntos", "Interior is disconnected": "el interior queda dividido",
               "Hole lies outside shell": "un hueco cae fuera del polígono", "Nested shells": "polígonos anidados",
               "Invalid Coordinate": "coordenada no válida"}.get(kind, kind)
    return f"{spanish} en ({at.replace(' ', ', ')})" if at else spanish


def load(cfg: LoadConfig, report: Report) -> Geography:
    departments = _layer(cfg.departments, "departamento", report)
    municipalities = _layer(cfg.municipalities, "municipio", report)
    orphans = sorted(set(municipalities["parent_code"].dropna()) - set(departments["code"]))
    missing_parent = municipalities["parent_code"].isna()
    if orphans or missing_parent.any():
        examples = orphans[:10] or municipalities.loc[missing_parent, "code"].tolist()[:10]
        parent = cfg.municipalities.parent  # required for the municipality layer (config)
        raise SourceError(f"{cfg.municipalities.file.name}: municipios cuyo departamento ({parent.describe() if parent else '?'}) "
                          f"no existe en {cfg.departments.file.name}: {examples}; "
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
        for idx, cell in zip(group.index, shapely.get_parts(regions)):
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


def unknown_code_reasons(raw: pd.Series, codes: pd.Series, known: set[str], spec: CodeSpec, key: str,
                         base: str) -> pd.Series:
    """Why each unknown code did not match (``base``), with a hint when the code lost its leading zeros
    (a spreadsheet reads 0101 as the number 101) or is the right code written with another length."""
    lengths = pd.Series(sorted(known)).str.len().value_counts()
    width = int(lengths.index[0]) if len(lengths) else 0
    unknown = codes.notna() & ~codes.isin(known)
    out = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    for pos in np.flatnonzero(unknown.to_numpy()):
        code = str(codes.iloc[pos])
        hint = ""
        if code.isdigit() and len(code) < width and code.zfill(width) in known:
            spelled = f"{{ columna = \"{spec.column}\", rellenar = {width} }}"
            hint = (f"; ¿perdió el cero inicial? '{code}' sería '{code.zfill(width)}' (una hoja de cálculo lo leyó "
                    f"como número): declare {key} = {spelled}")
        elif len(code) > width and code[:width] in known:
            hint = (f"; sus primeros {width} caracteres ('{code[:width]}') son un código de la capa: declare "
                    f"{key} = {{ columna = \"{spec.column}\", fin = {width} }}")
        out.iloc[pos] = base + hint
    return out


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
        code = code or CodeSpec(cols["municipio_codigo"])  # no transform declared: the code as written
        muni = apply_code(raw, code)
        unknown = muni.notna() & ~muni.isin(geo.index.codes)
        transform = f"; transformación: {code.describe()}" if code != CodeSpec(code.column) else ""
        problems.append((raw.isna().to_numpy(), "municipio_vacio", cols["municipio_codigo"], raw,
                         "(se esperaba un código de municipio)"))
        base = f"no es un código de municipio de la capa ({code_pattern(geo.municipalities['code'])}{transform})"
        problems.append((unknown.to_numpy(), "municipio_desconocido", cols["municipio_codigo"], raw,
                         unknown_code_reasons(raw, muni, geo.index.codes, code, "municipio_codigo", base)))
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
