"""What every response and every upload goes through: security headers, the
streamed upload limit, CSRF tokens."""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_UPLOAD = 20 * 1024 * 1024

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Adds the headers above to every response; pages and downloads are private (no-store)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in HEADERS.items():
                    headers[k] = v
                if not static:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LocalHostOnly:
    """Local mode answers only requests addressed to this computer (Host 127.0.0.1 / localhost):
    a web page whose name was re-pointed at 127.0.0.1 (DNS rebinding) gets nothing."""

    ALLOWED = {"127.0.0.1", "localhost", "[::1]"}

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.ALLOWED:
                from starlette.responses import PlainTextResponse

                response = PlainTextResponse("本机模式只接受发往 127.0.0.1 或 localhost 的请求。", status_code=400)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


class UploadTooLarge(Exception):
    """The request body passed the limit (checked while it streams in)."""

    def __init__(self, limit: int):
        self.limit = limit


def limited(request: Request, limit: int) -> Request:
    """The request with its body counted as it arrives: past ``limit`` bytes the
    upload stops (UploadTooLarge), whatever Content-Length claimed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(limit)
    seen = 0
    receive = request.receive

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise UploadTooLarge(limit)
        return message

    return Request(request.scope, counted)


async def read_upload(request: Request, limit: int) -> tuple[dict[str, str], UploadFile | None]:
    """The form's text fields and its one file (field ``file``)."""
    form = await limited(request, limit).form(max_files=1, max_fields=10, max_part_size=64 * 1024)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    return fields, upload if isinstance(upload, UploadFile) else None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, fields: dict[str, str]) -> None:
    expected = request.session.get("csrf", "")
    given = fields.get("csrf", "") or request.headers.get("x-csrf-token", "")
    if not expected or not secrets.compare_digest(str(given), str(expected)):
        raise HTTPException(403, "csrf")
