"""The bulletin's map, its PDF (read back with pypdf) and the command that writes the bulletins of
many municipalities at once."""
from __future__ import annotations

import csv
import io
import re

import pytest
from pypdf import PdfReader

from core import bulletin, bulletin_batch, bulletin_pdf, classify, views
from core.filters import Filters
from tests import fixture_warehouse


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r"<div class='kpi'>(.*?)<b>(.*?)</b></div>", html))


def map_block(doc: bulletin.Bulletin) -> bulletin.Chart:
    at = next(i for i, b in enumerate(doc.blocks) if isinstance(b, bulletin.Heading) and b.text == "Mapa")
    block = doc.blocks[at + 1]
    assert isinstance(block, bulletin.Chart)
    return block


def layer_values(block: bulletin.Chart, i: int) -> list[dict]:
    """The features drawn by layer ``i`` of the map (Altair may move a layer's data to the top)."""
    spec = block.chart.to_dict()
    data = spec["layer"][i].get("data") or spec["data"]
    return data["values"] if "values" in data else spec["datasets"][data["name"]]


def test_pdf_says_what_the_html_says(fixture):
    f = Filters()
    doc = bulletin.content(f)
    html = bulletin.to_html(doc)
    reader, text = pdf_text(bulletin_pdf.to_pdf(doc))
    flat = " ".join(text.split())
    assert reader.metadata.title == "Boletín de seguridad ciudadana · Fixturia · 2020–2021"
    for heading in ("Boletín de seguridad ciudadana", "Cifras clave", "Mapa", "Evolución", "Municipios con la tasa más alta",
                    "Mayores aumentos 2021 frente a 2020", "Alertas tempranas (12/2021)", "Fuentes y definiciones",
                    "Protección de las víctimas", "Unidad de conteo"):
        assert heading in flat, heading
    for label, value in kpis(html).items():  # every key figure, with its label
        assert value in flat and " ".join(label.split()[:2]) in flat, (label, value)
    assert "11" in flat and "3.4" in flat and "Gamma" in flat and "Forense" in flat
    assert "None" not in flat and "nan" not in flat.lower().split()
    assert "Página 1" in flat
    # the map and the yearly chart are images on the pages
    images = sum(len(page.images) for page in reader.pages)
    assert images == 2


def test_public_pdf_shows_the_protected_figures(fixture, public_mode):
    f = Filters(crime_types=("violencia_mujer",))
    doc = bulletin.content(f, "0101")
    _, text = pdf_text(bulletin_pdf.to_pdf(doc))
    flat = " ".join(text.split())
    # Alfa's 2 victims of violence against women: reserved, and nothing derived from them shown
    assert kpis(bulletin.to_html(doc))["Víctimas registradas"] == "&lt;5"
    assert "Víctimas registradas <5" in flat and "Puesto nacional por tasa —" in flat
    assert not re.search(r"\b2021 2 \b|\b2 100\.0\b", flat)


def test_national_map_colours_every_municipality_by_its_class(demo):
    f = Filters(2022, 2022)
    doc = bulletin.content(f)
    features = layer_values(map_block(doc), 0)
    table = views.municipalities(f.resolved(bulletin.filter_options()))
    assert len(features) == len(table) == 340
    classes = {feat["properties"]["code"]: feat["properties"]["clase"] for feat in features}
    assert set(classes.values()) <= {"Baja", "Media", "Alta"}
    top = table.sort_values("rate").iloc[-1]["code"]
    assert classes[top] == "Alta"
    # exterior rings clockwise for the projection: a ring in GeoJSON's order would fill the page
    import shapely
    ring = shapely.from_geojson(str(features[0]["geometry"]).replace("'", '"'))
    first = ring.geoms[0] if hasattr(ring, "geoms") else ring
    assert not first.exterior.is_ccw
    svg = bulletin._svg(map_block(doc).chart)
    assert svg.count("<path") >= 340


def test_municipal_map_shows_its_department_and_outlines_it(demo):
    f = Filters(2022, 2022)
    block = map_block(bulletin.content(f, "0108"))
    shown = {feat["properties"]["code"] for feat in layer_values(block, 0)}
    assert shown == {c for c in views.municipalities(f.resolved(bulletin.filter_options()))["code"] if c.startswith("01")}
    assert [feat["properties"]["code"] for feat in layer_values(block, 1)] == ["0108"]
    assert block.chart.to_dict()["layer"][1]["mark"]["filled"] is False


def test_reserved_municipalities_are_drawn_as_reserved(demo, public_mode):
    f = Filters(2022, 2022, crime_types=("femicidio",))
    table = views.municipalities(f.resolved(bulletin.filter_options()))
    reserved = set(table.loc[views.is_suppressed(table["n"]), "code"])
    assert reserved
    doc = bulletin.content(f)
    classes = {feat["properties"]["code"]: feat["properties"]["clase"] for feat in layer_values(map_block(doc), 0)}
    assert {c for c, k in classes.items() if k == classify.RESERVED} == reserved
    note = doc.blocks[doc.blocks.index(map_block(doc)) + 1]
    assert isinstance(note, bulletin.Text) and "cifra reservada en el modo público" in note.text


def test_batch_writes_every_bulletin_asked_for(demo, tmp_path, capsys):
    out = tmp_path / "boletines"
    code = bulletin_batch.main(["--desde", "2022", "--hasta", "2022", "--municipios", "0101,1301", "--formato", "ambos",
                                "--carpeta", str(out), "--almacen", str(demo)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "[1/3] país Guatemala" in printed and "[3/3] 1301 Huehuetenango" in printed and "3 boletines" in printed
    with open(out / "indice.csv", encoding="utf-8") as fh:
        index = list(csv.DictReader(fh))
    assert [r["codigo"] for r in index] == ["", "0101", "1301"]
    for row in index:
        for name in row["archivos"].split():
            assert (out / name).stat().st_size > 1000
    _, text = pdf_text((out / "boletin_1301_2022-2022.pdf").read_bytes())
    assert "Huehuetenango (depto. de Huehuetenango)" in text and "2022" in text
    assert "<svg" in (out / "boletin_0101_2022-2022.html").read_text(encoding="utf-8")
    assert not list(out.glob("*.tmp"))


def test_batch_refuses_unknown_municipalities_and_periods(demo, tmp_path, capsys):
    args = ["--carpeta", str(tmp_path / "b"), "--almacen", str(demo)]
    assert bulletin_batch.main(["--municipios", "0101,9999", *args]) == 2
    assert "municipios que no están en el almacén: 9999" in capsys.readouterr().err
    assert bulletin_batch.main(["--desde", "2001", "--hasta", "2002", *args]) == 2
    assert "el periodo 2001–2002 no está dentro de los datos (2013–2022)" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
