"""A check run's findings as a report: counts, JSON, a text table, and the
校验结果 sheet with the offending cells highlighted (as data + cell edits)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

TYPE_CHECKING = False  # not typing's: importing typing costs every command 2 ms at start-up
if TYPE_CHECKING:
    from typing import Any

from .model import CellEdit, CellRef, Finding, Severity, SheetContent
from .money import fmt
from .records import dataclass, field

RESULT_HEADER = ("序号", "级别", "代码", "规则", "位置", "说明", "应为", "实际", "差额", "核实", "核实说明")
VERIFIED = "已核实"
SEVERITY_STYLE = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def fingerprint(f: Finding) -> str:
    """Identity of a finding across runs: its rule and first cell."""
    return f"{f.code}|{f.refs[0] if f.refs else ''}"


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class Report:
    """The findings of one check, with the workbook they are about."""

    findings: tuple[Finding, ...]
    department: str = ""
    year: int | None = None
    source: str = ""
    # fingerprint -> remark, from a 校验结果 sheet where a person marked 已核实
    verified: Mapping[str, str] = field(default_factory=dict)

    def is_verified(self, f: Finding) -> bool:
        return f.severity != Severity.ERROR and fingerprint(f) in self.verified

    @property
    def counting(self) -> list[Finding]:
        return [f for f in self.findings if not self.is_verified(f)]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.counting if f.severity == severity)

    @property
    def has_errors(self) -> bool:
        return self.count(Severity.ERROR) > 0

    def ordered(self) -> list[Finding]:
        """Worst first, then by rule, then by place: 表1, 表2 … 表12 in numeric order."""
        return sorted(self.findings, key=lambda f: (f.severity.rank, f.code, place_key(f.refs[0]) if f.refs else ((), 0, 0)))

    def summary(self) -> dict[str, int]:
        out = {s.value: self.count(s) for s in Severity}
        out[VERIFIED] = len(self.findings) - len(self.counting)
        return out

    def summary_text(self) -> str:
        s = self.summary()
        return f"错误 {s['错误']} 个，警告 {s['警告']} 个，提示 {s['提示']} 个（另有已核实 {s[VERIFIED]} 个）"

    def to_json(self) -> dict[str, Any]:
        items = []
        for f in self.ordered():
            item = f.to_json()
            item["verified"] = self.is_verified(f)
            if item["verified"]:
                item["remark"] = self.verified[fingerprint(f)]
            items.append(item)
        return {"department": self.department, "year": self.year, "source": self.source, "summary": self.summary(), "findings": items}


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return fmt(value)
    return str(value)


def _natural(text: str) -> tuple:
    """'表10 …' after '表2 …': numbers in names compare as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def place_key(ref: CellRef) -> tuple:
    return (_natural(ref.sheet), ref.row, ref.col)


_REF = re.compile(r"'(?:[^']|'')+'!\$?[A-Z]{1,3}\$?\d+|\b[A-Z]{1,3}\d+\b")
_QUOTED = re.compile(r"“[^”]*”|\([^)]*\)")
_NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?")
ROUNDING_MARK = "（尾差）"


def pattern(f: Finding) -> str:
    """What the message asks to do (its last sentence), with cells, quoted names and numbers
    taken out: findings of one rule that ask the same about different cells share a pattern."""
    sentences = [x for x in re.split(r"(?<=[。！？；])", f.message) if x.strip()]
    advice = sentences[-1] if len(sentences) > 1 else f.message
    return _NUMBER.sub("#", _QUOTED.sub("“”", _REF.sub("@", advice)))


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class Group:
    """Findings shown as one line: one rule and one pattern, or the 尾差 notes of one table."""

    severity: Severity
    findings: tuple[Finding, ...]
    rounding: bool = False

    @property
    def first(self) -> Finding:
        return self.findings[0]

    def cells(self, limit: int = 12) -> str:
        """'表6 …'!D46、E46 — the first cell of each finding, sheet named once."""
        by_sheet: dict[str, list[str]] = {}
        for f in self.findings:
            if f.refs:
                by_sheet.setdefault(f.refs[0].sheet, []).append(f.refs[0].a1)
        parts, shown = [], 0
        for sheet, cells in by_sheet.items():
            cells = list(dict.fromkeys(cells))
            take = cells[: max(0, limit - shown)]
            shown += len(take)
            if take:
                parts.append(f"'{sheet}'!" + "、".join(take))
        more = sum(len(set(c)) for c in by_sheet.values()) - shown
        return "；".join(parts) + (f" 等（另 {more} 处）" if more > 0 else "")


