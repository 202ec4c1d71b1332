"""Timing helpers: report ratios against a baseline measured in the same run
(the machine is noisy; absolute times vary ±50% between runs)."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def measure(fn: Callable[[], object], repeat: int = 30, warmup: int = 3) -> float:
    """Median seconds per call."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def report(rows: list[tuple[str, float]], baseline: str) -> None:
    base = dict(rows)[baseline]
    width = max(len(n) for n, _ in rows)
    print(f"{'step':<{width}}  {'ms':>8}  {'× ' + baseline:>12}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1000:8.2f}  {seconds / base:12.2f}")


def raw_calamine(path) -> list:
    """The baseline: every sheet's values with python-calamine, nothing else."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return [wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names]


def openpyxl_loop(paths) -> None:
    """The baseline of the bureau benches: load each workbook with openpyxl (read-only) and walk every row."""
    import openpyxl

    for p in paths:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        for ws in wb.worksheets:
            for _ in ws.iter_rows(values_only=True):
                pass
        wb.close()
