"""The published document as .docx: cover and 目录, 第一部分 部门概况, 第二部分
the 12 tables (landscape), 第三部分 情况说明, 第四部分 名词解释 and the 绩效目标表.
Editable by staff afterwards.

Typesetting follows GB/T 9704 (党政机关公文格式) where it speaks: 正文 仿宋_GB2312
三号 (16 pt) at a fixed 28 pt line pitch, justified, first line indented two
characters; 一级标题 黑体, 二级标题 楷体; page numbers "— N —" in 四号 宋体
from the first page of 第一部分 (the cover and 目录 are not numbered); A4 with
the standard margins. Tables are 宋体 小五 (9 pt) on landscape pages.

Headings are real heading styles with outline levels, so the PDF gets
bookmarks and the 目录 is a Word TOC field that Word and LibreOffice fill with
page numbers. Every table starts on a new page, its header rows repeat on
continuation pages and no row breaks across pages. Column widths come from
the content (``column_widths``).

The body is written as WordprocessingML text and put as it is into a package
python-docx builds once per process (styles, settings, footers): python-docx's
object API costs more than the layout itself on documents with large tables,
and parsing the body only to serialise it again cost half of what is left.
Only the East-Asian language is set (zh-CN): a Western zh-CN tag makes
LibreOffice break numbers at the decimal point.
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from ..io_atomic import atomic_write_bytes
from ..model import Disclosure
from ..narrative import Narrative
from ..records import dataclass
from ..spec import Spec
from ..spec import header_merges as merges
from ..writable import property_text
from .column_widths import column_widths
from .performance import PerformanceTable, performance_tables
from .tables import PrintedTable, all_tables, amount_text, title_block

TITLE_FONT, HEADING_FONT, SUBHEADING_FONT, BODY_FONT, TABLE_FONT = "方正小标宋简体", "黑体", "楷体_GB2312", "仿宋_GB2312", "宋体"
BODY_PT, LINE_PT = 16, 28  # 三号, fixed line pitch (GB/T 9704: 22 lines of 28 characters)
TABLE_PT, TABLE_LINE_PT = 9, 12  # 小五
CELL_PAD_TWIPS = 57  # 0.1 cm each side
TWIPS_PER_CM = 567


@dataclass(frozen=True)
class Page:
    landscape: bool
    width_cm: float
    height_cm: float
    top: float
    bottom: float
    left: float
    right: float
    footer: float

    @property
    def text_width_twips(self) -> int:
        return int((self.width_cm - self.left - self.right) * TWIPS_PER_CM)


PORTRAIT = Page(False, 21.0, 29.7, 3.7, 3.5, 2.8, 2.6, 2.5)  # GB/T 9704 margins
LANDSCAPE = Page(True, 29.7, 21.0, 1.6, 1.6, 1.8, 1.8, 0.7)


# ---------------------------------------------------------------- styles

def _rpr(font: str, size: float, bold: bool = False) -> str:
    weight = "<w:b/><w:bCs/>" if bold else '<w:b w:val="0"/><w:bCs w:val="0"/>'
    return (
        f'<w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>'
        f"{weight}"
        f'<w:color w:val="000000"/><w:sz w:val="{int(size * 2)}"/><w:szCs w:val="{int(size * 2)}"/>'
        f'<w:lang w:eastAsia="zh-CN"/></w:rPr>'
    )


def _spacing(line_pt: float | None = None, before: float = 0, after: float = 0) -> str:
    line = f' w:line="{int(line_pt * 20)}" w:lineRule="exact"' if line_pt else ' w:line="240" w:lineRule="auto"'
    return f'<w:spacing w:before="{int(before * 20)}" w:after="{int(after * 20)}"{line}/>'


def _indent_chars(chars: int, size: float) -> str:
    return f'<w:ind w:firstLineChars="{chars * 100}" w:firstLine="{int(chars * size * 20)}"/>'


@dataclass(frozen=True)
class StyleDef:
    style_id: str
    name: str
    font: str
    size: float
    bold: bool = False
    ppr: str = ""
    outline: int | None = None
    based_on: str = "Normal"


def _toc_tabs(page: Page) -> str:
    return f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{page.text_width_twips}"/></w:tabs>'


_PPR_ORDER = ("keepNext", "pageBreakBefore", "tabs", "overflowPunct", "spacing", "ind", "jc", "outlineLvl")
# LibreOffice lets a full-width colon or comma at the end of a justified line
# hang into the margin and then does not draw it. Its docx import reads
# w:overflowPunct inverted (hanging = the value is 0, also when absent), so "1"
# switches hanging off there; in Word "1" is its default (punctuation may
# extend past the margin, and Word draws it).
NO_HANGING = '<w:overflowPunct w:val="1"/>'


STYLES = (
    StyleDef("Normal", "Normal", BODY_FONT, BODY_PT, ppr=NO_HANGING + _spacing(LINE_PT)),
    StyleDef("BodyText", "Body Text", BODY_FONT, BODY_PT, ppr=NO_HANGING + _spacing(LINE_PT) + _indent_chars(2, BODY_PT) + '<w:jc w:val="both"/>'),
    StyleDef("Heading1", "heading 1", TITLE_FONT, 22, ppr='<w:keepNext/>' + _spacing(None, 0, 24) + '<w:jc w:val="center"/>', outline=0),
    StyleDef("Heading2", "heading 2", HEADING_FONT, BODY_PT, ppr='<w:keepNext/>' + _spacing(LINE_PT) + _indent_chars(2, BODY_PT), outline=1),
    StyleDef("Heading3", "heading 3", SUBHEADING_FONT, BODY_PT, ppr='<w:keepNext/>' + _spacing(LINE_PT) + _indent_chars(2, BODY_PT), outline=2),
    StyleDef("BXTableLabel", "表号", HEADING_FONT, 12, ppr='<w:keepNext/><w:pageBreakBefore/>' + _spacing(None)),
    StyleDef("BXContext", "编制部门行", TABLE_FONT, 10, ppr='<w:keepNext/>' + f'<w:tabs><w:tab w:val="right" w:pos="{LANDSCAPE.text_width_twips}"/></w:tabs>' + _spacing(None, 0, 2)),
    StyleDef("BXCell", "表格文字", TABLE_FONT, TABLE_PT, ppr=_spacing(TABLE_LINE_PT)),
    StyleDef("BXCellBold", "表格文字加粗", TABLE_FONT, TABLE_PT, True, ppr=_spacing(TABLE_LINE_PT)),
    StyleDef("BXNote", "表注", BODY_FONT, 12, ppr=_spacing(None, 6, 0) + _indent_chars(2, 12) + '<w:jc w:val="both"/>'),
    StyleDef("BXCover", "封面标题", TITLE_FONT, 26, ppr=_spacing(None, 0, 24) + '<w:jc w:val="center"/>'),
    StyleDef("BXContentsTitle", "目录标题", TITLE_FONT, 22, ppr=_spacing(None, 0, 18) + '<w:jc w:val="center"/>'),
    StyleDef("TOC1", "toc 1", HEADING_FONT, 14, ppr=_toc_tabs(PORTRAIT) + _spacing(None, 6, 0)),
    StyleDef("TOC2", "toc 2", BODY_FONT, 14, ppr=_toc_tabs(PORTRAIT) + _spacing(None) + '<w:ind w:left="560"/>'),
    StyleDef("BXPageNumber", "页码", TABLE_FONT, 14, ppr=_spacing(None) + '<w:jc w:val="center"/>'),
    StyleDef("BXSignature", "落款", BODY_FONT, BODY_PT, ppr=_spacing(LINE_PT) + '<w:jc w:val="right"/>'),
    StyleDef("BXPerfTitle", "绩效目标表标题", TITLE_FONT, 18, ppr='<w:keepNext/><w:pageBreakBefore/>' + _spacing(None, 0, 2) + '<w:jc w:val="center"/>'),
    StyleDef("BXPerfYear", "绩效目标表年度", BODY_FONT, 12, ppr='<w:keepNext/>' + _spacing(None, 0, 4) + '<w:jc w:val="center"/>'),
)


def _install_styles(doc) -> None:
    """Replace the template's styles with the ones used. The built-in
    headings keep their names (heading 1…3), which is what Word, WPS and
    LibreOffice map to their own outline headings. The template's other
    styles (about 160, most of them table styles with conditional formats)
    and its latent-style list are dropped: LibreOffice imports every style
    of the file, which cost about a fifth of its docx import time; the
    defaults (w:default) stay."""
    styles = doc.styles.element
    for old in [*styles.findall(qn("w:style")), *styles.findall(qn("w:latentStyles"))]:
        if old.get(qn("w:default")) not in ("1", "true", "on"):
            styles.remove(old)
    for d in STYLES:
        old = next((s for s in styles.findall(qn("w:style")) if s.get(qn("w:styleId")) == d.style_id), None)
        if old is not None:
            styles.remove(old)
        outline = f'<w:outlineLvl w:val="{d.outline}"/>' if d.outline is not None else ""
        based = "" if d.style_id == "Normal" else f'<w:basedOn w:val="{d.based_on}"/>'
        default = ' w:default="1"' if d.style_id == "Normal" else ""
        ppr = d.ppr
        if outline:  # outlineLvl belongs after jc in CT_PPr's sequence
            ppr = ppr + outline
        xml = (
            f'<w:style {nsdecls("w")} w:type="paragraph"{default} w:styleId="{d.style_id}">'
            f'<w:name w:val="{d.name}"/>{based}<w:qFormat/>'
            f"<w:pPr>{_ordered_ppr(ppr)}</w:pPr>{_rpr(d.font, d.size, d.bold)}</w:style>"
        )
        styles.append(parse_xml(xml))
    # the document defaults: East-Asian language only, no theme fonts
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        styles.remove(defaults)
    styles.insert(0, parse_xml(
        f'<w:docDefaults {nsdecls("w")}><w:rPrDefault>{_rpr(BODY_FONT, BODY_PT)}</w:rPrDefault>'
        f'<w:pPrDefault><w:pPr>{_spacing(None)}</w:pPr></w:pPrDefault></w:docDefaults>'
    ))





def _ordered_ppr(ppr: str) -> str:
    """pPr children in the schema's order (Word refuses files otherwise)."""
    chunks = re.findall(r"<w:tabs>.*?</w:tabs>|<w:\w+[^>]*/>", ppr)
    names = [re.match(r"<w:(\w+)", c).group(1) for c in chunks]
    return "".join(c for _, c in sorted(zip(names, chunks), key=lambda x: _PPR_ORDER.index(x[0])))


# ---------------------------------------------------------------- body XML

def _run(text: str, bold: bool = False) -> str:
    b = "<w:rPr><w:b/><w:bCs/></w:rPr>" if bold else ""
    return f'<w:r>{b}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _p(style: str, text: str = "", jc: str | None = None, extra_ppr: str = "", runs: str = "") -> str:
    ppr = f'<w:pStyle w:val="{style}"/>{extra_ppr}' + (f'<w:jc w:val="{jc}"/>' if jc else "")
    return f"<w:p><w:pPr>{ppr}</w:pPr>{_run(text) if text else ''}{runs}</w:p>"


def _sect_pr(page: Page, footer: str = "", start_at: int | None = None) -> str:
    w, h = int(page.width_cm * TWIPS_PER_CM), int(page.height_cm * TWIPS_PER_CM)
    orient = ' w:orient="landscape"' if page.landscape else ""
    c = lambda v: int(v * TWIPS_PER_CM)  # noqa: E731
    numbering = f'<w:pgNumType w:start="{start_at}"/>' if start_at else ""
    return (
        f'<w:sectPr>{footer}<w:type w:val="nextPage"/><w:pgSz w:w="{w}" w:h="{h}"{orient}/>'
        f'<w:pgMar w:top="{c(page.top)}" w:right="{c(page.right)}" w:bottom="{c(page.bottom)}" w:left="{c(page.left)}" '
        f'w:header="851" w:footer="{c(page.footer)}" w:gutter="0"/>{numbering}<w:docGrid w:linePitch="312"/></w:sectPr>'
    )


