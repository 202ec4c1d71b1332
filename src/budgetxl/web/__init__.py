"""``budgetxl serve``: the web page (local mode) and the bureau's server (bureau mode).

``create_app`` builds the ASGI application; ``serve`` runs it under uvicorn.
"""

from __future__ import annotations

from pathlib import Path

from .app import Config, create_app

__all__ = ["Config", "create_app", "serve", "backup"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(config: Config, host: str, port: int, open_browser: bool = False, proxy_headers: bool = False,
          forwarded_allow_ips: str | None = None, log_level: str = "info") -> None:
    import threading
    import webbrowser

    import uvicorn

    from .logs import LOG_CONFIG

    app = create_app(config)
    if open_browser:
        threading.Timer(1.5, webbrowser.open, [f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"]).start()
    uvicorn.run(
        app, host=host, port=port, proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips or "127.0.0.1",
        log_config=LOG_CONFIG, log_level=log_level, server_header=False, limit_concurrency=200, timeout_keep_alive=10,
    )


def backup(db: str | Path, target: str | Path) -> Path:
    """A consistent copy of a live database (SQLite's online backup API: the server
    may keep writing), written atomically."""
    import os
    import sqlite3

    from ..io_atomic import atomic_path

    db, target = Path(db), Path(target)
    if not db.is_file():
        raise FileNotFoundError(2, "no such file", str(db))
    with atomic_path(target) as part:
        from ..paths import database_uri

        source = sqlite3.connect(database_uri(db, "ro"), uri=True, timeout=30)
        dest = sqlite3.connect(str(part))
        try:
            source.backup(dest, pages=1024)
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dest.close()
            source.close()
    os.chmod(target, 0o600)  # it holds the password hashes
    return target
