"""The committed template is what the generator builds, and it is a good workbook."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from xml.etree.ElementTree import canonicalize
from pathlib import Path

import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.spec import load_spec
from budgetxl.template import INSTRUCTIONS, INSTRUCTIONS_WIDTH, XLWINGS_CONF_SHEET, wrapped_lines

from .conftest import TEMPLATE
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()


def _members(path: Path) -> dict[str, str]:
    """Zip members as canonical XML (serialisers differ in how they write
    empty elements); openpyxl stamps the save time into core.xml: dropped."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n).decode("utf-8") for n in zf.namelist()}
    members["docProps/core.xml"] = re.sub(r"<dcterms:modified[^<]*</dcterms:modified>", "", members["docProps/core.xml"])
    return {n: canonicalize(text) if n.endswith((".xml", ".rels")) else text for n, text in members.items()}


def test_committed_template_matches_the_generator(tmp_path):
    fresh = pipeline.write_template(tmp_path / "t.xlsx", SPEC)
    assert _members(fresh) == _members(TEMPLATE), "run: budgetxl template -o templates/budget_template.xlsx"


XLSM = TEMPLATE.with_suffix(".xlsm")


@pytest.fixture(scope="module", params=[TEMPLATE, XLSM], ids=["xlsx", "xlsm"])
def book(request):
    """Every check of the template holds for the macro-enabled workbook too."""
    return openpyxl.load_workbook(request.param, keep_vba=request.param.suffix == ".xlsm")


def test_sheets_in_order(book, spec):
    expected = [SPEC.layout.instructions_sheet, "单位信息", *[t.sheet for t in spec.tables], "上年数与原因", "支出用途", "项目说明", "其他事项", "绩效目标", "绩效指标", SPEC.layout.codes_sheet]
    if book.vba_archive is not None:
        expected.append(XLWINGS_CONF_SHEET)
        assert book[XLWINGS_CONF_SHEET].sheet_state == "hidden"
    assert book.sheetnames == expected
    assert book[SPEC.layout.codes_sheet].sheet_state == "hidden"


def test_headers_are_merged_as_published(book, spec):
    ws = book[spec.table("T2").sheet]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A4:C4", "D4:D5", "E4:E5", "F4:K4", "L4:L5"} <= merged
    assert ws["F4"].value == "财政拨款（补助）" and ws["G5"].value == "一般公共预算"
    ws12 = book[spec.table("T12").sheet]
    assert {"C4:F4", "D5:E5", "C5:C6", "A4:A6"} <= {str(r) for r in ws12.merged_cells.ranges}
    assert book[spec.table("T1").sheet]["A2"].value == "部门收支总体情况表"


def test_formats_panes_print_setup(book, spec):
    for t in spec.tables:
        ws = book[t.sheet]
        first = SPEC.layout.data_first_row(t)
        amount_col = next(i for i, c in enumerate(t.columns, start=1) if c.role == "amount")
        assert ws.cell(first, amount_col).number_format == "#,##0.00", t.key
        assert ws.freeze_panes == ws.cell(first, amount_col).coordinate, t.key
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows, t.key
        if any(c.role == "lei" for c in t.columns):
            assert ws.cell(first, 1).number_format == "@"  # codes keep leading zeros


def test_code_dropdowns_and_input_vs_computed(book, spec):
    ws = book[spec.table("T3").sheet]
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert {"功能分类类", "功能分类名称"} <= formulas
    assert "经济分类名称" in {dv.formula1 for dv in book[spec.table("T6").sheet].data_validations.dataValidation}
    assert set(book.defined_names) >= {"功能分类类", "功能分类名称", "经济分类类", "经济分类名称"}
    # computed cells are shaded, input cells are not
    assert ws["E6"].fill.fgColor.rgb.endswith("F2F2F2")  # 合计 column
    assert ws["F6"].fill.fill_type is None  # 基本支出 input
    assert len(ws.conditional_formatting) == 1  # 类/款 rows shaded wherever they are


def test_instructions_are_chinese(book):
    text = "\n".join(str(c.value) for c in book[SPEC.layout.instructions_sheet]["A"] if c.value)
    assert "填表说明" in text and "计算小计" in text and "白色单元格" in text and "预算公开" in text


def test_instructions_fit_the_screen_and_a4_without_clipped_lines(book):
    """One column narrower than a 1366-pixel screen and an A4 page, wrapped, every row as tall
    as its wrapped lines; no buttons or shapes over the text (the buttons are on the ribbon)."""
    ws = book[SPEC.layout.instructions_sheet]
    assert ws.column_dimensions["A"].width == INSTRUCTIONS_WIDTH <= 72  # ≈ 510 px; wider is cut off on A4 (LibreOffice does not shrink it)
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    for row in ws.iter_rows(min_col=1, max_col=1):
        cell = row[0]
        if not cell.value:
            continue
        assert cell.alignment.wrap_text, cell.coordinate
        lines = wrapped_lines(cell.value, INSTRUCTIONS_WIDTH)
        assert ws.row_dimensions[cell.row].height >= lines * cell.font.size * 1.3, cell.coordinate
    assert not ws._images and not ws._charts


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (scripts/setup.sh installs it)")
def test_libreoffice_opens_and_prints_the_template(tmp_path):
    profile = tmp_path / "profile"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(TEMPLATE)],
        capture_output=True, text=True, timeout=180,
    )
    pdf = tmp_path / "budget_template.pdf"
    assert pdf.exists(), result.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    for t in load_spec().tables:
        assert t.title.replace("“", "").replace("”", "") in text.replace("“", "").replace("”", ""), t.title
    assert "一般公共预算拨款" in text and "填表说明" in text
    # every line of 填表说明 printed whole: a row too short for its wrapped text would cut lines off
    printed = re.sub(r"\s+", "", text)
    for line in INSTRUCTIONS:
        assert re.sub(r"\s+", "", line) in printed, line
