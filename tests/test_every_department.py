"""Issue 12: right for every department, in 元 and in 万元 — one test per named defect."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal

import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.cli import main
from budgetxl.comparables import Comparable
from budgetxl.model import Amount, CellRef, Finding, Severity
from budgetxl.narrative.filters import change, chinese_number
from budgetxl.report import Report, groups, pattern, text_table
from budgetxl.spec import load_spec

from .builders import GridEditor
from .conftest import EXAMPLE

SPEC = load_spec()
EXAMPLE_DATA = EXAMPLE.with_suffix(".toml")
D = Decimal


def scaled(data: dict, factor: int, unit: str) -> dict:
    """The example's data with every money figure × factor (years, counts, areas unchanged)."""
    out = json.loads(json.dumps(data, default=str))
    out["info"]["金额单位"] = unit

    def times(v):
        return "" if v in ("", None) else format(D(str(v)) * factor, "f")

    for key, block in out["tables"].items():
        t = SPEC.table(key)
        for row in [*block["rows"], block["total"]]:
            for i, col in enumerate(t.columns[: len(row)]):
                if col.role == "amount":
                    row[i] = times(row[i])
    for inp in SPEC.inputs:
        money = {f.key for f in inp.fields if f.type == "amount"}
        given = out.get(inp.key)
        if not given:
            continue
        for record in ([given] if inp.kind == "form" else given):
            for k in money & set(record):
                record[k] = times(record[k])
    return out


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The example (万元) and its 元 copy, each filled and after 计算小计."""
    folder = tmp_path_factory.mktemp("yuan")
    data = tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"))
    out = {}
    for name, factor, unit in (("wan", 1, "万元"), ("yuan", 10000, "元")):
        source = folder / f"{name}.json"
        source.write_text(json.dumps(scaled(data, factor, unit), ensure_ascii=False), encoding="utf-8")
        raw = pipeline.fill_file(source, folder / f"{name}.xlsx", SPEC)
        subtotalled = pipeline.subtotal_file(raw, SPEC, folder / f"{name}-sub.xlsx").target
        out[name] = raw
        out[name + "-sub"] = subtotalled
    return out


# ------------------------------------------------------------------ 1. 元 workbooks


def test_yuan_copy_narrates_the_same_wan_figures_as_the_example(books):
    wan = pipeline.narrate(pipeline.read(books["wan-sub"], SPEC), SPEC).to_text()
    yuan = pipeline.narrate(pipeline.read(books["yuan-sub"], SPEC), SPEC).to_text()
    assert "收支总预算1,462.90万元" in yuan  # not 14,629,000.00万元
    assert yuan == wan


def test_yuan_copy_as_filled_states_no_figure_ten_thousand_times_too_large(books):
    yuan = pipeline.narrate(pipeline.read(books["yuan"], SPEC), SPEC).to_text()
    assert "收支总预算1,462.90万元" in yuan and "14,629,000" not in yuan


def test_yuan_documents_print_years_and_counts_unscaled(books):
    pub = pipeline.publication(pipeline.read(books["yuan"], SPEC), SPEC)
    text = pub.narrative.to_text()
    assert "截至2025年底" in text
    assert "一般公务用车2辆，价值26.81万元" in text
    assert "房屋0.00平方米" in text  # an area, never divided by 10,000
    other = pub.model.forms["other"]
    assert other.amount("一般公务用车（辆）") == 2 and other.amount("资产统计截止年度") == 2025


def test_fill_in_yuan_writes_the_unit_on_every_table(books):
    wb = openpyxl.load_workbook(books["yuan"])
    for t in SPEC.tables:
        ws = wb[t.sheet]
        assert ws.cell(SPEC.layout.context_row, len(t.columns)).value == "单位：元", t.sheet
    report = pipeline.check(pipeline.read(books["yuan"], SPEC), SPEC)
    assert not [f for f in report.findings if f.code == "A02"]


# ------------------------------------------------------------------ 2. one rounding per figure


def test_publication_of_a_yuan_workbook_rechecks_clean(books, tmp_path):
    """The 元 copy of the example: 0 错误; the only printed disagreement is 表6 vs 表5 基本支出,
    which the example's own figures carry (100 元 apart in 元, reported there as a C06 错误)."""
    reading = pipeline.read(books["yuan-sub"], SPEC)
    assert [f.code for f in pipeline.check(reading, SPEC).findings if f.severity == Severity.ERROR] == ["C06", "C12"]
    files, _ = pipeline.publish(reading, SPEC, tmp_path, ("xlsx",))
    report = pipeline.check(pipeline.read(files[0], SPEC), SPEC)
    # C12, C13: the example's misspelt 科目名称 (the reference's one 错误) and its 医疗 warning are printed as entered
    assert [f.code for f in report.findings if f.severity in (Severity.ERROR, Severity.WARNING)] == ["C12", "C13"]
    assert [f.code for f in report.findings if "尾差" in f.message] == ["C06"]


