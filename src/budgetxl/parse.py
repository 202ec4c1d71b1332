"""Grids + spec → the disclosure model, with a cell reference on every value.

The parser finds each table by its header, not by fixed addresses, so it
survives what staff do to a workbook: inserted or deleted rows, blank rows,
codes typed as numbers (``208``, ``1`` for ``01``), codes written together
(``2080109``), amounts typed as text, merged cells. Whatever it cannot
understand becomes a :class:`Finding` naming the cell; it never raises.
"""

from __future__ import annotations

import datetime as dt
import re

TYPE_CHECKING = False  # not typing's: importing typing costs every command 2 ms at start-up
if TYPE_CHECKING:
    from typing import Any

from .codes import code_part, normalize_code
from .grid import SheetGrid, WorkbookGrid
from .model import (
    DETAIL,
    SUBTOTAL,
    TOTAL,
    Amount,
    CellRef,
    Disclosure,
    Finding,
    Form,
    Record,
    ReviewMark,
    Row,
    Severity,
    Table,
    Text,
    frozen_map,
)
from .money import NotAnAmount, from_float, parse_amount
from .problems import PROBLEMS, problem
from .records import dataclass, replace
from .spec import CODE_ROLES, MERGE_LEFT, MERGE_UP, ContextLine, InputSpec, SheetLayout, Spec, TableSpec
from .textnorm import bare_label, squash, tidy

TOTAL_LABELS = {"总计", "合计"}
HEADER_SEARCH_ROWS = 40
NUMERIC_FIELDS = ("amount", "number", "count", "year")




# ================================================================== sheets


def find_sheet(grid: WorkbookGrid, name: str, title: str, number: int | None = None) -> SheetGrid | None:
    """The sheet for a table: by exact name, then by number or title. Visible
    sheets first: a hidden sheet is used only when no visible one matches."""
    hidden = grid.hidden
    if not hidden:
        return _find_sheet(grid.sheets, name, title, number)
    visible = {n: s for n, s in grid.sheets.items() if n not in hidden}
    return _find_sheet(visible, name, title, number) or _find_sheet({n: grid.sheets[n] for n in grid.names if n in hidden}, name, title, number)


def hidden_sheet_finding(grid: WorkbookGrid, chosen: SheetGrid | None, name: str, title: str, number: int | None = None) -> Finding | None:
    """P13 when the sheet read for a table is hidden, or a hidden sheet that
    also matches the table was passed over for a visible one."""
    if not grid.hidden or chosen is None:
        return None
    ref = CellRef(chosen.name, 1, 1)
    if chosen.name in grid.hidden:
        return problem("P13", f"“{chosen.name}”是隐藏的工作表，{title}按它读取。请在 Excel 中取消隐藏（右键工作表标签→取消隐藏），确认内容无误后再报送。", [ref])
    rival = _find_sheet({n: grid.sheets[n] for n in grid.names if n in grid.hidden}, name, title, number)
    if rival is None:
        return None
    return problem(
        "P13",
        f"工作簿中有隐藏的工作表“{rival.name}”，也是{title}；已读取可见的“{chosen.name}”，隐藏的未读取。"
        "请删除隐藏的工作表或确认两者一致，避免报送的数据与看到的不同。",
        [ref, CellRef(rival.name, 1, 1)],
    )


def _numbered(name: str, number: int) -> bool:
    """A squashed sheet name that starts with 表<number>: 表5… but not 表51…"""
    prefix = f"表{number}"
    return name.startswith(prefix) and not name[len(prefix):len(prefix) + 1].isdecimal()


def _find_sheet(sheets, name: str, title: str, number: int | None = None) -> SheetGrid | None:
    if name in sheets:
        return sheets[name]
    wanted = squash(name)
    for n, s in sheets.items():
        if squash(n) == wanted:
            return s
    if number is not None:
        for n, s in sheets.items():
            if _numbered(squash(n), number):
                return s
    t = squash(title)
    for n, s in sheets.items():
        if t and t in squash(n):
            return s
    for s in sheets.values():
        if t in s.head_texts:
            return s
    return None


# ================================================================== headers


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class HeaderMatch:
    """Where a table's header was found, and the sheet column of each spec column."""

    first_row: int  # first header row (1-based)
    last_row: int
    columns: dict[tuple[str, str | None], int]  # (key, side) -> sheet column


