"""``atalaya-boletines``: the bulletins of every municipality (or a list), and of the country, for a
period or one month, written to a folder in one run, with progress.

Reads the published warehouse like the dashboard (read-only), in public mode unless told
otherwise: what a municipal observatory publishes each period without 340 clicks. Each file is
written whole (a temporary name, then renamed); ``indice.csv`` lists what was written.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from core import bulletin, bulletin_pdf, fmt, municipality, rates, reader_cli, warehouse
from core.filters import Filters, filter_options

FORMATS = {"pdf": ("pdf",), "html": ("html",), "ambos": ("pdf", "html")}


class BatchError(ValueError):
    """A request that cannot be served (unknown municipality, period outside the data)."""


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def choose(codes: Sequence[str] | None) -> list[tuple[str, str]]:
    """(code, label) of the municipalities asked for (all when ``codes`` is None), in code order."""
    munis = municipality.municipalities().sort_values("code")
    labels = dict(zip(munis["code"], munis["label"]))
    if codes is None:
        return list(labels.items())
    unknown = [c for c in codes if c not in labels]
    if unknown:
        raise BatchError(f"municipios que no están en el almacén: {', '.join(unknown)} (los códigos son los de la capa "
                         f"de municipios, p. ej. {', '.join(list(labels)[:3])})")
    return [(c, labels[c]) for c in dict.fromkeys(codes)]


def parse_month(text: str) -> tuple[int, int]:
    """«2022-06» -> (2022, 6)."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BatchError(f"--mes «{text}» no es un mes (se esperaba AAAA-MM, p. ej. 2022-06)")
    return int(match.group(1)), int(match.group(2))


def write_all(f: Filters, codes: Sequence[str] | None, folder: Path, formats: Sequence[str] = ("pdf",),
              national: bool = True, log: Callable[[str], None] = print,
              month: tuple[int, int] | None = None) -> list[dict[str, str]]:
    """Write the bulletins (of the period of ``f``, or of one ``month``: (year, month)); returns one
    row per bulletin (code, territory, files) as in indice.csv."""
    opts = filter_options()
    if month:
        f = replace(f, year_from=month[0], year_to=month[0])
        if (month[0], month[1]) not in bulletin.months_available(f):
            start, end = rates.data_period()
            raise BatchError(f"no hay datos de {fmt.month(*month)}: los datos van de {fmt.month(start.year, start.month)} "
                             f"a {fmt.month(end.year, end.month)}")
    f = f.resolved(opts)
    if f.first_year < opts.min_year or f.last_year > opts.max_year or f.first_year > f.last_year:
        raise BatchError(f"el periodo {f.first_year}–{f.last_year} no está dentro de los datos "
                         f"({opts.min_year}–{opts.max_year})")
    targets: list[tuple[str | None, str]] = [(None, warehouse.meta().get("country_name", "País"))] if national else []
    targets += choose(codes)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    start = time.perf_counter()
    for i, (code, label) in enumerate(targets, start=1):
        t0 = time.perf_counter()
        doc = bulletin.monthly_content(f, *month, code) if month else bulletin.content(f, code)
        stem = bulletin.file_stem(f, code, month)
        files = []
        for kind in formats:
            data = bulletin_pdf.to_pdf(doc) if kind == "pdf" else bulletin.to_html(doc).encode("utf-8")
            _write(folder / f"{stem}.{kind}", data)
            files.append(f"{stem}.{kind}")
        rows.append({"codigo": code or "", "territorio": label, "archivos": " ".join(files)})
        log(f"[{i:>{len(str(len(targets)))}}/{len(targets)}] {code or 'país'} {label}: {', '.join(files)} "
            f"({time.perf_counter() - t0:.1f} s)")
    with open(folder / "indice.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["codigo", "territorio", "archivos"])
        writer.writeheader()
        writer.writerows(rows)
    log(f"{len(rows)} boletines en {folder} ({time.perf_counter() - start:.0f} s); índice: {folder / 'indice.csv'}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="atalaya-boletines",
        description="Escribe en una carpeta los boletines de todos los municipios (o de una lista) y del país para un "
                    "periodo, con el almacén publicado.")
    parser.add_argument("--desde", type=int, default=None, help="primer año (por defecto, el primero de los datos)")
    parser.add_argument("--hasta", type=int, default=None, help="último año (por defecto, el último de los datos)")
    parser.add_argument("--mes", default=None, help="en vez de un periodo, el boletín mensual de ese mes (AAAA-MM)")
    parser.add_argument("--municipios", default="todos",
                        help="'todos' (por defecto), 'ninguno' o códigos separados por comas, p. ej. 0101,0108")
    parser.add_argument("--sin-nacional", action="store_true", help="no escribir el boletín del país")
    parser.add_argument("--formato", choices=list(FORMATS), default="pdf", help="pdf (por defecto), html o ambos")
    parser.add_argument("--carpeta", type=Path, default=Path("boletines"), help="carpeta de salida (por defecto boletines/)")
    reader_cli.add_arguments(parser, "cifras protegidas, lo que se publica")
    args = parser.parse_args(argv)
    if not reader_cli.open_warehouse(args):
        return 2
    choice = args.municipios.strip().lower()
    codes = None if choice == "todos" else [] if choice == "ninguno" else \
        [c.strip() for c in args.municipios.split(",") if c.strip()]
    try:
        if args.mes and (args.desde or args.hasta):
            raise BatchError("--mes y --desde/--hasta no van juntos: un boletín es de un mes o de un periodo")
        write_all(Filters(year_from=args.desde, year_to=args.hasta), codes, args.carpeta, FORMATS[args.formato],
                  national=not args.sin_nacional, log=lambda m: print(m, flush=True),
                  month=parse_month(args.mes) if args.mes else None)
    except BatchError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
