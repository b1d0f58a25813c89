"""The bulletin as a PDF, written without a browser or a network (ReportLab).

The same blocks as the HTML bulletin (core/bulletin.py): headings, key figures, tables that
continue on the next page with their header repeated, the charts and the map (drawn offline by
vl-convert), notes and definitions. The font is Bitstream Vera, shipped with ReportLab: every
Spanish letter, the en dash and the middle dot print as such.
"""
from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core import bulletin
from core.filters import Filters

FONT, BOLD = "AtalayaSans", "AtalayaSans-Bold"
ACCENT = colors.HexColor("#e34a33")
GREY = colors.HexColor("#555555")
WARN_FILL, WARN_LINE = colors.HexColor("#fff4d6"), colors.HexColor("#e0b000")
PAGE = A4
MARGIN = 1.8 * cm
PNG_SCALE = 2  # charts rasterised at twice their size: sharp when printed


def _fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=18, leading=22, spaceAfter=2),
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=12.5, leading=16, spaceBefore=12, spaceAfter=5,
                             textColor=colors.HexColor("#1f2430"), keepWithNext=1),
        "dd": ParagraphStyle("dd", parent=body, leftIndent=12, spaceAfter=3),
        "body": body,
        "sub": ParagraphStyle("sub", parent=body, fontSize=8.5, leading=11.5, textColor=GREY),
        "warn": ParagraphStyle("warn", parent=body, backColor=WARN_FILL, borderColor=WARN_LINE, borderWidth=0.8,
                               borderPadding=5, spaceBefore=6, spaceAfter=8),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "num": ParagraphStyle("num", parent=body, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=8.5, leading=10.5),
        "headnum": ParagraphStyle("headnum", parent=body, fontName=BOLD, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "kpi": ParagraphStyle("kpi", parent=body, fontSize=8.5, leading=11),
        "kpivalue": ParagraphStyle("kpivalue", parent=body, fontName=BOLD, fontSize=15, leading=18),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _chart(block: bulletin.Chart, width: float) -> Flowable:
    import vl_convert as vlc

    png = vlc.vegalite_to_png(block.chart.to_json(), scale=PNG_SCALE)
    image = Image(io.BytesIO(png))
    w, h = image.imageWidth / PNG_SCALE, image.imageHeight / PNG_SCALE
    ratio = min(1.0, width / w)
    image.drawWidth, image.drawHeight = w * ratio, h * ratio
    image.hAlign = "LEFT"
    return image


def _key_figures(block: bulletin.KeyFigures, s: dict[str, ParagraphStyle], width: float) -> Flowable:
    cells = [[_p(label, s["kpi"]), _p(value, s["kpivalue"])] for label, value in block.items]
    table = Table([[c] for c in cells] if len(cells) < 2 else [cells], colWidths=None if len(cells) < 2 else
                  [width / len(cells)] * len(cells))
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#dddddd")),
                               ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#dddddd")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return table


def _table(block: bulletin.Table, s: dict[str, ParagraphStyle], width: float) -> Flowable:
    columns = list(block.frame.columns)
    numeric = [c in block.numeric for c in columns]
    rows = [[_p(c, s["headnum"] if n else s["head"]) for c, n in zip(columns, numeric)]]
    for record in block.frame.itertuples(index=False):
        rows.append([_p(v, s["num"] if n else s["cell"]) for v, n in zip(record, numeric)])
    # text columns share what the numeric ones leave
    text_cols = max(1, sum(not n for n in numeric))
    num_width = min(3.2 * cm, width / len(columns))
    text_width = (width - num_width * sum(numeric)) / text_cols
    table = Table(rows, colWidths=[num_width if n else text_width for n in numeric], repeatRows=1)
    table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#e5e5e5")),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#999999")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return table


def to_pdf(doc: bulletin.Bulletin) -> bytes:
    """The bulletin ``doc`` as PDF bytes (A4, numbered pages, title and period in the metadata)."""
    _fonts()
    s = _styles()
    out = io.BytesIO()
    width = PAGE[0] - 2 * MARGIN
    story: list[Flowable] = [_p(doc.heading, s["title"]), _p(doc.subtitle, s["sub"]), Spacer(1, 6)]
    if doc.synthetic:
        story.append(Paragraph("<b>Datos sintéticos de demostración.</b> No representan la situación real.", s["warn"]))
    for block in doc.blocks:
        if isinstance(block, bulletin.Heading):
            story.append(_p(block.text, s["h2"]))  # kept with what follows it (keepWithNext)
        elif isinstance(block, bulletin.Text):
            story.append(_p(block.text, s[block.style or "body"]))
        elif isinstance(block, bulletin.KeyFigures):
            story.append(_key_figures(block, s, width))
        elif isinstance(block, bulletin.Table):
            story.append(_table(block, s, width))
        elif isinstance(block, bulletin.Chart):
            story.append(_chart(block, width))
        elif isinstance(block, bulletin.Items):
            story.append(ListFlowable([ListItem(_p(i, s["body"]), leftIndent=10) for i in block.items],
                                      bulletType="bullet", start="•", leftIndent=10))
        elif isinstance(block, bulletin.Definitions):
            for term, texts in block.items:
                story.append(KeepTogether([Paragraph(f"<b>{escape(term)}</b>", s["body"]),
                                           *(_p(t, s["dd"]) for t in texts)]))

    def footer(canvas, template) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 1.0 * cm, doc.footer)
        canvas.drawRightString(PAGE[0] - MARGIN, 1.0 * cm, f"Página {template.page}")
        canvas.restoreState()

    SimpleDocTemplate(out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=1.8 * cm,
                      title=doc.title, author="Atalaya", subject=doc.subtitle, lang="es").build(
        story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def render(f: Filters, muni_code: str | None = None) -> bytes:
    """The bulletin of the country (or ``muni_code``) for the filters, as PDF bytes."""
    return to_pdf(bulletin.content(f, muni_code))
