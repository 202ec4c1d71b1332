"""A generated hostile corpus for the batch and the writers (issue 13, classes 2–5).

Every file is made from the real example by editing its package the way a
careless tool or an attacker would. ``python -m tests.robust_corpus DIR``
writes them to DIR to try by hand.

Class 2 — text that cannot be written: control characters (``_x000B_``, NUL),
a 70-character name (over the file-system limit once decorated), a 300-character
name (over the docx property limit), a right-to-left override in the name,
sheet names with ``/`` and ``[``, NaN/INF numbers.
Class 5 (writer side) — a merge across the computed cells E7:G7 of 表3.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path
from typing import Callable

from .builders import FIXED_NAME, variant
from .conftest import EXAMPLE

NAME = "阿克陶县社会保险中心"


def zip_edit(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, change(item.filename, zin.read(item.filename)))
    return target


def named(target: Path, name: str) -> Path:
    """The example with the department called ``name`` (as stored in the package: escapes stay escapes)."""
    return variant(EXAMPLE, target, {**FIXED_NAME, NAME: name})


def base(target: Path) -> Path:
    return variant(EXAMPLE, target, FIXED_NAME)


def sheet_names(target: Path) -> Path:
    tmp = target.with_suffix(".base.xlsx")
    base(tmp)

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/workbook.xml":
            return data.decode().replace('name="单位信息"', 'name="单位/信息[1]"', 1).encode()
        return data

    zip_edit(tmp, target, change)
    tmp.unlink()
    return target


def non_finite(target: Path) -> Path:
    tmp = target.with_suffix(".base.xlsx")
    base(tmp)

    def change(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/sheet"):
            text = data.decode()
            text = re.sub(r'(<c r="F8"[^>]*>)<v>[^<]*</v>', r"\1<v>NaN</v>", text)
            text = re.sub(r'(<c r="G8"[^>]*>)<v>[^<]*</v>', r"\1<v>INF</v>", text)
            return text.encode()
        return data

    zip_edit(tmp, target, change)
    tmp.unlink()
    return target


def merged_computed(target: Path) -> Path:
    import openpyxl

    from budgetxl.spec import load_spec

    base(target)
    wb = openpyxl.load_workbook(target)
    ws = wb[load_spec().table("T3").sheet]
    for c in ("E7", "F7", "G7"):
        ws[c] = None
    ws.merge_cells("E7:G7")
    wb.save(target)
    return target


# (file name, builder, the department name as it will be read)
WRITING: list[tuple[str, Callable[[Path], Path]]] = [
    ("控制字符.xlsx", lambda p: named(p, "阿克陶县_x000B_社会_x0000_保险中心")),
    ("竖线制表.xlsx", lambda p: named(p, "阿克陶县_x000C_社会保险_x001F_中心")),
    ("七十字单位.xlsx", lambda p: named(p, "阿克陶县" + "很长的单位名称" * 10)),
    ("三百字单位.xlsx", lambda p: named(p, "阿克陶县" + "很长" * 150)),
    ("方向字符.xlsx", lambda p: named(p, "阿克陶县\u202egpj.exe")),
    ("零宽字符.xlsx", lambda p: named(p, "阿克陶县\u200b社会\u2066保险\u2069中心")),
    ("斜杠方括号.xlsx", lambda p: named(p, "阿克陶县/社会[保险]中心")),
    ("工作表名非法.xlsx", sheet_names),
    ("非数值.xlsx", non_finite),
    ("合并计算单元格.xlsx", merged_computed),
]


def build(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make(folder / name) for name, make in WRITING]


if __name__ == "__main__":
    for p in build(Path(sys.argv[1] if len(sys.argv) > 1 else "robust-corpus")):
        print(p)
