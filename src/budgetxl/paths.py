"""File names: what budgetxl names the files it writes, and which files of a
folder it takes as workbooks. Department names are typed by people: a name made
from one never escapes its folder and is never empty."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_name(text: str, limit: int = 80) -> str:
    """A file name from text a department typed: no separators, NUL, control
    characters, leading dots or '..'; never empty; bounded length."""
    name = _UNSAFE.sub("_", text or "")
    name = name.replace("..", "_").strip().lstrip(".").strip()
    if not re.search(r"[^\W_]", name):  # nothing but punctuation left
        return "未命名单位"
    return name[:limit]


def output_stem(department: str, year: int | None) -> str:
    return safe_name(f"{year or ''}年{department}部门预算公开")


def find_workbooks(paths: Iterable[str | Path]) -> list[Path]:
    """The workbooks named, and those in the folders named (recursively, no
    Excel lock files or hidden files), each once."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in WORKBOOK_SUFFIXES and not x.name.startswith(("~$", ".")))
        else:
            found.append(p)
    seen, unique = set(), []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique
