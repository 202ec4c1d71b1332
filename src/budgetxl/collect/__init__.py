"""Finance-bureau intake: collect every department's workbook into one database.

The per-workbook work (``intake.process_file``) is a pure function of the
file; it runs in local worker processes (``budgetxl.isolate``: a file that
kills its worker — an abort in a native reader — costs only that file) or,
with ``scheduler``, on a Dask distributed cluster. A local worker also keeps
the file's bytes in the archive while it hashes them (one read of the file).
Only this process writes to the database: what the workers finished since
the last transaction is stored together in one transaction (at most
``CHUNK`` submissions, ``CHUNK_ROWS`` rows or ``CHUNK_SECONDS``), so a crash
never leaves half a submission and an interrupted run (Ctrl-C) keeps what
was finished. A content met twice in one batch is read once.

Before anything is read, every path is screened (``paths.screen``): a named
pipe, a device, a symbolic-link loop or a file without read permission is a
row of the result (``CollectRun.failed``), never a stop and never a hang.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from ..records import dataclass, field, replace
from ..spec import Spec
from . import archive
from .intake import Submission, file_hash, process_file

if TYPE_CHECKING:
    from .store import Store


@dataclass
class CollectRun:
    new: list[Submission] = field(default_factory=list)
    known: list[Path] = field(default_factory=list)  # already in the database: nothing to do
    failed: list[tuple[Path, str]] = field(default_factory=list)  # files that could not even be opened, and why
    seconds: dict[str, float] = field(default_factory=dict)


CHUNK = 64  # submissions stored in one transaction, at most
CHUNK_ROWS = 20_000  # nor more database rows than this held in memory (one huge workbook: stored at once)
CHUNK_SECONDS = 0.2  # nor held back longer than this once one is ready

# what a worker imports to read, check and flatten a workbook: imported once, here,
# before the workers are forked, instead of once in each worker
_WORKER_MODULES = ("budgetxl.pipeline", "budgetxl.rules", "budgetxl.rules.context", "budgetxl.guard",
                   "budgetxl._sheetscan", "budgetxl.collect.compare", "python_calamine")


def _warm() -> None:
    import importlib
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        return  # spawned workers import for themselves
    for name in _WORKER_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _results(paths: list[Path], spec: Spec, workers: int, scheduler: str | None, db: str | Path) -> Iterable[Submission]:
    """Results in the order of ``paths`` (oldest file first), so that versions
    are numbered in the order departments sent them, whatever finishes first."""
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:  # a cluster's workers may not see the archive: this process keeps the bytes
            for future in client.map(process_file, [str(p) for p in paths], spec=spec, pure=False):
                yield future.result()
        return
    from .. import isolate
    from .intake import died

    if not paths:
        return  # nothing new (a rerun over an inbox already collected): nothing to import
    _warm()
    waiting: dict[int, Submission] = {}
    next_index = 0
    for index, result in isolate.run(process_file, paths, (spec, str(db)), workers):
        waiting[index] = died(paths[index], result) if isinstance(result, isolate.Died) else result
        while next_index in waiting:
            yield waiting.pop(next_index)
            next_index += 1


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except (OSError, OverflowError, ValueError):
        return 0.0


def collect(
    paths: list[Path],
    db: str | Path,
    spec: Spec,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int, Submission | Path], None] | None = None,
) -> CollectRun:
    from ..paths import screen
    from .store import Store  # sqlite3: only when collecting

    run = CollectRun()
    t0 = time.perf_counter()
    with Store(db) as store:
        if archive.folder(db).is_dir():
            from ..io_atomic import remove_abandoned_parts

            remove_abandoned_parts(archive.folder(db))  # copies a killed worker did not finish
        todo, seen = [], []
        first: dict[str, Path] = {}  # content -> the file of this batch that is read for it
        twins: list[tuple[Path, str]] = []  # the same content again: read once, recorded when it is stored
        for p in sorted(paths, key=lambda p: (_mtime(p), str(p))):
            problem = screen(p)
            if problem is None:
                try:
                    digest = file_hash(p)
                except OSError as exc:
                    from ..io_atomic import environment_message

                    problem = environment_message(exc, p, reading=True)
            if problem is not None:
                run.failed.append((p, problem))
            elif store.known(digest):
                seen.append((p, digest))
                run.known.append(p)
            elif digest in first:
                twins.append((p, digest))
            else:
                first[digest] = p
                todo.append(p)
        store.seen(seen)
        run.seconds["hash"] = time.perf_counter() - t0
        # one line per file read, and one for each file of the same content (files
        # already received and files that cannot be read are listed after the run)
        total, done = len(todo) + len(twins), 0
        twins_of: dict[str, list[Path]] = {}
        for p, d in twins:
            twins_of.setdefault(d, []).append(p)
        store_seconds = 0.0
        pending: list[Submission] = []
        since, rows = 0.0, 0

        def flush() -> None:
            nonlocal done, store_seconds, rows
            chunk = pending[:]
            pending.clear()
            rows = 0
            if not chunk:
                return
            t = time.perf_counter()
            stored = store.add_many(chunk)
            store_seconds += time.perf_counter() - t
            for sub, (_, new) in zip(chunk, stored):
                if new:
                    run.new.append(sub)
                else:
                    run.known.append(Path(sub.path))  # the same content twice in one inbox
                done += 1
                if progress:
                    progress(done, total, sub)
                    for twin in twins_of.get(sub.sha256, ()):
                        done += 1
                        progress(done, total, replace(sub, path=str(twin), file_name=twin.name))

        try:
            for sub in _results(todo, spec, workers, scheduler, db):
                if not sub.sha256:  # vanished or became unreadable while the batch ran, or the archive cannot be written
                    run.failed.append((Path(sub.path), sub.error))
                    done += 1
                    if progress:
                        progress(done, total, sub)
                    continue
                if not sub.archived:  # a died worker's file, or a cluster's: its bytes are kept here
                    t = time.perf_counter()
                    try:  # before the row: a stored submission always has its bytes
                        kept = archive.keep(db, sub.path, sub.sha256)
                    except archive.ArchiveFailed as exc:  # the archive cannot be written: a row, not a stop
                        kept, problem = None, exc.message
                    else:
                        problem = f"{sub.path} 在读取期间被改动或移走，本次未保存；文件稳定后重新运行 collect 即可。"
                    store_seconds += time.perf_counter() - t
                    if kept is None:
                        run.failed.append((Path(sub.path), problem))
                        continue
                if not pending:
                    since = time.monotonic()
                pending.append(sub)
                rows += len(sub.items) + len(sub.findings) + len(sub.statements)
                if len(pending) >= CHUNK or rows >= CHUNK_ROWS or time.monotonic() - since >= CHUNK_SECONDS:
                    flush()
        finally:
            flush()  # what the workers finished is kept, also when the run is interrupted
        if twins:
            why = {str(p): message for p, message in run.failed}
            stored = [(p, d) for p, d in twins if store.known(d)]
            store.seen(stored)
            run.known.extend(p for p, _ in stored)
            run.failed.extend((p, why.get(str(first[d]), "")) for p, d in twins if (p, d) not in stored)
        run.seconds["store"] = store_seconds
    run.seconds["total"] = time.perf_counter() - t0
    return run
