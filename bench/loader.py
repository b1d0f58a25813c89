#!/usr/bin/env python
"""The real loader (``atalaya-load build``) on a large source file: time and peak memory.

    .venv/bin/python bench/loader.py                    # 10 million police rows
    .venv/bin/python bench/loader.py --rows 1000000     # a quicker run

The source is the Honduras example (data/examples/honduras.toml: real geography and population,
synthetic incidents) with its police file repeated up to ``--rows`` rows, each with its own id,
keeping the file's format (Latin-1, ';', DD/MM/YYYY, a totals line at the end) and its defects
(impossible ages, non-existent dates: under the rejection threshold). The two other sources of
the example stay as they are. The build runs in its own process under a wrapper, so the peak
memory printed is the build's alone. Goal of the speed issue: 10 million rows in <= 10 min and
<= 8 GB. Writes artifacts/bench/loader.json.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import peak_run  # noqa: E402

OUT = ROOT / "artifacts" / "bench" / "loader"
EXAMPLE = ROOT / "data" / "examples"
POLICE_FILE = "incidentes/sepol_2020_2022.csv"
TARGET_SECONDS = 600
TARGET_MB = 8 * 1024


def make_source(rows: int, path: Path) -> int:
    """The example police file repeated to ``rows`` data rows (new ids), with its totals line."""
    lines = (EXAMPLE / POLICE_FILE).read_text(encoding="latin-1").splitlines()
    header, body = lines[0], [line for line in lines[1:] if line.startswith("SEPOL-")]
    with open(path, "w", encoding="latin-1", newline="") as out:
        out.write(header + "\r\n")
        written = 0
        while written < rows:
            for line in body[:rows - written]:
                written += 1
                out.write(f"SEPOL-{written:09d}" + line[line.index(";"):] + "\r\n")
        out.write(f"TOTAL REGISTROS: {written}\r\n")
    return written


def make_config(source: Path, path: Path) -> None:
    """honduras.toml with absolute paths and the large police file."""
    text = (EXAMPLE / "honduras.toml").read_text(encoding="utf-8")
    shared = (EXAMPLE / "../../../shared").resolve()
    text = text.replace('"../../../shared/', f'"{shared}/')
    text = text.replace(f'archivo = "{POLICE_FILE}"', f'archivo = "{source}"')
    text = text.replace('archivo = "incidentes/', f'archivo = "{EXAMPLE / "incidentes"}/')
    path.write_text(text, encoding="utf-8")


def measure(rows: int) -> dict[str, Any]:
    """Build the example with ``rows`` police rows in its own process: time, peak memory, records."""
    OUT.mkdir(parents=True, exist_ok=True)
    source = OUT / f"sepol_{rows}.csv"
    if not source.exists():
        start = time.perf_counter()
        make_source(rows, source)
        print(f"  archivo de {rows:,} filas ({source.stat().st_size / 1e6:,.0f} MB) en {time.perf_counter() - start:.0f} s",
              flush=True)
    config = OUT / "honduras_grande.toml"
    make_config(source, config)
    target = OUT / "warehouse.duckdb"
    print(f"  atalaya-load build ({rows:,} filas de la policía)...", flush=True)
    seconds, peak_mb, output = peak_run([sys.executable, "-m", "core.load.cli", "build", str(config), "--out", str(target)])
    for line in output.splitlines():
        if line.startswith(("policia:", "Incidentes:", "Cubo")):
            print("    " + line)
    import duckdb

    with duckdb.connect(str(target), read_only=True) as con:
        incidents = int(con.execute("SELECT count(*) FROM incident").fetchone()[0])
    shutil.rmtree(target.with_name(target.name + ".descargas"), ignore_errors=True)
    target.unlink(missing_ok=True)
    return {"rows": rows, "incidents": incidents, "seconds": round(seconds, 1), "peak_memory_mb": peak_mb,
            "megabytes": round(source.stat().st_size / 1e6)}


def goals(result: dict[str, Any]) -> str:
    ok_time, ok_mem = result["seconds"] <= TARGET_SECONDS, result["peak_memory_mb"] <= TARGET_MB
    return (f"{result['rows']:,} filas ({result['megabytes']:,} MB), {result['incidents']:,} registros publicados: "
            f"{result['seconds']:,.0f} s (meta ≤ {TARGET_SECONDS} s: {'cumple' if ok_time else 'no cumple'}), "
            f"memoria máxima {result['peak_memory_mb']:,} MB (meta ≤ {TARGET_MB:,} MB: {'cumple' if ok_mem else 'no cumple'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="filas del archivo de la policía")
    args = parser.parse_args(argv)
    result = measure(args.rows)
    (OUT.parent / "loader.json").write_text(json.dumps(result))
    print(goals(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
