"""A persistent LibreOffice for a whole batch of docx → PDF conversions.

LibreOffice's start-up costs more than laying out a document, and the one-shot
``soffice --convert-to`` does not update the 目录 (its page numbers stay
empty). ``Office`` starts LibreOffice once, through ``office_worker.py`` under
the system Python that has ``uno`` (Debian's ``python3-uno``), converts files
one after another, and stops it on ``close()``. Every process it starts is in
its own process group, which ``close()`` ends if LibreOffice does not exit.

When no Python with ``uno`` is installed, or the office cannot be started,
``Office.start()`` returns False and the caller uses ``pdf.convert`` (one
``soffice --convert-to`` per chunk of files) instead.
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import signal
import subprocess
import threading
import weakref
from functools import lru_cache
from pathlib import Path

from .pdf import office_env, soffice

WORKER = Path(__file__).with_name("office_worker.py")
UNO_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")


@lru_cache(maxsize=1)
def uno_python() -> str | None:
    """A Python that can ``import uno`` (BUDGETXL_UNO_PYTHON overrides; "" disables)."""
    override = os.environ.get("BUDGETXL_UNO_PYTHON")
    candidates = (override,) if override is not None else UNO_PYTHONS
    for exe in candidates:
        if exe and Path(exe).exists():
            ok = subprocess.run([exe, "-c", "import uno"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            if ok.returncode == 0:
                return exe
    return None


_COUNTER = iter(range(1 << 30))
_COUNTER_LOCK = threading.Lock()
_LAUNCHED: "weakref.WeakSet[Office]" = weakref.WeakSet()


def _release_in_child() -> None:
    """A process forked from this one (a batch's worker process) gets copies of
    the pipes to the offices; kept open there, they would hide the end of
    input by which ``close`` tells an office to stop. In the child they are
    pointed at /dev/null (not closed: the copied file objects own the numbers)."""
    fds = []
    for office in list(_LAUNCHED):
        proc = office.proc
        for f in (proc.stdin, proc.stdout) if proc is not None else ():
            if f is not None and not f.closed:
                fds.append(f.fileno())
    if not fds:
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in fds:
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_release_in_child)


def seed_profile() -> Path | None:
    """Where a LibreOffice profile that has been started once is kept, as the
    starting point of every office's own profile: with a new, empty profile
    LibreOffice initialises it and restarts itself (about 0.15 CPU-s more
    per office). In budgetxl's cache folder (as the spec cache:
    ``~/.cache/budgetxl``, ``$BUDGETXL_CACHE``, ``BUDGETXL_CACHE=off`` for
    none), one per LibreOffice installation."""
    from ..cache import cache_folder

    folder = cache_folder()
    if folder is None:
        return None
    try:
        program = os.stat(os.path.realpath(soffice()))
    except (OSError, RuntimeError):
        return None
    return folder / f"office-profile-{program.st_size}-{int(program.st_mtime)}"


def _usable_seed(seed: Path | None) -> bool:
    """A seed is used only when this user made it and no one else can write it
    (a profile can carry macros and extensions)."""
    try:
        st = seed.stat() if seed is not None else None
    except OSError:
        return False
    return st is not None and st.st_uid == os.getuid() and not st.st_mode & 0o022


class Office:
    def __init__(self, profile: Path, start_timeout: float = 90):
        self.profile = Path(profile)
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.seeded = False  # the profile began as a copy of seed_profile()

    def __enter__(self) -> "Office":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> bool:
        return self.launch() and self.wait_ready()

    def launch(self) -> bool:
        """Start LibreOffice and return at once (``wait_ready`` waits for it)."""
        python = uno_python()
        if python is None:
            return False
        with _COUNTER_LOCK:
            n = next(_COUNTER)
        pipe = f"budgetxl-{os.getpid()}-{n}"
        seed = seed_profile()
        if _usable_seed(seed) and seed.is_dir() and not self.profile.exists():
            try:
                shutil.copytree(seed, self.profile)
                self.seeded = True
            except OSError:
                shutil.rmtree(self.profile, ignore_errors=True)
        env = office_env()
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
        self.proc = subprocess.Popen(
            [python, str(WORKER), soffice(), self.profile.resolve().as_uri(), pipe],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, text=True, start_new_session=True,
        )
        _LAUNCHED.add(self)
        return True

    def wait_ready(self) -> bool:
        """True once the launched office answers; False (and it is stopped) if it does not."""
        if self.proc is None:
            return False
        reply = self._read(self.proc, self.start_timeout)
        if not (reply and reply.get("ready")):
            self.close()
            seed = seed_profile()
            if self.seeded and seed is not None:  # perhaps the copy: the next office starts afresh
                shutil.rmtree(seed, ignore_errors=True)
            return False
        return True

    def convert(self, source: Path, target: Path, timeout: float = 120) -> bool:
        """Convert one file; False (and the office is stopped) if it failed."""
        proc = self.proc  # close() may run in another thread (Ctrl-C stops every office at once)
        if proc is None:
            return False
        try:
            proc.stdin.write(json.dumps({"in": str(Path(source).resolve()), "out": str(Path(target).resolve())}) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            self.close()
            return False
        reply = self._read(proc, timeout)
        if reply is None:  # hung or died: stop it, the caller falls back
            self.close()
            return False
        return bool(reply.get("ok")) and Path(target).exists() and Path(target).stat().st_size > 0

    @staticmethod
    def _read(proc: subprocess.Popen, timeout: float) -> dict | None:
        try:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                return None
            line = proc.stdout.readline()
        except (OSError, ValueError):  # its pipe was closed meanwhile: the office is being stopped
            return None
        try:
            return json.loads(line) if line else None
        except ValueError:
            return None

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()  # end of input: the worker closes LibreOffice
        except OSError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever is left of this office (LibreOffice's own processes too)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if proc.returncode == 0 and not self.seeded:
            self._keep_as_seed()

    def _keep_as_seed(self) -> None:
        """After a clean stop, this office's profile becomes the seed if there
        is none yet (best effort; it holds settings, no document names)."""
        seed = seed_profile()
        if seed is None or seed.exists() or not self.profile.is_dir():
            return
        tmp = seed.with_name(f".{seed.name}.{os.getpid()}.{id(self)}")
        try:
            seed.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(self.profile, tmp)
            os.chmod(tmp, 0o700)
            os.rename(tmp, seed)  # atomic; another process may have been first
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)


class PdfPool:
    """docx → PDF in the background while the batch is still rendering.

    ``workers`` persistent offices are launched at once (their start-up
    overlaps the rendering) and take files from one queue as ``submit`` adds
    them; what they cannot do (no ``uno``, an office that does not start or
    crashes twice) goes through the one-shot ``soffice --convert-to`` path in
    ``finish``, which returns source -> seconds spent (None: failed).

    With ``threads=False`` only the offices are launched: the threads that
    feed them start with ``start_threads`` (a batch forks its worker
    processes in between, and forks no process while threads run)."""

    def __init__(self, work: Path, workers: int = 1, timeout: float = 120, threads: bool = True, on_done=None):
        self.on_done = on_done  # (source, target) as each office conversion succeeds, from the office's thread
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self.queue: "queue.Queue[tuple[Path, Path] | None]" = queue.Queue()
        self.done: dict[Path, float | None] = {}
        self.leftover: list[tuple[Path, Path]] = []
        self.oneshot: set[Path] = set()  # sources converted the one-shot way: their 目录 has no page numbers
        self.closing = False  # set by close(): a failed office is not restarted any more
        self.workers = max(1, workers)
        self.offices = [Office(self.work / f"office{k}") for k in range(self.workers)] if uno_python() else []
        for o in self.offices:
            o.launch()
        self.threads: list[threading.Thread] = []
        if threads:
            self.start_threads()

    def start_threads(self) -> None:
        if self.threads or not self.offices:
            return
        self.threads = [threading.Thread(target=self._run, args=(o,), daemon=True) for o in self.offices]
        for t in self.threads:
            t.start()

    def submit(self, source: Path, target: Path) -> None:
        if self.offices:
            self.queue.put((Path(source), Path(target)))
        else:
            self.leftover.append((Path(source), Path(target)))

    def _run(self, office: Office) -> None:
        import time

        lives = 2  # one restart after a crash
        alive = office.wait_ready()
        try:
            # an office that cannot start stops taking files: the others (or
            # the one-shot path in finish) do them
            while alive and (job := self.queue.get()) is not None:
                t = time.perf_counter()
                if office.convert(*job, timeout=self.timeout):
                    self.done[job[0]] = time.perf_counter() - t
                    if self.on_done is not None:
                        self.on_done(*job)
                    continue
                self.leftover.append(job)  # tried again in finish, the one-shot way
                if office.proc is None:  # it hung or died (or is being stopped: never start another then)
                    lives -= 1
                    alive = lives > 0 and not self.closing and office.start()
        finally:
            office.close()

    def close(self) -> None:
        """Stop the offices (what is queued is left undone)."""
        self.closing = True
        for _ in self.threads:
            self.queue.put(None)
        for t in self.threads:
            t.join()
        self.threads = []
        for o in self.offices:  # those no thread ever took over
            o.close()
        self.offices = []
        while not self.queue.empty():  # left by offices that stopped early
            job = self.queue.get()
            if job is not None:
                self.leftover.append(job)

    def finish(self) -> dict[Path, float | None]:
        from . import pdf

        self.close()
        if self.leftover:
            self.oneshot.update(src for src, _ in self.leftover)
            self.done.update(pdf.convert_pairs(self.leftover, self.work / "oneshot", self.workers))
            self.leftover = []
        return self.done


def convert_many(pairs: list[tuple[Path, Path]], work: Path, workers: int = 1, timeout: float = 120) -> dict[Path, float | None]:
    """docx → PDF for every (source, target) pair; see ``PdfPool``."""
    pool = PdfPool(work, min(workers, max(1, len(pairs))), timeout)
    for source, target in pairs:
        pool.submit(source, target)
    return pool.finish()
