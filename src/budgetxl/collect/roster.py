"""The bureau's list of departments and units expected to submit."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..grid import read_workbook
from ..records import dataclass
from ..textnorm import squash, tidy


@dataclass(frozen=True)
class Member:
    name: str
    code: str = ""
    deadline: dt.date | None = None  # 截止日期, when the roster gives one


from ..errors import RosterError  # noqa: E402,F401

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _deadline(value, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.match(squash(value))
    if m:
        try:
            return dt.date(*map(int, m.groups()))
        except ValueError:
            pass
    raise RosterError(f"名单 {where} 的截止日期“{tidy(value)}”无法识别：请填日期，如 2026-01-20 或 2026年1月20日，或留空。")


def read_roster(path: str | Path) -> list[Member]:
    """First sheet; a header row with 单位名称 (and optionally 单位编码, 截止日期)."""
    grid = read_workbook(path)
    sheet = grid.sheets[grid.names[0]]
    for r in range(1, min(sheet.height, 10) + 1):
        header = [squash(sheet.value(r, c)) for c in range(1, sheet.width + 1)]
        if "单位名称" in header:
            name_col = header.index("单位名称") + 1
            code_col = header.index("单位编码") + 1 if "单位编码" in header else None
            date_col = header.index("截止日期") + 1 if "截止日期" in header else None
            members = []
            for row in range(r + 1, sheet.height + 1):
                name = tidy(sheet.value(row, name_col))
                if name:
                    deadline = _deadline(sheet.value(row, date_col), f"{Path(path).name} 第 {row} 行") if date_col else None
                    members.append(Member(name, tidy(sheet.value(row, code_col)) if code_col else "", deadline))
            return members
    raise RosterError(f"名单 {Path(path).name} 的第一个工作表中找不到“单位名称”列。")
