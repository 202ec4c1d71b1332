"""Hostile workbooks for the reader's guard (issue 13, class 1 and the reader
side of class 5), generated: never hand-copied binaries.

Each case writes one file and says what budgetxl must do with it: ``READ``
(read; these finding codes among the findings, and ``verify`` holds) or
``REFUSED`` (a WorkbookError whose Chinese message contains the words).
Cases marked ``heavy`` take longer or more memory and run only with
``BUDGETXL_HOSTILE_FULL=1``. ``python -m tests.hostile_guard DIR`` writes them all.
"""

from __future__ import annotations

import re
import sys
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable

from .hostile import EXAMPLE, READ, REFUSED, T3, T6, Unavailable, _edit, _set, _zip_edit

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
T3_PART = "xl/worksheets/sheet5.xml"  # 表3 in the example


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[Path], None]
    outcome: str
    expect: tuple[str, ...] = ()
    verify: Callable | None = None  # (reading, grid) -> None, asserts
    heavy: bool = False


# ------------------------------------------------------------------ builders

def _t3(change: Callable[[str], str]) -> Callable[[Path], None]:
    return _zip_edit(lambda name, data: change(data.decode()).encode() if name == T3_PART else data)


def _append_rows(xml: str) -> Callable[[str], str]:
    return lambda text: text.replace("</sheetData>", xml + "</sheetData>")


def _moved_t3(target: str, change: Callable[[str], str] = lambda x: x) -> Callable[[Path], None]:
    """表3's part moved out of xl/worksheets, under another extension."""

    def build(path: Path) -> None:
        with zipfile.ZipFile(EXAMPLE) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                name = item.filename
                if name == T3_PART:
                    zout.writestr(target, change(data.decode()).encode())
                    continue
                if name == "xl/_rels/workbook.xml.rels":
                    data = data.replace(b"/xl/worksheets/sheet5.xml", f"/{target}".encode())
                if name == "[Content_Types].xml":
                    data = data.replace(b"/xl/worksheets/sheet5.xml", f"/{target}".encode())
                zout.writestr(item, data)

    return build


def _package(path: Path, sheets: list[tuple[str, str]], shared: list[str] | None = None,
             targets: list[str] | None = None, states: list[str] | None = None, dangling: bool = False) -> None:
    """A minimal workbook written from scratch: (name, sheetData inner XML) per
    sheet. ``dangling``: the content types name a shared-string part that is missing."""
    targets = targets or [f"worksheets/sheet{i + 1}.xml" for i in range(len(sheets))]
    states = states or ["visible"] * len(sheets)
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i + 1}" state="{states[i]}" r:id="rId{i + 1}"/>' for i, (name, _) in enumerate(sheets)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{RNS}/worksheet" Target="{targets[i]}"/>' for i in range(len(sheets))
    )
    if shared is not None:
        rels += f'<Relationship Id="rIdS" Type="{RNS}/sharedStrings" Target="sharedStrings.xml"/>'
    overrides = "".join(
        f'<Override PartName="/xl/{t}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for t in dict.fromkeys(targets)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
               if shared is not None or dangling else "")
            + f"{overrides}</Types>"))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RNS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{RNS}"><sheets>{entries}</sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>"))
        if shared is not None:
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
            z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="{len(shared)}" uniqueCount="{len(shared)}">{items}</sst>')
        written = set()
        for (name, inner), target in zip(sheets, targets):
            if target in written:
                continue
            written.add(target)
            z.writestr(f"xl/{target}", f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>{inner}</sheetData></worksheet>')


def _rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> None:
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, change(item.filename, zin.read(item.filename)))
    tmp.replace(path)


def _percent_encoded_target(path: Path) -> None:
    _package(path, [("附表", FAR)], targets=["worksheets/my sheet.xml"])
    _rewrite(path, lambda n, d: d.replace(b'Target="worksheets/my sheet.xml"', b'Target="worksheets/my%20sheet.xml"') if n.endswith(".rels") else d)


