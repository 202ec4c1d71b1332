"""A corpus of broken and hostile workbooks, generated (never hand-copied binaries).

Each case is a builder that writes one file and the outcome budgetxl must
give: ``READ`` (the workbook is read; these finding codes must be among the
findings) or ``REFUSED`` (a WorkbookError whose Chinese message contains the
given words). ``python -m tests.hostile DIR`` writes the whole corpus to DIR.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl
from budgetxl.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "akto_2026.xlsx"
T3 = "表3 部门支出总体情况表"
T6 = "表6 一般公共预算基本支出情况表"
READ, REFUSED = "read", "refused"


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[Path], None]
    outcome: str
    expect: tuple[str, ...] = ()  # finding codes (READ) or words of the message (REFUSED)
    cells: tuple[str, ...] = field(default=())  # 'sheet!A1' the findings must point at


def _book():
    return openpyxl.load_workbook(EXAMPLE)


def _edit(change: Callable[[openpyxl.Workbook], None]) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        wb = _book()
        change(wb)
        wb.save(path)

    return build


def _set(sheet: str, cell: str, value) -> Callable[[Path], None]:
    return _edit(lambda wb: wb[sheet].__setitem__(cell, value))


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _copy(path: Path) -> None:
    shutil.copyfile(EXAMPLE, path)


def _zip_edit(change: Callable[[str, bytes], bytes], extra: dict[str, bytes] | None = None) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        with zipfile.ZipFile(EXAMPLE) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                zout.writestr(item, change(item.filename, zin.read(item.filename)))
            for name, data in (extra or {}).items():
                zout.writestr(name, data)

    return build


def _sheet_xml(sheet_index: int, change: Callable[[str], str]) -> Callable[[Path], None]:
    target = f"xl/worksheets/sheet{sheet_index}.xml"
    return _zip_edit(lambda name, data: change(data.decode()).encode() if name == target else data)


def _ole(payload: bytes) -> bytes:
    """A minimal OLE2 (compound file) header followed by payload bytes."""
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + b"\x00" * 480 + payload


def _encrypted(path: Path) -> None:
    import msoffcrypto.format.ooxml  # the submodule is not imported by the package

    plain = io.BytesIO(EXAMPLE.read_bytes())
    file = msoffcrypto.format.ooxml.OOXMLFile(plain)
    with open(path, "wb") as out:
        file.encrypt("密码123", out)


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b" " * (1 << 20)
            for _ in range(400):  # 400 MB of spaces, about 0.4 MB compressed
                fh.write(chunk)


XML_BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>"""


def _rows_100k(path: Path) -> None:
    wb = _book()
    ws = wb.create_sheet("附件明细")
    for i in range(100_000):
        ws.append([i, f"明细{i}", i * 1.5])
    wb.save(path)


def _huge_dimension(path: Path) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet6.xml":
            return data
        text = data.decode()
        # the <dimension> element keeps its small, lying value: only the cells tell
        return text.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>').encode()

    _zip_edit(change)(path)


def _insert_rows_inside(wb) -> None:
    ws = wb[T3]
    ws.insert_rows(9, 2)  # two blank rows inside the table


def _merge_data(wb) -> None:
    wb[T3].merge_cells("D8:D9")


def _hide_rows(wb) -> None:
    wb[T3].row_dimensions[10].hidden = True


def _swap_sheets(wb) -> None:
    wb.move_sheet(T3, offset=3)


def _delete_sheets(wb) -> None:
    del wb["表5 一般公共预算支出情况表"]
    del wb["表9 国有资本经营预算支出情况表"]


def _extra_sheet(wb) -> None:
    wb.create_sheet("备注").append(["这是单位自己加的说明"])


def _xlsm(path: Path) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
        return data

    _zip_edit(change, {"xl/vbaProject.bin": _ole(b'Attribute VB_Name = "Evil"\nSub Auto_Open(): Shell "calc.exe": End Sub')})(path)


