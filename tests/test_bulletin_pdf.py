"""The bulletin's map, its PDF (read back with pypdf) and the command that writes the bulletins of
many municipalities at once."""
from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from pypdf import PdfReader

from core import bulletin, bulletin_batch, bulletin_pdf, classify, fmt, views, warehouse
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


def test_monthly_bulletin_of_a_municipality_counts_as_the_cube(demo):
    cube = warehouse.query("SELECT month, sum(n)::BIGINT AS n FROM incident_cube WHERE counted AND muni_code = '0101' "
                           "GROUP BY month").assign(month=lambda d: pd.to_datetime(d["month"])).set_index("month")["n"]
    doc = bulletin.monthly_content(Filters(), 2022, 6, "0101")
    assert doc.title == "Boletín de seguridad ciudadana · Guatemala (depto. de Guatemala) · junio de 2022"
    figures = dict(next(b for b in doc.blocks if isinstance(b, bulletin.KeyFigures)).items)
    assert figures["Víctimas en junio de 2022"] == fmt.integer(cube[pd.Timestamp(2022, 6, 1)])
    assert figures["Junio de 2021"] == fmt.integer(cube[pd.Timestamp(2021, 6, 1)])
    assert figures["ene–jun 2022"] == fmt.integer(cube[(cube.index.year == 2022) & (cube.index.month <= 6)].sum())
    assert re.fullmatch(r"[+-]\d+\.\d % \((puede ser azar|significativo)\)", figures["Cambio frente a junio de 2021"])
    table = next(b for b in doc.blocks if isinstance(b, bulletin.Table)).frame
    assert list(table["Mes"]) == ["jun 2021", "jul 2021", "ago 2021", "sep 2021", "oct 2021", "nov 2021", "dic 2021",
                                  "ene 2022", "feb 2022", "mar 2022", "abr 2022", "may 2022", "jun 2022"]
    months = pd.date_range("2021-06-01", "2022-06-01", freq="MS")
    assert list(table["Víctimas"]) == [fmt.integer(cube[m]) for m in months]
    assert list(table["Mismo mes del año anterior"]) == [fmt.integer(cube[m - pd.DateOffset(years=1)]) for m in months]
    headings = [b.text for b in doc.blocks if isinstance(b, bulletin.Heading)]
    assert headings == ["Cifras del mes", "Los últimos 13 meses", "Fuentes y definiciones"]  # June is not the last month
    last = bulletin.monthly_content(Filters(), 2022, 12, "0101")
    assert any(isinstance(b, bulletin.Heading) and b.text == "Alertas tempranas (12/2022)" for b in last.blocks)
    _, text = pdf_text(bulletin_pdf.to_pdf(doc))
    flat = " ".join(text.split())
    assert "junio de 2022" in flat and "Los últimos 13 meses" in flat and "None" not in flat
    assert bulletin.file_stem(Filters(), "0101", (2022, 6)) == "boletin_0101_2022-06"
    with pytest.raises(bulletin.BulletinError, match="no hay datos de enero de 2023: los datos van de enero de 2013 a "
                                                     "diciembre de 2022"):
        bulletin.monthly_content(Filters(), 2023, 1)


def test_public_monthly_bulletin_reserves_small_counts_and_their_change(fixture, public_mode):
    f = Filters(crime_types=("violencia_mujer",))
    doc = bulletin.monthly_content(f, 2021, 12, "0101")
    figures = dict(next(b for b in doc.blocks if isinstance(b, bulletin.KeyFigures)).items)
    raw = warehouse.query("SELECT month, sum(n)::BIGINT AS n FROM incident_cube WHERE counted AND muni_code = '0101' "
                          "AND crime_type = 'violencia_mujer' GROUP BY month")
    assert 0 < raw["n"].sum() < 5  # every count of Alfa in these months is 1 to 4: reserved, no change shown
    assert figures.get("Cambio frente a diciembre de 2020", "—") == "—"
    assert all(v in ("<5", "0", "—") for k, v in figures.items() if not k.startswith("Cambio")), figures
    table = next(b for b in doc.blocks if isinstance(b, bulletin.Table)).frame
    assert set(table["Víctimas"]) <= {"<5", "0"}


def test_batch_writes_the_monthly_bulletins(demo, tmp_path, capsys):
    out = tmp_path / "mes"
    args = ["--municipios", "0101", "--carpeta", str(out), "--almacen", str(demo)]
    assert bulletin_batch.main(["--mes", "2022-06", *args]) == 0
    assert "[2/2] 0101 Guatemala" in capsys.readouterr().out
    _, text = pdf_text((out / "boletin_0101_2022-06.pdf").read_bytes())
    assert "junio de 2022" in text
    assert (out / "boletin_gt_2022-06.pdf").exists()
    for bad, message in (["--mes", "2022-13"], "no es un mes (se esperaba AAAA-MM"), (
            ["--mes", "2023-01"], "no hay datos de enero de 2023"), (
            ["--mes", "2022-06", "--desde", "2021"], "--mes y --desde/--hasta no van juntos"):
        assert bulletin_batch.main([*bad, *args]) == 2
        assert message in capsys.readouterr().err
