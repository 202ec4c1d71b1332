"""What isolating each workbook in its own worker task costs (issue 13).

Before: ``ProcessPoolExecutor.map(process_file, chunksize=4)`` — fast, but one
worker that dies (an abort in a native reader) breaks the whole pool. After:
``budgetxl.isolate.run`` — one file per task, a dead worker costs one file. Both
read, check and flatten the same N generated workbooks (no database), at -j 1
and -j 2, rounds interleaved, best of R; plus a plain openpyxl read-only load
loop over the same files as the baseline the issue names.

    .venv/bin/python bench/bench_isolation.py [N] [R]     (default 200 files, 3 rounds)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect_files import generate, openpyxl_loop  # noqa: E402

from budgetxl import isolate  # noqa: E402
from budgetxl.collect.intake import process_file  # noqa: E402
from budgetxl.spec import load_spec  # noqa: E402

SPEC = load_spec()
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
R = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def pool(paths, jobs):
    if jobs <= 1:
        return [process_file(p, SPEC) for p in paths]  # before: in-process at -j 1 (an abort took the run)
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        return list(ex.map(process_file, paths, [SPEC] * len(paths), chunksize=4))


def isolated(paths, jobs):
    return [r for _, r in isolate.run(process_file, paths, (SPEC,), jobs)]


work = Path(tempfile.mkdtemp(prefix="bench-isolation-"))
paths = generate(work, N)
best: dict[tuple[str, int], float] = {}
for _ in range(R):
    t = time.perf_counter()
    openpyxl_loop(paths)
    best[("plain openpyxl load loop", 1)] = min(best.get(("plain openpyxl load loop", 1), 1e9), time.perf_counter() - t)
    for jobs in (1, 2):
        for name, fn in (("before: process pool", pool), ("after: isolate.run", isolated)):
            t = time.perf_counter()
            out = fn(paths, jobs)
            assert len(out) == N and all(s.readable for s in out)
            best[(name, jobs)] = min(best.get((name, jobs), 1e9), time.perf_counter() - t)
base = best[("plain openpyxl load loop", 1)]
print(f"{N} workbooks, best of {R} rounds")
print(f"{'what':<26} {'-j':>3} {'seconds':>8} {'wb/s':>7} {'× openpyxl loop':>16}")
for (name, jobs), seconds in best.items():
    print(f"{name:<26} {jobs:>3} {seconds:8.2f} {N / seconds:7.1f} {base / seconds:16.2f}")
for jobs in (1, 2):
    ratio = best[("after: isolate.run", jobs)] / best[("before: process pool", jobs)]
    print(f"isolation cost at -j {jobs}: after/before = {ratio:.2f}")
shutil.rmtree(work)
