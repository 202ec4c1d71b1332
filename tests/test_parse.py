"""The parser survives what staff do to a workbook, and reports what it cannot read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from budgetxl import pipeline
from budgetxl.model import DETAIL, SUBTOTAL
from budgetxl.parse import parse_table

from .builders import edited_copy, grid, new_template_book, sheet_of
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()

T3_HEADER = [
    ["科目代码", None, None, "科目名称", "支出预算", None, None],
    ["类", "款", "项", None, "合计", "基本支出", "项目支出"],
]


def _codes(findings):
    return sorted((f.code, f.refs[0].a1 if f.refs else "") for f in findings)


def test_messy_hand_made_workbook_reads_correctly(tmp_path, spec):
    wb = new_template_book()
    ws = sheet_of(wb, "T3")
    ws.insert_rows(1, 3)  # someone added notes above the table
    ws["A1"] = "说明：本表由财务室填写"
    rows = [
        (208, None, None, "社会保障和就业支出", None, None, None),
        (None, None, None, None, None, None, None),  # blank line
        ("208", 1, None, "人力资源和社会保障管理事务", None, None, None),
        ("2080109", None, None, "社会保险经办机构", None, "1,270.40", " 12.3 "),
        (208, "5", "1", "行政单位离退休", None, "２３.０５", None),
        ("208 05 05", None, None, "机关事业单位基本养老保险缴费支出", None, 53.3, "—"),
    ]
    first = 9
    for i, row in enumerate(rows):
        for c, v in enumerate(row, start=1):
            ws.cell(first + i, c).value = v
    ws.merge_cells(start_row=first, start_column=1, end_row=first, end_column=3)  # 类 typed across A:C
    path = tmp_path / "messy.xlsx"
    wb.save(path)

    reading = pipeline.read(path, SPEC)
    t3 = reading.disclosure.table("T3")
    assert [(r.code, r.kind) for r in t3.rows if r.code] == [
        ("208", SUBTOTAL),
        ("20801", SUBTOTAL),
        ("2080109", DETAIL),
        ("2080501", DETAIL),
        ("2080505", DETAIL),
    ]
    assert t3.by_code("2080109").value("基本支出") == D("1270.40")
    assert t3.by_code("2080109").value("项目支出") == D("12.3")
    assert t3.by_code("2080501").value("基本支出") == D("23.05")
    assert t3.by_code("2080505").value("项目支出") is None
    assert str(t3.by_code("2080109").values["基本支出"].ref) == "'表3 部门支出总体情况表'!F12"
    assert [f for f in reading.findings if f.code.startswith("P0")] == []


def test_unreadable_cells_become_findings_naming_the_cell(example_copy, tmp_path):
    def spoil(wb):
        ws = sheet_of(wb, "T3")
        ws["F7"] = "12.3.4"
        ws["G7"] = True
        ws["F8"] = dt.date(2026, 1, 1)
        ws["A9"] = "2O8"
        ws["F9"] = "#REF!"
    path = edited_copy(example_copy, tmp_path / "spoiled.xlsx", spoil)
    reading = pipeline.read(path, SPEC)
    found = _codes(reading.findings)
    assert ("P04", "F7") in found and ("P04", "G7") in found and ("P04", "F8") in found
    assert ("P05", "A9") in found
    message = next(f.message for f in reading.findings if f.refs[0].a1 == "F7")
    assert "'表3 部门支出总体情况表'!F7" in message and "12.3.4" in message
    assert all(f.severity.value == "错误" for f in reading.findings if f.code in ("P04", "P05"))


def test_columns_found_by_header_not_position(example_copy, tmp_path):
    def swap(wb):
        ws = sheet_of(wb, "T3")
        for r in range(5, ws.max_row + 1):  # leaf header row and data; row 4 is merged
            ws.cell(r, 6).value, ws.cell(r, 7).value = ws.cell(r, 7).value, ws.cell(r, 6).value
    path = edited_copy(example_copy, tmp_path / "swapped.xlsx", swap)
    t3 = pipeline.read(path, SPEC).disclosure.table("T3")
    assert t3.by_code("2080109").value("基本支出") == D("399.47")
    assert t3.by_code("2080109").values["基本支出"].ref.a1 == "G8"


def test_deleted_column_is_a_finding(example_copy, tmp_path):
    path = edited_copy(example_copy, tmp_path / "d.xlsx", lambda wb: sheet_of(wb, "T3").delete_cols(7))
    reading = pipeline.read(path, SPEC)
    assert any(f.code == "P03" and "项目支出" in f.message for f in reading.findings)


def test_sheets_found_by_number_and_missing_sheets_reported(example_copy, tmp_path):
    def rename(wb):
        sheet_of(wb, "T3").title = "表3"
        del wb[wb.sheetnames[wb.sheetnames.index("表9 国有资本经营预算支出情况表")]]
    path = edited_copy(example_copy, tmp_path / "r.xlsx", rename)
    reading = pipeline.read(path, SPEC)
    assert reading.disclosure.table("T3").by_code("2080109").value("合计") == D("1270.40")
    assert reading.disclosure.table("T3").sheet == "表3"
    missing = [f for f in reading.findings if f.code == "P01"]
    assert len(missing) == 1 and "表9" in missing[0].message


def test_formula_without_cached_value_is_not_read_as_blank(example_copy, tmp_path):
    path = edited_copy(example_copy, tmp_path / "f.xlsx", lambda wb: sheet_of(wb, "T3").__setitem__("F10", "=1+1"))
    reading = pipeline.read(path, SPEC)
    assert ("P06", "F10") in _codes(reading.findings)


def test_grid_level_parse_of_a_table_with_inserted_rows(spec):
    g = grid(**{
        "表3 部门支出总体情况表": [
            ["表3"], ["部门支出总体情况表"], ["编制部门：测试单位", None, None, None, None, None, "单位：万元"],
            *T3_HEADER,
            ["210", None, None, "卫生健康支出"],
            [None],
            [210, 11, None, "行政事业单位医疗"],
            [210, 11, 1, "行政单位医疗", 38.08, 38.08],
            [None, None, None, "总计", 38.08, 38.08],
            ["以下空白"],
        ]
    })
    table, findings = parse_table(g.sheets["表3 部门支出总体情况表"], spec.table("T3"))
    assert findings == []
    assert [r.code for r in table.rows] == ["210", "21011", "2101101", None]
    assert table.department.value == "测试单位"
    assert table.total_row().value("合计") == D("38.08")


def test_headers_with_line_breaks_and_spaces_still_match(spec):
    header = [["科目 代码", None, None, "科目\n名称", "支出预算", None, None], ["类", "款", "项", None, "合 计", "基本\n支出", "项目支出"]]
    g = grid(**{"表3": [*header, ["2101101", None, None, "行政单位医疗", 1, 1, None], [None, None, None, "总计", 1, 1]]})
    table, findings = parse_table(g.sheets["表3"], spec.table("T3"))
    assert findings == []
    assert table.by_code("2101101").value("基本支出") == D("1")


def test_not_a_workbook_gets_a_chinese_message(tmp_path):
    from budgetxl.grid import WorkbookError

    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(WorkbookError) as exc:
        pipeline.read(bad, SPEC)
    assert "不是 Excel 工作簿" in exc.value.message
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(WorkbookError) as exc:
        pipeline.read(empty, SPEC)
    assert "为空" in exc.value.message


@pytest.mark.parametrize("typed, p11", [("2026年", False), (dt.datetime(2026, 1, 1), False), ("二〇二六", True)])
def test_a_year_that_is_no_number_is_said_once_in_a_years_words(example_copy, tmp_path, typed, p11):
    """年度 “2026年” was reported as 金额无法识别 … 请填写数字金额 (P04) although the year
    was understood; a year typed as a date or in words got P04 beside P11. P11 alone
    speaks of a year."""
    info = SPEC.layout.info_sheet if hasattr(SPEC.layout, "info_sheet") else "单位信息"

    def edit(wb):
        ws = wb[info]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "年度")
        ws.cell(row, 2).value = typed

    reading = pipeline.read(edited_copy(example_copy, tmp_path / "y.xlsx", edit), SPEC)
    year_findings = [f for f in reading.findings if any(r.sheet == info for r in f.refs) and "年度" in f.message]
    assert [f.code for f in year_findings] == (["P11"] if p11 else [])
    assert reading.disclosure.year == (None if p11 else 2026)
