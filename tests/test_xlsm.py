"""The shipped macro-enabled workbook (templates/budget_template.xlsm), built on
Linux without Excel, read back by independent readers: olefile/oletools for the
VBA project, LibreOffice for the whole workbook, calamine/openpyxl as budgetxl
reads any workbook."""

from __future__ import annotations

import functools
import io
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest
from defusedxml import ElementTree
from oletools.olevba import VBA_Parser, decompress_stream

from budgetxl import records
from budgetxl import pipeline
from budgetxl.cli import main
from budgetxl.excel_setup import configure, macros_dir, read_conf, shipped_workbook
from budgetxl.spec import DEFAULT_SPEC, load_spec
from budgetxl.template import XLWINGS_CONF_SHEET
from budgetxl.vba import cfb
from budgetxl.vba.compression import compress, decompress
from budgetxl.vba.project import class_module_from_export, decrypt, encrypt
from budgetxl.xlsm import BUTTONS, RIBBON_NS, build_xlsm_bytes, budgetxl_modules, xlwings_dir, xlwings_modules

from .conftest import ROOT, TEMPLATE

XLSM = ROOT / "templates" / "budget_template.xlsm"
SPEC = load_spec(DEFAULT_SPEC)
QUICKSTART = xlwings_dir() / "quickstart_standalone.xlsm"  # made by xlwings with Excel


