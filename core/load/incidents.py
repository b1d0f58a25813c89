"""Incident sources: column mapping, parsing, validation and quarantine.

A row is rejected (kept in ``rejected_record`` with its reason) when a field the count needs
is missing or wrong: date, municipality, crime type, or a repeated record id. A descriptive
field that is wrong (sex, age, hour, weapon, coordinates, aldea) does not lose the victim: it
becomes "sin dato" and the original value is kept in ``field_issue`` with the message.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from core import fmt
from core.load import catalog
from core.load.config import IncidentSource
from core.load.names import normalise
from core.load.readers import RawTable, column
from core.load.report import Report, RowRejects, quote, where
from core.load.territories import Geography, resolve_municipalities

DEFAULT_SEX = {"H": ("h", "hombre", "hombres", "masculino", "varon"),
               "M": ("mujer", "mujeres", "femenino", "f"),
               "ND": ("nd", "ne", "n d", "sin dato", "desconocido", "no consignado", "no indica", "ignorado")}
NO_WEAPON = "Sin dato"
_FORMAT_LABEL = (("%d", "DD"), ("%m", "MM"), ("%Y", "AAAA"), ("%y", "AA"), ("%H", "hh"), ("%M", "mm"), ("%S", "ss"),
                 ("%b", "mes"), ("%B", "mes"))


def format_label(fmt_: str) -> str:
    for code, label in _FORMAT_LABEL:
        fmt_ = fmt_.replace(code, label)
    return fmt_


@dataclass
class Context:
    geography: Geography
    crime_codes: dict[str, str]   # normalised spelling -> crime_type code (catalogue codes and names included)
    period: tuple[dt.date, dt.date]


def crime_lookup(extra: dict[str, tuple[str, ...]]) -> dict[str, str]:
    crimes = catalog.crime_types()
    lookup = {normalise(c): c for c in crimes["code"]}
    lookup.update({normalise(n): c for c, n in zip(crimes["code"], crimes["name"])})
    for target, spellings in extra.items():
        for s in spellings:
            lookup[normalise(s)] = target
    return lookup


def value_lookup(mapping: dict[str, tuple[str, ...]], defaults: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    lookup = {}
    for target, spellings in (defaults or {}).items():
        lookup.update({normalise(s): target for s in spellings})
    # Declared spellings win over the target names ("M" may mean Masculino: H = ["M"]).
    lookup.update({normalise(target): target for target in mapping})
    for target, spellings in mapping.items():
        lookup.update({normalise(s): target for s in spellings})
    return lookup


def _field_issue(report: Report, src: IncidentSource, table: RawTable, mask: np.ndarray, column_name: str,
                 values: pd.Series, rule: str, expected: str) -> None:
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return
    rows = table.rows[pos]
    vals = values.iloc[pos].tolist()
    messages = [f"{where(src.source, table.name, int(r), column_name)}: {quote(v)} {expected}"
                for r, v in zip(rows, vals)]
    report.field_issue(src.source, table.name, rows, column_name, vals, rule, messages)


def parse_dates(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    text = values.astype(object).where(values.notna(), None)
    for f in formats + ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=f, errors="coerce").astype("datetime64[us]")
    return out


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers written with a dot or a decimal comma; anything else -> NaN."""
    text = values.astype(object).where(values.notna(), None).astype("str").str.strip()
    comma = text.str.fullmatch(r"-?\d+,\d+")
    text = text.where(~comma, text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce")


def read_source(src: IncidentSource, ctx: Context, report: Report) -> list[pd.DataFrame]:
    """Read every file of a source; returns the accepted rows (incident columns, no ids yet)."""
    report.source(src.source, src.institution)
    frames = []
    seen_ids: dict[str, str] = {}
    for table in report.read_files(src.source, src.table):
        frames.append(_map_table(src, table, ctx, report, seen_ids))
    return frames


def _map_table(src: IncidentSource, table: RawTable, ctx: Context, report: Report, seen_ids: dict[str, str]) -> pd.DataFrame:
    cols = src.columns
    geo = ctx.geography
    n = len(table.frame)
    rows = RowRejects(src.source, table)

    def col(key: str, what: str) -> pd.Series:
        return column(table, cols[key], what)

    # Date (and hour when the format carries it).
    raw_date = col("fecha", "fecha del hecho")
    dates = parse_dates(raw_date, src.date_formats)
    expected = " o ".join(format_label(f) for f in src.date_formats)
    rows.reject(raw_date.isna().to_numpy(), "fecha_vacia", cols["fecha"], raw_date, f"(se esperaba una fecha {expected})")
    rows.reject((raw_date.notna() & dates.isna()).to_numpy(), "fecha_invalida", cols["fecha"], raw_date,
                f"no es una fecha válida (se esperaba {expected})")
    start, end = ctx.period
    outside = dates.notna() & ((dates.dt.date < start) | (dates.dt.date > end))
    rows.reject(outside.to_numpy(), "fecha_fuera_de_periodo", cols["fecha"], raw_date,
                f"está fuera del periodo declarado ({start.isoformat()} a {end.isoformat()})")

    # Municipality, by code or by name within the department.
    muni, problems = resolve_municipalities(table, cols, src.code, geo)
    for mask, rule, column_name, values, expected in problems:
        rows.reject(mask, rule, column_name, values, expected)

    # Crime type through the value map.
    raw_crime = col("delito", "tipo de delito")
    crime = raw_crime.map(lambda v: ctx.crime_codes.get(normalise(v)) if v is not None else None)
    rows.reject(raw_crime.isna().to_numpy(), "delito_vacio", cols["delito"], raw_crime, "(se esperaba el tipo de delito)")
    rows.reject((raw_crime.notna() & crime.isna()).to_numpy(), "delito_desconocido", cols["delito"], raw_crime,
                f"no está en el mapa de tipos de delito [incidentes.{src.source}.valores.delito]")

    # Record id: unique within the source (across its files).
    if "id" in cols:
        ids = col("id", "identificador del registro")
        firsts = [None] * n
        for pos, value in enumerate(ids.tolist()):
            if value is None:
                continue
            first = seen_ids.get(value)
            if first is not None:
                firsts[pos] = f"está repetido (ya aparece en {first})"
            elif pos not in rows.reasons:
                seen_ids[value] = f"{table.name} fila {fmt.integer(int(table.rows[pos]))}"
        firsts = pd.Series(firsts, index=table.frame.index, dtype=object)
        rows.reject(firsts.notna().to_numpy(), "id_duplicado", cols["id"], ids, firsts)
    else:
        ids = pd.Series([None] * n, index=table.frame.index, dtype=object)

    keep = ~rows.mask
    # Descriptive fields: wrong values become "sin dato", recorded in field_issue (only for kept rows).
    hours = pd.Series(pd.NA, index=table.frame.index, dtype="Int8")
    if "hora" in cols:
        raw_hour = col("hora", "hora")
        m = raw_hour.astype(object).where(raw_hour.notna(), None).astype("str").str.extract(
            r"^\s*(\d{1,2})(?:[:h.]\d{2})?(?::\d{2})?\s*$")[0]
        h = pd.to_numeric(m, errors="coerce")
        bad = raw_hour.notna() & (h.isna() | (h > 23))
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["hora"], raw_hour, "hora_invalida",
                     "no es una hora válida (se esperaba 0 a 23 o hh:mm): se registra sin hora")
        hours = h.where(~bad).astype("Int8")
    elif any("%H" in f for f in src.date_formats):
        hours = dates.dt.hour.astype("Int8")

    sex = pd.Series("ND", index=table.frame.index, dtype=object)
    if "sexo" in cols:
        raw_sex = col("sexo", "sexo de la víctima")
        lookup = value_lookup(src.values.get("sexo", {}), DEFAULT_SEX)
        mapped = raw_sex.map(lambda v: lookup.get(normalise(v)) if v is not None else "ND")
        bad = mapped.isna()
        spellings = sorted({s for t in ("H", "M") for s in src.values.get("sexo", {}).get(t, DEFAULT_SEX[t])})
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["sexo"], raw_sex, "sexo_desconocido",
                     f"no es un sexo reconocido (se esperaba una de {spellings[:8]}, o declárelo en "
                     f"[incidentes.{src.source}.valores.sexo]): se registra sin dato")
        sex = mapped.fillna("ND")
        invalid_target = set(sex.unique()) - {"H", "M", "ND"}
        if invalid_target:
            report.errors.append(f"[incidentes.{src.source}.valores.sexo] destinos no válidos {sorted(invalid_target)}; use H, M o ND")

    ages = pd.Series(pd.NA, index=table.frame.index, dtype="Int16")
    if "edad" in cols:
        raw_age = col("edad", "edad de la víctima")
        num = parse_numbers(raw_age.astype(object).where(raw_age.notna(), None).str.replace(r"\s*años?$", "", regex=True))
        bad = raw_age.notna() & (num.isna() | (num < 0) | (num > src.max_age) | (num % 1 != 0))
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["edad"], raw_age, "edad_fuera_de_rango",
                     f"no es una edad válida (se esperaba un entero de 0 a {src.max_age} años): se registra sin dato")
        ages = num.where(~bad).astype("Int16")

    weapon = pd.Series(NO_WEAPON, index=table.frame.index, dtype=object)
    if "arma" in cols:
        raw_weapon = col("arma", "arma o medio")
        mapping = src.values.get("arma")
        if mapping:
            lookup = value_lookup(mapping)
            mapped = raw_weapon.map(lambda v: lookup.get(normalise(v)) if v is not None else NO_WEAPON)
            _field_issue(report, src, table, mapped.isna().to_numpy() & keep, cols["arma"], raw_weapon, "arma_desconocida",
                         f"no está en el mapa de armas [incidentes.{src.source}.valores.arma]: se registra '{NO_WEAPON}'")
            weapon = mapped.fillna(NO_WEAPON)
        else:
            weapon = raw_weapon.fillna(NO_WEAPON).map(lambda s: " ".join(str(s).split()).capitalize())

    lon = pd.Series(np.nan, index=table.frame.index)
    lat = pd.Series(np.nan, index=table.frame.index)
    if "longitud" in cols and "latitud" in cols:
        raw_lon, raw_lat = col("longitud", "longitud"), col("latitud", "latitud")
        x, y = parse_numbers(raw_lon), parse_numbers(raw_lat)
        given = raw_lon.notna() | raw_lat.notna()
        unreadable = given & (x.isna() | y.isna())
        _field_issue(report, src, table, unreadable.to_numpy() & keep, cols["longitud"],
                     raw_lon.fillna("") + " " + raw_lat.fillna(""), "coordenadas_invalidas",
                     "no son coordenadas legibles (se esperaban longitud y latitud en grados decimales): se registra sin coordenadas")
        minx, miny, maxx, maxy = geo.bounds()
        out_country = x.notna() & y.notna() & ~(x.between(minx, maxx) & y.between(miny, maxy))
        _field_issue(report, src, table, out_country.to_numpy() & keep, cols["longitud"],
                     x.astype(str) + ", " + y.astype(str), "coordenadas_fuera_del_pais",
                     f"está fuera del país (longitud {minx:.2f} a {maxx:.2f}, latitud {miny:.2f} a {maxy:.2f}; "
                     "¿latitud y longitud invertidas?): se registra sin coordenadas")
        ok = ~(unreadable | out_country)
        lon, lat = x.where(ok), y.where(ok)

    aldea = pd.Series(None, index=table.frame.index, dtype=object)
    if "aldea_codigo" in cols:
        raw_aldea = col("aldea_codigo", "código de aldea")
        parent = raw_aldea.map(geo.aldea_muni)
        bad = raw_aldea.notna() & (parent.isna() | (parent != muni))
        _field_issue(report, src, table, bad.to_numpy() & keep, cols["aldea_codigo"], raw_aldea, "aldea_desconocida",
                     "no es una aldea del municipio del registro: se registra sin aldea")
        aldea = raw_aldea.where(~bad, None)

    accepted = pd.DataFrame({
        "source": src.source,
        "source_record_id": ids,
        "occurred_on": dates.dt.date,
        "occurred_hour": hours,
        "muni_code": muni,
        "aldea_code": aldea,
        "lon": lon, "lat": lat,
        "crime_type": crime,
        "victim_sex": sex,
        "victim_age": ages,
        "weapon": weapon,
        "file": table.name,
        "row_number": table.rows,
    })[keep]
    rows.report_to(report)
    report.stats[src.source].rows_loaded += int(keep.sum())
    return accepted.reset_index(drop=True)


