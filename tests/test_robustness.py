"""Issue 13, batch and writer side: no crash, hang or loss on any input or fault.

Class 1 — a file that kills its worker (os.abort through the BUDGETXL_TEST_ABORT
seam, the death a native-reader abort causes) costs that file only.
Class 2 — text that cannot be written is cleaned where it is written (P14).
Class 3 — batch inputs and outputs: FIFOs, loops, permissions, full disks,
symlinks, interrupts, outputs that would replace an input or the database.
Class 4 — concurrent collects on one database.
Class 5 (writer) — computed values are never written into merged cells.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from budgetxl import isolate
from budgetxl.batch import FAILED, OK, convert_all
from budgetxl.cli import main
from budgetxl.collect import collect
from budgetxl.paths import NAME_BYTES, find_workbooks, output_stem, path_problems, screen
from budgetxl.spec import load_spec

from . import robust_corpus
from .builders import FIXED_NAME, variant
from .conftest import EXAMPLE

SPEC = load_spec()
CLI = [sys.executable, "-m", "budgetxl.cli"]
BAD_OUTPUT = ("Traceback", "内部错误")


def _hash(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _inbox(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [variant(EXAMPLE, folder / f"单位{i:02d}.xlsx", {**FIXED_NAME, "阿克陶县社会保险中心": f"测试单位{i:02d}"}) for i in range(n)]


def _run(args: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, **kw.pop("env", {})}
    return subprocess.run([*kw.pop("prefix", []), *CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, **kw)


# ------------------------------------------------------------------ class 1: a worker that dies


@pytest.mark.parametrize("workers", [1, 2])
def test_an_abort_in_a_worker_costs_only_that_file_in_collect(tmp_path, monkeypatch, workers):
    files = _inbox(tmp_path / "inbox", 4)
    bomb = variant(EXAMPLE, tmp_path / "inbox" / "炸弹.xlsx", {**FIXED_NAME, "阿克陶县社会保险中心": "炸弹单位"})
    monkeypatch.setenv("BUDGETXL_TEST_ABORT", "炸弹")
    run = collect([*files, bomb], tmp_path / "b.db", SPEC, workers=workers)
    by_name = {s.file_name: s for s in run.new}
    assert len(by_name) == 5
    assert all(by_name[f.name].readable for f in files)
    dead = by_name["炸弹.xlsx"]
    assert not dead.readable and "SIGABRT" in dead.error and "其他文件不受影响" in dead.error
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM submissions WHERE readable = 1").fetchone()[0] == 4


def test_a_file_whose_worker_died_is_read_again_by_the_next_collect(tmp_path, monkeypatch):
    """A worker killed from outside (the out-of-memory killer, an administrator)
    left its file stored as 无法读取 for good: the next collect called it already
    received and never read it again, so the bureau chased a department whose
    file was fine. The row says the file was not processed; the next run reads it."""
    files = _inbox(tmp_path / "inbox", 2)
    bomb = variant(EXAMPLE, tmp_path / "inbox" / "炸弹.xlsx", {**FIXED_NAME, "阿克陶县社会保险中心": "炸弹单位"})
    db = tmp_path / "b.db"
    monkeypatch.setenv("BUDGETXL_TEST_ABORT", "炸弹")
    first = collect([*files, bomb], db, SPEC, workers=2)
    assert not {s.file_name: s for s in first.new}["炸弹.xlsx"].readable
    again = collect([*files, bomb], db, SPEC, workers=2)  # it dies again: still one row, no new version
    assert again.new == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), SUM(readable) FROM submissions").fetchone() == (3, 2)
    monkeypatch.delenv("BUDGETXL_TEST_ABORT")
    fixed = collect([*files, bomb], db, SPEC, workers=2)
    assert [(s.file_name, s.readable, s.department) for s in fixed.new] == [("炸弹.xlsx", True, "炸弹单位")]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), SUM(readable) FROM submissions").fetchone() == (3, 3)
    assert sorted(p.name for p in collect([*files, bomb], db, SPEC).known) == sorted(p.name for p in [*files, bomb])


def test_an_abort_in_a_worker_costs_only_that_file_in_convert(tmp_path, monkeypatch):
    files = _inbox(tmp_path / "inbox", 3)
    bomb = variant(EXAMPLE, tmp_path / "inbox" / "炸弹.xlsx", {**FIXED_NAME, "阿克陶县社会保险中心": "炸弹单位"})
    monkeypatch.setenv("BUDGETXL_TEST_ABORT", "炸弹")
    results = convert_all([files[0], bomb, *files[1:]], tmp_path / "out", ("xlsx",), workers=2, spec=SPEC)
    assert [r.source.name for r in results] == [files[0].name, "炸弹.xlsx", *(f.name for f in files[1:])]  # input order
    assert [r.status for r in results] == [OK, FAILED, OK, OK]
    assert "SIGABRT" in results[1].message
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"2026年测试单位{i:02d}部门预算公开.xlsx" for i in range(3))


def test_the_cli_names_the_file_whose_worker_died(tmp_path):
    _inbox(tmp_path / "inbox", 2)
    variant(EXAMPLE, tmp_path / "inbox" / "炸弹.xlsx", FIXED_NAME)
    r = _run(["convert", tmp_path / "inbox", "-o", tmp_path / "out", "--to", "xlsx", "-j", "2"], env={"BUDGETXL_TEST_ABORT": "炸弹"})
    assert r.returncode == 1 and not any(b in r.stderr + r.stdout for b in BAD_OUTPUT)
    line = next(x for x in r.stdout.splitlines() if "炸弹.xlsx" in x)
    assert line.startswith(FAILED) and "SIGABRT" in line
    assert "完成 2" in r.stdout


def _sleepy(item, seconds):
    if item == "slow":
        time.sleep(seconds)
    return item.upper()


def test_a_worker_that_hangs_is_killed_after_the_timeout_and_the_rest_go_on():
    t = time.monotonic()
    out = dict(isolate.run(_sleepy, ["a", "slow", "b", "c"], (60,), workers=2, timeout=2))
    assert time.monotonic() - t < 30
    assert out[0] == "A" and out[2] == "B" and out[3] == "C"
    assert isinstance(out[1], isolate.Died) and "超时" in out[1].message


def _collector_state(item):
    import gc

    return gc.get_threshold(), gc.get_freeze_count()


def test_a_worker_leaves_what_it_inherited_to_the_collector_and_collects_less_often():
    """What bench_collect's per-workbook CPU counts on: the collector of a worker does not
    walk the modules and spec it inherited, and runs every 10,000 allocations."""
    [(_, (threshold, frozen))] = list(isolate.run(_collector_state, ["x"]))
    assert threshold == isolate.GC_THRESHOLD and frozen > 1000


_ORPHAN = """
import sys, time
from budgetxl import isolate

