"""Finance-bureau collection: intake, history, status and consolidated totals."""

from __future__ import annotations

import shutil
import sqlite3
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.cli import main
from budgetxl.collect import collect
from budgetxl.collect.intake import Submission, process_file
from budgetxl.collect.roster import Member
from budgetxl.collect.status import analyse
from budgetxl.collect.store import Store

from .builders import FIXED_NAME, variant
from .conftest import EXAMPLE
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()

NAME = "阿克陶县社会保险中心"


def _bases(tmp: Path) -> dict[int, Path]:
    """Two valid workbooks with different figures: the published example (with its
    0.01 尾差) and the same after 计算小计 (exact sums); the one 错误 corrected."""
    published = variant(EXAMPLE, tmp / "published.xlsx", FIXED_NAME)
    exact = pipeline.subtotal_file(published, SPEC, tmp / "exact.xlsx").target
    return {1: published, 2: exact}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """30 departments over three amount scales, plus what bureaus really receive."""
    tmp = tmp_path_factory.mktemp("bureau")
    bases = _bases(tmp)
    box = tmp / "收件箱"
    box.mkdir()
    expected = {}
    for i in range(30):
        k = 1 + i % 2
        name = f"第{i:02d}单位"
        variant(bases[k], box / f"{name}.xlsx", {NAME: name})
        expected[name] = k
    shutil.copyfile(box / "第00单位.xlsx", box / "第00单位（重复）.xlsx")  # the same file twice
    variant(EXAMPLE, box / "有错误单位.xlsx", {NAME: "有错误单位"})  # keeps the reference's 错误
    variant(bases[1], box / "名单外单位.xlsx", {NAME: "名单外单位"})
    (box / "坏文件.xlsx").write_bytes(b"PK\x03\x04broken")
    (box / "空文件.xlsx").write_bytes(b"")
    variant(bases[1], box / "公式注入.xlsx", {NAME: "=HYPERLINK(\"http://x\",\"点我\")"})
    roster = [Member(n) for n in expected] + [Member("有错误单位"), Member("未报送单位甲"), Member("未报送单位乙"), Member('=HYPERLINK("http://x","点我")')]
    return box, expected, roster, bases


def test_collect_status_and_totals(inbox, tmp_path):
    box, expected, roster, bases = inbox
    db = tmp_path / "bureau.db"
    paths = sorted(box.iterdir())
    run = collect(paths, db, SPEC, workers=2)
    assert len(run.new) == len(paths) - 1 and len(run.known) == 1  # the duplicate is stored once
    bureau = analyse(db, roster, 2026)
    status = dict(zip(bureau.status["单位名称"], bureau.status["状态"]))
    assert status["有错误单位"] == "有错误"
    assert status["未报送单位甲"] == status["未报送单位乙"] == "未报送"
    assert all(status[name] in ("通过", "有警告") for name in expected)
    counts = bureau.status["状态"].value_counts().to_dict()
    assert counts["未报送"] == 2 and counts["有错误"] == 1
    problems = set(zip(bureau.problems["问题"], bureau.problems["文件"]))
    assert ("无法读取", "坏文件.xlsx") in problems and ("无法读取", "空文件.xlsx") in problems
    assert ("不在名单中", "名单外单位.xlsx") in problems
    # consolidated totals = the sum of the roster departments' own tables (latest valid versions);
    # the unit not on the roster is listed on its own and not counted
    used = set(bureau.used["单位名称"])
    assert "有错误单位" not in used and "名单外单位" not in used
    assert list(bureau.off_roster["单位名称"]) == ["名单外单位"]
    departments = [*[(n, k) for n, k in expected.items()], ("formula", 1)]
    for table, code, column in (("T3", "2101101", "合计"), ("T3", "2080109", "基本支出"), ("T6", "30101", "人员经费")):
        own = {k: pipeline.read(bases[k], SPEC).disclosure.table(table).by_code(code).value(column) for k in bases}
        key = "功能分类（项）" if table == "T3" else "经济分类（基本支出）"
        total = bureau.totals[key].set_index("科目代码").loc[code, column]
        assert total == sum(own[k] for _, k in departments) and isinstance(total, D)
    by_class = bureau.totals["功能分类（类）"].set_index("科目代码")
    own_class = {k: pipeline.read(bases[k], SPEC).disclosure.table("T3").by_code("210") for k in bases}
    # the county 类 total is the sum of the departments' 项 (exact), not of their printed 类 rows
    assert by_class.loc["210", "合计"] == sum(D("39.01") for _ in departments)
    assert own_class[1].value("合计") == D("39.02") and own_class[2].value("合计") == D("39.01")
    three = bureau.totals["三公经费"].set_index("项目")
    assert three.loc["总计", "合计"] == D("3.60") * len(departments)


