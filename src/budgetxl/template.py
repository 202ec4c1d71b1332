"""Builds the standard workbook (templates/budget_template.xlsx) from the spec.

One sheet per disclosure table with the published titles and merged headers,
the input sheets the narrative needs, a 填表说明 sheet, and a hidden sheet of
classification codes behind the drop-downs. Input cells are white; computed
cells (subtotals, totals, derived tables) are shaded and filled by the
“计算小计” command.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .codes import codes_for
from .io_atomic import atomic_save
from .spec import CODE_ROLES, MERGE_LEFT, MERGE_UP, InputSpec, SheetLayout, Spec, TableSpec, header_merges

FIXED_TIMESTAMP = dt.datetime(2026, 1, 1)

FONT = "宋体"
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HELP_FONT = Font(name=FONT, size=9, italic=True, color="7F7F7F")
TEXT_FORMAT = "@"

INSTRUCTIONS = [
    "填表说明",
    "",
    "一、本工作簿是部门预算公开的标准模板：每张公开表一个工作表，另有单位信息、上年数与原因、项目说明、其他事项、绩效目标、绩效指标等输入表。",
    "二、白色单元格由本单位填写；灰色单元格（小计、合计、总计及表1、表4）由“计算小计”按钮或 budgetxl subtotal 命令自动计算，请勿手工填写。",
    "三、金额单位以“单位信息”表为准（万元或元），全部表格一致；金额填写数字，保留两位小数，不要输入文字或空格。",
    "四、科目代码：类填3位（如 208），款、项各填2位（如 01、09），也可在“类”列直接填写完整代码（如 2080109）。类、款行只填代码和名称，金额由小计计算。",
    "五、科目名称请从下拉列表选择，须与《政府收支分类科目》一致；表7每个项目一行，填写项级科目代码和项目名称。",
    "六、可以插入或删除明细行，但不要删除、改名工作表，不要修改表头，“总计”行保留在表格末尾。",
    "七、没有数据的表（如政府性基金预算支出）保持空表，生成公开文件时自动加注空表说明。",
    "八、“上年数与原因”填写情况说明需要比较的上年预算数和增减原因（只写“主要原因是”之后的内容）；上年为零的，增减原因写明新增原因。",
    "九、“项目说明”每个项目一行，项目名称与表7一致；“绩效目标”每张绩效目标表一行，“绩效指标”每个指标一行。",
    "十、填好后依次使用按钮：计算小计 → 校验 → 生成说明 → 导出公开文件。校验结果中的“错误”必须改正，“警告”须核实。",
    "",
    "按钮与命令",
    "启用宏的工作簿（.xlsm）在功能区有“预算公开”选项卡，五个按钮在每个工作表上都可使用；也可按 Alt+F8 运行同名宏（Budgetxl 开头）。没有 Excel 时使用括号中的命令。",
    "计算小计（budgetxl subtotal）：计算各表类、款、总计和表1、表4，列出改动的单元格。",
    "校验（budgetxl check）：检查表内、表间勾稽关系和说明数据，结果写入“校验结果”工作表，并标出有问题的单元格。",
    "生成说明（budgetxl narrate）：根据表格数据生成“情况说明”。",
    "导出公开文件（budgetxl convert）：生成 Word、PDF 和公开用 Excel 文件。",
    "清除标记：去掉“校验”在单元格上标的颜色。",
]

INSTRUCTIONS_WIDTH = 72  # characters of column A (≈510 pixels): fits A4 portrait unscaled and a 1366-pixel screen
LINE_HEIGHT = {11: 15.0, 14: 19.0}  # points per wrapped line of 宋体 at each font size


def text_width(text: str) -> int:
    """Width in Excel character units: a CJK character takes two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped cell of `width` characters needs for `text`, with a tenth to spare: fonts
    differ between Excel, WPS and LibreOffice, and a row too short cuts the last line off."""
    usable = int(width * 0.9)
    lines, current = 1, 0
    for ch in text:
        w = text_width(ch)
        if current + w > usable:
            lines, current = lines + 1, 0
        current += w
    return lines


def _font(bold: bool = False, size: int = 10) -> Font:
    return Font(name=FONT, bold=bold, size=size)


def fill(spec: Spec, style: str) -> PatternFill:
    """A cell shading of the spec's palette (header, computed, subtotal, error …)."""
    return PatternFill("solid", fgColor=spec.color(style))


