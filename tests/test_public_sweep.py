"""Public mode, end to end: every page and every download, with filters that make every count
sensitive (only sensitive crime types; only minors), shows no victim count from 1 to 4 and no
record-level data. The same sweep in internal mode does find such counts (the check can fail).

What is inspected: metrics about victims, every table on screen, the data behind every chart,
the map layers (properties and tooltips), and every downloaded file (CSV, Excel, Parquet,
GeoJSON, the HTML bulletin). A column is a victim count when its name says so (see
``is_count_column``); rates, populations, ranks and percentages are not counts.
"""
from __future__ import annotations

import io
import json
import os
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import deployment
from core.reports import ReportSpec
from tests import fixture_warehouse
from tests.apptest import run_app

SENSITIVE = {"tipos": "violacion,agresion_sexual,violencia_mujer,violencia_intrafamiliar,femicidio"}
MINORS = {"edad": "0-11,12-17"}
TINY = {"tipos": "violacion", "desde": "2021", "hasta": "2021"}   # 6, 2 and 1 victims in the three municipalities
# (page, URL parameters): every page, with each filter that makes every count sensitive
CASES = [
    *[(page, params) for params in (SENSITIVE, MINORS) for page in (
        None, "mapa", "municipio", "escuelas", "informes", "alertas", "datos_abiertos", "boletin", "calidad",
        "metodologia")],
    *[(page, TINY) for page in (None, "municipio", "informes", "alertas", "datos_abiertos", "boletin")],
    ("mapa", TINY | {"medida": "n"}), ("mapa", TINY | {"medida": "eb", "nivel": "departamento"}),
    ("mapa", TINY | {"medida": "tasa", "muni": "0201"}), ("municipio", TINY | {"muni": "0201", "serie": "anual"}),
    ("mapa", SENSITIVE | {"medida": "n"}), ("mapa", SENSITIVE | {"nivel": "departamento", "medida": "n"}),
    ("mapa", SENSITIVE | {"vista": "prioridad"}), ("mapa", MINORS | {"medida": "eb", "muni": "0201"}),
    ("municipio", SENSITIVE | {"muni": "0201"}), ("municipio", SENSITIVE | {"muni": "0102", "serie": "anual"}),
    ("municipio", MINORS | {"muni": "0201", "serie": "anual", "medida_aldea": "tasa"}),
    ("escuelas", {"muni": "0101"}),
    # the shared filters of a report come from the URL's filter parameters, like every page
    ("informes", SENSITIVE | {"informe": ReportSpec(measure="n", dims=("municipality", "crime_type"),
                                                    facet="year").to_param()}),
    ("informes", {"informe": ReportSpec(measure="rate", dims=("age_group", "sex"), facet="municipality").to_param()}),
    ("informes", {"desde": "2020", "hasta": "2020", "grupos": "Violencia sexual",
                  "informe": ReportSpec(measure="change", dims=("municipality", "crime_group")).to_param()}),
    ("alertas", SENSITIVE | {"umbral": "0.05", "minimo": "1"}), ("alertas", MINORS | {"umbral": "0.05", "minimo": "1"}),
    ("boletin", SENSITIVE | {"muni": "0201"}), ("boletin", MINORS | {"muni": "0102", "desde": "2020", "hasta": "2021"}),
    ("boletin", SENSITIVE | {"muni": "0201", "mes": "2021-12"}), ("boletin", TINY | {"mes": "2021-06"}),
    ("calidad", SENSITIVE | {"desde": "2021", "hasta": "2021"}),
]

# Internal mode must show small counts somewhere in the same kind of views.
INTERNAL_CASES = [(None, SENSITIVE), ("mapa", TINY | {"medida": "n"}), (None, TINY), ("municipio", SENSITIVE | {"muni": "0201"}),
                  ("escuelas", {"muni": "0101"}), ("datos_abiertos", MINORS), ("boletin", SENSITIVE | {"muni": "0201"})]

