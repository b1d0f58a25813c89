"""Number formatting for Spanish-speaking users in Central America (1,234.5)."""
from __future__ import annotations

import math


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def integer(x) -> str:
    return "—" if _missing(x) else f"{int(round(x)):,}"


def decimal(x, digits: int = 1) -> str:
    return "—" if _missing(x) else f"{x:,.{digits}f}"


def percent(x, digits: int = 1, signed: bool = False) -> str:
    if _missing(x):
        return "—"
    return f"{x:+,.{digits}f} %" if signed else f"{x:,.{digits}f} %"
