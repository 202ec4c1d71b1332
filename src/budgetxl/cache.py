"""budgetxl's cache folder (parsed specs, a started LibreOffice profile): a leaf
module, imported at start-up."""

from __future__ import annotations

import os
import time
from pathlib import Path


def cache_folder() -> Path | None:
    """``$BUDGETXL_CACHE`` (``off``: no cache), else ``$XDG_CACHE_HOME/budgetxl``
    (only an absolute path, as the XDG rules say), else ``~/.cache/budgetxl``;
    None when there is no home folder to put it in (HOME unset, no passwd entry)."""
    setting = os.environ.get("BUDGETXL_CACHE", "")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "budgetxl"
    try:
        return Path.home() / ".cache" / "budgetxl"
    except (RuntimeError, KeyError, OSError):
        return None


def write_private(path: Path, data: bytes) -> None:
    """``data`` as ``path``, mode 0600, whole or not at all: written under a new
    temporary name (created, never opened through a symlink someone else put
    there) and renamed over ``path``. Raises OSError."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remembered(kind: str, text: str, source, module: str, build, use, only_shipped_in=None):
    """``use(build())``, with ``build()``'s result (plain data: dicts, lists,
    strings, numbers) kept between runs in the cache folder, in ``marshal``
    format: it loads in a fraction of a millisecond and needs no import.

    ``text`` is what is built from (a spec's TOML, a code list's CSV), read from
    ``source``; ``module`` the path of the code that builds and uses it. An
    entry is keyed by all three, so an edited file or a new budgetxl never sees
    a stale one; it is used only when owned by the current user and not
    writable by others, and one that ``use`` refuses is built anew. Writing an
    entry removes those it replaces (the same source with another text or
    module) and those written over a month ago, so the folder does not grow
    with every edit, upgrade or checkout.
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
    try:
        st = entry.stat()
        if st.st_uid == os.getuid() and not st.st_mode & 0o022:
            return use(marshal.loads(entry.read_bytes()))
    except (OSError, AttributeError, EOFError, IndexError, KeyError, TypeError, ValueError):
        pass  # none, not safely ours, or damaged: built anew and written over
    raw = build()
    result = use(raw)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(entry, marshal.dumps(raw))
        # the entries this one replaces, the old pickle format's, and those
        # written over a month ago (of checkouts elsewhere, most likely gone)
        place, month_ago = key.split("-")[1], time.time() - 30 * 86400
        for old in folder.glob(f"{kind}-*"):
            parts = old.stem.split("-")
            if old != entry and (old.suffix == ".pickle" or (len(parts) == 4 and parts[2] == place) or old.stat().st_mtime < month_ago):
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass  # a read-only home: built every time
    return result