def _column_paths(sheet: SheetGrid, top: int, height: int) -> dict[int, list[str]]:
    """Header path (top → leaf) of every column, with merged parents filled in.

    A blank header cell takes the text on its left only when it is the
    continuation of a horizontally merged parent: something stands below it
    and the row above agrees. That tells '财政拨款（补助）' spanning six
    columns from '科目名称' merged downwards.
    """
    width = sheet.width
    filled: list[list[str]] = []
    for i in range(height):
        r = top + i
        row = [squash(sheet.value(r, c)) for c in range(1, width + 1)]
        filled.append(row)
    for i in range(height):
        row = filled[i]
        for c in range(1, width):
            if row[c] or not row[c - 1]:
                continue
            below = any(squash(sheet.value(top + j, c + 1)) for j in range(i + 1, height))
            above_same = i == 0 or filled[i - 1][c] == filled[i - 1][c - 1]
            if below and above_same:
                row[c] = row[c - 1]
    paths: dict[int, list[str]] = {}
    for c in range(width):
        path = []
        for i in range(height):
            t = filled[i][c]
            if t and (not path or path[-1] != t):
                path.append(t)
        paths[c + 1] = path
    return paths


def _header_row_score(sheet: SheetGrid, r: int, wanted: set[str], texts_only: bool = False) -> int:
    """Cells of row r whose squashed text is wanted. ``texts_only``: no wanted
    text is ASCII, so no number, date or logical value can be one (those squash
    to ASCII) and only text cells are looked at."""
    if not 1 <= r <= sheet.height:
        return 0
    score = 0
    for v in sheet.rows[r - 1]:  # a loop, not sum(generator): every row of every table's first lines is scored
        if v is None or (texts_only and type(v) is not str):
            continue
        if squash(v) in wanted:
            score += 1
    return score


def _texts_only(wanted: set[str]) -> bool:
    return not any(w.isascii() for w in wanted)


def locate_header(sheet: SheetGrid, table: TableSpec) -> tuple[HeaderMatch | None, list[Finding]]:
    findings: list[Finding] = []
    first = {squash(t) for t in table.header[0] if t not in (MERGE_LEFT, MERGE_UP)}
    best_row, best_score = 0, 0
    texts_only = _texts_only(first)
    for r in range(1, min(sheet.height, HEADER_SEARCH_ROWS) + 1):
        score = _header_row_score(sheet, r, first, texts_only)
        if score > best_score:
            best_row, best_score = r, score
    if best_score == 0 or best_score * 2 < len(first):
        ref = CellRef(sheet.name, 1, 1)
        findings.append(
            problem("P02", f"工作表“{sheet.name}”中找不到“{table.title}”的表头（应含：{'、'.join(sorted(first))}）。请按标准模板恢复表头。", [ref])
        )
        return None, findings
    height = len(table.header)
    paths = _column_paths(sheet, best_row, height)
    columns: dict[tuple[str, str | None], int] = {}
    used: set[int] = set()
    for col in table.columns:
        leaf = squash(col.leaf)
        parents = [squash(p) for p in col.path[:-1]]
        candidates = [
            c
            for c, path in paths.items()
            if path and path[-1] == leaf and all(p in path[:-1] for p in parents) and c not in used
        ]
        if not candidates:
            findings.append(
                problem(
                    "P03",
                    f"“{table.title}”缺少“{'/'.join(col.path)}”列。请按标准模板恢复该列（不要删除或改名表头）。",
                    [CellRef(sheet.name, best_row, 1)],
                )
            )
            continue
        columns[(col.key, col.side)] = candidates[0]
        used.add(candidates[0])
    return HeaderMatch(best_row, best_row + height - 1, columns), findings


# ================================================================== cells


