"""Real ``budgetxl serve`` processes for the web tests: uvicorn in a subprocess on
a free 127.0.0.1 port, its temporary files in a folder the test can inspect."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openpyxl

from budgetxl.cli import main

from .builders import variant
from .conftest import EXAMPLE

NAME = "阿克陶县社会保险中心"  # the example's department (its workbook has the C12 错误)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    url: str
    process: subprocess.Popen
    tmp: Path  # the server's TMPDIR: its temporary files live here
    log: Path

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **kw)

    def temp_files(self) -> list[Path]:
        return [p for p in self.tmp.rglob("*") if p.is_file() and "template" not in p.parts]


@contextlib.contextmanager
def running(args: list[str], tmp: Path):
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp.parent / f"server-{port}.log"
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "budgetxl.cli", "serve", "--port", str(port), "--log-level", "warning", *args],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    server = Running(f"http://127.0.0.1:{port}", process, tmp, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"budgetxl serve exited: {log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"budgetxl serve did not start: {log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def department_book(folder: Path, name: str, version: int = 1) -> Path:
    """The example under another department's name; ``version`` makes different bytes (the zip comment)."""
    target = folder / f"{name}-{version}.xlsx"
    variant(EXAMPLE, target, {NAME: name} if name != NAME else {})
    if version > 1:
        with zipfile.ZipFile(target, "a") as z:
            z.comment = f"version {version}".encode()
    return target


@dataclass
class Bureau:
    server: Running
    db: Path
    roster: list[str]
    passwords: dict[str, str]  # login -> current password
    logins: dict[str, str]  # department -> login
    first: set[str] = field(default_factory=set)  # logins still on their one-time password
    books: Path = Path()
    roster_file: Path = Path()

    def login(self, login: str) -> httpx.Client:
        """A logged-in session (the one-time password replaced on first use)."""
        c = self.server.client()
        r = c.post("/login", data={"csrf": csrf(c.get("/login").text), "login": login, "password": self.passwords[login]})
        assert r.status_code == 303, r.text
        if login in self.first:
            new = f"neues-{login}-passwort"
            r = c.post("/password", data={"csrf": csrf(c.get("/password").text), "new": new, "again": new})
            assert r.status_code == 303, r.text
            self.passwords[login] = new
            self.first.discard(login)
        return c

    def upload(self, client: httpx.Client, book: Path) -> httpx.Response:
        token = csrf(client.get("/department").text)
        with open(book, "rb") as fh:
            return client.post("/department/upload", data={"csrf": token}, files={"file": (book.name, fh, "application/octet-stream")})


def make_bureau(tmp: Path, departments: list[str]) -> tuple[Path, Path, dict[str, str], dict[str, str], str]:
    """A roster, a database with department accounts issued from it and one bureau account
    (through the ``users`` commands); returns db, roster, passwords, logins and the bureau login."""
    roster = tmp / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["单位名称", "单位编码"])
    for name in departments:
        wb.active.append([name, ""])
    wb.save(roster)
    db = tmp / "bureau.db"
    accounts = tmp / "accounts.xlsx"
    assert main(["users", "issue", "--roster", str(roster), "--db", str(db), "-o", str(accounts)]) == 0
    passwords, logins = {}, {}
    for name, code, login, password in list(openpyxl.load_workbook(accounts).active.iter_rows(values_only=True))[1:]:
        passwords[login], logins[name] = password, login
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["users", "add-bureau", "caizhengju", "--db", str(db)]) == 0
    passwords["caizhengju"] = re.search(r"一次性密码：(\S+)", out.getvalue()).group(1)
    return db, roster, passwords, logins, "caizhengju"
