"""The controls of a page <-> URL query parameters, so that any view is a shareable link.

Works on plain mappings (the page passes ``st.session_state`` and ``st.query_params``):
- ``restore`` fills each control that has no state yet from the URL (validated against its
  options; anything else is ignored), else from the copy saved when the user last left the
  page (Streamlit forgets the state of widgets that are not drawn), else from its default;
- ``save`` keeps that copy; ``to_params`` gives the URL parameters of the non-default values.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Control:
    key: str                       # session-state / widget key
    param: str                     # URL parameter (Spanish, readable)
    default: Any
    options: Sequence[Any] | None = None          # allowed values (compared as strings in the URL)
    parse: Callable[[str], Any] | None = None     # for free values: text -> value, or None if invalid

    def from_text(self, text: str) -> Any:
        if self.options is not None:
            by_text = {str(o): o for o in self.options}
            return by_text.get(text)
        return self.parse(text) if self.parse else None


def int_between(lo: int, hi: int) -> Callable[[str], int | None]:
    """Parser for a whole number from ``lo`` to ``hi`` (e.g. a weight 0-100)."""
    def parse(text: str) -> int | None:
        try:
            value = int(float(text))
        except ValueError:
            return None
        return value if lo <= value <= hi else None
    return parse


def subset_of(options: Sequence[str]) -> Callable[[str], list[str] | None]:
    """Parser for a comma-separated list of allowed values (unknown ones dropped)."""
    def parse(text: str) -> list[str] | None:
        values = [v for v in dict.fromkeys(text.split(",")) if v in options]
        return values or None
    return parse


def _saved_key(page: str) -> str:
    return f"_saved_{page}"


def restore(state: MutableMapping, url: Mapping[str, Any], page: str, controls: Sequence[Control]) -> None:
    saved = state.get(_saved_key(page), {})
    for c in controls:
        if c.key in state:
            # Re-set: a widget not drawn in a run (the «Medida» box while the map shows another
            # view) would otherwise lose its value at the end of that run.
            state[c.key] = state[c.key]
            continue
        value = None
        if c.param in url:
            raw = url[c.param]
            value = c.from_text(str(raw[-1] if isinstance(raw, (list, tuple)) else raw))
        if value is None and c.key in saved and (c.options is None or saved[c.key] in c.options):
            value = saved[c.key]
        state[c.key] = c.default if value is None else value


def save(state: MutableMapping, page: str, controls: Sequence[Control]) -> None:
    state[_saved_key(page)] = {c.key: state[c.key] for c in controls if c.key in state}


def to_params(state: Mapping, controls: Sequence[Control], dump: Mapping[str, Callable[[Any], str]] | None = None) -> dict[str, str]:
    out = {}
    for c in controls:
        value = state.get(c.key, c.default)
        if value != c.default and value is not None:
            out[c.param] = (dump or {}).get(c.key, str)(value)
    return out


def sync_url(url: MutableMapping, wanted: Mapping[str, str], controls: Sequence[Control]) -> None:
    """Write the wanted parameters of these controls into the URL and drop the ones at default."""
    for c in controls:
        if c.param in wanted:
            if url.get(c.param) != wanted[c.param]:
                url[c.param] = wanted[c.param]
        elif c.param in url:
            del url[c.param]