class _Reader:
    """Reads cells of one sheet, collecting findings."""

    def __init__(self, sheet: SheetGrid, findings: list[Finding]):
        self.sheet = sheet
        self.findings = findings
        self._name, self._rows = sheet.name, sheet.rows  # every cell read goes through here

    def value(self, row: int, col: int) -> Any:
        """SheetGrid.value, without the call through the sheet."""
        rows = self._rows
        if 0 < row <= len(rows):
            cells = rows[row - 1]
            if 0 < col <= len(cells):
                return cells[col - 1]
        return None

    def amount(self, row: int, col: int, what: str, key: str = "") -> Amount:
        """The amount in a cell; ``what`` and ``key`` name it in a finding ("表1 第9行 预算数")."""
        ref = CellRef(self._name, row, col)
        raw = self.value(row, col)
        if type(raw) is float and -1e15 < raw < 1e15:  # most cells: what parse_amount gives for them (NaN is not in range)
            return Amount(from_float(raw), ref)
        if raw is None:
            if (row, col) in self.sheet.uncached_formulas:
                self.findings.append(
                    problem("P06", f"{ref}（{_label(what, key)}）是公式但没有计算结果，读作空白。请在 Excel 中打开并保存一次，或运行“计算小计”。", [ref])
                )
            return Amount(None, ref)
        try:
            return Amount(parse_amount(raw), ref)
        except NotAnAmount as exc:
            self.findings.append(
                problem("P04", f"{ref}（{_label(what, key)}）{exc.reason}。请填写数字金额，如 1462.90。", [ref], actual=_show(raw))
            )
            return Amount(None, ref)

    def text(self, row: int, col: int | None) -> Text:
        if col is None:
            return Text("", None)
        v = self.value(row, col)
        return Text(v.strip() if type(v) is str else tidy(v), CellRef(self._name, row, col))


def _label(what: str, key: str) -> str:
    return f"{what} {key}" if key else what


def _show(raw: Any) -> str:
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw.isoformat()
    return str(raw)[:60]


# ================================================================== tables


def _context_lines(sheet: SheetGrid, header_top: int, context: ContextLine) -> tuple[Text | None, Text | None]:
    """The 编制部门 and 单位 lines above the header (labels from the spec)."""
    department = unit = None
    department_labels = tuple(squash(x) for x in context.department_labels)
    unit_label = squash(context.unit_label)
    for r in range(1, header_top):
        for c, v in enumerate(sheet.rows[r - 1] if r <= sheet.height else (), start=1):
            s = squash(v)
            label = next((x for x in department_labels if s.startswith(x)), None)
            if label:
                department = Text(s[len(label):].lstrip(":"), CellRef(sheet.name, r, c))
            elif s.startswith(unit_label) and s[len(unit_label):].lstrip(":") in ("万元", "元") or s.startswith(unit_label + ":"):
                unit = Text(s[len(unit_label):].lstrip(":"), CellRef(sheet.name, r, c))
    return department, unit


def _statement_after(sheet: SheetGrid, row: int) -> Text | None:
    for r in range(row + 1, min(sheet.height, row + 4) + 1):
        for c, v in enumerate(sheet.rows[r - 1], start=1):
            if isinstance(v, str) and v.strip():
                return Text(v.strip(), CellRef(sheet.name, r, c))
    return None


def _is_total_text(*texts: str) -> bool:
    return any(bare_label(t) in TOTAL_LABELS for t in texts if t)


def _code_of(reader: _Reader, table: TableSpec, code_cols: list[int | None], r: int) -> tuple[str | None, bool]:
    """(code digits, ok). Code parts may be split over 类/款/项 (``code_cols``: the
    sheet columns of the table's code roles) or written together."""
    parts = []
    rows = reader._rows
    row = rows[r - 1] if 0 < r <= len(rows) else ()
    width = len(row)
    raws = [row[c - 1] if c and c <= width else None for c in code_cols]  # reader.value, inline (c > 0: a sheet column)
    first = normalize_code(raws[0]) if raws else ""
    if first and len(first) in table.code_levels and first.isdigit():
        for v in raws[1:]:
            if normalize_code(v) != "":
                break
        else:
            return first, True  # the whole code in one column (or 2080109 typed into 类)
    if table.column("code") is not None:
        return (first, True) if first == "" else (None, False)
    for raw, width in zip(raws, (3, 2, 2)):
        part = code_part(raw, width)
        if part is None:
            return None, False
        parts.append(part)
    if not any(parts):
        return "", True
    # a gap (项 without 款) or an over-long part is not a code
    seen_blank = False
    for p, width in zip(parts, (3, 2, 2)):
        if p == "":
            seen_blank = True
        elif seen_blank or len(p) != width:
            return None, False
    return "".join(parts), True


