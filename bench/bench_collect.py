"""Finance-bureau intake speed: workbooks per second for N generated workbooks (departments of
several shapes from budgetxl.testing.generator) at
-j 1 and -j 2, against a plain openpyxl loop that loads each workbook in the same
run, and the per-workbook cost split (read, check, flatten, store).

    .venv/bin/python bench/bench_collect.py [N]      (default 1000)
"""

from __future__ import annotations

import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import openpyxl_loop  # noqa: E402

from budgetxl.collect import collect
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()

ROOT = Path(__file__).resolve().parent.parent
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def generate(folder: Path, n: int, shapes: int = 8) -> list[Path]:
    """N workbooks of ``shapes`` generated departments (budgetxl.testing.generator: 行政/参公/事业,
    every income source, 0–120 projects, 元 and 万元), each shape filled once and copied under
    new department names."""
    import json

    from budgetxl import pipeline
    from budgetxl.testing.generator import department

    sources = []
    for k in range(min(n, shapes)):
        d = department(k, SPEC)
        data = folder / f"shape{k}.json"
        data.write_text(json.dumps(d.data("万元" if d.round else "元"), ensure_ascii=False), encoding="utf-8")
        sources.append((d.name, pipeline.fill_file(data, folder / f"shape{k}.xlsx", SPEC)))
    members = {}
    for name, path in sources:
        with zipfile.ZipFile(path) as z:
            members[name] = [(i, z.read(i.filename)) for i in z.infolist()]
    out = []
    for k in range(n):
        name, _ = sources[k % len(sources)]
        target = folder / f"unit{k:04d}.xlsx"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for info, data in members[name]:
                if info.filename.startswith("xl/worksheets/") or info.filename == "xl/sharedStrings.xml":
                    text = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))) if int(m.group(1)) > 127 else m.group(0), data.decode())
                    data = text.replace(name, f"单位{k:04d}").encode()
                zout.writestr(info, data)
        out.append(target)
    return out




work = Path(tempfile.mkdtemp(prefix="bench-collect-"))
t = time.perf_counter()
paths = generate(work, N)
print(f"generated {N} workbooks in {time.perf_counter() - t:.1f} s")
rows = []
t = time.perf_counter()
openpyxl_loop(paths)
rows.append(("plain openpyxl load loop", 1, time.perf_counter() - t, None))
cpu = {}
for jobs in (1, 2):
    db = work / f"b{jobs}.db"
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    run = collect(paths, db, SPEC, workers=jobs)
    rows.append(("budgetxl collect", jobs, time.perf_counter() - t, run))
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu[jobs] = [(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime) / N for a, b in zip(after, before)]
base = rows[0][2]
print(f"{'what':<26} {'-j':>3} {'seconds':>8} {'wb/s':>7} {'× openpyxl loop':>16}")
for name, jobs, seconds, _ in rows:
    print(f"{name:<26} {jobs:>3} {seconds:8.1f} {N / seconds:7.1f} {base / seconds:16.2f}")
run = rows[1][3]
split = {k: statistics.mean(s.seconds.get(k, 0.0) for s in run.new) for k in ("read", "check", "flatten")}
split["store"] = run.seconds["store"] / max(1, len(run.new))
total = sum(split.values())
print("cost per workbook (-j 1):")
for k, v in split.items():
    print(f"  {k:<8} {v * 1000:6.1f} ms  {v / total:6.1%}")
print("CPU per workbook (user+sys; the main process stores, the workers read, check and flatten):")
for jobs, (main, workers) in cpu.items():
    print(f"  -j {jobs}: main {main * 1000:5.1f} ms  workers {workers * 1000:5.1f} ms  (2 cores: at most {2 / (main + workers):.0f} wb/s)")
shutil.rmtree(work)
