"""`check` on the example, as a ratio to the raw calamine read of the same file.

    .venv/bin/python bench/bench_check.py [WORKBOOK]
"""

from __future__ import annotations

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))
from common import measure, raw_calamine, report  # noqa: E402

from budgetxl import pipeline
from budgetxl.rules import run_rules
from budgetxl.rules.context import CheckContext
from budgetxl.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "akto_2026.xlsx"
spec = load_spec()


reading = pipeline.read(path, spec)
ctx = CheckContext.build(reading.disclosure, spec)
rows = [
    ("calamine raw read", measure(lambda: raw_calamine(path))),
    ("rules only (model → findings)", measure(lambda: run_rules(ctx))),
    ("check: read + parse + rules", measure(lambda: pipeline.check(pipeline.read(path, spec), spec))),
]
print(f"workbook: {path.name}, {len(pipeline.check(reading, spec).findings)} findings")
report(rows, "calamine raw read")