def test_publication_xlsx_of_generated_departments_rechecks_clean(tmp_path):
    """The publication file itself (tables only), read back as a 万元 workbook: 0 错误, 0 警告, no 尾差."""
    from budgetxl.testing.generator import department

    for seed in (1, 2, 5, 14, 31):
        reading = pipeline.read_grid(department(seed, SPEC).grid(SPEC, "元"), SPEC)
        folder = tmp_path / str(seed)
        folder.mkdir()
        files, _ = pipeline.publish(reading, SPEC, folder, ("xlsx",))
        report = pipeline.check(pipeline.read(files[0], SPEC), SPEC)
        assert not [f for f in report.findings if f.severity in (Severity.ERROR, Severity.WARNING)], seed
        assert not [f for f in report.findings if "尾差" in f.message], seed


def test_one_figure_prints_one_value_in_every_table_and_sentence():
    """表2 总计 = 表3 合计 per 科目, 表5 = 表3 (only 一般公共预算), 表6 总计 = 表5 基本支出 — as printed."""
    from budgetxl.render.rounding import printable
    from budgetxl.testing.generator import department

    d = department(5, SPEC)  # 元, not round: every figure needs rounding
    model, log = printable(pipeline.read_grid(d.grid(SPEC, "元"), SPEC).disclosure, SPEC)
    t2, t3, t5, t6 = (model.tables[k] for k in ("T2", "T3", "T5", "T6"))
    for row in t2.rows:
        if row.code:
            assert row.value("总计") == t3.by_code(row.code).value("合计")
    assert t6.total_row().value("合计") == t5.total_row().value("基本支出")
    assert log  # there was something to round


# ------------------------------------------------------------------ 3. 万元 workbooks with 尾差


def test_wan_rounding_difference_across_tables_names_the_cell_to_change(books, tmp_path):
    report = pipeline.check(pipeline.read(books["wan-sub"], SPEC), SPEC)
    c06 = next(f for f in report.findings if f.code == "C06")
    assert "'表6 一般公共预算基本支出情况表'!E8" in c06.message and "205.85" in c06.message
    assert "运行“计算小计”即" not in c06.message and "按元填报" in c06.message
    assert CellRef("表6 一般公共预算基本支出情况表", 8, 5) in c06.refs
    # the advice is true: change that cell, run 计算小计, and the two tables agree
    wb = openpyxl.load_workbook(books["wan-sub"])
    wb["表6 一般公共预算基本支出情况表"]["E8"] = 205.85
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    fixed = pipeline.subtotal_file(edited, SPEC, tmp_path / "fixed.xlsx").target
    again = pipeline.check(pipeline.read(fixed, SPEC), SPEC)
    assert not [f for f in again.findings if f.code == "C06"]


# ------------------------------------------------------------------ 4. no false statements from missing data


def _t7_cleared() -> GridEditor:
    t7 = SPEC.table("T7")
    editor = GridEditor()
    first, total = SPEC.layout.data_first_row(t7), SPEC.layout.total_row(t7)
    for r in range(first, total + 1):
        for c in range(1, len(t7.columns) + 1):
            if r < total or t7.columns[c - 1].role == "amount":
                editor.set("T7", CellRef("x", r, c), None)
    return editor


def test_empty_t7_with_project_spending_is_reported_and_not_narrated_as_no_projects():
    reading = pipeline.read_grid(_t7_cleared().build(), SPEC)
    report = pipeline.check(reading, SPEC)
    a11 = [f for f in report.findings if f.code == "A11" and "表7" in f.message]
    assert a11 and a11[0].severity == Severity.ERROR
    assert a11[0].refs[0].sheet == SPEC.table("T7").sheet and a11[0].refs[1].sheet == SPEC.table("T5").sheet
    text = pipeline.narrate(reading, SPEC).to_text()
    assert "没有一般公共预算项目支出" not in text
    assert "【待填写：表7 一般公共预算项目支出】" in text


def test_empty_performance_targets_do_not_say_zero_projects():
    editor = GridEditor()
    rows = editor.sheets["绩效目标"]
    editor.sheets["绩效目标"] = rows[:1]
    reading = pipeline.read_grid(editor.build(), SPEC)
    text = pipeline.narrate(reading, SPEC).to_text()
    assert "项目共0个" not in text and "【待填写：绩效目标】" in text
    report = pipeline.check(reading, SPEC)
    assert any(f.code == "A11" and f.refs == (CellRef("绩效目标", 2, 1),) for f in report.findings)


@pytest.mark.parametrize("key, placeholder", [
    ("一般公务用车价值", "价值【待填写：一般公务用车价值】万元"),
    ("面向中小企业预留政府采购预算", "预算金额【待填写：面向中小企业预留政府采购预算】万元"),
])
def test_blank_inputs_show_a_placeholder_and_a_finding(key, placeholder):
    reading = pipeline.read_grid(GridEditor().build(), SPEC)
    ref = reading.disclosure.forms["other"].amounts[key].ref
    reading = pipeline.read_grid(GridEditor().setref(ref, None).build(), SPEC)
    text = pipeline.narrate(reading, SPEC).to_text()
    assert placeholder in text
    report = pipeline.check(reading, SPEC)
    assert any(f.code == "A11" and f.refs == (ref,) for f in report.findings)


