"""``budgetxl serve`` over HTTP: a real server (uvicorn in a subprocess), real
uploads, the real database. Browser tests are in test_web_browser.py."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.cli import main
from budgetxl.grid import WorkbookError
from budgetxl.model_json import decimal_default

from .conftest import EXAMPLE, SPEC
from .web_servers import NAME, Bureau, csrf, department_book, make_bureau, running

OTHERS = ["甲单位", "乙单位", "丙单位", "丁单位"]
CROWD = [f"并发第{i:02d}单位" for i in range(20)]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    with running([], tmp_path_factory.mktemp("local") / "tmp") as server:
        yield server
    assert list(server.tmp.iterdir()) == []  # stopping the server removes its temporary folder


@pytest.fixture(scope="module")
def bureau(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bureau")
    db, roster, passwords, logins, admin = make_bureau(tmp, [NAME, *OTHERS, *CROWD])
    books = tmp / "books"
    books.mkdir()
    first = set(passwords)
    from budgetxl.web.accounts import Accounts

    accounts = Accounts(db)
    for name in CROWD:  # the crowd has chosen its passwords already: its test is about uploads
        login = logins[name]
        passwords[login] = f"gewaehlt-{login}"
        accounts.set_password(accounts.by_login(login).id, passwords[login], must_change=False)
        first.discard(login)
    with running(["--db", str(db), "--roster", str(roster)], tmp / "tmp") as server:
        yield Bureau(server, db, [NAME, *OTHERS, *CROWD], passwords, logins, first, books, roster)


def expected_json(name: str) -> dict:
    """What ``budgetxl check --json`` prints for the example (the source is the uploaded name)."""
    reading = pipeline.read(EXAMPLE, SPEC)
    data = pipeline.check(reading, SPEC).to_json()
    data["source"] = name
    return json.loads(json.dumps(data, ensure_ascii=False, default=decimal_default))


def submissions(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, department, version, status, readable FROM submissions ORDER BY id").fetchall()


# ---------------------------------------------------------------- local mode


def test_local_page_and_api_check(local):
    page = httpx.get(local.url + "/")
    assert page.status_code == 200
    assert 'type="file"' in page.text and 'name="csrf"' in page.text and "上传并校验" in page.text
    with open(EXAMPLE, "rb") as fh:
        r = httpx.post(local.url + "/api/check", files={"file": ("akto_2026.xlsx", fh)}, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert data == expected_json("akto_2026.xlsx")  # the same JSON as check --json
    c12 = [f for f in data["findings"] if f["code"] == "C12"]
    assert c12 and c12[0]["severity"] == "错误" and "'表7 一般公共预算项目支出情况表'!D8" in c12[0]["refs"]
    assert local.temp_files() == []  # nothing kept after the response


def test_cli_check_json_is_what_the_api_returns(local, tmp_path, capsys):
    assert main(["check", "--json", str(EXAMPLE)]) == 1
    cli = json.loads(capsys.readouterr().out)
    with open(EXAMPLE, "rb") as fh:
        api = httpx.post(local.url + "/api/check", files={"file": ("x.xlsx", fh)}, timeout=120).json()
    cli.pop("source"), api.pop("source")
    assert api == cli


@pytest.mark.parametrize("payload", [
    b"PK\x03\x04broken",
    b"",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
    b"<html>not a workbook</html>",
], ids=["broken-zip", "empty", "ole", "html"])
def test_hostile_uploads_get_the_readers_chinese_message(local, payload, tmp_path):
    r = httpx.post(local.url + "/api/check", files={"file": ("坏文件.xlsx", payload)}, timeout=60)
    assert r.status_code == 422
    message = r.json()["error"]
    assert re.search(r"[\u4e00-\u9fff]", message) and "Traceback" not in message
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(payload)
    with pytest.raises(WorkbookError) as exc:  # the reader's hostile-file guard said it, not the server
        pipeline.read(bad, SPEC)
    assert message == exc.value.message


def test_every_hostile_file_the_reader_refuses_gets_its_message(local, tmp_path):
    """The hostile corpus's refused files (zip bomb, XML entity bomb, encrypted, huge
    dimension …) uploaded as they are: the reader's Chinese message, no crash."""
    from .hostile import CASES, REFUSED, Unavailable

    refused = []
    for case in CASES:
        if case.outcome == REFUSED:
            try:
                case.build(tmp_path / case.filename)
            except Unavailable:
                continue
            refused.append((case, tmp_path / case.filename))
    assert len(refused) >= 8
    for case, path in refused:
        with open(path, "rb") as fh:
            r = httpx.post(local.url + "/api/check", files={"file": (path.name, fh)}, timeout=120)
        assert r.status_code == 422, case.name
        assert all(word in r.json()["error"] for word in case.expect), (case.name, r.json())
    assert httpx.get(local.url + "/healthz").status_code == 200


def test_upload_limit_is_enforced_while_streaming(local):
    big = b"PK\x03\x04" + b"\0" * (21 * 1024 * 1024)
    r = httpx.post(local.url + "/api/check", files={"file": ("big.xlsx", big)}, timeout=60)
    assert r.status_code == 413 and "超过 20 MB" in r.json()["error"]

    def chunks():  # no Content-Length: only counting the stream can stop it
        boundary = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n\r\n"
        yield boundary
        for _ in range(30):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    try:
        r = httpx.post(local.url + "/api/check", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}, timeout=60)
        assert r.status_code == 413
    except (httpx.RemoteProtocolError, httpx.WriteError):
        pass  # the server answered 413 and closed while the client was still sending
    # the local page shows a Chinese 413 page
    c = local.client()
    token = csrf(c.get("/").text)
    r = c.post("/check", data={"csrf": token}, files={"file": ("big.xlsx", big)})
    assert r.status_code == 413 and "文件过大" in r.text and "<html" in r.text
    assert local.temp_files() == []


def test_local_check_page_downloads_and_deletes(local):
    c = local.client()
    token = csrf(c.get("/").text)
    with open(EXAMPLE, "rb") as fh:
        r = c.post("/check", data={"csrf": token, "keep": "1"}, files={"file": ("../../etc/示例.xlsx", fh)})
    assert r.status_code == 200
    assert "示例.xlsx：错误 1 个" in r.text and "../" not in r.text  # the name is display text, its last part only
    assert 'data-code="C12"' in r.text and "&#39;表7 一般公共预算项目支出情况表&#39;!D8" in r.text
    links = re.findall(r'href="(/download/[^"]+)"', r.text)
    assert {link.rsplit("/", 1)[1] for link in links} == {"annotated", "subtotal", "narrative-text", "narrative-sheet", "docx", "xlsx", "pdf"}
    annotated = c.get(next(l for l in links if l.endswith("/annotated")))
    assert annotated.status_code == 200 and "filename*=UTF-8''2026" in annotated.headers["content-disposition"]
    text = c.get(next(l for l in links if l.endswith("/narrative-text")))
    assert text.status_code == 200 and "阿克陶县社会保险中心" in text.text
    # the token is bound to the session that uploaded: another browser gets 404
    assert httpx.get(local.url + links[0]).status_code == 404
    assert any(local.temp_files())
    delete_form = re.search(r'action="(/download/[^"]+/delete)"', r.text).group(1)
    r = c.post(delete_form, data={"csrf": csrf(r.text)})
    assert r.status_code == 200 and "已删除" in r.text
    assert c.get(links[0]).status_code == 404
    assert local.temp_files() == []


def test_local_check_without_keep_keeps_nothing(local):
    c = local.client()
    with open(EXAMPLE, "rb") as fh:
        r = c.post("/check", data={"csrf": csrf(c.get("/").text)}, files={"file": ("示例.xlsx", fh)})
    assert r.status_code == 200 and 'data-code="C12"' in r.text
    assert "/download/" not in r.text and "已删除" in r.text
    assert local.temp_files() == []


def test_text_from_the_workbook_is_escaped(local, tmp_path):
    from .builders import variant

    evil = '<img src=x onerror=alert(1)>'
    book = variant(EXAMPLE, tmp_path / "evil.xlsx", {NAME: evil.replace("<", "&lt;").replace(">", "&gt;")})  # XML text
    c = local.client()
    with open(book, "rb") as fh:
        r = c.post("/check", data={"csrf": csrf(c.get("/").text)}, files={"file": ('<b>x</b>.xlsx', fh)})
    assert r.status_code == 200
    assert evil not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text
    assert "<b>x</b>" not in r.text


def test_forms_need_the_csrf_token(local):
    c = local.client()
    c.get("/")
    with open(EXAMPLE, "rb") as fh:
        r = c.post("/check", data={"csrf": "forged"}, files={"file": ("x.xlsx", fh)})
    assert r.status_code == 403 and "页面已过期" in r.text
    with open(EXAMPLE, "rb") as fh:  # no session at all (another site's form)
        r = httpx.post(local.url + "/check", files={"file": ("x.xlsx", fh)})
    assert r.status_code == 403


