"""`budgetxl excel setup` on a machine with Excel: the template as .xlsm with
the budgetxl and xlwings VBA modules imported and the buttons placed.

Needs Excel's Trust Center setting “信任对 VBA 工程对象模型的访问”
(Trust access to the VBA project object model). Not runnable on Linux;
the manual steps are in the README.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

XLSM = 52  # xlOpenXMLWorkbookMacroEnabled


def macros_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "macros"


def xlwings_addin() -> Path | None:
    """Where `xlwings addin install` puts the add-in (Excel's XLSTART folder)."""
    import os

    candidates = [
        Path(os.environ.get("APPDATA", "")) / "Microsoft" / "Excel" / "XLSTART" / "xlwings.xlam",
        Path.home() / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content.localized" / "Startup.localized" / "Excel" / "xlwings.xlam",
    ]
    return next((c for c in candidates if c.exists()), None)


def build_macro_workbook(output: str | Path) -> Path:
    import xlwings as xw

    from .spec import DEFAULT_SPEC, load_spec
    from .template import write_template

    output = Path(output).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        template = write_template(Path(tmp) / "budget_template.xlsx", load_spec(DEFAULT_SPEC))
        app = xw.App(visible=False, add_book=False)
        try:
            book = app.books.open(str(template))
            project = book.api.VBProject
            project.VBComponents.Import(str(macros_dir() / "budgetxl.bas"))
            addin = xlwings_addin()
            if addin is None:
                raise RuntimeError("没有找到 xlwings 加载项。请先运行 xlwings addin install，然后重新运行 budgetxl excel setup。")
            project.References.AddFromFile(str(addin))  # RunPython comes from the xlwings add-in
            book.macro("BudgetxlAddButtons")()
            book.api.SaveAs(str(output), FileFormat=XLSM)
            book.close()
        finally:
            app.quit()
    return output


