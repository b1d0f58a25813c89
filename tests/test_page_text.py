"""Page text that states a threshold or a definition takes it from the one place in core that defines it
(core.disclosure for the reserved counts, core.rates for the rate): a page never writes them out."""
from __future__ import annotations

import ast
from pathlib import Path

from core import disclosure, rates, reports, views

ROOT = Path(__file__).resolve().parent.parent
# Text that restates a constant of core: the reserved range and mark, the threshold, the rate's names.
WRITTEN_OUT = ("1 a 4", "«<5»", "menores que 5", "por 100,000 hab", "por 100,000 habitantes")


def written_out(source: str, name: str = "<texto>") -> list[str]:
    """Where a string constant or the literal part of an f-string in ``source`` restates one of WRITTEN_OUT."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            hits += [f"{name}:{node.lineno}: {text!r}" for text in WRITTEN_OUT if text in node.value]
    return hits


def test_the_check_finds_a_threshold_written_out():
    assert written_out('st.caption(f"con 1 a 4 {f.noun()}")')
    assert written_out('x = "Tasa por 100,000 hab."')
    assert not written_out('st.caption(f"con {views.SMALL_COUNTS} {f.noun()}")')


def test_pages_take_thresholds_and_definitions_from_core():
    hits = []
    for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]:
        hits += written_out(path.read_text(encoding="utf-8"), path.name)
    assert not hits, hits


def test_the_constants_say_what_the_text_said():
    assert (disclosure.MIN_COUNT, disclosure.SUPPRESSED, disclosure.SMALL_COUNTS) == (5, "<5", "1 a 4")
    assert (views.SUPPRESSED, views.SMALL_COUNTS, views.MIN_COUNT) == ("<5", "1 a 4", 5)
    assert reports.MEASURES["rate"] == rates.RATE_LABEL == "Tasa por 100,000 hab."
    assert rates.RATE_NAME in rates.DEFINITIONS
    assert rates.rate_definition("Hechos").startswith("Hechos ÷ personas-año × 100,000")
