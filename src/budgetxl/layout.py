"""Where things sit on a table sheet of the standard template.

Only the template builder relies on these positions; the parser finds tables
by their headers, so a workbook whose rows were moved still reads.
"""

from __future__ import annotations

from .spec import TableSpec

TABLE_LABEL_ROW = 1  # "表1"
TITLE_ROW = 2
CONTEXT_ROW = 3  # 编制部门 … 单位：万元
HEADER_ROW = 4

DETAIL_ROWS = {"classified": 40, "projects": 40, "items": 12}
RIGHT_CLASS_ROWS = 30  # 表1/表4: the 类 201 … 234


def data_first_row(table: TableSpec) -> int:
    return HEADER_ROW + len(table.header)


def data_row_count(table: TableSpec, class_count: int = RIGHT_CLASS_ROWS) -> int:
    if table.layout == "two_sided":
        return max(len(table.left_rows), class_count)
    if table.layout == "fixed":
        return len(table.left_rows)
    return DETAIL_ROWS[table.layout]


def total_row(table: TableSpec, class_count: int = RIGHT_CLASS_ROWS) -> int:
    return data_first_row(table) + data_row_count(table, class_count)


INFO_SHEET = "单位信息"
INSTRUCTIONS_SHEET = "填表说明"
CODES_SHEET = "分类代码"
