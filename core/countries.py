"""A regional deployment: several countries in one dashboard, one published warehouse each.

Each country keeps its own warehouse, built and published by its own load (its codes, catalogue
mapping and population stay its own); a registry file lists them, and the dashboard reads the one
chosen in the URL (``?pais=HN``) for a run (core.warehouse.choose). ``$ATALAYA_PAISES`` names the
registry, a TOML file:

    [[pais]]
    codigo = "GT"
    almacen = "region/gt.duckdb"            # relative to this file
    demo = { escala = 0.05, semilla = 2024 }  # how `atalaya-load region` builds it: the demo...
    [[pais]]
    codigo = "HN"
    almacen = "region/hn.duckdb"
    configuracion = "honduras.toml"           # ...or a load configuration

Without it the deployment serves the one warehouse of ``$ATALAYA_WAREHOUSE`` (a country alone).
"""
from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core import warehouse

ENV_VAR = "ATALAYA_PAISES"
P_COUNTRY = "pais"  # URL parameter: the country shown
_CODE = re.compile(r"[A-Z]{2}")


class RegistryError(ValueError):
    """A registry file that cannot be read; the message names the file and the entry."""


@dataclass(frozen=True)
class Country:
    code: str                      # ISO 3166-1 alpha-2, as in each warehouse's meta «country»
    path: Path                     # its published warehouse
    config: Path | None = None     # the load configuration that builds it (atalaya-load region)
    demo_scale: float | None = None  # or: built by the demo generator at this scale
    demo_seed: int = 2024


def registry_path() -> Path | None:
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value).resolve() if value else None


def read(path: Path) -> tuple[Country, ...]:
    """The countries of a registry file, in its order (the first is the default)."""
    stat = os.stat(path) if Path(path).exists() else None
    if stat is None:
        raise RegistryError(f"no existe el archivo de países {path} (variable {ENV_VAR})")
    return _read(str(Path(path).resolve()), stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read(path: str, _mtime: int) -> tuple[Country, ...]:
    where = Path(path)
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{where}: no es un TOML válido ({exc})") from None
    entries = data.get("pais")
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{where}: falta la lista de países ([[pais]] con codigo y almacen)")
    countries, seen = [], set()
    for i, entry in enumerate(entries, start=1):
        at = f"{where}, país {i}"
        if not isinstance(entry, dict):
            raise RegistryError(f"{at}: se esperaba una tabla [[pais]]")
        unknown = set(entry) - {"codigo", "almacen", "configuracion", "demo"}
        if unknown:
            raise RegistryError(f"{at}: claves desconocidas {', '.join(sorted(unknown))} (se esperaba codigo, almacen, "
                                "configuracion o demo)")
        code = str(entry.get("codigo", "")).strip().upper()
        if not _CODE.fullmatch(code):
            raise RegistryError(f"{at}: codigo «{entry.get('codigo', '')}» no es un código de país de dos letras "
                                "(ISO 3166-1, p. ej. GT, HN)")
        if code in seen:
            raise RegistryError(f"{at}: el país {code} aparece dos veces")
        seen.add(code)
        if not isinstance(entry.get("almacen"), str) or not entry["almacen"].strip():
            raise RegistryError(f"{at} ({code}): falta almacen, el archivo del almacén publicado de ese país")
        config = entry.get("configuracion")
        demo = entry.get("demo")
        if config is not None and demo is not None:
            raise RegistryError(f"{at} ({code}): configuracion y demo no van juntos (el almacén se construye de una "
                                "forma)")
        scale, seed = None, 2024
        if demo is not None:
            if not isinstance(demo, dict) or not isinstance(demo.get("escala", 1.0), int | float) \
                    or not isinstance(demo.get("semilla", 2024), int) or float(demo.get("escala", 1.0)) <= 0:
                raise RegistryError(f"{at} ({code}): demo debe ser {{ escala = número > 0, semilla = entero }}")
            scale, seed = float(demo.get("escala", 1.0)), int(demo.get("semilla", 2024))
        countries.append(Country(code, (where.parent / entry["almacen"]).resolve(),
                                 (where.parent / config).resolve() if isinstance(config, str) else None, scale, seed))
    return tuple(countries)


def registered() -> tuple[Country, ...]:
    """The countries of this deployment; () when it serves one warehouse (no registry)."""
    path = registry_path()
    return read(path) if path is not None else ()


def chosen(params: Mapping[str, object]) -> Country | None:
    """The country the URL asks for (``pais``), else the first; None without a registry."""
    countries = registered()
    if not countries:
        return None
    value = params.get(P_COUNTRY)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    wanted = str(value or "").strip().upper()
    return next((c for c in countries if c.code == wanted), countries[0])


def name(country: Country) -> str:
    """The country's name as its warehouse says it (meta country_name), or its code."""
    try:
        with warehouse.using(country.path):
            return warehouse.meta().get("country_name") or country.code
    except warehouse.WarehouseError:
        return country.code
