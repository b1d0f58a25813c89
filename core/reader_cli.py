"""The options every command that reads the published warehouse shares (``atalaya-boletines``,
``atalaya-datos-abiertos``): which warehouse (``--almacen``) and in which mode (``--modo``, public
unless told otherwise: what those commands write is usually published)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core import deployment, warehouse


def add_arguments(parser: argparse.ArgumentParser, public_help: str) -> None:
    parser.add_argument("--modo", choices=[deployment.PUBLIC, deployment.INTERNAL], default=deployment.PUBLIC,
                        help=f"publico (por defecto: {public_help}) o interno")
    parser.add_argument("--almacen", type=Path, default=None,
                        help="almacén publicado (por defecto $ATALAYA_WAREHOUSE o data/warehouse.duckdb)")


def open_warehouse(args: argparse.Namespace) -> bool:
    """Point the core at the warehouse and mode of ``args``; False (with the message printed) when
    the warehouse does not exist."""
    if args.almacen is not None:
        os.environ[warehouse.ENV_VAR] = str(args.almacen.resolve())
    os.environ[deployment.ENV_VAR] = args.modo
    warehouse.close_all()
    if not warehouse.warehouse_path().exists():
        print(f"ERROR: no existe el almacén {warehouse.warehouse_path()}: constrúyalo con atalaya-load", file=sys.stderr)
        return False
    return True
