"""D rules: 其他事项 figures the narrative states."""

from budgetxl.model import Severity

from ..builders import GridEditor
from .conftest import fired, run

OTHER = "其他事项"


def clean(code):
    return run(GridEditor().build(), code)


def test_D01_running_costs(editor):
    assert fired(run(editor.set(OTHER, "B3", 10).build(), "D01"))
    assert clean("D01") == []
    info = run(GridEditor().set("单位信息", "B6", "事业单位").build(), "D01")
    assert [f.severity for f in info] == [Severity.INFO]


def test_D02_procurement_total(editor):
    assert fired(run(editor.set(OTHER, "B4", 13).build(), "D02"))
    assert clean("D02") == []


def test_D03_reserved_share(editor):
    found = run(editor.set(OTHER, "B9", 5).build(), "D03")  # 小微 5 > 中小 3.44
    assert fired(found) and found[0].refs[0].a1 == "B9"
    assert clean("D03") == []


def test_D04_procurement_within_budget(editor):
    assert fired(run(editor.set(OTHER, "B4", 2000).build(), "D04"), severity=Severity.WARNING)
    assert clean("D04") == []


def test_D05_vehicles(editor):
    assert fired(run(editor.set(OTHER, "B23", 1).build(), "D05"))
    assert fired(run(GridEditor().set(OTHER, "B13", 0).build(), "D05"), severity=Severity.WARNING)
    assert clean("D05") == []


def test_D06_assets(editor):
    assert fired(run(editor.set(OTHER, "B15", 1).build(), "D06"), severity=Severity.WARNING)
    assert clean("D06") == []
