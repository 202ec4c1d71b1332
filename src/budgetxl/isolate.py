"""Run one function over many files in worker processes, one file per task, so
that a file that kills its worker (an abort or segfault in a native reader, the
kernel's out-of-memory killer, a hang) costs only that file.

``concurrent.futures.ProcessPoolExecutor`` cannot do this: one dead worker
breaks the whole pool (``BrokenProcessPool``) and does not say which task did
it. Here the parent knows which item each worker holds; when a worker dies
the item is answered with :class:`Died` (naming the signal), a fresh worker
takes its place and the batch goes on. A worker that takes longer than
``timeout`` seconds on one item is killed the same way.

Fault-injection seam (tests only): when the environment variable
``BUDGETXL_TEST_ABORT`` is set, a worker calls ``os.abort()`` before handling
an item whose string form contains that text — the same death a native-code
abort causes. See docs/robustness.md.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import time
from multiprocessing.connection import wait
from typing import Any, Callable, Iterator, Sequence

from .records import dataclass

DEFAULT_TIMEOUT = 120.0  # seconds one file may take before its worker is killed


@dataclass(frozen=True)
class Died:
    """The worker handling this item died (or was killed after ``timeout``)."""

    item: Any
    how: str  # Chinese: "进程异常终止（SIGABRT）" …

    @property
    def message(self) -> str:
        return f"处理该文件时工作进程{self.how}，该文件未处理，其他文件不受影响。请把该文件发给维护人员。"


def _signal_name(code: int | None) -> str:
    if code is None:
        return "超时未完成，已被终止"
    if code < 0:
        try:
            return f"异常终止（{signal.Signals(-code).name}）"
        except ValueError:
            return f"异常终止（信号 {-code}）"
    return f"意外退出（退出码 {code}）"


GC_THRESHOLD = (10000, 10, 10)  # a worker's youngest generation is collected every 10,000 allocations, not 700


def watch_parent(parent: int) -> None:
    """End this worker process as soon as the process that started it is gone
    (stopped before its workers, or killed with SIGKILL), so no orphaned worker
    keeps running. A forked worker holds copies of its parent's pipe ends, so
    it would never see the end of its input by itself."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="budgetxl-watch-parent", daemon=True).start()


def _worker(conn, func: Callable, args: tuple, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    watch_parent(parent)
    # What the worker inherited (modules, the spec) lives as long as it does: the
    # collector no longer walks it, and a workbook's many short-lived objects are
    # collected less often (about 1.5 ms a workbook less in collect; bench_collect).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    fault = os.environ.get("BUDGETXL_TEST_ABORT")
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        index, item = msg
        if fault and fault in str(item):
            import faulthandler

            faulthandler.disable()  # a quiet death, like a native abort outside a test run
            os.abort()
        try:
            result = func(item, *args)
        except BaseException as exc:  # the function is expected never to raise; if it does, say so
            result = Died(item, f"出错（{type(exc).__name__}）")
        conn.send((index, result))


class _Slot:
    """One worker process and the items sent to it, oldest first. A worker handles
    its items in order, so when it dies the oldest unanswered item is the one that
    killed it; the others are given to another worker."""

    DEPTH = 2  # items queued per worker: it never waits for the parent between files

    def __init__(self, ctx, func, args):
        from collections import deque

        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, func, args, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.tasks: deque[tuple[int, Any]] = deque()
        self.started = 0.0  # when the oldest item began (about)

    def give(self, index: int, item: Any) -> None:
        if not self.tasks:
            self.started = time.monotonic()
        self.tasks.append((index, item))
        self.conn.send((index, item))

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.proc.kill()
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def run(
    func: Callable,
    items: Sequence[Any],
    args: tuple = (),
    workers: int = 1,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Iterator[tuple[int, Any]]:
    """Yield (index, func(item, *args) or Died) in the order they finish.
    ``func`` and ``args`` go to each worker once (fork); only items and results travel."""
    if not items:
        return
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    todo = list(enumerate(items))[::-1]  # popped from the end: first item first
    slots: list[_Slot] = []

    def feed(s: _Slot) -> None:
        while todo and len(s.tasks) < _Slot.DEPTH:
            s.give(*todo.pop())

    try:
        for _ in range(max(1, min(workers, len(items)))):
            slots.append(_Slot(ctx, func, args))
        for s in slots:
            feed(s)
        while any(s.tasks for s in slots):
            now = time.monotonic()
            waits = [s.started + timeout - now for s in slots if s.tasks] if timeout else []
            ready = wait([x for s in slots if s.tasks for x in (s.conn, s.proc.sentinel)], max(0.0, min(waits)) if waits else None)
            for i, s in enumerate(slots):
                if not s.tasks:
                    continue
                answered = False
                if s.conn in ready:
                    try:
                        index, result = s.conn.recv()
                        answered = True
                    except (EOFError, OSError):
                        pass
                if answered:
                    s.tasks.popleft()
                    s.started = time.monotonic()
                    feed(s)
                    yield index, result
                    continue
                overdue = timeout is not None and time.monotonic() - s.started > timeout
                if s.proc.sentinel in ready or s.conn in ready or overdue:
                    s.proc.join(0.5)
                    code = s.proc.exitcode if not s.proc.is_alive() else None  # None: killed for taking too long
                    s.stop(kill=True)
                    (index, item), rest = s.tasks[0], list(s.tasks)[1:]
                    todo.extend(reversed(rest))  # not started: the next worker takes them first
                    slots[i] = fresh = _Slot(ctx, func, args)
                    feed(fresh)
                    yield index, Died(item, _signal_name(code))
    finally:
        for s in slots:
            s.stop(kill=bool(s.tasks))
