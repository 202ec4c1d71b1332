"""Reading the example: raw calamine vs openpyxl, and the cost of parsing.

    .venv/bin/python bench/bench_read.py [WORKBOOK]
"""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).parent))
from common import measure, raw_calamine, report  # noqa: E402

from budgetxl.grid import read_workbook
from budgetxl.parse import parse_workbook
from budgetxl.spec import load_spec
from budgetxl.subtotals import compute

ROOT = Path(__file__).resolve().parent.parent
path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "akto_2026.xlsx"
spec = load_spec()


def raw_openpyxl():
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [list(ws.iter_rows(values_only=True)) for ws in wb.worksheets]
    wb.close()
    return rows


grid = read_workbook(path)
disclosure, _ = parse_workbook(grid, spec)
rows = [
    ("calamine raw read", measure(lambda: raw_calamine(path))),
    ("openpyxl raw read", measure(raw_openpyxl, repeat=10)),
    ("read_workbook (guard pass + calamine)", measure(lambda: read_workbook(path))),
    ("parse (grids → model)", measure(lambda: parse_workbook(grid, spec))),
    ("read + parse", measure(lambda: parse_workbook(read_workbook(path), spec))),
    ("subtotals (model → edits)", measure(lambda: compute(disclosure, spec))),
]
print(f"workbook: {path.name}")
report(rows, "calamine raw read")