def _role_column(table: TableSpec, cols: dict, role: str, side: str | None = None) -> int | None:
    spec = table.column(role, side)
    return cols.get((spec.key, spec.side)) if spec else None


def _code_keys(table: TableSpec) -> list[str]:
    return [c.key for c in table.columns if c.role in CODE_ROLES]


def _amount_cells(table: TableSpec, cols: dict, side: str | None) -> list[tuple[str, int]]:
    """(column key, sheet column) of the table's amount columns of one side found on the sheet."""
    return [(col.key, cols[(col.key, col.side)]) for col in table.amount_columns if col.side == side and (col.key, col.side) in cols]


def _amounts(reader: _Reader, cells: list[tuple[str, int]], r: int, what: str) -> dict[str, Amount]:
    rows, name = reader._rows, reader._name
    row = rows[r - 1] if 0 < r <= len(rows) else ()
    width = len(row)
    out = {}
    uncached = reader.sheet.uncached_formulas
    for key, c in cells:  # reader.amount's common cases inline: a number, a blank
        v = row[c - 1] if 0 < c <= width else None
        if type(v) is float and -1e15 < v < 1e15:
            out[key] = Amount(from_float(v), CellRef(name, r, c))
        elif v is None and (r, c) not in uncached:
            out[key] = Amount(None, CellRef(name, r, c))
        else:
            out[key] = reader.amount(r, c, what, key)
    return out


def _has_amount(values: dict[str, Amount]) -> bool:
    return any(a.value is not None for a in values.values())


def _parse_classified(reader: _Reader, table: TableSpec, header: HeaderMatch) -> tuple[list[Row], int | None]:
    sheet, cols = reader.sheet, header.columns
    amount_cells = _amount_cells(table, cols, None)
    name_col = _role_column(table, cols, "name")
    project_col = _role_column(table, cols, "project")
    code_cols = [cols.get((k, None)) for k in _code_keys(table)]
    rows: list[Row] = []
    end_row = None
    for r in range(header.last_row + 1, sheet.height + 1):
        if sheet.row_is_blank(r):
            continue
        name = reader.text(r, name_col)
        project = reader.text(r, project_col) if project_col else Text("", None)
        code, ok = _code_of(reader, table, code_cols, r)
        code_texts = [sheet.text(r, c) for c in code_cols if c] if not code else []  # only a row without a code needs them
        if not code and _is_total_text(name.value, *code_texts):
            values = _amounts(reader, amount_cells, r, f"{table.title} 总计行")
            rows.append(Row(TOTAL, "总计", frozen_map(values), r, label="总计", name_ref=name.ref))
            end_row = r
            break
        what = f"{table.title} 第{r}行"
        if not ok:
            ref = CellRef(sheet.name, r, code_cols[0] or 1)
            shown = " ".join(t for t in code_texts if t)
            reader.findings.append(
                problem("P05", f"{ref} 科目代码“{shown}”无法识别。类填3位、款和项各填2位数字（如 208 01 09），或在“类”列填完整代码 2080109。", [ref], actual=shown)
            )
            continue
        values = _amounts(reader, amount_cells, r, what)
        if not code:
            if name.value and table.layout == "projects" and not project.value:
                # 表7's first line: the department itself, a subtotal of all projects
                rows.append(Row(SUBTOTAL, name.value, frozen_map(values), r, key="单位", name_ref=name.ref))
                continue
            if _has_amount(values) or project.value:
                ref = CellRef(sheet.name, r, code_cols[0] or 1)
                reader.findings.append(
                    problem("P07", f"{ref} 这一行有金额但没有科目代码，未计入任何科目。请填写类/款/项代码，或删除该行。", [ref])
                )
            continue
        if len(code) not in table.code_levels:
            ref = CellRef(sheet.name, r, code_cols[0] or 1)
            reader.findings.append(problem("P05", f"{ref} 科目代码“{code}”位数不对。", [ref], actual=code))
            continue
        if table.layout == "projects":
            kind = DETAIL if project.value else SUBTOTAL
        else:
            kind = DETAIL if len(code) == table.detail_length else SUBTOTAL
        rows.append(
            Row(
                kind,
                name.value,
                frozen_map(values),
                r,
                code=code,
                project=project.value or None,
                name_ref=name.ref,
            )
        )
    return rows, end_row


