"""The bureau's copies of the workbooks it received, next to the database.

The database keeps where each file was (``file_path``), but an inbox gets
cleaned. Feedback to a department must annotate the very file it sent, so at
intake each file is copied, byte for byte, into a content-addressed folder
beside the database: ``<数据库>.files/ab/abcdef….xlsx`` (the SHA-256 the
database stores). A copy is written once, atomically, and checked against its
hash; it is never changed or deleted by budgetxl.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..io_atomic import atomic_path
from .intake import file_hash


def folder(db: str | Path) -> Path:
    db = Path(db)
    return db.with_name(db.name + ".files")


def _copy_path(db: str | Path, sha256: str, suffix: str) -> Path:
    return folder(db) / sha256[:2] / f"{sha256}{suffix.lower() or '.xlsx'}"


def keep(db: str | Path, path: str | Path, sha256: str) -> Path | None:
    """Copy ``path`` into the archive unless a copy is there; None when the file
    changed since it was hashed (the next intake stores it as a new version)."""
    path = Path(path)
    target = _copy_path(db, sha256, path.suffix)
    if target.exists():
        return target
    try:
        with atomic_path(target) as tmp:
            shutil.copyfile(path, tmp)
            if file_hash(tmp) != sha256:
                raise ValueError("changed")
    except (OSError, ValueError):
        return None
    return target


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
