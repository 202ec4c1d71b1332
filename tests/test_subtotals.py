"""`budgetxl subtotal`: exact sums, only computed cells written, idempotent."""

from __future__ import annotations

import hashlib
from decimal import Decimal


from budgetxl import pipeline
from budgetxl.cli import main
from budgetxl.model import DETAIL

from .builders import edited_copy, sheet_of
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()

D = Decimal


def _computed_refs(reading, spec):
    """Every cell the subtotal command owns: subtotal/total rows, row totals, derived rows."""
    refs = []
    for t in spec.tables:
        table = reading.disclosure.table(t.key)
        targets = {rs.target for rs in (*t.row_sums, *t.right_row_sums)}
        for row in table.rows:
            input_row = row.kind == DETAIL and not (t.layout == "two_sided" and row.side == "支出")
            for key, a in row.values.items():
                if not input_row or key in targets:
                    refs.append(a.ref)
    return refs


def _hash(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_blanked_subtotals_are_restored_as_exact_sums(example_copy, tmp_path, spec, example_reading):
    refs = _computed_refs(example_reading, spec)
    assert len(refs) > 150

    def blank(wb):
        for ref in refs:
            wb[ref.sheet].cell(ref.row, ref.col).value = None

    blanked = edited_copy(example_copy, tmp_path / "blank.xlsx", blank)
    assert pipeline.read(blanked, SPEC).disclosure.table("T2").total_row().value("总计") is None

    restored = pipeline.subtotal_file(blanked, SPEC, tmp_path / "restored.xlsx").target
    direct = pipeline.subtotal_file(example_copy, SPEC, tmp_path / "direct.xlsx").target
    a, b = pipeline.read(restored, SPEC).disclosure, pipeline.read(direct, SPEC).disclosure
    for key in a.tables:
        assert a.tables[key].rows == b.tables[key].rows, key

    t2, t3, t6 = a.table("T2"), a.table("T3"), a.table("T6")
    assert t2.by_code("208").value("总计") == D("1381.57")  # published 1,381.56 (尾差)
    assert t2.by_code("208").value("一般公共预算") == D("1365.57")
    assert t2.total_row().value("总计") == D("1462.90")
    assert t3.by_code("21011").value("合计") == D("39.01")
    assert t3.total_row().value("基本支出") == D("582.97")
    assert t6.total_row().value("合计") == D("582.98")
    assert t6.total_row().value("人员经费") == D("573.44")
    t1, t4 = a.table("T1"), a.table("T4")
    assert t1.by_key("一般财力").value("预算数") == D("1446.90")
    assert t1.by_key("本年收入").value("预算数") == D("1462.90")
    assert t1.by_code("208").value("预算数") == D("1381.57")
    assert t1.total_row("支出").value("预算数") == D("1462.90")
    assert t4.by_key("一般公共预算").value("合计") == D("1462.90")
    assert t4.by_code("210").value("一般公共预算") == D("39.01")
    assert t4.by_code("210").value("合计") == D("39.01")
    assert t4.by_code("201").value("合计") is None  # zero stays blank, as published


def test_changes_on_the_example_are_exactly_the_rounding_differences(example_copy, tmp_path):
    run = pipeline.subtotal_file(example_copy, SPEC, tmp_path / "out.xlsx")
    changed = {(e.ref.sheet[:3].strip(), e.ref.a1): (e.old, e.value) for e in run.edits if isinstance(e.value, Decimal)}
    assert changed[("表2", "E6")] == (D("1381.56"), D("1381.57"))
    assert changed[("表3", "E15")] == (D("39.02"), D("39.01"))
    assert changed[("表6", "D46")] == (D("582.97"), D("582.98"))
    assert changed[("表6", "E46")] == (D("573.43"), D("573.44"))
    assert all(abs(new - old) == D("0.01") for old, new in changed.values())
    assert len(changed) == 27  # the 尾差 of disclosure-rules.md §6 items 7–11 and what they feed
    # the department line and the empty-table statements follow 单位信息
    texts = {e.ref.sheet: e.value for e in run.edits if isinstance(e.value, str) and "空表" in e.value}
    assert texts["表8 政府性基金预算支出情况表"] == "阿克陶县社会保险中心2026年没有使用政府性基金预算拨款安排的支出，政府性基金预算支出情况表为空表。"
    assert len(texts) == 4


def test_rerunning_changes_nothing(example_copy, tmp_path):
    first = pipeline.subtotal_file(example_copy, SPEC, tmp_path / "once.xlsx").target
    second = pipeline.subtotal_file(first, SPEC, tmp_path / "twice.xlsx")
    assert second.edits == ()


def test_input_untouched_unless_in_place(example_copy, tmp_path, capsys):
    before = _hash(example_copy)
    assert main(["subtotal", str(example_copy), "-o", str(tmp_path / "out.xlsx")]) == 0
    assert _hash(example_copy) == before
    assert main(["subtotal", str(example_copy), "-o", str(example_copy)]) == 2
    assert "--in-place" in capsys.readouterr().err
    assert _hash(example_copy) == before
    assert main(["subtotal", str(example_copy), "--in-place"]) == 0
    assert _hash(example_copy) != before
    assert pipeline.read(example_copy, SPEC).disclosure.table("T2").by_code("208").value("总计") == D("1381.57")
    assert not list(tmp_path.glob(".*part*")), "no temporary files left behind"


def test_cli_lists_each_changed_cell(example_copy, tmp_path, capsys):
    main(["subtotal", str(example_copy), "-o", str(tmp_path / "o.xlsx")])
    out = capsys.readouterr().out
    assert "'表2 部门收入总体情况表'!E6: 1,381.56 → 1,381.57" in out
    assert "改动 43 个单元格" in out


def test_detail_change_moves_every_total_above_it(example_copy, tmp_path):
    def edit(wb):
        ws = sheet_of(wb, "T3")
        for r in range(1, ws.max_row + 1):
            if (ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 3).value) == ("221", "02", "01"):
                ws.cell(r, 6).value = 50  # 住房公积金 基本支出 42.32 -> 50
    changed = edited_copy(example_copy, tmp_path / "c.xlsx", edit)
    d = pipeline.read(pipeline.subtotal_file(changed, SPEC, tmp_path / "o.xlsx").target, SPEC).disclosure
    t3 = d.table("T3")
    assert t3.by_code("2210201").value("合计") == D("50")
    assert t3.by_code("22102").value("基本支出") == D("50")
    assert t3.by_code("221").value("合计") == D("50")
    assert t3.total_row().value("合计") == D("1462.90") - D("42.32") + D("50")
    assert d.table("T1").by_code("221").value("预算数") == D("50")


