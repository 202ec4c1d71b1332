"""Invariants over a corpus of generated departments (budgetxl.testing.generator).

Each department is valid by construction in 元; every invariant of issue 12 is a
test over the corpus. CI runs CORPUS departments (seeds 0…N-1); set
BUDGETXL_CORPUS=N to run N on demand (thousands take minutes per thousand).
Grids are built in memory; a subset also goes through real files.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from budgetxl import pipeline
from budgetxl.grid import grid_from_values
from budgetxl.model import CellRef, Severity
from budgetxl.narrative import generate
from budgetxl.narrative.sheet import narrative_sheet
from budgetxl.render.rounding import printable
from budgetxl.spec import load_spec
from budgetxl.subtotals import compute
from budgetxl.testing.generator import department
from budgetxl.testing.workbook import filled_grid, printed_grid

SPEC = load_spec()
ON_DEMAND = int(os.environ.get("BUDGETXL_CORPUS", "0"))
CORPUS = ON_DEMAND or 40  # every invariant
WIDE = ON_DEMAND or 160  # the two main invariants on more departments, seeds after CORPUS
SEEDS = range(CORPUS)
ROUNDING_NOTE = "尾差"


def serious(report):
    return [f for f in report.findings if f.severity in (Severity.ERROR, Severity.WARNING)]


def rounding_notes(report):
    return [f for f in report.findings if ROUNDING_NOTE in f.message]


class Case:
    """One department and what the pipeline makes of it, computed once."""

    def __init__(self, seed: int):
        self.dept = department(seed, SPEC)
        self.grid = self.dept.grid(SPEC, "元")
        self.reading = pipeline.read_grid(self.grid, SPEC)
        self.model, self.log = printable(self.reading.disclosure, SPEC)
        self.narrative = generate(self.model, SPEC)


_CASES: dict[int, Case] = {}


def case(seed: int) -> Case:
    if seed not in _CASES:
        _CASES[seed] = Case(seed)
    return _CASES[seed]


def _expected_cells(data, spec):
    """Where fill puts every generated table amount: (sheet, row, col) -> Decimal."""
    from budgetxl.fill import row_counts

    counts = row_counts(spec, data)
    out = {}
    for t in spec.tables:
        block = data["tables"].get(t.key)
        first = spec.layout.data_first_row(t)
        total = first + counts[t.key] if t.key in counts else spec.layout.total_row(t)
        rows = [*block["rows"], block["total"]]
        for i, row in enumerate(rows):
            r = total if i == len(rows) - 1 else first + i
            for c, (col, value) in enumerate(zip(t.columns, row), start=1):
                if col.role == "amount" and value not in ("", None):
                    out[(t.sheet, r, c)] = Decimal(value)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_fill_then_read_gives_back_every_generated_figure(seed):
    c = case(seed)
    expected = _expected_cells(c.dept.data("元"), SPEC)
    read = {}
    for table in c.reading.disclosure.tables.values():
        for row in table.rows:
            for a in row.values.values():
                if a.value is not None:
                    read[(a.ref.sheet, a.ref.row, a.ref.col)] = a.value
    assert read == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_department_is_valid_and_subtotal_changes_nothing(seed):
    c = case(seed)
    report = pipeline.check(c.reading, SPEC)
    assert serious(report) == [], [f.message for f in serious(report)][:3]
    assert compute(c.reading.disclosure, SPEC).edits == ()


@pytest.mark.parametrize("seed", SEEDS)
def test_publication_read_back_in_wan_passes_check_without_rounding_notes(seed):
    """The printed figures, put back into the workbook as a 万元 workbook: every identity holds on the page."""
    c = case(seed)
    again = pipeline.read_grid(printed_grid(c.grid, c.model, SPEC), SPEC)
    report = pipeline.check(again, SPEC)
    assert serious(report) == [], [f.message for f in serious(report)][:3]
    assert rounding_notes(report) == [], [f.message for f in rounding_notes(report)][:3]
    # the 万元 version narrates exactly as the 元 version, and prints the same tables
    assert pipeline.narrate(again, SPEC).to_text() == c.narrative.to_text()
    assert _printed_values(printable(again.disclosure, SPEC)[0]) == _printed_values(c.model)


@pytest.mark.parametrize("start", range(CORPUS, CORPUS + WIDE, 20))
def test_wide_corpus_is_valid_and_prints_consistently(start):
    """20 departments a test: valid as generated; the printed figures, as a 万元 workbook, pass check with no 尾差."""
    for seed in range(start, min(start + 20, CORPUS + WIDE)):
        grid = department(seed, SPEC).grid(SPEC, "元")
        reading = pipeline.read_grid(grid, SPEC)
        assert serious(pipeline.check(reading, SPEC)) == [], seed
        model, _ = printable(reading.disclosure, SPEC)
        report = pipeline.check(pipeline.read_grid(printed_grid(grid, model, SPEC), SPEC), SPEC)
        assert serious(report) == [] and rounding_notes(report) == [], (seed, [f.message for f in report.findings][:2])


def _printed_values(model):
    return {(a.ref.sheet, a.ref.row, a.ref.col): a.value for t in model.tables.values() for r in t.rows for a in r.values.values()}


@pytest.mark.parametrize("seed", [s for s in SEEDS if s % 4 == 0])
def test_round_department_in_yuan_and_in_wan_print_the_same(seed):
    """A department whose figures are whole 100 元 exists exactly in 万元 too: same narrative, same tables."""
    c = case(seed)
    assert c.dept.round
    wan = pipeline.read_grid(c.dept.grid(SPEC, "万元"), SPEC)
    assert serious(pipeline.check(wan, SPEC)) == []
    assert pipeline.narrate(wan, SPEC).to_text() == c.narrative.to_text()
    assert _printed_values(printable(wan.disclosure, SPEC)[0]) == _printed_values(c.model)
    assert c.log == []  # nothing to adjust: every figure is exact in 万元


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_narrative_matches_the_tables(seed):
    """The narrative written into the 情况说明 sheet and read back: D07 finds no number that is not in the tables."""
    c = case(seed)
    sheet = narrative_sheet(c.narrative, SPEC.layout.narrative_sheet)
    values = [(n, [list(r) for r in c.grid.sheet(n).rows]) for n in c.grid.names]
    values.append((sheet.name, [list(sheet.header), *[list(r) for r in sheet.rows]]))
    reading = pipeline.read_grid(grid_from_values(values), SPEC)
    assert reading.disclosure.narrative_text
    report = pipeline.check(reading, SPEC, select=["D07"])
    assert report.findings == ()
    text = c.narrative.to_text()
    assert "待填写" not in text and "万元" in text


def _edited(c: Case, ref: CellRef, value):
    sheets = [(n, [list(r) for r in c.grid.sheet(n).rows]) for n in c.grid.names]
    for name, rows in sheets:
        if name == ref.sheet:
            rows[ref.row - 1][ref.col - 1] = value
    return pipeline.read_grid(grid_from_values(sheets), SPEC)


def _found_at(report, ref: CellRef) -> bool:
    return any(ref in f.refs or any(r.sheet == ref.sheet and r.row == ref.row for r in f.refs) for f in serious(report))


@pytest.mark.parametrize("seed", SEEDS[:: max(1, CORPUS // 20)])
def test_a_changed_detail_cell_is_found_at_that_cell(seed):
    c = case(seed)
    t3 = c.reading.disclosure.tables["T3"]
    row = next(r for r in t3.rows if r.kind == "detail" and r.amount("基本支出") or r.kind == "detail" and r.amount("项目支出"))
    column = "基本支出" if row.amount("基本支出") else "项目支出"
    ref = row.values[column].ref
    report = pipeline.check(_edited(c, ref, row.amount(column) + Decimal("1.00")), SPEC)
    assert _found_at(report, ref)


@pytest.mark.parametrize("seed", SEEDS[:: max(1, CORPUS // 20)])
def test_a_swapped_code_is_found_at_that_row(seed):
    c = case(seed)
    t5 = c.reading.disclosure.tables["T5"]
    row = next(r for r in t5.rows if r.kind == "detail")
    used = {r.code for r in t5.rows if r.code}
    from budgetxl.codes import codes_for

    other = next(code for code in codes_for(SPEC, "functional").names if len(code) == 7 and code not in used and code[:5] != row.code[:5])
    ref = CellRef(t5.sheet, row.row, 3)
    # 类, 款, 项 of another 科目
    sheets = [(n, [list(r) for r in c.grid.sheet(n).rows]) for n in c.grid.names]
    for name, rows in sheets:
        if name == t5.sheet:
            rows[row.row - 1][0:3] = [other[:3], other[3:5], other[5:]]
    edited = pipeline.read_grid(grid_from_values(sheets), SPEC)
    report = pipeline.check(edited, SPEC)
    assert _found_at(report, ref)


@pytest.mark.parametrize("seed", SEEDS[:: max(1, CORPUS // 20)])
def test_a_wrong_prior_figure_is_found_at_that_cell(seed):
    c = case(seed)
    records = c.reading.disclosure.lists["priors"]
    flat = next((r for r in records if not r.text("增减原因") and r.amount("上年预算数")), None)
    if flat is None:
        pytest.skip("no unchanged item in this department")
    ref = flat.amounts["上年预算数"].ref
    report = pipeline.check(_edited(c, ref, flat.amount("上年预算数") + Decimal("12345.67")), SPEC)
    assert _found_at(report, ref)


def test_corpus_covers_what_the_example_lacks():
    depts = [case(s).dept for s in SEEDS]
    assert {d.nature for d in depts} == {"行政单位", "参照公务员法管理事业单位", "事业单位"}
    funds = set().union(*(d.facts["funds"] for d in depts))
    assert funds >= {"上级一般", "基金", "上级基金", "国有", "专户", "单位", "财政结转", "非财政结转"}
    assert any(d.facts["three"]["因公出国（境）费用"] for d in depts) and any(d.facts["three"]["公务用车购置"] for d in depts)
    assert min(d.facts["projects"] for d in depts) == 0 and max(d.facts["projects"] for d in depts) >= 40
    assert any(d.round for d in depts) and any(not d.round for d in depts)
    patterns = set()
    for d in depts:
        for p in d.lists["priors"]:
            if p["增减原因"].endswith("增加。"):
                patterns.add("rise")
            elif p["增减原因"].endswith("减少。"):
                patterns.add("fall")
            if not p["上年预算数"]:
                patterns.add("from zero")
            elif not p["增减原因"]:
                patterns.add("equal")
            elif p["增减原因"].endswith("减少。") and p["类别"] == "三公经费" and not d.facts["three"].get(p["名称"], 1):
                patterns.add("to zero")
    assert patterns == {"rise", "fall", "from zero", "equal", "to zero"}


def test_generator_is_reproducible():
    assert department(7, SPEC).data("元") == department(7, SPEC).data("元")
    assert department(7, SPEC).data("元") != department(8, SPEC).data("元")


def test_big_department_fills_checks_narrates_and_converts(tmp_path):
    """120 projects and about 150 rows: fill grows the tables, and everything after works."""
    import json

    d = department(11, SPEC, projects=120, codes=999)
    assert d.facts["projects"] == 120
    data = tmp_path / "big.json"
    data.write_text(json.dumps(d.data("元"), ensure_ascii=False), encoding="utf-8")
    path = pipeline.fill_file(data, tmp_path / "big.xlsx", SPEC)
    reading = pipeline.read(path, SPEC)
    assert len([r for r in reading.disclosure.tables["T7"].rows if r.project]) == 120
    assert len(reading.disclosure.tables["T7"].rows) >= 145 and len(reading.disclosure.tables["T2"].rows) >= 80
    assert serious(pipeline.check(reading, SPEC)) == []
    text = pipeline.narrate(reading, SPEC).to_text()
    assert "（一百二十）项目名称" in text
    files, note = pipeline.publish(reading, SPEC, tmp_path, ("docx", "xlsx"))
    assert [f.suffix for f in files] == [".docx", ".xlsx"]
    import docx

    body = "\n".join(p.text for p in docx.Document(str(files[0])).paragraphs)
    assert "（一百二十）项目名称" in body and "【待填写" not in body
    again = pipeline.read(files[1], SPEC)
    report = pipeline.check(again, SPEC)
    assert serious(report) == [] and rounding_notes(report) == []
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb[SPEC.table("T7").sheet]
    assert ws.max_row >= 150 and ws.data_validations.dataValidation  # the grown template keeps its drop-downs
    assert any(ws.cell(r, 4).value == "总计" for r in range(150, ws.max_row + 1))


def test_filled_grid_is_what_fill_writes(tmp_path):
    """The in-memory grid the corpus uses reads the same as the file ``fill`` writes."""
    import json

    d = department(3, SPEC)
    data = tmp_path / "d.json"
    data.write_text(json.dumps(d.data("元"), ensure_ascii=False), encoding="utf-8")
    from_file = pipeline.read(pipeline.fill_file(data, tmp_path / "d.xlsx", SPEC), SPEC).disclosure
    in_memory = pipeline.read_grid(filled_grid(d.data("元"), SPEC), SPEC).disclosure
    assert _printed_values(from_file) == _printed_values(in_memory)
    assert generate(printable(from_file, SPEC)[0], SPEC).to_text() == generate(printable(in_memory, SPEC)[0], SPEC).to_text()
