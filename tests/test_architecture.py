"""The architecture holds: one pipeline under every front end, no import cycles,
the spec chosen in one place and passed down to every command."""

from __future__ import annotations

import ast
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from budgetxl.cli import main

from .conftest import EXAMPLE
from .test_spec import OTHER_REGION

SRC = Path(__file__).resolve().parent.parent / "src" / "budgetxl"
FRONT_ENDS = ("budgetxl.cli", "budgetxl.excel", "budgetxl.excel_setup", "budgetxl.batch", "budgetxl.web", "budgetxl.collect")


def _modules() -> dict[str, Path]:
    mods = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(("budgetxl", *path.relative_to(SRC).with_suffix("").parts))
        mods[name.removesuffix(".__init__")] = path
    return mods


def import_graph() -> dict[str, set[str]]:
    """module -> the budgetxl modules it imports (anywhere in the file, lazy imports too)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                candidates = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for target in candidates:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    targets.add(target)
        graph[name] = targets
    return graph


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_graph_sees_lazy_imports():
    """The check above can fail: it sees imports inside functions too."""
    graph = import_graph()
    assert "budgetxl.render.docx_document" in graph["budgetxl.pipeline"]  # imported inside write_documents
    assert "budgetxl.pipeline" in graph["budgetxl.batch"]


def _below(module: str, graph) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_nothing_under_the_pipeline_imports_a_front_end():
    graph = import_graph()
    below = _below("budgetxl.pipeline", graph)
    leaks = sorted(m for m in below if m.startswith(FRONT_ENDS))
    assert not leaks, f"the pipeline reaches front ends: {leaks}"
    for front in ("budgetxl.cli", "budgetxl.excel", "budgetxl.batch", "budgetxl.collect.intake"):
        assert "budgetxl.pipeline" in graph[front], f"{front} does not go through the pipeline"


def test_the_default_spec_is_named_in_one_place():
    hits = [
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
        if "xinjiang_2026" in p.read_text(encoding="utf-8") and p.parent.name != "spec"
    ]
    assert hits == []


def test_no_core_function_falls_back_to_a_default_spec():
    pattern = re.compile(r"spec\s+or\s+load_spec\(|load_spec\(\)")
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


# ------------------------------------------------------------------ --spec reaches every command


@pytest.fixture
def other_region(tmp_path):
    spec_file = tmp_path / "other.toml"
    spec_file.write_text(OTHER_REGION, encoding="utf-8")
    template = tmp_path / "t.xlsx"
    assert main(["--spec", str(spec_file), "template", "-o", str(template)]) == 0
    wb = openpyxl.load_workbook(template)
    ws = wb["表一 支出总表"]
    ws["A5"], ws["B5"], ws["D5"], ws["E5"] = "2080109", "社会保险经办机构", 10, 5
    wb["单位信息"]["B3"], wb["单位信息"]["B4"] = "测试单位", 2027
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wb.save(inbox / "测试单位.xlsx")
    return spec_file, inbox


def test_collect_uses_the_spec_given(tmp_path, other_region, capsys):
    spec_file, inbox = other_region
    db = tmp_path / "b.db"
    assert main(["--spec", str(spec_file), "collect", str(inbox), "--db", str(db)]) == 0
    with sqlite3.connect(db) as con:
        (spec_id, department), = con.execute("select spec_id, department from submissions")
        amounts = dict(con.execute("select cell, amount from line_items"))
    assert (spec_id, department) == ("test-region-2027", "测试单位")
    assert Decimal(amounts["'表一 支出总表'!D5"]) == 10
    # the default spec would not find its 12 tables in this workbook: the same run without --spec differs
    db2 = tmp_path / "default.db"
    assert main(["collect", str(inbox), "--db", str(db2)]) == 0
    with sqlite3.connect(db2) as con:
        assert con.execute("select spec_id from submissions").fetchone()[0] != "test-region-2027"


def test_convert_uses_the_spec_given(tmp_path, other_region):
    spec_file, inbox = other_region
    out = tmp_path / "out"
    assert main(["--spec", str(spec_file), "convert", str(inbox), "-o", str(out), "--to", "xlsx,docx", "--force"]) == 0
    published = openpyxl.load_workbook(out / "2027年测试单位部门预算公开.xlsx")
    assert published.sheetnames == ["表一 支出总表"]
    ws = published["表一 支出总表"]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "2080109")
    assert row[1] == "社会保险经办机构" and Decimal(str(row[3])) == 10


CHECK_MUST_NOT_IMPORT = (
    "openpyxl", "jinja2", "multiprocessing", "sqlite3", "pandas", "tomllib", "docx", "lxml",
    "budgetxl.fill", "budgetxl.subtotals", "budgetxl.collect", "budgetxl.narrative", "budgetxl.render",
    "budgetxl.model_json", "budgetxl.excel_setup", "budgetxl.template", "budgetxl.xlsx_writer",
    # used only by --json, a crashing rule, a fuzzy project match, a write (and the spec cache is marshal, not pickle):
    "json", "pickle", "traceback", "difflib", "tempfile",
)


def test_check_imports_only_what_it_uses(tmp_path):
    """`budgetxl check` starts on every click of 校验 and every file of a batch: it
    must not pay for the writers, the bureau, the narrative or a TOML parse."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom budgetxl.cli import main\ncode = main(['check', sys.argv[1]])\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(EXAMPLE)], capture_output=True, text=True, check=False)
    loaded = set(out.stdout.split())
    assert "budgetxl.rules" in loaded, out.stderr  # the probe really ran a check
    heavy = sorted(m for m in loaded for banned in CHECK_MUST_NOT_IMPORT if m == banned or m.startswith(banned + "."))
    assert heavy == []