def test_collecting_twice_changes_nothing(inbox, tmp_path):
    box, _, roster, _ = inbox
    db = tmp_path / "b.db"
    collect(sorted(box.iterdir()), db, SPEC)
    with Store(db) as s:
        before = s.counts()
    first = analyse(db, roster, 2026).status
    run = collect(sorted(box.iterdir()), db, SPEC)
    assert run.new == []
    with Store(db) as s:
        assert s.counts() == before
    assert analyse(db, roster, 2026).status.equals(first)


def test_resubmission_moves_a_department_and_keeps_both_versions(tmp_path):
    box = tmp_path / "in"
    box.mkdir()
    variant(EXAMPLE, box / "v1.xlsx", {NAME: "甲单位"})
    db = tmp_path / "b.db"
    collect([box / "v1.xlsx"], db, SPEC)
    assert analyse(db).status.iloc[0]["状态"] == "有错误"
    variant(EXAMPLE, box / "v2.xlsx", {**FIXED_NAME, NAME: "甲单位"})
    collect(sorted(box.iterdir()), db, SPEC)
    bureau = analyse(db)
    row = bureau.status.iloc[0]
    assert (row["状态"], row["最新版本"], row["汇总使用版本"]) == ("有警告", 2, 2)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version, status FROM submissions ORDER BY id").fetchall() == [(1, "有错误"), (2, "有警告")]
    assert ("同一单位多个文件", "甲单位") in set(zip(bureau.problems["问题"], bureau.problems["单位名称"]))