def test_security_headers_and_cookie(local):
    r = httpx.get(local.url + "/")
    csp = r.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert re.findall(r"<script(?![^>]*\bsrc=)", r.text) == []  # no inline script
    assert " style=" not in r.text and "<style" not in r.text  # no inline style either


def test_bad_requests_get_chinese_pages_not_traces(local):
    for method, path, kw in [
        ("GET", "/no/such/page", {}),
        ("GET", "/download/abc/annotated", {}),
        ("DELETE", "/", {}),
        ("POST", "/api/check", {"content": b"garbage", "headers": {"content-type": "multipart/form-data; boundary=zz"}}),
        ("POST", "/api/check", {"data": {"x": "1"}}),
    ]:
        r = httpx.request(method, local.url + path, **kw)
        assert r.status_code in (400, 404, 405), (path, r.status_code)
        assert re.search(r"[\u4e00-\u9fff]", r.text) and "Traceback" not in r.text and "Exception" not in r.text


def test_local_mode_answers_only_requests_for_this_computer(local):
    """DNS rebinding: a site re-pointing its name at 127.0.0.1 gets nothing."""
    r = httpx.get(local.url + "/", headers={"host": "evil.example"})
    assert r.status_code == 400 and "本机模式" in r.text
    assert httpx.get(local.url.replace("127.0.0.1", "localhost") + "/").status_code == 200


