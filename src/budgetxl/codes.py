"""Classification code lists: 支出功能分类 (类/款/项) and 部门预算支出经济分类 (类/款).

Shipped as versioned CSV files (``code,level,name,parent``) next to the spec;
a finance bureau that holds the official list loads its own CSV instead.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from .records import dataclass
from .spec import Spec, spec_resource

LEVEL_NAMES = {3: "类", 5: "款", 7: "项"}


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class CodeList:
    """A code list (功能分类 or 经济分类): code -> name, and where it was read from."""

    kind: str  # functional / economic
    names: dict[str, str]
    source: str

    def name(self, code: str) -> str | None:
        return self.names.get(code)

    def classes(self) -> list[tuple[str, str]]:
        return [(c, n) for c, n in self.names.items() if len(c) == 3]

    def __contains__(self, code: str) -> bool:
        return code in self.names


from .errors import CodeListError  # noqa: E402,F401


def parse_code_csv(text: str, kind: str, source: str = "") -> CodeList:
    return CodeList(kind, _code_names(text, source), source)


def _code_names(text: str, source: str) -> dict[str, str]:
    import csv  # only when a list is parsed, not when it comes from the cache
    import io

    reader = csv.DictReader(io.StringIO(text))
    if not {"code", "name"} <= set(reader.fieldnames or ()):
        raise CodeListError(f"分类代码表 {Path(source).name or source} 不是 code,level,name,parent 格式的 CSV 文件（第一行应为列名 code、level、name、parent）。")
    names: dict[str, str] = {}
    for row in reader:
        code = normalize_code(row.get("code", ""))
        if code:
            names[code] = (row.get("name") or "").strip()
    if not names:
        raise CodeListError(f"分类代码表 {Path(source).name or source} 中没有任何代码。")
    return dict(sorted(names.items()))


@lru_cache(maxsize=16)
def load_codes(kind: str, path: str) -> CodeList:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodeListError(f"分类代码表 {p.name} 不是 UTF-8 编码的 CSV 文件。") from exc
    from .cache import remembered
    from .spec import _HERE

    def use(names) -> CodeList:
        if not isinstance(names, dict) or not all(type(k) is str and type(v) is str for k, v in names.items()):
            raise TypeError("not a code list")
        return CodeList(kind, names, str(p))

    # the shipped lists are kept parsed between runs (cache.remembered), as the spec is
    return remembered("codes", text, p, __file__, lambda: _code_names(text, str(p)), use, only_shipped_in=_HERE)


def codes_for(spec: Spec, kind: str, override: str | Path | None = None) -> CodeList:
    if override is not None:
        return load_codes(kind, str(override))
    filename = spec.functional_codes if kind == "functional" else spec.economic_codes
    return load_codes(kind, str(spec_resource(filename)))


_SEPARATORS = r"[\s\-_.·]"  # compiled on first use (re caches it): most codes are numbers or plain digits


def normalize_code(raw: object) -> str:
    """Digits of a code as typed: 208 → "208", "2080109" → "2080109", "208-01" → "20801"."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if type(raw) is int and raw >= 0:
        return str(raw)  # what the general path gives, without it (most code cells are numbers)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if text.isascii() and text.isdigit():
        return text
    return re.sub(_SEPARATORS, "", text)


def code_part(raw: object, width: int) -> str | None:
    """One code column (类 width 3, 款/项 width 2), restoring lost leading zeros.

    Returns "" for a blank cell and None when the cell is not a code.
    """
    text = normalize_code(raw)
    if text == "":
        return ""
    if not text.isdigit():
        return None
    if len(text) < width:
        text = text.zfill(width)
    return text


def split_code(code: str, parts: int) -> list[str]:
    """'2080109' over 类/款/项 columns: ['208', '01', '09']; one column: ['2080109']."""
    if parts == 1:
        return [code]
    return [code[:3], code[3:5], code[5:7]][:parts]
