"""Batch conversion (``budgetxl convert``): many workbooks, one result each, atomic files."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest

from budgetxl.batch import OK, convert_all
from budgetxl.paths import safe_name
from budgetxl.spec import load_spec

from .builders import FIXED_NAME, variant
from .conftest import EXAMPLE

SPEC = load_spec()

def test_safe_names():
    assert safe_name("../../etc/passwd") == "____etc_passwd"  # no separator, no ".." survives
    assert "/" not in safe_name("a/b\\c") and "\x00" not in safe_name("a\x00b")
    assert safe_name("...") == "未命名单位" and safe_name("") == "未命名单位"
    assert len(safe_name("长" * 500).encode()) == 180 and safe_name("长" * 500) == "长" * 60  # bounded in bytes


def _batch(tmp_path, good: int, broken: bool = True):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for i in range(good):
        variant(EXAMPLE, inbox / f"单位{i:02d}.xlsx", {**FIXED_NAME, "阿克陶县社会保险中心": f"测试单位{i:02d}"})
    if broken:
        (inbox / "空文件.xlsx").write_bytes(b"")
        (inbox / "不是表格.xlsx").write_text("hello")
        (inbox / "截断.xlsx").write_bytes(EXAMPLE.read_bytes()[:2000])
        variant(EXAMPLE, inbox / "有错误的单位.xlsx", {"阿克陶县社会保险中心": "有错误的单位"})
    return inbox


def test_batch_with_broken_workbooks(tmp_path):
    from budgetxl.cli import main

    inbox = _batch(tmp_path, 16)
    out = tmp_path / "公开文件"
    code = main(["convert", str(inbox), "-o", str(out), "--to", "docx,xlsx", "-j", "2"])
    assert code == 1  # some failed or were refused
    produced = sorted(p.name for p in out.iterdir())
    assert len(produced) == 32 and not [p for p in produced if p.startswith(".")]
    assert "2026年测试单位00部门预算公开.docx" in produced
    for p in out.glob("*.docx"):
        docx.Document(str(p))  # every file opens
    # a rerun converts nothing twice and leaves nothing behind
    results = convert_all(sorted(inbox.iterdir()), out, ("docx", "xlsx"), 2, spec=SPEC)
    assert {r.status for r in results if r.source.name.startswith("单位")} == {"跳过"}
    assert sorted(p.name for p in out.iterdir()) == produced


def test_batch_messages_explain_each_failure(tmp_path, capsys):
    from budgetxl.cli import main

    inbox = _batch(tmp_path, 1)
    main(["convert", str(inbox), "-o", str(tmp_path / "o"), "--to", "xlsx"])
    out = capsys.readouterr().out
    assert re.search(r"失败\s+\S*空文件.xlsx\s+文件为空", out)
    assert re.search(r"失败\s+\S*不是表格.xlsx\s+文件不是 Excel 工作簿", out)
    assert re.search(r"失败\s+\S*截断.xlsx\s+文件已损坏或不完整", out)
    assert re.search(r"未转换\s+\S*有错误的单位.xlsx\s+有 1 个“错误”", out)
    assert "共 5 个工作簿：完成 1，跳过 0，未转换 1，失败 3。" in out


def test_same_department_twice_is_not_overwritten(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name in ("a.xlsx", "b.xlsx"):
        variant(EXAMPLE, inbox / name, FIXED_NAME)
    results = convert_all(sorted(inbox.iterdir()), tmp_path / "o", ("xlsx",), 1, spec=SPEC)
    assert [r.status for r in results] == [OK, "失败"] and "同名" in results[1].message
    assert len(list((tmp_path / "o").iterdir())) == 1


def test_killed_batch_leaves_no_partial_files_and_a_rerun_completes(tmp_path):
    import os
    import signal
    import sys
    import time

    inbox = _batch(tmp_path, 20, broken=False)  # enough work that the kill lands mid-batch even on a fast machine
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "budgetxl.cli", "convert", str(inbox), "-o", str(out), "--to", "docx,xlsx"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.suffix == ".xlsx" and not p.name.startswith(".") for p in out.glob("*")):
        time.sleep(0.05)
    time.sleep(0.05)  # somewhere inside the next workbook
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finals = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert 0 < len(finals) < 40, "killed mid-batch"
    for p in finals:  # whatever carries a final name is complete
        (docx.Document if p.suffix == ".docx" else openpyxl.load_workbook)(str(p))
    results = convert_all(sorted(inbox.iterdir()), out, ("docx", "xlsx"), 1, spec=SPEC)
    assert all(r.status in (OK, "跳过") for r in results)
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 40 and not [n for n in names if n.startswith(".")]


def test_parts_of_a_dead_process_not_yet_reaped_are_removed(tmp_path):
    """A killed worker is a zombie until it is reaped; its half-written file must
    still be swept by the next run (this made the killed-batch test flaky)."""
    import sys
    import time

    from budgetxl.io_atomic import remove_abandoned_parts

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 30
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":  # exited, not reaped (no wait() yet)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    part = tmp_path / f".2026年某单位部门预算公开.{child.pid}.123.part.xlsx"
    part.write_bytes(b"half")
    try:
        assert remove_abandoned_parts(tmp_path) == [part]
    finally:
        child.wait()


def test_a_workbook_without_a_year_makes_no_documents(tmp_path, capsys):
    """A publication xlsx fed back as input (tables only, no 单位信息) or a blank 年度:
    never documents printed with "None年" (found by a fresh-clone trial)."""
    import openpyxl as _openpyxl

    from budgetxl.cli import main
    from budgetxl.spec import load_spec

    src = tmp_path / "in"
    src.mkdir()
    variant(EXAMPLE, src / "单位.xlsx", FIXED_NAME)
    published = tmp_path / "pub"
    assert main(["convert", str(src), "-o", str(published), "--to", "xlsx"]) == 0
    blank = src / "未填年度.xlsx"
    wb = _openpyxl.load_workbook(src / "单位.xlsx")
    info = wb[load_spec().inputs[0].sheet]
    cell = next(c for row in info.iter_rows() for c in row if c.value == 2026)
    cell.value = None
    wb.save(blank)
    capsys.readouterr()
    assert main(["check", str(blank)]) == 1
    assert "P11" in capsys.readouterr().out
    again = tmp_path / "again"
    results = convert_all([*published.glob("*.xlsx"), blank], again, ("docx", "xlsx"), 1, spec=SPEC, force=True)
    assert [r.status for r in results] == ["失败", "失败"], results
    assert all("年度" in r.message for r in results)
    assert not again.exists() or not [p for p in again.iterdir() if not p.name.startswith(".")]


def _processes_mentioning(text: str) -> list[int]:
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                out.append(int(cmdline.parent.name))
        except OSError:
            pass
    return out


def test_killing_convert_leaves_no_libreoffice_running(tmp_path):
    """kill -9 of convert while PDFs are made: its LibreOffice processes end too
    (they stayed, ~230 MB each, until killed by hand; found by a fresh-clone trial)."""
    import os
    import signal
    import sys
    import time

    from budgetxl.render.office import uno_python

    if not uno_python():
        pytest.skip("no python3-uno: no persistent office")
    inbox = _batch(tmp_path, 4, broken=False)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "budgetxl.cli", "convert", str(inbox), "-o", str(out), "--to", "pdf", "-j", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not [p for p in _processes_mentioning(str(out)) if p != proc.pid] and time.monotonic() < deadline:
        time.sleep(0.1)
    offices = [p for p in _processes_mentioning(str(out)) if p != proc.pid]
    assert offices, "LibreOffice never started"
    time.sleep(1.0)  # in the middle of a conversion
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 60
    while _processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _processes_mentioning(str(out))
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert left == []


def test_a_folder_is_read_in_natural_order(tmp_path):
    from budgetxl.paths import find_workbooks

    for name in ("单位10.xlsx", "单位2.xlsx", "单位1.xlsx", "乙.xlsx"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in find_workbooks([tmp_path])] == ["乙.xlsx", "单位1.xlsx", "单位2.xlsx", "单位10.xlsx"]


def test_ctrl_c_keeps_the_pdfs_already_made(tmp_path):
    """Each PDF is moved under its final name as soon as LibreOffice has made it,
    so Ctrl-C in a long batch keeps them (they were all dropped), leaves no
    temporary folder and no office (an office was restarted while the batch
    stopped, and wrote its profile into the removed folder; found by a fresh-clone trial)."""
    import os
    import signal
    import sys
    import time

    from budgetxl.render.office import uno_python

    if not uno_python():
        pytest.skip("no python3-uno: no persistent office")
    inbox = _batch(tmp_path, 6, broken=False)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "budgetxl.cli", "convert", str(inbox), "-o", str(out), "--to", "pdf", "-j", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not list(out.glob("[!.]*.pdf")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130  # interrupted mid-batch, not finished
    kept = list(out.glob("[!.]*.pdf"))
    assert 1 <= len(kept) < 6 and all(p.read_bytes()[:5] == b"%PDF-" for p in kept)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    deadline = time.monotonic() + 60
    while _processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(out)) == []


def _slow_copy(source: Path, target: Path) -> Path:
    """The same workbook with an extra sheet of 250,000 numbers: it takes longer to read."""
    import zipfile

    cells = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in "ABCDE") + "</row>" for r in range(1, 50_001))
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             f"{cells}</sheetData></worksheet>")
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b"</sheets>", b'<sheet name="\xe8\x8d\x89\xe7\xa8\xbf" sheetId="999" r:id="rIdSlow"/></sheets>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSlow" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/slow.xml"/></Relationships>')
            zout.writestr(item, data)
        zout.writestr("xl/worksheets/slow.xml", sheet)
    return target


@pytest.mark.parametrize("workers", [1, 2])
def test_of_two_workbooks_of_one_department_the_first_given_is_published(tmp_path, workers):
    """With -j 2 the workbook that finished first was published and the other
    reported, so an older file could win over the corrected one given first
    (found by a fresh-clone trial). The order given decides, as the README says."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    first = _slow_copy(variant(EXAMPLE, tmp_path / "a.xlsx", FIXED_NAME), inbox / "1 更正后.xlsx")
    other = variant(EXAMPLE, inbox / "2 其他单位.xlsx", {**FIXED_NAME, "阿克陶县社会保险中心": "乙单位"})
    second = variant(EXAMPLE, inbox / "3 旧版.xlsx", FIXED_NAME)  # another worker has it done first
    results = convert_all([first, other, second], tmp_path / "o", ("xlsx",), workers, spec=SPEC, force=True)
    assert [(r.source.name, r.status) for r in results] == [(first.name, OK), (other.name, OK), (second.name, "失败")]
    assert "同名" in results[2].message and first.name in results[2].message
