"""Files prepared at publish time: the open-data fine file (municipality x month x crime type x sex
x age group) of the whole period, in each mode and unit, as CSV and Parquet.

Made on a click, that file takes tens of seconds at ten million records (the query, the public
protection of millions of cells, the CSV writer); prepared here once per published warehouse,
a download reads it. The files go to ``<warehouse>.descargas/<build_id>/<modo>/``, written in a
temporary folder and renamed when complete; the folders of older builds are removed. The
warehouse file itself is never written here: it is already published, and a page finds the
files by the ``build_id`` of the warehouse it reads, so a file of another build is never served.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core import deployment, opendata, warehouse
from core.filters import Filters, filter_options


@contextmanager
def _reading(path: Path, mode: str) -> Iterator[None]:
    """Point the core at the published ``path`` in ``mode`` for the time of the block."""
    saved = {k: os.environ.get(k) for k in (warehouse.ENV_VAR, deployment.ENV_VAR)}
    os.environ[warehouse.ENV_VAR], os.environ[deployment.ENV_VAR] = str(path), mode
    warehouse.close_all()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        warehouse.close_all()


def prepare(target: Path, log: Callable[[str], None] = lambda _m: None) -> list[Path]:
    """Write the prepared files of the warehouse published at ``target``; returns their paths."""
    target = Path(target).resolve()
    root = opendata.prepared_root(target)
    with _reading(target, deployment.PUBLIC):
        build_id = warehouse.meta().get("build_id")
        units = filter_options().units
    if not build_id:
        raise ValueError(f"{target} no tiene build_id en meta: reconstrúyalo con esta versión")
    staging_id = f"{build_id}.tmp"
    staging = root / staging_id
    shutil.rmtree(staging, ignore_errors=True)
    written = []
    for mode in (deployment.PUBLIC, deployment.INTERNAL):
        with _reading(target, mode):
            for unit in units:
                start = time.perf_counter()
                f = Filters(unit=unit)
                for kind in opendata.FILE_KINDS:
                    path = opendata.prepared_path(root, staging_id, mode, unit, kind)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(opendata.municipality_month_bytes(f, kind))
                    written.append(opendata.prepared_path(root, build_id, mode, unit, kind))
                log(f"Datos abiertos preparados ({mode}, {unit}): {time.perf_counter() - start:.1f} s")
    final = root / build_id
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    for old in root.iterdir():
        if old.name != build_id:
            shutil.rmtree(old, ignore_errors=True)
    return written