def finish(frames: list[pd.DataFrame], geo: Geography, report: Report) -> pd.DataFrame:
    """All accepted rows -> incident table rows: ids, department, age group, aldeas located by coordinates."""
    if not frames:
        return pd.DataFrame()
    data = pd.concat(frames, ignore_index=True)
    data["dept_code"] = data["muni_code"].map(geo.muni_dept)
    data["age_group"] = catalog.age_group_of(data["victim_age"].astype("float64").to_numpy())
    data["incident_id"] = np.arange(1, len(data) + 1, dtype=np.int64)
    data["counted"] = True
    _locate(data, geo, report)
    return data


def _locate(data: pd.DataFrame, geo: Geography, report: Report) -> None:
    """Check coordinates against the municipality; fill missing aldeas from the coordinates."""
    has_xy = data["lon"].notna().to_numpy()
    if not has_xy.any():
        return
    idx = np.flatnonzero(has_xy)
    points = shapely.points(data["lon"].to_numpy()[idx], data["lat"].to_numpy()[idx])
    munis = np.asarray(geo.municipalities.geometry.values)
    tree = shapely.STRtree(munis)
    pt_i, poly_i = tree.query(points, predicate="within")
    found = np.full(len(idx), None, dtype=object)
    found[pt_i] = geo.municipalities["code"].to_numpy()[poly_i]
    declared = data["muni_code"].to_numpy()[idx]
    wrong = np.flatnonzero(found != declared)
    sources = data["source"].to_numpy()[idx]
    for source in pd.unique(sources[wrong]):
        mine = wrong[sources[wrong] == source]
        r = data.iloc[idx[mine[0]]]
        report.issue(source, "coordenadas_fuera_del_municipio", "aviso", len(mine),
                     f"{r['file']} fila {fmt.integer(int(r['row_number']))}: ({r['lon']}, {r['lat']}) está en "
                     f"{found[mine[0]] or 'ningún municipio'}, no en {r['muni_code']}")
    if geo.aldeas is not None:
        missing = data["aldea_code"].isna().to_numpy()[idx]
        if missing.any():
            tree = shapely.STRtree(np.asarray(geo.aldeas.geometry.values))
            sub = np.flatnonzero(missing)
            pt_i, poly_i = tree.query(points[sub], predicate="within")
            codes = geo.aldeas["code"].to_numpy()[poly_i]
            parents = geo.aldeas["parent_code"].to_numpy()[poly_i]
            rows = idx[sub[pt_i]]
            same = parents == data["muni_code"].to_numpy()[rows]
            col = data.columns.get_loc("aldea_code")
            data.iloc[rows[same], col] = codes[same]
            if same.any():
                report.notes.append(f"{fmt.integer(int(same.sum()))} registros sin código de aldea se ubicaron en su aldea por sus coordenadas")

