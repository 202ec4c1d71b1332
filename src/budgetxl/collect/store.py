"""The bureau's database: every submission ever received, never deleted.

SQLite through the standard library. A submission is stored inside one
transaction (``add``; ``collect`` stores the few its workers finished since the
last transaction together, ``add_many``), so a crash never leaves half a
submission. The same file twice (same SHA-256) is
stored once; a changed file for the same department is a new version.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from itertools import chain
from pathlib import Path

from ..paths import database_uri
from .intake import Submission

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL UNIQUE,      -- content hash: the same file is stored once
    file_name   TEXT NOT NULL,
    file_path   TEXT NOT NULL,
    size        INTEGER NOT NULL,
    file_mtime  TEXT NOT NULL,             -- the file's modification time (UTC, ISO 8601)
    received_at TEXT NOT NULL,             -- when the bureau collected it (UTC, ISO 8601)
    readable    INTEGER NOT NULL,          -- 0: the file could not be read (see error)
    error       TEXT NOT NULL DEFAULT '',
    department  TEXT NOT NULL DEFAULT '',  -- 单位名称
    unit_code   TEXT NOT NULL DEFAULT '',  -- 单位编码
    year        INTEGER,                   -- 年度
    unit        TEXT NOT NULL DEFAULT '',  -- 金额单位: 万元 / 元
    spec_id     TEXT NOT NULL DEFAULT '',  -- template the workbook was read with
    status      TEXT NOT NULL,             -- 通过 / 有警告 / 有错误 / 无法读取
    errors      INTEGER NOT NULL DEFAULT 0,
    warnings    INTEGER NOT NULL DEFAULT 0,
    infos       INTEGER NOT NULL DEFAULT 0,
    total       TEXT,                      -- 收支总计 (表1 收入总计), decimal string, workbook unit
    version     INTEGER NOT NULL DEFAULT 1 -- 1, 2, … per (department, year) in order received
);
CREATE TABLE IF NOT EXISTS line_items (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    table_key     TEXT NOT NULL,           -- T1 … T12
    sheet_row     INTEGER NOT NULL,
    kind          TEXT NOT NULL,           -- detail / subtotal / total / label
    code          TEXT,                    -- 2080109, 30101 …
    label         TEXT,
    name          TEXT,
    project       TEXT,
    side          TEXT,
    column_key    TEXT NOT NULL,
    amount        TEXT NOT NULL,           -- decimal string, workbook unit
    cell          TEXT NOT NULL            -- 'sheet'!A1
);
CREATE TABLE IF NOT EXISTS findings (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    title       TEXT NOT NULL,
    message     TEXT NOT NULL,
    cells       TEXT NOT NULL,
    expected    TEXT,
    actual      TEXT,
    difference  TEXT
);
CREATE TABLE IF NOT EXISTS statements (    -- the figures the bureau compares (collect/compare.py)
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    kind        TEXT NOT NULL,             -- figure / current (this year's item) / prior (上年数与原因)
    category    TEXT NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    amount      TEXT NOT NULL,             -- decimal string, workbook unit (项目数: a count)
    cell        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS received_files ( -- every file received, also a copy of content already stored
    sha256      TEXT NOT NULL,             -- submissions.sha256
    file_name   TEXT NOT NULL,
    file_path   TEXT NOT NULL,
    seen_at     TEXT NOT NULL,             -- first time it was collected (UTC, ISO 8601)
    UNIQUE (file_path, sha256)
);
CREATE INDEX IF NOT EXISTS statements_submission ON statements(submission_id);
CREATE INDEX IF NOT EXISTS line_items_submission ON line_items(submission_id);
CREATE INDEX IF NOT EXISTS findings_submission ON findings(submission_id);
CREATE INDEX IF NOT EXISTS submissions_department ON submissions(department, year);
"""


def _iso(timestamp: float | None = None) -> str:
    """UTC, ISO 8601. A file's modification time can be anything (far future, before
    1970, beyond year 9999): what a datetime cannot hold is kept as the raw number."""
    try:
        moment = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc) if timestamp is not None else dt.datetime.now(dt.timezone.utc)
        return moment.isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"@{timestamp!r}"  # seconds since 1970, out of the calendar's range


BUSY_SECONDS = 60  # how long a write waits for another collect's transaction
_MANY: dict[tuple[str, int, int], str] = {}  # multi-row INSERT statements by (table, width, rows)


DIED = "处理该文件时工作进程"  # how isolate.Died.message begins: the file was not processed


