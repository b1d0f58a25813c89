"""What every page needs and no filter changes, computed in the background as soon as the first
session opens a published warehouse.

Catalogues, geometries, the yearly cube and the population in memory, the contiguity of the
territories, the coverage gaps: about a second at ten million records, once per published
warehouse and deployment mode (the result cache keeps them). Without this, the first person to
open the dashboard after a start or a publication waits that second on top of their page. A page
that asks for one of them while the warm-up computes it waits for that same computation (the cache
computes a key once), so nothing is computed twice; a failure here is only logged: the page then
computes the result itself and shows its own message.
"""
from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any

from core import (
    coverage,
    deployment,
    filters,
    geo,
    methodology,
    municipality,
    quality,
    rates,
    schools,
    spatial,
    vulnerability,
    warehouse,
    yearcube,
)
from core.filters import Filters

LOG = logging.getLogger("atalaya")
_lock = threading.Lock()
_started: set[tuple] = set()


def calls() -> list[tuple[str, str, Callable[[], Any]]]:
    """(page, name, function) of every core call that does not depend on the filters."""
    every = Filters()
    return [
        ("todas", "filters.filter_options()", filters.filter_options),
        ("todas", "warehouse.meta()", warehouse.meta),
        ("todas", "rates.population_split()", rates.population_split),
        ("todas", "rates.municipalities_by_code()", rates.municipalities_by_code),
        ("todas", "yearcube.load()", yearcube.load),
        ("todas", "rates.population_rows()", rates.population_rows),
        ("todas", "rates.estimated_population", rates._estimated_population),
        ("resumen", "rates.sources()", rates.sources),
        ("mapa", "geo.shapes('municipio')", lambda: geo.shapes("municipio")),
        ("mapa", "geo.shapes('departamento')", lambda: geo.shapes("departamento")),
        ("mapa", "spatial.neighbours('municipio')", lambda: spatial.neighbours("municipio")),
        ("mapa", "spatial.neighbours('departamento')", lambda: spatial.neighbours("departamento")),
        ("mapa", "vulnerability.composite()", lambda: vulnerability.composite(None)),
        ("mapa", "coverage (meses sin datos)", lambda: coverage.describe_month_gaps(every)),
        ("mapa", "coverage (municipios sin datos)", lambda: coverage.municipality_gaps(every)),
        ("municipio", "municipality.municipalities()", municipality.municipalities),
        ("municipio", "geo.shapes('aldea')", lambda: geo.shapes("aldea")),
        ("escuelas", "schools.options()", schools.options),
        ("escuelas", "schools.school_list()", schools.school_list),
        ("calidad", "quality.sources()", quality.sources),
        ("calidad", "quality.issues()", quality.issues),
        ("calidad", "quality.completeness()", quality.completeness),
        ("metodologia", "methodology.crime_catalogue()", methodology.crime_catalogue),
        ("metodologia", "methodology.denominators()", methodology.denominators),
    ]


def run() -> None:
    """Compute every call of ``calls()`` (in this thread); failures are logged, not raised."""
    for _, name, fn in calls():
        try:
            fn()
        except Exception:  # the page that needs it computes it again and shows its own message
            LOG.exception("Precálculo de %s fallido", name)


def start() -> bool:
    """Start ``run`` in a background thread for the published warehouse and the mode in force,
    unless it was started for them already in this process. True when started."""
    try:
        key = (warehouse.current_version(), deployment.mode())
    except (warehouse.WarehouseError, deployment.ModeError):
        return False  # the page says what is wrong
    with _lock:
        if key in _started:
            return False
        _started.add(key)
    # the thread reads the warehouse this run reads (a regional deployment chooses one per country)
    threading.Thread(target=contextvars.copy_context().run, args=(run,), name="atalaya-precalculo", daemon=True).start()
    return True
