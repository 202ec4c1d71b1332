"""``budgetxl serve``: the web page for departments and the bureau.

Two modes, one ASGI application (Starlette, Jinja2 templates shipped in the
package, served by uvicorn):

- local (no database): one page to drop a workbook, see the findings and
  download the annotated copy, the subtotalled copy, the 情况说明 and the
  disclosure files — all made by ``budgetxl.pipeline``;
- bureau (``db`` and ``roster`` given): departments log in and upload through
  the same intake as ``budgetxl collect`` (``collect.intake.process_file`` +
  ``collect.store.Store``); the bureau sees every unit's status and the totals.

Reading, checking and rendering run in a process pool (``work``), so the event
loop keeps answering while documents are made. Writes to the database are
serialised in this process by one lock (and between processes by SQLite).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..collect.roster import Member
from ..model import Severity
from ..model_json import decimal_default
from ..records import dataclass, field
from ..spec import Spec
from . import charts, work
from .accounts import Accounts, User
from .security import MAX_UPLOAD, LocalHostOnly, SecurityHeaders, UploadTooLarge, check_csrf, csrf_token, read_upload

log = logging.getLogger("budgetxl.web")

KEEP_MINUTES = 30
SESSION_HOURS = 8
STATUSES = ("未报送", "无法读取", "有错误", "有警告", "通过")


@dataclass
class Config:
    spec: Spec
    db: Path | None = None
    roster: list[Member] = field(default_factory=list)
    max_upload: int = MAX_UPLOAD
    workers: int = 2
    https_cookies: bool = False

    @property
    def bureau(self) -> bool:
        return self.db is not None


class WorkFailed(Exception):
    """A worker could not finish; the message is for the user."""


class LoginRequired(Exception):
    pass


@dataclass
class Kept:
    """A local-mode upload kept for its downloads: a server-made folder, its owner's session, an expiry."""

    folder: Path
    owner: str
    expires: float
    stem: str
    name: str


