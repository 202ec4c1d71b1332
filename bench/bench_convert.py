"""Documents per minute for 20 workbooks at -j 1 and -j 2, and where the time goes.

    .venv/bin/python bench/bench_convert.py [N]

Reports wall time per run, documents per minute, the -j 2 / -j 1 speed-up,
and the per-workbook cost split (read+check, narrative, docx, xlsx, pdf).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from budgetxl.spec import load_spec as _load_spec  # noqa: E402
from budgetxl.batch import convert_all

SPEC = _load_spec()

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "akto_2026.xlsx"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def variants(folder: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        target = folder / f"unit{i:02d}.xlsx"
        with zipfile.ZipFile(EXAMPLE) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename.startswith("xl/worksheets/"):
                    data = data.decode().replace("阿克陶县社会保险中心", f"测试单位{i:02d}").replace("人力资源和社会管理事务", "人力资源和社会保障管理事务").encode()
                zout.writestr(item, data)
        out.append(target)
    return out


def run(sources, jobs: int, formats):
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    t = time.perf_counter()
    results = convert_all(sources, out, formats, jobs, spec=SPEC)
    wall = time.perf_counter() - t
    shutil.rmtree(out)
    assert all(r.status == "完成" for r in results), [r.message for r in results if r.status != "完成"]
    return wall, results


work = Path(tempfile.mkdtemp(prefix="bench-in-"))
sources = variants(work, N)
rows = []
for formats in (("docx", "xlsx"), ("docx", "pdf", "xlsx")):
    for jobs in (1, 2):
        wall, results = run(sources, jobs, formats)
        rows.append((",".join(formats), jobs, wall, results))
print(f"{N} workbooks")
print(f"{'formats':<16} {'-j':>3} {'seconds':>8} {'docs/min':>9} {'speed-up':>9}")
base = {}
for formats, jobs, wall, _ in rows:
    base.setdefault(formats, wall)
    print(f"{formats:<16} {jobs:>3} {wall:8.2f} {N / wall * 60:9.1f} {base[formats] / wall:9.2f}")
_, _, _, results = rows[2]  # all formats, -j 1
split = {k: statistics.mean(r.seconds.get(k, 0.0) for r in results) for k in ("read+check", "narrative", "docx", "xlsx", "pdf")}
total = sum(split.values())
print("cost per workbook (-j 1, all formats):")
for k, v in split.items():
    print(f"  {k:<11} {v * 1000:7.0f} ms  {v / total:6.1%}")
shutil.rmtree(work)
