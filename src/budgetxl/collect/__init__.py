"""Finance-bureau intake: collect every department's workbook into one database.

The per-workbook work (``intake.process_file``) is a pure function of the
file; it runs in local worker processes or, with ``scheduler``, on a Dask
distributed cluster. Only this process writes to the database, one
transaction per submission.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from ..spec import Spec
from . import archive
from .intake import Submission, file_hash, process_file

if TYPE_CHECKING:
    from .store import Store


@dataclass
class CollectRun:
    new: list[Submission] = field(default_factory=list)
    known: list[Path] = field(default_factory=list)  # already in the database: nothing to do
    seconds: dict[str, float] = field(default_factory=dict)


def _results(paths: list[Path], spec: Spec, workers: int, scheduler: str | None) -> Iterable[Submission]:
    """Results in the order of ``paths`` (oldest file first), so that versions
    are numbered in the order departments sent them, whatever finishes first."""
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:
            for future in client.map(process_file, [str(p) for p in paths], spec=spec, pure=False):
                yield future.result()
    elif workers <= 1:
        for p in paths:
            yield process_file(p, spec)
    else:
        from concurrent.futures import ProcessPoolExecutor  # not imported by commands that never run a pool

        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(process_file, paths, [spec] * len(paths), chunksize=4)


def collect(
    paths: list[Path],
    db: str | Path,
    spec: Spec,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int, Submission | Path], None] | None = None,
) -> CollectRun:
    from .store import Store  # sqlite3: only when collecting

    run = CollectRun()
    t0 = time.perf_counter()
    with Store(db) as store:
        todo, seen = [], []
        for p in sorted(paths, key=lambda p: (p.stat().st_mtime, str(p))):
            sha = file_hash(p)
            if store.known(sha):
                seen.append((p, sha))
                run.known.append(p)
            else:
                todo.append(p)
        store.seen(seen)
        run.seconds["hash"] = time.perf_counter() - t0
        done = len(run.known)
        store_seconds = 0.0
        for sub in _results(todo, spec, workers, scheduler):
            t = time.perf_counter()
            archive.keep(db, sub.path, sub.sha256)  # before the row: a stored submission always has its bytes
            _, new = store.add(sub)
            store_seconds += time.perf_counter() - t
            if new:
                run.new.append(sub)
            else:
                run.known.append(Path(sub.path))  # the same content twice in one inbox
            done += 1
            if progress:
                progress(done, len(paths), sub)
        run.seconds["store"] = store_seconds
    run.seconds["total"] = time.perf_counter() - t0
    return run
