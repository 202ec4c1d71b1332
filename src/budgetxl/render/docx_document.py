"""The published document as .docx (python-docx): cover, 目录, 第一部分 部门概况,
第二部分 the 12 tables (landscape), 第三部分 情况说明, 第四部分 名词解释 and the
绩效目标表. Editable by staff afterwards.

Fonts follow government documents: 方正小标宋简体 titles, 黑体 headings,
仿宋_GB2312 body, 宋体 tables. Only the East-Asian language is set (zh-CN): a
Western zh-CN tag makes LibreOffice break numbers at the decimal point.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from ..io_atomic import atomic_path
from ..model import Disclosure
from ..narrative import Narrative
from ..spec import Spec
from .performance import PerformanceTable, performance_tables
from ..spec import header_merges as merges
from .tables import PrintedTable, all_tables, amount_text

TITLE_FONT, HEADING_FONT, BODY_FONT, TABLE_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312", "宋体"
PART_TITLES = ("第一部分", "第二部分", "第三部分", "第四部分")


_STYLE_CACHE: dict[int, dict] = {}


def _style(doc, font: str, size: float, bold: bool):
    """A paragraph style per (font, size, bold), made once: setting fonts on
    every run is what makes python-docx slow on big tables."""
    from docx.enum.style import WD_STYLE_TYPE

    name = f"BX {font} {size:g}{' 粗' if bold else ''}"
    cache = _STYLE_CACHE.setdefault(id(doc), {})
    if name not in cache:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
        _fonts(style, font, size, bold)
        cache[name] = style
    return cache[name]


def _fonts(run, name: str, size: float | None = None, bold: bool | None = None) -> None:
    """Fonts and the East-Asian language on a run or a style."""
    run.font.name = name
    rpr = run.element.get_or_add_rPr() if hasattr(run, "element") else run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")  # East-Asian only, see module docstring
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold


def _para(doc, text: str, font: str = BODY_FONT, size: float = 12, bold: bool = False,
          align=None, indent: bool = False, space_after: float = 4):
    p = doc.add_paragraph()
    p._p.style = _style(doc, font, size, bold).style_id  # by id: python-docx's setter rescans all styles
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(space_after)
    fmt.line_spacing = 1.25
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if text:
        p.add_run(text)
    return p


def _page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _page_number_footer(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(p.add_run("— "), BODY_FONT, 10)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)
    _fonts(p.add_run(" —"), BODY_FONT, 10)


def _orient(section, landscape: bool) -> None:
    a4_long, a4_short = Cm(29.7), Cm(21.0)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (a4_long, a4_short) if landscape else (a4_short, a4_long)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(1.8 if landscape else 2.6))
    section.top_margin, section.bottom_margin = Cm(2.0 if landscape else 3.0), Cm(2.0 if landscape else 2.6)


_TABLE_STYLES: dict = {}
MIN_AMOUNT_CM = 1.75  # "1,462.90" in 9 pt plus the cell margins


def _cell_text(cell, text: str, bold: bool = False, align=WD_ALIGN_PARAGRAPH.LEFT, size: float = 9) -> None:
    """Text in a fresh cell (one empty paragraph); empty text leaves it alone."""
    if not text:
        return
    p = cell.paragraphs[0]
    p._p.style = _TABLE_STYLES[(size, bold)]  # style id, see _para
    if align != WD_ALIGN_PARAGRAPH.LEFT:
        p.alignment = align
    p.add_run(text)


def _grid(table, widths, total_cm: float, fixed: dict[int, float] | None = None, numeric=()) -> list[list]:
    """The table's cells, fetched once (python-docx's table.cell() rescans the
    whole table on every call), with the column widths set. ``fixed`` gives
    columns a width in cm (code columns); amount columns get at least what
    '1,462.90' needs; the rest share what is left."""
    fixed = dict(fixed or {})
    free_total = total_cm - sum(fixed.values())
    free_weight = sum(w for i, w in enumerate(widths) if i not in fixed) or 1
    for i in range(len(widths)):
        if i not in fixed and i < len(numeric) and numeric[i] and widths[i] * free_total / free_weight < MIN_AMOUNT_CM:
            fixed[i] = MIN_AMOUNT_CM
    free = [w for i, w in enumerate(widths) if i not in fixed]
    scale = (total_cm - sum(fixed.values())) / (sum(free) or 1)
    table.autofit = False
    columns = [Cm(fixed[i]) if i in fixed else Cm(w * scale) for i, w in enumerate(widths)]
    # LibreOffice lays out by the table grid, Word by the cell widths: set both
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), columns):
        col.set(qn("w:w"), str(int(width.twips)))
    grid = [list(row.cells) for row in table.rows]
    for row in grid:
        for cell, width in zip(row, columns):
            cell.width = width
    return grid


def _merge(grid, top: int, left: int, bottom: int, right: int) -> None:
    """Merge a rectangle of a fresh table by writing gridSpan/vMerge directly.

    python-docx's Cell.merge recomputes the table layout on every call (most
    of a document's build time); on a table without earlier merges in these
    rows the result is the same: the first cell of each row spans the
    columns, the rows below continue the first row, and only the top-left
    cell keeps its text."""
    width = sum(grid[top][c].width or 0 for c in range(left, right + 1))
    for r in range(top, bottom + 1):
        first = grid[r][left]._tc
        if right > left:
            first.grid_span = right - left + 1
            if width:
                grid[r][left].width = width
            for c in range(left + 1, right + 1):
                tc = grid[r][c]._tc
                tc.getparent().remove(tc)
        if bottom > top:
            first.vMerge = "restart" if r == top else "continue"
            if r > top:
                for p in first.findall(qn("w:p")):
                    for run in p.findall(qn("w:r")):
                        p.remove(run)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _disclosure_table(doc, pt: PrintedTable, page_width_cm: float) -> None:
    _para(doc, f"表{pt.number}", HEADING_FONT, 11, space_after=2)
    _para(doc, pt.title, TITLE_FONT, 16, True, WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    context = doc.add_table(rows=1, cols=2)
    _cell_text(context.cell(0, 0), pt.department_line, size=10)
    _cell_text(context.cell(0, 1), pt.unit_line, align=WD_ALIGN_PARAGRAPH.RIGHT, size=10)
    height, width = len(pt.header), len(pt.header[0])
    table = doc.add_table(rows=height + len(pt.rows), cols=width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    code_widths = {c: (1.15 if k == 0 else 0.85) for k, c in enumerate(pt.code_columns)}
    grid = _grid(table, pt.widths, page_width_cm, code_widths, pt.numeric)
    for i, header_row in enumerate(pt.header):
        _repeat_header(table.rows[i])
        for c, text in enumerate(header_row):
            if text not in ("<", "^"):
                _cell_text(grid[i][c], text, True, WD_ALIGN_PARAGRAPH.CENTER)
    for r, (cells, bold) in enumerate(zip(pt.rows, pt.bold)):
        for c, text in enumerate(cells):
            align = WD_ALIGN_PARAGRAPH.RIGHT if pt.numeric[c] else WD_ALIGN_PARAGRAPH.LEFT
            _cell_text(grid[height + r][c], amount_text(text), bold[c], align)
    for top, left, bottom, right in merges(pt.header):
        _merge(grid, top, left, bottom, right)
    if pt.statement:
        _para(doc, pt.statement, BODY_FONT, 11, indent=True, space_after=6)


def _performance_table(doc, pt: PerformanceTable, page_width_cm: float) -> None:
    _para(doc, pt.title, TITLE_FONT, 16, True, WD_ALIGN_PARAGRAPH.CENTER, space_after=2)
    _para(doc, f"（{pt.year}年）", BODY_FONT, 11, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=4)
    width = pt.width
    table = doc.add_table(rows=len(pt.rows), cols=width)
    table.style = "Table Grid"
    grid = _grid(table, pt.widths, page_width_cm)
    for r, row in enumerate(pt.rows):
        for c, text in enumerate(row.cells):
            _cell_text(grid[r][c], text, row.bold or c in row.bold_columns)
    for top, left, bottom, right in pt.merges:
        _merge(grid, top, left, bottom, right)


def build_document(d: Disclosure, narrative: Narrative, spec: Spec):
    doc = Document()
    _fonts(doc.styles["Normal"], BODY_FONT)
    for size in (9, 10):
        for bold in (False, True):
            style = _style(doc, TABLE_FONT, size, bold)
            style.paragraph_format.space_after = Pt(0)
            style.paragraph_format.line_spacing = 1.0
            _TABLE_STYLES[(size, bold)] = style.style_id
    section = doc.sections[0]
    _orient(section, landscape=False)
    _page_number_footer(section)
    doc.core_properties.title = f"{d.year}年{d.department}部门预算公开"
    doc.core_properties.author = d.department

    # cover
    for _ in range(6):
        _para(doc, "")
    _para(doc, f"{d.year}年{d.department}", TITLE_FONT, 26, True, WD_ALIGN_PARAGRAPH.CENTER, space_after=24)
    _para(doc, "部门预算公开", TITLE_FONT, 26, True, WD_ALIGN_PARAGRAPH.CENTER)
    _page_break(doc)

    # 目录
    _para(doc, "目  录", TITLE_FONT, 18, True, WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    part1 = [s for s in narrative.sections if s.id.startswith("part1.")]
    part3 = [s for s in narrative.sections if s.level == 2 and s.id.startswith("s")]
    _para(doc, f"第一部分 {d.year}年部门概况", HEADING_FONT, 13, space_after=2)
    for s in part1:
        _para(doc, s.title, BODY_FONT, 12, space_after=1)
    _para(doc, f"第二部分 {d.year}年部门预算公开表", HEADING_FONT, 13, space_after=2)
    numerals = "一二三四五六七八九十"
    for i, t in enumerate(spec.tables, start=1):
        label = numerals[i - 1] if i <= 10 else f"十{numerals[i - 11]}"
        _para(doc, f"{label}、{t.title}", BODY_FONT, 12, space_after=1)
    _para(doc, f"第三部分 {d.year}年部门预算情况说明", HEADING_FONT, 13, space_after=2)
    for s in part3:
        _para(doc, s.title, BODY_FONT, 12, space_after=1)
    _para(doc, "第四部分 名词解释", HEADING_FONT, 13, space_after=2)
    _page_break(doc)

    # 第一部分
    _narrative(doc, [s for s in narrative.sections if s.id.startswith("part1")])

    # 第二部分: the tables, landscape
    landscape = doc.add_section(WD_SECTION.NEW_PAGE)
    _orient(landscape, landscape=True)
    _para(doc, f"第二部分 {d.year}年部门预算公开表", TITLE_FONT, 18, True, WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    width_cm = 29.7 - 3.6
    for i, pt in enumerate(all_tables(d, spec)):
        if i:
            _page_break(doc)
        _disclosure_table(doc, pt, width_cm)

    # 第三部分, 第四部分: portrait again
    portrait = doc.add_section(WD_SECTION.NEW_PAGE)
    _orient(portrait, landscape=False)
    _narrative(doc, [s for s in narrative.sections if s.id == "part3" or s.id.startswith("s") or s.id == "part4"])

    # 绩效目标表, landscape
    tables = performance_tables(d)
    if tables:
        perf = doc.add_section(WD_SECTION.NEW_PAGE)
        _orient(perf, landscape=True)
        for i, pt in enumerate(tables):
            if i:
                _page_break(doc)
            _performance_table(doc, pt, width_cm)
    _para(doc, "")
    _para(doc, d.department, BODY_FONT, 12, align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=0)
    published = d.info.text("公开日期")
    if published:
        _para(doc, _chinese_date(published), BODY_FONT, 12, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _STYLE_CACHE.pop(id(doc), None)
    return doc


def _chinese_date(text: str) -> str:
    import re

    m = re.search(r"(\d{4})\D(\d{1,2})\D(\d{1,2})", text)
    return f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日" if m else text


def _narrative(doc, sections) -> None:
    for s in sections:
        if s.level == 1:
            _para(doc, s.title, TITLE_FONT, 18, True, WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
        else:
            _para(doc, s.title, HEADING_FONT, 14 if s.level == 2 else 13, space_after=6)
        for p in s.paragraphs:
            _para(doc, p, BODY_FONT, 12, indent=True)


def write_docx(d: Disclosure, narrative: Narrative, spec: Spec, path: Path) -> Path:
    doc = build_document(d, narrative, spec)
    with atomic_path(Path(path)) as tmp:
        doc.save(str(tmp))
    return Path(path)
