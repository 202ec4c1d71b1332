"""Accounts, sessions' secret and the audit log of the bureau's web server.

Own tables in the bureau's database (beside ``collect.store``'s): ``web_users``,
``web_audit``, ``web_uploads`` (which account sent which submission) and
``web_settings`` (the session-signing key, so a restart does not log everyone out).
Passwords are stored as argon2id hashes (argon2-cffi); issued passwords are
one-time: the first login must choose a new one.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..collect.roster import Member
from ..collect.store import Store
from ..records import dataclass
from ..textnorm import squash

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('bureau', 'department')),
    department    TEXT NOT NULL DEFAULT '',   -- 单位名称 as the roster spells it (department accounts)
    unit_code     TEXT NOT NULL DEFAULT '',   -- 单位编码 from the roster
    password_hash TEXT NOT NULL,              -- argon2id
    must_change   INTEGER NOT NULL DEFAULT 1, -- 1: an issued one-time password, to be replaced at first login
    created_at    TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS web_audit (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,                     -- UTC, ISO 8601 with microseconds
    event  TEXT NOT NULL,                     -- login / logout / password / upload / refused
    login  TEXT NOT NULL DEFAULT '',
    ip     TEXT NOT NULL DEFAULT '',
    ok     INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS web_audit_login ON web_audit(event, login, at);
CREATE INDEX IF NOT EXISTS web_audit_ip ON web_audit(event, ip, at);
CREATE TABLE IF NOT EXISTS web_uploads (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    user_id       INTEGER NOT NULL REFERENCES web_users(id),
    at            TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# one-time passwords: no 0/O, 1/l/I — they are read off paper
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane): about 0.1 s a login on
# the bureau's small server; each hash carries its parameters, so raising them later
# leaves existing passwords valid.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = HASHER.hash("budgetxl-dummy")  # verify something for unknown logins: same time either way

THROTTLE_WINDOW = dt.timedelta(minutes=15)
THROTTLE_PER_LOGIN = 5
THROTTLE_PER_IP = 30  # an office behind one NAT address shares it


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def new_password(length: int = 12) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class User:
    id: int
    login: str
    role: str
    department: str
    unit_code: str
    must_change: bool
    password_hash: str

    @property
    def is_bureau(self) -> bool:
        return self.role == "bureau"

    @property
    def stamp(self) -> str:
        """Changes when the password changes: older sessions stop working."""
        return self.password_hash[-16:]

    def owns(self, department: str, unit_code: str = "") -> bool:
        """Whether a workbook's 单位名称/单位编码 is this account's department."""
        if self.unit_code and unit_code:
            return self.unit_code == unit_code
        return bool(department) and squash(department) == squash(self.department)


class AccountError(ValueError):
    """A users command cannot be done; the message is for the user."""


class Accounts:
    """The web tables of one database. Writes are serialised in this process by
    ``lock`` (SQLite serialises between processes)."""

    lock = threading.Lock()

    def __init__(self, db: str | Path):
        self.db = Path(db)
        Store(self.db).close()  # the submissions tables exist before ours refer to them
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        from ..paths import database_uri

        conn = sqlite3.connect(database_uri(self.db, "rwc"), uri=True, timeout=30)
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _write(self, sql: str, params=()) -> int:
        with self.lock:
            conn = self._connect()
            try:
                with conn:
                    return conn.execute(sql, params).lastrowid
            finally:
                conn.close()

    def _one(self, sql: str, params=()):
        conn = self._connect()
        try:
            return conn.execute(sql, params).fetchone()
        finally:
            conn.close()

    def _all(self, sql: str, params=()) -> list:
        conn = self._connect()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    # ---------------------------------------------------------------- settings

    def secret(self) -> str:
        """The session-signing key, made once and kept in the database."""
        row = self._one("SELECT value FROM web_settings WHERE key = 'session_secret'")
        if row:
            return row[0]
        self._write("INSERT OR IGNORE INTO web_settings VALUES ('session_secret', ?)", (secrets.token_urlsafe(48),))
        return self._one("SELECT value FROM web_settings WHERE key = 'session_secret'")[0]

    # ---------------------------------------------------------------- users

    _COLUMNS = "id, login, role, department, unit_code, must_change, password_hash"

    def user(self, uid: int) -> User | None:
        row = self._one(f"SELECT {self._COLUMNS} FROM web_users WHERE id = ? AND disabled = 0", (uid,))
        return User(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6]) if row else None

    def by_login(self, login: str) -> User | None:
        row = self._one(f"SELECT {self._COLUMNS} FROM web_users WHERE login = ? AND disabled = 0", (login,))
        return User(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6]) if row else None

    def users(self) -> list[User]:
        return [User(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in self._all(f"SELECT {self._COLUMNS} FROM web_users WHERE disabled = 0 ORDER BY id")]

    def add(self, login: str, role: str, password: str, department: str = "", unit_code: str = "", must_change: bool = True) -> int:
        login = login.strip()
        if not login or len(login) > 64 or any(c.isspace() for c in login):
            raise AccountError(f"登录名“{login}”不可用：不能为空、不能含空格，最长 64 个字符。")
        if self.by_login(login):
            raise AccountError(f"登录名“{login}”已存在。")
        return self._write(
            "INSERT INTO web_users (login, role, department, unit_code, password_hash, must_change, created_at) VALUES (?,?,?,?,?,?,?)",
            (login, role, department, unit_code, HASHER.hash(password), int(must_change), now()),
        )

    def set_password(self, uid: int, password: str, must_change: bool = False) -> None:
        self._write("UPDATE web_users SET password_hash = ?, must_change = ? WHERE id = ?", (HASHER.hash(password), int(must_change), uid))

    def verify(self, login: str, password: str) -> User | None:
        user = self.by_login(login)
        try:
            HASHER.verify(user.password_hash if user else _DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return user

    def issue(self, roster: list[Member], reissue: bool = False) -> list[tuple[str, str, str, str]]:
        """Department accounts for the roster: (单位名称, 单位编码, 登录名, 一次性密码) for every
        account made (or, with ``reissue``, every existing one given a new password)."""
        existing = {u.department: u for u in self.users() if u.role == "department"}
        taken = {u.login for u in self.users()}
        out = []
        for i, m in enumerate(roster, start=1):
            password = new_password()
            user = existing.get(m.name)
            if user:
                if reissue:
                    self.set_password(user.id, password, must_change=True)
                    out.append((m.name, m.code, user.login, password))
                continue
            login = m.code if m.code and m.code not in taken and not any(c.isspace() for c in m.code) else f"d{i:03d}"
            while login in taken:
                login = f"d{i:03d}-{secrets.randbelow(1000):03d}"
            taken.add(login)
            self.add(login, "department", password, m.name, m.code, must_change=True)
            out.append((m.name, m.code, login, password))
        return out

    # ---------------------------------------------------------------- audit, throttling

    def audit(self, event: str, login: str, ip: str, ok: bool, detail: str = "") -> None:
        self._write("INSERT INTO web_audit (at, event, login, ip, ok, detail) VALUES (?,?,?,?,?,?)", (now(), event, login[:100], ip, int(ok), detail[:500]))

    def throttled(self, login: str, ip: str) -> bool:
        """5 failed logins for one account, or 30 from one address, in 15 minutes."""
        since = (dt.datetime.now(dt.timezone.utc) - THROTTLE_WINDOW).isoformat(timespec="microseconds")
        by_login = self._one("SELECT COUNT(*) FROM web_audit WHERE event = 'login' AND ok = 0 AND login = ? AND at >= ?", (login, since))[0]
        by_ip = self._one("SELECT COUNT(*) FROM web_audit WHERE event = 'login' AND ok = 0 AND ip = ? AND at >= ?", (ip, since))[0]
        return by_login >= THROTTLE_PER_LOGIN or by_ip >= THROTTLE_PER_IP

    def audit_log(self, limit: int = 200) -> list[tuple]:
        return self._all("SELECT at, event, login, ip, ok, detail FROM web_audit ORDER BY id DESC LIMIT ?", (limit,))

    # ---------------------------------------------------------------- uploads

    def record_upload(self, submission_id: int, user_id: int) -> None:
        self._write("INSERT INTO web_uploads (submission_id, user_id, at) VALUES (?,?,?)", (submission_id, user_id, now()))