def _legacy_xls(path: Path) -> None:
    """The example as Excel 97–2003 .xls, converted by LibreOffice."""
    import subprocess
    import tempfile

    soffice = shutil.which("soffice")
    if soffice is None:
        raise Unavailable("LibreOffice is needed to make an .xls")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", "xls", "--outdir", tmp, str(EXAMPLE)],
                       capture_output=True, timeout=180, check=False)
        shutil.move(str(Path(tmp) / "akto_2026.xls"), path)


class Unavailable(RuntimeError):
    """A case that cannot be built on this machine."""


def _formula_error(path: Path) -> None:
    # 表3 F8 (208 01 09 基本支出) holds an error value, as Excel saves it
    _sheet_xml(5, lambda x: re.sub(r'<c r="F8"[^>]*>.*?</c>', '<c r="F8" t="e"><f>1/0</f><v>#DIV/0!</v></c>', x, flags=re.S))(path)


def _external_link(wb) -> None:
    wb[T3]["F8"] = "='[上级单位.xlsx]Sheet1'!A1"


CASES: list[Case] = [
    Case("empty file", "空文件.xlsx", _bytes(b""), REFUSED, ("为空",)),
    Case("not a zip", "文本.xlsx", _bytes("这不是表格".encode()), REFUSED, ("不是 Excel 工作簿",)),
    Case("truncated zip", "截断.xlsx", lambda p: p.write_bytes(EXAMPLE.read_bytes()[:3000]), REFUSED, ("损坏",)),
    Case("html disguised as xlsx", "网页导出.xlsx", _bytes(b"<html><table><tr><td>1</td></tr></table></html>"), REFUSED, ("不是 Excel 工作簿",)),
    Case("csv named xlsx", "逗号.xlsx", _bytes("单位名称,金额\n甲,1\n".encode("gbk")), REFUSED, ("不是 Excel 工作簿",)),
    Case("docx renamed", "文档.xlsx", lambda p: zipfile.ZipFile(p, "w").writestr("word/document.xml", "<w/>"), REFUSED, ("Word 文档",)),
    Case("wps et", "金山表格.et", _bytes(_ole(b"\x00" * 2048)), REFUSED, ("WPS .et",)),
    Case("encrypted workbook", "加密.xlsx", _encrypted, REFUSED, ("打开密码",)),
    Case("zip bomb", "压缩炸弹.xlsx", _zip_bomb, REFUSED, ("拒绝读取",)),
    Case("xml entity bomb", "实体炸弹.xlsx", _zip_edit(lambda n, d: d, {"xl/sharedStrings.xml": XML_BOMB.encode()}), REFUSED, ("DTD",)),
    Case("huge dimension", "超大范围.xlsx", _huge_dimension, REFUSED, ("范围过大",)),
    Case("wrong extension", "改了扩展名.txt", _copy, READ),
    Case("legacy xls", "旧版.xls", _legacy_xls, READ, ("C12",)),
    Case("file name with spaces, quote", "名 称 's 工作簿.xlsx", _copy, READ),
    Case("xlsm with macros", "带宏.xlsm", _xlsm, READ),
    Case("missing sheets", "缺表.xlsx", _edit(_delete_sheets), READ, ("P01",)),
    Case("renamed sheet", "改表名.xlsx", _edit(lambda wb: setattr(wb[T3], "title", "表3")), READ),
    Case("extra sheet", "多一张表.xlsx", _edit(_extra_sheet), READ),
    Case("sheets reordered", "换顺序.xlsx", _edit(_swap_sheets), READ),
    Case("header edited", "改表头.xlsx", _set(T3, "F5", "基本"), READ, ("P03",)),
    Case("column inserted", "插列.xlsx", _edit(lambda wb: wb[T3].insert_cols(5)), READ),
    Case("column deleted", "删列.xlsx", _edit(lambda wb: wb[T3].delete_cols(7)), READ, ("P03",)),
    Case("rows inserted inside", "插行.xlsx", _edit(_insert_rows_inside), READ),
    Case("notes after the table", "表后备注.xlsx", _set(T3, "A50", "注：本表由财务室编制"), READ),
    Case("merged cells across data", "合并单元格.xlsx", _edit(_merge_data), READ),
    Case("hidden row with data", "隐藏行.xlsx", _edit(_hide_rows), READ),
    Case("formula without cached value", "公式无缓存.xlsx", _set(T3, "F8", "=399.47"), READ, ("P06",), (f"'{T3}'!F8",)),
    Case("formula error value", "公式错误.xlsx", _formula_error, READ, ("P04",), (f"'{T3}'!F8",)),
    Case("external link", "外部链接.xlsx", _edit(_external_link), READ, ("P06",)),
    Case("amount with thousands separator", "千分位.xlsx", _set(T3, "E8", "1,270.40"), READ),
    Case("amount in full-width digits", "全角.xlsx", _set(T3, "F8", "３９９.４７"), READ),
    Case("amount with spaces", "空格.xlsx", _set(T3, "F8", " 399.47 "), READ),
    Case("amount as a dash", "横线.xlsx", _set(T3, "G10", "—"), READ),
    Case("amount 12.3.4", "两个小数点.xlsx", _set(T3, "F8", "12.3.4"), READ, ("P04",), (f"'{T3}'!F8",)),
    Case("negative amount", "负数.xlsx", _set(T6, "F14", -2.23), READ, ("B06",), (f"'{T6}'!F14",)),
    Case("date in an amount cell", "日期.xlsx", _set(T3, "F8", __import__("datetime").date(2026, 1, 1)), READ, ("P04",), (f"'{T3}'!F8",)),
    Case("boolean in an amount cell", "逻辑值.xlsx", _set(T3, "F8", True), READ, ("P04",), (f"'{T3}'!F8",)),
    Case("codes as numbers, zeros lost", "代码数字.xlsx", _edit(lambda wb: (wb[T3].__setitem__("B7", 1), wb[T3].__setitem__("C8", 9))), READ),
    Case("code that does not exist", "不存在的代码.xlsx", _set(T6, "B14", "98"), READ, ("C12",)),
    Case("department name starting with =", "等号单位.xlsx", _set("单位信息", "B3", "=HYPERLINK(\"http://evil\",\"点我\")"), READ),
    Case("very long strings", "超长文字.xlsx", _set("单位信息", "B9", "很长" * 50_000), READ),
    Case("100,000 rows in a sheet", "十万行.xlsx", _rows_100k, READ),
    Case("blank template", "空模板.xlsx", lambda p: __import__("budgetxl.template", fromlist=["x"]).write_template(p, load_spec()), READ, ("P10",)),
    Case("year as words", "年度汉字.xlsx", _set("单位信息", "B4", "二〇二六"), READ, ("P11",)),
    Case("duplicate project names", "项目重名.xlsx", _set("表7 一般公共预算项目支出情况表", "E10", "2026年自治区社会保险经办机构补助项目"), READ, ("B08",)),
    Case("protected sheet", "保护工作表.xlsx", _edit(lambda wb: setattr(wb[T3].protection, "sheet", True)), READ),
    Case("amounts in yuan", "以元为单位.xlsx", _set("单位信息", "B5", "元"), READ, ("B02",)),
]


def _build_one(index: int, folder: Path) -> bool:
    case = CASES[index]
    try:
        case.build(folder / case.filename)
    except Unavailable:
        return False  # reported by the test as skipped
    return True


def build_corpus(folder: Path, workers: int = 2) -> list[tuple[Case, Path]]:
    """Every case built in ``folder`` (in ``workers`` processes: each build
    opens and saves a workbook, and the suite has a time budget)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    indexes = range(len(CASES))
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:  # not fork: earlier tests may have left threads
        built = list(pool.map(_build_one, indexes, [folder] * len(CASES)))
    return [(CASES[i], folder / CASES[i].filename) for i in indexes if built[i]]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for case, path in build_corpus(target):
        print(f"{case.outcome:<8} {path}")
