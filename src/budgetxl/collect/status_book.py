"""The bureau's status workbook, made to be printed and sorted.

Every sheet: a bold coloured header row, frozen; an auto filter over the data
rows (a totals row stays below it, so sorting never moves it); A4 landscape,
fitted to the page width, the header repeated on every page; amounts as
numbers (#,##0.00), shares as percentages, times as real Excel dates in
Beijing time. 报送状态 is coloured by status; 图表 carries two native Excel
charts (submission progress by status, spending by function class).
Department text is written as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..io_atomic import atomic_save
from ..xlsx_writer import set_text
from .compare import SHARES
from .status import STATES, STATUS_FILL, Bureau, display_width as _display_width, text_lines

HEADER_FILL = "DDEBF7"
TOTAL_FILL = "F2F2F2"
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def _plain(v):
    if v is None:
        return None
    if not isinstance(v, (str, Decimal, dt.date)) and pd.isna(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, Decimal)):  # numpy scalars
        return v.item()
    return v


def _labels() -> DataLabelList:
    labels = DataLabelList()
    labels.showVal = True
    labels.showCatName = labels.showSerName = labels.showLegendKey = labels.showPercent = False
    return labels


def _sheet(wb, name: str, frame: pd.DataFrame, widths: dict[str, int] | tuple[int, ...] = (), total: tuple | None = None,
           percent: tuple[str, ...] = (), status_column: str | None = None, bold_total: bool = True):
    ws = wb.create_sheet(name)
    header = [str(c) for c in frame.columns]
    ws.append(header)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    if isinstance(widths, dict):
        widths = tuple(widths.get(h, 14) for h in header)
    widths = tuple(widths) + (14,) * (len(header) - len(widths))
    rows = [tuple(_plain(v) for v in row) for row in frame.itertuples(index=False)]
    if total is not None:
        rows.append(tuple(_plain(v) for v in total))
    for r, row in enumerate(rows, start=2):
        lines = 1
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c)
            set_text(cell, value)
            h = header[c - 1]
            if isinstance(value, dt.datetime):
                cell.number_format = TIME_FORMAT
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            elif h in percent and isinstance(value, (Decimal, int, float)):
                cell.number_format = PERCENT_FORMAT
            elif isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.number_format = "0"
            wide = isinstance(value, str) and _display_width(value) > widths[c - 1]
            cell.alignment = Alignment(wrap_text=wide, vertical="top")
            if wide:
                lines = max(lines, text_lines(value, widths[c - 1]))
        if lines > 1:  # LibreOffice does not fit row heights to wrapped text on opening: say it
            ws.row_dimensions[r].height = 14 * min(lines, 12)
        if status_column and status_column in header:
            state = row[header.index(status_column)]
            if state in STATUS_FILL:
                ws.cell(r, header.index(status_column) + 1).fill = PatternFill("solid", fgColor=STATUS_FILL[state])
    head_lines = max(text_lines(h, w) for h, w in zip(header, widths)) if header else 1
    ws.row_dimensions[1].height = 14 * max(1, head_lines)
    last_data = len(frame) + 1
    if total is not None:
        for c in range(1, len(header) + 1):
            cell = ws.cell(last_data + 1, c)
            cell.font = Font(bold=bold_total)
            cell.fill = PatternFill("solid", fgColor=TOTAL_FILL)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, last_data)}"
    _print(ws)
    return ws


def _print(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.print_title_rows = "1:1"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddHeader.center.text = "&A"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _status_total(frame: pd.DataFrame, label: str) -> tuple:
    out = []
    for c in frame.columns:
        if c == "单位名称":
            out.append(f"{label}（{len(frame)} 个单位）")
        elif c in ("错误", "警告", "提示"):
            out.append(int(sum(v for v in frame[c] if v is not None and not pd.isna(v))))
        elif c == "收支总计（万元）":
            out.append(sum((v for v in frame[c] if isinstance(v, Decimal)), Decimal(0)))
        else:
            out.append(None)
    return tuple(out)


STATUS_WIDTHS = {"单位名称": 30, "单位编码": 12, "状态": 9, "错误": 6, "警告": 6, "提示": 6, "收支总计（万元）": 14, "最新版本": 8,
                 "报送时间": 17, "文件": 30, "汇总使用版本": 8, "截止日期": 11}


def write(bureau: Bureau, target: str | Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    label = "名单合计" if bureau.roster else "合计"
    _sheet(wb, "报送状态", bureau.status, STATUS_WIDTHS, _status_total(bureau.status, label), status_column="状态")
    grouped = bureau.grouped.assign(**{"说明（第一个）": bureau.grouped["说明（第一个）"].map(lambda t: t if len(t) <= 90 else t[:90] + "……")}) if len(bureau.grouped) else bureau.grouped
    _sheet(wb, "问题明细", grouped, (24, 6, 6, 6, 24, 6, 30, 60))
    _sheet(wb, "报送问题", bureau.problems, (30, 24, 14, 60))
    _sheet(wb, "汇总使用版本", bureau.used, (30, 12, 30, 17, 10))
    if bureau.roster:
        _sheet(wb, "名单外单位", bureau.off_roster, STATUS_WIDTHS, status_column="状态")
    if len(bureau.comparison.columns):
        widths = {c: 11 for c in bureau.comparison.columns}
        widths.update({"单位名称": 24, "单位编码": 10, "汇总使用版本": 6, "项目数": 6})
        _sheet(wb, "单位对比（万元）", bureau.comparison, widths, bureau.comparison_total, percent=SHARES)
    if bureau.yoy is not None:
        frame = bureau.yoy
        _sheet(wb, "上年对比", frame, (26, 26, 22, 14, 14, 14, 10), percent=("增减率",))
        findings = pd.DataFrame(
            [(f.department, f.severity, f.code, f.title, f.this_year, f.last_year, f.this_cell, f.last_cell, f.message) for f in bureau.bureau_findings],
            columns=["单位名称", "级别", "代码", "问题", "本年数（万元）", "上年数（万元）", "本年位置", "上年位置", "说明"],
        )
        _sheet(wb, "跨年度核对", findings, (22, 6, 6, 20, 11, 11, 24, 24, 50))
    _charts(wb, bureau)
    for name, frame in bureau.totals.items():
        _sheet(wb, f"汇总-{name}"[:31], frame, (12, 34, *[14] * (len(frame.columns) - 2)))
    wb.active = 0
    return atomic_save(wb, Path(target))


def _charts(wb, bureau: Bureau) -> None:
    """图表: submission progress by status; spending by function class (万元)."""
    ws = wb.create_sheet("图表")
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 14
    ws.append(["报送状态", "单位数"])
    for state, n in bureau.counts().items():
        ws.append([state, n])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    for r, state in enumerate(STATES, start=2):
        ws.cell(r, 1).fill = PatternFill("solid", fgColor=STATUS_FILL[state])
    chart = BarChart()
    chart.type = "col"
    chart.title = "报送进度（按状态）"
    chart.y_axis.title = "单位数"
    chart.legend = None
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=1 + len(STATES)), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + len(STATES)))
    chart.dataLabels = _labels()
    chart.width, chart.height = 16, 7.5
    ws.add_chart(chart, "D2")
    classes = bureau.totals.get("功能分类（类）")
    start = 2 + len(STATES) + 2
    ws.cell(start, 1, "功能分类（类）")
    ws.cell(start, 2, "合计（万元）")
    for cell in (ws.cell(start, 1), ws.cell(start, 2)):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    n = 0
    if classes is not None:
        for row in classes.itertuples(index=False):
            n += 1
            set_text(ws.cell(start + n, 1), f"{row[0]} {row[1]}".strip())
            ws.cell(start + n, 2, _plain(row[2])).number_format = MONEY_FORMAT
    spending = BarChart()
    spending.type = "bar"
    spending.title = "支出按功能分类（类，万元）"
    spending.legend = None
    spending.add_data(Reference(ws, min_col=2, min_row=start, max_row=start + max(n, 1)), titles_from_data=True)
    spending.set_categories(Reference(ws, min_col=1, min_row=start + 1, max_row=start + max(n, 1)))
    spending.dataLabels = _labels()
    spending.width, spending.height = 16, max(7.5, 1.0 * n + 3)
    ws.add_chart(spending, "D18")
    _print(ws)
    ws.print_title_rows = None
