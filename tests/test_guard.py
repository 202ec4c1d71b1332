"""The reader's guard: one streaming pass, workbook-wide budgets, before any reader.

Every case of tests/hostile_guard.py is read in a fresh process (peak memory
is that process's ru_maxrss): refused with a Chinese message or read
correctly, under 1 GiB and 30 s. The light cases share one process (a few
seconds in CI); ``BUDGETXL_HOSTILE_FULL=1`` gives each case its own process
and adds the heavy ones.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

from budgetxl.grid import WorkbookError, read_workbook, read_isolated

from .hostile import EXAMPLE, READ, REFUSED, Unavailable
from .hostile_guard import CASES, build

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("BUDGETXL_HOSTILE_FULL") == "1"
SELECTED = [c for c in CASES if FULL or not c.heavy]

RUNNER = """
import json, resource, sys, time
from pathlib import Path
from budgetxl import pipeline
from budgetxl.grid import WorkbookError, read_workbook
from budgetxl.spec import load_spec
from tests.hostile_guard import by_name
spec = load_spec()
def peak_mb():
    # VmHWM: this process's own peak. ru_maxrss would include the RSS of the
    # pytest process this one was forked from (Linux keeps it across exec).
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
for arg in sys.argv[1:]:
    name, path = arg.split("\\t")
    case = by_name(name)
    t = time.perf_counter()
    out = {"name": name}
    try:
        grid = read_workbook(path)
        reading = pipeline.read_grid(grid, spec)
        report = pipeline.check(reading, spec)
        out["codes"] = sorted({f.code for f in report.findings})
        if case.verify:
            case.verify(reading, grid)
        out["outcome"] = "read"
    except WorkbookError as e:
        out["outcome"], out["message"] = "refused", e.message
    except AssertionError as e:
        out["outcome"], out["message"] = "wrong", repr(e)
    out["seconds"] = time.perf_counter() - t
    out["peak_mb"] = peak_mb()
    print(json.dumps(out, ensure_ascii=False), flush=True)
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("guard")
    built = {}
    for case in SELECTED:
        try:
            built[case.name] = build(case, folder)
        except Unavailable:
            pass
    return built


def _run(items: list[tuple[str, Path]]) -> list[dict]:
    args = [f"{name}\t{path}" for name, path in items]
    out = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def results(corpus):
    items = list(corpus.items())
    if FULL:  # one fresh process per case: each peak is that case's own
        rows = [r for item in items for r in _run([item])]
    else:
        rows = _run(items)
    return {r["name"]: r for r in rows}


@pytest.mark.parametrize("case", SELECTED, ids=[c.name for c in SELECTED])
def test_case(corpus, results, case):
    if case.name not in corpus:
        pytest.skip("cannot be built on this machine")
    r = results[case.name]
    print(r)
    assert r["peak_mb"] < 1024 and r["seconds"] < 30, r
    if case.outcome == REFUSED:
        assert r["outcome"] == "refused", r
        for word in case.expect:
            assert word in r["message"], r["message"]
        assert "Traceback" not in r["message"] and "内部错误" not in r["message"]
        assert not re.search(r"[A-Za-z]{2,} [a-z]{2,}", r["message"]), r["message"]  # no English (expat's messages)
    else:
        assert r["outcome"] == "read", r
        assert set(case.expect) <= set(r["codes"]), r


def test_the_example_is_far_within_every_budget():
    from budgetxl.guard import LIMITS, scan

    s = scan(EXAMPLE, "xlsx")
    assert s.cells * 10 < LIMITS.cells and s.text_chars * 10 < LIMITS.text_chars and s.styles * 10 < LIMITS.styles
    assert s.unpacked * 10 < LIMITS.unpacked and s.present * 10 < LIMITS.present


def test_a_forty_sheet_department_passes(tmp_path):
    """40 sheets of 150 rows × 40 columns, every cell a distinct shared string: read."""
    from .hostile_guard import _col, _package

    strings = [f"项目{i}说明文字" for i in range(150 * 40)]
    rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{_col(c)}{r}" t="s"><v>{(r - 1) * 40 + c - 1}</v></c>' for c in range(1, 41)) + "</row>"
        for r in range(1, 151)
    )
    path = tmp_path / "四十张表.xlsx"
    _package(path, [(f"表{i}", rows) for i in range(40)], shared=strings)
    grid = read_workbook(path)
    assert len(grid.sheets) == 40 and grid.sheet("表39").value(150, 40) == strings[-1]


