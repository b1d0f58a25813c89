"""``atalaya-load``: the only entry point that writes a warehouse."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.warehouse import SCHEMA_VERSION, warehouse_path


def schema_version_of(path: Path) -> str | None:
    """The schema version of a warehouse file, or None if it is missing or unreadable."""
    import duckdb

    if not Path(path).exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="atalaya-load",
        description="Construye y publica el almacén de datos de Atalaya (DuckDB).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="Almacén de demostración: geografía real de Guatemala, datos sintéticos.")
    demo.add_argument("--seed", type=int, default=2024, help="Semilla (misma semilla, mismos datos). Por defecto 2024.")
    demo.add_argument("--scale", type=float, default=1.0,
                      help="Multiplica el número de incidentes (1 = unos 680.000; 15 = unos 10 millones).")
    demo.add_argument("--out", type=Path, default=None,
                      help="Archivo a publicar (por defecto $ATALAYA_WAREHOUSE o data/warehouse.duckdb).")
    demo.add_argument("--if-stale", action="store_true",
                      help="Construir solo si el archivo no existe o es de otra versión del esquema.")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from core.load.demo import build_demo

        target = args.out or warehouse_path()
        if args.if_stale and schema_version_of(target) == SCHEMA_VERSION:
            print(f"{target} ya existe con la versión de esquema {SCHEMA_VERSION}: no se reconstruye.")
            return 0
        try:
            counts = build_demo(target, seed=args.seed, scale=args.scale)
        except Exception as exc:  # report clearly; the published file is untouched
            print(f"ERROR: la construcción falló y {target} no se modificó: {exc}", file=sys.stderr)
            return 1
        print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