def idle(item):
    time.sleep(0.05)
    return item

# workers wait for their next file while the parent is killed
for _ in isolate.run(idle, ["a"] * 4, workers=2):
    pass
print("ready", flush=True)
for _ in isolate.run(time.sleep, [600, 600], workers=2, timeout=None):
    pass
"""


def test_killing_a_batch_ends_its_worker_processes(tmp_path):
    """kill -9 of a batch (convert, collect) ended its worker processes only
    sometimes: a forked worker holds copies of its parent's pipe ends, so one
    waiting for its next file never saw the parent go and slept forever (3 in
    8 kill -9s of convert -j 1). Each worker now watches its parent."""
    import os
    import signal
    import subprocess
    import sys

    marker = tmp_path / "orphan.py"
    marker.write_text(_ORPHAN)
    proc = subprocess.Popen([sys.executable, str(marker)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 10
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while [p for p in workers if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert left == []


def _children(pid: int) -> list[int]:
    from pathlib import Path

    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"PPid:\t{pid}\n" in status.read_text():
                out.append(int(status.parent.name))
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        state = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state


# ------------------------------------------------------------------ class 2 and 5: the writing corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return robust_corpus.build(tmp_path_factory.mktemp("corpus"))


def _cli(capsys, args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    text = out.out + out.err
    assert not any(b in text for b in BAD_OUTPUT), text[-2000:]
    return code, text


def test_every_writer_takes_the_hostile_corpus(corpus, tmp_path, capsys):
    """check --annotate, subtotal -o, narrate --write, convert, collect -o and report -o on
    every file: no traceback, no 内部错误, inputs unchanged, outputs open again."""
    before = {p: _hash(p) for p in corpus}
    variants = ("竖线制表.xlsx", "零宽字符.xlsx", "七十字单位.xlsx")  # same class as another file: batch commands only (suite time)
    for p in corpus:
        if p.name in variants:
            continue
        out = tmp_path / p.stem
        out.mkdir()
        code, text = _cli(capsys, ["check", p, "--annotate", out / "a.xlsx"])
        assert code in (0, 1) and (out / "a.xlsx").exists(), text
        code, text = _cli(capsys, ["subtotal", p, "-o", out / "s.xlsx"])
        assert code == 0, text
        code, text = _cli(capsys, ["narrate", p, "--write", out / "n.xlsx"])
        assert code == 0, text
        for name in ("a.xlsx", "s.xlsx", "n.xlsx"):
            openpyxl.load_workbook(out / name)
    code, text = _cli(capsys, ["convert", *corpus, "-o", tmp_path / "pub", "--to", "docx,xlsx", "--force", "-j", "2"])
    assert code in (0, 1), text
    # several corpus files keep the example's department: those after the first are reported as same-name
    assert all("同名" in line for line in text.splitlines() if line.startswith(FAILED)), text
    assert "P14" in text and "。；" not in text  # notes follow the message as sentences
    for f in (tmp_path / "pub").iterdir():
        assert len(f.name.encode()) <= NAME_BYTES + 10, f.name
        assert not any(unicodedata.category(c) in ("Cf", "Cc") for c in f.name), f.name
        docx.Document(f) if f.suffix == ".docx" else openpyxl.load_workbook(f)
    db = tmp_path / "局.db"
    code, text = _cli(capsys, ["collect", *corpus, "--db", db, "-o", tmp_path / "状态.xlsx"])
    assert code == 0, text
    code, text = _cli(capsys, ["report", "--db", db, "-o", tmp_path / "状态2.xlsx"])
    assert code == 0, text
    openpyxl.load_workbook(tmp_path / "状态2.xlsx")
    assert {p: _hash(p) for p in corpus} == before


def test_control_characters_are_cleaned_where_written_and_kept_in_the_database(corpus, tmp_path, capsys):
    p = next(p for p in corpus if p.name == "控制字符.xlsx")
    _, text = _cli(capsys, ["narrate", p, "--write", tmp_path / "n.xlsx"])
    assert "P14" in text and "U+000B" in text
    sheet = openpyxl.load_workbook(tmp_path / "n.xlsx")[SPEC.layout.narrative_sheet]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "阿克陶县" in c.value]
    assert texts and any("阿克陶县\n社会保险中心" in t for t in texts)  # Word's line break kept as a line break
    assert not any("\x0b" in t or "\x00" in t or "_x000B_" in t for t in texts)
    run = collect([p], tmp_path / "b.db", SPEC)
    assert run.new[0].department == "阿克陶县\x0b社会\x00保险中心"  # the original, as read
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("SELECT department FROM submissions").fetchone()[0] == "阿克陶县\x0b社会\x00保险中心"
    _cli(capsys, ["report", "--db", tmp_path / "b.db", "-o", tmp_path / "r.xlsx"])
    openpyxl.load_workbook(tmp_path / "r.xlsx")


def test_file_names_are_bounded_in_bytes_and_never_disguised():
    assert len(output_stem("很长的单位名称" * 30, 2026).encode()) <= NAME_BYTES
    assert output_stem("很长的单位名称" * 30, 2026).endswith("部门预算公开")
    assert output_stem("阿克陶县\u202egpj.exe", 2026) == "2026年阿克陶县gpj.exe部门预算公开"
    assert "\u200b" not in output_stem("甲\u200b乙", 2026)


def test_a_300_character_name_fits_the_docx_properties(corpus, tmp_path):
    p = next(p for p in corpus if p.name == "三百字单位.xlsx")
    [r] = convert_all([p], tmp_path, ("docx",), spec=SPEC, force=True)
    assert r.status == OK, r.message
    props = docx.Document(r.outputs[0]).core_properties
    assert len(props.title) <= 255 and len(props.author) <= 255 and "P14" in r.message


def test_sheet_names_excel_forbids_are_renamed_when_written(corpus, tmp_path, capsys):
    p = next(p for p in corpus if p.name == "工作表名非法.xlsx")
    _, text = _cli(capsys, ["subtotal", p, "-o", tmp_path / "s.xlsx"])
    assert "P14" in text and "单位_信息_1_" in text
    assert "单位_信息_1_" in openpyxl.load_workbook(tmp_path / "s.xlsx").sheetnames


def test_computed_values_are_not_written_into_merged_cells(corpus, tmp_path, capsys):
    p = next(p for p in corpus if p.name == "合并计算单元格.xlsx")
    code, text = _cli(capsys, ["subtotal", p, "-o", tmp_path / "s.xlsx"])
    assert code == 0 and "S03" in text and "E7:G7" in text
    t3 = SPEC.table("T3").sheet
    changes = [line for line in text.splitlines() if "→" in line]
    assert changes and not any(f"'{t3}'!{c}:" in line for line in changes for c in ("E7", "F7", "G7"))  # no change listed that was not made
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")[SPEC.table("T3").sheet]
    assert ws["E7"].value is None  # not 870.93 (the last of three values written into one cell)


# ------------------------------------------------------------------ class 3: inputs and outputs


def test_a_fifo_passed_explicitly_is_a_row_not_a_hang(tmp_path):
    files = _inbox(tmp_path / "inbox", 2)
    fifo = tmp_path / "inbox" / "管道.xlsx"
    os.mkfifo(fifo)
    r = _run(["collect", *files, fifo, "--db", tmp_path / "b.db"], timeout=30)
    assert r.returncode == 0 and "命名管道" in r.stdout and "新报送 2 份" in r.stdout
    r = _run(["convert", *files, fifo, "-o", tmp_path / "out", "--to", "xlsx"], timeout=30)
    assert "命名管道" in r.stdout and "完成 2" in r.stdout
    r = _run(["check", fifo], timeout=30)
    assert r.returncode == 2 and "命名管道" in r.stderr


def test_loops_odd_times_and_other_formats_are_rows(tmp_path):
    inbox = tmp_path / "inbox"
    files = _inbox(inbox, 2)
    (inbox / "环.xlsx").symlink_to(inbox / "环.xlsx")
    os.utime(files[0], ns=(2**62, 2**62))  # year ~146 000 000
    os.utime(files[1], (-(10**10), -(10**10)))  # before 1970
    zipfile.ZipFile(inbox / "另存.ods", "w").writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    (inbox / "表.csv").write_text("单位名称,金额\n甲,1\n", encoding="utf-8")
    zipfile.ZipFile(inbox / "二进制.xlsb", "w").writestr("x", "y")
    (inbox / "金山.et").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (inbox / "苹果.numbers").write_bytes(b"PK")
    r = _run(["collect", inbox, "--db", tmp_path / "b.db"], timeout=60)
    assert r.returncode == 0 and not any(b in r.stdout + r.stderr for b in BAD_OUTPUT), r.stderr
    assert "环.xlsx" in r.stdout and "循环的符号链接" in r.stdout
    with sqlite3.connect(tmp_path / "b.db") as conn:
        rows = dict(conn.execute("SELECT file_name, error FROM submissions"))
    assert rows[files[0].name] == "" and rows[files[1].name] == ""
    for name in ("另存.ods", "表.csv", "二进制.xlsb", "金山.et", "苹果.numbers"):
        assert "请在 Excel 或 WPS 中打开，另存为 .xlsx" in rows[name], name


def test_outputs_never_replace_an_input_the_database_or_an_inbox_file(tmp_path, capsys):
    files = _inbox(tmp_path / "inbox", 2)
    db = tmp_path / "b.db"
    assert main(["collect", str(tmp_path / "inbox"), "--db", str(db)]) == 0
    before = {p: _hash(p) for p in [*files, db]}
    capsys.readouterr()
    assert main(["report", "--db", str(db), "-o", str(db)]) == 2
    assert "数据库" in capsys.readouterr().err
    assert main(["collect", str(tmp_path / "inbox"), "--db", str(db), "-o", str(files[0])]) == 2
    assert "不会写入收件目录" in capsys.readouterr().err
    assert main(["collect", str(files[0]), "--db", str(db), "-o", str(files[0])]) == 2
    assert "就是输入文件" in capsys.readouterr().err
    assert main(["collect", str(tmp_path / "inbox"), "--db", str(db), "-o", str(tmp_path / "inbox" / "新.xlsx")]) == 2
    assert "收件目录" in capsys.readouterr().err
    assert main(["collect", str(tmp_path / "inbox"), "--db", str(files[0])]) == 2
    assert "不是 budgetxl 数据库" in capsys.readouterr().err
    assert main(["report", "--db", str(db), "-o", str(tmp_path)]) == 2
    assert "是一个文件夹" in capsys.readouterr().err
    (tmp_path / "文件").write_text("x")
    assert main(["report", "--db", str(db), "-o", str(tmp_path / "文件" / "x.xlsx")]) == 2
    assert "不是文件夹" in capsys.readouterr().err
    assert main(["convert", str(files[0]), "-o", str(tmp_path / "文件")]) == 2
    assert "是一个文件" in capsys.readouterr().err
    assert {p: _hash(p) for p in [*files, db]} == before
    assert not (tmp_path / "inbox" / "新.xlsx").exists()


def test_in_place_writes_through_a_symlink_and_keeps_permissions(tmp_path, capsys):
    real = variant(EXAMPLE, tmp_path / "真.xlsx", FIXED_NAME)
    os.chmod(real, 0o600)
    link = tmp_path / "链接.xlsx"
    link.symlink_to(real.name)
    before = _hash(real)
    assert main(["subtotal", str(link), "--in-place"]) == 0
    assert link.is_symlink() and os.readlink(link) == real.name
    assert _hash(real) != before and (os.stat(real).st_mode & 0o777) == 0o600
    assert main(["narrate", str(link), "--in-place"]) == 0
    assert link.is_symlink() and (os.stat(real).st_mode & 0o777) == 0o600
    assert "情况说明" in openpyxl.load_workbook(real).sheetnames
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


def _as_nobody() -> list[str]:
    """Permissions mean nothing to root: run the CLI as an unprivileged user there."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: permission errors cannot be produced")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def open_tmp():
    """A folder an unprivileged user can reach (pytest's tmp_path is under a 0700 folder of root's)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="budgetxl-perm-"))
    os.chmod(folder, 0o755)
    yield folder
    for p in folder.rglob("*"):
        if not p.is_symlink():
            os.chmod(p, 0o777 if p.is_dir() else 0o666)
    shutil.rmtree(folder, ignore_errors=True)


def test_permission_problems_are_named_reading_and_writing(open_tmp):
    prefix = _as_nobody()
    tmp_path = open_tmp
    secret = variant(EXAMPLE, tmp_path / "无权读.xlsx", FIXED_NAME)
    os.chmod(secret, 0o000)
    ok = variant(EXAMPLE, tmp_path / "可读.xlsx", FIXED_NAME)
    os.chmod(ok, 0o644)
    ro = tmp_path / "只读"
    ro.mkdir(mode=0o555)
    os.chmod(ro, 0o555)
    work = tmp_path / "work"
    work.mkdir(mode=0o777)
    os.chmod(work, 0o777)
    r = _run(["check", secret], prefix=prefix)
    assert r.returncode == 2 and "没有读取" in r.stderr and "写入" not in r.stderr
    r = _run(["subtotal", ok, "-o", ro / "x.xlsx"], prefix=prefix)
    assert r.returncode == 2 and "没有写入" in r.stderr and "只读" in r.stderr
    r = _run(["convert", ok, "-o", ro / "out", "--to", "xlsx"], prefix=prefix)
    assert r.returncode == 2 and "没有写入" in r.stderr and not any(b in r.stderr for b in BAD_OUTPUT)
    r = _run(["collect", secret, ok, "--db", work / "b.db"], prefix=prefix)
    assert r.returncode == 0 and "没有读取" in r.stdout and "新报送 1 份" in r.stdout, r.stdout + r.stderr


def test_a_full_disk_is_named_and_leaves_no_partial_file(tmp_path):
    disk = tmp_path / "小盘"
    disk.mkdir()
    src = variant(EXAMPLE, tmp_path / "甲.xlsx", FIXED_NAME)
    script = f"mount -t tmpfs -o size=48k tmpfs '{disk}' && cd '{tmp_path}' && {' '.join(CLI)} subtotal '{src}' -o '{disk}/out.xlsx'; echo rc=$?; ls -A '{disk}'"
    for launcher in (["sh", "-c"], ["unshare", "-rm", "sh", "-c"]):
        if launcher[0] == "sh" and os.geteuid() != 0:
            continue
        r = subprocess.run([*launcher, script], capture_output=True, text=True, timeout=60)
        if "rc=" in r.stdout:
            break
    else:
        pytest.skip("cannot mount a small tmpfs here (needs root or user namespaces)")
    if launcher[0] == "sh":
        subprocess.run(["umount", str(disk)], check=False)
    assert "rc=2" in r.stdout and "磁盘空间不足" in r.stderr, r.stdout + r.stderr
    assert not any(b in r.stderr for b in BAD_OUTPUT)
    assert r.stdout.strip().splitlines()[-1].startswith("rc=")  # ls printed nothing: no partial file


def test_ctrl_c_during_a_parallel_convert(tmp_path):
    _inbox(tmp_path / "inbox", 6)
    out = tmp_path / "out"
    p = subprocess.Popen([*CLI, "convert", str(tmp_path / "inbox"), "-o", str(out), "--to", "docx,xlsx", "-j", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    first = p.stderr.readline()  # the first file is done: interrupt in the middle of the batch
    assert "[1/6]" in first
    os.killpg(p.pid, signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130 and "已中断" in stderr and "Traceback" not in stderr, stderr
    made = list(out.iterdir())
    assert not [f for f in made if f.name.startswith(".") or ".part" in f.name]
    for f in made:
        docx.Document(f) if f.suffix == ".docx" else openpyxl.load_workbook(f)


def test_screen_and_path_problems(tmp_path):
    assert screen(tmp_path) and "文件夹" in screen(tmp_path)
    assert "文件不存在" in screen(tmp_path / "无.xlsx")
    assert path_problems(outputs=[tmp_path / "新" / "x.xlsx"]) is None  # a missing folder is made
    (tmp_path / "a.xlsx").write_bytes(b"PK")
    assert "--in-place" in path_problems(inputs=[tmp_path / "a.xlsx"], outputs=[tmp_path / "a.xlsx"])
    assert [p.name for p in find_workbooks([tmp_path])] == ["a.xlsx"]
    (tmp_path / "b.ods").write_bytes(b"PK")
    assert [p.name for p in find_workbooks([tmp_path])] == ["a.xlsx", "b.ods"]


# ------------------------------------------------------------------ class 4: two collects at once


def test_ctrl_c_during_a_parallel_collect_keeps_whole_submissions_with_their_bytes(tmp_path):
    """Ctrl-C while two workers read and chunks are stored: what is stored is whole and
    has its archived copy, no temporary copy stays, and a rerun stores the rest."""
    from budgetxl.collect import archive

    box = tmp_path / "box"
    box.mkdir()
    base = _inbox(tmp_path / "src", 1)[0]
    for j in range(80):
        f = box / f"{j:02d}.xlsx"
        shutil.copyfile(base, f)
        with zipfile.ZipFile(f, "a") as z:  # a different file each time: a new version
            z.comment = f"copy {j}".encode()
    db = tmp_path / "b.db"
    proc = subprocess.Popen([*CLI, "collect", str(box), "--db", str(db), "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stored, deadline = 0, time.time() + 120
    while stored == 0 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
        try:
            stored = sqlite3.connect(db, timeout=0.1).execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        except sqlite3.Error:
            pass
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "已中断" in err and "Traceback" not in err, out + err
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT s.sha256, COUNT(l.submission_id) FROM submissions s LEFT JOIN line_items l ON l.submission_id = s.id GROUP BY s.id").fetchall()
    assert 0 < len(rows) < 80 and all(n > 0 for _, n in rows)
    for sha, _ in rows:
        copy = archive.find(db, sha)
        assert copy is not None and hashlib.sha256(copy.read_bytes()).hexdigest() == sha
    run = collect(sorted(box.iterdir()), db, SPEC, workers=2)
    assert len(run.new) == 80 - len(rows) and not run.failed
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT sha256), COUNT(DISTINCT version) FROM submissions").fetchone() == (80, 80, 80)
    assert [p for p in archive.folder(db).rglob("*") if p.name.startswith(".")] == []


def test_concurrent_collects_on_one_database(tmp_path):
    """4 processes × 10 files on one database, twice: all stored, versions unique and gapless."""
    src = tmp_path / "src"
    base = _inbox(src, 5)
    for trial in range(2):
        db = tmp_path / f"b{trial}.db"
        boxes = []
        for k in range(4):
            box = tmp_path / f"t{trial}" / f"box{k}"
            box.mkdir(parents=True)
            for j in range(10):
                f = box / f"{k}-{j}.xlsx"
                shutil.copyfile(base[j % 5], f)
                with zipfile.ZipFile(f, "a") as z:  # same department, different file: a new version
                    z.comment = f"{trial}-{k}-{j}".encode()
            boxes.append(box)
        procs = [subprocess.Popen([*CLI, "collect", str(b), "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for b in boxes]
        for p in procs:
            out, err = p.communicate(timeout=240)
            assert p.returncode == 0 and "新报送 10 份" in out, out + err
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT department, version FROM submissions").fetchall()
        assert len(rows) == 40
        versions: dict[str, list[int]] = {}
        for dep, v in rows:
            versions.setdefault(dep, []).append(v)
        assert len(versions) == 5 and all(sorted(v) == list(range(1, 9)) for v in versions.values()), versions


def _strict(source: Path, target: Path) -> Path:
    """The workbook as Excel's "Strict Open XML Spreadsheet" save writes it: the
    same parts in the ISO strict namespaces."""
    swaps = [(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
             (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships", b"http://purl.oclc.org/ooxml/officeDocument/relationships")]
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.endswith((".xml", ".rels")):
                for a, b in swaps:
                    data = data.replace(a, b)
            zout.writestr(item, data)
    return target


def test_a_strict_open_xml_workbook_is_checked_and_refused_for_writing_in_chinese(tmp_path, capsys):
    """Saved as Strict Open XML: check reads it, but openpyxl loads it without
    its sheets, so subtotal gave 内部错误 (IndexError) and check --annotate and
    the bureau's feedback wrote a copy holding only the 校验结果 sheet, silently.
    Writing is now refused with what to do; nothing is written."""
    src = _strict(Path(__file__).resolve().parent.parent / "examples" / "akto_2026.xlsx", tmp_path / "严格.xlsx")
    code, text = _cli(capsys, ["check", src])
    assert code == 1 and "P01" not in text  # every table found
    for args, out in ((["subtotal", src, "-o", tmp_path / "s.xlsx"], "s.xlsx"),
                      (["check", src, "--annotate", tmp_path / "a.xlsx"], "a.xlsx"),
                      (["narrate", src, "--write", tmp_path / "n.xlsx"], "n.xlsx")):
        code, text = _cli(capsys, args)
        assert code == 2 and "Strict Open XML" in text and "另存为" in text, text
        assert not (tmp_path / out).exists()


def test_a_strict_open_xml_submission_does_not_stop_the_feedback_of_the_others(tmp_path, capsys):
    """The bureau's feedback stopped at the first department whose workbook cannot
    be written on (a Strict Open XML file): the others got none."""
    box = tmp_path / "in"
    box.mkdir()
    _strict(EXAMPLE, box / "严格.xlsx")
    variant(EXAMPLE, box / "乙.xlsx", {**FIXED_NAME, "阿克陶县社会保险中心": "乙单位"})
    for jobs in ("1", "2"):
        db, fb = tmp_path / f"b{jobs}.db", tmp_path / f"fb{jobs}"
        code, text = _cli(capsys, ["collect", box, "--db", db, "--feedback", fb, "-j", jobs])
        assert code == 0, text
        assert "未能生成反馈  阿克陶县社会保险中心" in text and "Strict Open XML" in text, text
        assert [p.name for p in fb.glob("*.xlsx")] == ["乙单位_校验反馈.xlsx"]


def test_ctrl_c_while_feedback_is_written_stops_at_once(tmp_path):
    """Ctrl-C during --feedback took ~30 s: the pool went on writing every
    department's file (found by a fresh-clone trial)."""
    files = _inbox(tmp_path / "inbox", 24)
    db = tmp_path / "b.db"
    collect(files, db, SPEC, workers=2)
    proc = subprocess.Popen([sys.executable, "-m", "budgetxl.cli", "report", "--db", str(db), "--feedback", str(tmp_path / "fb"), "-j", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    written = 0
    for line in proc.stdout:
        written += "反馈  " in line
        if written == 2:
            break
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    t = time.monotonic()
    rest = proc.stdout.read()
    assert proc.wait(60) == 130, rest
    assert time.monotonic() - t < 10
    assert "已中断" in rest and "Traceback" not in rest
    assert len(list((tmp_path / "fb").glob("*.xlsx"))) < 24