def test_uncached_formulas_and_errors_are_found_whatever_the_markup(tmp_path):
    """Prefixed elements, attributes in any order and quote style, cells without r."""
    from .hostile_guard import _package

    inner = (
        "<row r='2'><c t='e' r='B2'><f>1/0</f><v>#DIV/0!</v></c><c><f>A1</f></c><c r=\"D2\"><f>1</f><v></v></c></row>"
        '<row><c r="A3"><f>SUM(A1:A2)</f><v>3</v></c></row>'
    )
    path = tmp_path / "f.xlsx"
    _package(path, [("表", inner)])
    grid = read_workbook(path)
    sheet = grid.sheet("表")
    assert sheet.uncached_formulas == frozenset({(2, 3), (2, 4)})
    assert sheet.value(2, 2) == "#DIV/0!"


def test_refusal_names_the_limit_what_the_file_has_and_what_to_do(corpus):
    path = corpus.get("400,000 styles")
    if path is None:
        pytest.skip("not built")
    with pytest.raises(WorkbookError) as exc:
        read_workbook(path)
    message = exc.value.message
    assert "样式过多" in message and "70,000" in message and "清除格式" in message


def test_openpyxl_reader_is_bounded_by_the_real_extent(corpus):
    """openpyxl's read-only mode trusts <dimension>; the guard's extent bounds it."""
    path = corpus["lying dimension"]
    grid = read_workbook(path, reader="openpyxl")
    calamine = read_workbook(path)
    sheet = next(n for n in grid.names if n.startswith("表3"))
    assert grid.sheet(sheet).height == calamine.sheet(sheet).height
    assert grid.sheet(sheet).width <= 26


def test_panics_of_the_rust_reader_are_recognised():
    """python-calamine raises pyo3's ``pyo3_runtime.PanicException``, a
    BaseException that ``except Exception`` lets through. The type is created
    by pyo3 on the first panic, so it is recognised by name."""
    from budgetxl.grid import _is_panic, _is_reader_failure

    PanicException = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})
    panic = PanicException("index out of bounds")
    assert not isinstance(panic, Exception)
    assert _is_panic(panic) and _is_reader_failure(panic)
    assert not _is_reader_failure(KeyboardInterrupt()) and not _is_reader_failure(SystemExit())


def test_read_isolated_reads_like_read_workbook():
    assert read_isolated(EXAMPLE).sheets == read_workbook(EXAMPLE).sheets


def test_read_isolated_names_the_file_when_the_worker_dies(tmp_path):
    """A worker that cannot get memory dies; the caller gets a clean refusal."""
    with pytest.raises(WorkbookError) as exc:
        read_isolated(EXAMPLE, memory_mb=1)
    assert exc.value.path == str(EXAMPLE)
    assert "akto_2026.xlsx" in exc.value.message or "内存" in exc.value.message


def test_read_isolated_passes_refusals_through(tmp_path):
    path = tmp_path / "空.xlsx"
    path.write_bytes(b"")
    with pytest.raises(WorkbookError) as exc:
        read_isolated(path)
    assert "为空" in exc.value.message and exc.value.path == str(path)


def test_a_copy_that_openpyxl_cannot_open_is_refused_in_chinese(tmp_path):
    """Read by calamine, but openpyxl (which writes the copies) rejects the
    package: a clear refusal, not an internal error."""
    from budgetxl import pipeline
    from budgetxl.spec import load_spec

    from .hostile_guard import _package

    source = tmp_path / "缺部件.xlsx"
    _package(source, [("附表", '<row r="1"><c r="A1"><v>1</v></c></row>')], dangling=True)
    assert read_workbook(source).sheet("附表").value(1, 1) == 1
    with pytest.raises(WorkbookError) as exc:
        pipeline.subtotal_file(source, load_spec(), tmp_path / "out.xlsx")
    assert "无法写入副本" in exc.value.message
    assert not (tmp_path / "out.xlsx").exists()


