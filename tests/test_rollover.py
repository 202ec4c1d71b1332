"""`budgetxl rollover`: next year's workbook from this year's."""

from __future__ import annotations

from decimal import Decimal as D

from budgetxl import pipeline
from budgetxl.cli import main
from budgetxl.model import DETAIL

from .builders import GridEditor
from .conftest import EXAMPLE
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()


def test_rollover_carries_inputs_and_moves_figures_to_prior(tmp_path, capsys):
    out = tmp_path / "2027.xlsx"
    assert main(["rollover", str(EXAMPLE), "-o", str(out)]) == 0
    assert "结转" not in capsys.readouterr().err
    d = pipeline.read(out, SPEC).disclosure
    assert (d.department, d.year) == ("阿克陶县社会保险中心", 2027)
    assert d.info.text("公开日期") == "" and d.info.text("主要职能").startswith("(一)贯彻执行")
    t3 = d.table("T3")
    assert [r.code for r in t3.rows if r.code] == [r.code for r in pipeline.read(EXAMPLE, SPEC).disclosure.table("T3").rows if r.code]
    assert all(a.value is None for r in t3.rows for a in r.values.values())
    assert len([r for r in d.table("T7").rows if r.kind == DETAIL]) == 12
    priors = {(r.text("类别"), r.text("编码") or r.text("名称")): r for r in d.lists["priors"]}
    assert priors[("功能分类科目", "2080109")].amount("上年预算数") == D("1270.40")
    assert priors[("收入", "一般公共预算")].amount("上年预算数") == D("1446.90")
    assert priors[("三公经费", "公务接待费")].amount("上年预算数") == D("0")
    assert all(not r.text("增减原因") for r in d.lists["priors"])
    assert len(d.lists["projects"]) == 12
    ind = next(r for r in d.lists["indicators"] if r.text("三级指标").startswith("补助人数"))
    assert ind.text("上年完成值") == "≤81 人"
    assert d.forms["other"].amount("资产统计截止年度") == D("2026")


def test_changed_items_without_reasons_and_new_items_are_reported(tmp_path):
    out, _ = pipeline.rollover_file(EXAMPLE, tmp_path / "2027.xlsx", SPEC)
    reading = pipeline.read(out, SPEC)
    t5 = reading.disclosure.table("T5")
    g = GridEditor(out)
    for code, value in (("2080109", 420), ("2101101", 38.08)):  # changed: 1,270.40 → 420; unchanged
        g.setref(t5.by_code(code).values["基本支出"].ref, value).setref(t5.by_code(code).values["合计"].ref, value)
    report = pipeline.check(pipeline.read_grid(g.build(), SPEC), SPEC, select=["F01", "F02"])
    f01 = [f for f in report.findings if f.code == "F01"]
    assert any("2080109" in f.message for f in f01)
    assert not any("2101101" in f.message for f in f01)


def test_rollover_never_overwrites_last_year(capsys):
    assert main(["rollover", str(EXAMPLE), "-o", str(EXAMPLE)]) == 2
    assert "不能覆盖" in capsys.readouterr().err
