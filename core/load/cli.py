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
                      help="Multiplica el número de incidentes (1 = unos 890,000 registros; 15 = unos 13.4 millones).")
    demo.add_argument("--out", type=Path, default=None,
                      help="Archivo a publicar (por defecto $ATALAYA_WAREHOUSE o data/warehouse.duckdb).")
    demo.add_argument("--if-stale", action="store_true",
                      help="Construir solo si el archivo no existe o es de otra versión del esquema.")
    for name, text in (("build", "Construye y publica el almacén a partir de archivos reales declarados en un TOML."),
                       ("check", "Revisión en seco: lee y valida todo lo declarado en el TOML e informa; no publica nada.")):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("config", type=Path, help="Archivo de configuración TOML (ver data/examples/honduras.toml).")
        if name == "build":
            cmd.add_argument("--out", type=Path, default=None,
                             help="Archivo a publicar (por defecto $ATALAYA_WAREHOUSE o data/warehouse.duckdb).")
            cmd.add_argument("--hechos", type=Path, default=None,
                             help="Carpeta donde conservar los registros aceptados en Parquet, por país y año "
                                  "(incident/pais=.../anio=...), para leerlos con otro motor (Spark, Trino). "
                                  "Sin ella se preparan en una carpeta temporal que se borra al terminar.")
    region = sub.add_parser("region", help="Construye y publica el almacén de cada país de un despliegue regional.",
                            description="Construye y publica el almacén de cada país de un archivo de países "
                                        "(ver data/examples/region.toml): la demostración o su configuración de carga.")
    region.add_argument("paises", type=Path, help="Archivo de países (TOML, [[pais]] con codigo, almacen y demo o "
                                                  "configuracion).")
    region.add_argument("--if-stale", action="store_true",
                        help="Construir solo los almacenes que no existen o son de otra versión del esquema.")
    args = parser.parse_args(argv)

    if args.command == "region":
        return _build_region(args.paises, args.if_stale)

    if args.command in ("build", "check"):
        return _build(args.config, None if args.command == "check" else (args.out or warehouse_path()),
                      getattr(args, "hechos", None))

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
        _prepare_downloads(target)
    return 0


def _build_region(registry: Path, if_stale: bool) -> int:
    """Every country of a regional registry: the demo or its configuration, each published on its own."""
    from core.countries import RegistryError, read
    from core.load.demo import build_demo

    try:
        members = read(registry)
    except RegistryError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    for country in members:
        if if_stale and schema_version_of(country.path) == SCHEMA_VERSION:
            print(f"{country.code}: {country.path} ya existe con la versión de esquema {SCHEMA_VERSION}: no se reconstruye.")
            continue
        country.path.parent.mkdir(parents=True, exist_ok=True)
        print(f"{country.code}: construyendo {country.path}", flush=True)
        if country.config is not None:
            code = _build(country.config, country.path)
            if code:
                print(f"ERROR: {country.code} no se construyó (su almacén publicado no se modificó).", file=sys.stderr)
                return code
        elif country.demo_scale is not None:
            try:
                counts = build_demo(country.path, seed=country.demo_seed, scale=country.demo_scale, progress=None)
            except Exception as exc:
                print(f"ERROR: {country.code}: la construcción falló y {country.path} no se modificó: {exc}",
                      file=sys.stderr)
                return 1
            print(f"{country.code}: " + ", ".join(f"{k}: {v:,}" for k, v in counts.items()))
            _prepare_downloads(country.path)
        else:
            print(f"{country.code}: {country.path} se publica aparte (sin demo ni configuracion en {registry}).")
    print(f"Listo: {len(members)} países. Para abrir el tablero: ATALAYA_PAISES={registry} streamlit run app.py")
    return 0


def _prepare_downloads(target: Path) -> None:
    """The files prepared at publish time (core/load/downloads.py). The warehouse is already
    published: a failure here only means that the fine file is made on each download."""
    from core.load.downloads import prepare

    try:
        prepare(target, log=lambda m: print(m, flush=True))
    except Exception as exc:
        print(f"AVISO: no se prepararon los archivos de datos abiertos ({type(exc).__name__}: {exc}); el almacén "
              "está publicado y cada descarga generará su archivo.", file=sys.stderr)


def _build(config: Path, target: Path | None, keep_facts: Path | None = None) -> int:
    from core.load.build import run
    from core.load.config import ConfigError
    from core.load.datatests import DataTestFailed  # the data tests before publishing (message in Spanish)
    from core.load.load_report import LoadFailed
    from core.load.publish import PublishError

    check = target is None
    untouched = "" if check else f" y {target} no se modificó"
    try:
        report = run(config, target, check=check, progress=lambda m: print(m, flush=True), keep_facts=keep_facts)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except LoadFailed as exc:
        print(exc.report.render(), file=sys.stderr)
        print(f"ERROR: la carga falló{untouched}.", file=sys.stderr)
        return 1
    except (DataTestFailed, PublishError) as exc:
        print(f"ERROR: la carga falló{untouched}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ERROR: la carga se interrumpió{untouched}.", file=sys.stderr)
        return 130
    except Exception as exc:  # a defect of the loader, not of the data: no traceback, what to report
        print(f"ERROR: la carga falló{untouched}: error inesperado del cargador ({type(exc).__name__}: {exc}). "
              "Es un defecto del programa: informe este mensaje junto con la configuración.", file=sys.stderr)
        return 1
    print(report.render())
    print("Revisión terminada: sin errores; no se publicó nada." if check else f"Publicado {target}.")
    if target is not None:
        _prepare_downloads(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
