"""The bureau's copies of the workbooks it received, next to the database.

The database keeps where each file was (``file_path``), but an inbox gets
cleaned. Feedback to a department must annotate the very file it sent, so at
intake each file is copied, byte for byte, into a content-addressed folder
beside the database: ``<数据库>.files/ab/abcdef….xlsx`` (the SHA-256 the
database stores). A copy is written once, atomically, and checked against its
hash; it is never changed or deleted by budgetxl.

In ``collect`` each worker makes the copy while it hashes the file
(``hash_and_keep``): one read of the file, and the copy is by construction
the very bytes the hash names.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..io_atomic import PART, atomic_path


def file_hash(path: Path) -> str:
    """The SHA-256 of a file (hex), read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ArchiveFailed(Exception):
    """The archive folder could not be written (the environment, not the workbook)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def folder(db: str | Path) -> Path:
    db = Path(db)
    return db.with_name(db.name + ".files")


def _copy_path(db: str | Path, sha256: str, suffix: str) -> Path:
    return folder(db) / sha256[:2] / f"{sha256}{suffix.lower() or '.xlsx'}"


def keep(db: str | Path, path: str | Path, sha256: str) -> Path | None:
    """Copy ``path`` into the archive unless a copy is there; None when the file
    changed (or went away) since it was hashed (the next intake stores it as a new
    version). :class:`ArchiveFailed` when the archive cannot be written."""
    from ..io_atomic import OutputFailed

    path = Path(path)
    target = _copy_path(db, sha256, path.suffix)
    if target.exists():
        return target
    try:
        with atomic_path(target) as tmp:
            shutil.copyfile(path, tmp)
            if file_hash(tmp) != sha256:
                raise ValueError("changed")
    except OutputFailed as exc:  # the archive cannot be written: the environment, not the file
        raise ArchiveFailed(exc.message) from exc
    except (OSError, ValueError):
        return None
    return target


def hash_and_keep(path: str | Path, db: str | Path) -> str:
    """The SHA-256 of ``path``, and its bytes kept in the archive of ``db`` (unless a copy
    is there), in one read. An OSError is the source's (reading it); a failed write
    of the copy is :class:`ArchiveFailed`. The copy is written under a temporary
    name, synced and renamed: it is whole under its final name or not there."""
    from ..io_atomic import _UMASK, environment_message

    path, base = Path(path), folder(db)
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".incoming.{os.getpid()}.", suffix=PART, dir=base)
    except OSError as exc:
        raise ArchiveFailed(_write_message(exc, base)) from exc
    h = hashlib.sha256()
    try:
        try:
            with open(path, "rb", buffering=0) as src:
                while chunk := src.read(1 << 20):
                    h.update(chunk)
                    try:
                        view = memoryview(chunk)
                        while view:
                            view = view[os.write(fd, view):]
                    except OSError as exc:
                        raise ArchiveFailed(environment_message(exc, base)) from exc
            try:
                os.fsync(fd)
            except OSError as exc:
                raise ArchiveFailed(environment_message(exc, base)) from exc
        finally:
            os.close(fd)
        digest = h.hexdigest()
        target = _copy_path(db, digest, path.suffix)
        if not target.exists():
            try:
                target.parent.mkdir(exist_ok=True)
                os.chmod(tmp, 0o666 & ~_UMASK)  # an ordinary file, as atomic_path makes
                os.replace(tmp, target)  # the same bytes if another collect put them there meanwhile
            except OSError as exc:
                raise ArchiveFailed(_write_message(exc, target)) from exc
        return digest
    finally:
        Path(tmp).unlink(missing_ok=True)


def _write_message(exc: OSError, where: Path) -> str:
    from ..io_atomic import environment_message

    if isinstance(exc, FileExistsError):  # a file where the archive's folder belongs
        exc = NotADirectoryError(errno.ENOTDIR, "not a directory")
    return environment_message(exc, where)


def find(db: str | Path, sha256: str, original: str | Path | None = None) -> Path | None:
    """The stored bytes of a submission: the archived copy, else the original
    file if it is still there unchanged (databases made before copies were kept)."""
    base = folder(db) / sha256[:2]
    if base.is_dir():
        for p in base.glob(f"{sha256}.*"):
            if not p.name.endswith(".part" + p.suffix) and not p.name.startswith("."):
                return p
    if original and Path(original).is_file():
        try:
            if file_hash(Path(original)) == sha256:
                return Path(original)
        except OSError:
            return None
    return None
