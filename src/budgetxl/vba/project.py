"""A source-only VBA project (vbaProject.bin) per MS-OVBA, without Excel.

The compound file (cfb.py) holds:

- ``PROJECT``: the text properties (2.3.1): ID, one line per module, name,
  CMG/DPB/GC (protection, password, visibility; 2.4.3 data encryption with a
  fixed seed so the bytes are reproducible), host extender info, workspace.
- ``PROJECTwm``: module names in the code page and in UTF-16 (2.3.3).
- ``VBA/_VBA_PROJECT``: 7 bytes, version 0xFFFF and no performance cache
  (2.3.4.1): the host must compile the source; Office does so on open.
- ``VBA/dir``: the compressed (2.4.1) project information, references and
  module records (2.3.4.2), every module's MODULEOFFSET 0.
- ``VBA/<module>``: each module's compressed source, no p-code.

The layout follows xlwings' own ``quickstart_standalone.xlsm`` (a source-only
project Excel opens), which the tests read back for comparison.
"""

from __future__ import annotations

import struct

from ..records import dataclass
from . import cfb
from .compression import compress

PROCEDURAL, CLASS, DOCUMENT = "procedural", "class", "document"
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"  # Excel's Workbook object
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"  # Excel's Worksheet object
HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
# the two references every Excel project has: OLE Automation and the Office library (IRibbonControl)
REFERENCES = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"),
    ("Office", r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library"),
)
CODE_PAGE = 1252  # as in xlwings' workbook; every module here is ASCII, so the code page never matters
SEED = 0x5A  # 2.4.3.2: any seed is valid; a fixed one keeps the file reproducible


@dataclass(frozen=True)
class Module:
    name: str
    source: str  # as stored: "Attribute VB_Name = ..." first, CRLF line endings
    kind: str = PROCEDURAL


def document_module(name: str, base: str) -> Module:
    """The code module behind the workbook or a worksheet (empty but for its attributes)."""
    lines = [
        f'Attribute VB_Name = "{name}"',
        f'Attribute VB_Base = "{base}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = True",
    ]
    return Module(name, "\r\n".join(lines) + "\r\n", DOCUMENT)


