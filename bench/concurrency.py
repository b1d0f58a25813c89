"""Several users at once: threads of one process (as Streamlit serves its sessions) changing the map's
filters, the core work of each change timed from request to result.

A request is what the national map computes after a change of filters: the municipal and
department tables and the municipal trends (as published in the mode in force) and the
person-years. Two workloads:

- **distintos**: every request asks for filters nobody asked for before (computed each time);
- **idénticos**: all users ask for the same new filters at the same moment (as after a presenter
  shares a link): the single-flight cache computes them once, the others wait for that result.

Printed per number of users: requests per second, p50 and p95 of the request time, and for the
identical workload how many times the counts were computed.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core import rates, views, yearcube
from core.filters import FilterOptions, Filters

GOAL_P95_MS = 1000
USERS = (1, 4, 8, 16)


def filter_pool(opts: FilterOptions) -> list[Filters]:
    """Many distinct filters, as users choose them: periods x crime groups x sexes."""
    years = [(a, b) for a in range(opts.min_year, opts.max_year + 1) for b in range(a, opts.max_year + 1)]
    groups = [()] + [(g,) for g in opts.crime_groups]
    sexes = [(), ("M",), ("H",)]
    pool = [Filters(year_from=a, year_to=b, crime_groups=g, sexes=s).resolved(opts)
            for (a, b), g, s in itertools.product(years, groups, sexes)]
    rng = np.random.default_rng(7)
    return [pool[i] for i in rng.permutation(len(pool))]


def request(f: Filters) -> None:
    views.municipalities(f)
    views.departments(f)
    views.municipal_trends(f)
    rates.person_years(f)


def _run(users: int, per_user: int, next_filters: Callable[[int, int], Filters]) -> tuple[list[float], float]:
    times: list[float] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(users)

    def user(u: int) -> None:
        start_gate.wait()
        for k in range(per_user):
            f = next_filters(u, k)
            t0 = time.perf_counter()
            request(f)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                times.append(elapsed)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, time.perf_counter() - t0


def measure(opts: FilterOptions, reset: Callable[[], None], per_user: int = 6) -> list[dict[str, Any]]:
    pool = iter(filter_pool(opts))
    rows = []
    for users in USERS:
        reset()
        distinct = [[next(pool) for _ in range(per_user)] for _ in range(users)]
        times, wall = _run(users, per_user, lambda u, k, d=distinct: d[u][k])
        rows.append(_row("distintos", users, times, wall, None))
        # identical: every user asks for the same new filters at each step
        reset()
        shared = [next(pool) for _ in range(per_user)]
        computed = []
        original = yearcube.sums

        def counting(f, by=(), _original=original, _computed=computed):
            _computed.append((f, by))
            return _original(f, by)

        yearcube.sums = counting  # type: ignore[assignment]
        try:
            times, wall = _run(users, per_user, lambda u, k, s=shared: s[k])
        finally:
            yearcube.sums = original  # type: ignore[assignment]
        per_request = len({(f, by) for f, by in computed})
        rows.append(_row("idénticos", users, times, wall, round(len(computed) / max(per_request, 1), 2)))
    return rows


def _row(workload: str, users: int, times: list[float], wall: float, computations: float | None) -> dict[str, Any]:
    row = {"workload": workload, "users": users, "requests": len(times), "per_second": round(len(times) / wall, 1),
           "p50_ms": round(float(np.percentile(times, 50)), 1), "p95_ms": round(float(np.percentile(times, 95)), 1),
           "computations_per_distinct": computations}
    extra = "" if computations is None else f"  cálculos por consulta distinta {computations}"
    print(f"  {workload:9} {users:3} usuarios: {row['per_second']:6.1f} consultas/s  p50 {row['p50_ms']:7.1f} ms  "
          f"p95 {row['p95_ms']:7.1f} ms{extra}", flush=True)
    return row