def groups(report: Report, min_severity: Severity | None = None) -> list[Group]:
    """The findings as lines: one per rule and pattern, one per table for 尾差 notes, worst first."""
    keyed: dict[tuple, list[Finding]] = {}
    for f in report.ordered():
        if min_severity is not None and f.severity.rank > min_severity.rank:
            continue
        verified = report.is_verified(f)
        if ROUNDING_MARK in f.message:
            key = (f.severity.rank, "尾差", f.refs[0].sheet if f.refs else "", verified)
        else:
            key = (f.severity.rank, f.code, pattern(f), verified)
        keyed.setdefault(key, []).append(f)
    out = [Group(fs[0].severity, tuple(fs), key[1] == "尾差") for key, fs in keyed.items()]
    return sorted(out, key=lambda g: (g.severity.rank, g.rounding, g.first.code if not g.rounding else "",
                                      place_key(g.first.refs[0]) if g.first.refs else ((), 0, 0)))


def text_table(report: Report, limit: int | None = None, min_severity: Severity | None = None) -> str:
    """The report for a terminal: one line per rule and pattern (with the count and the cells),
    one 尾差 summary per table; ``--json`` keeps every finding."""
    lines = [f"校验 {f'{report.year}年' if report.year else '（年度未填）'} {report.department or '（单位名称未填）'}：{report.summary_text()}"]
    shown = groups(report, min_severity)
    for i, g in enumerate(shown, start=1):
        if limit and i > limit:
            lines.append(f"……另有 {len(shown) - limit} 行，用 --json 或 --annotate 查看全部。")
            break
        f = g.first
        mark = f"（{VERIFIED}）" if report.is_verified(f) else ""
        if len(g.findings) == 1:
            lines.append(f"{f.severity.value}{mark} {f.code} {f.title}：{f.message}")
        elif g.rounding:
            codes = "/".join(dict.fromkeys(x.code for x in g.findings))
            sheet = f.refs[0].sheet if f.refs else ""
            what = "合计与各项之和" if all(x.code.startswith("B") for x in g.findings) else "数字与各项之和或其他表"
            places = len({x.refs[0] for x in g.findings if x.refs}) or len(g.findings)  # a cell two rules noted counts once
            lines.append(
                f"{f.severity.value}{mark} {codes} 尾差：{sheet} 有 {places} 处{what}相差一两分（{g.cells()}）。"
                f"例：{f.message}"
            )
        else:
            lines.append(f"{f.severity.value}{mark} {f.code} {f.title}（同类 {len(g.findings)} 处：{g.cells()}）：例：{f.message}")
    hidden = len(report.findings) - sum(len(g.findings) for g in shown)
    if hidden:
        lines.append(f"（另有 {hidden} 条较低级别的问题未列出；去掉 --min-severity 可查看。）")
    return "\n".join(lines)


# ------------------------------------------------------------ 校验结果 sheet


def result_sheet(report: Report, name: str) -> SheetContent:
    """The 校验结果 sheet (``name`` from the spec's layout): one row a finding,
    every cell it points at in 位置 (the link jumps to the first), the 核实 drop-down.
    The same content whether ``check --annotate`` or the 校验 button writes it."""
    rows, links, styles = [], {}, {}
    for i, f in enumerate(report.ordered()):
        verified = report.is_verified(f)
        rows.append((
            i + 1, f.severity.value, f.code, f.title, _places(f.refs), f.message,
            _show(f.expected), _show(f.actual), _show(f.difference),
            VERIFIED if verified else "", report.verified.get(fingerprint(f), "") if verified else "",
        ))
        if f.refs:
            links[(i, 4)] = f.refs[0]
        styles[i] = SEVERITY_STYLE[f.severity]
    return SheetContent(
        name, RESULT_HEADER, tuple(rows), (6, 6, 6, 22, 34, 80, 12, 12, 10, 8, 24),
        links, styles, {9: (VERIFIED,)}, (5,),
    )


def _places(refs) -> str:
    """Every cell of a finding, so 清除标记 can undo each one; bounded below Excel's 32,767 characters."""
    text = "；".join(map(str, refs))
    return text if len(text) <= 30000 else text[: text.rfind("；", 0, 30000)]


def highlight_edits(report: Report, sheets: Iterable[str] | None = None) -> list[CellEdit]:
    """Colour and comment every cell a counting finding points at (worst severity wins),
    on ``sheets`` only when given."""
    present = set(sheets) if sheets is not None else None
    worst: dict[CellRef, Finding] = {}
    notes: dict[CellRef, list[str]] = {}
    for f in report.counting:
        for ref in f.refs:
            if present is not None and ref.sheet not in present:
                continue
            if ref not in worst or f.severity.rank < worst[ref].severity.rank:
                worst[ref] = f
            notes.setdefault(ref, []).append(f"[{f.severity.value}] {f.code} {f.title}")
    return [
        CellEdit(ref, None, SEVERITY_STYLE[f.severity], comment="\n".join(dict.fromkeys(notes[ref]))[:1000])
        for ref, f in sorted(worst.items())
    ]

