"""E rules: 绩效目标 against the budget."""

from decimal import Decimal as D

from budgetxl.model import Severity
from budgetxl.rules.performance import normalize_project, parse_value

from ..builders import GridEditor
from .conftest import fired, run

TARGETS, INDICATORS = "绩效目标", "绩效指标"


def clean(code):
    return run(GridEditor().build(), code)


def _indicator_row(base, table_name, indicator):
    return next(r.row for r in base.disclosure.lists["indicators"] if r.text("目标表名称") == table_name and r.text("三级指标") == indicator)


def test_E01_whole_department(editor):
    assert fired(run(editor.set(TARGETS, "G2", 1500).build(), "E01"))
    assert clean("E01") == []


def test_E02_names_warn_amounts_error(editor, base):
    found = clean("E02")
    assert len(found) == 12 and {f.severity for f in found} == {Severity.WARNING}
    hit = fired(run(editor.set(TARGETS, "G3", 10).build(), "E02"))
    assert hit and hit[0].refs[0].a1 == "G3" and hit[0].expected == D("9.00")
    renamed = GridEditor()
    for record in base.disclosure.lists["targets"]:
        if record.text("类型") == "项目":
            renamed.set(TARGETS, f"A{record.row}", record.text("表7项目名称"))
            for ind in base.disclosure.lists["indicators"]:
                if ind.text("目标表名称") == record.text("目标表名称"):
                    renamed.set(INDICATORS, f"A{ind.row}", record.text("表7项目名称"))
    assert run(renamed.build(), "E02") == []


def test_E02_matching_by_name_without_link(editor, base):
    for record in base.disclosure.lists["targets"]:
        editor.set(TARGETS, f"C{record.row}", None)  # no 表7项目名称: match by normalised name
    found = run(editor.build(), "E02")
    assert {f.severity for f in found} == {Severity.WARNING}  # all 12 still found, names differ
    assert normalize_project("2026年城乡居民养老保险网络费项目（县级）") == normalize_project("城乡居民养老保险网络费项目")


def test_E03_indicator_tree(editor, base):
    found = clean("E03")
    assert len(found) == 1 and "保障城乡居民生活质量" in found[0].message  # the 丧葬 table (reference)
    assert run(editor.setref(found[0].refs[0], "社会效益指标").build(), "E03") == []


def test_E04_weights(editor, base):
    row = _indicator_row(base, "社会保险工作经费项目", "办公费（万元）")
    assert fired(run(editor.set(INDICATORS, f"H{row}", 30).build(), "E04"), severity=Severity.WARNING)
    assert clean("E04") == []


def test_E05_indicator_values(editor, base):
    found = clean("E05")
    values = sorted(f.actual for f in found)
    assert "=50-100元" in values and "≤81 人" in values and values.count("> =98%") == 3
    for f in found:
        editor.setref(f.refs[0], "≥98%")
    assert run(editor.build(), "E05") == []


def test_E06_cost_arithmetic(editor, base):
    found = clean("E06")
    assert len(found) == 1 and "81" in found[0].message and found[0].expected == D("11.66")
    assert run(editor.setref(found[0].refs[0], "≥62.5人").build(), "E06") == []  # 62.5 × 120 × 12 = 9.00 万


def test_E07_amount_indicators(editor, base):
    row = _indicator_row(base, "财政对企业职工基本养老保险的补助项目", "发放资金总金额（万元）")
    assert fired(run(editor.set(INDICATORS, f"E{row}", "=100万元").build(), "E07"), severity=Severity.WARNING)
    assert clean("E07") == []


def test_E08_execution_period(editor, base):
    found = clean("E08")
    assert len(found) == 1 and "1995" in found[0].message
    assert run(editor.setref(found[0].refs[0], "2026年4月1日—2027年3月31日").build(), "E08") == []


def test_indicator_value_parser():
    v = parse_value("> =98%")
    assert (v.op, v.number, v.unit, v.spaced) == ("≥", D("98"), "%", True)
    assert parse_value("=50-100元").high == D("100")
    assert parse_value("保障") is None
