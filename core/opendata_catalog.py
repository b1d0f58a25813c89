"""The open-data licence and catalogue.

The publisher declares the licence of its open data in the load configuration (``[datos_abiertos]``,
core/load/config.py); the loader stores it in ``meta`` (license_id, license_name, license_url,
publisher, contact) and every page and file reads it from there. ``catalogue`` describes the
published files as a DCAT catalogue in JSON-LD (the vocabulary of data.gov-style portals, CKAN's
DCAT extension and the European DCAT-AP): title, publisher, licence, temporal and spatial
coverage, and each file with its stable path, format, size and checksum.
"""
from __future__ import annotations

from dataclasses import dataclass

from core import warehouse

# SPDX identifier -> (name in Spanish, address of the legal text)
LICENCES = {
    "CC-BY-4.0": ("Creative Commons Atribución 4.0 Internacional", "https://creativecommons.org/licenses/by/4.0/deed.es"),
    "CC-BY-SA-4.0": ("Creative Commons Atribución-CompartirIgual 4.0 Internacional",
                     "https://creativecommons.org/licenses/by-sa/4.0/deed.es"),
    "CC0-1.0": ("Creative Commons CC0 1.0 Universal (dominio público)",
                "https://creativecommons.org/publicdomain/zero/1.0/deed.es"),
    "ODbL-1.0": ("Open Database License (ODbL) 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "ODC-By-1.0": ("Open Data Commons Attribution License 1.0", "https://opendatacommons.org/licenses/by/1-0/"),
    "PDDL-1.0": ("Open Data Commons Public Domain Dedication and License 1.0",
                 "https://opendatacommons.org/licenses/pddl/1-0/"),
}
META_KEYS = ("license_id", "license_name", "license_url", "publisher", "contact")
UNDECLARED = ("La licencia de estos datos no está declarada: quien publica debe declararla en la configuración de "
              "carga ([datos_abiertos] licencia) antes de ofrecerlos para reutilizar.")


@dataclass(frozen=True)
class Licence:
    id: str | None          # SPDX identifier, or None for a licence given by name and address
    name: str
    url: str


def licence(meta: dict[str, str] | None = None) -> Licence | None:
    """The licence declared for this warehouse's open data, or None."""
    meta = warehouse.meta() if meta is None else meta
    if not meta.get("license_name"):
        return None
    return Licence(meta.get("license_id") or None, meta["license_name"], meta.get("license_url", ""))


def licence_text(meta: dict[str, str] | None = None) -> str:
    """One sentence: the licence and how to cite, or that none was declared."""
    meta = warehouse.meta() if meta is None else meta
    lic = licence(meta)
    if lic is None:
        return UNDECLARED
    who = meta.get("publisher") or f"Atalaya, {meta.get('country_name', '')}"
    return (f"Licencia: {lic.name}" + (f" ({lic.id})" if lic.id else "") + f", {lic.url}. Cite: {who}, almacén del "
            f"{meta.get('built_at', '—')[:10]}.")


@dataclass(frozen=True)
class Distribution:
    dataset: str            # key of opendata.DATASETS, or "diccionario"
    path: str               # relative to the catalogue: the stable address of the file
    media_type: str
    format: str
    unit: str | None = None  # counting unit of the counts in the file
    size: int | None = None
    sha256: str | None = None


CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def catalogue(titles: dict[str, str], distributions: list[Distribution], base_url: str = "",
              meta: dict[str, str] | None = None) -> dict:
    """The DCAT catalogue (JSON-LD) of the files ``distributions``; ``titles``: dataset -> title.
    ``base_url``: where the folder is published (the files' addresses are relative without it)."""
    meta = warehouse.meta() if meta is None else meta
    lic = licence(meta)
    country = meta.get("country_name", "")
    start, end = meta.get("period_start", ""), meta.get("period_end", "")
    publisher = {"@type": "foaf:Agent", "foaf:name": meta.get("publisher") or f"Atalaya · {country}"}
    licence_ref = {"@id": lic.url, "dct:title": lic.name, **({"dct:identifier": lic.id} if lic.id else {})} if lic else None
    datasets = []
    for key, title in titles.items():
        files = [d for d in distributions if d.dataset == key]
        if not files:
            continue
        entry: dict = {
            "@type": "dcat:Dataset", "dct:identifier": key, "dct:title": title,
            "dct:description": f"{title}. {country}, {start[:4]}–{end[:4]}. Datos agregados (nunca registros "
                               "individuales); en el modo público, las cifras pequeñas de delitos sensibles se reservan.",
            "dct:publisher": publisher, "dct:language": "es", "dct:spatial": country,
            "dct:temporal": {"@type": "dct:PeriodOfTime", "dcat:startDate": start, "dcat:endDate": end},
            "dct:modified": meta.get("built_at", ""),
            "dcat:keyword": ["seguridad ciudadana", "delitos", "víctimas", country],
            "dcat:distribution": [],
        }
        if licence_ref:
            entry["dct:license"] = licence_ref
        if meta.get("contact"):
            entry["dcat:contactPoint"] = {"@type": "vcard:Kind", "vcard:hasEmail": meta["contact"]}
        if meta.get("synthetic") == "true":
            entry["dct:description"] += " DATOS SINTÉTICOS DE DEMOSTRACIÓN: no representan la situación real."
        for d in files:
            dist: dict = {"@type": "dcat:Distribution", "dct:title": f"{title} ({d.format})",
                          "dcat:downloadURL": base_url + d.path, "dcat:mediaType": d.media_type, "dct:format": d.format}
            if d.unit:
                dist["dct:description"] = f"Unidad de conteo: {d.unit}."
            if d.size is not None:
                dist["dcat:byteSize"] = {"@value": str(d.size), "@type": "xsd:decimal"}
            if d.sha256:
                dist["spdx:checksum"] = {"@type": "spdx:Checksum", "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                                         "spdx:checksumValue": d.sha256}
            if licence_ref:
                dist["dct:license"] = licence_ref
            entry["dcat:distribution"].append(dist)
        datasets.append(entry)
    out: dict = {"@context": CONTEXT, "@type": "dcat:Catalog",
                 "dct:title": f"Atalaya · datos abiertos de seguridad ciudadana · {country}",
                 "dct:description": "Conjuntos de datos agregados del observatorio de seguridad ciudadana, con su "
                                    "diccionario de datos.",
                 "dct:publisher": publisher, "dct:language": "es", "dct:modified": meta.get("built_at", ""),
                 "dcat:dataset": datasets}
    if licence_ref:
        out["dct:license"] = licence_ref
    return out
