"""One submission: everything the bureau keeps about one workbook file.

``process_file`` is a pure function of the file (no database, no shared
state), so it runs the same in a local process pool or on a Dask cluster.
Amounts travel as decimal strings: exact, and picklable anywhere.
"""

from __future__ import annotations

from pathlib import Path

from ..model import Severity
from ..money import plain
from ..records import dataclass, field
from ..spec import Spec
from .archive import ArchiveFailed, file_hash, hash_and_keep  # file_hash: also collect's and the web's

READ_ERROR = "无法读取"


@dataclass
class Submission:
    path: str
    file_name: str
    sha256: str
    size: int
    mtime: float
    readable: bool = True
    error: str = ""
    department: str = ""
    unit_code: str = ""
    year: int | None = None
    unit: str = ""
    spec_id: str = ""
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    total: str | None = None  # 收支总计 (表1 收入总计), in the workbook's unit
    # (table, row, kind, code, label, name, project, side, column, amount, ref)
    items: list[tuple] = field(default_factory=list)
    # (code, severity, title, message, refs, expected, actual, difference)
    findings: list[tuple] = field(default_factory=list)
    # (kind, category, code, name, amount, cell): the figures the bureau compares (compare.statement_rows)
    statements: list[tuple] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    archived: bool = False  # its bytes are already in the database's archive (archive.hash_and_keep)

    @property
    def status(self) -> str:
        if not self.readable:
            return READ_ERROR
        if self.errors:
            return "有错误"
        return "有警告" if self.warnings else "通过"


def _text(value) -> str | None:
    return None if value is None else (plain(value) if not isinstance(value, str) else value)


def died(path: Path, death) -> Submission:
    """The row for a file whose worker process died on it (``isolate.Died``)."""
    path = Path(path)
    try:
        stat, digest = path.stat(), file_hash(path)
    except OSError:
        return Submission(str(path), path.name, "", 0, 0.0, False, death.message)
    return Submission(str(path), path.name, digest, stat.st_size, stat.st_mtime, False, death.message)


def process_file(path: str | Path, spec: Spec, archive_db: str | Path | None = None) -> Submission:
    """Read, check and flatten one workbook (through the pipeline). Never raises for a bad file.

    With ``archive_db`` the file's bytes are also kept in that database's archive
    (``archive.hash_and_keep``: the same read that hashes them), and the result says
    so (``archived``); without it the caller keeps them."""
    import time

    from .. import pipeline
    from ..grid import WorkbookError
    from ..io_atomic import environment_message
    from ..paths import other_format

    path = Path(path)
    t0 = time.perf_counter()
    try:
        stat = path.stat()
        if archive_db is None:
            digest = file_hash(path)
        else:
            try:
                digest = hash_and_keep(path, archive_db)
            except ArchiveFailed as exc:  # the archive folder, not the workbook: a row, never a stop
                return Submission(str(path), path.name, "", 0, 0.0, False, exc.message)
        sub = Submission(str(path), path.name, digest, stat.st_size, stat.st_mtime, archived=archive_db is not None)
    except OSError as exc:  # gone or changed since it was screened
        return Submission(str(path), path.name, "", 0, 0.0, False, environment_message(exc, path, reading=True))
    refusal = other_format(path)
    if refusal:
        sub.readable, sub.error = False, refusal
        return sub
    try:
        reading = pipeline.read(path, spec)
    except WorkbookError as exc:
        sub.readable, sub.error = False, exc.message
        return sub
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a reader crash (even a Rust panic) on a hostile file is still an answer
        sub.readable, sub.error = False, f"无法读取工作簿（{type(exc).__name__}）。请重新保存为 .xlsx 后报送。"
        return sub
    try:
        return _flatten(sub, reading, spec, t0)
    except Exception as exc:  # a bug of ours on one file must not stop the intake
        sub.readable, sub.error = False, f"处理时出错（{type(exc).__name__}），请把该文件发给维护人员。"
        sub.items, sub.findings, sub.statements = [], [], []
        return sub


def _flatten(sub: Submission, reading, spec, t0: float) -> Submission:
    import time

    from .. import pipeline

    t1 = time.perf_counter()
    report = pipeline.check(reading, spec)
    t2 = time.perf_counter()
    d = reading.disclosure
    sub.department, sub.year, sub.unit, sub.spec_id = d.department, d.year, d.unit, d.spec_id
    sub.unit_code = d.info.text("单位编码")
    sub.errors, sub.warnings, sub.infos = (report.count(s) for s in Severity)
    t1_table = d.tables.get("T1")
    income = t1_table.total_row("收入") if t1_table else None
    sub.total = _text(income.value("预算数")) if income else None
    items = sub.items
    cells: dict[tuple[str, int], str] = {}  # (sheet, column) -> "'sheet'!B": str(CellRef) without its row
    for key, table in d.tables.items():
        for row in table.rows:
            head = (key, row.row, row.kind, row.code, row.label, row.name, row.project, row.side)
            for column, a in row.values.items():
                value = a.value
                if value is None:
                    continue
                ref = a.ref
                where = cells.get((ref.sheet, ref.col))
                if where is None:
                    where = cells[ref.sheet, ref.col] = str(ref)[: -len(str(ref.row))]
                items.append((*head, column, format(value, "f"), f"{where}{ref.row}"))  # format(…, "f"): money.plain
    for f in report.findings:
        sub.findings.append((
            f.code, f.severity.value, f.title, f.message, "；".join(map(str, f.refs)),
            _text(f.expected) if f.expected is not None else None, _text(f.actual) if f.actual is not None else None,
            _text(f.difference),
        ))
    from .compare import statement_rows

    sub.statements = statement_rows(d, spec)
    sub.seconds = {"read": t1 - t0, "check": t2 - t1, "flatten": time.perf_counter() - t2}
    return sub

