"""The bureau's list of departments and units expected to submit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..grid import read_workbook
from ..textnorm import squash, tidy


@dataclass(frozen=True)
class Member:
    name: str
    code: str = ""


class RosterError(ValueError):
    """The roster file cannot be used; the message is for the user."""


def read_roster(path: str | Path) -> list[Member]:
    """First sheet; a header row with 单位名称 (and optionally 单位编码)."""
    grid = read_workbook(path)
    sheet = grid.sheets[grid.names[0]]
    for r in range(1, min(sheet.height, 10) + 1):
        header = [squash(sheet.value(r, c)) for c in range(1, sheet.width + 1)]
        if "单位名称" in header:
            name_col = header.index("单位名称") + 1
            code_col = header.index("单位编码") + 1 if "单位编码" in header else None
            members = []
            for row in range(r + 1, sheet.height + 1):
                name = tidy(sheet.value(row, name_col))
                if name:
                    members.append(Member(name, tidy(sheet.value(row, code_col)) if code_col else ""))
            return members
    raise RosterError(f"名单 {Path(path).name} 的第一个工作表中找不到“单位名称”列。")
