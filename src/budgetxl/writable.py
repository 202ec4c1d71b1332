"""Text that can be written: cleaned at the boundary where it is written.

A department's workbook may hold text no file format accepts: control
characters (``_x000B_``, NUL, the line break Word pastes as a vertical tab),
lone surrogates, text far too long for a document property, or — in a file
name — right-to-left overrides and other invisible format characters that
make ``甲.exe‮xslx`` look like something else. budgetxl reads such text as it
is (the database keeps the original) and cleans it only where it writes a
cell, a file name or a document property. Every cleaning is recorded, so the
front end can report it as problem P14.

``recording()`` collects the cleanings of one write (a context variable: each
thread or worker process has its own); outside it cleaning is silent.
"""

from __future__ import annotations

import contextvars
import math
import re
import unicodedata
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterator

from . import records
from .records import dataclass

# what XML 1.0 (and so every OOXML part) cannot hold, as openpyxl checks it, plus
# lone surrogates and the two non-characters lxml refuses
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = "\x0b\x0c"  # Word's manual line break / page break pasted into Excel
# OOXML's escape for a character (``_x000B_``): Excel decodes it on reading, so a
# literal escape of a control character written back would come back as one
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

DOC_PROPERTY_LIMIT = 255  # characters python-docx / Word accept in a core property


@dataclass(frozen=True)
class Cleaning:
    where: str  # a cell reference, "文件名" or "文档属性"
    original: str
    cleaned: str
    why: str


_SINK: contextvars.ContextVar[list[Cleaning] | None] = contextvars.ContextVar("budgetxl_cleanings", default=None)


@contextmanager
def recording() -> Iterator[list[Cleaning]]:
    """Collect every cleaning made inside the block (nested blocks share the outer list)."""
    outer = _SINK.get()
    if outer is not None:
        yield outer
        return
    sink: list[Cleaning] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)


def _note(where: str, original: str, cleaned: str, why: str) -> None:
    sink = _SINK.get()
    if sink is not None and not any(c.where == where and c.original == original for c in sink):
        sink.append(Cleaning(where, original, cleaned, why))


def _describe(chars: set[str]) -> str:
    return "、".join(sorted(f"U+{ord(c):04X}" for c in chars))


def cell_text(text: str, where: str = "") -> str:
    """Text a cell (or any XML part) can hold: control characters removed, Word's
    line breaks made ordinary line breaks, escapes of control characters removed."""
    if not isinstance(text, str):
        return text
    bad = set(_ILLEGAL.findall(text))
    escaped = [m for m in _ESCAPE.finditer(text) if _ILLEGAL.match(chr(int(m.group(1), 16)))]
    if not bad and not escaped:
        return text
    cleaned = _ESCAPE.sub(lambda m: "" if _ILLEGAL.match(chr(int(m.group(1), 16))) else m.group(0), text)
    for c in _LINE_BREAKS:
        cleaned = cleaned.replace(c, "\n")
    cleaned = _ILLEGAL.sub("", cleaned)
    bad |= {chr(int(m.group(1), 16)) for m in escaped}
    _note(where, text, cleaned, f"含有无法写入文件的控制字符（{_describe(bad)}）")
    return cleaned


def property_text(text: str, where: str = "文档属性") -> str:
    """A document property: cell-safe and at most 255 characters."""
    cleaned = cell_text(text, where)
    if len(cleaned) > DOC_PROPERTY_LIMIT:
        short = cleaned[: DOC_PROPERTY_LIMIT - 1] + "…"
        _note(where, text, short, f"长度 {len(cleaned)} 个字符，文档属性最多 {DOC_PROPERTY_LIMIT} 个")
        return short
    return cleaned


def name_text(text: str) -> str:
    """Text for a file name: also without bidi overrides and other invisible
    format characters (category Cf), which can disguise a name."""
    cleaned = cell_text(text, "文件名")
    hidden = {c for c in cleaned if unicodedata.category(c) == "Cf" or _BIDI.match(c)}
    if hidden:
        cleaned2 = "".join(c for c in cleaned if c not in hidden)
        _note("文件名", text, cleaned2, f"含有改变文字方向或不可见的格式字符（{_describe(hidden)}）")
        cleaned = cleaned2
    return cleaned


def cell_number(value):
    """A number a cell can hold: NaN and infinities become blank."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return value


def scrub(obj: Any) -> Any:
    """A copy of a model (Disclosure, Table, Text …) with every text cell-safe.
    Cell references are kept as they are: they name cells, they are not written as text."""
    from .model import CellRef, Text, frozen_map

    if isinstance(obj, str):
        return cell_text(obj, "")
    if isinstance(obj, Text):
        value = cell_text(obj.value, str(obj.ref) if obj.ref else "")
        return obj if value is obj.value else Text(value, obj.ref)
    if isinstance(obj, (CellRef, Decimal, int, float, bool)) or obj is None:
        return obj
    if records.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in records.fields(obj):
            if not f.init:
                continue
            old = getattr(obj, f.name)
            new = scrub(old)
            if new is not old:
                changes[f.name] = new
        return records.replace(obj, **changes) if changes else obj
    if isinstance(obj, tuple):
        items = tuple(scrub(x) for x in obj)
        return obj if all(a is b for a, b in zip(items, obj)) else items
    if isinstance(obj, list):
        return [scrub(x) for x in obj]
    if hasattr(obj, "items") and hasattr(obj, "keys"):
        pairs = [(k, scrub(v)) for k, v in obj.items()]
        if all(v is obj[k] for k, v in pairs):
            return obj
        return frozen_map(pairs)
    return obj


def findings(cleanings: list[Cleaning]) -> list:
    """The cleanings as P14 findings: one per distinct text, naming every cell it was in."""
    from .model import CellRef
    from .problems import problem

    groups: dict[tuple[str, str], list[Cleaning]] = {}
    for c in cleanings:
        groups.setdefault((c.original, c.why), []).append(c)
    out = []
    for (original, why), group in groups.items():
        refs, places = [], []
        for c in group:
            try:
                refs.append(CellRef.parse(c.where))
            except ValueError:
                if c.where and c.where not in places:
                    places.append(c.where)
        shown = original if len(original) <= 40 else original[:40] + "…"
        shown = "".join(f"[U+{ord(ch):04X}]" if _ILLEGAL.match(ch) or unicodedata.category(ch) == "Cf" else ch for ch in shown)
        where = "、".join([*places, *(str(r) for r in refs[:3])]) or "文字"
        if len(refs) > 3:
            where += f" 等 {len(refs)} 个单元格"
        out.append(problem("P14", f"{where} 中的文字“{shown}”{why}，写入时已清理；原文件和数据库中保持原样。请在 Excel 中删除这些字符后重新保存。", refs))
    return out
