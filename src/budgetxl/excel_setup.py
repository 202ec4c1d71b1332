"""`budgetxl excel setup` and `budgetxl excel configure`: the shipped
macro-enabled workbook, made ready for the Python of this computer.

The workbook (data/budget_template.xlsm, the same file as
templates/budget_template.xlsm, built by `budgetxl template --xlsm`) carries
the xlwings VBA module, the budgetxl module and the ribbon tab, so neither
Excel nor the xlwings add-in nor the Trust Center setting “信任对 VBA 工程对象
模型的访问” is needed to install the buttons. What may differ between
computers is the Python the buttons start: xlwings reads it from the
workbook's hidden ``xlwings.conf`` sheet (Interpreter_Win / Interpreter_Mac),
which these commands write with openpyxl, keeping the VBA project and the
ribbon (``keep_vba=True``).
"""

from __future__ import annotations

import platform
import shutil
import sys
from pathlib import Path

INTERPRETER_KEYS = {"win": "Interpreter_Win", "mac": "Interpreter_Mac"}


def macros_dir() -> Path:
    from .xlsm import macros_dir

    return macros_dir()


def shipped_workbook() -> Path:
    from .xlsm import shipped_workbook

    return shipped_workbook()


def this_platform() -> str | None:
    return {"Windows": "win", "Darwin": "mac"}.get(platform.system())


def default_interpreter() -> str:
    """The Python running budgetxl now: the one that has budgetxl and xlwings installed."""
    exe = Path(sys.executable)
    if this_platform() == "win" and exe.name.lower() == "pythonw.exe":
        exe = exe.with_name("python.exe")
    return str(exe)


from .errors import ConfigureError  # noqa: E402,F401


def read_conf(workbook: str | Path) -> dict[str, str]:
    """The xlwings.conf sheet as key → value (what the VBA module reads)."""
    import openpyxl

    from .template import XLWINGS_CONF_SHEET

    wb = openpyxl.load_workbook(workbook, read_only=True)
    try:
        if XLWINGS_CONF_SHEET not in wb.sheetnames:
            return {}
        out = {}
        for key, value, *_ in wb[XLWINGS_CONF_SHEET].iter_rows(min_col=1, max_col=2, values_only=True):
            if key in (None, ""):
                break  # xlwings reads from A1 down to the first blank
            out[str(key)] = "" if value is None else str(value)
        return out
    finally:
        wb.close()


def workbook_xlwings_version(workbook: str | Path) -> str | None:
    """The xlwings version whose VBA module the workbook carries (noted in its xlwings.conf sheet)."""
    import openpyxl

    from .template import XLWINGS_CONF_SHEET, XLWINGS_VERSION_LABEL

    wb = openpyxl.load_workbook(workbook, read_only=True)
    try:
        if XLWINGS_CONF_SHEET not in wb.sheetnames:
            return None
        note = wb[XLWINGS_CONF_SHEET]["D2"].value or ""
        return note[len(XLWINGS_VERSION_LABEL):] if note.startswith(XLWINGS_VERSION_LABEL) else None
    finally:
        wb.close()


def configure(workbook: str | Path, interpreter: str, target: str = "win", output: str | Path | None = None) -> Path:
    """Write `interpreter` as Interpreter_Win (or _Mac) into the workbook's xlwings.conf sheet.

    In place unless `output` is given; the VBA project and the ribbon are kept."""
    import openpyxl

    from .io_atomic import atomic_save
    from .template import XLWINGS_CONF_SHEET

    workbook = Path(workbook)
    if workbook.suffix.lower() != ".xlsm":
        raise ConfigureError(f"{workbook.name} 不是启用宏的工作簿（.xlsm）。请使用 budgetxl excel setup 生成的工作簿。")
    if not workbook.exists():
        raise FileNotFoundError(2, "No such file", str(workbook))
    key = INTERPRETER_KEYS[target]
    wb = openpyxl.load_workbook(workbook, keep_vba=True)
    if wb.vba_archive is None or "xl/vbaProject.bin" not in wb.vba_archive.namelist():
        raise ConfigureError(f"{workbook.name} 中没有宏（VBA 工程）。请使用 budgetxl excel setup 生成的工作簿。")
    if XLWINGS_CONF_SHEET in wb.sheetnames:
        ws = wb[XLWINGS_CONF_SHEET]
    else:
        from .template import add_xlwings_conf

        ws = add_xlwings_conf(wb)
    row = 1
    while ws.cell(row, 1).value not in (None, ""):
        if str(ws.cell(row, 1).value).upper() == key.upper():
            break
        row += 1
    ws.cell(row, 1, key)
    ws.cell(row, 2, interpreter)
    return atomic_save(wb, Path(output) if output else workbook)


def setup(
    output: str | Path, spec, interpreter: str | None = None, target: str | None = None, custom_spec: bool = False,
    source: Path | None = None,
) -> tuple[Path, str | None, str | None, bool]:
    """A copy of the shipped workbook at `output`, with this computer's Python written in.

    The xlwings VBA module must be the version of the installed xlwings package (on macOS it
    calls xlwings-<version>.applescript): when they differ, or for another spec, the workbook
    is built anew from the installed package instead of copied.
    `source` is the workbook to copy (the shipped one unless given).
    Returns (path, key written or None, interpreter or None, rebuilt)."""
    output = Path(output)
    if output.suffix.lower() != ".xlsm":
        raise ConfigureError(f"输出文件须以 .xlsm 结尾（启用宏的工作簿），收到：{output.name}")
    target = target or this_platform() or ("win" if interpreter else None)
    if interpreter is None and target is not None and target == this_platform():
        interpreter = default_interpreter()
    from .io_atomic import atomic_path
    from .xlsm import write_xlsm, xlwings_vba_version

    source = source or shipped_workbook()
    rebuilt = custom_spec or workbook_xlwings_version(source) != xlwings_vba_version()
    if rebuilt:
        write_xlsm(output, spec)
    else:
        with atomic_path(output) as tmp:
            shutil.copyfile(source, tmp)
    if interpreter is None or target is None:
        return output, None, None, rebuilt
    configure(output, interpreter, target)
    return output, INTERPRETER_KEYS[target], interpreter, rebuilt
