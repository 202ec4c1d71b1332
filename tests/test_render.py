"""Published documents: Word, PDF and the publication workbook."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal

import docx
import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.batch import OK, convert_all
from budgetxl.narrative import generate
from budgetxl.render.docx_document import write_docx
from budgetxl.render.rounding import largest_remainder, printable
from budgetxl.render.tables import all_tables, amount_text
from budgetxl.render.xlsx_publication import write_publication

from .builders import new_template_book, sheet_of, variant
from .conftest import EXAMPLE
from .reference import amount, reference_tables
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()

D = Decimal
NEEDS_LIBREOFFICE = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def printed(spec):
    model, log = printable(pipeline.read(EXAMPLE, SPEC).disclosure, spec)
    return model, log, generate(model, spec)


@pytest.fixture(scope="module")
def document(tmp_path_factory, printed, spec):
    model, _, narrative = printed
    path = tmp_path_factory.mktemp("doc") / "doc.docx"
    write_docx(model, narrative, spec, path)
    return path


def _grid_tables(doc, spec):
    """The 12 disclosure tables of the document, in order (each has a 编制部门 line before it)."""
    out = []
    tables = iter(doc.tables)
    for t in spec.tables:
        for candidate in tables:
            first = candidate.rows[0].cells[0].text
            if len(candidate.columns) == len(t.columns) and first == t.header[0][0]:
                out.append(candidate)
                break
    return out


def test_docx_tables_hold_the_models_numbers(document, printed, spec):
    model = printed[0]
    doc = docx.Document(str(document))
    grids = _grid_tables(doc, spec)
    assert len(grids) == 12
    for t, grid, pt in zip(spec.tables, grids, all_tables(model, spec)):
        body = [[c.text for c in row.cells] for row in grid.rows[len(t.header):]]
        assert len(body) == len(pt.rows), t.key
        for cells, expected in zip(body, pt.rows):
            assert cells == [amount_text(v) if v is not None else "" for v in expected], t.key
    # and the printed rows are the model's figures: 表3 row by row
    t3 = model.table("T3")
    grid3 = grids[2]
    for row, cells in zip(t3.rows, grid3.rows[2:]):
        texts = [c.text for c in cells.cells]
        assert texts[4:] == [amount_text(row.value(k)) for k in ("合计", "基本支出", "项目支出")]


def test_docx_structure_and_fonts(document):
    doc = docx.Document(str(document))
    text = "\n".join(p.text for p in doc.paragraphs)
    for heading in ("第一部分 2026年部门概况", "第二部分 2026年部门预算公开表", "第三部分 2026年部门预算情况说明", "第四部分 名词解释", "部门整体绩效目标表", "项目支出绩效目标表"):
        assert heading in text
    assert text.count("项目支出绩效目标表") == 12
    assert "阿克陶县社会保险中心2026年没有使用政府性基金预算拨款安排的支出，政府性基金预算支出情况表为空表。" in text
    orientations = [s.orientation for s in doc.sections]
    # cover and 目录 (unnumbered), 第一部分, the tables (landscape), 第三/四部分, 绩效目标表 (landscape)
    assert len(orientations) == 5 and orientations[0] == orientations[1] == orientations[3] != orientations[2] == orientations[4]
    import zipfile

    body = zipfile.ZipFile(document).read("word/styles.xml").decode()
    assert 'w:eastAsia="仿宋_GB2312"' in body and 'w:eastAsia="zh-CN"' in body
    assert 'w:val="zh-CN"' not in body  # only the East-Asian language is set (numbers would break)


def test_publication_workbook(tmp_path, printed, spec):
    model = printed[0]
    path = write_publication(model, spec, tmp_path / "pub.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [t.sheet for t in spec.tables]
    ws = wb[spec.table("T2").sheet]
    assert ws["A2"].value == "部门收入总体情况表" and ws["A3"].value == "编制部门：阿克陶县社会保险中心"
    values = [ws.cell(r, 5).value for r in range(6, 6 + 17)]
    expected = [r.value("总计") for r in model.table("T2").rows]
    assert [D(str(v)) if v is not None else None for v in values] == expected
    assert ws["E6"].number_format == "#,##0.00" and ws["E6"].font.b
    assert ws.page_setup.orientation == "landscape"
    statement = wb[spec.table("T8").sheet]
    assert any("为空表" in str(c.value) for row in statement.iter_rows() for c in row if c.value)


def test_publication_workbooks_of_one_process_keep_their_own_text(tmp_path, printed, spec):
    """The workbook is a skeleton built once per process with each department's
    rows spliced in: one department's text never shows in the next, text that
    looks like a formula or markup stays text, and every print area ends at
    its sheet's last row."""
    from budgetxl import records

    model = printed[0]
    odd = records.replace(model, department="=1+1 <测试&单位>", unit="元")
    for department, unit, path in ((odd.department, "元", write_publication(odd, spec, tmp_path / "a.xlsx")),
                                   (model.department, "万元", write_publication(model, spec, tmp_path / "b.xlsx"))):
        wb = openpyxl.load_workbook(path)
        assert wb.properties.title == f"{model.year}年{department}部门预算公开表"
        for t in spec.tables:
            ws = wb[t.sheet]
            context = spec.layout.context_row
            cell = ws.cell(context, 1)
            assert cell.value == spec.context.department_text(department) and cell.data_type == "s"
            assert ws.cell(context, len(t.columns)).value == spec.context.unit_text(unit)
            assert ws.print_area.endswith(f"${ws.max_row}"), (t.sheet, ws.print_area, ws.max_row)
            assert ws.max_row >= spec.layout.data_first_row(t)