def _match_fixed(label: str, specs, start: int) -> int | None:
    """Index of the spec row this label is, searching forward from ``start``.

    Labels repeat (表1 has 一般公共预算拨款 twice), so matching is in order."""
    exact = squash(label)
    bare = bare_label(label)
    for i in range(start, len(specs)):
        if squash(specs[i].label) == exact:
            return i
    for i in range(start, len(specs)):
        if bare_label(specs[i].label) == bare:
            return i
    return None


_CLASS_LABEL = re.compile(r"^(\d{3})\s*(.*)$")


def _parse_fixed_side(
    reader: _Reader, table: TableSpec, header: HeaderMatch, side: str | None, total_label: str
) -> tuple[list[Row], int | None]:
    """Rows named by a label column: 表1/表4 (each side) and 表10."""
    sheet, cols = reader.sheet, header.columns
    amount_cells = _amount_cells(table, cols, side)
    label_col = _role_column(table, cols, "label", side)
    if label_col is None:
        return [], None
    rows: list[Row] = []
    position = 0
    end_row = None
    is_class_side = side == "支出"
    totals = (bare_label(total_label), "总计", "合计")
    for r in range(header.last_row + 1, sheet.height + 1):
        label = reader.text(r, label_col)
        if not label.value:
            values = _amounts(reader, amount_cells, r, f"{table.title} 第{r}行")
            if _has_amount(values):
                ref = CellRef(sheet.name, r, label_col)
                reader.findings.append(problem("P07", f"{ref} 这一行有金额但没有项目名称。请填写名称或删除金额。", [ref]))
            continue
        what = f"{table.title} {label.value}"
        if bare_label(label.value) in totals:
            values = _amounts(reader, amount_cells, r, what)
            rows.append(Row(TOTAL, label.value, frozen_map(values), r, label=total_label, key=total_label, side=side, name_ref=label.ref))
            end_row = r
            break
        if is_class_side:
            m = _CLASS_LABEL.match(squash(label.value))
            values = _amounts(reader, amount_cells, r, what)
            if not m:
                if _has_amount(values):
                    reader.findings.append(problem("P07", f"{label.ref} “{label.value}”不是“代码 科目名称”格式（如“208 社会保障和就业支出”）。", [label.ref]))
                continue
            rows.append(Row(SUBTOTAL, m.group(2), frozen_map(values), r, code=m.group(1), side=side, name_ref=label.ref))
            continue
        index = _match_fixed(label.value, table.fixed_rows, position)
        values = _amounts(reader, amount_cells, r, what)
        if index is None:
            reader.findings.append(
                problem("P07", f"{label.ref} “{label.value}”不是“{table.title}”的标准行，金额未计入。请使用标准模板的行名称。", [label.ref])
            )
            continue
        spec_row = table.fixed_rows[index]
        position = index + 1
        kind = DETAIL if spec_row.is_input else SUBTOTAL
        rows.append(Row(kind, bare_label(spec_row.label), frozen_map(values), r, label=spec_row.label, key=spec_row.key, side=side, name_ref=label.ref))
    if not is_class_side:
        found = {row.key for row in rows}
        missing = [s.label for s in table.fixed_rows if s.key not in found]
        if missing:
            ref = CellRef(sheet.name, header.last_row + 1, label_col)
            reader.findings.append(
                problem("P08", f"“{table.title}”缺少标准行：{'、'.join(missing)}。请按标准模板恢复这些行。", [ref])
            )
    return rows, end_row


def _parse_items(reader: _Reader, table: TableSpec, header: HeaderMatch) -> tuple[list[Row], int | None]:
    sheet, cols = reader.sheet, header.columns
    amount_cells = _amount_cells(table, cols, None)
    label_col = _role_column(table, cols, "label")
    rows: list[Row] = []
    end_row = None
    for r in range(header.last_row + 1, sheet.height + 1):
        if sheet.row_is_blank(r):
            continue
        label = reader.text(r, label_col)
        values = _amounts(reader, amount_cells, r, f"{table.title} 第{r}行")
        if _is_total_text(label.value):
            rows.append(Row(TOTAL, "总计", frozen_map(values), r, label="总计", name_ref=label.ref))
            end_row = r
            break
        if not label.value:
            if _has_amount(values):
                ref = CellRef(sheet.name, r, label_col or 1)
                reader.findings.append(problem("P07", f"{ref} 这一行有金额但没有项目名称。请填写项目名称。", [ref]))
            continue
        rows.append(Row(DETAIL, label.value, frozen_map(values), r, label=label.value, name_ref=label.ref))
    return rows, end_row


