"""F rules: prior-year figures and reasons."""

from budgetxl.model import Severity

from ..builders import GridEditor
from .conftest import fired, run

PRIORS = "上年数与原因"


def clean(code):
    return run(GridEditor().build(), code)


def _row(base, code_or_name):
    return next(r.row for r in base.disclosure.lists["priors"] if code_or_name in (r.text("编码"), r.text("名称")))


def test_F01_change_without_reason(editor, base):
    row = _row(base, "2080501")
    found = fired(run(editor.set(PRIORS, f"E{row}", None).build(), "F01"))
    assert found and found[0].refs[0].a1 == f"E{row}"
    assert clean("F01") == []


def test_F02_missing_prior(editor, base):
    row = _row(base, "2210201")
    for col in "ABCDE":
        editor.set(PRIORS, f"{col}{row}", None)
    found = run(editor.build(), "F02")
    assert len(found) == 1 and "2210201" in found[0].message and found[0].severity == Severity.WARNING
    assert clean("F02") == []


def test_F03_reused_reasons(editor, base):
    found = clean("F03")
    assert len(found) == 3  # reference defects: 收入 本级/上级, 基本/项目支出, 2080109/2080699
    for f in found:
        for i, ref in enumerate(f.refs):
            editor.setref(ref, f"各自的原因{ref.row}。")
    assert run(editor.build(), "F03") == []


def test_F03_siblings_in_one_kuan_may_share(editor, base):
    found = clean("F03")
    assert not any("2101101" in f.message for f in found)  # 行政/事业单位医疗 share a reason legitimately


def test_F04_reason_belongs_to_other_item(editor, base):
    found = clean("F04")
    assert sorted(f.refs[0].a1 for f in found) == [f"E{_row(base, '上级一般公共预算安排的转移支付')}", f"E{_row(base, '项目支出')}"]
    for f in found:
        editor.setref(f.refs[0], "专项资金规模调整。")
    assert run(editor.build(), "F04") == []


def test_F05_zero_prior(editor, base):
    found = clean("F05")
    assert len(found) == 1 and "2080506" in found[0].message and found[0].severity == Severity.INFO
    assert run(editor.set(PRIORS, f"D{_row(base, '2080506')}", 20).build(), "F05") == []


def test_F06_unmatched_prior(editor, base):
    assert fired(run(editor.set(PRIORS, f"B{_row(base, '2080109')}", "208019").build(), "F06"), severity=Severity.WARNING)
    assert clean("F06") == []


def test_F07_reason_direction(editor, base):
    row = _row(base, "2080501")
    assert fired(run(editor.set(PRIORS, f"E{row}", "退休人员减少。").build(), "F07"), severity=Severity.WARNING)
    assert clean("F07") == []
