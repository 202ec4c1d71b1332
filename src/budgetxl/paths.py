"""File names: what budgetxl names the files it writes, and which files of a
folder it takes as workbooks. Department names are typed by people: a name made
from one never escapes its folder and is never empty."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


_UNSAFE = r'[\x00-\x1f\x7f/\\:*?"<>|]'  # compiled on first use (re caches it): check names no file

# File systems bound a name in bytes (ext4, XFS: 255; eCryptfs ~143): 60 Chinese
# characters are 180 bytes in UTF-8. Names budgetxl makes stay under NAME_BYTES,
# leaving room for an extension and the temporary-name decoration of io_atomic.
NAME_BYTES = 180

from .io_atomic import fit_bytes  # noqa: E402  (re-exported: the batch names its parts with it)


def safe_name(text: str, limit: int = NAME_BYTES) -> str:
    """A file name from text a department typed: no separators, NUL, control
    characters, bidi overrides or other invisible format characters, leading
    dots or '..'; never empty; at most ``limit`` bytes in UTF-8."""
    from .writable import name_text

    name = re.sub(_UNSAFE, "_", name_text(text or ""))
    name = name.replace("..", "_").strip().lstrip(".").strip()
    if not re.search(r"[^\W_]", name):  # nothing but punctuation left
        return "未命名单位"
    return fit_bytes(name, limit).strip()


def output_stem(department: str, year: int | None) -> str:
    """``2026年<单位>部门预算公开``; a very long department name is shortened, the
    year and the suffix are kept."""
    head, tail = f"{year or ''}年", "部门预算公开"
    room = NAME_BYTES - len((head + tail).encode("utf-8"))
    name = safe_name(department or "", room)
    return f"{head}{name}{tail}"


def _natural(path: Path) -> tuple:
    """单位2 before 单位10: numbers in names compared as numbers."""
    import re

    return tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.split(r"(\d+)", str(path)) if x)


def find_workbooks(paths: Iterable[str | Path], others: bool = True) -> list[Path]:
    """The workbooks named, and those in the folders named (recursively, no
    Excel lock files or hidden files), each once. With ``others``, a folder's
    spreadsheets in formats budgetxl does not read (.ods, .xlsb, .et, .csv …) are
    listed too, so that each becomes a row “请另存为 .xlsx” instead of vanishing.
    Files named explicitly are always listed, whatever they are (``screen`` says
    what is wrong with them)."""
    found: list[Path] = []
    wanted = set(WORKBOOK_SUFFIXES) | (set(OTHER_SUFFIXES) if others else set())
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(
                (x for x in p.rglob("*")
                 if x.suffix.lower() in wanted and not x.name.startswith(("~$", ".")) and not x.is_dir()),
                key=_natural,
            )
        else:
            found.append(p)
    seen, unique = set(), []
    for p in found:
        try:
            key = p.resolve()
        except (OSError, RuntimeError):  # a symbolic-link loop
            key = p.absolute()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


# Spreadsheet formats a department may send that budgetxl does not read: found in
# an inbox they are a row "无法读取: 请另存为 .xlsx", never silently skipped.
OTHER_SUFFIXES = {
    ".ods": "OpenDocument 表格（.ods）",
    ".xlsb": "Excel 二进制工作簿（.xlsb）",
    ".et": "WPS 表格（.et）",
    ".ett": "WPS 表格模板（.ett）",
    ".csv": "CSV 文本（.csv）",
    ".numbers": "Numbers 表格（.numbers）",
    ".xltx": "Excel 模板（.xltx）",
    ".xltm": "Excel 模板（.xltm）",
    ".fods": "OpenDocument 表格（.fods）",
}


def other_format(path: Path) -> str | None:
    """The refusal for a spreadsheet format budgetxl does not read, by extension."""
    kind = OTHER_SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        return None
    return f"无法读取：这是 {kind}，不是 .xlsx 工作簿。请在 Excel 或 WPS 中打开，另存为 .xlsx 后重新报送。"


def screen(path: Path) -> str | None:
    """Why a path named as an input cannot be read as a file, or None.

    Checks the file type with ``os.stat`` before anything opens it: a named pipe
    (which a shell glob may pass) would block a reader forever; a device, a
    folder, a symbolic-link loop or a file without read permission are refused
    with a message naming that cause."""
    import errno
    import os
    import stat as st

    from .io_atomic import environment_message

    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return f"{path} 是指向不存在文件的符号链接。"
        return environment_message(exc, path, reading=True)
    except (OverflowError, ValueError) as exc:
        return f"无法读取 {path}：{exc}。"
    mode = info.st_mode
    if st.S_ISDIR(mode):
        return f"{path} 是文件夹，不是工作簿。"
    if not st.S_ISREG(mode):
        kind = "命名管道（FIFO）" if st.S_ISFIFO(mode) else "设备文件" if (st.S_ISCHR(mode) or st.S_ISBLK(mode)) else "套接字" if st.S_ISSOCK(mode) else "特殊文件"
        return f"{path} 是{kind}，不是普通文件，未读取。请只指定工作簿文件。"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        os.close(fd)
    except OSError as exc:
        return environment_message(exc, path, reading=True)
    return None


def _key(p: Path) -> Path:
    try:
        return Path(p).resolve()
    except (OSError, RuntimeError):
        return Path(p).absolute()


def _inside(p: Path, folder: Path) -> bool:
    return _key(folder) in _key(p).parents


SQLITE_MAGIC = b"SQLite format 3\x00"


def path_problems(
    inputs: list[Path] = (),
    outputs: list[Path] = (),
    batch: list[str | Path] = (),
    db: Path | None = None,
    db_must_exist: bool = False,
    out_dir: Path | None = None,
    in_place: bool = False,
    folders: list[Path] = (),
    offers_in_place: bool = True,
) -> str | None:
    """The first problem with the path arguments of a command, in Chinese, or None.

    Inputs must be readable regular files; an output must not be a folder, an
    input, the database or anything inside an input folder (an inbox); the
    database must be a SQLite file (or not exist yet); an output folder must
    not be a file. Files of a batch (``batch``) are not refused here: each
    becomes a row of the batch's result."""
    import os

    for p in inputs:
        problem = screen(Path(p))
        if problem:
            return problem
    for p in folders:
        if not Path(p).is_dir():
            return f"{p} 不是文件夹。"
    batch_paths = [Path(b) for b in batch]
    inbox_dirs = [b for b in batch_paths if b.is_dir()]
    protected = {_key(Path(p)): f"输入文件 {p}" for p in [*inputs, *(b for b in batch_paths if not b.is_dir())]}
    if db is not None:
        db = Path(db)
        if db.is_dir():
            return f"--db {db} 是文件夹。请指定数据库文件，如 财政局.sqlite。"
        if db.exists() or db.is_symlink():
            problem = screen(db)
            if problem:
                return problem
            try:
                with open(db, "rb") as fh:
                    head = fh.read(16)
            except OSError as exc:
                from .io_atomic import environment_message

                return environment_message(exc, db, reading=True)
            if head and head != SQLITE_MAGIC:
                return f"--db {db} 不是 budgetxl 数据库（SQLite 文件），未使用，以免覆盖它。请指定数据库文件。"
        elif db_must_exist:
            return f"数据库 {db} 不存在。请先运行 budgetxl collect。"
        protected[_key(db)] = f"数据库 {db}"
    for p in outputs:
        p = Path(p)
        if p.is_dir():
            return f"输出 {p} 是一个文件夹。请指定文件名（如 {p / '结果.xlsx'}）。"
        what = protected.get(_key(p))
        if what and not in_place:
            tail = "（如确需修改原文件，请使用 --in-place）" if what.startswith("输入") and offers_in_place else ""
            return f"输出文件 {p} 就是{what}，不能覆盖它。请另选输出文件名{tail}。"
        for d in inbox_dirs:
            if _inside(p, d) or _key(p) == _key(d):
                return f"输出文件 {p} 在收件目录 {d} 中，不会写入收件目录（以免覆盖或混入报送文件）。请另选位置。"
        parent = p.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return f"输出文件 {p} 的上级 {parent} 不是文件夹。"
        if not os.access(parent, os.W_OK):
            return f"没有写入 {parent} 的权限（文件夹只读）。请换一个输出位置。"
        if p.exists() and not os.access(p, os.W_OK) and not os.access(p.parent, os.W_OK):
            return f"没有写入 {p} 的权限。"
    if out_dir is not None:
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            return f"输出目录 {out_dir} 是一个文件，不是文件夹。请指定文件夹。"
        parent = out_dir
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return f"输出目录 {out_dir} 的上级 {parent} 不是文件夹。"
        if not os.access(parent, os.W_OK):
            return f"没有写入 {parent} 的权限（文件夹只读）。请换一个输出目录。"
    return None


def database_uri(db: str | Path, mode: str) -> str:
    """The SQLite URI of a database file, opened in ``mode`` (``ro``: never created
    or changed; ``rw``: never created; ``rwc``: created if missing). Any path names
    its own file: spaces, ``#``, ``?`` and ``%`` are escaped (``f"file:{path}?mode=ro"``
    opened ``a `` for ``a #1/b.db``, creating it), and a name that starts with
    ``file:`` is a file name, not a URI (``sqlite3.connect("file:a.db")`` opened ``a.db``)."""
    return f"{Path(db).resolve().as_uri()}?mode={mode}"