def parse_table(sheet: SheetGrid, table: TableSpec, context: ContextLine = ContextLine()) -> tuple[Table, list[Finding]]:
    header, findings = locate_header(sheet, table)
    if header is None:
        return Table(table.key, table.title, sheet.name, ()), findings
    reader = _Reader(sheet, findings)
    department, unit = _context_lines(sheet, header.first_row, context)
    if table.layout == "two_sided":
        left, left_end = _parse_fixed_side(reader, table, header, "收入", table.left_total or "收入总计")
        right, right_end = _parse_fixed_side(reader, table, header, "支出", table.right_total or "支出总计")
        rows = left + right
        end = max(e for e in (left_end, right_end, header.last_row) if e is not None)
        ends = (left_end, right_end)
    elif table.layout == "fixed":
        rows, end = _parse_fixed_side(reader, table, header, None, table.total)
        ends = (end,)
    elif table.layout == "items":
        rows, end = _parse_items(reader, table, header)
        ends = (end,)
    else:
        rows, end = _parse_classified(reader, table, header)
        ends = (end,)
    if any(e is None for e in ends):
        ref = CellRef(sheet.name, sheet.height or 1, 1)
        findings.append(problem("P09", f"“{table.title}”没有找到“总计”行。请在表格末尾保留“总计”行。", [ref]))
    statement = _statement_after(sheet, end) if end else None
    return Table(table.key, table.title, sheet.name, tuple(rows), department, unit, statement), findings


# ================================================================== inputs


def _field_value(reader: _Reader, field_type: str, r: int, c: int, label: str):
    if field_type == "amount":
        return reader.amount(r, c, label)
    return reader.text(r, c)


def _read_field(reader: "_Reader", r: int, c: int, field, title: str, texts: dict, amounts: dict) -> None:
    """One input cell: numbers (amount, count, year) as an Amount plus their text, the rest as text."""
    if field.type in NUMERIC_FIELDS:
        # a year that is no number is P11's to say, in a year's words ("2026年" is understood there)
        quiet = _Reader(reader.sheet, []) if field.type == "year" else reader
        amount = quiet.amount(r, c, title, field.key)
        amounts[field.key] = amount
        texts[field.key] = Text(tidy(reader.value(r, c)), amount.ref)
    else:
        texts[field.key] = reader.text(r, c)


def parse_form(sheet: SheetGrid, spec: InputSpec, layout: SheetLayout = SheetLayout()) -> tuple[Form, list[Finding]]:
    """A form sheet: keys in one column, values beside them (rows found by key)."""
    findings: list[Finding] = []
    reader = _Reader(sheet, findings)
    wanted = {squash(f.key): f for f in spec.fields}
    texts: dict[str, Text] = {}
    amounts: dict[str, Amount] = {}
    key_col, value_col = layout.form_key_column, layout.form_value_column
    for r in range(1, sheet.height + 1):
        key = squash(sheet.value(r, key_col))
        field = wanted.get(key)
        if field is None:
            continue
        _read_field(reader, r, value_col, field, spec.title, texts, amounts)
    for field in spec.fields:
        if field.required and not texts.get(field.key, Text("", None)).value:
            where = texts.get(field.key)
            ref = where.ref if where and where.ref else CellRef(sheet.name, 1, 1)
            findings.append(problem("P10", f"{ref} “{spec.title}”的“{field.key}”未填写。{field.help}", [ref]))
    return Form(frozen_map(texts), frozen_map(amounts)), findings