def _members(data: bytes | Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _modules(path_or_bytes) -> dict[str, str]:
    """Module name -> source, as olevba reads them from the workbook."""
    if path_or_bytes == XLSM:
        return dict(_committed_modules())
    return _read_modules(path_or_bytes)


@functools.lru_cache(maxsize=None)
def _committed_modules() -> tuple[tuple[str, str], ...]:
    return tuple(_read_modules(XLSM).items())


def _read_modules(path_or_bytes) -> dict[str, str]:
    if isinstance(path_or_bytes, bytes):
        parser = VBA_Parser("x.xlsm", data=path_or_bytes)
    else:
        parser = VBA_Parser(str(path_or_bytes))
    try:
        return {name.rsplit(".", 1)[0]: code for (_, _, name, code) in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def built() -> bytes:
    return build_xlsm_bytes(SPEC)


# ------------------------------------------------------------------ the VBA sources


def test_macros_are_ascii_with_crlf_line_endings():
    files = sorted(macros_dir().glob("*.bas")) + sorted(macros_dir().glob("*.cls"))
    assert files
    for path in files:
        data = path.read_bytes()
        assert data.isascii(), f"{path.name}: non-ASCII bytes arrive garbled through the VBA editor on Chinese Windows"
        assert data.count(b"\n") == data.count(b"\r\n") > 0 and data.count(b"\r") == data.count(b"\r\n"), f"{path.name}: not CRLF"
        assert data.endswith(b"\r\n")


def test_git_keeps_crlf_for_vba_modules():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in sorted(macros_dir().glob("*.bas")):
        out = subprocess.run(["git", "check-attr", "eol", "text", "--", str(path.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True).stdout
        assert "eol: crlf" in out, out


def test_macros_dir_is_inside_the_package():
    import budgetxl

    package = Path(budgetxl.__file__).parent
    assert macros_dir().parent == package and shipped_workbook().is_relative_to(package)


# ------------------------------------------------------------------ the formats, against other readers


@pytest.mark.parametrize("data", [b"", b"a", b"abc" * 3000, bytes(range(256)) * 40, b"x" * 4096 + b"y" * 4097])
def test_compression_is_what_oletools_decompresses(data):
    packed = compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data == decompress(packed)


def test_compression_of_vba_source_shrinks_it_and_round_trips():
    source = (xlwings_dir() / "xlwings.bas").read_bytes()
    packed = compress(source)
    assert len(packed) < len(source) / 2
    assert bytes(decompress_stream(bytearray(packed))) == source


def test_decompression_reads_streams_office_compressed():
    """Our decompressor on the dir and module streams Excel wrote into xlwings' workbook."""
    with zipfile.ZipFile(QUICKSTART) as zf:
        ole = olefile.OleFileIO(zf.read("xl/vbaProject.bin"))
    raw = ole.openstream("VBA/dir").read()
    assert decompress(raw) == bytes(decompress_stream(bytearray(raw)))


def test_compound_file_reads_back_with_olefile():
    root = cfb.Storage()
    streams = {f"S{n}": bytes([n % 251]) * n for n in (0, 1, 63, 64, 65, 4095, 4096, 4097, 70_000)}
    streams.update({f"VBA/M{n}": bytes(range(256)) * (n + 1) for n in range(40)})
    for name, data in streams.items():
        root.add(name, data)
    data = cfb.write(root)
    assert data == cfb.write(root)  # reproducible
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    assert {"/".join(e): ole.openstream(e).read() for e in ole.listdir()} == streams


def test_project_encryption_matches_office():
    """CMG/DPB/GC of the project Excel saved decrypt to: not protected, no password, visible."""
    with zipfile.ZipFile(QUICKSTART) as zf:
        project = olefile.OleFileIO(zf.read("xl/vbaProject.bin")).openstream("PROJECT").read().decode("cp1252")
    values = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-F]+)"', project, re.M))
    assert decrypt(bytes.fromhex(values["CMG"])) == b"\x00\x00\x00\x00"
    assert decrypt(bytes.fromhex(values["DPB"])) == b"\x00"
    assert decrypt(bytes.fromhex(values["GC"])) == b"\xff"
    for seed in (0, 0x5A, 0xFF):
        assert decrypt(encrypt("{ABC}", b"\x12\x34", seed)) == b"\x12\x34"


# ------------------------------------------------------------------ the workbook


def test_committed_workbook_is_what_the_command_builds(built):
    assert _members(built) == _members(XLSM), "run: budgetxl template --xlsm -o templates/budget_template.xlsm"
    assert shipped_workbook().read_bytes() == XLSM.read_bytes(), "copy templates/budget_template.xlsm to src/budgetxl/data/"
    assert build_xlsm_bytes(SPEC) == built  # reproducible: fixed timestamps, fixed order


def test_every_module_reads_back_equal_to_its_source(built):
    modules = _modules(built)
    for m in budgetxl_modules():
        assert modules[m.name] == m.source == (macros_dir() / f"{m.name}.bas").read_bytes().decode("ascii")
    assert modules["xlwings"] == (xlwings_dir() / "xlwings.bas").read_bytes().decode("cp1252")
    assert set(modules) >= {"ThisWorkbook", "budgetxl", "xlwings", "Dictionary"}


def test_xlwings_modules_are_those_of_xlwings_standalone_workbook(built):
    """`xlwings quickstart --standalone` embeds these; ours equal them (the VBA editor
    re-cases identifiers such as Err/err, and stores xlwings with LF)."""
    theirs = _modules(QUICKSTART)
    ours = _modules(built)
    for name in ("xlwings", "Dictionary"):
        assert ours[name].replace("\r\n", "\n").lower() == theirs[name].replace("\r\n", "\n").lower(), name
    dictionary = class_module_from_export((xlwings_dir() / "addin" / "Dictionary.cls").read_bytes().decode("cp1252"))
    assert ours["Dictionary"] == dictionary.source


def test_vba_project_is_source_only_with_a_document_module_per_sheet(built):
    members = _members(built)
    ole = olefile.OleFileIO(members["xl/vbaProject.bin"], raise_defects=olefile.DEFECT_INCORRECT)
    header = ole.openstream("VBA/_VBA_PROJECT").read()
    assert struct.unpack("<HH", header[:4]) == (0x61CC, 0xFFFF) and len(header) == 7  # no p-code: Office compiles
    with zipfile.ZipFile(QUICKSTART) as zf:  # as in xlwings' own standalone workbook, which Excel opens
        theirs = olefile.OleFileIO(zf.read("xl/vbaProject.bin"))
    assert theirs.openstream("VBA/_VBA_PROJECT").read()[:4] == header[:4]
    raw = theirs.openstream("VBA/xlwings").read()  # source only: the compressed source starts the stream
    assert decompress(raw).replace(b"\r\n", b"\n") == (xlwings_dir() / "xlwings.bas").read_bytes().replace(b"\r\n", b"\n")
    project = ole.openstream("PROJECT").read().decode("ascii")
    assert "Module=budgetxl" in project and "Module=xlwings" in project and "Class=Dictionary" in project
    workbook = members["xl/workbook.xml"].decode()
    assert 'codeName="ThisWorkbook"' in workbook and "Document=ThisWorkbook/&H00000000" in project
    sheets = [n for n in members if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
    for name in sheets:
        code_name = re.search(r'<sheetPr[^>]*codeName="(\w+)"', members[name].decode()).group(1)
        assert f"Document={code_name}/&H00000000" in project, name
    assert set(_modules(built)) == {"ThisWorkbook", "budgetxl", "xlwings", "Dictionary"} | {f"Sheet{i}" for i in range(1, len(sheets) + 1)}


def test_package_parts_make_a_macro_enabled_workbook(built):
    members = _members(built)
    types = members["[Content_Types].xml"].decode()
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"' in types
    assert 'PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"' in types
    rels = members["xl/_rels/workbook.xml.rels"].decode()
    assert 'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"' in rels


def test_ribbon_has_five_buttons_whose_callbacks_exist(built):
    members = _members(built)
    root_rels = ElementTree.fromstring(members["_rels/.rels"])
    ribbon_rel = [r for r in root_rels if r.get("Type") == "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"]
    assert len(ribbon_rel) == 1
    part = ribbon_rel[0].get("Target").lstrip("/")
    ui = ElementTree.fromstring(members[part])  # well-formed
    ns = {"ui": RIBBON_NS}
    assert ui.tag == f"{{{RIBBON_NS}}}customUI" and RIBBON_NS == "http://schemas.microsoft.com/office/2006/01/customui"
    tab = ui.find("ui:ribbon/ui:tabs/ui:tab", ns)
    assert tab.get("label") == "预算公开"
    buttons = tab.findall(".//ui:button", ns)
    assert [b.get("label") for b in buttons] == ["计算小计", "校验", "生成说明", "导出公开文件", "清除标记"]
    module = _modules(built)["budgetxl"]
    for b in buttons:
        callback = b.get("onAction")
        signature = re.search(rf"^Public Sub {callback}\((\w+) As (\w+)\)\r?$", module, re.M)
        assert signature and signature.group(2) == "IRibbonControl", callback
    assert len({b.get("id") for b in buttons}) == 5


def test_every_button_is_also_a_macro_in_alt_f8():
    """Parameterless public Subs are what Alt+F8 lists; each ribbon callback calls one."""
    module = budgetxl_modules()[0].source
    macros = re.findall(r"^Public Sub (Budgetxl\w+)\(\)\r$", module, re.M)
    assert len(macros) == 5
    for _, callback, _, _ in BUTTONS:
        body = re.search(rf"Public Sub {callback}\(control As IRibbonControl\)\r\n    (\w+)\r\nEnd Sub", module)
        assert body and body.group(1) in macros


def test_xlwings_conf_sheet_is_hidden_and_first_key_is_the_interpreter():
    wb = openpyxl.load_workbook(XLSM, keep_vba=True)
    ws = wb[XLWINGS_CONF_SHEET]
    assert ws.sheet_state == "hidden"
    assert read_conf(XLSM) == {"Interpreter_Win": "python", "Interpreter_Mac": ""}


def test_workbook_reads_like_the_template(tmp_path):
    """calamine and openpyxl see the same workbook as in the .xlsx template."""
    for reader in ("calamine", "openpyxl"):
        xlsx = pipeline.read(TEMPLATE, SPEC, reader=reader)
        xlsm = pipeline.read(XLSM, SPEC, reader=reader)
        assert records.replace(xlsm.disclosure, source=xlsx.disclosure.source) == xlsx.disclosure, reader
        assert [f.message for f in xlsm.findings] == [f.message for f in xlsx.findings], reader
    def messages(path):
        return [f.message for f in pipeline.check(pipeline.read(path, SPEC), SPEC).findings]

    assert messages(XLSM) == messages(TEMPLATE)


# ------------------------------------------------------------------ the interpreter


def test_configure_writes_the_interpreter_and_keeps_vba_and_ribbon(tmp_path):
    target = tmp_path / "部门预算公开.xlsm"
    shutil.copyfile(XLSM, target)
    before = _members(target)
    assert main(["excel", "configure", str(target), "--interpreter", r"C:\Program Files\Python311\python.exe"]) == 0
    assert read_conf(target)["Interpreter_Win"] == r"C:\Program Files\Python311\python.exe"
    after = _members(target)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert _modules(target) == _modules(XLSM)  # oletools reads the same modules after openpyxl saved it
    assert after["customUI/customUI.xml"] == before["customUI/customUI.xml"]
    assert b"ui/extensibility" in after["_rels/.rels"] and b"macroEnabled.main+xml" in after["[Content_Types].xml"]
    ws = openpyxl.load_workbook(target)[XLWINGS_CONF_SHEET]
    assert ws.sheet_state == "hidden" and ws["A1"].value == "Interpreter_Win"
    code_names = re.findall(rb'codeName="(\w+)"', b"".join(v for k, v in after.items() if k.endswith(".xml")))
    assert sorted(code_names) == sorted(re.findall(rb'codeName="(\w+)"', b"".join(v for k, v in before.items() if k.endswith(".xml"))))
    assert main(["excel", "configure", str(target), "--interpreter", "/usr/local/bin/python3", "--target", "mac"]) == 0
    assert read_conf(target) == {"Interpreter_Win": r"C:\Program Files\Python311\python.exe", "Interpreter_Mac": "/usr/local/bin/python3"}


def test_configure_refuses_a_workbook_without_macros(tmp_path, capsys):
    target = tmp_path / "a.xlsx"
    shutil.copyfile(TEMPLATE, target)
    assert main(["excel", "configure", str(target), "--interpreter", "python"]) == 2
    assert "不是启用宏的工作簿" in capsys.readouterr().err
    fake = tmp_path / "b.xlsm"
    shutil.copyfile(TEMPLATE, fake)
    assert main(["excel", "configure", str(fake), "--interpreter", "python"]) == 2
    assert "没有宏" in capsys.readouterr().err


def test_excel_setup_copies_the_shipped_workbook(tmp_path, capsys):
    import platform

    out = tmp_path / "部门预算公开.xlsm"
    assert main(["excel", "setup", "-o", str(out), "--interpreter", r"D:\Python\python.exe", "--target", "win"]) == 0
    assert read_conf(out)["Interpreter_Win"] == r"D:\Python\python.exe"
    assert _modules(out) == _modules(XLSM)
    if platform.system() not in ("Windows", "Darwin"):
        plain = tmp_path / "plain.xlsm"
        assert main(["excel", "setup", "-o", str(plain)]) == 0
        assert plain.read_bytes() == XLSM.read_bytes()
        assert "未写入 Python 路径" in capsys.readouterr().out


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (scripts/setup.sh installs it)")
def test_libreoffice_opens_the_workbook_and_lists_the_same_basic_modules(tmp_path):
    """LibreOffice imports the VBA project into its Basic library (VBAProject); saved as
    .ods, each module is one XML file with the code (after LibreOffice's own two header lines)."""
    profile = tmp_path / "profile"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "ods", "--outdir", str(tmp_path), str(XLSM)],
        capture_output=True, text=True, timeout=180,
    )
    ods = tmp_path / "budget_template.ods"
    assert ods.exists(), result.stderr
    members = _members(ods)
    library = ElementTree.fromstring(members["Basic/VBAProject/script-lb.xml"])
    names = {e.get("{http://openoffice.org/2000/library}name") for e in library}
    sources = _modules(XLSM)
    assert names == set(sources)
    for name, source in sources.items():
        module = ElementTree.fromstring(members[f"Basic/VBAProject/{name}.xml"])
        code = module.text.replace("\r\n", "\n").split("\n")
        assert code[0].startswith("Rem Attribute VBA_ModuleType=") and code[1] == "Option VBASupport 1"
        code = code[2:]
        if code and code[0] == "Option ClassModule":
            code = code[1:]
        ours = [line for line in source.replace("\r\n", "\n").split("\n") if not line.startswith("Attribute ")]  # LibreOffice keeps no attributes
        assert "\n".join(code).rstrip("\n") == "\n".join(ours).rstrip("\n"), name
    # and the sheets arrived: the workbook opened as a workbook, not as a repaired fragment
    content = members["content.xml"].decode()
    for sheet in openpyxl.load_workbook(XLSM, read_only=True).sheetnames:
        assert f'table:name="{sheet}"' in content, sheet


def test_workbook_notes_the_xlwings_version_of_its_vba_module():
    import xlwings

    from budgetxl.excel_setup import workbook_xlwings_version
    from budgetxl.xlsm import xlwings_vba_version

    assert workbook_xlwings_version(XLSM) == xlwings_vba_version() == xlwings.__version__
    assert f'XLWINGS_VERSION As String = "{xlwings.__version__}"' in _modules(XLSM)["xlwings"]
    assert workbook_xlwings_version(TEMPLATE) is None


def test_setup_builds_anew_for_another_spec(tmp_path):
    from budgetxl.excel_setup import setup

    path, key, interpreter, rebuilt = setup(tmp_path / "a.xlsm", SPEC, custom_spec=True)
    assert rebuilt and _members(path) == _members(XLSM)
    path, key, interpreter, rebuilt = setup(tmp_path / "b.xlsm", SPEC)
    assert not rebuilt and (key is not None or path.read_bytes() == XLSM.read_bytes())


def test_setup_builds_anew_when_the_workbook_has_another_xlwings_version(tmp_path):
    """On macOS the module calls xlwings-<version>.applescript: the VBA must match the installed xlwings."""
    from budgetxl.excel_setup import setup, workbook_xlwings_version
    from budgetxl.template import XLWINGS_VERSION_LABEL

    old = tmp_path / "old.xlsm"
    wb = openpyxl.load_workbook(XLSM, keep_vba=True)
    wb[XLWINGS_CONF_SHEET]["D2"] = f"{XLWINGS_VERSION_LABEL}0.30.0"
    wb.save(old)
    assert workbook_xlwings_version(old) == "0.30.0"
    path, _, _, rebuilt = setup(tmp_path / "new.xlsm", SPEC, source=old)
    assert rebuilt and _members(path) == _members(XLSM)


def test_commands_keep_the_macros_of_a_macro_workbook(tmp_path):
    """fill / subtotal / check --annotate on the .xlsm (narrate --write saves the same way): an .xlsm output keeps
    the VBA project and the ribbon; an .xlsx output is a plain workbook Excel accepts."""
    from .conftest import EXAMPLE_DATA

    filled = tmp_path / "填好.xlsm"
    assert main(["fill", str(EXAMPLE_DATA), "--template", str(XLSM), "-o", str(filled)]) == 0
    assert main(["subtotal", str(filled), "--in-place"]) == 0
    assert main(["check", str(filled), "--annotate", str(tmp_path / "校验.xlsm")]) in (0, 1)
    original = _members(XLSM)
    for path in (filled, tmp_path / "校验.xlsm"):
        members = _members(path)
        assert members["xl/vbaProject.bin"] == original["xl/vbaProject.bin"], path.name
        assert members["customUI/customUI.xml"] == original["customUI/customUI.xml"], path.name
        assert b"macroEnabled.main+xml" in members["[Content_Types].xml"], path.name
    plain = tmp_path / "普通.xlsx"
    assert main(["subtotal", str(filled), "-o", str(plain)]) == 0
    members = _members(plain)
    assert "xl/vbaProject.bin" not in members and b"macroEnabled" not in members["[Content_Types].xml"]
    assert pipeline.read(filled, SPEC).disclosure.department == "阿克陶县社会保险中心"


def _dir_records(raw_dir: bytes) -> list[int]:
    """Record ids of a decompressed dir stream (PROJECTVERSION's size field says 4 but 6 bytes follow)."""
    ids, pos = [], 0
    while pos < len(raw_dir):
        rid, size = struct.unpack_from("<HI", raw_dir, pos)
        ids.append(rid)
        pos += 6 + (6 if rid == 0x0009 else size)
    return ids


def test_dir_stream_has_the_record_layout_excel_writes(built):
    """The same records in the same order as the dir stream Excel saved in xlwings' workbook:
    project information, then references, then per module name … type … terminator."""
    def skeleton(vba_bin: bytes) -> tuple[list[int], list[list[int]]]:
        ids = _dir_records(decompress(olefile.OleFileIO(vba_bin).openstream("VBA/dir").read()))
        head = ids[: ids.index(0x0016)]  # up to the first reference
        modules, current = [], []
        for rid in ids[ids.index(0x0013) + 1:]:
            current.append(rid)
            if rid == 0x002B:
                modules.append(current)
                current = []
        assert current == [0x0010]  # the dir terminator ends the stream
        return head, modules

    with zipfile.ZipFile(QUICKSTART) as zf:
        theirs_head, theirs_modules = skeleton(zf.read("xl/vbaProject.bin"))
    ours_head, ours_modules = skeleton(_members(built)["xl/vbaProject.bin"])
    assert ours_head == theirs_head
    assert {tuple(m) for m in ours_modules} == {tuple(m) for m in theirs_modules}  # procedural and document/class
