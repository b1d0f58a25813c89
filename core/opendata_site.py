"""``atalaya-datos-abiertos``: the open-data files of the whole period written to a folder that a
ministry can publish as a static site, with stable paths, the catalogue and the licence.

Layout (the same every time, so that a link or a script keeps working after each load)::

    <carpeta>/index.html                        what is published, with links (no script, no network)
    <carpeta>/catalogo.json                     DCAT catalogue (core/opendata_catalog.py)
    <carpeta>/diccionario.csv                   data dictionary
    <carpeta>/LICENCIA.txt                      the declared licence and how to cite
    <carpeta>/<unidad>/municipio_mes.csv|.parquet
    <carpeta>/<unidad>/departamento_anio.csv|.parquet
    <carpeta>/<unidad>/limites_municipales.geojson

``<unidad>`` is ``victimas`` (and ``hechos`` where the warehouse counts events). Public mode
unless told otherwise: the files are those the dashboard offers to anyone. Each file is written
whole under a temporary name and renamed.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from core import export, opendata, reader_cli, warehouse
from core.filters import Filters, filter_options
from core.opendata_catalog import Distribution, catalogue, licence, licence_text

DICTIONARY_TITLE = "Diccionario de datos de todos los conjuntos"
MEDIA = {"csv": ("text/csv", "CSV"), "parquet": ("application/vnd.apache.parquet", "Parquet"),
         "geojson": ("application/geo+json", "GeoJSON")}


def layout(unit: str) -> list[tuple[str, str, Callable[[Filters], bytes]]]:
    """(dataset, stable path, maker) of the files of one unit."""
    return [
        ("municipio_mes", f"{unit}/municipio_mes.csv", lambda f: opendata.municipality_month_bytes(f, "csv")),
        ("municipio_mes", f"{unit}/municipio_mes.parquet", lambda f: opendata.municipality_month_bytes(f, "parquet")),
        ("departamento_anio", f"{unit}/departamento_anio.csv", lambda f: export.csv_bytes(opendata.department_year(f))),
        ("departamento_anio", f"{unit}/departamento_anio.parquet",
         lambda f: opendata.parquet_bytes(opendata.department_year(f))),
        ("limites_municipales", f"{unit}/limites_municipales.geojson",
         lambda f: opendata.boundaries_geojson(f).encode("utf-8")),
    ]


def layout_catalogue() -> dict:
    """The catalogue of the files ``write_site`` writes, without their sizes and checksums (the files
    are not made): what the Datos abiertos page offers."""
    opts = filter_options()
    titles: dict[str, str] = {}
    distributions = []
    for unit in opts.units:
        titles.update({k: v for k, v in opendata.datasets(Filters(unit=unit)).items() if k not in titles})
        distributions += [Distribution(d, path, *MEDIA[path.rsplit(".", 1)[1]], unit=unit) for d, path, _ in layout(unit)]
    titles["diccionario"] = DICTIONARY_TITLE
    distributions.append(Distribution("diccionario", "diccionario.csv", *MEDIA["csv"]))
    return catalogue(titles, distributions)


def _write(folder: Path, path: str, data: bytes) -> None:
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def write_site(folder: Path, base_url: str = "", log: Callable[[str], None] = print) -> dict:
    """Write every file, the catalogue, the dictionary, the licence and the index; returns the catalogue."""
    folder = Path(folder)
    opts = filter_options()
    meta = warehouse.meta()
    distributions: list[Distribution] = []
    titles: dict[str, str] = {}
    for unit in opts.units:
        f = Filters(unit=unit).resolved(opts)
        titles.update({k: v for k, v in opendata.datasets(f).items() if k not in titles})
        for dataset, path, make in layout(unit):
            start = time.perf_counter()
            data = make(f)
            _write(folder, path, data)
            kind = path.rsplit(".", 1)[1]
            distributions.append(Distribution(dataset, path, *MEDIA[kind], unit=unit, size=len(data),
                                              sha256=hashlib.sha256(data).hexdigest()))
            log(f"{path}: {len(data) / 1e6:,.1f} MB ({time.perf_counter() - start:.1f} s)")
    dictionary = export.csv_bytes(opendata.dictionary())
    _write(folder, "diccionario.csv", dictionary)
    titles["diccionario"] = DICTIONARY_TITLE
    distributions.append(Distribution("diccionario", "diccionario.csv", *MEDIA["csv"], size=len(dictionary),
                                      sha256=hashlib.sha256(dictionary).hexdigest()))
    cat = catalogue(titles, distributions, base_url, meta)
    _write(folder, "catalogo.json", json.dumps(cat, ensure_ascii=False, indent=2).encode("utf-8"))
    _write(folder, "LICENCIA.txt", (licence_text(meta) + "\n").encode("utf-8"))
    _write(folder, "index.html", index_html(titles, distributions, meta).encode("utf-8"))
    log(f"{len(distributions)} archivos, catalogo.json, LICENCIA.txt e index.html en {folder}")
    return cat


def index_html(titles: dict[str, str], distributions: list[Distribution], meta: dict[str, str]) -> str:
    """A plain page listing the datasets and their files (every text from the warehouse escaped)."""
    e = html.escape
    country = meta.get("country_name", "")
    lic = licence(meta)
    parts = ["<!doctype html><html lang='es'><head><meta charset='utf-8'>"
             f"<title>Datos abiertos de seguridad ciudadana · {e(country)}</title>"
             "<style>body{font-family:system-ui,sans-serif;max-width:880px;margin:2em auto;padding:0 1em;color:#1f2430}"
             "li{margin:.2em 0}.warn{background:#fff4d6;border:1px solid #e0b000;padding:.5em 1em}</style></head><body>",
             f"<h1>Datos abiertos de seguridad ciudadana · {e(country)}</h1>",
             f"<p>Periodo {e(meta.get('period_start', '')[:4])}–{e(meta.get('period_end', '')[:4])} · almacén del "
             f"{e(meta.get('built_at', '—')[:10])} · datos agregados, nunca registros individuales.</p>"]
    if meta.get("synthetic") == "true":
        parts.append("<p class='warn'><b>Datos sintéticos de demostración.</b> No representan la situación real.</p>")
    if lic is None:
        parts.append(f"<p class='warn'>{e(licence_text(meta))}</p>")
    else:
        parts.append(f"<p>Licencia: <a href='{e(lic.url)}'>{e(lic.name)}</a>. {e(licence_text(meta).split('. ', 1)[1])}</p>")
    parts.append("<p>Catálogo legible por máquina: <a href='catalogo.json'>catalogo.json</a> (DCAT). "
                 "Diccionario de datos: <a href='diccionario.csv'>diccionario.csv</a>.</p>")
    for key, title in titles.items():
        files = [d for d in distributions if d.dataset == key]
        if key == "diccionario" or not files:
            continue
        parts.append(f"<h2>{e(title)}</h2><ul>" + "".join(
            f"<li><a href='{e(d.path)}'>{e(d.path)}</a> · {e(d.format)} · {(d.size or 0) / 1e6:,.1f} MB</li>" for d in files)
            + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="atalaya-datos-abiertos",
        description="Escribe los datos abiertos del periodo completo en una carpeta para publicarla como sitio estático: "
                    "rutas estables, catalogo.json (DCAT), diccionario, licencia e index.html.")
    parser.add_argument("--carpeta", type=Path, default=Path("datos_abiertos"), help="carpeta de salida")
    parser.add_argument("--url-base", default="", help="dirección donde se publicará la carpeta (para las direcciones "
                                                        "de descarga del catálogo), p. ej. https://datos.ejemplo.gob/atalaya/")
    reader_cli.add_arguments(parser, "lo que cualquiera puede descargar")
    args = parser.parse_args(argv)
    if not reader_cli.open_warehouse(args):
        return 2
    base = args.url_base if not args.url_base or args.url_base.endswith("/") else args.url_base + "/"
    write_site(args.carpeta, base, log=lambda m: print(m, flush=True))
    if licence() is None:
        print(f"AVISO: {licence_text()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