def parse_list(sheet: SheetGrid, spec: InputSpec) -> tuple[tuple[Record, ...], list[Finding]]:
    findings: list[Finding] = []
    reader = _Reader(sheet, findings)
    wanted = {squash(f.key) for f in spec.fields}
    header_row, best = 0, 0
    texts_only = _texts_only(wanted)
    for r in range(1, min(sheet.height, 10) + 1):
        score = _header_row_score(sheet, r, wanted, texts_only)
        if score > best:
            header_row, best = r, score
    if best == 0:
        findings.append(problem("P02", f"工作表“{sheet.name}”中找不到表头（{'、'.join(f.key for f in spec.fields[:4])}…）。", [CellRef(sheet.name, 1, 1)]))
        return (), findings
    columns = {}
    for c in range(1, sheet.width + 1):
        s = squash(sheet.value(header_row, c))
        for f in spec.fields:
            if squash(f.key) == s and f.key not in columns:
                columns[f.key] = c
    present = [(f, columns[f.key], f.type in NUMERIC_FIELDS) for f in spec.fields if f.key in columns]
    name, rows = sheet.name, sheet.rows
    records = []
    for r in range(header_row + 1, sheet.height + 1):
        if sheet.row_is_blank(r):
            continue
        cells = rows[r - 1]
        width = len(cells)
        texts: dict[str, Text] = {}
        amounts: dict[str, Amount] = {}
        for f, c, numeric in present:
            if numeric:
                _read_field(reader, r, c, f, spec.title, texts, amounts)
            else:  # reader.text, inline: lists are most of a workbook's cells
                v = cells[c - 1] if c <= width else None
                texts[f.key] = Text(v.strip() if type(v) is str else tidy(v), CellRef(name, r, c))
        records.append(Record(frozen_map(texts), frozen_map(amounts), r))
    return tuple(records), findings


# ================================================================== workbook


YEARS = (2000, 2100)  # a budget year outside this range is a typing accident


def _year_of(text: str) -> int | None:
    """The four-digit year in 年度 ('2026', '2026年'); None for anything else,
    including 0000, 99999 and years outside YEARS."""
    m = re.search(r"(?<!\d)(\d{4})(?!\d)", squash(text))
    if not m:
        return None
    year = int(m.group(1))
    return year if YEARS[0] <= year <= YEARS[1] else None


# ================================================================== sheets budgetxl wrote

# compiled on first use (re caches them): most workbooks checked have neither sheet
_PARAGRAPH_ID = r"^(part\d|s\d\d)(\.[\w.]+)?$"
_REF = r"'(?:[^']|'')+'![A-Za-z]{1,3}\d+"


def parse_narrative_sheet(sheet: SheetGrid) -> dict[str, Text]:
    """Paragraph id -> the text of the 情况说明 sheet (as a person edited it), with its cell."""
    out = {}
    for r in range(2, sheet.height + 1):
        key = squash(sheet.value(r, 1))
        if re.match(_PARAGRAPH_ID, key) and sheet.text(r, 2):
            out[key] = Text(sheet.text(r, 2), CellRef(sheet.name, r, 2))
    return out


def parse_review(sheet: SheetGrid) -> tuple[ReviewMark, ...]:
    """The rows of a 校验结果 sheet from an earlier check, found by header:
    the cells each finding marked, and the 已核实 marks people set."""
    from .report import VERIFIED

    header = [squash(sheet.value(1, c)) for c in range(1, sheet.width + 1)]
    try:
        col = {name: header.index(name) + 1 for name in ("代码", "位置", "核实", "核实说明")}
    except ValueError:
        return ()
    marks = []
    for r in range(2, sheet.height + 1):
        code = sheet.text(r, col["代码"])
        if not code:
            continue
        refs = []
        for m in re.finditer(_REF, sheet.text(r, col["位置"])):
            try:
                refs.append(CellRef.parse(m.group(0)))
            except ValueError:
                continue
        verified = squash(sheet.value(r, col["核实"])) == VERIFIED
        marks.append(ReviewMark(code, tuple(refs), verified, sheet.text(r, col["核实说明"]), CellRef(sheet.name, r, col["核实"])))
    return tuple(marks)


