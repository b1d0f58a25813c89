"""Number formatting for Spanish-speaking users in Central America (1,234.5)."""
from __future__ import annotations

import math
import re

# Every ASCII punctuation mark CommonMark lets a backslash escape (links, images, emphasis,
# headings, lists, tables, HTML, Streamlit's :color[...] directives, LaTeX $...$, autolinks).
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def integer(x) -> str:
    return "—" if _missing(x) else f"{int(round(x)):,}"


def _no_negative_zero(x, digits: int) -> float:
    """-0.04 shown with one decimal reads «-0.0»: a value that rounds to zero is zero."""
    return 0.0 if round(float(x), digits) == 0 else float(x)


def decimal(x, digits: int = 1) -> str:
    return "—" if _missing(x) else f"{_no_negative_zero(x, digits):,.{digits}f}"


def percent(x, digits: int = 1, signed: bool = False) -> str:
    if _missing(x):
        return "—"
    x = _no_negative_zero(x, digits)
    return f"{x:+,.{digits}f} %" if signed else f"{x:,.{digits}f} %"


def chance(p) -> str:
    """A probability as a ministry reader says it: «34 %», «1 en 430», «menos de 1 en un millón»."""
    if _missing(p):
        return "—"
    if p >= 0.1:
        return f"{p * 100:.0f} %"
    if p < 1e-6:
        return "menos de 1 en un millón"
    one_in = float(f"{1 / p:.2g}")  # two significant figures
    return f"1 en {int(one_in):,}"


def literal_markdown(text) -> str:
    """Text from the data (a name, an institution, a rule written at load time) as Markdown that
    shows exactly that text: every punctuation mark backslash-escaped, so that no name becomes a
    link (not even a bare URL), an image, a heading, a colour directive or a formula."""
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
    # Streamlit's Markdown turns URLs and e-mail addresses into links after escapes are read
    # (GFM autolink literals): an invisible word joiner (U+2060) inside «://», «www.» and «@»
    # keeps them text
    joiner = "\u2060"
    escaped = escaped.replace("\\:\\/\\/", "\\:" + joiner + "\\/\\/").replace("\\@", "\\@" + joiner)
    return re.sub(r"(www)(\\\.)", r"\1" + joiner + r"\2", escaped, flags=re.IGNORECASE)


MONTH_NAMES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
               "noviembre", "diciembre")


def period(first: int, last: int) -> str:
    """Years as a period: «2021» or «2019–2023»."""
    return str(first) if first == last else f"{first}–{last}"


def month(year: int, number: int) -> str:
    """A month in words: «junio de 2022»."""
    return f"{MONTH_NAMES[number - 1]} de {year}"