NOT_COUNTS = ("tasa", "rate", "%", "personas", "población", "poblacion", "puesto", "percentil", "puntos", "peso",
              "promedio", "diferencia", "divergencia", "probabilidad", "puntaje", "código", "codigo", "reservada")
COUNT_NAMES = {"n", "total", "observado", "observed", "esperado", "expected", "victims", "published", "publicada",
               "registros", "records", "counted", "cuentan en la cifra publicada", "signed", "inacif", "pnc",
               "policía", "forense", "previous"}
RECORD_COLUMNS = {"incident_id", "source_record_id", "occurred_on", "victim_age"}


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory):
    return fixture_warehouse.build_random(tmp_path_factory.mktemp("sweep") / "w.duckdb")


@pytest.fixture(scope="module")
def group_names(warehouse_path):
    import duckdb

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return {g.lower() for (g,) in con.execute("SELECT DISTINCT crime_group FROM crime_type").fetchall()}
    finally:
        con.close()


def is_count_column(name, groups: set[str]) -> bool:
    text = str(name).strip().lower()
    if any(word in text for word in NOT_COUNTS):
        return False
    return (text in COUNT_NAMES or text in groups or "víctimas" in text or "victimas" in text
            or "a menos de" in text or re.fullmatch(r"(19|20)\d\d", text) is not None)


def small_values(values) -> list:
    """Cells that read as a number strictly between 0 and 5."""
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            continue
        if isinstance(v, str):
            v = v.replace(",", "").strip()
        number = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
        if pd.notna(number) and 0 < float(number) < 5:
            out.append(v)
    return out


class Sweep:
    """Collects every victim count from 1 to 4 found in what a page shows and lets download."""

    def __init__(self, groups: set[str]):
        self.groups = groups
        self.found: list[str] = []
        self.records: list[str] = []
        self.inspected = 0

    def table(self, df: pd.DataFrame, where: str) -> None:
        self.records += [f"{where}: {c}" for c in df.columns if str(c).lower() in RECORD_COLUMNS]
        for column in df.columns:
            if is_count_column(column, self.groups):
                self.inspected += 1
                bad = small_values(df[column].tolist())
                if bad:
                    self.found.append(f"{where} · {column}: {bad[:5]}")

    def text(self, text: str, where: str) -> None:
        for pattern in (r"Víctimas:?\s*([\d,.]+)", r"([\d,]+) en esta celda", r"([\d,]+) víctimas"):
            bad = small_values(re.findall(pattern, text))
            if bad:
                self.found.append(f"{where}: «{text[:80]}»")

    def chart(self, proto, where: str) -> None:
        spec = json.loads(proto.spec)
        count_fields = set()

        def visit(node):
            if isinstance(node, dict):
                enc = node.get("encoding", {})
                for channel in enc.values():
                    for ch in (channel if isinstance(channel, list) else [channel]):
                        if isinstance(ch, dict) and "field" in ch and (
                                "víctimas" in str(ch.get("title", "")).lower()
                                or is_count_column(ch["field"], self.groups)):
                            count_fields.add(ch["field"])
                for value in node.values():
                    visit(value)
            elif isinstance(node, list):
                for value in node:
                    visit(value)

        visit(spec)
        for ds in list(proto.datasets) + ([proto] if proto.data.data else []):
            data = ds.data.data
            if not data:
                continue
            frame = pa.ipc.open_stream(data).read_pandas()
            self.table(frame[[c for c in frame.columns if c in count_fields or is_count_column(c, self.groups)]],
                       f"{where} gráfico")

    def deck(self, spec: dict, where: str) -> None:
        for layer in spec.get("layers", []):
            data = layer.get("data")
            rows = data.get("features", []) if isinstance(data, dict) else (data or [])
            props = [r.get("properties", r) for r in rows if isinstance(r, dict)]
            if props:
                frame = pd.DataFrame(props)
                self.table(frame.drop(columns=[c for c in ("value_label",) if c in frame]), f"{where} mapa {layer['id']}")
                for label in frame.get("value_label", pd.Series(dtype=str)).dropna():
                    self.text(str(label), f"{where} mapa {layer['id']}")

    def download(self, name: str, data: bytes, where: str) -> None:
        where = f"{where} descarga {name}"
        if name.endswith(".csv"):
            self.table(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False), where)
        elif name.endswith(".xlsx"):
            for sheet, frame in pd.read_excel(io.BytesIO(data), sheet_name=None).items():
                if sheet != "Notas":
                    self.table(frame, where)
        elif name.endswith(".parquet"):
            self.table(pd.read_parquet(io.BytesIO(data)), where)
        elif name.endswith(".geojson"):
            features = json.loads(data)["features"]
            self.table(pd.DataFrame([f["properties"] for f in features]), where)
        elif name.endswith(".html"):
            self.html(data.decode("utf-8"), where)

    def html(self, page: str, where: str) -> None:
        for k, v in re.findall(r"<div class='kpi'>(.*?)<b>(.*?)</b></div>", page):
            if "víctimas" in k.lower() and small_values([v]):
                self.found.append(f"{where} · {k}: {v}")
        for table in re.findall(r"<table>(.*?)</table>", page, flags=re.S):
            head = re.findall(r"<th[^>]*>(.*?)</th>", table)
            rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", table)[1:]]
            self.table(pd.DataFrame(rows, columns=head), where)