def parse_workbook(grid: WorkbookGrid, spec: Spec) -> tuple[Disclosure, list[Finding]]:
    """The one parser. Returns the model and every problem found reading it."""
    findings: list[Finding] = []
    tables: dict[str, Table] = {}
    for t in spec.tables:
        sheet = find_sheet(grid, t.sheet, t.title, t.number)
        if sheet is None:
            findings.append(
                problem("P01", f"工作簿中没有“{t.sheet}”工作表。请使用标准模板，不要删除或改名工作表。", [CellRef(t.sheet, 1, 1)])
            )
            tables[t.key] = Table(t.key, t.title, "", ())
            continue
        table, found = parse_table(sheet, t, spec.context)
        tables[t.key] = table
        findings.extend(found)
        hidden = hidden_sheet_finding(grid, sheet, t.sheet, t.title, t.number)
        if hidden:
            findings.append(hidden)
    forms: dict[str, Form] = {}
    lists: dict[str, tuple[Record, ...]] = {}
    # a workbook of the tables alone (the publication xlsx) has no input sheets at all: one note, not one warning per sheet
    tables_only = all(find_sheet(grid, i.sheet, i.title) is None for i in spec.inputs)
    if tables_only:
        findings.append(replace(
            problem("P12", "工作簿只有公开表，没有单位信息、上年数与原因等输入工作表：只校验表格本身和表间关系。", [CellRef(spec.inputs[0].sheet, 1, 1)]),
            severity=Severity.INFO,
        ))
    for i in spec.inputs:
        sheet = find_sheet(grid, i.sheet, i.title)
        if sheet is None:
            if tables_only:
                continue
            findings.append(
                problem("P12", f"工作簿中没有“{i.sheet}”工作表，{i.title}无法读取。请使用标准模板。", [CellRef(i.sheet, 1, 1)])
            )
            continue
        if i.kind == "form":
            forms[i.key], found = parse_form(sheet, i, spec.layout)
        else:
            lists[i.key], found = parse_list(sheet, i)
        findings.extend(found)
        hidden = hidden_sheet_finding(grid, sheet, i.sheet, i.title)
        if hidden:
            findings.append(hidden)
    info = forms.get("info")
    department = info.text("单位名称") if info else ""
    if not department:
        for t in tables.values():
            if t.department and t.department.value:
                department = t.department.value
                break
    year_text = info.text("年度") if info else ""
    year = _year_of(year_text)
    if info and year is None:
        ref = info.ref("年度")
        what = f"年度“{year_text}”不是 {YEARS[0]}–{YEARS[1]} 之间的四位年份" if year_text else "年度未填写"
        findings.append(problem("P11", f"{ref or '单位信息'} {what}（封面、标题和文件名都要用到年度），请填写如 2026。", [ref] if ref else []))
    unit = (info.text("金额单位") if info else "") or next(
        (t.unit.value for t in tables.values() if t.unit and t.unit.value), "万元"
    )
    if unit not in ("万元", "元"):
        ref = info.ref("金额单位") if info else None
        findings.append(problem("P11", f"{ref or '单位信息'} 金额单位“{unit}”无效，只能是“万元”或“元”。", [ref] if ref else []))
        unit = "万元"
    findings = _capped(findings)
    disclosure = Disclosure(
        spec_id=spec.id,
        department=department,
        year=year,
        unit=unit,
        tables=frozen_map(tables),
        forms=frozen_map(forms),
        lists=frozen_map(lists),
        source=grid.source,
        narrative_text=frozen_map(parse_narrative_sheet(grid.sheets[spec.layout.narrative_sheet]) if spec.layout.narrative_sheet in grid.sheets else {}),
        review=parse_review(grid.sheets[spec.layout.result_sheet]) if spec.layout.result_sheet in grid.sheets else (),
    )
    return disclosure, findings


FINDINGS_PER_SHEET = 200


def _capped(findings: list[Finding]) -> list[Finding]:
    """At most FINDINGS_PER_SHEET problems of one kind per sheet, then one line
    saying how many more: a sheet of 100,000 broken rows gets a readable answer."""
    kept: list[Finding] = []
    counts: dict[tuple[str, str], int] = {}
    for f in findings:
        key = (f.code, f.refs[0].sheet if f.refs else "")
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= FINDINGS_PER_SHEET:
            kept.append(f)
    for (code, sheet), n in counts.items():
        if n > FINDINGS_PER_SHEET:
            severity, title = PROBLEMS[code].severity, PROBLEMS[code].title
            kept.append(Finding(code, severity, f"工作表“{sheet}”还有 {n - FINDINGS_PER_SHEET} 处同类问题（{title}）未逐一列出。请先改正上面列出的问题。", (CellRef(sheet, 1, 1),), title=title))
    return kept
