"""The macro-enabled workbook (templates/budget_template.xlsm), built without Excel.

The standard template (template.py) plus:

- a hidden ``xlwings.conf`` sheet: the settings xlwings' VBA reads first
  (``Interpreter_Win`` …), so no add-in and no per-user config file is needed;
- ``xl/vbaProject.bin``: a source-only VBA project (budgetxl.vba) with the
  xlwings standalone modules taken from the installed xlwings package
  (``xlwings.bas`` and the ``Dictionary`` class it uses on macOS), the
  budgetxl module (macros/budgetxl.bas) and a document module for the
  workbook and each sheet (their code names are set in the workbook XML);
- ``customUI/customUI.xml``: the ribbon tab 预算公开 with the five buttons,
  related from the package root, whose ``onAction`` callbacks are Subs of the
  budgetxl module.

The zip is written with fixed timestamps in a fixed member order: the same
sources give the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from .io_atomic import atomic_path
from .spec import Spec
from .template import XLWINGS_CONF_SHEET, add_xlwings_conf, build_template
from .vba import project as vba

PACKAGE = Path(__file__).resolve().parent
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
RIBBON_NS = "http://schemas.microsoft.com/office/2006/01/customui"
RIBBON_PART = "customUI/customUI.xml"
RIBBON_REL = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

# button label, callback in macros/budgetxl.bas, built-in icon, tip
BUTTONS = (
    ("计算小计", "RibbonSubtotal", "AutoSum", "计算各表类、款、总计和表1、表4，只写灰色计算单元格。"),
    ("校验", "RibbonCheck", "AcceptInvitation", "检查表内、表间勾稽关系和说明数据，结果写入“校验结果”工作表并标出问题单元格。"),
    ("生成说明", "RibbonNarrate", "TextBoxInsert", "根据表格数据生成“情况说明”工作表，可直接修改。"),
    ("导出公开文件", "RibbonExport", "FileSaveAsPdfOrXps", "在工作簿所在文件夹生成 Word、PDF 和公开用 Excel。"),
    ("清除标记", "RibbonClearMarks", "ClearFormats", "去掉“校验”在单元格上标的颜色。"),
)


def ribbon_xml() -> str:
    buttons = "\n".join(
        f'          <button id="budgetxl{callback[6:]}" label="{escape(label)}" size="large" '
        f'imageMso="{icon}" onAction="{callback}" screentip="{escape(label)}" supertip="{escape(tip)}"/>'
        for label, callback, icon, tip in BUTTONS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<customUI xmlns="{RIBBON_NS}">\n'
        "  <ribbon>\n    <tabs>\n"
        '      <tab id="budgetxlTab" label="预算公开">\n'
        '        <group id="budgetxlGroup" label="部门预算公开">\n'
        f"{buttons}\n"
        "        </group>\n      </tab>\n    </tabs>\n  </ribbon>\n</customUI>\n"
    )


# ------------------------------------------------------------------ VBA modules


def macros_dir() -> Path:
    """The VBA modules shipped inside the package (ASCII, CRLF)."""
    return PACKAGE / "macros"


def shipped_workbook() -> Path:
    """The built workbook shipped inside the package (the same file as templates/budget_template.xlsm)."""
    return PACKAGE / "data" / "budget_template.xlsm"


def xlwings_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.origin:
        raise RuntimeError("没有安装 xlwings：请先运行 pip install xlwings。")
    return Path(spec.origin).parent


def _read_vba(path: Path) -> str:
    data = path.read_bytes()
    return data.decode("ascii" if path.parent == macros_dir() else "cp1252").replace("\r\n", "\n").replace("\n", "\r\n")


def xlwings_vba_version() -> str:
    """The version the installed xlwings package's VBA module declares (XLWINGS_VERSION)."""
    text = (xlwings_dir() / "xlwings.bas").read_text(encoding="cp1252")
    found = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', text)
    if found is None:
        raise RuntimeError("xlwings.bas 中没有 XLWINGS_VERSION：xlwings 版本不受支持。")
    return found.group(1)


def xlwings_modules() -> list[vba.Module]:
    """xlwings' standalone modules, as `xlwings quickstart --standalone` embeds them."""
    root = xlwings_dir()
    return [
        vba.Module("xlwings", _read_vba(root / "xlwings.bas")),
        vba.class_module_from_export(_read_vba(root / "addin" / "Dictionary.cls")),
    ]


def budgetxl_modules() -> list[vba.Module]:
    out = []
    for path in sorted(macros_dir().glob("*.bas")):
        text = _read_vba(path)
        name = re.match(r'Attribute VB_Name = "(\w+)"', text)
        if name is None:
            raise ValueError(f"{path.name}: the first line must be Attribute VB_Name = \"…\"")
        out.append(vba.Module(name.group(1), text))
    return out


def code_names(count: int) -> list[str]:
    return [f"Sheet{i}" for i in range(1, count + 1)]


def vba_project(sheet_count: int) -> bytes:
    modules = [vba.document_module("ThisWorkbook", vba.WORKBOOK_BASE)]
    modules += [vba.document_module(name, vba.WORKSHEET_BASE) for name in code_names(sheet_count)]
    modules += budgetxl_modules() + xlwings_modules()
    return vba.build(modules)


# ------------------------------------------------------------------ package


def _add_relationship(rels: str, rid: str, rtype: str, target: str) -> str:
    return rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{rtype}" Target="{target}"/></Relationships>')


def _content_types(xml: str) -> str:
    if XLSX_MAIN not in xml:
        raise ValueError("the workbook part has an unexpected content type")
    xml = xml.replace(XLSX_MAIN, XLSM_MAIN)
    return xml.replace("</Types>", f'<Override PartName="/xl/vbaProject.bin" ContentType="{VBA_CONTENT_TYPE}"/></Types>')


def build_xlsm_bytes(spec: Spec) -> bytes:
    wb = build_template(spec)
    add_xlwings_conf(wb, xlwings_vba_version())
    wb.code_name = "ThisWorkbook"
    for ws, name in zip(wb.worksheets, code_names(len(wb.worksheets))):
        ws.sheet_properties.codeName = name
    buffer = io.BytesIO()
    wb.save(buffer)
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(buffer) as zf:
        for name in zf.namelist():
            members[name] = zf.read(name)
    members["docProps/core.xml"] = re.sub(  # openpyxl stamps the save time: fixed, like the rest
        rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", members["docProps/core.xml"]
    )
    members["[Content_Types].xml"] = _content_types(members["[Content_Types].xml"].decode("utf-8")).encode("utf-8")
    members["_rels/.rels"] = _add_relationship(members["_rels/.rels"].decode("utf-8"), "rIdRibbon", RIBBON_REL, RIBBON_PART).encode("utf-8")
    members["xl/_rels/workbook.xml.rels"] = _add_relationship(
        members["xl/_rels/workbook.xml.rels"].decode("utf-8"), "rIdVBA", VBA_REL, "vbaProject.bin"
    ).encode("utf-8")
    members["xl/vbaProject.bin"] = vba_project(len(wb.worksheets))
    members[RIBBON_PART] = ribbon_xml().encode("utf-8")
    return _zip(members)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return out.getvalue()


def write_xlsm(path: str | Path, spec: Spec) -> Path:
    data = build_xlsm_bytes(spec)
    with atomic_path(Path(path)) as tmp:
        tmp.write_bytes(data)
    return Path(path)


__all__ = ["BUTTONS", "XLWINGS_CONF_SHEET", "build_xlsm_bytes", "ribbon_xml", "write_xlsm"]