def test_xls_shared_strings_are_measured_across_continue_records(tmp_path):
    """A 32,767-character string spans several CONTINUE records of the SST;
    its length, times the cells that use it, is what counts."""
    xlwt = pytest.importorskip("xlwt")
    from budgetxl.guard import scan

    from .hostile_guard import LONG

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("附表")
    for k in range(100):
        ws.write(k, 0, LONG)
    ws.write(0, 1, "短文字")
    ws.write(5, 3, 1.5)
    path = tmp_path / "长字符串.xls"
    book.save(str(path))
    s = scan(path, "ole")
    assert s.strings == 2 and s.text_chars == 100 * 32767 + 3
    assert (s.sheets[0].rows, s.sheets[0].cols) == (100, 4)
    assert read_workbook(path).sheet("附表").value(100, 1) == LONG


def test_absurd_references_are_refused_not_crashed(tmp_path):
    """Row and column numbers of thousands of digits (beyond int conversion
    limits), Unicode digits: a refusal or a read, never an exception."""
    from .hostile_guard import _package

    for i, inner in enumerate([
        '<row r="1"><c r="A' + "9" * 5000 + '"><v>1</v></c></row>',
        '<row r="' + "9" * 5000 + '"><c><v>1</v></c></row>',
        '<row r="1"><c r="' + "Z" * 5000 + '1"><v>1</v></c></row>',
        '<row r="²"><c><v>1</v></c></row>',
        '<row r="1"><c r="A1:B2"><v>1</v></c></row><mergeCells><mergeCell ref="A1:' + "Z" * 300 + '9"/></mergeCells>',
    ]):
        path = tmp_path / f"怪引用{i}.xlsx"
        _package(path, [("表", inner)])
        try:
            read_workbook(path)
        except WorkbookError as exc:
            assert "拒绝读取" in exc.message or "损坏" in exc.message, exc.message


def test_truncated_xls_records_are_refused(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    import olefile

    book = xlwt.Workbook(encoding="utf-8")
    book.add_sheet("表").write(0, 0, "文字")
    path = tmp_path / "截断.xls"
    book.save(str(path))
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        data = bytearray(ole.openstream("Workbook").read())
        # the first BOUNDSHEET record claims to be longer than the stream
        at = next(i for i in range(0, len(data) - 4) if data[i:i + 2] == b"\x85\x00")
        data[at + 2:at + 4] = (0xFFFF).to_bytes(2, "little")
        ole.write_stream("Workbook", bytes(data))
    try:
        read_workbook(path)
    except WorkbookError as exc:
        assert "损坏" in exc.message or "无法读取" in exc.message


WRITE_RUNNER = """
import json, sys, time
from budgetxl import pipeline
from budgetxl.spec import load_spec
t = time.perf_counter()
pipeline.subtotal_file(sys.argv[1], load_spec(), sys.argv[2])
peak = next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": peak}))
"""


@pytest.mark.skipif(not FULL or not Path("/proc/self/status").exists(), reason="BUDGETXL_HOSTILE_FULL=1 on Linux")
def test_writing_a_copy_of_a_workbook_near_the_budget_is_bounded(corpus, tmp_path):
    """subtotal loads the whole workbook with openpyxl: the cells-present budget keeps that bounded."""
    path = corpus["390,000 numbers in one sheet"]
    out = subprocess.run([sys.executable, "-c", WRITE_RUNNER, str(path), str(tmp_path / "out.xlsx")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    print(data)
    assert data["peak_mb"] < 1024 and data["seconds"] < 30, data


def _scan(path: Path):
    from budgetxl import guard

    try:
        s = guard.scan(path, "xlsx")
    except guard.Refused as exc:
        return ("refused", exc.message)
    return (s.cells, s.present, s.text_chars, s.strings, s.styles, s.unpacked, s.uncached, s.errors,
            [(x.name, x.state, x.rows, x.cols) for x in s.sheets])


def test_the_c_and_python_passes_agree_on_the_hostile_corpus(corpus, monkeypatch):
    """The worksheet pass in C (budgetxl._sheetscan) and in Python refuse the same
    files with the same message and measure the others the same."""
    from budgetxl import guard

    if guard._native is None:
        pytest.skip("the C pass is not built (tests/test_guard_native.py requires it on Linux)")
    xlsx = {n: Path(p) for n, p in corpus.items() if Path(p).suffix.lower() in (".xlsx", ".xlsm")}
    assert len(xlsx) > 15
    fast = {n: _scan(p) for n, p in xlsx.items()}
    monkeypatch.setattr(guard, "_native", None)
    slow = {n: _scan(p) for n, p in xlsx.items()}
    assert fast == slow