class Server:
    def __init__(self, config: Config):
        self.config = config
        self.spec = config.spec
        self.pool: ProcessPoolExecutor | None = None
        self.pool_lock = threading.Lock()
        self.db_lock = threading.Lock()  # one writer per process; SQLite serialises the rest
        self.root = Path(tempfile.mkdtemp(prefix="budgetxl-web-"))  # 0700, ours alone
        self.kept: dict[str, Kept] = {}
        self.accounts = Accounts(config.db) if config.bureau else None
        self.uploads = Path(f"{config.db}.uploads").resolve() if config.bureau else None  # absolute: file_path outlives the cwd
        if self.uploads:
            self.uploads.mkdir(mode=0o700, exist_ok=True)
        self.env = Environment(loader=PackageLoader("budgetxl.web", "templates"), autoescape=select_autoescape(["html"]))
        self.env.filters["money"] = _money
        self.env.tests["decimal"] = lambda v: isinstance(v, Decimal)
        self.env.globals["statuses"] = STATUSES

    # ------------------------------------------------------------ workers

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.config.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=work.watch_parent, initargs=(os.getpid(),))

    def start(self) -> None:
        self.pool = self._new_pool()
        for _ in range(self.config.workers):
            self.pool.submit(work.warm)

    def stop(self) -> None:
        if self.pool:
            self.pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)

    async def run(self, fn, *args):
        """Run ``fn`` in a worker process; a dead worker (a file that killed it) is a Chinese message."""
        loop = asyncio.get_running_loop()
        pool = self.pool
        try:
            return await loop.run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            with self.pool_lock:
                if self.pool is pool:
                    self.pool = self._new_pool()
            raise WorkFailed("处理该文件时工作进程异常退出（文件可能损坏或过大）。请在 Excel 或 WPS 中重新保存为 .xlsx 后再上传。")

    # ------------------------------------------------------------ pages

    def page(self, request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        html = self.env.get_template(template).render(
            csrf=csrf_token(request) if "session" in request.scope else "", user=user, bureau_mode=self.config.bureau,
            max_mb=self.config.max_upload // (1024 * 1024), **context,
        )
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, status: int, title: str, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return self.page(request, "error.html", status, title=title, message=message)

    # ------------------------------------------------------------ sessions

    def user(self, request: Request) -> User | None:
        uid = request.session.get("uid")
        if not uid or not self.accounts:
            return None
        if time.time() - request.session.get("since", 0) > SESSION_HOURS * 3600:
            request.session.clear()
            return None
        user = self.accounts.user(int(uid))
        if not user or user.stamp != request.session.get("stamp"):
            request.session.clear()  # password changed or account disabled: every old session ends
            return None
        request.state.user = user
        return user

    def require(self, request: Request, role: str | None = None, allow_must_change: bool = False) -> User:
        user = self.user(request)
        if user is None:
            raise LoginRequired()
        if user.must_change and not allow_must_change:
            raise LoginRequired("password")
        if role and user.role != role:
            raise HTTPException(403)
        return user

    def owner_key(self, request: Request) -> str:
        key = request.session.get("owner")
        if not key:
            key = request.session["owner"] = secrets.token_urlsafe(16)
        return key

    # ------------------------------------------------------------ files

    async def save_upload(self, upload: UploadFile, target: Path) -> int:
        """Copy the (already size-limited) upload to a path the server chose."""

        def copy() -> int:
            upload.file.seek(0)
            with open(target, "xb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
                return out.tell()

        return await run_in_threadpool(copy)

    def sweep(self) -> None:
        now = time.time()
        for token, kept in list(self.kept.items()):
            if kept.expires < now:
                self.kept.pop(token, None)
                shutil.rmtree(kept.folder, ignore_errors=True)


def _money(value) -> str:
    if value is None or (not isinstance(value, (str, Decimal)) and value != value):
        return ""
    from ..money import fmt

    return fmt(Decimal(str(value)))


def display_name(upload: UploadFile | None) -> str:
    """The file name a browser sent: display text only (last path part, bounded, printable)."""
    name = (upload.filename or "") if upload else ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:120]
    return name or "工作簿.xlsx"


def _content_disposition(name: str) -> str:
    ext = Path(name).suffix if Path(name).suffix.isascii() else ""
    ascii_name = f"budgetxl{ext}"  # old clients; every browser uses filename*
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def file_response(path: Path, name: str, media_type: str, cleanup: Path | None = None) -> Response:
    return FileResponse(
        path, media_type=media_type, headers={"content-disposition": _content_disposition(name)},
        background=BackgroundTask(shutil.rmtree, cleanup, True) if cleanup else None,
    )


def group_findings(findings: list[dict]) -> list[tuple[str, list[dict]]]:
    return [(s.value, [f for f in findings if f["severity"] == s.value]) for s in Severity]


def report_json(report, name: str) -> dict:
    data = report.to_json()
    data["source"] = name  # the uploaded name, never a server path
    return json.loads(json.dumps(data, ensure_ascii=False, default=decimal_default))


# ================================================================ routes


def create_app(config: Config) -> Starlette:
    server = Server(config)
    bureau = config.bureau
    spec = config.spec

    async def upload_or_error(request: Request) -> tuple[dict, UploadFile]:
        fields, upload = await read_upload(request, config.max_upload)
        check_csrf(request, fields) if not request.url.path.startswith("/api/") else None
        if upload is None or not upload.filename and upload.size == 0:
            raise HTTPException(400, "请选择要上传的工作簿（.xlsx）。")
        return fields, upload

    async def checked_upload(upload: UploadFile) -> tuple[Path, work.Checked]:
        folder = Path(tempfile.mkdtemp(dir=server.root))
        path = folder / "upload.xlsx"
        await server.save_upload(upload, path)
        try:
            return folder, await server.run(work.check_file, str(path), spec)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    # ------------------------------------------------------------ shared

    async def template_file(request: Request) -> Response:
        target = server.root / "template" / "budget_template.xlsx"
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            from .. import pipeline

            await run_in_threadpool(pipeline.write_template, target, spec)
        return file_response(target, "部门预算公开标准模板.xlsx", work.XLSX)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def api_check(request: Request) -> Response:
        """POST /api/check (multipart field ``file``): the JSON of ``budgetxl check --json``."""
        if bureau:
            user = server.user(request)
            if user is None or user.must_change:
                return JSONResponse({"error": "请先登录（本接口需要财政局或单位账户）。"}, status_code=401)
            check_csrf(request, {})  # a session cookie alone is not enough: the page's token in X-CSRF-Token
        _, upload = await upload_or_error(request)
        folder, checked = await checked_upload(upload)
        shutil.rmtree(folder, ignore_errors=True)  # nothing kept
        if checked.report is None:
            return JSONResponse({"error": checked.error, "source": display_name(upload)}, status_code=422)
        return JSONResponse(report_json(checked.report, display_name(upload)))

    # ------------------------------------------------------------ local mode

    async def local_home(request: Request) -> Response:
        return server.page(request, "local.html")

    async def local_check(request: Request) -> Response:
        server.sweep()
        fields, upload = await upload_or_error(request)
        name = display_name(upload)
        folder, checked = await checked_upload(upload)
        if checked.report is None:
            shutil.rmtree(folder, ignore_errors=True)
            return server.page(request, "error.html", 422, title="无法读取工作簿", message=f"{name}：{checked.error}")
        token = ""
        if fields.get("keep"):
            token = secrets.token_urlsafe(24)
            server.kept[token] = Kept(folder, server.owner_key(request), time.time() + KEEP_MINUTES * 60, checked.stem, name)
        else:
            shutil.rmtree(folder, ignore_errors=True)
        data = report_json(checked.report, name)
        return server.page(
            request, "local_result.html", name=name, report=data, groups=group_findings(data["findings"]),
            token=token, downloads=work.DOWNLOADS, keep_minutes=KEEP_MINUTES,
        )

    def kept_for(request: Request, token: str) -> Kept:
        server.sweep()
        kept = server.kept.get(token)
        if kept is None or not secrets.compare_digest(kept.owner, request.session.get("owner", "")):
            raise HTTPException(404)
        return kept

    async def local_download(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in work.DOWNLOADS:
            raise HTTPException(404)
        kept = kept_for(request, request.path_params["token"])
        out = Path(tempfile.mkdtemp(dir=kept.folder))
        path, note = await server.run(work.make_download, kind, str(kept.folder / "upload.xlsx"), str(out), spec)
        if not path:
            shutil.rmtree(out, ignore_errors=True)
            return server.page(request, "error.html", 422, title="无法生成该文件", message=note)
        label, suffix, media = work.DOWNLOADS[kind]
        return file_response(Path(path), f"{kept.stem}{suffix}", media, cleanup=out)

    async def local_delete(request: Request) -> Response:
        fields = dict((k, v) for k, v in (await request.form(max_files=0, max_fields=5)).items() if isinstance(v, str))
        check_csrf(request, fields)
        kept = kept_for(request, request.path_params["token"])
        server.kept.pop(request.path_params["token"], None)
        shutil.rmtree(kept.folder, ignore_errors=True)
        return server.page(request, "local.html", notice=f"已删除 {kept.name} 及其生成的文件。")

    # ------------------------------------------------------------ bureau mode: accounts

    def client_ip(request: Request) -> str:
        return request.client.host if request.client else ""

    async def login_page(request: Request) -> Response:
        return server.page(request, "login.html")

    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        check_csrf(request, fields)
        name, password, ip = fields.get("login", "").strip()[:64], fields.get("password", "")[:200], client_ip(request)
        accounts = server.accounts
        if await run_in_threadpool(accounts.throttled, name, ip):
            await run_in_threadpool(accounts.audit, "throttled", name, ip, False)
            return server.page(request, "login.html", 429, error="登录失败次数过多，请 15 分钟后再试；忘记密码请联系财政局重新发放。", login=name)
        user = await run_in_threadpool(accounts.verify, name, password)
        await run_in_threadpool(accounts.audit, "login", name, ip, user is not None)
        if user is None:
            return server.page(request, "login.html", 401, error="登录名或密码不正确。", login=name)
        request.session.clear()  # a fresh session (and CSRF token) at every login
        # the session's CSRF token is made here, once: pages opened at the same time all carry the same one
        request.session.update({"uid": user.id, "stamp": user.stamp, "since": time.time(), "csrf": secrets.token_urlsafe(32)})
        return RedirectResponse("/password" if user.must_change else "/", status_code=303)

    async def logout(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        check_csrf(request, {k: v for k, v in form.items() if isinstance(v, str)})
        user = server.user(request)
        if user:
            await run_in_threadpool(server.accounts.audit, "logout", user.login, client_ip(request), True)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def password_page(request: Request) -> Response:
        user = server.require(request, allow_must_change=True)
        return server.page(request, "password.html", first=user.must_change)

    async def password(request: Request) -> Response:
        user = server.require(request, allow_must_change=True)
        form = await request.form(max_files=0, max_fields=5)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        check_csrf(request, fields)
        new, again = fields.get("new", ""), fields.get("again", "")
        problem = ""
        if not user.must_change and not await run_in_threadpool(server.accounts.verify, user.login, fields.get("current", "")):
            problem = "当前密码不正确。"
        elif len(new) < 10 or len(new) > 200:
            problem = "新密码至少 10 个字符。"
        elif new != again:
            problem = "两次输入的新密码不一致。"
        elif await run_in_threadpool(server.accounts.verify, user.login, new):
            problem = "新密码不能与原密码相同。"
        if problem:
            return server.page(request, "password.html", 400, first=user.must_change, error=problem)
        await run_in_threadpool(server.accounts.set_password, user.id, new)
        await run_in_threadpool(server.accounts.audit, "password", user.login, client_ip(request), True)
        fresh = server.accounts.user(user.id)
        request.session.update({"stamp": fresh.stamp, "csrf": secrets.token_urlsafe(32)})
        return RedirectResponse("/", status_code=303)

    async def bureau_home(request: Request) -> Response:
        user = server.require(request)
        return RedirectResponse("/bureau" if user.is_bureau else "/department", status_code=303)

    # ------------------------------------------------------------ bureau mode: data

    def connect() -> sqlite3.Connection:
        from ..paths import database_uri

        conn = sqlite3.connect(database_uri(config.db, "rwc"), uri=True, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    def all_submissions() -> list[sqlite3.Row]:
        with contextlib.closing(connect()) as conn:
            return conn.execute(
                "SELECT id, department, unit_code, version, status, errors, warnings, infos, received_at, file_name, error, readable "
                "FROM submissions ORDER BY id"
            ).fetchall()

    def submissions_of(user: User | None, department: Member | None = None, rows: list | None = None) -> list[dict]:
        """Every version sent for one department (an account's, or a roster member's), oldest first."""
        who = user or User(0, "", "department", department.name, department.code, False, "")
        return [dict(r) for r in (all_submissions() if rows is None else rows) if who.owns(r["department"], r["unit_code"])]

    def submission(sid: int) -> dict | None:
        with contextlib.closing(connect()) as conn:
            row = conn.execute("SELECT * FROM submissions WHERE id = ?", (sid,)).fetchone()
            if not row:
                return None
            findings = conn.execute(
                "SELECT code, severity, title, message, cells, expected, actual, difference FROM findings WHERE submission_id = ? "
                "ORDER BY CASE severity WHEN '错误' THEN 0 WHEN '警告' THEN 1 ELSE 2 END, rowid",
                (sid,),
            ).fetchall()
        out = dict(row)
        out["findings"] = [dict(f, refs=[c for c in f["cells"].split("；") if c]) for f in findings]
        return out

    def authorised(request: Request, sid: int) -> tuple[User, dict]:
        """The submission, if this account may see it: the bureau sees all, a department its own."""
        user = server.require(request)
        sub = submission(sid)
        if sub is None:
            raise HTTPException(404)
        if not user.is_bureau and not user.owns(sub["department"], sub["unit_code"]):
            raise HTTPException(403)
        return user, sub

    async def department_home(request: Request) -> Response:
        user = server.require(request, "department")
        versions = await run_in_threadpool(submissions_of, user)
        latest = await run_in_threadpool(submission, versions[-1]["id"]) if versions else None
        return server.page(
            request, "department.html", versions=list(reversed(versions)), latest=latest,
            groups=group_findings(latest["findings"]) if latest else [],
        )

    async def department_upload(request: Request) -> Response:
        user = server.require(request, "department")
        ip = client_ip(request)
        _, upload = await upload_or_error(request)
        name = display_name(upload)
        part = server.uploads / f".part-{secrets.token_hex(8)}"
        try:
            await server.save_upload(upload, part)
            sha = await run_in_threadpool(_sha256, part)
            final = server.uploads / f"{sha}.xlsx"
            created = not final.exists()
            if created:
                os.replace(part, final)
        finally:
            part.unlink(missing_ok=True)
        from ..collect.intake import process_file

        try:
            sub = await server.run(process_file, str(final), spec)
        except WorkFailed:
            if created:
                final.unlink(missing_ok=True)
            raise
        sub.file_name = name  # display text only; the file on disk is named by its hash
        if sub.readable and not user.owns(sub.department, sub.unit_code):
            if created:  # refused: nothing of it stays on the server
                final.unlink(missing_ok=True)
            await run_in_threadpool(server.accounts.audit, "upload", user.login, ip, False, f"单位名称不符：{sub.department}（{name}）")
            told = f"“{sub.department}”" if sub.department else "（未填写）"
            return server.page(
                request, "error.html", 403, title="单位名称不符，未接收",
                message=f"{name} 的“单位信息”中单位名称为{told}，与登录的单位“{user.department}”不一致。"
                "请在工作簿中填写本单位名称后重新上传；每个账户只能报送本单位的工作簿。",
            )
        if not sub.readable:  # a file we cannot read still belongs to whoever sent it
            sub.department, sub.unit_code = user.department, user.unit_code

        def store() -> tuple[int, bool]:
            from ..collect.store import Store

            with server.db_lock, Store(config.db) as db:
                return db.add(sub)

        sid, new = await run_in_threadpool(store)
        if new:
            await run_in_threadpool(server.accounts.record_upload, sid, user.id)
        await run_in_threadpool(server.accounts.audit, "upload", user.login, ip, True, f"第 {sid} 号报送，{sub.status}（{name}）" + ("" if new else "，已收过"))
        return RedirectResponse(f"/submissions/{sid}", status_code=303)

    async def submission_page(request: Request) -> Response:
        user, sub = await run_in_threadpool(authorised, request, int(request.path_params["sid"]))
        return server.page(request, "submission.html", sub=sub, groups=group_findings(sub["findings"]))

    async def feedback(request: Request) -> Response:
        user, sub = await run_in_threadpool(authorised, request, int(request.path_params["sid"]))
        if not sub["readable"]:
            raise HTTPException(404)
        out = Path(tempfile.mkdtemp(dir=server.root))
        path, note = await server.run(work.feedback_file, sub["file_path"], str(out), spec)
        if not path:
            shutil.rmtree(out, ignore_errors=True)
            return server.page(request, "error.html", 404, title="无法生成反馈文件", message=note)
        from ..paths import output_stem

        name = f"{output_stem(sub['department'], sub['year'])}_第{sub['version']}版_校验结果.xlsx"
        return file_response(Path(path), name, work.XLSX, cleanup=out)

    def analysis():
        from ..collect.status import analyse

        result = analyse(config.db, config.roster or None)
        status = result.status.astype(object).where(result.status.notna(), None).to_dict("records")
        # the intake's status is that of the latest readable version; a unit whose latest upload
        # could not be read is 无法读取 until it sends a readable one
        members = {m.name: m for m in config.roster}
        rows = all_submissions()
        for row in status:
            for key in ("最新版本", "汇总使用版本", "错误", "警告", "提示"):  # pandas made them floats beside blanks
                row[key] = int(row[key]) if row[key] is not None and row[key] == row[key] else None
            m = members.get(row["单位名称"])
            versions = submissions_of(None, m or Member(row["单位名称"], row["单位编码"] or ""), rows)
            row["index"] = list(members).index(row["单位名称"]) if m else None
            if versions and not versions[-1]["readable"]:
                row["状态"] = "无法读取"
        return result, status

    async def dashboard(request: Request) -> Response:
        server.require(request, "bureau")
        result, status = await run_in_threadpool(analysis)
        counts = {s: sum(1 for r in status if r["状态"] == s) for s in STATUSES}
        totals = {name: frame.astype(object).where(frame.notna(), None) for name, frame in result.totals.items()}
        spending = totals.get("功能分类（类）")
        return server.page(
            request, "dashboard.html", units=status, counts=counts,
            progress_svg=charts.progress(counts), spending_svg=charts.bars(
                [(f"{r[0]} {r[1]}", r[2]) for r in spending.itertuples(index=False)] if spending is not None else [], "万元"),
            problems=result.problems.to_dict("records"),
            totals=[(name, list(frame.columns), [list(r) for r in frame.itertuples(index=False)]) for name, frame in totals.items()],
        )

    async def unit_page(request: Request) -> Response:
        server.require(request, "bureau")
        n = int(request.path_params["n"])
        if not 0 <= n < len(config.roster):
            raise HTTPException(404)
        member = config.roster[n]
        versions = await run_in_threadpool(submissions_of, None, member)
        latest = await run_in_threadpool(submission, versions[-1]["id"]) if versions else None
        return server.page(request, "unit.html", member=member, versions=list(reversed(versions)), latest=latest,
                           groups=group_findings(latest["findings"]) if latest else [])

    async def status_workbook(request: Request) -> Response:
        server.require(request, "bureau")
        out = Path(tempfile.mkdtemp(dir=server.root))

        def write() -> Path:
            from ..collect.status_book import write

            result, _ = analysis()
            return write(result, out / "status.xlsx")  # the same workbook as budgetxl report -o

        path = await run_in_threadpool(write)
        return file_response(path, "报送状态与汇总.xlsx", work.XLSX, cleanup=out)

    async def audit_page(request: Request) -> Response:
        server.require(request, "bureau")
        rows = await run_in_threadpool(server.accounts.audit_log)
        return server.page(request, "audit.html", rows=rows)

    # ------------------------------------------------------------ errors

    messages = {
        400: ("请求有误", "请求的格式不正确。请回到上传页面重新选择文件后提交。"),
        401: ("请先登录", "请先登录。"),
        403: ("没有权限", "没有权限查看或修改该内容：每个单位只能查看本单位的报送。"),
        404: ("找不到", "找不到该页面或文件（下载链接可能已过期，请重新上传）。"),
        405: ("不支持的请求", "不支持该请求方式。"),
        429: ("请求过多", "请求过于频繁，请稍后再试。"),
    }

    async def on_http_error(request: Request, exc: HTTPException) -> Response:
        title, message = messages.get(exc.status_code, ("请求未完成", "请求未能完成。"))
        if exc.status_code == 403 and exc.detail == "csrf":
            title, message = "页面已过期", "页面已过期或不是从本站提交的（安全校验未通过）。请刷新页面后重新提交。"
        elif exc.status_code == 400 and exc.detail and any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.detail)):
            message = str(exc.detail)
        return server.error(request, exc.status_code, title, message)

    async def on_too_large(request: Request, exc: UploadTooLarge) -> Response:
        mb = exc.limit // (1024 * 1024)
        response = server.error(request, 413, "文件过大", f"上传的文件超过 {mb} MB，未接收。部门预算工作簿通常只有几百 KB：请删除多余的工作表或图片后重新上传。")
        response.headers["connection"] = "close"
        return response

    async def on_work_failed(request: Request, exc: WorkFailed) -> Response:
        return server.error(request, 422, "无法处理该文件", str(exc))

    async def on_login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "请先登录。"}, status_code=401)
        return RedirectResponse("/password" if exc.args == ("password",) else "/login", status_code=303)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("request %s %s failed", request.method, request.url.path)
        try:
            return server.error(request, 500, "服务器出错", "服务器处理该请求时出错，已记录在服务器日志中。请稍后重试；如仍出错，请联系财政局信息管理人员。")
        except Exception:  # the page itself failed (no session in scope …): plain text, still no trace
            return PlainTextResponse("服务器处理该请求时出错，请稍后重试。", status_code=500)

    # ------------------------------------------------------------ assembly

    static = StaticFiles(directory=str(Path(__file__).parent / "static"))
    routes = [
        Route("/healthz", health),
        Route("/template.xlsx", template_file),
        Route("/api/check", api_check, methods=["POST"]),
        Mount("/static", static, name="static"),
    ]
    if bureau:
        routes += [
            Route("/", bureau_home),
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/password", password_page, methods=["GET"]),
            Route("/password", password, methods=["POST"]),
            Route("/department", department_home, methods=["GET"]),
            Route("/department/upload", department_upload, methods=["POST"]),
            Route("/submissions/{sid:int}", submission_page),
            Route("/submissions/{sid:int}/feedback.xlsx", feedback),
            Route("/bureau", dashboard),
            Route("/bureau/units/{n:int}", unit_page),
            Route("/bureau/status.xlsx", status_workbook),
            Route("/bureau/audit", audit_page),
        ]
        secret = server.accounts.secret()
    else:
        routes += [
            Route("/", local_home, methods=["GET"]),
            Route("/check", local_check, methods=["POST"]),
            Route("/download/{token}/{kind}", local_download, methods=["GET"]),
            Route("/download/{token}/delete", local_delete, methods=["POST"]),
        ]
        secret = secrets.token_urlsafe(48)  # local sessions end with the process

    @contextlib.asynccontextmanager
    async def lifespan(app):
        server.start()

        async def sweeper():
            while True:
                await asyncio.sleep(60)
                server.sweep()

        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            server.stop()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            *([] if bureau else [Middleware(LocalHostOnly)]),
            Middleware(SessionMiddleware, secret_key=secret, session_cookie="budgetxl_session", max_age=SESSION_HOURS * 3600,
                       same_site="strict", https_only=config.https_cookies),
        ],
        exception_handlers={HTTPException: on_http_error, UploadTooLarge: on_too_large, WorkFailed: on_work_failed,
                            LoginRequired: on_login_required, Exception: on_crash},
        lifespan=lifespan,
    )
    app.state.server = server
    return app


def _sha256(path: Path) -> str:
    from ..collect.intake import file_hash

    return file_hash(path)