def _sheet_without_part(path: Path) -> None:
    _package(path, [("附表", '<row r="1"><c r="A1"><v>1</v></c></row>')])
    _rewrite(path, lambda n, d: d.replace(b'Target="worksheets/sheet1.xml"', b'Target="worksheets/nowhere.xml"') if n.endswith(".rels") else d)


def _twenty_sheets(path: Path) -> None:
    # each sheet spans A1:CNH2000 (2000 rows × 2400 columns = 4.8 million cells),
    # just under the old per-sheet limit of 5 million: 96 million in all
    inner = '<row r="1"><c r="A1"><v>1</v></c></row><row r="2000"><c r="CNH2000"><v>1</v></c></row>'
    _package(path, [(f"附表{i}", inner) for i in range(20)])


def _one_part_twenty_sheets(path: Path) -> None:
    # twenty sheet entries, one part spanning 500 × 300 = 150,000 cells: 3 million read
    inner = '<row r="1"><c r="A1"><v>1</v></c></row><row r="500"><c r="KN500"><v>1</v></c></row>'
    _package(path, [(f"附表{i}", inner) for i in range(20)], targets=["worksheets/shared.xml"] * 20)


def _near_limit_sheets(path: Path) -> None:
    # twenty sheets of 99,000 cells each (330 rows × 300 columns): 1.98 million, just under the budget
    inner = '<row r="1"><c r="A1"><v>1</v></c></row><row r="330"><c r="KN330"><v>2</v></c></row>'
    _package(path, [(f"附表{i}", inner) for i in range(20)])


def _dense_numbers(rows_count: int) -> Callable[[Path], None]:
    # one sheet of distinct numbers, 100 to a row, every cell full
    def build(path: Path) -> None:
        import random

        rng = random.Random(13)
        columns = [_col(c) for c in range(1, 101)]
        rows = "".join(
            f'<row r="{r}">' + "".join(f'<c r="{columns[c]}{r}"><v>{rng.randrange(10**9) / 100}</v></c>' for c in range(100)) + "</row>"
            for r in range(1, rows_count + 1)
        )
        _package(path, [("附表", rows)])

    return build


LONG = "预" * 32767  # the longest text an Excel cell holds


