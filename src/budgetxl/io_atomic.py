"""Atomic output: a file appears under its final name complete, or not at all.

Writing through a symbolic link replaces the file the link points to (the link
stays); replacing an existing file keeps its permission bits. A failure of the
environment (disk full, no permission, read-only disk, a folder where a file
should be) is raised as :class:`OutputFailed` with a Chinese message naming
the cause; the temporary file is removed.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PART = ".part"
_UMASK = os.umask(0)
os.umask(_UMASK)


def fit_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` of at most ``limit`` bytes in UTF-8 (never half a character)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


class OutputFailed(Exception):
    """The environment refused a write (or a read): the message says why, in Chinese."""

    def __init__(self, message: str, path: Path | str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message


def environment_message(exc: OSError, path: Path | str | None = None, reading: bool = False) -> str:
    """What an OSError means for the user, in Chinese, naming the path and the cause."""
    where = str(path if path is not None else (exc.filename or ""))
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        if not where:  # the standard output (check > file): no file of ours to delete
            return "磁盘空间不足，无法写入输出。请清理磁盘或把输出重定向到其他位置后重试。"
        return f"磁盘空间不足，无法写入 {where}（未完成的文件已删除）。请清理磁盘或换一个输出目录后重试。"
    if code in (errno.EACCES, errno.EPERM):
        if reading:
            return f"没有读取 {where} 的权限。请检查文件权限（或请文件的所有者开放读取）后重试。"
        return f"没有写入 {where} 的权限（文件夹只读，或文件正在 Excel/WPS 中打开）。请换一个输出位置或关闭文件后重试。"
    if code == errno.EROFS:
        return f"{where} 所在的磁盘是只读的，无法写入。请换一个输出位置。"
    if code == errno.EISDIR:
        return f"{where} 是一个文件夹，不是文件。请指定文件名。"
    if code == errno.ENOTDIR:
        return f"{where} 的路径中有一部分不是文件夹。请检查路径。"
    if code == errno.ENAMETOOLONG:
        return f"文件名太长，文件系统不接受：{where[:80]}…。请用短一些的文件名或目录。"
    if code == errno.ELOOP:
        return f"{where} 是循环的符号链接，无法{'读取' if reading else '写入'}。"
    if code == errno.ENOENT:
        return f"文件不存在：{where}。请检查路径。" if reading else f"无法写入 {where}：所在文件夹不存在。"
    return f"无法{'读取' if reading else '写入'} {where}：{exc.strerror or exc}。"


def write_target(path: Path) -> Path:
    """The file a write to ``path`` really replaces: the target of a symbolic link."""
    path = Path(path)
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success."""
    path = write_target(Path(path))
    if path.is_dir():
        raise OutputFailed(environment_message(OSError(errno.EISDIR, "is a directory"), path), path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)  # replacing a file keeps its permissions
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK  # mkstemp makes 0600; new outputs are ordinary files
        import tempfile  # here, not at the top: `check` imports this module and writes nothing

        # the pid in the name lets a later run tell abandoned parts from live ones
        fd, tmp = tempfile.mkstemp(prefix=f".{fit_bytes(path.stem, 60)}.{os.getpid()}.", suffix=f"{PART}{path.suffix[:16]}", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputFailed(environment_message(exc, path if exc.errno != errno.ENOENT else path.parent), path) from exc
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT:
            raise OutputFailed(environment_message(exc, path), path) from exc
        raise


# errors of the environment, not of the data being written
_ENVIRONMENT = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG, errno.EIO, errno.ENOENT}


def atomic_save(workbook, path: Path) -> Path:
    """Save an openpyxl workbook (or a python-docx document) atomically.

    The package is built in memory first: a zip writer that fails half-way on a
    full disk would otherwise complain again when it is garbage-collected."""
    import io

    buffer = io.BytesIO()
    workbook.save(buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)


def atomic_write_text(path: Path, text: str) -> Path:
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process stays a zombie until it is reaped: it writes nothing any more
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def remove_abandoned_parts(folder: Path) -> list[Path]:
    """Delete temporary files left by a run that was killed (its pid is gone)."""
    removed = []
    for p in Path(folder).glob(f".*{PART}*"):
        pieces = p.name.split(".")
        pid = next((int(x) for x in pieces if x.isdigit()), None)
        if pid is not None and not _alive(pid):
            try:
                if p.is_dir():
                    import shutil

                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed
