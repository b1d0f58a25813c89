"""The open-data fine file prepared at publish time: the same bytes a click would make, found only
for the build it was made for, and used by the page."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from core import export, opendata, warehouse
from core.filters import Filters, filter_options
from core.load import cli, downloads
from core.load.demo import build_demo
from tests.apptest import run_app


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    path = tmp_path_factory.mktemp("prepared") / "w.duckdb"
    build_demo(path, seed=3, scale=0.05, progress=None)
    written = downloads.prepare(path)
    return path, written


@pytest.mark.parametrize("mode", ["publico", "interno"])
def test_prepared_file_is_the_file_a_click_makes(prepared, use_warehouse, monkeypatch, mode):
    path, written = prepared
    monkeypatch.setenv("ATALAYA_MODO", mode)
    use_warehouse(path)
    assert len(written) == 4 and all(p.is_file() for p in written)
    f = Filters()
    csv_path = opendata.prepared_file(f, "csv")
    assert csv_path is not None and csv_path in written and f"/{mode}/" in str(csv_path)
    made = export.csv_bytes(opendata.municipality_month(f))
    assert opendata.municipality_month_bytes(f, "csv") == made == csv_path.read_bytes()
    table = pd.read_parquet(io.BytesIO(opendata.municipality_month_bytes(f, "parquet")))
    assert len(table) == len(opendata.municipality_month(f)) == opendata.municipality_month_rows(f)
    if mode == "publico":
        assert "victimas_reservada" in table.columns
    # the whole period written out is the default too; any narrower filter is made on the click
    opts = filter_options()
    assert opendata.prepared_file(Filters(year_from=opts.min_year, year_to=opts.max_year), "csv") == csv_path
    narrower = Filters(year_from=opts.max_year, year_to=opts.max_year)
    assert opendata.prepared_file(narrower, "csv") is None
    assert opendata.municipality_month_bytes(narrower, "csv") == export.csv_bytes(opendata.municipality_month(narrower))


def test_files_of_another_build_are_never_served(tmp_path, use_warehouse):
    path = tmp_path / "w.duckdb"
    build_demo(path, seed=3, scale=0.02, progress=None)
    first = downloads.prepare(path)
    use_warehouse(path)
    first_id = warehouse.meta()["build_id"]
    assert opendata.prepared_file(Filters(), "csv") is not None
    build_demo(path, seed=4, scale=0.02, progress=None)  # republished, not prepared
    use_warehouse(path)
    assert warehouse.meta()["build_id"] != first_id
    assert opendata.prepared_file(Filters(), "csv") is None
    second = downloads.prepare(path)
    assert opendata.prepared_file(Filters(), "csv") in second
    assert not any(p.exists() for p in first)  # the older build's folder is removed
    assert [p.name for p in opendata.prepared_root(path).iterdir()] == [warehouse.meta()["build_id"]]


def test_the_loader_prepares_them_and_the_page_says_so(tmp_path, use_warehouse, capsys, public_mode):
    path = tmp_path / "w.duckdb"
    assert cli.main(["demo", "--seed", "5", "--scale", "0.02", "--out", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Datos abiertos preparados (publico, victimas)" in out and "Datos abiertos preparados (interno, victimas)" in out
    use_warehouse(path)
    at = run_app(page="datos_abiertos")
    assert not at.exception
    assert any("Archivo preparado al publicar el almacén." in c.value for c in at.caption)
    narrow = run_app({"desde": str(filter_options().max_year)}, page="datos_abiertos")
    assert any("El archivo se genera al descargarlo" in c.value for c in narrow.caption)
