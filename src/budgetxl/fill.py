"""Fill the standard template from a data file (TOML or JSON).

The data file holds what staff would type: per table the rows in sheet column
order, plus the input sheets. ``examples/akto_2026.toml`` is one. Filling is
expressed as cell edits like everything else and applied by the file adapter.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from .model import CellEdit, CellRef
from .money import NotAnAmount, parse_amount
from .spec import CODE_ROLES, Spec

from .errors import FillError  # noqa: E402,F401  (raised here; defined where the CLI can catch it cheaply)


def load_data(path: str | Path) -> dict[str, Any]:
    import tomllib  # only when filling: not on every command's start

    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".et", ".ods"):
        raise FillError(f"{path.name} 是工作簿，不是数据文件。fill 需要 TOML 或 JSON 数据文件（格式见 examples/akto_2026.toml）；已填好的工作簿请直接用 check、subtotal 等命令。")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FillError(f"数据文件 {path.name} 不是 UTF-8 编码的文本。fill 需要 TOML 或 JSON 数据文件（格式见 examples/akto_2026.toml）。") from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise FillError(f"数据文件 {path.name} 格式错误：{exc}") from exc


def _amount(value: Any, where: str):
    if value in ("", None):
        return None
    try:
        return parse_amount(value)
    except NotAnAmount as exc:
        raise FillError(f"{where}：{exc.reason}") from exc


def _typed(value: Any, field_type: str, where: str):
    if value in ("", None):
        return None
    if field_type == "amount":
        return _amount(value, where)
    if field_type in ("count", "year"):
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise FillError(f"{where}：“{value}”不是整数") from exc
    if field_type == "number":
        return _amount(value, where)
    if field_type == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def row_counts(spec: Spec, data: dict[str, Any]) -> dict[str, int]:
    """Detail rows each table needs: the template's, or more when the data has more
    (the template is then built with that many rows: formats, drop-downs and the
    total row come with them)."""
    counts = {}
    for t in spec.tables:
        block = data.get("tables", {}).get(t.key) or {}
        standard = spec.layout.total_row(t) - spec.layout.data_first_row(t)
        if len(block.get("rows", [])) > standard and t.layout in ("classified", "projects", "items"):
            counts[t.key] = len(block["rows"])
    return counts


def table_edits(spec: Spec, data: dict[str, Any], counts: dict[str, int] | None = None) -> list[CellEdit]:
    """Cell edits for the tables, for a template whose tables have ``counts`` detail
    rows (default: the standard template)."""
    edits: list[CellEdit] = []
    counts = counts or {}
    unit = (data.get("info") or {}).get("金额单位")
    for t in spec.tables:
        if unit:  # the 单位 line of every table says the unit the figures are in
            edits.append(CellEdit(CellRef(t.sheet, spec.layout.context_row, len(t.columns)), spec.context.unit_text(unit)))
        block = data.get("tables", {}).get(t.key)
        if not block:
            continue
        first = spec.layout.data_first_row(t)
        total = first + counts[t.key] if t.key in counts else spec.layout.total_row(t)
        rows = block.get("rows", [])
        if len(rows) > total - first:
            raise FillError(f"{t.sheet}：数据有 {len(rows)} 行，模板只有 {total - first} 行。请不指定模板（budgetxl 会按数据行数生成模板），或在模板中插入行。")
        if block.get("department"):  # the 编制部门 line, as 计算小计 writes it
            edits.append(CellEdit(CellRef(t.sheet, spec.layout.context_row, 1), spec.context.department_text(block["department"])))
        if block.get("statement") and t.empty_statement:  # the empty-table statement under the total row
            edits.append(CellEdit(CellRef(t.sheet, total + 1, 1), block["statement"]))
        for i, row in enumerate([*rows, *([block["total"]] if "total" in block else [])]):
            r = total if i == len(rows) else first + i
            if len(row) > len(t.columns):
                raise FillError(f"{t.sheet} 第{i + 1}行：有 {len(row)} 列，表格只有 {len(t.columns)} 列。")
            for c, (col, value) in enumerate(zip(t.columns, row), start=1):
                ref = CellRef(t.sheet, r, c)
                if col.role == "amount":
                    edits.append(CellEdit(ref, _amount(value, f"{ref}")))
                elif value not in ("", None):
                    edits.append(CellEdit(ref, str(value) if col.role in CODE_ROLES else value))
    return edits


def input_edits(spec: Spec, data: dict[str, Any]) -> list[CellEdit]:
    edits: list[CellEdit] = []
    for inp in spec.inputs:
        given = data.get(inp.key)
        if not given:
            continue
        if inp.kind == "form":
            unknown = set(given) - {f.key for f in inp.fields}
            if unknown:
                raise FillError(f"{inp.sheet}：数据中有模板没有的项目：{'、'.join(sorted(unknown))}")
            for row, f in enumerate(inp.fields, start=spec.layout.form_first_row):
                if f.key in given:
                    ref = CellRef(inp.sheet, row, spec.layout.form_value_column)
                    edits.append(CellEdit(ref, _typed(given[f.key], f.type, str(ref))))
        else:
            for r, record in enumerate(given, start=spec.layout.list_first_row):
                for c, f in enumerate(inp.fields, start=1):
                    if f.key in record:
                        ref = CellRef(inp.sheet, r, c)
                        edits.append(CellEdit(ref, _typed(record[f.key], f.type, str(ref))))
    return edits


def fill_edits(spec: Spec, data: dict[str, Any], counts: dict[str, int] | None = None) -> list[CellEdit]:
    known = {"tables", *(i.key for i in spec.inputs)}
    unknown = sorted(set(data) - known) if isinstance(data, dict) else []
    if not isinstance(data, dict) or unknown:
        raise FillError(
            f"数据文件中有不认识的部分：{'、'.join(unknown) or '（不是键值结构）'}。可用的部分：{'、'.join(sorted(known))}"
            "（格式见 examples/akto_2026.toml）。"
        )
    return table_edits(spec, data, counts) + input_edits(spec, data)