def test_template_download(local):
    r = httpx.get(local.url + "/template.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]


def test_local_mode_refuses_a_public_address(capsys):
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "只能在 127.0.0.1" in capsys.readouterr().err
    assert main(["serve", "--db", "x.db"]) == 2


@pytest.mark.skipif(shutil.which("soffice") is None, reason="没有 LibreOffice：PDF 不能生成")
def test_rendering_runs_in_worker_processes_and_the_server_keeps_answering(local):
    """While a PDF is rendered for one person (LibreOffice, seconds), other requests are answered:
    if rendering blocked the event loop, no answer could arrive between its start and its end."""
    c = local.client()
    with open(EXAMPLE, "rb") as fh:
        r = c.post("/check", data={"csrf": csrf(c.get("/").text), "keep": "1"}, files={"file": ("x.xlsx", fh)})
    link = re.search(r'href="(/download/[^"]+/pdf)"', r.text).group(1)
    done = threading.Event()
    result = {}

    def render():
        result["pdf"] = c.get(link)
        done.set()

    threading.Thread(target=render).start()
    answered = 0  # answers that arrived while the PDF was still being made
    while not done.wait(0.1):
        page = httpx.get(local.url + "/healthz", timeout=5)
        assert page.status_code == 200
        answered += 0 if done.is_set() else 1
    assert result["pdf"].status_code == 200 and result["pdf"].content[:5] == b"%PDF-"
    assert answered >= 5


# ---------------------------------------------------------------- bureau mode


def test_bureau_api_needs_login_and_serves_the_login_page(bureau):
    with open(EXAMPLE, "rb") as fh:
        r = httpx.post(bureau.server.url + "/api/check", files={"file": ("x.xlsx", fh)})
    assert r.status_code == 401 and "登录" in r.json()["error"]
    page = httpx.get(bureau.server.url + "/login")
    assert page.status_code == 200 and 'name="password"' in page.text and 'name="csrf"' in page.text
    assert httpx.get(bureau.server.url + "/department").status_code == 303  # to the login page
    # logged in, with the page's token: the same JSON as in local mode
    c = bureau.login(bureau.logins["丁单位"])
    token = csrf(c.get("/department").text)
    with open(EXAMPLE, "rb") as fh:
        r = c.post("/api/check", files={"file": ("akto_2026.xlsx", fh)}, headers={"x-csrf-token": token})
    assert r.status_code == 200 and r.json() == expected_json("akto_2026.xlsx")
    with open(EXAMPLE, "rb") as fh:  # the cookie alone (a cross-site request) is not enough
        assert c.post("/api/check", files={"file": ("x.xlsx", fh)}).status_code == 403


def test_a_department_sees_only_its_own_submissions(bureau):
    a = bureau.login(bureau.logins[NAME])
    b = bureau.login(bureau.logins["甲单位"])
    r = bureau.upload(a, department_book(bureau.books, NAME))
    assert r.status_code == 303
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    page = a.get(f"/submissions/{sid}")
    assert page.status_code == 200 and "有错误" in page.text and 'data-code="C12"' in page.text
    feedback = a.get(f"/submissions/{sid}/feedback.xlsx")
    assert feedback.status_code == 200 and feedback.content[:2] == b"PK"
    # the other department, changing ids in the address
    for path in (f"/submissions/{sid}", f"/submissions/{sid}/feedback.xlsx", "/bureau", "/bureau/units/0", "/bureau/status.xlsx", "/bureau/audit"):
        r = b.get(path)
        assert r.status_code == 403, path
        assert NAME not in r.text and "没有权限" in r.text
    assert b.get("/submissions/999999").status_code == 404
    own = b.get("/department").text
    assert "未报送" in own and NAME not in own
    # …and cannot overwrite it: a workbook with A's name is refused, nothing stored
    before = submissions(bureau.db)
    forged = department_book(bureau.books, NAME, version=7)
    r = bureau.upload(b, forged)
    assert r.status_code == 403 and "单位名称不符" in r.text
    assert submissions(bureau.db) == before
    from budgetxl.collect.intake import file_hash

    assert not Path(f"{bureau.db}.uploads", f"{file_hash(forged)}.xlsx").exists()  # nothing of it kept
    # form fields naming another department or submission are ignored: the account decides
    token = csrf(b.get("/department").text)
    with open(department_book(bureau.books, "甲单位"), "rb") as fh:
        r = b.post("/department/upload", data={"csrf": token, "department": NAME, "submission_id": str(sid)}, files={"file": ("x.xlsx", fh)})
    assert r.status_code == 303
    rows = submissions(bureau.db)
    assert rows[-1][1] == "甲单位" and rows[-1][2] == 1 and [r for r in rows if r[1] == NAME] == [r for r in before if r[1] == NAME]


def test_the_bureau_sees_every_unit(bureau):
    a = bureau.login(bureau.logins[NAME])
    bureau.upload(a, department_book(bureau.books, NAME))
    c = bureau.login("caizhengju")
    page = c.get("/bureau")
    assert page.status_code == 200
    status = dict(re.findall(r'data-unit="([^"]+)"[\s\S]*?class="status st-([^"]+)"', page.text))
    assert status[NAME] == "有错误" and status["乙单位"] == "未报送"
    assert page.text.count("<svg") >= 1
    n = bureau.roster.index(NAME)
    unit = c.get(f"/bureau/units/{n}")
    assert unit.status_code == 200 and 'data-code="C12"' in unit.text
    sid = int(re.search(r"/submissions/(\d+)/feedback", unit.text).group(1))
    assert c.get(f"/submissions/{sid}/feedback.xlsx").status_code == 200
    status_book = c.get("/bureau/status.xlsx")
    assert status_book.status_code == 200
    path = bureau.books / "status.xlsx"
    path.write_bytes(status_book.content)
    rows = list(openpyxl.load_workbook(path)["报送状态"].iter_rows(values_only=True))
    assert (NAME, "有错误") in {(r[0], r[2]) for r in rows}
    audit = c.get("/bureau/audit").text
    assert "登录" in audit and "上传" in audit
    report = bureau.books / "report.xlsx"  # the same workbook as budgetxl report -o
    assert main(["report", "--db", str(bureau.db), "--roster", str(bureau.roster_file), "-o", str(report)]) == 0
    mine, theirs = openpyxl.load_workbook(path), openpyxl.load_workbook(report)
    assert mine.sheetnames == theirs.sheetnames
    for name in mine.sheetnames:
        assert list(mine[name].iter_rows(values_only=True)) == list(theirs[name].iter_rows(values_only=True)), name


def test_an_unreadable_upload_is_shown_as_such(bureau):
    c = bureau.login(bureau.logins["乙单位"])
    bad = bureau.books / "坏.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    r = bureau.upload(c, bad)
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert "无法读取" in page.text and "Traceback" not in page.text
    admin = bureau.login("caizhengju")
    status = dict(re.findall(r'data-unit="([^"]+)"[\s\S]*?class="status st-([^"]+)"', admin.get("/bureau").text))
    assert status["乙单位"] == "无法读取"


def test_one_time_passwords_and_sessions(bureau):
    login = bureau.logins["丙单位"]
    c = bureau.server.client()
    otp = bureau.passwords[login]
    r = c.post("/login", data={"csrf": csrf(c.get("/login").text), "login": login, "password": otp})
    assert r.status_code == 303 and r.headers["location"] == "/password"
    assert c.get("/department").headers["location"] == "/password"  # nothing else before a new password
    r = c.post("/password", data={"csrf": csrf(c.get("/password").text), "new": "short", "again": "short"})
    assert r.status_code == 400 and "至少 10 个字符" in r.text
    new = "丙单位的新密码123"
    r = c.post("/password", data={"csrf": csrf(c.get("/password").text), "new": new, "again": new})
    assert r.status_code == 303
    assert c.get("/department").status_code == 200
    bureau.passwords[login], _ = new, bureau.first.discard(login)
    d = bureau.server.client()
    r = d.post("/login", data={"csrf": csrf(d.get("/login").text), "login": login, "password": otp})
    assert r.status_code == 401 and "不正确" in r.text  # the one-time password is spent
    r = c.post("/logout", data={"csrf": csrf(c.get("/department").text)})
    assert r.status_code == 303 and c.get("/department").headers["location"] == "/login"
    with sqlite3.connect(bureau.db) as conn:
        events = {e for (e,) in conn.execute("SELECT event FROM web_audit WHERE login = ? AND ok = 1", (login,))}
    assert {"login", "password", "logout"} <= events
    with sqlite3.connect(bureau.db) as conn:
        hashes = [h for (h,) in conn.execute("SELECT password_hash FROM web_users")]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_login_throttling(bureau):
    login = bureau.logins["丁单位"]
    bureau.login(login)  # make sure the password is a known one
    c = bureau.server.client()
    for _ in range(5):
        r = c.post("/login", data={"csrf": csrf(c.get("/login").text), "login": login, "password": "wrong"})
        assert r.status_code == 401
    r = c.post("/login", data={"csrf": csrf(c.get("/login").text), "login": login, "password": bureau.passwords[login]})
    assert r.status_code == 429 and "15 分钟" in r.text  # even the right password waits
    with sqlite3.connect(bureau.db) as conn:
        events = conn.execute("SELECT event, ok FROM web_audit WHERE login = ?", (login,)).fetchall()
    assert events.count(("login", 0)) == 5 and ("throttled", 0) in events
    with sqlite3.connect(bureau.db) as conn:  # the next test may log in again
        conn.execute("DELETE FROM web_audit WHERE login = ? AND ok = 0", (login,))


def test_login_throttling_per_address(bureau):
    """30 failures from one address in 15 minutes (over many login names) stop logins from it."""
    from budgetxl.web.accounts import now

    with sqlite3.connect(bureau.db) as conn:
        conn.execute("DELETE FROM web_audit WHERE ok = 0")  # earlier tests' failures
        conn.executemany("INSERT INTO web_audit (at, event, login, ip, ok) VALUES (?, 'login', ?, '127.0.0.1', 0)",
                         [(now(), f"guess{i}") for i in range(29)])
    login = bureau.logins["丙单位"]
    c = bureau.server.client()
    r = c.post("/login", data={"csrf": csrf(c.get("/login").text), "login": "guess-last", "password": "x"})
    assert r.status_code == 401  # the 30th failure
    r = c.post("/login", data={"csrf": csrf(c.get("/login").text), "login": login, "password": bureau.passwords[login]})
    assert r.status_code == 429
    with sqlite3.connect(bureau.db) as conn:
        conn.execute("DELETE FROM web_audit WHERE ok = 0")
    bureau.login(login)


def test_https_cookies(tmp_path):
    import asyncio

    from budgetxl.web import Config, create_app

    app = create_app(Config(SPEC, tmp_path / "b.db", [], https_cookies=True))

    async def get():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
            return await c.get("/login")

    try:
        cookie = asyncio.run(get()).headers["set-cookie"].lower()
    finally:
        app.state.server.stop()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_twenty_simultaneous_uploads_get_unique_versions(bureau):
    clients = {name: bureau.login(bureau.logins[name]) for name in CROWD}
    books = {name: department_book(bureau.books, name) for name in CROWD}
    one = CROWD[0]
    versions = [department_book(bureau.books, one, v) for v in range(2, 7)]  # five more versions of one department at once
    jobs = [(clients[n], books[n]) for n in CROWD] + [(clients[one], v) for v in versions]
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(lambda job: bureau.upload(*job), jobs))
    assert [r.status_code for r in results] == [303] * len(jobs)
    rows = [r for r in submissions(bureau.db) if r[1] in CROWD]
    assert len(rows) == len(jobs)
    by_department = {}
    for _, department, version, status, _ in rows:
        by_department.setdefault(department, []).append(version)
    assert sorted(by_department[one]) == [1, 2, 3, 4, 5, 6]
    assert all(v == [1] for d, v in by_department.items() if d != one)
    assert all(status == "有错误" for *_, status, _ in rows)
    with sqlite3.connect(bureau.db) as conn:
        recorded = conn.execute("SELECT COUNT(*) FROM web_uploads").fetchone()[0]
    assert recorded >= len(jobs)


