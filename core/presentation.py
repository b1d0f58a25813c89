"""Presentations: saved views of the dashboard played as slides in presenter mode.

A view is a link of the dashboard (its page and URL parameters: every page keeps its state in the
URL). A presentation is a list of such links, written one per line (a file the presenter keeps) or
packed into a single URL parameter, so that the address of the presentation holds every slide: it
works offline and survives a reload of the page. Presenter mode itself is the switch
``presentar=1`` in any page's address.
"""
from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

P_PRESENT = "presentar"  # the switch: presenter mode
P_DECK = "diapos"        # every slide of the presentation, packed (encode/decode)
P_SLIDE = "diapo"        # which one is shown, from 1
PRESENTER_PARAMS = (P_PRESENT, P_DECK, P_SLIDE)
MAX_SLIDES = 40
_MAX_PACKED = 64_000  # bytes a packed presentation may unpack to (a link is a few hundred)


class PresentationError(ValueError):
    """A link or a packed presentation that cannot be read; the message is for the user."""


@dataclass(frozen=True)
class Slide:
    page: str                          # the page's URL path, e.g. "mapa"
    params: tuple[tuple[str, str], ...]  # its URL parameters, without the presenter ones

    def link(self) -> str:
        """The view's relative address: ``/mapa?vista=incidencia``."""
        query = urlencode(self.params)
        return f"/{self.page}" + (f"?{query}" if query else "")


def is_on(params: Mapping[str, object]) -> bool:
    """Whether the URL parameters ask for presenter mode."""
    value = params.get(P_PRESENT)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return str(value).strip().lower() in ("1", "si", "sí", "true")


def parse_link(text: str, pages: Sequence[str], default_page: str) -> Slide:
    """A slide from a link as copied from the address bar (``http://host:8501/mapa?medida=n``) or
    a relative one (``/mapa?medida=n``, ``mapa?medida=n``). The host is not kept (the presentation
    is played wherever the dashboard runs); presenter parameters in the link are dropped."""
    raw = text.strip()
    if not raw:
        raise PresentationError("está vacía")
    parts = urlsplit(raw if "://" in raw or raw.startswith("/") else "/" + raw)
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise PresentationError(f"«{raw[:80]}» no es una dirección de este tablero (se esperaba http:// o /página)")
    page = parts.path.rsplit("/", 1)[-1] or default_page  # «/» or «/tablero/» (a base path): the first page
    if page not in pages:
        raise PresentationError(f"la página «{page[:60]}» no existe en este tablero (páginas: {', '.join(pages)})")
    params = tuple((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=False) if k not in PRESENTER_PARAMS)
    return Slide(page, params)


def parse(text: str, pages: Sequence[str], default_page: str) -> tuple[list[Slide], list[str]]:
    """The slides of a presentation written one link per line (blank lines and lines starting with
    «#» are skipped) and a message for each line that is not a link of this dashboard."""
    slides, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            slides.append(parse_link(line, pages, default_page))
        except PresentationError as exc:
            errors.append(f"Línea {number}: {exc}.")
    if len(slides) > MAX_SLIDES:
        errors.append(f"La presentación tiene {len(slides)} vistas; se usan las primeras {MAX_SLIDES}.")
        slides = slides[:MAX_SLIDES]
    return slides, errors


def to_text(slides: Sequence[Slide]) -> str:
    """The presentation as a file: a comment line, then one link per line (``parse`` reads it back)."""
    head = "# Presentación de Atalaya: una vista del tablero por línea (se pueden editar, borrar o reordenar)"
    return "\n".join([head, *(s.link() for s in slides)]) + "\n"


def encode(slides: Sequence[Slide]) -> str:
    """Every slide packed into one URL-safe parameter value."""
    body = "\n".join(s.link() for s in slides).encode()
    return base64.urlsafe_b64encode(zlib.compress(body, 9)).decode().rstrip("=")


def decode(token: str, pages: Sequence[str], default_page: str) -> list[Slide]:
    """The slides packed by ``encode``; PresentationError for anything else (a cut or edited link)."""
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        body = inflater.decompress(packed, _MAX_PACKED)
        if inflater.unconsumed_tail or not inflater.eof:
            raise PresentationError("la presentación de la dirección está incompleta o es demasiado grande")
        text = body.decode()
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, PresentationError):
            raise
        raise PresentationError("la presentación de la dirección no se puede leer (¿se cortó el enlace?)") from None
    slides, errors = parse(text, pages, default_page)
    if errors:
        raise PresentationError(errors[0])
    if not slides:
        raise PresentationError("la presentación de la dirección no tiene ninguna vista")
    return slides


def slide_params(slides: Sequence[Slide], index: int) -> dict[str, str]:
    """The URL parameters that show slide ``index`` (from 0) in presenter mode, with the whole
    presentation so that the next and previous slides are known after a reload."""
    slide = slides[index]
    return dict(slide.params) | {P_PRESENT: "1", P_DECK: encode(slides), P_SLIDE: str(index + 1)}


def current(params: Mapping[str, object], count: int) -> int:
    """The index (from 0) of the slide the URL asks for, within 0..count-1."""
    raw = params.get(P_SLIDE, "1")
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else "1"
    try:
        number = int(str(raw))
    except ValueError:
        number = 1
    return min(max(number, 1), max(count, 1)) - 1


def without_presenter(params: Mapping[str, object]) -> dict[str, str]:
    """The URL parameters of the view itself (presenter mode left)."""
    out = {}
    for key, value in params.items():
        if key in PRESENTER_PARAMS:
            continue
        out[key] = str(value[-1] if isinstance(value, (list, tuple)) and value else value)
    return out