class Body:
    """The document body as WordprocessingML text, section by section."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.sections: list[tuple[Page, bool, int | None]] = []  # page, numbered, restart

    def add(self, xml: str) -> None:
        self.parts.append(xml)

    def end_section(self, page: Page, numbered: bool, start_at: int | None = None) -> None:
        """Close the section so far: its properties go into its last paragraph
        (a separate empty paragraph would be merged into the one before by
        LibreOffice, which then loses its own indent and alignment); after a
        table, into a 1-pt empty paragraph."""
        mark = f"\x00SECTION{len(self.sections)}\x00"
        last = self.parts[-1] if self.parts else ""
        if last.startswith("<w:p>") and last.count("</w:pPr>") == 1:
            self.parts[-1] = last.replace("</w:pPr>", mark + "</w:pPr>")
        else:
            self.parts.append(f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/><w:rPr><w:sz w:val="2"/></w:rPr>{mark}</w:pPr></w:p>')
        self.sections.append((page, numbered, start_at))


def _table_xml(grid: list[list[str]], widths_twips: list[int], header_rows: int, spans: list[tuple[int, int, int, int]],
               styles: list[list[str]], aligns: list[list[str | None]], repeat: bool, center: bool = True) -> str:
    """A table with a fixed grid. ``spans`` are merged rectangles; every row is
    kept on one page (cantSplit) and the first ``header_rows`` repeat.
    Borders and cell margins are the table's own, with no table style: for
    a table style LibreOffice's docx import resolves the conditional formats
    (first row, banding) cell by cell, which was a third of its import time."""
    origin: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    covered: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for top, left, bottom, right in spans:
        origin[(top, left)] = (top, left, bottom, right)
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                if (r, c) != (top, left):
                    covered[(r, c)] = (top, left, bottom, right)
    total = sum(widths_twips)
    out = [
        f'<w:tbl><w:tblPr><w:tblW w:w="{total}" w:type="dxa"/>'
        + ('<w:jc w:val="center"/>' if center else "")
        + '<w:tblBorders>' + "".join(f'<w:{s} w:val="single" w:sz="4" w:space="0" w:color="000000"/>' for s in ("top", "left", "bottom", "right", "insideH", "insideV"))
        + '</w:tblBorders><w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:left w:w="{CELL_PAD_TWIPS}" w:type="dxa"/><w:right w:w="{CELL_PAD_TWIPS}" w:type="dxa"/></w:tblCellMar>'
        '</w:tblPr><w:tblGrid>'
        + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths_twips)
        + "</w:tblGrid>"
    ]
    for r, row in enumerate(grid):
        head = "<w:tblHeader/>" if repeat and r < header_rows else ""
        out.append(f"<w:tr><w:trPr><w:cantSplit/>{head}</w:trPr>")
        c = 0
        while c < len(row):
            span = origin.get((r, c)) or covered.get((r, c))
            if span and covered.get((r, c)) and span[1] < c:
                c += 1  # inside a horizontal span: the origin's cell covers it
                continue
            right = span[3] if span else c
            width = sum(widths_twips[c : right + 1])
            tcpr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
            if right > c:
                tcpr += f'<w:gridSpan w:val="{right - c + 1}"/>'
            if span and span[2] > span[0]:
                tcpr += '<w:vMerge w:val="restart"/>' if r == span[0] else "<w:vMerge/>"
            tcpr += '<w:vAlign w:val="center"/>'
            text = row[c] if not (span and r > span[0]) else ""
            jc = aligns[r][c]
            ppr = f'<w:pStyle w:val="{styles[r][c]}"/>' + (f'<w:jc w:val="{jc}"/>' if jc else "")
            out.append(f"<w:tc><w:tcPr>{tcpr}</w:tcPr><w:p><w:pPr>{ppr}</w:pPr>{_run(text) if text else ''}</w:p></w:tc>")
            c = right + 1
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


# ---------------------------------------------------------------- parts

def _cover(body: Body, d: Disclosure) -> None:
    body.add(_p("Normal", extra_ppr='<w:spacing w:before="3600"/>'))
    body.add(_p("BXCover", f"{d.year}年{d.department}"))
    body.add(_p("BXCover", "部门预算公开"))


def _contents(body: Body, d: Disclosure, narrative: Narrative, spec: Spec) -> None:
    """目录: a TOC field over heading levels 1–2. Its cached entries (shown
    until a program updates the field) are the same headings without page
    numbers; LibreOffice (through ``office``) and Word fill in the numbers."""
    body.add(_p("BXContentsTitle", "目  录", extra_ppr="<w:pageBreakBefore/>"))
    entries = []
    for level, title in _outline(d, narrative, spec):
        if level <= 2:
            entries.append((level, title))
    field_begin = (
        '<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> TOC \\o "1-2" \\h \\z \\u </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
    )
    for i, (level, title) in enumerate(entries):
        runs = (field_begin if i == 0 else "") + _run(title)
        body.add(_p(f"TOC{level}", runs=runs))
    body.add(_p("Normal", runs='<w:r><w:fldChar w:fldCharType="end"/></w:r>'))


def _outline(d: Disclosure, narrative: Narrative, spec: Spec) -> list[tuple[int, str]]:
    """(level, heading) in document order: what the 目录 and the bookmarks show."""
    out: list[tuple[int, str]] = []
    for s in narrative.sections:
        if s.id == "part3":
            out.append((1, f"第二部分 {d.year}年部门预算公开表"))
            out += [(2, t.title) for t in spec.tables]
        out.append((s.level, s.title))
    return out


def _sections(narrative: Narrative, test) -> list:
    return [s for s in narrative.sections if test(s.id)]


def _narrative(body: Body, sections, first_on_new_page: bool = False) -> None:
    for i, s in enumerate(sections):
        style = {1: "Heading1", 2: "Heading2"}.get(s.level, "Heading3")
        extra = "<w:pageBreakBefore/>" if (first_on_new_page and i == 0) else ""
        body.add(_p(style, s.title, extra_ppr=extra))
        for text in s.paragraphs:
            for line in text.split("\n"):  # a list inside a paragraph: one indented line each
                if line.strip():
                    body.add(_p("BodyText", line.strip()))


def _overview(body: Body, narrative: Narrative) -> None:
    """第一部分 部门概况."""
    _narrative(body, _sections(narrative, lambda i: i.startswith("part1")))


def _explanation(body: Body, narrative: Narrative) -> None:
    """第三部分 情况说明 (一 … 十三)."""
    _narrative(body, _sections(narrative, lambda i: i == "part3" or i.startswith("s")))


def _glossary(body: Body, narrative: Narrative) -> None:
    """第四部分 名词解释, on a new page."""
    _narrative(body, _sections(narrative, lambda i: i == "part4"), first_on_new_page=True)


def _disclosure_table(body: Body, pt: PrintedTable, width_twips: int) -> None:
    block = title_block(pt)
    body.add(_p("BXTableLabel", block.label))
    # a real heading 2 (the 目录 and the bookmarks list it), set as a title
    title_run = f'<w:r>{_rpr(TITLE_FONT, 18)}<w:t xml:space="preserve">{escape(block.title)}</w:t></w:r>'
    body.add(_p("Heading2", jc="center", extra_ppr=_spacing(None, 0, 6) + '<w:ind w:firstLineChars="0" w:firstLine="0"/>', runs=title_run))
    # the 编制部门/单位 line is a paragraph (a tab to the right edge), not a
    # one-row table: a table directly before the main table makes LibreOffice
    # drop the repeated header rows
    body.add(_p("BXContext", runs=_run(block.department_line) + "<w:r><w:tab/></w:r>" + _run(block.unit_line)))
    height = len(pt.header)
    rows = [[amount_text(v) if v is not None else "" for v in cells] for cells in pt.rows]
    kinds = tuple("amount" if pt.numeric[c] else "code" if c in pt.code_columns else "text" for c in range(len(pt.numeric)))
    widths = column_widths(pt.header, rows, kinds, [any(b) for b in pt.bold], width_twips / 20, TABLE_PT, 2 * CELL_PAD_TWIPS / 20 + 1)
    widths_twips = [int(w * 20) for w in widths]
    grid = [[("" if t in ("<", "^") else t) for t in hrow] for hrow in pt.header] + rows
    styles = [["BXCellBold"] * len(hrow) for hrow in pt.header]
    styles += [["BXCellBold" if b else "BXCell" for b in bold] for bold in pt.bold]
    aligns: list[list[str | None]] = [["center"] * len(hrow) for hrow in pt.header]
    aligns += [["right" if k == "amount" else "center" if k == "code" else None for k in kinds] for _ in rows]
    body.add(_table_xml(grid, widths_twips, height, merges(pt.header), styles, aligns, repeat=True))
    if pt.statement:
        body.add(_p("BXNote", pt.statement))


def _tables(body: Body, d: Disclosure, spec: Spec) -> None:
    """第二部分: the 12 disclosure tables, each from a new page."""
    body.add(_p("Heading1", f"第二部分 {d.year}年部门预算公开表", extra_ppr='<w:spacing w:before="4000"/>'))
    for pt in all_tables(d, spec):
        _disclosure_table(body, pt, LANDSCAPE.text_width_twips)


def _performance_table(body: Body, pt: PerformanceTable, width_twips: int) -> None:
    body.add(_p("BXPerfTitle", pt.title))
    body.add(_p("BXPerfYear", f"（{pt.year}年）"))
    total = sum(pt.widths) or 1
    widths_twips = [int(width_twips * w / total) for w in pt.widths]
    grid = [list(row.cells) for row in pt.rows]
    styles = [["BXCellBold" if (row.bold or c in row.bold_columns) else "BXCell" for c in range(pt.width)] for row in pt.rows]
    aligns = [[None] * pt.width for _ in pt.rows]
    body.add(_table_xml(grid, widths_twips, 0, list(pt.merges), styles, aligns, repeat=False))


def _performance(body: Body, tables: list[PerformanceTable]) -> None:
    """部门整体 and 项目支出 绩效目标表, each from a new page."""
    for pt in tables:
        _performance_table(body, pt, LANDSCAPE.text_width_twips)


def _signature(body: Body, d: Disclosure) -> None:
    body.add(_p("Normal"))
    body.add(_p("BXSignature", d.department))
    published = d.info.text("公开日期")
    if published:
        body.add(_p("BXSignature", _chinese_date(published)))


def _chinese_date(text: str) -> str:
    m = re.search(r"(\d{4})\D(\d{1,2})\D(\d{1,2})", text)
    return f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日" if m else text


# ---------------------------------------------------------------- assembly

def _body(d: Disclosure, narrative: Narrative, spec: Spec) -> Body:
    body = Body()
    _cover(body, d)
    _contents(body, d, narrative, spec)
    body.end_section(PORTRAIT, numbered=False)
    _overview(body, narrative)
    body.end_section(PORTRAIT, numbered=True, start_at=1)
    _tables(body, d, spec)
    body.end_section(LANDSCAPE, numbered=True)
    _explanation(body, narrative)
    _glossary(body, narrative)
    performance = performance_tables(d)
    if not performance:
        _signature(body, d)
    body.end_section(PORTRAIT, numbered=True)
    if performance:
        _performance(body, performance)
        _signature(body, d)
        body.end_section(LANDSCAPE, numbered=True)
    return body


@dataclass(frozen=True)
class _Package:
    """Everything of the .docx but the body and two properties, saved once
    per process by python-docx: the styles, settings, footers and the other
    parts of its template. ``document_bytes`` puts each document's body into
    it as text (python-docx would parse the body and serialise it again)."""

    parts: dict[str, bytes]
    head: str  # word/document.xml up to the body
    tail: str  # after the body
    footer_id: str  # "— N —"
    empty_footer_id: str


_TITLE, _AUTHOR = "BUDGETXLTITLE", "BUDGETXLAUTHOR"  # placeholders in docProps/core.xml
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@lru_cache(maxsize=1)
def _package() -> _Package:
    doc = Document()
    # the template's Word 2010 copy of its styles (430 KB, not read by LibreOffice;
    # Word rebuilds it) would only be compressed again for every document
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rid)
    for rid, rel in list(doc.part.package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):  # a picture of the template, not of this document
            del doc.part.package.rels[rid]
    _install_styles(doc)
    settings = doc.settings.element
    update = parse_xml(f'<w:updateFields {nsdecls("w")} w:val="true"/>')  # Word fills the 目录 on opening
    later = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids")  # its place in CT_Settings
    anchor = next((c for c in settings if c.tag.split("}")[-1] in later), None)
    if anchor is not None:
        anchor.addprevious(update)
    else:
        settings.append(update)
    doc.core_properties.title = _TITLE
    doc.core_properties.author = _AUTHOR
    footer_id = _page_number_footer(doc)
    empty_footer_id = _empty_footer(doc)
    body = doc.element.body
    for child in list(body):
        body.remove(child)
    buffer = io.BytesIO()
    doc.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    document = parts.pop("word/document.xml").decode("utf-8")
    head, found, tail = document.partition("<w:body/>")
    root = document[: document.index(">", document.index("<w:document"))]
    if not found or 'xmlns:w="' not in root or 'xmlns:r="' not in root:
        raise RuntimeError("python-docx's template changed: no empty body or namespaces to put one in")
    return _Package(parts, head, tail, footer_id, empty_footer_id)


def document_bytes(d: Disclosure, narrative: Narrative, spec: Spec) -> bytes:
    """The .docx package of one document."""
    body = _body(d, narrative, spec)
    package = _package()
    text = "".join(body.parts)
    last = len(body.sections) - 1
    for i, (page, numbered, start_at) in enumerate(body.sections):
        footer = f'<w:footerReference w:type="default" r:id="{package.footer_id if numbered else package.empty_footer_id}"/>'
        sect = _sect_pr(page, footer, start_at)
        # the last section's properties are the body's own; the others close their section
        text = text.replace(f"\x00SECTION{i}\x00", "" if i == last else sect)
        if i == last:
            final = sect
    text = f"<w:body>{text}{final}</w:body>"
    bad = _BAD_XML.search(text)
    if bad:  # the model is scrubbed (writable.scrub) before it gets here
        raise ValueError(f"character U+{ord(bad.group()):04X} cannot be written to a Word file")
    core = package.parts["docProps/core.xml"].decode("utf-8")
    core = core.replace(_TITLE, escape(property_text(f"{d.year}年{d.department}部门预算公开")), 1)  # ≤ 255 characters
    core = core.replace(_AUTHOR, escape(property_text(d.department)), 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in package.parts.items():
            if name == "docProps/core.xml":
                data = core.encode("utf-8")
            z.writestr(name, data)
            if name == "[Content_Types].xml":  # the main part right after the content types, as python-docx writes it
                z.writestr("word/document.xml", (package.head + text + package.tail).encode("utf-8"))
    return out.getvalue()


def _page_number_footer(doc) -> str:
    """A footer part "— N —" (PAGE field); returns its relationship id."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.parts.hdrftr import FooterPart

    part = FooterPart.new(doc.part.package)
    for child in list(part.element):
        part.element.remove(child)
    part.element.append(parse_xml(
        f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="BXPageNumber"/></w:pPr>{_run("— ")}'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{_run("1")}<w:r><w:fldChar w:fldCharType="end"/></w:r>{_run(" —")}</w:p>'
    ))
    return doc.part.relate_to(part, RT.FOOTER)


def _empty_footer(doc) -> str:
    """An explicitly empty footer, so an unnumbered section does not inherit one;
    returns its relationship id."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.parts.hdrftr import FooterPart

    part = FooterPart.new(doc.part.package)
    for child in list(part.element):
        part.element.remove(child)
    part.element.append(parse_xml(f'<w:p {nsdecls("w")}/>'))
    return doc.part.relate_to(part, RT.FOOTER)


def write_docx(d: Disclosure, narrative: Narrative, spec: Spec, path: Path) -> Path:
    return atomic_write_bytes(Path(path), document_bytes(d, narrative, spec))  # built in memory, then written atomically