class Store:
    """Several collects may run on one database at once (two clerks, a cron job):
    each submission's version is assigned and inserted inside one ``BEGIN IMMEDIATE``
    transaction (the write lock is taken before the version is counted), so
    versions stay unique and in order; a busy database is waited for, not an error."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below)
        self.conn = sqlite3.connect(database_uri(self.path, "rwc"), uri=True, timeout=BUSY_SECONDS, isolation_level=None)
        self.conn.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        self._wal()
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def _wal(self) -> None:
        """WAL mode (readers never wait for a writer). Switching to it does not wait
        for the busy timeout: a second collect starting on a new database got
        "database is locked" at once (3 runs in 6), so it is retried here."""
        import time

        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def known(self, sha256: str) -> bool:
        """Stored already (a file whose worker died on it was not processed: it is read again)."""
        return self.conn.execute("SELECT 1 FROM submissions WHERE sha256 = ? AND NOT (readable = 0 AND error LIKE ?)",
                                 (sha256, DIED + "%")).fetchone() is not None

    def seen(self, files: list[tuple[str | Path, str]]) -> None:
        """Record that files (path, sha256) were received; their content is stored once, under its hash."""
        self._transaction(lambda: self._seen(files))

    def _transaction(self, work):
        """``work()`` in one write transaction: the write lock first (no other collect
        counts versions meanwhile), then all of it or, if anything fails or the run is
        interrupted, none of it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            result = work()
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return result

    def _seen(self, files: list[tuple[str | Path, str]]) -> None:
        now = _iso()
        self.conn.executemany("INSERT OR IGNORE INTO received_files VALUES (?,?,?,?)", [(sha, Path(p).name, str(p), now) for p, sha in files])

    def add(self, sub: Submission) -> tuple[int, bool]:
        """Store a submission in one transaction; (id, True) if new, (id, False) if already there."""
        return self._transaction(lambda: self._add(sub))

    def add_many(self, subs: list[Submission]) -> list[tuple[int, bool]]:
        """Store several submissions in one transaction (``collect`` stores what its
        workers finished since the last one): all of them or none; versions assigned
        inside it, in the order given."""
        return self._transaction(lambda: [self._add(sub) for sub in subs]) if subs else []

    def _add(self, sub: Submission) -> tuple[int, bool]:
        row = self.conn.execute("SELECT id, readable = 0 AND error LIKE ? FROM submissions WHERE sha256 = ?",
                                (DIED + "%", sub.sha256)).fetchone()
        if row and row[1] and not (not sub.readable and (sub.error or "").startswith(DIED)):
            # its worker died on this file last time (killed from outside, out of memory):
            # that row said "未处理"; this is the file's first real result
            self.conn.execute("DELETE FROM submissions WHERE id = ?", (row[0],))
        elif row:
            self._seen([(sub.path, sub.sha256)])  # inside add's transaction
            return row[0], False
        version = 1
        if sub.department:
            version += self.conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM submissions WHERE department = ? AND year IS ?", (sub.department, sub.year)
            ).fetchone()[0]
        cur = self.conn.execute(
            """INSERT INTO submissions (sha256, file_name, file_path, size, file_mtime, received_at, readable, error,
               department, unit_code, year, unit, spec_id, status, errors, warnings, infos, total, version)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (sub.sha256, sub.file_name, sub.path, sub.size, _iso(sub.mtime), _iso(), int(sub.readable), sub.error,
             sub.department, sub.unit_code, sub.year, sub.unit, sub.spec_id, sub.status, sub.errors, sub.warnings,
             sub.infos, sub.total, version),
        )
        sid = cur.lastrowid
        self._rows("line_items", 12, sid, sub.items)
        self._rows("findings", 9, sid, sub.findings)
        self._rows("statements", 7, sid, sub.statements)
        self.conn.execute("INSERT OR IGNORE INTO received_files VALUES (?,?,?,?)", (sub.sha256, sub.file_name, sub.path, _iso()))
        return sid, True

    ROWS_PER_STATEMENT = 64

    def _rows(self, table: str, width: int, sid: int, rows: list[tuple]) -> None:
        """Insert ``(sid, *row)`` for each row, up to 64 rows per INSERT statement (about a
        quarter less CPU than one statement per row; bench_collect's main process). A row of
        the wrong width goes through the one-row statement, which refuses it."""
        one = f"INSERT INTO {table} VALUES ({','.join('?' * width)})"
        step, n = self.ROWS_PER_STATEMENT, width - 1
        for i in range(0, len(rows), step):
            part = rows[i : i + step]
            if set(map(len, part)) != {n}:
                self.conn.executemany(one, [(sid, *r) for r in part])  # raises for the malformed row
                continue
            key = (table, width, len(part))
            sql = _MANY.get(key)
            if sql is None:  # the id is ?1 in every row, the rows' values follow in order: no list of (id, *row) to build
                values = ("(?1," + ",".join(f"?{2 + j * n + k}" for k in range(n)) + ")" for j in range(len(part)))
                sql = _MANY[key] = f"INSERT INTO {table} VALUES " + ",".join(values)
            self.conn.execute(sql, [sid, *chain.from_iterable(part)])

    def counts(self) -> dict[str, int]:
        tables = ("submissions", "line_items", "findings")
        return {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def tidy(db: str | Path) -> None:
    """Leave the database as one file, readable anywhere: a database in WAL mode
    keeps its ``-wal`` and ``-shm`` files beside it until a connection that may
    write closes last (the status, comparison and feedback readers open it
    read-only), and cannot be read at all from a read-only folder (SQLite must
    create the ``-shm`` file to read it). So a command ends by switching it back
    to a rollback journal, which the next writer switches to WAL again. It never
    creates the database, never waits, and does nothing while another
    program still has it open (the switch needs it alone)."""
    try:
        conn = sqlite3.connect(database_uri(db, "rw"), uri=True, timeout=0)
    except (sqlite3.Error, OSError, ValueError):
        return
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.Error:
        pass  # in use: its last writer tidies it
    finally:
        conn.close()
