"""Atomic output: a file appears under its final name complete, or not at all."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


PART = ".part"
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name lets a later run tell abandoned parts from live ones
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.{os.getpid()}.", suffix=f"{PART}{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_save(workbook, path: Path) -> Path:
    """Save an openpyxl workbook atomically."""
    with atomic_path(Path(path)) as tmp:
        workbook.save(tmp)
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
    return True


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