def build_template(spec: Spec, counts: Mapping[str, int] | None = None) -> Workbook:
    """The standard template; ``counts`` gives tables more detail rows than the standard (fill uses it)."""
    wb = Workbook()
    wb.properties.creator = "budgetxl"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    wb.properties.title = f"{spec.year}年部门预算公开模板（{spec.region}）"
    _instructions(wb.active, spec.layout)
    codes_sheet = _codes_sheet(wb, spec)
    for inp in spec.inputs:
        if inp.key == "info":
            _form_sheet(wb.create_sheet(inp.sheet), inp, spec)
    for t in spec.tables:
        _table_sheet(wb.create_sheet(t.sheet), t, spec, (counts or {}).get(t.key))
    for inp in spec.inputs:
        if inp.key != "info":
            if inp.kind == "form":
                _form_sheet(wb.create_sheet(inp.sheet), inp, spec)
            else:
                _list_sheet(wb.create_sheet(inp.sheet), inp, spec)
    wb.move_sheet(codes_sheet, offset=len(wb.sheetnames))
    wb.active = 1
    return wb


XLWINGS_CONF_SHEET = "xlwings.conf"
XLWINGS_CONF = (
    # key, value: read by the xlwings VBA module (GetConfigFromSheet) from A1 down to the first blank
    ("Interpreter_Win", "python"),  # python.exe on PATH; `budgetxl excel configure` writes a full path
    ("Interpreter_Mac", ""),
)
XLWINGS_CONF_NOTE = (
    "xlwings 设置（按钮调用 Python 时读取）。Interpreter_Win：Windows 上 python.exe 的完整路径，"
    "填“python”则使用 PATH 中的 Python；Interpreter_Mac：macOS 上 python 的完整路径。"
    "请用命令 budgetxl excel configure 工作簿.xlsm --interpreter 路径 修改。"
)


XLWINGS_VERSION_LABEL = "本工作簿中 xlwings VBA 模块的版本："  # D2: pip install xlwings==<this version>


def add_xlwings_conf(wb: Workbook, xlwings_version: str | None = None) -> Worksheet:
    """The hidden xlwings.conf sheet of the macro-enabled workbook (the settings the buttons need)."""
    ws = wb.create_sheet(XLWINGS_CONF_SHEET)
    for r, (key, value) in enumerate(XLWINGS_CONF, start=1):
        ws.cell(r, 1, key)
        ws.cell(r, 2, value or None).number_format = TEXT_FORMAT
    ws.cell(1, 4, XLWINGS_CONF_NOTE).alignment = Alignment(wrap_text=True, vertical="top")
    if xlwings_version:
        ws.cell(2, 4, f"{XLWINGS_VERSION_LABEL}{xlwings_version}")
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["D"].width = 60
    ws.sheet_state = "hidden"
    return ws


def write_template(path: str | Path, spec: Spec) -> Path:
    wb = build_template(spec)
    return atomic_save(wb, Path(path))


# ------------------------------------------------------------------ sheets


