"""The Excel buttons' Python side, on xlwings' real remote engine (runs on Linux).

The payload is what the xlwings VBA client sends: every sheet's values. The
entry points answer with actions (book.json()); we assert on those: the right
values in the right cells, one write per contiguous block, one read per sheet.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

xw = pytest.importorskip("xlwings")

from budgetxl import excel, pipeline  # noqa: E402
from budgetxl.grid import read_workbook  # noqa: E402

from .conftest import EXAMPLE, ROOT  # noqa: E402
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()


def _json_value(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def payload(path: Path = EXAMPLE, edit=None) -> dict:
    grid = read_workbook(path)
    sheets = []
    for name in grid.names:
        rows = [list(r) for r in grid.sheets[name].rows] or [[None]]
        width = max(len(r) for r in rows)
        rows = [[_json_value(v) for v in r] + [None] * (width - len(r)) for r in rows]
        sheets.append({"name": name, "values": rows, "pictures": [], "tables": []})
    if edit:
        edit(sheets)
    return {"client": "VBA", "version": xw.__version__, "book": {"name": path.name, "active_sheet_index": 1, "selection": "A1"}, "names": [], "sheets": sheets}


def book_of(p: dict):
    return xw.Book(json=p)


def actions(book) -> list[dict]:
    return json.loads(json.dumps(book.json()))["actions"]


def _apply(p: dict, acts: list[dict]) -> dict[tuple[str, int, int], object]:
    """Cells written by setValues actions: (sheet, row, col) 1-based -> value."""
    names = [s["name"] for s in p["sheets"]]
    out = {}
    for a in acts:
        if a["func"] != "setValues":
            continue
        sheet = names[a["sheet_position"]] if a["sheet_position"] < len(names) else "<new>"
        for i, row in enumerate(a["values"]):
            for j, v in enumerate(row):
                out[(sheet, a["start_row"] + 1 + i, a["start_column"] + 1 + j)] = v
    return out


def test_subtotal_button_writes_exactly_the_file_commands_edits_in_blocks(tmp_path):
    p = payload()
    book = book_of(p)
    message = excel.subtotal(book)
    acts = actions(book)
    writes = [a for a in acts if a["func"] == "setValues"]
    expected = {(e.ref.sheet, e.ref.row, e.ref.col): e.value for e in pipeline.subtotal_file(EXAMPLE, SPEC, tmp_path / "o.xlsx").edits}
    got = _apply(p, writes)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert (Decimal(str(got[key])) if isinstance(value, Decimal) else got[key]) == value, key
    assert len(writes) == len(excel.blocks(pipeline.subtotals(pipeline.read(EXAMPLE, SPEC), SPEC).edits)) < len(expected)
    assert "计算小计完成：改动 43 个单元格" in message
    assert any(a["func"] == "alert" for a in acts)  # the user is told, in Chinese


def test_one_read_per_sheet(monkeypatch):
    reads = []
    original = xw.main.Range.value

    def counting(self):
        reads.append(self.sheet.name)
        return original.fget(self)

    monkeypatch.setattr(xw.main.Range, "value", property(counting, original.fset))
    book = book_of(payload())
    excel.read_grid(book)
    assert sorted(reads) == sorted(s.name for s in book.sheets)


def test_unsaved_edits_count_not_the_file():
    """A figure typed into the open workbook (not saved) is what the button uses."""
    def edit(sheets):
        t3 = next(s for s in sheets if s["name"].startswith("表3"))
        t3["values"][7][5] = 500  # 208 01 09 基本支出, unsaved
    book = book_of(payload(edit=edit))
    excel.subtotal(book)
    got = _apply(payload(), actions(book))
    assert Decimal(str(got[("表3 部门支出总体情况表", 8, 5)])) == Decimal("1370.93")  # 合计 = 500 + 870.93


def test_check_button_result_sheet_colours_and_selection():
    p = payload()
    book = book_of(p)
    message = excel.check(book)
    acts = actions(book)
    funcs = [a["func"] for a in acts]
    assert "addSheet" in funcs
    new_sheet_writes = [a for a in acts if a["func"] == "setValues" and a["values"][0][0] == "序号"]
    assert len(new_sheet_writes) == 1 and new_sheet_writes[0]["sheet_position"] == 0  # the whole 校验结果 sheet, one write, first sheet
    rows = new_sheet_writes[0]["values"]
    assert rows[0][:6] == ["序号", "级别", "代码", "规则", "位置", "说明"] and rows[1][1:3] == ["错误", "C12"]
    colours = [a for a in acts if a["func"] == "setRangeColor"]
    from budgetxl.report import highlight_edits

    marks = highlight_edits(pipeline.check(pipeline.read(EXAMPLE, SPEC), SPEC), [s["name"] for s in p["sheets"]])
    by_colour: dict = {}
    for m in marks:
        by_colour.setdefault((m.ref.sheet, m.style), []).append(m)
    expected_calls = sum(len(excel.blocks(group)) for group in by_colour.values())
    assert len(colours) == expected_calls < len(marks)  # one call per run of adjacent cells of one colour
    assert any(a["args"] == ["#ffc7ce"] or a["args"] == ["#FFC7CE"] for a in colours)
    select = next(a for a in acts if a["func"] == "rangeSelect")
    assert "activateSheet" in funcs and (select["start_row"], select["start_column"]) == (7, 3)  # '表7 …'!D8
    assert message.startswith("校验完成：错误 1 个")


def test_narrate_button_writes_the_sheet_in_one_call():
    p = payload()
    book = book_of(p)
    excel.narrate(book)
    writes = [a for a in actions(book) if a["func"] == "setValues"]
    assert len(writes) == 1
    texts = [r[1] for r in writes[0]["values"]]
    assert "按照全口径预算的原则，阿克陶县社会保险中心2026年所有收入和支出均纳入部门预算管理。收支总预算1,462.90万元。" in texts


def test_clear_marks_restores_template_shading():
    p = payload()
    book = book_of(p)
    excel.check(book)
    # the user saves; next session the 校验结果 sheet is part of the workbook
    annotated = p.copy()
    result_rows = next(a for a in actions(book) if a["func"] == "setValues" and a["values"][0][0] == "序号")["values"]
    annotated["sheets"] = [*p["sheets"], {"name": "校验结果", "values": result_rows, "pictures": [], "tables": []}]
    book2 = book_of(annotated)
    message = excel.clear_marks(book2)
    colours = [a for a in actions(book2) if a["func"] == "setRangeColor"]
    assert colours and "已清除" in message
    assert {tuple(a["args"]) for a in colours} <= {(None,), ("#f2f2f2",), ("#F2F2F2",)}


def test_errors_become_chinese_messages_not_tracebacks():
    p = payload()
    p["sheets"] = [{"name": "Sheet1", "values": [["随便"]], "pictures": [], "tables": []}]
    book = book_of(p)
    message = excel.subtotal(book)
    assert "Traceback" not in message
    alerts = [a for a in actions(book) if a["func"] == "alert"]
    assert alerts and "Traceback" not in json.dumps(alerts, ensure_ascii=False)


def test_export_needs_a_saved_workbook():
    book = book_of(payload())
    assert "请先把工作簿保存" in excel.export(book)


from budgetxl.excel_setup import macros_dir  # noqa: E402

MACROS = sorted(macros_dir().glob("*.bas"))


def test_every_macro_calls_an_existing_entry_point():
    assert MACROS, "macros/*.bas"
    calls = []
    for path in MACROS:
        text = path.read_text(encoding="utf-8")
        calls += re.findall(r'RunPython\s*\(?\s*"import budgetxl\.excel(?: as bx)?;\s*(?:budgetxl\.excel|bx)\.(\w+)\(\)"', text)
    assert sorted(calls) == sorted(excel.ENTRY_POINTS)
    for name in calls:
        function = getattr(excel, name)
        params = inspect.signature(function).parameters
        assert list(params) == ["book"] and params["book"].default is None


def test_button_captions_are_chinese_and_macro_names_ascii():
    from budgetxl.xlsm import BUTTONS

    text = "\n".join(p.read_text(encoding="ascii") for p in MACROS)
    subs = re.findall(r"^Public Sub (\w+)\(", text, re.M)
    assert len(subs) == 10 and all(s.isascii() for s in subs)
    assert [b[0] for b in BUTTONS] == ["计算小计", "校验", "生成说明", "导出公开文件", "清除标记"]  # on the ribbon, from Python


def test_the_macros_are_package_data():
    assert (macros_dir() / "budgetxl.bas").read_bytes().startswith(b'Attribute VB_Name = "budgetxl"\r\n')


def test_department_text_is_written_as_text_in_excel():
    def edit(sheets):
        info = next(s for s in sheets if s["name"] == "单位信息")
        info["values"][2][1] = "=1+1"  # 单位名称
    book = book_of(payload(edit=edit))
    excel.subtotal(book)
    texts = [v for a in actions(book) if a["func"] == "setValues" for row in a["values"] for v in row if isinstance(v, str)]
    assert texts and all(not t.startswith("=") for t in texts)
    assert any(t.startswith("'=1+1") for t in texts)  # the empty-table statements begin with the name


def test_single_column_and_empty_sheets_keep_their_shape():
    p = payload()
    p["sheets"].append({"name": "一列", "values": [["a"], ["b"], ["c"]], "pictures": [], "tables": []})
    p["sheets"].append({"name": "空表", "values": [[None]], "pictures": [], "tables": []})
    grid = excel.read_grid(book_of(p))
    assert grid.sheets["一列"].rows == (("a",), ("b",), ("c",))
    assert grid.sheets["空表"].height <= 1


def test_check_button_sheet_is_the_annotate_sheet_with_links(tmp_path):
    """One builder: the 校验结果 the button writes has the rows `check --annotate` writes,
    and every 位置 is a link to the first cell of its finding."""
    import openpyxl

    book = book_of(payload())
    excel.check(book)
    acts = actions(book)
    rows = next(a for a in acts if a["func"] == "setValues" and a["values"][0][0] == "序号")["values"]
    reading = pipeline.read(EXAMPLE, SPEC)
    annotated = pipeline.annotate(reading, pipeline.check(reading, SPEC), SPEC, EXAMPLE, tmp_path / "a.xlsx")
    ws = openpyxl.load_workbook(annotated)[SPEC.layout.result_sheet]
    file_rows = [[c if c is not None else "" for c in r] for r in ws.iter_rows(values_only=True)]
    def shown(v):  # Excel hides the text prefix ' that keeps '-1.02' from becoming a formula
        return v[1:] if isinstance(v, str) and v[:1] == "'" and v[1:2] in "=+-@" else ("" if v is None else v)

    assert [[shown(v) for v in r] for r in rows] == file_rows
    links = [a for a in acts if a["func"] == "addHyperlink"]
    assert len(links) == len(rows) - 1 == sum(1 for r in ws.iter_rows(min_row=2) if r[4].hyperlink)
    first = links[0]
    assert first["args"][0] == "#" + rows[1][4].split("；")[0]  # '表7 …'!D8


def test_clear_marks_clears_every_cell_of_every_finding():
    p = payload()
    book = book_of(p)
    excel.check(book)
    rows = next(a for a in actions(book) if a["func"] == "setValues" and a["values"][0][0] == "序号")["values"]
    report = pipeline.check(pipeline.read(EXAMPLE, SPEC), SPEC)
    marked = {ref for f in report.counting for ref in f.refs}
    assert any(len(f.refs) > 1 for f in report.counting)  # the case that matters: findings with several cells
    annotated = dict(p)
    annotated["sheets"] = [*p["sheets"], {"name": SPEC.layout.result_sheet, "values": rows, "pictures": [], "tables": []}]
    book2 = book_of(annotated)
    excel.clear_marks(book2)
    names = [s["name"] for s in annotated["sheets"]]
    cleared = set()
    for a in actions(book2):
        if a["func"] == "setRangeColor":
            for r in range(a["row_count"]):
                for c in range(a["column_count"]):
                    cleared.add((names[a["sheet_position"]], a["start_row"] + 1 + r, a["start_column"] + 1 + c))
    assert {(r.sheet, r.row, r.col) for r in marked if r.sheet in names} <= cleared


def _no_soffice_path(tmp_path) -> str:
    """PATH without LibreOffice: the other tools stay reachable."""
    import os
    import shutil as sh

    keep = tmp_path / "bin"
    keep.mkdir()
    for tool in ("pdftotext",):
        if sh.which(tool):
            (keep / tool).symlink_to(sh.which(tool))
    return os.pathsep.join([str(keep), str(Path(sys.executable).parent)])


def _clean_payload(folder: Path) -> dict:
    def fix(sheets):  # the example's one 错误 (C12): the name as in the classification
        t7 = next(s for s in sheets if s["name"].startswith("表7"))
        t7["values"][7][3] = "人力资源和社会保障管理事务"
    p = payload(edit=fix)
    p["book"]["name"] = str(folder / "示例.xlsx")  # a saved workbook: the remote engine's fullname
    return p


def test_export_without_any_pdf_route_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _no_soffice_path(tmp_path))
    book = book_of(_clean_payload(tmp_path))
    assert excel.pdf_routes(book) == []  # no LibreOffice; Word and Excel export need Windows/macOS Excel
    message = excel.export(book)
    assert "已导出：" in message and ".docx" in message and ".pdf" not in message.split("。")[0]
    assert "未生成 PDF" in message and "没有找到 LibreOffice" in message and "另存为 PDF" in message
    assert not list(tmp_path.glob("*.pdf")) and list(tmp_path.glob("*.docx")) and list(tmp_path.glob("*.xlsx"))
    assert not list(tmp_path.glob(".budgetxl.*"))  # no work folder left behind


@pytest.mark.skipif(__import__("shutil").which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_on_path_is_the_first_pdf_route(tmp_path):
    """With soffice on PATH the button leaves the PDF to pipeline.publish (the same PDF as
    convert, tested there); Word and Excel are not tried on the remote engine."""
    assert excel.pdf_routes(book_of(_clean_payload(tmp_path))) == [excel.LIBREOFFICE]
