"""The open-data licence (declared in the load configuration), the DCAT catalogue and the command
that writes the open data to a folder for a static site."""
from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from core import opendata, opendata_catalog, opendata_site, warehouse
from core.filters import Filters
from core.load.config import ConfigError, load_config
from tests import fixture_warehouse
from tests.apptest import run_app
from tests.conftest import ROOT

EXAMPLE = ROOT / "data" / "examples" / "honduras.toml"


@pytest.fixture()
def example_copy(tmp_path):
    """The example configuration with another [datos_abiertos] section, its paths made absolute."""
    def make(section: str):
        text = EXAMPLE.read_text(encoding="utf-8")
        text = re.sub(r"\[datos_abiertos\]\n(.*\n)*?\n", lambda _m: section + "\n\n", text, count=1)
        text = text.replace('"../../../shared/', f'"{(EXAMPLE.parent / "../../../shared").resolve()}/')
        text = text.replace('archivo = "incidentes/', f'archivo = "{EXAMPLE.parent / "incidentes"}/')
        text = text.replace('archivo = "encuestas/', f'archivo = "{EXAMPLE.parent / "encuestas"}/')
        text = text.replace('planes = ["plan_honduras.toml"]', f'planes = ["{EXAMPLE.parent / "plan_honduras.toml"}"]')
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path
    return make


def test_licence_declared_by_identifier_or_by_name(example_copy):
    cfg = load_config(example_copy('[datos_abiertos]\nlicencia = "cc-by-4.0"\npublicador = "Observatorio X"\n'
                                   'contacto = "datos@ejemplo.org"'))
    assert cfg.open_data == {"license_id": "CC-BY-4.0", "license_name": "Creative Commons Atribución 4.0 Internacional",
                             "license_url": "https://creativecommons.org/licenses/by/4.0/deed.es",
                             "publisher": "Observatorio X", "contact": "datos@ejemplo.org"}
    cfg = load_config(example_copy('[datos_abiertos]\nlicencia = { nombre = "Licencia de Datos Abiertos de Honduras", '
                                   'url = "https://datos.gob.hn/licencia" }'))
    assert cfg.open_data == {"license_name": "Licencia de Datos Abiertos de Honduras",
                             "license_url": "https://datos.gob.hn/licencia"}


def test_wrong_licences_are_clear_errors(example_copy):
    with pytest.raises(ConfigError) as err:
        load_config(example_copy('[datos_abiertos]\nlicencia = "CC-BY-40"'))
    assert "[datos_abiertos.licencia] 'CC-BY-40' no es una licencia conocida" in str(err.value)
    assert "¿quiso decir 'CC-BY-4.0'?" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config(example_copy('[datos_abiertos]\nlicencia = { nombre = "Mía", url = "datos.gob.hn" }\nlicensia = 1'))
    text = str(err.value)
    assert "[datos_abiertos.licencia.url] se esperaba la dirección del texto de la licencia (https://...)" in text
    assert "licensia" in text


def test_demo_declares_its_licence_and_the_page_shows_it(demo):
    lic = opendata_catalog.licence()
    assert lic == opendata_catalog.Licence("CC-BY-4.0", "Creative Commons Atribución 4.0 Internacional",
                                           "https://creativecommons.org/licenses/by/4.0/deed.es")
    at = run_app(page="datos_abiertos")
    assert not at.exception
    assert any("Licencia: Creative Commons Atribución 4.0 Internacional (CC-BY-4.0)" in i.value for i in at.info)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Descargar el catálogo (catalogo.json)" in labels


def test_without_a_licence_everything_says_so(tmp_path, use_warehouse, capsys):
    use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))
    assert opendata_catalog.licence() is None
    at = run_app(page="datos_abiertos")
    assert any("no está declarada" in w.value for w in at.warning)
    site = tmp_path / "sitio"
    assert opendata_site.main(["--carpeta", str(site), "--almacen", str(tmp_path / "w.duckdb")]) == 0
    assert "no está declarada" in (site / "LICENCIA.txt").read_text(encoding="utf-8")
    assert "dct:license" not in (site / "catalogo.json").read_text(encoding="utf-8")
    assert "AVISO: La licencia de estos datos no está declarada" in capsys.readouterr().err


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


def test_static_site_has_stable_paths_a_true_catalogue_and_the_public_files(demo, tmp_path, public_mode):
    site = tmp_path / "sitio"
    code = opendata_site.main(["--carpeta", str(site), "--almacen", str(demo), "--url-base", "https://datos.ejemplo.gob/a"])
    assert code == 0
    paths = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert paths == ["LICENCIA.txt", "catalogo.json", "diccionario.csv", "index.html",
                     "victimas/departamento_anio.csv", "victimas/departamento_anio.parquet",
                     "victimas/limites_municipales.geojson", "victimas/municipio_mes.csv", "victimas/municipio_mes.parquet"]
    cat = json.loads((site / "catalogo.json").read_text(encoding="utf-8"))
    assert cat["@type"] == "dcat:Catalog" and cat["dct:license"]["dct:identifier"] == "CC-BY-4.0"
    assert [d["dct:identifier"] for d in cat["dcat:dataset"]] == ["municipio_mes", "departamento_anio",
                                                                 "limites_municipales", "diccionario"]
    for dataset in cat["dcat:dataset"]:
        assert dataset["dct:temporal"] == {"@type": "dct:PeriodOfTime", "dcat:startDate": "2013-01-01",
                                           "dcat:endDate": "2022-12-31"}
        assert "DATOS SINTÉTICOS" in dataset["dct:description"]
        for dist in dataset["dcat:distribution"]:
            url = dist["dcat:downloadURL"]
            assert url.startswith("https://datos.ejemplo.gob/a/")
            data = (site / url.removeprefix("https://datos.ejemplo.gob/a/")).read_bytes()
            assert int(dist["dcat:byteSize"]["@value"]) == len(data)
            assert dist["spdx:checksum"]["spdx:checksumValue"] == hashlib.sha256(data).hexdigest()
    # the files are the public ones the page offers
    warehouse.close_all()
    f = Filters()
    assert (site / "victimas/municipio_mes.csv").read_bytes() == opendata.municipality_month_bytes(f, "csv")
    assert (site / "victimas/limites_municipales.geojson").read_text(encoding="utf-8") == opendata.boundaries_geojson(f)
    # every link of the index leads to a file written, and the licence is there
    index = (site / "index.html").read_text(encoding="utf-8")
    links = Links()
    links.feed(index)
    internal = [h for h in links.hrefs if not h.startswith("https://")]
    assert set(internal) == set(paths) - {"LICENCIA.txt", "index.html"}
    assert "https://creativecommons.org/licenses/by/4.0/deed.es" in links.hrefs
    # the page's catalogue lists the same datasets and paths (without sizes: the files are not made)
    page = opendata_site.layout_catalogue()
    assert [[d["dcat:downloadURL"] for d in s["dcat:distribution"]] for s in page["dcat:dataset"]] == \
        [[d["dcat:downloadURL"].removeprefix("https://datos.ejemplo.gob/a/") for d in s["dcat:distribution"]]
         for s in cat["dcat:dataset"]]