def class_module_from_export(text: str) -> Module:
    """A class module as the VBA editor stores it, from its exported .cls text.

    The export starts with a VERSION/BEGIN…END header that is not part of the
    stored source; the stored source carries VB_Base and the two Customizable
    attributes instead (compare xlwings' Dictionary.cls with the Dictionary
    module of its quickstart_standalone.xlsm)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("VERSION "):
        end = lines.index("END")
        lines = lines[end + 1:]
    out: list[str] = []
    for line in lines:
        out.append(line)
        if line.startswith("Attribute VB_Name = "):
            out.append('Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"')
    name = out[0].split('"')[1]
    exposed = next(i for i, line in enumerate(out) if line.startswith("Attribute VB_Exposed"))
    out[exposed + 1:exposed + 1] = ["Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]
    return Module(name, "\r\n".join(out), CLASS)


# ------------------------------------------------------------------ 2.4.3 data encryption


def encrypt(project_id: str, data: bytes, seed: int = SEED) -> bytes:
    """MS-OVBA 2.4.3.2 Encryption (the CMG, DPB and GC values)."""
    version = 2
    project_key = sum(project_id.encode("ascii")) & 0xFF
    version_enc = seed ^ version
    project_key_enc = seed ^ project_key
    unencrypted_1 = project_key
    encrypted_1 = project_key_enc
    encrypted_2 = version_enc
    out = bytearray([seed, version_enc, project_key_enc])
    ignored_length = (seed & 6) // 2
    for _ in range(ignored_length):
        temp = 7  # any value
        byte_enc = temp ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(byte_enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, temp
    for byte in struct.pack("<I", len(data)) + data:
        byte_enc = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(byte_enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    return bytes(out)


def decrypt(data: bytes) -> bytes:
    """MS-OVBA 2.4.3.3 Decryption: the inverse of `encrypt`."""
    seed, version_enc, project_key_enc = data[0], data[1], data[2]
    if seed ^ version_enc != 2:
        raise ValueError("not MS-OVBA encrypted data (version is not 2)")
    project_key = seed ^ project_key_enc
    unencrypted_1, encrypted_1, encrypted_2 = project_key, project_key_enc, version_enc
    pos = 3
    for _ in range((seed & 6) // 2):
        byte_enc = data[pos]
        pos += 1
        byte = byte_enc ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    plain = bytearray()
    for byte_enc in data[pos:]:
        byte = byte_enc ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(byte)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    length = struct.unpack_from("<I", plain)[0]
    return bytes(plain[4:4 + length])


# ------------------------------------------------------------------ streams


def _mbcs(text: str) -> bytes:
    return text.encode(f"cp{CODE_PAGE}")


def _record(rid: int, data: bytes) -> bytes:
    return struct.pack("<HI", rid, len(data)) + data


def _text_records(rid: int, unicode_rid: int, text: str) -> bytes:
    return _record(rid, _mbcs(text)) + _record(unicode_rid, text.encode("utf-16-le"))


def dir_stream(modules: list[Module], name: str = "VBAProject") -> bytes:
    """The decompressed `dir` stream (2.3.4.2)."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 1))  # SYSKIND: 32-bit Windows (Office recompiles for its own)
    out += _record(0x0002, struct.pack("<I", 0x0409))  # LCID
    out += _record(0x0014, struct.pack("<I", 0x0409))  # LCIDINVOKE
    out += _record(0x0003, struct.pack("<H", CODE_PAGE))
    out += _record(0x0004, _mbcs(name))
    out += _text_records(0x0005, 0x0040, "")  # docstring
    out += _text_records(0x0006, 0x003D, "")  # help file
    out += _record(0x0007, struct.pack("<I", 0))  # help context
    out += _record(0x0008, struct.pack("<I", 0))  # lib flags
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION: size field is 4, then 4 + 2 bytes
    out += _text_records(0x000C, 0x003C, "")  # constants
    for ref_name, libid in REFERENCES:
        out += _text_records(0x0016, 0x003E, ref_name)
        lib = _mbcs(libid)
        out += _record(0x000D, struct.pack("<I", len(lib)) + lib + struct.pack("<IH", 0, 0))
    out += _record(0x000F, struct.pack("<H", len(modules)))
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # project cookie
    for m in modules:
        out += _text_records(0x0019, 0x0047, m.name)
        out += _text_records(0x001A, 0x0032, m.name)  # stream name
        out += _text_records(0x001C, 0x0048, "")  # docstring
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: the source starts the stream
        out += _record(0x001E, struct.pack("<I", 0))  # help context
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # cookie
        out += _record(0x0021 if m.kind == PROCEDURAL else 0x0022, b"")
        out += struct.pack("<HI", 0x002B, 0)  # module terminator
    out += struct.pack("<HI", 0x0010, 0)  # dir terminator
    return bytes(out)


def project_stream(modules: list[Module], project_id: str, name: str = "VBAProject") -> bytes:
    """The PROJECT stream (2.3.1): text lines, CRLF, in the project code page."""
    lines = [f'ID="{project_id}"']
    for m in modules:
        if m.kind == DOCUMENT:
            lines.append(f"Document={m.name}/&H00000000")
        elif m.kind == CLASS:
            lines.append(f"Class={m.name}")
        else:
            lines.append(f"Module={m.name}")
    lines += [f'Name="{name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"']
    for key, data in (("CMG", b"\x00\x00\x00\x00"), ("DPB", b"\x00"), ("GC", b"\xff")):
        lines.append(f'{key}="{encrypt(project_id, data).hex().upper()}"')
    lines += ["", "[Host Extender Info]", HOST_EXTENDER, "", "[Workspace]"]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return _mbcs("\r\n".join(lines) + "\r\n")


def project_wm_stream(modules: list[Module]) -> bytes:
    return b"".join(_mbcs(m.name) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00" for m in modules) + b"\x00\x00"


def build(modules: list[Module], project_id: str = "{0E2C1F3A-5B7D-4C8E-9A1B-2D3F4E5A6B7C}") -> bytes:
    """vbaProject.bin holding `modules` as source only."""
    names = [m.name for m in modules]
    if len(set(n.upper() for n in names)) != len(names):
        raise ValueError(f"duplicate module names: {names}")
    for m in modules:
        if not m.source.startswith(f'Attribute VB_Name = "{m.name}"'):
            raise ValueError(f"module {m.name}: the source must start with its Attribute VB_Name line")
    root = cfb.Storage()
    root.add("PROJECT", project_stream(modules, project_id))
    root.add("PROJECTwm", project_wm_stream(modules))
    root.add("VBA/_VBA_PROJECT", struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0003))
    root.add("VBA/dir", compress(dir_stream(modules)))
    for m in modules:
        root.add(f"VBA/{m.name}", compress(_mbcs(m.source)))
    return cfb.write(root)