def _shared_string_cells(count: int, value: str = "<v>0</v>") -> str:
    rows = []
    per_row = 100
    for r in range(1, count // per_row + 1):
        cells = "".join(f'<c r="{_col(c)}{r}" t="s">{value}</c>' for c in range(1, per_row + 1))
        rows.append(f'<row r="{r}">{cells}</row>')
    return "".join(rows)


def _col(n: int) -> str:
    from budgetxl.model import column_letter

    return column_letter(n)


def _long_shared_string(count: int, value: str = "<v>0</v>") -> Callable[[Path], None]:
    """``count`` cells showing one 32,767-character shared string, each cell's value
    written as ``value`` (calamine reads anything but plain digits as string 0, takes
    the last <v> of a cell and ignores text after it; openpyxl reads int(text))."""
    return lambda path: _package(path, [("附表", _shared_string_cells(count, value))], shared=[LONG, "短"])


def _declare(part: str, encoding: str) -> Callable[[str, bytes], bytes]:
    """The part's XML declaration names another encoding (the bytes stay UTF-8/ASCII-compatible)."""
    def change(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        declaration = f'<?xml version="1.0" encoding="{encoding}"?>'.encode()
        body = re.sub(rb"^<\?xml[^>]*\?>", b"", data.lstrip(), count=1)
        return declaration + body

    return change


def _huge_attribute(size: int) -> Callable[[str], str]:
    """One attribute value of ``size`` characters on a cell (legal XML: one token the
    tokenizer must hold whole)."""
    import base64
    import random

    def change(text: str) -> str:
        noise = base64.b64encode(random.Random(13).randbytes(size * 3 // 4)).decode()  # does not compress: no ratio refusal
        return text.replace('<c r="B7"', f'<c r="B7" x="{noise}"', 1)

    return change


def _styles(count: int) -> Callable[[Path], None]:
    def change(name: str, data: bytes) -> bytes:
        if name != "xl/styles.xml":
            return data
        text = data.decode()
        extra = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>' * count
        return text.replace("</cellXfs>", extra + "</cellXfs>").encode()

    return _zip_edit(change)


def _long_format_code(formats: int, length: int) -> Callable[[Path], None]:
    """One number format code of ``length`` characters (quoted date letters:
    no date, but every one of them must be looked at) used by ``formats``
    cell formats: each cell format's kind was worked out again (quadratic)."""

    def change(name: str, data: bytes) -> bytes:
        if name != "xl/styles.xml":
            return data
        text = data.decode()
        code = "&quot;" + "d" * length + "&quot;0.00"
        text = re.sub(r"<numFmts[^>]*>", lambda m: m.group(0) + f'<numFmt numFmtId="200" formatCode="{code}"/>', text, count=1)
        extra = '<xf numFmtId="200" fontId="0" fillId="0" borderId="0"/>' * formats
        return text.replace("</cellXfs>", extra + "</cellXfs>").encode()

    return _zip_edit(change)


def _merge_everything(text: str) -> str:
    if "<mergeCells" in text:
        return re.sub(r"<mergeCells[^>]*>", lambda m: m.group(0) + '<mergeCell ref="A1:XFD1048576"/>', text, count=1)
    return text.replace("</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')


def _regex_bait(text: str) -> str:
    """Legal XML the old formula regex choked on: end tags written '</c >'
    (whitespace before '>'), thousands of cells, one formula without a value."""
    text = re.sub(r'<c r="F8"[^>]*?(/>|>.*?</c>)', '<c r="F8"><f>1+1</f></c>', text, count=1, flags=re.S)
    text = text.replace("</c>", "</c >")
    padding = "".join(f'<row r="{r}"><c r="Z{r}" s="0"></c ></row>' for r in range(60, 3060))
    return text.replace("</sheetData>", padding + "</sheetData>")


def _lying_dimension(text: str) -> str:
    return re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', text)


def _long_prolog_dtd(name: str, data: bytes) -> bytes:
    if name != "docProps/app.xml":
        return data
    comment = "<!--" + " " * 10_000 + "-->"
    return (f'<?xml version="1.0"?>{comment}<!DOCTYPE Properties [<!ENTITY a "aaaaaaaaaa">]>').encode() + data


def _xlwt(build: Callable) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        try:
            import xlwt
        except ImportError as exc:
            raise Unavailable("xlwt is needed to write .xls") from exc
        book = xlwt.Workbook(encoding="utf-8")
        build(book)
        book.save(str(path))

    return run


def _xls_full_sheets(book) -> None:
    for i in range(6):
        ws = book.add_sheet(f"表{i + 1}")
        ws.write(0, 0, "起")
        ws.write(65535, 255, "止")  # A1:IV65536, the whole BIFF8 grid


def _xls_long_string(book) -> None:
    ws = book.add_sheet("附表")
    for k in range(20_000):
        ws.write(k // 100, k % 100, LONG)


def _xls_small(book) -> None:
    ws = book.add_sheet("单位信息")
    ws.write(0, 0, "单位名称")
    ws.write(0, 1, "测试单位")
    ws.write(1, 0, "金额")
    ws.write(1, 1, 1462.9)
    book.add_sheet("隐藏表").visibility = 1  # hidden


def _hidden_table_twin(wb) -> None:
    visible = wb[T3]
    visible.title = "表3"  # found by its number
    twin = wb.copy_worksheet(visible)
    twin.title = T3  # the exact table name, but hidden
    twin.sheet_state = "hidden"
    twin["F8"] = 9999


# ------------------------------------------------------------------ checks

def _same_t3_as_example(reading, grid) -> None:
    from budgetxl.grid import read_workbook

    example = read_workbook(EXAMPLE).sheet(T3)
    sheet = grid.sheet(T3)
    assert sheet is not None and sheet.rows == example.rows, "表3 must read exactly as in the example"


def _visible_wins(reading, grid) -> None:
    t3 = reading.disclosure.tables["T3"]
    amounts = [a.value for row in t3.rows for a in row.values.values() if a.ref and a.ref.sheet == "表3" and a.ref.row == 8 and a.ref.col == 6]
    assert amounts and amounts[0] != Decimal(9999), amounts
    assert all(not (a.ref and a.ref.sheet == T3) for row in t3.rows for a in row.values.values())


def _negative_in_parentheses(reading, grid) -> None:
    t6 = reading.disclosure.tables["T6"]
    values = [a.value for row in t6.rows for a in row.values.values() if a.ref and a.ref.row == 14 and a.ref.col == 6]
    assert values == [Decimal("-2.23")], values


def _long_string_read(reading, grid) -> None:
    assert grid.sheet("附表").value(1, 1) == LONG


def _xls_values(reading, grid) -> None:
    sheet = grid.sheet("单位信息")
    assert sheet.value(1, 2) == "测试单位" and sheet.value(2, 2) == 1462.9
    assert grid.hidden == frozenset({"隐藏表"})


FAR = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'

CASES: list[Case] = [
    Case("attribute order t before r", "属性顺序.xlsx", _t3(_append_rows('<row r="1048576"><c t="n" r="XFD1048576"><v>1</v></c></row>')), REFUSED, ("范围过大", "XFD1048576")),
    Case("single-quoted attributes", "单引号.xlsx", _t3(_append_rows("<row r='1048576'><c r='XFD1048576' t='n'><v>1</v></c></row>")), REFUSED, ("范围过大",)),
    Case("cells without r", "无行号.xlsx", _t3(_append_rows('<row r="200000">' + '<c><v>1</v></c>' * 20 + "</row>")), REFUSED, ("范围过大",)),
    Case("rows and cells without r", "无行号无列号.xlsx", _t3(_append_rows("<row>" + "<c><v>1</v></c>" * 30 + "</row>" * 1 + '<row r="70000"><c><v>1</v></c></row>' + "<row>" + "<c/>" * 40 + "</row>")), REFUSED, ("范围过大",)),
    Case("sheet part outside xl/worksheets, other extension", "表在别处.xlsx", _moved_t3("xl/data/part5.bin", _append_rows(FAR)), REFUSED, ("范围过大",)),
    Case("sheet part outside xl/worksheets, read", "表在别处可读.xlsx", _moved_t3("custom/t3.dat"), READ, (), _same_t3_as_example),
    Case("percent-encoded sheet target", "百分号路径.xlsx", _percent_encoded_target, REFUSED, ("范围过大",)),
    Case("sheet whose part is missing", "缺工作表部件.xlsx", _sheet_without_part, REFUSED, ("找不到工作表",)),
    Case("twenty sheets just under the old per-sheet limit", "二十张表.xlsx", _twenty_sheets, REFUSED, ("范围过大",)),
    Case("one part named by twenty sheets", "一个部件二十张表.xlsx", _one_part_twenty_sheets, REFUSED, ("范围过大",)),
    Case("long shared string used by 20,000 cells", "长共享字符串.xlsx", _long_shared_string(20_000), REFUSED, ("文字过多",)),
    Case("long shared string used by 100 cells", "长共享字符串百次.xlsx", _long_shared_string(100), READ, (), _long_string_read),
    Case("shared-string index written as text, 20,000 cells", "索引为文字.xlsx", _long_shared_string(20_000, "<v>x</v>"), REFUSED, ("文字过多",)),
    Case("shared-string index with a sign, 20,000 cells", "索引带符号.xlsx", _long_shared_string(20_000, "<v>-1</v>"), REFUSED, ("文字过多",)),
    Case("two values in each shared-string cell, 20,000 cells", "两个值.xlsx", _long_shared_string(20_000, "<v>1</v><v>0</v>"), REFUSED, ("文字过多",)),
    Case("text after each shared-string value, 20,000 cells", "值后文字.xlsx", _long_shared_string(20_000, "<v>0</v>1"), REFUSED, ("文字过多",)),
    Case("workbook part declared as GBK", "声明GBK.xlsx", _zip_edit(_declare("xl/workbook.xml", "GBK")), REFUSED, ("字符编码", "另存为 .xlsx")),
    Case("sheet part declared as windows-1252", "声明1252.xlsx", _zip_edit(_declare(T3_PART, "windows-1252")), REFUSED, ("字符编码", "另存为 .xlsx")),
    Case("one 60 MB attribute value", "超长属性.xlsx", _t3(_huge_attribute(60_000_000)), READ, (), _same_t3_as_example, heavy=True),
    Case("400,000 styles", "四十万样式.xlsx", _styles(400_000), REFUSED, ("样式过多",)),
    Case("a 20,000-character number format used by 60,000 cell formats", "长数字格式.xlsx", _long_format_code(60_000, 20_000), READ, (), _same_t3_as_example),
    Case("merged range over the whole sheet", "合并全表.xlsx", _t3(_merge_everything), REFUSED, ("范围过大", "合并")),
    Case("quadratic regex bait", "正则陷阱.xlsx", _t3(_regex_bait), READ, ("P06",)),
    Case("lying dimension", "虚报范围.xlsx", _t3(_lying_dimension), READ, (), _same_t3_as_example),
    Case("DTD after a long prolog", "长序言实体.xlsx", _zip_edit(_long_prolog_dtd), REFUSED, ("DTD",)),
    Case("DTD in a sheet part with another extension", "表部件实体.xlsx", _moved_t3("xl/data/part5.bin", lambda x: '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x">]>' + x), REFUSED, ("DTD",)),
    Case("xls with 6 sheets spanning A1:IV65536", "六张满表.xls", _xlwt(_xls_full_sheets), REFUSED, ("范围过大",)),
    Case("xls long shared string used by 20,000 cells", "旧版长字符串.xls", _xlwt(_xls_long_string), REFUSED, ("文字过多",)),
    Case("xls small, one hidden sheet", "旧版小表.xls", _xlwt(_xls_small), READ, (), _xls_values),
    Case("hidden sheet with the exact table name", "隐藏同名表.xlsx", _edit(_hidden_table_twin), READ, ("P13",), _visible_wins),
    Case("accounting negative (-2.23)", "括号负数.xlsx", _set(T6, "F14", "(-2.23)"), READ, ("B06",), _negative_in_parentheses),
    Case("year 0000", "年度0000.xlsx", _set("单位信息", "B4", "0000"), READ, ("P11",)),
    Case("year 99999", "年度99999.xlsx", _set("单位信息", "B4", 99999), READ, ("P11",)),
    Case("twenty sheets just under the budget", "接近上限.xlsx", _near_limit_sheets, READ, (), None, heavy=True),
    Case("390,000 numbers in one sheet", "三十九万个数.xlsx", _dense_numbers(3_900), READ, (), None, heavy=True),
    Case("1.9 million numbers in one sheet", "一百九十万个数.xlsx", _dense_numbers(19_000), REFUSED, ("单元格过多",), None, heavy=True),
]


def build(case: Case, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / case.filename
    if not path.exists():
        case.build(path)
    return path


def by_name(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-guard-corpus")
    for case in CASES:
        try:
            print(f"{case.outcome:<8} {build(case, target)}")
        except Unavailable as exc:
            print(f"skipped  {case.filename}: {exc}")