@pytest.fixture()
def downloads(monkeypatch):
    """Every download offered while a page runs: (file name, bytes)."""
    captured: list[tuple[str, bytes]] = []
    original = DeltaGenerator.download_button

    def capture(self, label, data, file_name=None, *args, **kwargs):
        content = data() if callable(data) and not str(file_name).endswith((".png", ".svg")) else data
        if isinstance(content, str):
            content = content.encode("utf-8")
        if isinstance(content, bytes):
            captured.append((str(file_name), content))
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", capture)
    monkeypatch.setattr(st, "download_button", lambda *a, **k: capture(st._main, *a, **k))
    return captured


def inspect(at, s: Sweep, where: str) -> None:
    for m in at.metric:
        if "víctimas" in m.label.lower() and small_values([m.value]):
            s.found.append(f"{where} · métrica {m.label}: {m.value}")
    for i, df in enumerate(at.dataframe):
        s.table(df.value, f"{where} tabla {i}")
    for i, chart in enumerate(at.get("vega_lite_chart")):
        s.chart(chart.proto, f"{where} {i}")
    for deck in at.get("deck_gl_json_chart"):
        s.deck(json.loads(deck.proto.json), where)


def sweep_page(page: str | None, params: dict, groups: set[str], captured: list) -> Sweep:
    captured.clear()
    at = run_app(params, page)
    where = f"{page or 'resumen'} {params}"
    assert not at.exception, f"{where}: {[e.value for e in at.exception]}"
    s = Sweep(groups)
    inspect(at, s, where)
    if page is None:   # the monthly series too
        at.radio(key="resumen_serie").set_value("Mensual").run()
        inspect(at, s, where + " mensual")
    for name, data in captured:
        s.download(name, data, where)
    return s


@pytest.mark.parametrize("page,params", CASES, ids=[f"{p or 'resumen'}-{'-'.join(f'{k}={v[:12]}' for k, v in q.items())}"
                                                    for p, q in CASES])
def test_public_pages_and_downloads_show_no_count_from_1_to_4(page, params, warehouse_path, group_names, downloads,
                                                             use_warehouse, public_mode):
    use_warehouse(warehouse_path)
    s = sweep_page(page, params, group_names, downloads)
    assert not s.found, "\n".join(s.found)
    assert not s.records, s.records
    if page != "metodologia" and params.get("vista") != "prioridad":
        assert s.inspected > 0   # the page showed counts and they were looked at


def test_internal_mode_does_show_them(warehouse_path, group_names, downloads, use_warehouse):
    use_warehouse(warehouse_path)
    assert os.environ[deployment.ENV_VAR] == "interno"
    found = {f"{page}": sweep_page(page, params, group_names, downloads).found for page, params in INTERNAL_CASES}
    assert all(found.values()), {p: len(v) for p, v in found.items()}
