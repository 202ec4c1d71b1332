"""What an accountant waits for after clicking a button, less Excel's own time:
Python start + `import budgetxl.excel` + the entry point on the example,
measured in fresh processes through xlwings' remote engine.

    .venv/bin/python bench/bench_excel.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "PYTHONPATH": str(ROOT)}
SCRIPT = """
import time, json
t0 = time.perf_counter()
import budgetxl.excel as bx
t1 = time.perf_counter()
from tests.test_excel import payload, book_of, actions
book = book_of(payload())
t2 = time.perf_counter()
getattr(bx, "{name}")(book)
t3 = time.perf_counter()
acts = actions(book)
print(json.dumps({{"import": t1 - t0, "run": t3 - t2, "writes": sum(a["func"] == "setValues" for a in acts), "colours": sum(a["func"] == "setRangeColor" for a in acts)}}))
"""


def run(name: str) -> dict:
    import json

    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(name=name)], env=ENV, cwd=ROOT, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["process"] = time.perf_counter() - t
    return data


baseline = min(run("subtotal")["import"] for _ in range(2))  # warm the disk cache
print(f"{'button':<12} {'import ms':>9} {'run ms':>8} {'import+run':>10} {'process ms':>10} {'writes':>6} {'colour calls':>12}")
for name in ("subtotal", "check", "narrate", "clear_marks"):
    samples = [run(name) for _ in range(3)]
    best = min(samples, key=lambda d: d["import"] + d["run"])
    print(f"{name:<12} {best['import'] * 1000:9.0f} {best['run'] * 1000:8.0f} {(best['import'] + best['run']) * 1000:10.0f} {best['process'] * 1000:10.0f} {best['writes']:>6} {best['colours']:>12}")
