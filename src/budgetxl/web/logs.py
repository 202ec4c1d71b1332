"""The server's log in Chinese: uvicorn's own lines (start, stop, port in use)
rewritten, the rest passed through; no English INFO prefix."""

from __future__ import annotations

import logging
import re

_SAY = [
    (re.compile(r"^Started server process \[(\d+)\]$"), "服务已启动（进程号 {0}）"),
    (re.compile(r"^Uvicorn running on (\S+) \(Press CTRL\+C to quit\)$"), "正在监听 {0}（按 Ctrl+C 停止）"),
    (re.compile(r"^Shutting down$"), "正在停止……"),
    (re.compile(r"^Finished server process \[(\d+)\]$"), "服务已停止（进程号 {0}）"),
    (re.compile(r"^Waiting for connections to close\..*"), "等待正在处理的请求完成……"),
    (re.compile(r"^\[Errno 98\] error while attempting to bind on address (.+): .*$"),
     "无法监听 {0}：端口已被其他程序占用。请用 --port 换一个端口，或先停止占用它的程序。"),
    (re.compile(r"^\[Errno 13\] error while attempting to bind on address (.+): .*$"),
     "无法监听 {0}：没有权限（1024 以下的端口需要管理员权限）。请用 --port 换一个 1024 以上的端口。"),
    (re.compile(r"^\[Errno 99\] error while attempting to bind on address (.+): .*$"),
     "无法监听 {0}：本机没有这个地址。请检查 --host。"),
    (re.compile(r"^\[Errno \d+\] error while attempting to bind on address (.+): (.*)$"), "无法监听 {0}：{1}"),
    (re.compile(r"^Exception in ASGI application$"), "处理请求时出错（详情如下，请发给维护人员）"),
]
_ADDRESS = re.compile(r"^\('([^']*)', (\d+)\)$")  # ('127.0.0.1', 8000) → 127.0.0.1:8000
_QUIET = re.compile(r"^(Waiting for application (startup|shutdown)\.|Application (startup|shutdown) complete\.|"
                    r"Waiting for background tasks to complete\..*)$")


class ChineseMessages(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            return True
        if _QUIET.match(text):
            return False
        for pattern, say in _SAY:
            m = pattern.match(text)
            if m:
                groups = [_ADDRESS.sub(r"\1:\2", g) for g in m.groups()]
                record.msg, record.args = say.format(*groups), ()
                break
        return True


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"chinese": {"()": ChineseMessages}},
    "formatters": {
        "default": {"format": "%(asctime)s %(message)s", "datefmt": "%Y-%m-%d %H:%M:%S"},
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(asctime)s 请求 %(client_addr)s "%(request_line)s" %(status_code)s',
            "datefmt": "%Y-%m-%d %H:%M:%S",
            "use_colors": False,
        },
    },
    "handlers": {
        "default": {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["chinese"]},
        "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}