def test_backup_while_serving(bureau, tmp_path, capsys):
    target = tmp_path / "备份.db"
    assert main(["backup", "--db", str(bureau.db), "-o", str(target)]) == 0
    assert "已备份" in capsys.readouterr().out
    with sqlite3.connect(target) as copy, sqlite3.connect(bureau.db) as live:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for table in ("submissions", "findings", "line_items", "web_users", "web_audit"):
            assert copy.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == live.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert main(["backup", "--db", str(bureau.db), "-o", str(bureau.db)]) == 2


def test_users_issue_only_new_accounts(bureau, tmp_path, capsys):
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["单位名称", "单位编码"])
    wb.active.append([NAME, ""])
    wb.active.append(["新增单位", "310007"])
    wb.save(roster)
    out = tmp_path / "新账户.xlsx"
    assert main(["users", "issue", "--roster", str(roster), "--db", str(bureau.db), "-o", str(out)]) == 0
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ("单位名称", "单位编码", "登录名", "一次性密码")
    assert [r[:3] for r in rows[1:]] == [("新增单位", "310007", "310007")]  # the unit code is the login
    assert len(rows[1][3]) >= 12 and oct(out.stat().st_mode & 0o777) == "0o600"
    again = tmp_path / "重发.xlsx"
    assert main(["users", "issue", "--roster", str(roster), "--db", str(bureau.db), "-o", str(again), "--reissue"]) == 0
    reissued = {r[2]: r[3] for r in list(openpyxl.load_workbook(again).active.iter_rows(values_only=True))[1:]}
    assert set(reissued) == {bureau.logins[NAME], "310007"} and reissued["310007"] != rows[1][3]
    bureau.passwords[bureau.logins[NAME]] = reissued[bureau.logins[NAME]]
    bureau.first.add(bureau.logins[NAME])
    capsys.readouterr()
    assert main(["users", "add-bureau", "caizhengju", "--db", str(bureau.db)]) == 2
    assert "已存在" in capsys.readouterr().err


