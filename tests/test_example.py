"""The bundled example reproduces every number of the published 12 tables."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.model import DETAIL, SUBTOTAL, TOTAL

from .conftest import EXAMPLE, EXAMPLE_DATA
from .reference import amount, reference_tables
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()

REFERENCE = reference_tables()


def _model_cells(table):
    """(sheet row, sheet column) -> value, from the cell references of the model."""
    cells = {}
    for row in table.rows:
        for a in row.values.values():
            if a.value is not None:
                cells[(a.ref.row, a.ref.col)] = a.value
    return cells


@pytest.mark.parametrize("number", range(1, 13))
def test_every_published_number_is_read_back_exactly(example_reading, spec, number):
    t = spec.table(f"T{number}")
    table = example_reading.disclosure.table(t.key)
    model = _model_cells(table)
    first = SPEC.layout.data_first_row(t)
    expected = {}
    rows = REFERENCE[number]
    for i, cells in enumerate(rows):
        sheet_row = SPEC.layout.total_row(t) if i == len(rows) - 1 else first + i  # the total row closes the table
        for c, text in enumerate(cells, start=1):
            value = amount(text)
            if value is not None:
                expected[(sheet_row, c)] = value
    assert model == expected
    assert all(isinstance(v, Decimal) for v in model.values())


def test_reference_has_the_numbers_we_think_it_has():
    # guards the reference reader itself: a reader that finds nothing proves nothing
    counts = {n: sum(1 for r in rows for c in r if amount(c) is not None) for n, rows in REFERENCE.items()}
    assert counts[2] == 55  # 15 rows of 3 figures, 208, 208 01 and 总计 with 4
    assert counts[7] == 47
    assert counts[8] == counts[9] == counts[11] == counts[12] == 0
    assert sum(counts.values()) == 247


@pytest.mark.parametrize("number", [2, 3, 5, 6, 7])
def test_codes_names_and_kinds(example_reading, spec, number):
    t = spec.table(f"T{number}")
    table = example_reading.disclosure.table(t.key)
    code_width = len(t.code_levels)
    rows = REFERENCE[number]
    assert len(table.rows) == len(rows)
    for row, cells in zip(table.rows, rows):
        code = "".join(cells[:code_width])
        name = cells[code_width]
        if code:
            assert row.code == code
            assert row.name == name
            if number == 7:
                assert row.project == (cells[4] or None)
                assert row.kind == (DETAIL if cells[4] else SUBTOTAL)
            else:
                assert row.kind == (DETAIL if len(code) == t.detail_length else SUBTOTAL)
        elif name == "总计":
            assert row.kind == TOTAL
        else:
            assert number == 7 and row.name == "阿克陶县社会保险中心" and row.kind == SUBTOTAL


def test_fixed_rows_of_table_1_by_label(example_reading):
    t1 = example_reading.disclosure.table("T1")
    assert t1.by_key("一般财力").value("预算数") == Decimal("1446.90")
    assert t1.by_key("上级一般公共预算安排转移支付").value("预算数") == Decimal("16.00")
    assert t1.by_key("结转一般公共预算拨款").label == "其中：一般公共预算拨款"
    classes = [r.code for r in t1.rows_of(SUBTOTAL, side="支出")]
    assert len(classes) == 30 and classes[0] == "201" and classes[-1] == "234"
    assert str(t1.by_key("一般财力").values["预算数"].ref) == "'表1 部门收支总体情况表'!B8"


def test_department_year_unit_and_inputs(example_reading):
    d = example_reading.disclosure
    assert (d.department, d.year, d.unit) == ("阿克陶县社会保险中心", 2026, "万元")
    assert len(d.lists["projects"]) == 12
    assert len(d.lists["targets"]) == 13  # 部门整体 + 12 projects
    priors = {(r.text("类别"), r.text("编码") or r.text("名称")): r.amount("上年预算数") for r in d.lists["priors"]}
    assert priors[("收入", "一般公共预算")] == Decimal("446.01")
    assert priors[("支出", "基本支出")] == Decimal("436.51")
    assert priors[("支出", "项目支出")] == Decimal("20.50")
    assert priors[("机关运行经费", "机关运行经费")] == Decimal("8.19")
    # the 项 prior figures add up to the prior 基本 + 项目 (457.01 both ways)
    items = sum(v for (k, _), v in priors.items() if k == "功能分类科目")
    assert items == Decimal("436.51") + Decimal("20.50") == Decimal("457.01")


def test_example_reads_without_findings(example_reading):
    assert example_reading.findings == ()


def test_committed_example_matches_its_data_file(tmp_path):
    rebuilt = pipeline.fill_file(EXAMPLE_DATA, tmp_path / "rebuilt.xlsx", SPEC, template=None)
    a = openpyxl.load_workbook(EXAMPLE)
    b = openpyxl.load_workbook(rebuilt)
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        va = [[c for c in r] for r in a[name].iter_rows(values_only=True)]
        vb = [[c for c in r] for r in b[name].iter_rows(values_only=True)]
        assert va == vb, name


def test_calamine_and_openpyxl_read_the_same_model():
    a = pipeline.read(EXAMPLE, SPEC, reader="calamine").disclosure
    b = pipeline.read(EXAMPLE, SPEC, reader="openpyxl").disclosure
    for key in a.tables:
        assert a.tables[key].rows == b.tables[key].rows, key
