"""The per-task cost of ``isolate.run`` itself, without reading workbooks: 2000
items whose result is the size of a flattened workbook (~600 line items), through
``ProcessPoolExecutor.map(chunksize=4)`` and ``isolate.run``, -j 2, best of 3.

    .venv/bin/python bench/bench_isolation_overhead.py
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

from budgetxl import isolate

N = 2000


def work(i, size=600):
    return [("T3", i, "detail", "2080101", None, "行政运行", None, None, "合计", "123.45", "'表3'!E8")] * size


best = {}
for _ in range(3):
    t = time.perf_counter()
    with ProcessPoolExecutor(2) as ex:
        assert len(list(ex.map(work, range(N), chunksize=4))) == N
    best["process pool"] = min(best.get("process pool", 1e9), time.perf_counter() - t)
    t = time.perf_counter()
    assert len(list(isolate.run(work, range(N), (), 2))) == N
    best["isolate.run"] = min(best.get("isolate.run", 1e9), time.perf_counter() - t)
for k, v in best.items():
    print(f"{k:<14} {v:6.2f} s  {v / N * 1000:6.2f} ms per item")
print(f"isolate.run / process pool = {best['isolate.run'] / best['process pool']:.2f}")