def test_the_server_log_is_chinese_and_names_a_port_in_use(tmp_path):
    """uvicorn's own lines (start, stop, a port already taken) reach the IT person in Chinese."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from .web_servers import free_port

    port = free_port()
    argv = [sys.executable, "-m", "budgetxl.cli", "serve", "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and first.poll() is None, "server did not start"
                time.sleep(0.2)
        second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    finally:
        first.send_signal(signal.SIGINT)
        out, _ = first.communicate(timeout=30)
    assert second.returncode != 0
    assert f"无法监听 127.0.0.1:{port}：端口已被其他程序占用" in second.stderr and "--port" in second.stderr, second.stderr
    assert f"正在监听 http://127.0.0.1:{port}" in out and "请求 127.0.0.1" in out and "服务已停止" in out, out
    for english in ("INFO", "Uvicorn", "Started server", "Application startup", "Errno"):
        assert english not in out + second.stderr


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_stopping_the_server_leaves_no_worker_running(tmp_path, how):
    """The server's worker processes end with it, even when it is killed outright."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from .web_servers import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "budgetxl.cli", "serve", "--port", str(port), "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:  # the two warm-up workers (and the resource tracker)
            workers = _children(server.pid)
            time.sleep(0.2)
        assert len(workers) >= 2, workers
        os.kill(server.pid, getattr(signal, how))
        server.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
            time.sleep(0.2)
        left = [w for w in workers if Path(f"/proc/{w}").exists()]
    finally:
        if server.poll() is None:
            server.kill()
    for w in left:  # do not leave them behind for the rest of the suite
        os.kill(w, signal.SIGKILL)
    assert left == []