def _instructions(ws: Worksheet, layout: SheetLayout) -> None:
    """Readable on screen and on A4: one column that fits the page width, wrapped text, and
    each row as tall as its wrapped lines (Excel does not grow rows openpyxl wrote)."""
    ws.title = layout.instructions_sheet
    ws.column_dimensions["A"].width = INSTRUCTIONS_WIDTH
    for i, line in enumerate(INSTRUCTIONS, start=1):
        cell = ws.cell(i, 1, line or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        size = 14 if i == 1 else 11
        cell.font = _font(bold=i == 1 or line == "按钮与命令", size=size)
        ws.row_dimensions[i].height = wrapped_lines(line, INSTRUCTIONS_WIDTH) * LINE_HEIGHT[size] + 3
    ws.sheet_view.showGridLines = False
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.6
    ws.print_area = f"A1:A{len(INSTRUCTIONS)}"


def _codes_sheet(wb: Workbook, spec: Spec) -> Worksheet:
    ws = wb.create_sheet(spec.layout.codes_sheet)
    ws.append(["功能分类代码", "功能分类名称", "", "经济分类代码", "经济分类名称"])
    functional = list(codes_for(spec, "functional").names.items())
    economic = list(codes_for(spec, "economic").names.items())
    for i in range(max(len(functional), len(economic))):
        row = ["", "", "", "", ""]
        if i < len(functional):
            row[0], row[1] = functional[i]
        if i < len(economic):
            row[3], row[4] = economic[i]
        ws.append(row)
    for col in "AD":
        for cell in ws[col]:
            cell.number_format = TEXT_FORMAT
    classes = [c for c, _ in functional if len(c) == 3]
    ws.cell(1, 7, "功能分类类")
    for i, c in enumerate(classes, start=2):
        ws.cell(i, 7, c).number_format = TEXT_FORMAT
    econ_classes = [c for c, _ in economic if len(c) == 3]
    ws.cell(1, 8, "经济分类类")
    for i, c in enumerate(econ_classes, start=2):
        ws.cell(i, 8, c).number_format = TEXT_FORMAT
    q = f"'{spec.layout.codes_sheet}'"
    names = {
        "功能分类名称": f"{q}!$B$2:$B${len(functional) + 1}",
        "经济分类名称": f"{q}!$E$2:$E${len(economic) + 1}",
        "功能分类类": f"{q}!$G$2:$G${len(classes) + 1}",
        "经济分类类": f"{q}!$H$2:$H${len(econ_classes) + 1}",
    }
    for name, ref in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    ws.sheet_state = "hidden"
    return ws


def title_block(ws: Worksheet, t: TableSpec, spec: Spec, department: str, unit: str) -> None:
    """表N, the title, the 编制部门/单位 line and the header: the same on the
    template and on the publication workbook."""
    from .xlsx_writer import set_text

    layout = spec.layout
    width = len(t.columns)
    last = get_column_letter(width)
    ws.cell(layout.table_label_row, 1, f"表{t.number}").font = _font(size=11)
    ws.merge_cells(f"A{layout.title_row}:{last}{layout.title_row}")
    title = ws.cell(layout.title_row, 1, t.title)
    title.font = Font(name="黑体", bold=True, size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[layout.title_row].height = 30
    dept = ws.cell(layout.context_row, 1)
    set_text(dept, spec.context.department_text(department))  # department text never becomes a formula
    dept.font = _font()
    unit_cell = ws.cell(layout.context_row, width, spec.context.unit_text(unit))
    unit_cell.font = _font()
    unit_cell.alignment = Alignment(horizontal="right")
    _header(ws, t, spec)


def _table_sheet(ws: Worksheet, t: TableSpec, spec: Spec, rows: int | None = None) -> None:
    width = len(t.columns)
    layout = spec.layout
    title_block(ws, t, spec, "", "万元")
    first = layout.data_first_row(t)
    classes = codes_for(spec, "functional").classes() if t.layout == "two_sided" else []
    count = max(layout.data_row_count(t, len(classes) or None), rows or 0)
    total = first + count

    amount_cols = {i for i, c in enumerate(t.columns, start=1) if c.role == "amount"}
    code_cols = [i for i, c in enumerate(t.columns, start=1) if c.role in CODE_ROLES]
    computed_cols = t.computed_columns
    for r in range(first, total + 1):
        ws.row_dimensions[r].height = 18
        for c in range(1, width + 1):
            cell = ws.cell(r, c)
            cell.border = BORDER
            cell.font = _font(bold=r == total)
            if c in amount_cols:
                cell.number_format = spec.money_format
                cell.alignment = Alignment(horizontal="right", vertical="center")
                if r == total or c in computed_cols or _fixed_row_computed(t, r - first, c):
                    cell.fill = fill(spec, "computed")
            elif c in code_cols:
                cell.number_format = TEXT_FORMAT
                cell.alignment = Alignment(horizontal="center", vertical="center")
            else:
                cell.alignment = Alignment(vertical="center", wrap_text=t.layout == "projects")
    _fixed_labels(ws, t, first, total, classes)
    _total_row(ws, t, total)
    if t.layout in ("classified", "projects"):
        _subtotal_highlight(ws, t, first, total - 1, width, spec)
        _code_validations(ws, t, first, total - 1)
    if t.empty_statement:
        ws.merge_cells(start_row=total + 1, start_column=1, end_row=total + 1, end_column=width)
        ws.row_dimensions[total + 1].height = 36
        note = ws.cell(total + 1, 1)
        note.alignment = Alignment(wrap_text=True, vertical="top")
        note.font = _font()
    for i, w in enumerate(t.widths or [14] * width, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = ws.cell(first, _first_amount_col(t))
    _print_setup(ws, t, total, layout)


def _header(ws: Worksheet, t: TableSpec, spec: Spec) -> None:
    top = spec.layout.header_row
    height = len(t.header)
    for i, row in enumerate(t.header):
        for c, text in enumerate(row, start=1):
            cell = ws.cell(top + i, c)
            cell.border = BORDER
            cell.fill = fill(spec, "header")
            cell.font = _font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if text not in (MERGE_LEFT, MERGE_UP):
                cell.value = text
    for i, c, down, right in header_merges(t.header):
        ws.merge_cells(start_row=top + i, start_column=c + 1, end_row=top + down, end_column=right + 1)
    for i in range(height):
        ws.row_dimensions[top + i].height = 36 if t.layout != "projects" else 48


def _fixed_row_computed(t: TableSpec, index: int, col: int) -> bool:
    if t.layout not in ("two_sided", "fixed") or index >= len(t.left_rows):
        return False
    return t.is_computed("detail", t.columns[col - 1], t.left_rows[index])


def _fixed_labels(ws: Worksheet, t: TableSpec, first: int, total: int, classes) -> None:
    if t.layout not in ("two_sided", "fixed"):
        return
    left = t.column("label", "收入" if t.layout == "two_sided" else None)
    left_col = t.columns.index(left) + 1
    for i, row in enumerate(t.left_rows):
        cell = ws.cell(first + i, left_col, row.label)
        cell.font = _font(bold=not row.is_input and not row.label.startswith("其中"))
    if t.layout == "two_sided":
        right_col = t.columns.index(t.column("label", "支出")) + 1
        for i, (code, name) in enumerate(classes):
            ws.cell(first + i, right_col, f"{code} {name}")


def _total_row(ws: Worksheet, t: TableSpec, total: int) -> None:
    if t.layout == "two_sided":
        ws.cell(total, t.columns.index(t.column("label", "收入")) + 1, t.left_total)
        ws.cell(total, t.columns.index(t.column("label", "支出")) + 1, t.right_total)
        return
    if t.layout in ("fixed", "items"):
        ws.cell(total, 1, t.total).alignment = Alignment(horizontal="center")
        return
    name = t.column("name")
    ws.cell(total, t.columns.index(name) + 1, "总计").alignment = Alignment(horizontal="center")


def _subtotal_highlight(ws: Worksheet, t: TableSpec, first: int, last: int, width: int, spec: Spec) -> None:
    """Rows whose code stops at 类 or 款 are computed: shade them, whatever row they end up in."""
    a = "$A" + str(first)
    if t.layout == "projects":
        project = get_column_letter(t.columns.index(t.column("project")) + 1)
        name = get_column_letter(t.columns.index(t.column("name")) + 1)
        formula = f'AND(${project}{first}="",OR({a}<>"",${name}{first}<>""))'
    else:
        deepest = get_column_letter(len(t.code_levels))
        formula = f'AND({a}<>"",${deepest}{first}="")'
    rng = f"A{first}:{get_column_letter(width)}{last}"
    ws.conditional_formatting.add(
        rng, FormulaRule(formula=[formula], fill=fill(spec, "subtotal"), font=Font(bold=True), stopIfTrue=False)
    )


def _code_validations(ws: Worksheet, t: TableSpec, first: int, last: int) -> None:
    kind = "功能分类" if t.codes == "functional" else "经济分类"
    classes = DataValidation(type="list", formula1=f"{kind}类", allow_blank=True, showErrorMessage=True)
    classes.errorStyle = "warning"
    classes.error = "类级代码应为3位，请从下拉列表选择。"
    classes.errorTitle = "科目代码"
    classes.add(f"A{first}:A{last}")
    ws.add_data_validation(classes)
    name_col = get_column_letter(t.columns.index(t.column("name")) + 1)
    names = DataValidation(type="list", formula1=f"{kind}名称", allow_blank=True, showErrorMessage=True)
    names.errorStyle = "warning"  # the shipped list is partial: warn, do not block
    names.error = "科目名称不在分类代码表中，请核对是否与《政府收支分类科目》一致。"
    names.errorTitle = "科目名称"
    names.add(f"{name_col}{first}:{name_col}{last}")
    ws.add_data_validation(names)


def _first_amount_col(t: TableSpec) -> int:
    for i, c in enumerate(t.columns, start=1):
        if c.role == "amount":
            return i
    return 1


def _print_setup(ws: Worksheet, t: TableSpec, total: int, layout: SheetLayout) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    # fixed-size tables print on one page; open-ended ones run on, one page wide
    ws.page_setup.fitToHeight = 1 if t.layout in ("two_sided", "fixed") else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    last_header = layout.header_row + len(t.header) - 1
    ws.print_title_rows = f"{layout.header_row}:{last_header}"
    ws.print_area = f"A1:{get_column_letter(len(t.columns))}{total + (1 if t.empty_statement else 0)}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _form_sheet(ws: Worksheet, inp: InputSpec, spec: Spec) -> None:
    layout = spec.layout
    key_col, value_col, help_col = layout.form_key_column, layout.form_value_column, layout.form_help_column
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=3)
    ws.cell(1, 1, inp.title).font = Font(name="黑体", bold=True, size=14)
    for c, text in zip((key_col, value_col, help_col), ("项目", "内容", "填写说明")):
        cell = ws.cell(layout.form_header_row, c, text)
        cell.font = _font(bold=True)
        cell.fill = fill(spec, "header")
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center")
    for i, f in enumerate(inp.fields, start=layout.form_first_row):
        key = ws.cell(i, key_col, f.key)
        key.font = _font(bold=f.required)
        key.border = BORDER
        key.alignment = Alignment(vertical="top", wrap_text=True)
        value = ws.cell(i, value_col)
        value.border = BORDER
        value.alignment = Alignment(vertical="top", wrap_text=True)
        value.font = _font()
        if f.type == "amount":
            value.number_format = spec.money_format
        elif f.type in ("count", "year"):
            value.number_format = "0"
        elif f.type == "date":
            value.number_format = "yyyy-mm-dd"
        else:
            value.number_format = TEXT_FORMAT
        help_text = f.help + ("（必填）" if f.required else "")
        note = ws.cell(i, help_col, help_text or None)
        note.font = HELP_FONT
        note.alignment = Alignment(vertical="top", wrap_text=True)
        if f.type == "longtext":
            ws.row_dimensions[i].height = 90
        if f.type == "choice":
            dv = DataValidation(type="list", formula1='"' + ",".join(f.choices) + '"', allow_blank=True)
            dv.error = f"请从下拉列表选择：{'、'.join(f.choices)}"
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
        elif f.type == "year":
            dv = DataValidation(type="whole", operator="between", formula1="2000", formula2="2100")
            dv.error = "请填写四位年份，如 2026"
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 80
    ws.column_dimensions["C"].width = 40
    ws.freeze_panes = "B3"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


LIST_ROWS = 300


def _list_sheet(ws: Worksheet, inp: InputSpec, spec: Spec) -> None:
    top = spec.layout.list_header_row
    for c, f in enumerate(inp.fields, start=1):
        cell = ws.cell(top, c, f.key)
        cell.font = _font(bold=True)
        cell.fill = fill(spec, "header")
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(c)
        ws.column_dimensions[letter].width = f.width
        rng = f"{letter}{top + 1}:{letter}{top + LIST_ROWS}"
        if f.type == "choice":
            dv = DataValidation(type="list", formula1='"' + ",".join(f.choices) + '"', allow_blank=True)
            dv.add(rng)
            ws.add_data_validation(dv)
        number_format = {"amount": "#,##0.00", "number": "General"}.get(f.type, TEXT_FORMAT)
        for r in range(top + 1, top + LIST_ROWS + 1):
            ws.cell(r, c).number_format = number_format
            if f.type == "longtext":
                ws.cell(r, c).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(inp.fields))}1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
