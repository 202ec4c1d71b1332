"""budgetxl's cache folder (parsed specs, a started LibreOffice profile): a leaf
module, imported at start-up."""

from __future__ import annotations

import os
import time
from pathlib import Path


def cache_folder() -> Path | None:
    """``$BUDGETXL_CACHE`` (``off``: no cache; a relative path is taken from the
    current folder), else ``$XDG_CACHE_HOME/budgetxl`` (only an absolute path, as
    the XDG rules say), else ``~/.cache/budgetxl``; None when there is no home
    folder to put it in (HOME unset, no passwd entry), and on Windows: what makes
    an entry safe to use (its owner and mode, ``read_private``) are POSIX checks,
    so there budgetxl starts without its caches."""
    setting = os.environ.get("BUDGETXL_CACHE", "")
    if setting == "off" or not hasattr(os, "getuid"):
        return None
    if setting:
        return Path(os.path.abspath(setting))
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "budgetxl"
    try:
        return Path.home() / ".cache" / "budgetxl"
    except (RuntimeError, KeyError, OSError):
        return None


_LIMIT = 64 << 20  # no cache entry of ours comes near this


def read_private(path: Path) -> bytes | None:
    """The bytes of a cache entry, or None unless it is a regular file of the
    current user's that nobody else can write, with the checksum it was written
    with under this name (an entry renamed onto another's name, as anyone who may
    write a shared folder can do, does not fit). Opened once, never through a symlink and without waiting (a FIFO put
    there blocks nothing), and checked on the open file: nothing can be swapped
    in between the check and the read."""
    import stat
    import zlib

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022 or st.st_size > _LIMIT:
            return None
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > _LIMIT:
                return None
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) < 4 or int.from_bytes(data[:4], "little") != zlib.crc32(data[4:], zlib.crc32(path.name.encode())):
        return None  # damaged, written by another program, or another entry renamed to this name: built anew
    return data[4:]


def write_private(path: Path, data: bytes) -> None:
    """``data`` as ``path``, mode 0600, with a checksum ``read_private`` checks,
    whole or not at all: written under a new temporary name (created, never
    opened through a symlink someone else put there) and renamed over ``path``.
    Raises OSError."""
    import zlib

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(zlib.crc32(data, zlib.crc32(path.name.encode())).to_bytes(4, "little"))
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def prune(folder: Path, pattern: str, keep: Path, replaced=lambda name: False) -> None:
    """Remove budgetxl's own entries in ``folder`` (names matching the regular
    expression ``pattern`` exactly, never anything else: the folder may be one
    the user keeps other files in) other than ``keep``: those ``replaced`` says
    ``keep`` replaces, and those written over a month ago (of checkouts
    elsewhere, most likely gone); and temporary files of a write that was
    interrupted an hour ago or more."""
    import re

    now = time.time()
    own = re.compile(pattern)
    temporary = re.compile(r"\." + pattern.lstrip("^").rstrip("$") + r"\.[0-9]+\.[0-9]+")
    for old in folder.iterdir():
        name = old.name
        try:
            if old == keep:
                continue
            if own.fullmatch(name):
                if replaced(name) or old.lstat().st_mtime < now - 30 * 86400:
                    old.unlink()
            elif temporary.fullmatch(name) and old.lstat().st_mtime < now - 3600:
                old.unlink()
        except OSError:
            pass


def remembered(kind: str, text: str, source, module: str, build, use, only_shipped_in=None):
    """``use(build())``, with ``build()``'s result (plain data: dicts, lists,
    strings, numbers) kept between runs in the cache folder, in ``marshal``
    format: it loads in a fraction of a millisecond and needs no import.

    ``text`` is what is built from (a spec's TOML, a code list's CSV), read from
    ``source``; ``module`` the path of the code that builds and uses it. An
    entry is keyed by all three, so an edited file or a new budgetxl never sees
    a stale one; it is used only as ``read_private`` allows (the user's own,
    not writable by others, a regular file, its checksum right), and one that
    ``use`` refuses is built anew. Writing an entry removes those it replaces
    (the same source with another text or module) and those written over a
    month ago, so the folder does not grow with every edit, upgrade or checkout.
    ``BUDGETXL_CACHE=off`` builds every time; without ``$BUDGETXL_CACHE`` only
    the files in ``only_shipped_in`` (budgetxl's own) are kept."""
    import marshal
    import zlib  # already loaded by zipfile; hashlib would cost more at start-up than it saves

    setting = os.environ.get("BUDGETXL_CACHE", "")
    if setting == "off" or (not setting and only_shipped_in is not None and Path(source).parent != only_shipped_in):
        return use(build())
    folder = cache_folder()
    if folder is None:
        return use(build())
    key = "-".join(
        f"{len(part):x}{zlib.crc32(part):08x}{zlib.adler32(part):08x}"
        for part in (text.encode(), str(source).encode(), Path(module).read_bytes())
    )
    entry = folder / f"{kind}-{key}.marshal"
    data = read_private(entry)
    if data is not None:
        try:
            return use(marshal.loads(data))
        except (AttributeError, EOFError, IndexError, KeyError, TypeError, ValueError):
            pass  # not what use needs: built anew and written over
    raw = build()
    result = use(raw)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(entry, marshal.dumps(raw))
        place = key.split("-")[1]
        prune(folder, rf"{kind}-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\.(?:marshal|pickle)", entry,
              lambda name: name.endswith(".pickle") or name.split("-")[2] == place)
    except (OSError, ValueError):
        pass  # a read-only home: built every time
    return result
