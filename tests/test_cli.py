"""`budgetxl dump` prints the documented JSON schema; errors are Chinese, exit 2."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from budgetxl.cli import main

from .conftest import EXAMPLE


def test_dump_json_schema(capsys):
    assert main(["dump", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["department"], data["year"], data["unit"]) == ("阿克陶县社会保险中心", 2026, "万元")
    assert list(data["tables"]) == [f"T{i}" for i in range(1, 13)]
    t7 = data["tables"]["T7"]
    assert t7["title"] == "一般公共预算项目支出情况表"
    project = next(r for r in t7["rows"] if r["project"] == "1995年前退休(退职)人员补贴2026年")
    assert project["code"] == "2080699" and project["kind"] == "detail"
    assert project["values"]["项目支出合计"] == "9.00"
    assert project["refs"]["项目支出合计"] == "'表7 一般公共预算项目支出情况表'!F21"
    row = data["tables"]["T6"]["rows"][1]
    assert (row["code"], row["name"], row["values"]["合计"]) == ("30101", "基本工资", "102.32")
    t1 = data["tables"]["T1"]["rows"]
    assert t1[0]["label"] == "一、本年收入" and t1[0]["side"] == "收入"
    assert {r["side"] for r in t1} == {"收入", "支出"}
    assert data["inputs"]["info"]["单位名称"] == "阿克陶县社会保险中心"
    assert data["findings"] == []
    for table in data["tables"].values():
        for r in table["rows"]:
            assert r["kind"] in ("detail", "subtotal", "total", "label")
            assert set(r["values"]) == set(r["refs"])


def test_dump_text_summary(capsys):
    assert main(["dump", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "2026年 阿克陶县社会保险中心" in out and "T7 一般公共预算项目支出情况表: 明细 12 行" in out


def test_unreadable_file_exit_2_with_chinese_message(tmp_path, capsys):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert main(["dump", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "文件已损坏或不完整" in err and "Traceback" not in err
    assert main(["dump", str(tmp_path / "没有.xlsx")]) == 2
    assert "文件不存在" in capsys.readouterr().err


def test_template_and_fill_commands(tmp_path, capsys):
    assert main(["template", "-o", str(tmp_path / "t.xlsx")]) == 0
    assert main(["fill", "examples/akto_2026.toml", "-o", str(tmp_path / "e.xlsx"), "--template", str(tmp_path / "t.xlsx")]) == 0
    assert main(["dump", str(tmp_path / "e.xlsx"), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"department": "阿克陶县社会保险中心"' in out


def _mistakes(tmp):
    (tmp / "tpl").mkdir()
    (tmp / "tpl" / "s02_income.j2").write_text("{% if %}", encoding="utf-8")
    (tmp / "bad.toml").write_text("x", encoding="utf-8")
    (tmp / "unknown.json").write_text('{"a": 1}', encoding="utf-8")
    ex = str(EXAMPLE)
    return {
        "workbook given to fill": ["fill", ex, "-o", str(tmp / "y.xlsx")],
        "data file with parts fill does not know": ["fill", str(tmp / "unknown.json"), "-o", str(tmp / "z.xlsx")],
        "syntax error in a bureau's template": ["narrate", ex, "--templates", str(tmp / "tpl")],
        "code list that is not a CSV": ["check", ex, "--functional-codes", str(tmp / "bad.toml")],
        "rule code that does not exist": ["check", ex, "--select", "ZZ"],
        "users list on a missing database": ["users", "list", "--db", str(tmp / "nosuch.db")],
        "backup of a missing database": ["backup", "--db", str(tmp / "nosuch.db"), "-o", str(tmp / "b.db")],
        "bad option value": ["check", ex, "--min-severity", "严重"],
        "unknown command": ["bogus"],
        "missing workbook": ["check"],
        "unknown spec": ["--spec", "nosuch", "check", ex],
        "a file name given to convert as its folder": ["convert", ex, "-o", str(tmp / "公开文件.pdf")],
        "a workbook written under another extension": ["subtotal", ex, "-o", str(tmp / "x.csv")],
    }


def test_mistakes_a_clerk_makes_get_a_chinese_answer(tmp_path, capsys):
    """Found by a fresh-clone trial: each of these gave a traceback-like 内部错误, English, or a silent pass."""
    import re

    for name, argv in _mistakes(tmp_path).items():
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse exits
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2, name
        assert "错误：" in err and "内部错误" not in err and "Traceback" not in err, (name, err)
        assert not re.search(r"\b(error|invalid choice|required|usage)\b", err), (name, err)
    assert not (tmp_path / "nosuch.db").exists()  # a typo never creates a database


# ------------------------------------------------------------------ start-up (issue 13, speed)

_ARGVS = [
    ["check", "x.xlsx"],
    ["check", "x.xlsx", "--json", "--select", "B,C01", "--min-severity", "警告"],
    ["--spec", "xinjiang_2026", "check", "x.xlsx"],
    ["--spec=xinjiang_2026", "narrate", "x.xlsx", "--format", "markdown"],
    ["--sp", "check", "fill", "d.toml", "-o", "o.xlsx"],  # an abbreviated --spec whose value is a command name
    ["subtotal", "x.xlsx", "--in-place"],
    ["convert", "a", "b", "-o", "out", "-j", "2"],
    ["excel", "configure", "w.xlsm", "--interpreter", "py"],
    ["users", "issue", "--roster", "r.xlsx", "--db", "d.db", "-o", "o.xlsx"],
    ["serve", "--port", "9000"],
    ["collect", "in", "--db", "d.db", "--previous", "p.db"],
]
_MISTAKES = [
    [], ["chek", "x.xlsx"], ["check"], ["check", "x.xlsx", "--min-severity", "严重"], ["check", "--nope", "x.xlsx"],
    ["--spec"], ["excel"], ["users", "add-bureau"], ["convert", "a", "-o", "o", "-j", "0"], ["-h"], ["check", "-h"],
    ["--", "check", "x.xlsx"], ["-", "check"], ["-h", "check"], ["--help", "check", "x.xlsx"], ["--he", "check"],
    ["--sp=xinjiang_2026", "check"], ["--spec", "check", "check", "-h"], ["subtotal", "x.xlsx", "-o", "o.xlsx", "--in-place"],
]


def _outcome(parse, argv, capsys):
    try:
        result = vars(parse(argv))
    except SystemExit as exc:
        result = exc.code
    return result, capsys.readouterr()


def test_the_command_line_parses_as_before_with_only_the_named_command_declared(capsys):
    """check builds the parser of `check` only; every argument list, good or bad,
    parses (or fails, with the same words) as with every command declared."""
    from budgetxl.cli import _parse, build_parser

    for argv in _ARGVS + _MISTAKES:
        assert _outcome(_parse, argv, capsys) == _outcome(build_parser().parse_args, argv, capsys), argv
    assert len(build_parser("check")._subparsers._group_actions[0].choices) == 1  # the point: one command declared
    assert len(build_parser("chek")._subparsers._group_actions[0].choices) == len(build_parser()._subparsers._group_actions[0].choices)


def test_check_process_ends_early_with_its_whole_output_and_exit_status(tmp_path):
    """`budgetxl check` ends without the interpreter's teardown (os._exit): its
    output, piped, is complete, its exit status is the findings' (1: 错误), and
    what makes that safe holds: a check leaves no exit handler and no thread."""
    import subprocess
    import sys

    probe = (
        "import atexit, io, sys, threading\nfrom budgetxl.cli import main\n"
        "sys.stdout = io.StringIO()\ncode = main(['check', sys.argv[1]])\n"
        "out = sys.stdout.getvalue()\nsys.stdout = sys.__stdout__\n"
        "print(code, atexit._ncallbacks(), threading.active_count())\nprint(out, end='')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # output buffered, as for a clerk
    env["BUDGETXL_CACHE"] = str(tmp_path / "cache")  # a first run compiles the record classes and saves them at exit:
    subprocess.run([sys.executable, "-c", probe, str(EXAMPLE)], capture_output=True, env=env, check=True)  # not this one
    inside = subprocess.run([sys.executable, "-c", probe, str(EXAMPLE)], capture_output=True, text=True, env=env, check=True).stdout
    facts, expected = inside.split("\n", 1)
    assert facts.split() == ["1", "0", "1"]
    for argv in ([sys.executable, "-m", "budgetxl.cli"], [str(Path(sys.executable).with_name("budgetxl"))]):
        done = subprocess.run([*argv, "check", str(EXAMPLE)], capture_output=True, text=True, env=env, check=False)
        assert (done.returncode, done.stdout, done.stderr) == (1, expected, ""), argv
    big = subprocess.run([sys.executable, "-m", "budgetxl.cli", "check", str(EXAMPLE), "--json"], capture_output=True, text=True, env=env, check=False)
    assert big.returncode == 1 and json.loads(big.stdout)["findings"]  # 50 kB through a pipe, flushed before the exit


def test_check_piped_into_head_keeps_its_exit_status():
    """`budgetxl check X | head` exited 0 or 1 at random (0 when the pipe closed
    while it printed): scripts testing PIPESTATUS could not rely on it."""
    import subprocess
    import sys

    example = Path(__file__).resolve().parent.parent / "examples" / "akto_2026.xlsx"
    for args in (["check", str(example)], ["check", str(example), "--json"]):
        for _ in range(3):
            proc = subprocess.Popen([sys.executable, "-m", "budgetxl.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            proc.stdout.read(10)
            proc.stdout.close()  # the reader stops, as head does
            err = proc.stderr.read()
            assert proc.wait(60) == 1, err
            assert b"Traceback" not in err and b"Exception ignored" not in err, err


def test_a_full_disk_under_the_standard_output_is_named_as_such(tmp_path):
    """check > file on a full disk said 无法写入 （未完成的文件已删除）: no path, and no file of
    ours had been deleted."""
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    example = Path(__file__).resolve().parent.parent / "examples" / "akto_2026.xlsx"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "budgetxl.cli", "check", str(example)], stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2
    assert "磁盘空间不足，无法写入输出" in proc.stderr and "已删除" not in proc.stderr, proc.stderr


def test_a_command_started_with_its_output_closed_still_does_its_work(tmp_path):
    """`budgetxl check --json X >&-` said 内部错误 (AttributeError: Python has no
    sys.stdout then): the work is done, the exit status tells the result."""
    import subprocess

    for argv in (["check", "--json", str(EXAMPLE)], ["check", str(EXAMPLE)]):
        done = subprocess.run(f"{sys.executable} -m budgetxl.cli {' '.join(argv)} >&-", shell=True, capture_output=True, text=True, check=False)
        assert done.returncode == 1 and "内部错误" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    out = tmp_path / "a.xlsx"
    done = subprocess.run(f"{sys.executable} -m budgetxl.cli check {EXAMPLE} --annotate {out} >&- 2>&-", shell=True, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and out.exists()
