"""部门整体 and 项目支出 绩效目标表 as printable grids (cells, bold, merges)."""

from __future__ import annotations

from ..model import Disclosure, Record
from ..money import fmt
from ..records import dataclass, field
from ..textnorm import squash


@dataclass(frozen=True)
class PRow:
    cells: tuple[str, ...]
    bold: bool = False
    bold_columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class PerformanceTable:
    title: str
    year: int | None
    width: int
    rows: tuple[PRow, ...]
    merges: tuple[tuple[int, int, int, int], ...]
    widths: tuple[int, ...] = field(default=())


def _money(record: Record, key: str) -> str:
    v = record.amount(key)
    return fmt(v) if v is not None else ""


def _indicator_rows(indicators: list[Record], columns: tuple[str, ...], first_row: int) -> tuple[list[PRow], list[tuple[int, int, int, int]]]:
    rows, merges = [], []
    for ind in indicators:
        cells = []
        for key in columns:
            if key == "分值权重":
                v = ind.amount(key)
                cells.append("" if v is None else str(int(v)) if v == v.to_integral_value() else format(v.normalize(), "f"))
            else:
                cells.append(ind.text(key))
        rows.append(PRow(tuple(cells)))
    # merge runs of the same 一级 (and 二级 within it), as the published tables do
    for col in (0, 1):
        start = 0
        for i in range(1, len(rows) + 1):
            same = i < len(rows) and rows[i].cells[col] == rows[start].cells[col] and rows[i].cells[0] == rows[start].cells[0] and rows[start].cells[col]
            if not same:
                if i - 1 > start:
                    merges.append((first_row + start, col, first_row + i - 1, col))
                start = i
    return rows, merges


def _whole(d: Disclosure, target: Record, indicators: list[Record]) -> PerformanceTable:
    rows = [
        PRow(("部门名称（盖章）", d.department, "", "", "", ""), bold_columns=(0,)),
        PRow(("部门联系人", target.text("联系人"), "联系电话", target.text("联系电话"), "", ""), bold_columns=(0, 2)),
        PRow(("年度绩效目标", target.text("总体目标"), "", "", "", ""), bold_columns=(0,)),
        PRow(("年度预算（万元）", "资金来源", "", "资金总额（万元）", "", ""), bold_columns=(0,)),
        PRow(("", "财政资金（万元）", "上级安排", _money(target, "上级安排"), "", "")),
        PRow(("", "", "本级安排", _money(target, "本级安排"), "", "")),
        PRow(("", "其他资金（万元）", "其他", _money(target, "其他资金"), "", "")),
        PRow(("合计：", "", "", _money(target, "年度预算总额"), "", "")),
        PRow(("一级指标", "二级指标", "三级指标", "指标值", "指标设定依据", "分值权重"), bold=True),
    ]
    merges = [(0, 1, 0, 5), (1, 3, 1, 5), (2, 1, 2, 5), (3, 0, 6, 0), (3, 1, 3, 2), (3, 3, 3, 5), (4, 1, 5, 1),
              (4, 3, 4, 5), (5, 3, 5, 5), (6, 3, 6, 5), (7, 0, 7, 2), (7, 3, 7, 5)]
    ind_rows, ind_merges = _indicator_rows(indicators, ("一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "分值权重"), len(rows))
    return PerformanceTable("部门整体绩效目标表", d.year, 6, tuple(rows + ind_rows), tuple(merges + ind_merges), (14, 14, 30, 12, 30, 10))


def _project(d: Disclosure, target: Record, indicators: list[Record]) -> PerformanceTable:
    rows = [
        PRow(("预算单位", "", d.department, "", "", "", "", "", ""), bold_columns=(0,)),
        PRow(("项目名称", "", target.text("目标表名称"), "", "", "", "项目负责人", target.text("项目负责人"), ""), bold_columns=(0, 6)),
        PRow(("项目资金（万元）", "", "年度预算总额", _money(target, "年度预算总额"), "其中：财政拨款", _money(target, "财政拨款"), "其他资金", _money(target, "其他资金") or "0.00", ""), bold_columns=(0,)),
        PRow(("项目总体目标", "", target.text("总体目标"), "", "", "", "", "", ""), bold_columns=(0,)),
        PRow(("一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "上年完成值", "指标分值权重", "指标赋分规则", "佐证资料"), bold=True),
    ]
    merges = [(0, 0, 0, 1), (0, 2, 0, 8), (1, 0, 1, 1), (1, 2, 1, 5), (1, 7, 1, 8), (2, 0, 2, 1), (2, 7, 2, 8), (3, 0, 3, 1), (3, 2, 3, 8)]
    ind_rows, ind_merges = _indicator_rows(
        indicators, ("一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "上年完成值", "分值权重", "指标赋分规则", "佐证资料"), len(rows)
    )
    return PerformanceTable("项目支出绩效目标表", d.year, 9, tuple(rows + ind_rows), tuple(merges + ind_merges), (9, 10, 26, 12, 12, 10, 8, 14, 10))


def performance_tables(d: Disclosure) -> list[PerformanceTable]:
    by_table: dict[str, list] = {}  # the indicators of each 目标表, in the order given
    for i in d.lists.get("indicators", ()):
        by_table.setdefault(squash(i.text("目标表名称")), []).append(i)
    out = []
    for target in d.lists.get("targets", ()):
        mine = by_table.get(squash(target.text("目标表名称")), [])
        if target.text("类型") == "部门整体":
            out.append(_whole(d, target, mine))
        elif target.text("类型") == "项目":
            out.append(_project(d, target, mine))
    return out