# ------------------------------------------------------------------ 5. fixed limits


def test_chinese_numbers_beyond_99():
    assert [chinese_number(n) for n in (99, 100, 101, 110, 120, 1005)] == ["九十九", "一百", "一百零一", "一百一十", "一百二十", "一千零五"]


def test_tiny_prior_amount_does_not_crash_the_change_filter():
    ref = CellRef("x", 1, 1)
    item = Comparable("收入", "", "一般公共预算", D("100"), (ref,), Amount(D("1E-30"), ref))
    assert change(item).startswith("比上年预算增加100.00万元，增长")


def test_fill_grows_a_table_beyond_the_template(tmp_path):
    data = tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"))
    rows = data["tables"]["T3"]["rows"]
    extra = [["229", "99", f"{i:02d}"[-2:], "其他支出", "1.00", "1.00", ""] for i in range(50)]
    data["tables"]["T3"]["rows"] = rows + extra  # 66 rows; the template has 40
    source = tmp_path / "d.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    path = pipeline.fill_file(source, tmp_path / "grown.xlsx", SPEC)
    t3 = pipeline.read(path, SPEC).disclosure.tables["T3"]
    assert len([r for r in t3.rows if r.kind != "total"]) == 66
    assert t3.total_row().value("合计") == D("1462.90")
    ws = openpyxl.load_workbook(path)[SPEC.table("T3").sheet]
    total_row = SPEC.layout.data_first_row(SPEC.table("T3")) + 66
    assert ws.cell(total_row, 4).value == "总计" and ws.cell(total_row, 5).number_format == "#,##0.00"
    assert any(str(total_row - 1) in str(dv.sqref) for dv in ws.data_validations.dataValidation)


# ------------------------------------------------------------------ 6. noise


def _finding(code, sheet, cell, message, severity=Severity.WARNING):
    return Finding(code, severity, message, (CellRef.parse(f"'{sheet}'!{cell}"),), title="t")


def test_check_prints_one_line_per_rule_and_pattern_and_json_keeps_all(capsys):
    main(["check", str(EXAMPLE)])
    lines = capsys.readouterr().out.splitlines()[1:]
    main(["check", str(EXAMPLE), "--json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert len(findings) > 3 * len(lines) / 2  # 57 findings, about 20 lines
    report = pipeline.check(pipeline.read(EXAMPLE, SPEC), SPEC)
    seen = [(g.first.code, pattern(g.first)) for g in groups(report) if not g.rounding]
    assert len(seen) == len(set(seen))
    rounding_lines = [line for line in lines if " 尾差：" in line]
    tables = [line.split("尾差：")[1].split(" ")[0] for line in rounding_lines]
    assert len(tables) == len(set(tables))  # one 尾差 summary per table
    e02 = [line for line in lines if " E02 " in line]
    assert len(e02) == 1 and "同类 12 处" in e02[0]


def test_tables_are_ordered_numerically():
    report = Report(tuple(_finding("B02", f"表{n} x", "A1", f"m{n}。请改。") for n in (10, 2, 12, 1)))
    assert [f.refs[0].sheet for f in report.ordered()] == ["表1 x", "表2 x", "表10 x", "表12 x"]


def test_min_severity_hides_notes(capsys):
    main(["check", str(EXAMPLE), "--min-severity", "警告"])
    out = capsys.readouterr().out
    assert "\n提示 " not in out and "\n警告 " in out
    report = Report((_finding("A01", "s", "A1", "a", Severity.INFO), _finding("A05", "s", "A2", "b")))
    assert "提示" not in text_table(report, min_severity=Severity.WARNING).split("\n", 1)[1].split("（另有")[0]


def test_c12_treats_half_and_full_width_brackets_as_the_same_name():
    t6 = pipeline.read(EXAMPLE, SPEC).disclosure.tables["T6"]
    row = t6.by_code("30213")
    reading = pipeline.read_grid(GridEditor().setref(row.name_ref, "维修(护)费").build(), SPEC)
    report = pipeline.check(reading, SPEC, select=["C12"])
    assert not [f for f in report.findings if row.name_ref in f.refs]


def test_annotate_marks_only_the_wrong_cell():
    report = pipeline.check(pipeline.read(EXAMPLE, SPEC), SPEC)
    c12 = next(f for f in report.findings if f.code == "C12")
    assert c12.refs == (CellRef("表7 一般公共预算项目支出情况表", 8, 4),)
    e02 = next(f for f in report.findings if f.code == "E02")
    t7_refs = [r for r in e02.refs if r.sheet.startswith("表7")]
    assert t7_refs and all(r.col == 5 for r in t7_refs)  # 项目名称 (E), not 科目名称 (D)
