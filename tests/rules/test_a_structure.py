"""A rules: completeness and consistency of the workbook."""

from budgetxl.model import Severity

from ..builders import GridEditor
from .conftest import fired, run

INFO_SHEET = "单位信息"


def clean(code):
    return run(GridEditor().build(), code)


def test_A01_department_name(editor, base):
    assert [f.severity for f in clean("A01")] == [Severity.INFO]  # 编制部门 lines not yet filled
    found = fired(run(editor.set("T3", "A3", "编制部门：阿克陶县社保中心").build(), "A01"))
    assert found and found[0].refs[0].a1 == "A3"
    filled = GridEditor()
    for t in base.disclosure.tables.values():
        filled.setref(t.department.ref, "编制部门：阿克陶县社会保险中心")
    assert run(filled.build(), "A01") == []


def test_A02_units(editor, base):
    ref = base.disclosure.table("T6").unit.ref
    assert fired(run(editor.setref(ref, "单位：元").build(), "A02"), ref)
    assert clean("A02") == []


def test_A03_years(editor):
    assert fired(run(editor.set("其他事项", "B10", 2026).build(), "A03"))
    assert fired(run(GridEditor().set(INFO_SHEET, "B4", 2027).build(), "A03"), severity=Severity.WARNING)
    assert clean("A03") == []


def test_A04_placeholders(editor):
    found = fired(run(editor.set(INFO_SHEET, "B9", "负责XX工作").build(), "A04"))
    assert found and found[0].refs[0].a1 == "B9"
    assert clean("A04") == []


def test_A05_structure_text(editor):
    assert fired(run(editor.set(INFO_SHEET, "B10", "本中心设办公室、业务股。").build(), "A05"), severity=Severity.WARNING)
    assert clean("A05") == []


def test_A06_empty_statements(editor, base):
    assert {f.severity for f in clean("A06")} == {Severity.INFO}
    t8 = base.disclosure.table("T8")
    wrong = "阿克陶县社会保险中心2026年没有使用国有资本经营预算拨款安排的支出，国有资本经营预算支出情况表为空表。"
    assert fired(run(editor.set("T8", f"A{t8.total_row().row + 1}", wrong).build(), "A06"))


def test_A07_timeliness(editor):
    assert [f.severity for f in clean("A07")] == [Severity.INFO]  # no 批复日期 in the example
    late = run(editor.set(INFO_SHEET, "B11", "2026-01-01").build(), "A07")  # 30 days
    assert fired(late)
    assert all("请" in f.message for f in [*clean("A07"), *late])  # each says what to do
    assert run(GridEditor().set(INFO_SHEET, "B11", "2026-01-20").build(), "A07") == []


def test_A08_targets_cover_projects(editor, base):
    record = base.disclosure.lists["targets"][3]
    editor.set("绩效目标", f"A{record.row}", None).set("绩效目标", f"B{record.row}", None).set("绩效目标", f"C{record.row}", None)
    found = fired(run(editor.build(), "A08"))
    assert found and record.text("表7项目名称") in found[0].message
    assert clean("A08") == []


def test_A09_project_notes(editor, base):
    note = base.disclosure.lists["projects"][0]
    found = fired(run(editor.set("项目说明", f"A{note.row}", "改了名字的项目").build(), "A09"))
    assert found and note.text("项目名称") in found[0].message
    assert fired(run(GridEditor().set("项目说明", f"C{note.row}", None).build(), "A09"), severity=Severity.WARNING)
    assert clean("A09") == []


def test_A10_purposes(editor, base):
    purpose = base.disclosure.lists["purposes"][1]  # 210 卫生健康支出
    found = run(editor.set("支出用途", f"C{purpose.row}", None).build(), "A10")
    assert [f.severity for f in found] == [Severity.WARNING] and "210" in found[0].message
    assert clean("A10") == []