def test_largest_remainder_keeps_the_sum():
    parts = [D("0.38084"), D("0.00935"), D("0.39019")]
    assert largest_remainder(parts, D("0.78")) == [D("0.38"), D("0.01"), D("0.39")]
    assert sum(largest_remainder([D("0.333333")] * 3, D("1.00"))) == D("1.00")


def test_workbook_in_yuan_is_published_in_wan_and_adds_up(tmp_path, spec):
    wb = new_template_book()
    wb["单位信息"]["B3"], wb["单位信息"]["B4"], wb["单位信息"]["B5"] = "测试单位", 2026, "元"
    rows = [("210", None, None, "卫生健康支出"), ("210", "11", None, "行政事业单位医疗"),
            ("210", "11", "01", "行政单位医疗", 380844, 380844), ("210", "11", "02", "事业单位医疗", 9346, 9346),
            ("210", "11", "03", "公务员医疗补助", 10049, 10049)]
    for key in ("T3", "T5"):
        ws = sheet_of(wb, key)
        first = 6 if key == "T3" else 7
        for i, row in enumerate(rows):
            for c, v in enumerate(row, start=1):
                if c <= 4:
                    ws.cell(first + i, c).value = v
            if len(row) > 4:
                ws.cell(first + i, 6).value = row[4]
    path = tmp_path / "yuan.xlsx"
    wb.save(path)
    model, log = printable(pipeline.read(path, SPEC).disclosure, spec)
    t3 = model.table("T3")
    items = [t3.by_code(c).value("基本支出") for c in ("2101101", "2101102", "2101103")]
    # plain rounding: 38.08 + 0.93 + 1.00 = 40.01 ≠ 40.02 (the rounded total of 400,239 元)
    assert t3.by_code("21011").value("基本支出") == sum(items) == t3.total_row().value("基本支出") == D("40.02")
    assert items == [D("38.08"), D("0.93"), D("1.01")]  # the cent goes to the largest remainder (0.0049)
    assert model.unit == "万元" and model.table("T5").total_row().value("合计") == D("40.02")
    assert len(log) == 2  # the same cell in 表3 and 表5
    assert all("10,049.00 元" in str(a) and "1.01" in str(a) and "1.00" in str(a) for a in log)


@NEEDS_LIBREOFFICE
def test_pdf_has_every_table_number_and_the_narrative(tmp_path, printed):
    source = variant(EXAMPLE, tmp_path / "示例.xlsx", {})
    results = convert_all([source], tmp_path / "out", ("docx", "pdf", "xlsx"), 1, force=True, spec=SPEC)
    assert results[0].status == OK, results[0].message
    assert sorted(p.suffix for p in results[0].outputs) == [".docx", ".pdf", ".xlsx"]
    pdf = next(p for p in results[0].outputs if p.suffix == ".pdf")
    assert pdf.name == "2026年阿克陶县社会保险中心部门预算公开.pdf"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    flat = re.sub(r"—\d+—", "", re.sub(r"\s+", "", layout))  # page numbers interrupt paragraphs
    for t in printed[0].tables.values():
        assert t.title in flat
    numbers = {c for rows in reference_tables().values() for r in rows for c in r if amount(c) is not None}
    missing = [n for n in numbers if n not in flat]
    assert not missing
    for section in printed[2].sections:
        for p in section.paragraphs:
            assert re.sub(r"\s+", "", p) in flat, p[:40]
    assert not re.search(r"\d,\d{3}\.\s*\n", layout), "a number broken across lines"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "CJK" in fonts  # Chinese glyphs from an embedded CJK font, not boxes