def test_status_workbook_writes_department_text_as_text(inbox, tmp_path):
    box, _, roster, _ = inbox
    db = tmp_path / "b.db"
    collect(sorted(box.iterdir()), db, SPEC)
    out = tmp_path / "状态.xlsx"
    roster_file = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["单位名称", "单位编码"])
    for m in roster:
        wb.active.append([m.name, ""])
        wb.active.cell(wb.active.max_row, 1).data_type = "s"
    wb.save(roster_file)
    assert main(["report", "--db", str(db), "--roster", str(roster_file), "-o", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:4] == ["报送状态", "问题明细", "报送问题", "汇总使用版本"]
    cells = [c for row in book["报送状态"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)  # shown as text, never executed
    import zipfile

    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


def test_a_failed_write_leaves_no_half_submission(tmp_path):
    db = tmp_path / "b.db"
    good = process_file(EXAMPLE, SPEC)
    broken = Submission(**{**good.__dict__, "sha256": "x" * 64, "items": [*good.items[:5], ("too", "short")]})
    with Store(db) as store:
        with pytest.raises(sqlite3.Error):
            store.add(broken)
        assert store.counts() == {"submissions": 0, "line_items": 0, "findings": 0}
        store.add(good)
        assert store.counts()["submissions"] == 1


def test_dask_cluster_gives_the_same_result(inbox, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    box, _, roster, _ = inbox
    paths = sorted(box.iterdir())[:8]
    local_db, dask_db = tmp_path / "local.db", tmp_path / "dask.db"
    collect(paths, local_db, SPEC)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        collect(paths, dask_db, SPEC, scheduler=cluster.scheduler_address)
    query = "SELECT sha256, department, status, errors, warnings, total, version FROM submissions ORDER BY sha256"
    items = "SELECT s.sha256, l.table_key, l.cell, l.amount FROM line_items l JOIN submissions s ON s.id = l.submission_id ORDER BY 1, 2, 3"
    a, b = sqlite3.connect(local_db), sqlite3.connect(dask_db)
    assert a.execute(query).fetchall() == b.execute(query).fetchall()
    assert a.execute(items).fetchall() == b.execute(items).fetchall()


def test_collect_cli(inbox, tmp_path, capsys):
    box, _, _, _ = inbox
    code = main(["collect", str(box), "--db", str(tmp_path / "b.db"), "-o", str(tmp_path / "s.xlsx"), "-j", "2"])
    assert code == 0
    out = capsys.readouterr().out
    assert "收到 36 个文件：新报送 35 份，已收过 1 份" in out and "无法读取" in out and "各单位状态（" in out
    assert "无法读取的文件 2 个" in out  # files with no department are counted too
    assert (tmp_path / "s.xlsx").exists()


@pytest.mark.parametrize("folder", ["收件箱", "收件箱 #1?"])  # the second: characters an SQLite URI reads as its own
def test_a_database_is_one_file_after_each_command(tmp_path, capsys, folder):
    """After collect and report the database's folder holds the database and its
    archive: the -wal and -shm files stayed (its status readers open it read-only,
    and a read-only connection closing last leaves them). And a path with # or ?
    names its own database: the read-only URI opened (and created) `收件箱 ` instead."""
    box = tmp_path / folder
    box.mkdir()
    shutil.copy(EXAMPLE, box / "甲.xlsx")
    db = box / "报送 #2?.db"
    assert main(["collect", str(box / "甲.xlsx"), "--db", str(db), "-o", str(tmp_path / "s.xlsx")]) == 0
    assert "各单位状态（1 个单位）" in capsys.readouterr().out
    assert main(["report", "--db", str(db), "-o", str(tmp_path / "r.xlsx")]) == 0
    assert sorted(p.name for p in box.iterdir()) == sorted(["甲.xlsx", db.name, f"{db.name}.files"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder, "s.xlsx", "r.xlsx"])  # nothing made beside it
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1


def test_roster_matches_by_unit_code_when_names_drift(tmp_path):
    box = tmp_path / "in"
    box.mkdir()
    source = variant(EXAMPLE, box / "a.xlsx", {**FIXED_NAME, NAME: "阿克陶县社保中心"})
    import openpyxl as xl

    wb = xl.load_workbook(source)
    wb["单位信息"]["B7"] = "A001"
    wb.save(source)
    db = tmp_path / "b.db"
    collect([source], db, SPEC)
    bureau = analyse(db, [Member("阿克陶县社会保险中心", "A001")], 2026)
    row = bureau.status.iloc[0]
    assert (row["单位名称"], row["状态"]) == ("阿克陶县社会保险中心", "有警告")
    assert "不在名单中" not in set(bureau.problems["问题"])


def test_a_roster_without_the_name_column_is_refused_before_intake(tmp_path, capsys):
    bad = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["名称"])
    wb.save(bad)
    assert main(["collect", str(tmp_path), "--db", str(tmp_path / "b.db"), "--roster", str(bad)]) == 2
    assert "找不到“单位名称”列" in capsys.readouterr().err
    assert not (tmp_path / "b.db").exists()


def test_a_workbook_of_another_year_never_decides_this_years_status(tmp_path):
    """Next year's workbook of the same unit in the inbox: reported as 年度不符, while the
    unit's 2026 status and totals come from its 2026 workbook."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(EXAMPLE, inbox / "a2026.xlsx")
    assert main(["rollover", str(EXAMPLE), "-o", str(inbox / "b2027.xlsx")]) == 0
    db = tmp_path / "b.db"
    collect(sorted(inbox.iterdir()), db, SPEC)
    bureau = analyse(db, year=2026)
    latest = bureau.latest.set_index("department")
    assert latest.loc["阿克陶县社会保险中心", "file_name"] == "a2026.xlsx"
    mismatch = bureau.problems[bureau.problems.iloc[:, 0] == "b2027.xlsx"]
    assert len(mismatch) and mismatch.iloc[:, 2].str.contains("年度").any()
    assert not bureau.problems.iloc[:, 2].str.contains("同一单位多个文件").any()


# ------------------------------------------------------------------ storing in chunks, the archive kept by the workers


def test_a_chunk_is_stored_whole_or_not_at_all(tmp_path):
    """collect stores what its workers finished together (Store.add_many): one
    bad submission in a chunk leaves nothing of the chunk, and the next chunk is stored."""
    db = tmp_path / "b.db"
    good = process_file(EXAMPLE, SPEC)
    other = Submission(**{**good.__dict__, "sha256": "y" * 64})
    broken = Submission(**{**good.__dict__, "sha256": "x" * 64, "items": [*good.items[:5], ("too", "short")]})
    with Store(db) as store:
        with pytest.raises(sqlite3.Error):
            store.add_many([good, broken])
        assert store.counts() == {"submissions": 0, "line_items": 0, "findings": 0}
        assert store.add_many([good, other, good]) == [(1, True), (2, True), (1, False)]
        assert store.counts()["line_items"] == 2 * len(good.items)
        versions = store.conn.execute("SELECT id, version FROM submissions ORDER BY id").fetchall()
    assert versions == [(1, 1), (2, 2)]  # in the order given


def test_rows_of_the_wrong_width_are_refused_even_when_they_add_up(tmp_path):
    """Several rows go into one INSERT: a row one value short next to a row one value
    long must not shift values into the wrong columns."""
    good = process_file(EXAMPLE, SPEC)
    short, long = good.items[1][:-1], (*good.items[2], "extra")
    odd = Submission(**{**good.__dict__, "items": [good.items[0], short, long, *good.items[3:]]})
    with Store(tmp_path / "b.db") as store:
        with pytest.raises(sqlite3.Error):
            store.add(odd)
        assert store.counts() == {"submissions": 0, "line_items": 0, "findings": 0}
        store.add(good)
        stored = store.conn.execute("SELECT table_key, sheet_row, kind, code, label, name, project, side, column_key, amount, cell FROM line_items ORDER BY rowid").fetchall()
    assert stored == [tuple(i) for i in good.items]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_archive_that_cannot_be_written_is_a_row_per_file_not_a_stop(tmp_path, monkeypatch, workers):
    """Kept by the worker, or (a worker that died on its file) by collect itself."""
    box = tmp_path / "in"
    box.mkdir()
    for i in range(3):
        variant(EXAMPLE, box / f"u{i}.xlsx", {NAME: f"单位{i}"})
    variant(EXAMPLE, box / "炸弹.xlsx", {NAME: "炸弹单位"})
    monkeypatch.setenv("BUDGETXL_TEST_ABORT", "炸弹")  # its worker dies: collect keeps its bytes
    db = tmp_path / "b.db"
    Path(f"{db}.files").write_text("not a folder")  # where the archive belongs
    run = collect(sorted(box.iterdir()), db, SPEC, workers=workers)
    assert run.new == [] and len(run.failed) == 4
    for path, message in run.failed:
        assert "b.db.files" in message and "不是文件夹" in message, message
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM submissions").fetchone() == (0,)  # no row without its bytes
    Path(f"{db}.files").unlink()
    run = collect(sorted(box.iterdir()), db, SPEC, workers=workers)
    assert len(run.new) == 4 and not run.failed
    assert {s.file_name for s in run.new if not s.readable} == {"炸弹.xlsx"}


def test_the_archived_copy_is_the_bytes_the_row_names(tmp_path):
    """The worker hashes and copies in one read: every stored row has its copy, byte for byte,
    and no temporary file is left in the archive."""
    import hashlib

    from budgetxl.collect import archive

    box = tmp_path / "in"
    box.mkdir()
    for i in range(4):
        variant(EXAMPLE, box / f"u{i}.xlsx", {NAME: f"单位{i}"})
    shutil.copyfile(box / "u0.xlsx", box / "u0 copy.xlsx")
    db = tmp_path / "b.db"
    run = collect(sorted(box.iterdir()), db, SPEC, workers=2)
    assert len(run.new) == 4 and len(run.known) == 1
    rows = sqlite3.connect(db).execute("SELECT sha256, file_path FROM submissions").fetchall()
    for sha, path in rows:
        copy = archive.find(db, sha)
        assert copy is not None and copy.parent.parent == archive.folder(db)
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha and copy.read_bytes() == Path(path).read_bytes()
    assert sorted(p.name for p in archive.folder(db).rglob("*") if p.is_file()) == sorted(f"{sha}.xlsx" for sha, _ in rows)


def test_the_same_file_twice_in_one_inbox_is_read_once_and_both_are_recorded(tmp_path):
    box = tmp_path / "in"
    box.mkdir()
    a = variant(EXAMPLE, box / "a.xlsx", {NAME: "甲单位"})
    shutil.copyfile(a, box / "a（再发一次）.xlsx")
    (box / "坏.xlsx").write_bytes(b"PK\x03\x04broken")
    shutil.copyfile(box / "坏.xlsx", box / "坏2.xlsx")
    db = tmp_path / "b.db"
    lines = []
    run = collect(sorted(box.iterdir()), db, SPEC, progress=lambda done, total, sub: lines.append((done, total, sub.file_name, sub.status)))
    # a line for every file, numbered in order (the second of a pair was missing and the numbers skipped)
    assert [(d, t) for d, t, _, _ in lines] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted(n for _, _, n, _ in lines) == sorted(p.name for p in box.iterdir())
    status = {n: s for _, _, n, s in lines}
    assert status["a（再发一次）.xlsx"] == status["a.xlsx"] and status["坏2.xlsx"] == status["坏.xlsx"]
    assert sorted(p.name for p in run.known) == ["a（再发一次）.xlsx", "坏2.xlsx"]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone() == (2,)
    assert sorted(n for (n,) in conn.execute("SELECT file_name FROM received_files")) == sorted(p.name for p in box.iterdir())


def test_a_database_name_is_a_file_name_whatever_it_starts_with(tmp_path, monkeypatch, capsys):
    """`--db file:a.db` wrote ./a.db (SQLite read the name as a URI) and then could
    not find it again; `file:a.db?mode=memory` lost the submission. And a name the
    file system refuses as too long gave a Python traceback."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, tmp_path / "甲.xlsx")
    assert main(["collect", "甲.xlsx", "--db", "file:a.db"]) == 0
    assert main(["report", "--db", "file:a.db", "-o", "r.xlsx"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file:a.db", "file:a.db.files", "r.xlsx", "甲.xlsx"]
    with sqlite3.connect(tmp_path / "file:a.db") as conn:  # a plain path here (no URI): the file of that name
        assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # at rest: one file, readable from read-only media
    from budgetxl.paths import database_uri

    before = sorted(p.name for p in tmp_path.iterdir())
    conn = sqlite3.connect(database_uri(tmp_path / "file:a.db", "ro"), uri=True)
    assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # reading makes no file beside it (a WAL database makes -shm)
    capsys.readouterr()
    long = "报送" * 90 + ".db"  # 542 bytes: over any file system's limit
    for argv in (["collect", "甲.xlsx", "--db", long], ["report", "--db", long], ["convert", "甲.xlsx", "-o", "出" * 200]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "太长" in err and "内部错误" not in err and "Traceback" not in err, err


def test_collects_starting_together_on_a_new_database_all_finish(tmp_path):
    """The second of two collects started together on a new database got "database
    is locked" at once (3 runs in 6): switching to WAL does not wait for the busy
    timeout. Eight processes open one new database at the same instant, 8 times."""
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\nfrom budgetxl.collect.store import Store\n"
        "while time.time() < float(sys.argv[2]):\n    pass\n"
        "Store(sys.argv[1]).close()\n"
    )
    for trial in range(8):
        db = tmp_path / f"b{trial}.db"
        start = time.time() + 0.6  # after every process has started and imported
        runs = [subprocess.Popen([sys.executable, "-c", script, str(db), repr(start)], stderr=subprocess.PIPE, text=True) for _ in range(8)]
        results = [(p.wait(120), p.stderr.read()) for p in runs]
        assert [code for code, _ in results] == [0] * 8, [err[-300:] for _, err in results]


def test_tidying_a_database_in_use_waits_for_nothing_and_changes_nothing(tmp_path):
    """A command with --db run while `serve` has the database open (users add …)
    must not wait on it: the switch back to one file is left to its last writer."""
    import time

    from budgetxl.collect.store import tidy

    db = tmp_path / "b.db"
    with Store(db) as store:
        store.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()
        started = time.monotonic()
        tidy(db)
        assert time.monotonic() - started < 0.5
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tidy(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.db"]