def test_missing_parent_row_is_reported_not_invented(tmp_path, spec):
    from .builders import new_template_book

    wb = new_template_book()
    ws = sheet_of(wb, "T3")
    ws["A6"], ws["B6"], ws["C6"], ws["D6"], ws["F6"] = "208", "05", "05", "机关事业单位基本养老保险缴费支出", 53.3
    path = tmp_path / "t.xlsx"
    wb.save(path)
    run = pipeline.subtotal_file(path, SPEC, tmp_path / "o.xlsx")
    codes = [(f.code, f.refs[0].a1) for f in run.result.findings]
    assert ("S01", "A6") in codes
    messages = " ".join(f.message for f in run.result.findings)
    assert "20805" in messages and "208" in messages
    t3 = pipeline.read(run.target, SPEC).disclosure.table("T3")
    assert t3.by_code("2080505").value("合计") == D("53.3")
    assert t3.total_row().value("合计") == D("53.3")


def test_only_total_typed_is_kept_and_reported(tmp_path):
    from .builders import new_template_book

    wb = new_template_book()
    ws = sheet_of(wb, "T3")
    ws["A6"], ws["B6"], ws["C6"], ws["D6"], ws["E6"] = "2080109", None, None, "社会保险经办机构", 100
    path = tmp_path / "t.xlsx"
    wb.save(path)
    run = pipeline.subtotal_file(path, SPEC, tmp_path / "o.xlsx")
    assert [f.code for f in run.result.findings if f.code == "S02"] == ["S02"]
    t3 = pipeline.read(run.target, SPEC).disclosure.table("T3")
    assert t3.by_code("2080109").value("合计") == D("100")
