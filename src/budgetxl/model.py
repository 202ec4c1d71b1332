"""Immutable domain types. Every value read from a workbook keeps its cell."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import Enum
from types import MappingProxyType

TYPE_CHECKING = False  # not typing's: importing typing costs every command 2 ms at start-up
if TYPE_CHECKING:
    from typing import Any

from .money import plain
from .records import dataclass, field

# ------------------------------------------------------------------ cells


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


_A1 = r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Za-z]{1,3})\$?(\d+)$"  # compiled on first use (re caches it): rarely needed


@dataclass(frozen=True, order=True)
class CellRef:
    """A cell: sheet name plus 1-based row and column."""

    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        return f"{column_letter(self.col)}{self.row}"

    def __str__(self) -> str:
        return f"'{self.sheet.replace(chr(39), chr(39) * 2)}'!{self.a1}"

    def offset(self, rows: int = 0, cols: int = 0) -> "CellRef":
        return CellRef(self.sheet, self.row + rows, self.col + cols)

    @classmethod
    def parse(cls, text: str) -> "CellRef":
        m = re.match(_A1, text.strip())
        if not m:
            raise ValueError(f"not a cell reference: {text!r}")
        sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
        return cls(sheet, int(m.group(4)), column_index(m.group(3)))


@dataclass(frozen=True)
class Amount:
    """A money amount (or a blank) and the cell it came from."""

    value: Decimal | None
    ref: CellRef

    @property
    def or_zero(self) -> Decimal:
        return self.value if self.value is not None else Decimal(0)


@dataclass(frozen=True)
class Text:
    """A text value (or blank) and the cell it came from."""

    value: str
    ref: CellRef | None

    def __str__(self) -> str:
        return self.value


# ------------------------------------------------------------------ findings


class Severity(str, Enum):
    ERROR = "错误"
    WARNING = "警告"
    INFO = "提示"

    @property
    def rank(self) -> int:
        return {"错误": 0, "警告": 1, "提示": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem, positioned at the cells involved.

    ``message`` says in Chinese what is wrong and what to do; ``expected``,
    ``actual`` and ``difference`` are the numbers behind it where there are
    numbers.
    """

    code: str
    severity: Severity
    message: str
    refs: tuple[CellRef, ...] = ()
    expected: Decimal | str | None = None
    actual: Decimal | str | None = None
    difference: Decimal | None = None
    title: str = ""

    @property
    def where(self) -> str:
        return str(self.refs[0]) if self.refs else ""

    def to_json(self) -> dict[str, Any]:
        def conv(v):
            return plain(v) if isinstance(v, Decimal) else v

        return {
            "code": self.code,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "refs": [str(r) for r in self.refs],
            "expected": conv(self.expected),
            "actual": conv(self.actual),
            "difference": conv(self.difference),
        }


# ------------------------------------------------------------------ tables

DETAIL = "detail"
SUBTOTAL = "subtotal"
TOTAL = "total"
LABEL = "label"


@dataclass(frozen=True)
class Row:
    """One row of a disclosure table.

    ``code`` is digits only ("2080109", "30101"); fixed-label rows carry
    ``label`` (and ``key``, the spec's stable id) instead. ``side`` is
    "收入"/"支出" in the two-sided tables 1 and 4.
    """

    kind: str
    name: str
    values: Mapping[str, Amount]
    row: int  # 1-based sheet row
    code: str | None = None
    label: str | None = None
    key: str | None = None
    project: str | None = None
    side: str | None = None
    name_ref: CellRef | None = None

    def value(self, column: str) -> Decimal | None:
        amount = self.values.get(column)
        return amount.value if amount else None

    def amount(self, column: str) -> Decimal:
        amount = self.values.get(column)
        return amount.or_zero if amount else Decimal(0)

    @property
    def level(self) -> int:
        return len(self.code) if self.code else 0


@dataclass(frozen=True)
class Table:
    """One disclosure table as read: its rows, and the context lines around it."""

    key: str
    title: str
    sheet: str
    rows: tuple[Row, ...]
    department: Text | None = None  # the 编制部门 line
    unit: Text | None = None  # the 单位 line
    statement: Text | None = None  # empty-table statement under the table

    def rows_of(self, kind: str | None = None, side: str | None = None) -> list[Row]:
        return [
            r
            for r in self.rows
            if (kind is None or r.kind == kind) and (side is None or r.side == side)
        ]

    def by_code(self, code: str) -> Row | None:
        for r in self.rows:
            if r.code == code and r.project is None:
                return r
        return None

    def by_key(self, key: str, side: str | None = None) -> Row | None:
        for r in self.rows:
            if r.key == key and (side is None or r.side == side):
                return r
        return None

    def total_row(self, side: str | None = None) -> Row | None:
        for r in self.rows:
            if r.kind == TOTAL and (side is None or r.side == side):
                return r
        return None

    @property
    def is_empty(self) -> bool:
        return all(a.value in (None, Decimal(0)) for r in self.rows for a in r.values.values())


class _Fields:
    """Text and amount lookup shared by the input-sheet types."""

    fields: Mapping[str, Text]
    amounts: Mapping[str, Amount]

    def text(self, key: str) -> str:
        t = self.fields.get(key)
        return t.value if t else ""

    def amount(self, key: str) -> Decimal | None:
        a = self.amounts.get(key)
        return a.value if a else None

    def ref(self, key: str) -> CellRef | None:
        """The cell of a field (None when the sheet has no such column or row)."""
        t = self.fields.get(key)
        return t.ref if t else None


@dataclass(frozen=True)
class Record(_Fields):
    """One row of a list input sheet (项目说明, 绩效指标 …)."""

    fields: Mapping[str, Text]
    amounts: Mapping[str, Amount]
    row: int


@dataclass(frozen=True)
class Form(_Fields):
    """A key/value input sheet (单位信息, 其他事项)."""

    fields: Mapping[str, Text]
    amounts: Mapping[str, Amount]


def frozen_map(items: Iterable[tuple[str, Any]] | Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class ReviewMark:
    """One row of a 校验结果 sheet left by an earlier check: the cells it pointed
    at, and whether a person marked it 已核实 (with the remark)."""

    code: str
    refs: tuple[CellRef, ...]
    verified: bool
    remark: str
    row: CellRef  # the row on the 校验结果 sheet

    @property
    def fingerprint(self) -> str:
        return f"{self.code}|{self.refs[0] if self.refs else ''}"


@dataclass(frozen=True)
class Disclosure:
    """Everything one workbook says: the 12 tables, the narrative inputs, and
    what people wrote on the sheets budgetxl made (情况说明 as edited, 校验结果 marks)."""

    spec_id: str
    department: str
    year: int | None
    unit: str
    tables: Mapping[str, Table]
    forms: Mapping[str, Form] = field(default_factory=dict)
    lists: Mapping[str, tuple[Record, ...]] = field(default_factory=dict)
    source: str = ""
    narrative_text: Mapping[str, Text] = field(default_factory=dict)  # paragraph id -> text as edited
    review: tuple[ReviewMark, ...] = ()  # the 校验结果 sheet of an earlier check

    @property
    def verified(self) -> Mapping[str, str]:
        """fingerprint -> remark of every finding a person marked 已核实."""
        return {m.fingerprint: m.remark for m in self.review if m.verified}

    def table(self, key: str) -> Table:
        return self.tables[key]

    @property
    def info(self) -> Form:
        return self.forms.get("info") or Form(frozen_map({}), frozen_map({}))


@dataclass(frozen=True)
class CellEdit:
    """A change the core asks an adapter to make.

    ``style`` names a style of the adapter's palette ("computed", "error" …),
    never a colour: the openpyxl writer and the Excel adapter map it.
    """

    ref: CellRef
    value: Any
    style: str | None = None
    old: Any = None
    comment: str | None = None


@dataclass(frozen=True)
class SheetContent:
    """A whole sheet the core asks an adapter to (re)create: 校验结果, 情况说明.

    ``links`` maps (row index, column index) to the cell a hyperlink jumps to;
    ``styles`` maps a row index to a style name; ``choices`` maps a column
    index to the values of a drop-down list."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    widths: tuple[int, ...] = ()
    links: Mapping[tuple[int, int], CellRef] = field(default_factory=dict)
    styles: Mapping[int, str] = field(default_factory=dict)
    choices: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    wrap: tuple[int, ...] = ()  # columns whose text wraps
