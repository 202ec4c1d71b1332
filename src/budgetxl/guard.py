"""One pass over a workbook file before any reader touches it.

A department's workbook is a few hundred KB; a hostile or broken one can make
a reader allocate gigabytes (a cell at XFD1048576, one long shared string used
by 20,000 cells, 400,000 styles, a zip bomb). The readers (calamine, openpyxl)
allocate first and fail later, and an allocation failure in native code kills
the whole process. So every file is first streamed through a real XML
tokenizer (expat, DTDs refused) and measured against a **workbook-wide**
budget, and only then read:

=================  ==========  ======================================================
budget             limit       what is counted
=================  ==========  ======================================================
cells              2,000,000   per sheet, rows × columns it spans (A1 to the farthest
                               cell: that is what the readers allocate), summed over
                               every sheet, plus the area of merged ranges
cells present      400,000     cells written in the file, blank or not (openpyxl
                               holds each one, ~0.5 KB, when a copy is written)
text characters    20,000,000  characters of text cells *as used*: a shared string
                               counts once for every cell that shows it
shared strings     1,000,000   distinct strings in the shared-string table
styles             70,000      style records (cell formats, fonts, fills, borders,
                               number formats, differential formats)
unpacked bytes     100 MB      all parts of the package, decompressed
compression ratio  200         of any part larger than 10 MB once unpacked
sheets             1,000       sheet entries of the workbook
=================  ==========  ======================================================

A real department workbook (40 sheets of 150 rows × 30 columns = 180,000
cells) uses under a tenth of each budget; the limits are documented in the
README ("坏文件与安全"). Legacy ``.xls`` files get the same budgets from their
BIFF records (olefile): cell records give the real extent, the DIMENSIONS
record is counted too, the SST gives the shared-string lengths.

The worksheet pass runs in C (``_sheetscan.c``, the same expat tokenizer with
its handlers in C; built by setup.py where a compiler is available) or, where
that is not built, in Python; both count the same (tests/test_guard_native.py).

The same pass collects what the reader needs and calamine does not give:
cells with a formula but no cached value, error values (``#DIV/0!``), and each
sheet's visibility (hidden sheets do not win over visible ones).

Where the C pass is built, ``scan(values=True)`` makes it the reader too: it
reads every cell's value as it measures it (shared and inline strings, numbers,
booleans, errors; numbers in a date format become dates from the styles'
number formats), so a good file is read once and no second reader runs. The
values are those python-calamine shows (tests/test_sheetscan_values.py reads
generated packages both ways); calamine still reads where the C pass is not
built, and legacy ``.xls``.

API: :func:`scan` (``path, kind`` → :class:`Scan`, raises :class:`Refused`),
:data:`LIMITS`. This module imports nothing of budgetxl: ``grid`` calls it.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
from array import array
from pathlib import Path
from xml.parsers import expat

from .records import dataclass, field


class Refused(Exception):
    """The file is refused before any reader runs. ``message`` is for the user;
    ``grid.read_workbook`` raises it as a ``WorkbookError``."""

    def __init__(self, message: str, path: str | Path = ""):
        super().__init__(message)
        self.message = message
        self.path = str(path)


@dataclass(frozen=True)
class Limits:
    cells: int = 2_000_000
    present: int = 400_000  # cell elements written in the file (what openpyxl holds when writing a copy)
    text_chars: int = 20_000_000
    strings: int = 1_000_000
    styles: int = 70_000
    unpacked: int = 100 * 1024 * 1024
    ratio: int = 200
    ratio_from: int = 10 * 1024 * 1024  # parts smaller than this are not ratio-checked
    sheets: int = 1_000
    parts: int = 10_000


LIMITS = Limits()

_CHUNK = 1 << 16
_MAX_CHUNK = 1 << 24
_WHAT_TO_DO = "请删除多余的行、列、工作表和格式后重新保存；如确实需要这么多数据，请拆分成多个工作簿报送。"


@dataclass
class SheetInfo:
    name: str
    state: str = "visible"  # visible / hidden / veryHidden
    rows: int = 0  # the farthest row and column holding a cell
    cols: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.cols


@dataclass
class Scan:
    kind: str  # 'xlsx' or 'xls'
    sheets: list[SheetInfo] = field(default_factory=list)
    uncached: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    errors: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    cells: int = 0
    present: int = 0
    text_chars: int = 0
    strings: int = 0
    styles: int = 0
    unpacked: int = 0
    # with scan(values=True) and the C pass built: each sheet's cell values
    # (rows from A1, as grid.SheetGrid holds them), read in this same pass
    values: dict[str, list[list]] | None = None

    @property
    def hidden(self) -> frozenset[str]:
        return frozenset(s.name for s in self.sheets if s.state != "visible")


class _Budget:
    """Counts toward the limits and refuses the file as soon as one is passed."""

    def __init__(self, path: Path, limits: Limits, scan: Scan):
        self.path, self.limits, self.scan = path, limits, scan

    def refuse(self, title: str, detail: str, todo: str = _WHAT_TO_DO) -> None:
        raise Refused(f"{title}：{detail}。这远大于正常的预算工作簿，拒绝读取（也可能是恶意文件）。{todo}", self.path)

    def unpacked(self, n: int, part: str) -> None:
        self.scan.unpacked += n
        if self.scan.unpacked > self.limits.unpacked:
            self.too_big(f"读到 {part} 时已超过")

    def too_big(self, has: str) -> None:
        mb = self.limits.unpacked // 1024 // 1024
        self.refuse(f"文件展开后超过 {mb} MB", f"{has} {mb} MB（上限）")

    def ratio(self, part: str, ratio: int) -> None:
        self.refuse("压缩比异常", f"文件中 {part} 展开后是压缩时的 {ratio} 倍，上限为 {self.limits.ratio} 倍")

    def cells(self, has: str, where: str) -> None:
        self.refuse("工作表范围过大", f"各工作表从 A1 到最远单元格的范围（含合并单元格）合计{has}上限 {self.limits.cells:,} 个单元格{where}")

    def present(self, has: str, where: str) -> None:
        self.refuse("单元格过多", f"工作簿中写有内容或格式的单元格合计{has}上限 {self.limits.present:,} 个{where}")

    def text(self, where: str) -> None:
        self.refuse("文字过多", f"文字单元格合计超过 {self.limits.text_chars:,} 个字符（上限；同一个共享字符串每被一个单元格使用就计一次）{where}")

    def strings(self, has: str) -> None:
        self.refuse("共享字符串过多", f"共享字符串表有{has}条文字，上限为 {self.limits.strings:,} 条")

    def styles(self, has: str) -> None:
        self.refuse("样式过多", f"样式表有{has}条样式记录，上限为 {self.limits.styles:,} 条",
                    "请在 Excel 中选中全部单元格，清除多余的格式（开始→清除→清除格式）或复制数据到标准模板后重新保存。")

    def sheets(self) -> None:
        self.refuse("工作表过多", f"超过 {self.limits.sheets:,} 张（上限）")


# ------------------------------------------------------------------ cell references

_COLUMNS: dict[str, int] = {}


def _column(letters: str) -> int:
    col = _COLUMNS.get(letters)
    if col is None:
        col = 0
        for ch in letters.upper():
            col = col * 26 + ord(ch) - 64
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = col
    return col


_FAR = 10**9  # beyond any sheet: a reference this far is refused by the budget, never converted


def _ref(ref: str) -> tuple[int, int] | None:
    """'XFD1048576' → (1048576, 16384); None when it is not a plain A1 reference."""
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters):]
    if not digits or not letters or not letters.isascii() or not letters.isalpha():
        return None
    return (int(digits) if len(digits) < 10 else _FAR), (_column(letters) if len(letters) < 5 else _FAR)


def _row_number(text: str | None, previous: int) -> int:
    if text and text.isascii() and text.isdigit():
        return int(text) if len(text) < 10 else _FAR
    return previous + 1


def _area(ref: str) -> int:
    """Cells in 'A1:C3' (1 for a single cell, 0 when unreadable)."""
    a, _, b = ref.partition(":")
    p, q = _ref(a.replace("$", "")), _ref((b or a).replace("$", ""))
    if not p or not q:
        return 0
    return (abs(q[0] - p[0]) + 1) * (abs(q[1] - p[1]) + 1)


def _local(name: str) -> str:
    return name.rpartition(":")[2]


# ------------------------------------------------------------------ xml

class _Stop(Exception):
    pass


def _parser() -> expat.XMLParserType:
    p = expat.ParserCreate()
    p.buffer_text = True

    def doctype(*_args):
        raise _Dtd()

    p.StartDoctypeDeclHandler = doctype
    p.EntityDeclHandler = doctype
    p.XmlDeclHandler = _xml_decl
    return p


# the encodings expat reads itself; pyexpat would decode others (cp1252, koi8-r...)
# through Python codecs, which the C pass and the readers do not do the same way
_EXPAT_ENCODINGS = {"UTF-8", "UTF-16", "UTF-16BE", "UTF-16LE", "ISO-8859-1", "US-ASCII"}


class _UnknownEncoding(Exception):
    pass


def _xml_decl(version, encoding, standalone):
    if encoding and encoding.upper() not in _EXPAT_ENCODINGS:
        raise _UnknownEncoding()


_XML_ERRORS = {  # expat's messages, in Chinese (the rest: "格式错误")
    expat.errors.XML_ERROR_SYNTAX: "语法错误",
    expat.errors.XML_ERROR_NO_ELEMENTS: "没有内容",
    expat.errors.XML_ERROR_INVALID_TOKEN: "含有不允许的字符或写法",
    expat.errors.XML_ERROR_UNCLOSED_TOKEN: "在一个标记中间结束（文件不完整）",
    expat.errors.XML_ERROR_PARTIAL_CHAR: "在一个字符中间结束（文件不完整）",
    expat.errors.XML_ERROR_TAG_MISMATCH: "开始标记与结束标记不对应",
    expat.errors.XML_ERROR_DUPLICATE_ATTRIBUTE: "同一属性写了两次",
    expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "内容结束后还有多余的内容",
    expat.errors.XML_ERROR_UNDEFINED_ENTITY: "引用了未定义的实体",
    expat.errors.XML_ERROR_BAD_CHAR_REF: "含有不允许的字符引用",
    expat.errors.XML_ERROR_INCORRECT_ENCODING: "字符编码与声明的不符",
    expat.errors.XML_ERROR_MISPLACED_XML_PI: "XML 声明不在开头",
}


def _bad_xml(part: str, code: int, line: int) -> str:
    """The refusal for a part expat cannot read, in Chinese (expat's own messages are English)."""
    message = expat.ErrorString(code)
    if message == expat.errors.XML_ERROR_UNKNOWN_ENCODING:
        return (f"文件中 {part} 声明了 Excel 工作簿不使用的字符编码（Excel 只用 UTF-8 或 UTF-16），无法读取。"
                "请在 Excel 或 WPS 中打开后另存为 .xlsx。")
    what = _XML_ERRORS.get(message, f"格式错误（XML 错误 {code}）")
    return f"文件中 {part} 不是有效的 XML：第 {line} 行{what}，文件已损坏。请在 Excel 中打开后重新保存。"


class _Dtd(Exception):
    pass


def _feed(zf: zipfile.ZipFile, info: zipfile.ZipInfo, parser, budget: _Budget, after_chunk=None) -> None:
    """Stream one part through ``parser``, counting unpacked bytes. DTDs and
    malformed XML refuse the file. ``after_chunk()`` runs after each chunk
    (checks too costly to make at every element)."""
    try:
        with zf.open(info) as fh:
            read, want, position = 0, _CHUNK, -1
            while True:
                chunk = fh.read(want)
                if not chunk:
                    break
                read += len(chunk)
                budget.unpacked(len(chunk), info.filename)
                if read > budget.limits.ratio_from and read > budget.limits.ratio * max(1, info.compress_size):
                    budget.ratio(info.filename, read // max(1, info.compress_size))
                parser.Parse(chunk, False)
                if after_chunk is not None:
                    after_chunk()
                # expat (2.5, no reparse deferral) scans a token that is still open
                # (one huge attribute value) from its start again at every chunk:
                # while nothing new is parsed, read 4× more at once (linear, not quadratic)
                now = parser.CurrentByteIndex
                want = _CHUNK if now != position else min(want * 4, _MAX_CHUNK)
                position = now
            parser.Parse(b"", True)
    except _Dtd:
        raise Refused(f"文件中 {info.filename} 含有 DTD/实体声明，正常工作簿不会有，拒绝读取（可能是恶意文件）。", budget.path) from None
    except expat.ExpatError as exc:
        raise Refused(_bad_xml(info.filename, exc.code, exc.lineno), budget.path) from None
    except (_UnknownEncoding, ValueError):  # ValueError: pyexpat on a multi-byte encoding (encoding="GBK")
        raise Refused(_bad_xml(info.filename, expat.errors.codes[expat.errors.XML_ERROR_UNKNOWN_ENCODING], 1), budget.path) from None
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise Refused(f"文件已损坏或不完整（{info.filename} 无法解压）。请重新保存或重新报送工作簿。", budget.path) from exc


def _prolog_only(zf, info, budget) -> None:
    """Read a part only up to its root element: enough to refuse a DTD."""
    p = _parser()

    def root(*_args):
        raise _Stop()

    p.StartElementHandler = root
    try:
        _feed(zf, info, p, budget)
    except _Stop:
        pass


def _relationships(zf, info, budget) -> list[dict[str, str]]:
    rels: list[dict[str, str]] = []
    p = _parser()

    def start(name, attrs):
        if _local(name) == "Relationship":
            rels.append({_local(k): v for k, v in attrs.items()})

    p.StartElementHandler = start
    _feed(zf, info, p, budget)
    return rels


def _sheet_entries(zf, info, budget, book: dict | None = None) -> list[tuple[str, str, str]]:
    """(name, state, relationship id) of every <sheet> in workbook.xml; into
    ``book``, whether dates count from 1904."""
    out: list[tuple[str, str, str]] = []
    p = _parser()

    def start(name, attrs):
        local = _local(name)
        if local == "workbookPr" and book is not None:
            book["date1904"] = attrs.get("date1904", "").strip().lower() in ("1", "true")
        if local == "sheet":
            rid = next((v for k, v in attrs.items() if ":" in k and _local(k) == "id"), "")
            out.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
            if len(out) > budget.limits.sheets:
                budget.sheets()

    p.StartElementHandler = start
    _feed(zf, info, p, budget)
    return out


def _shared_string_lengths(zf, info, budget, texts: list[str] | None = None) -> array:
    """Characters of each shared string (all its <t>: the budget counts high);
    into ``texts``, each string as the readers show it (its runs, without the
    phonetic guide <rPh>). In C where it is built (``_sheetscan.c``: the same
    counts and texts, tests/test_sheetscan_tokenizer.py)."""
    if _native is None:
        return _shared_string_lengths_python(zf, info, budget, texts)
    limit = budget.limits.strings
    found: list[str] = []

    def scanner(use_expat: bool):
        found.clear()
        return _native.Scanner(array("L"), 0, 0, found if texts is not None else None, b"", use_expat, strings_limit=limit)

    done = _native_part(zf, info, budget, scanner, _STRINGS, lambda: budget.strings(f"超过 {limit:,} "))
    if texts is not None:
        texts.extend(found)
    return array("L", done.lengths())


def _native_part(zf, info, budget: _Budget, make, over: int, refuse_over) -> object:
    """Stream a shared-strings or styles part through a C scanner (``make(use_expat)``)
    and return it finished: first with the own tokenizer, again from the start with
    expat where it leaves the part to expat. ``over``: the scanner's code for the
    part's own budget, which ``refuse_over()`` refuses."""
    unpacked = budget.scan.unpacked
    for use_expat in (False, True):
        scanner = make(use_expat)

        def refuse(code: int, scanner=scanner) -> None:
            if code == _RETRY:
                raise _Retry()
            if code == over:
                refuse_over()
            _refuse_xml(scanner, code)

        try:
            _feed(zf, info, _NativeParser(scanner, refuse), budget)
        except _Retry:  # left to expat: read the part again from its start
            budget.scan.unpacked = unpacked
            continue
        code = scanner.finish()
        if code:
            refuse(code)
        return scanner
    raise AssertionError("expat never asks for a retry")  # pragma: no cover


def _shared_string_lengths_python(zf, info, budget, texts: list[str] | None = None) -> array:
    lengths = array("L")
    current = [0, False, 0, False]  # where the open <t> starts in parts, inside a <t>, inside an <rPh>, xml:space="preserve"
    parts: list[str] = []
    p = _parser()
    limit = budget.limits.strings

    def start(name, attrs):
        local = _local(name)
        if local == "si":
            if texts is not None and lengths:
                texts.append("".join(parts))
                parts.clear()
            lengths.append(0)
            if len(lengths) > limit:
                budget.strings(f"超过 {limit:,} ")
        elif local == "rPh":
            current[2] = 1
        current[1] = local == "t"
        if current[1]:
            current[0], current[3] = len(parts), attrs.get("xml:space") == "preserve"

    def end(name):
        if current[1] and not current[3] and len(parts) > current[0]:
            # spaces, tabs and line ends around a <t> without xml:space="preserve"
            # are not part of the string (as calamine reads it)
            parts[current[0]:] = ["".join(parts[current[0]:]).strip(_XML_SPACE)]
        current[1] = False
        if current[2] and _local(name) == "rPh":
            current[2] = 0

    def text(data):
        if current[1] and lengths:
            lengths[-1] += len(data)
            if texts is not None and not current[2]:
                parts.append(data)

    p.StartElementHandler = start
    p.CharacterDataHandler = text
    p.EndElementHandler = end  # also without texts: text after </t> is no part of the string
    _feed(zf, info, p, budget)
    if texts is not None and lengths:
        texts.append("".join(parts))
        for k, t in enumerate(texts):
            if "_x" in t:
                texts[k] = unescape_x(t)
    return lengths


_X_ESCAPE = None


def unescape_x(text: str) -> str:
    """Excel writes a character XML cannot hold as ``_xHHHH_`` (a vertical tab
    pasted from Word: ``_x000B_``); the readers decode those up to U+00FF."""
    global _X_ESCAPE
    if _X_ESCAPE is None:
        import re

        _X_ESCAPE = re.compile(r"_x00([0-9A-Fa-f]{2})_")
    return _X_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


_STYLE_RECORDS = {"xf", "font", "fill", "border", "numFmt", "dxf", "cellStyle"}


def _count_styles(zf, info, budget, formats: dict | None = None) -> int:
    """Style records; into ``formats``: "codes" (custom number format id →
    code) and "cells" (the number format id of each cell format, by index).
    In C where it is built (the same counts, tests/test_sheetscan_tokenizer.py)."""
    if _native is None:
        return _count_styles_python(zf, info, budget, formats)
    limit = budget.limits.styles
    done = _native_part(zf, info, budget,
                        lambda use_expat: _native.Scanner(array("L"), 0, 0, [] if formats is not None else None, b"", use_expat, styles_limit=limit),
                        _STYLES, lambda: budget.styles(f"超过 {limit:,} "))
    n, cells, codes = done.formats()
    if formats is not None:
        formats.setdefault("codes", {}).update(codes)
        formats.setdefault("cells", []).extend(cells)
    return n


def _count_styles_python(zf, info, budget, formats: dict | None = None) -> int:
    n = [0]
    limit = budget.limits.styles
    p = _parser()
    depth = [0]  # inside <cellXfs>
    codes: dict[str, str] = {}
    cells: list[str] = []

    def start(name, attrs):
        local = _local(name)
        if local in _STYLE_RECORDS:
            n[0] += 1
            if n[0] > limit:
                budget.styles(f"超过 {limit:,} ")
            if formats is not None:
                if local == "xf" and depth[0]:
                    cells.append(attrs.get("numFmtId", "0"))
                elif local == "numFmt":
                    codes[attrs.get("numFmtId", "")] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            depth[0] += 1

    def end(name):
        if _local(name) == "cellXfs":
            depth[0] -= 1

    p.StartElementHandler = start
    if formats is not None:
        p.EndElementHandler = end
    _feed(zf, info, p, budget)
    if formats is not None:
        formats.setdefault("codes", {}).update(codes)
        formats.setdefault("cells", []).extend(cells)
    return n[0]


# ------------------------------------------------------------------ dates

_DATE, _DURATION, _ISO = 1, 2, 3


def _number_format_kind(code: str) -> int:
    """0, a date or time format, or a duration ([h]:mm): how python-calamine
    tells them (the first section only; quoted, escaped and bracketed text
    is no format token)."""
    escaped = quoted = ampm = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\*":
            escaped = True
        elif quoted:
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return 0
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return _DURATION
        elif ch == "]":
            brackets = max(0, brackets - 1)
        elif ch in "aA" and not ampm and brackets == 0:
            ampm = True
        elif ch in "pm/PM" and ampm and brackets == 0:
            return _DATE
        elif ch in "dmhysDMHYS" and not ampm and brackets == 0:
            return _DATE
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return 0


_BUILTIN_FORMATS = {**{str(i): _DATE for i in (*range(14, 23), 45, 47)}, "46": _DURATION}
_FORMAT_CODE_CHARS = 255  # Excel's limit for a number format code


def _style_kinds(formats: dict) -> bytes:
    """For each cell format (the ``s`` of a cell): 0, date, or duration.

    Each number format is looked at once, however many cell formats use it,
    and only its first 255 characters (Excel writes no longer code), so a
    hostile style sheet (70,000 cell formats sharing a code of thousands of
    characters) costs what a normal one does."""
    codes = formats.get("codes", {})
    kinds: dict[str, int] = {}
    out = bytearray()
    for fid in formats.get("cells", ()):
        kind = kinds.get(fid)
        if kind is None:
            key = fid.strip()
            kind = _BUILTIN_FORMATS.get(key, 0)
            if key in codes:
                code = codes[key][:_FORMAT_CODE_CHARS]
                kind = _number_format_kind(code) if _DATE_LETTERS.search(code) else 0
            if len(kinds) < 100_000:
                kinds[fid] = kind
        out.append(kind)
    return bytes(out)




_DATE_LETTERS = re.compile("[dmhysDMHYSaA]")  # a code without them is no date or duration format


def _iso_date(text: str):
    """A t="d" cell's ISO 8601 text as python-calamine shows it: a datetime
    (date and time to the second, a fraction read to the microsecond), a
    date, a time of day, or the text itself when it is none of them."""
    import datetime as dt
    import re

    global _ISO_DATE, _ISO_TIME
    if _ISO_DATE is None:
        _ISO_DATE = re.compile(r"\s*\+?([0-9]{1,4})-([0-9]{1,2})-([0-9]{1,2})(?:T([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:\.([0-9]{1,9}))?)?\s*", re.ASCII)
        _ISO_TIME = re.compile(r"\s*([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]{1,9}))?)?\s*", re.ASCII)
    try:
        m = _ISO_DATE.fullmatch(text)
        if m:
            y, mo, d, h, mi, sec, frac = m.groups()
            day = dt.date(int(y), int(mo), int(d))
            if h is None:
                return day
            return dt.datetime.combine(day, _time_of_day(int(h), int(mi), int(sec), frac))
        m = _ISO_TIME.fullmatch(text)
        if m:
            h, mi, sec, frac = m.groups()
            return _time_of_day(int(h), int(mi), int(sec or 0), frac)
    except ValueError:
        pass
    return text


_ISO_DATE = _ISO_TIME = None


def _time_of_day(h: int, mi: int, sec: int, frac: str | None):
    import datetime as dt

    if sec == 60:  # a leap second: python-calamine shows the second before it
        sec, frac = 59, None
    return dt.time(h, mi, sec, int((frac or "0")[:6].ljust(6, "0")))


def _round_away(x: float) -> int:
    """To the nearest integer, halves away from zero (Rust's f64::round)."""
    import math

    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _excel_date(serial: float, kind: int, date1904: bool):
    """A number in a date format as python-calamine shows it: a time of day
    below 1, a date when whole, else a datetime (to the millisecond); a
    duration as a timedelta; the number itself when out of range."""
    import datetime as dt

    day = 86_400_000.0
    try:
        if kind == _DURATION:
            return dt.timedelta(milliseconds=_round_away(serial * day))
        start, ms_f = (dt.datetime(1904, 1, 1), serial * day) if date1904 else (dt.datetime(1899, 12, 31), serial * day)
        if not date1904 and serial >= 60:  # Excel's 1900 calendar counts a 29 February 1900 that never was
            ms_f -= day
        ms = _round_away(ms_f)
        if serial < 1.0:  # the time of day alone (the date may be before year 1)
            ms %= 86_400_000
            return dt.time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000 * 1000)
        moment = start + dt.timedelta(milliseconds=ms)
    except (OverflowError, ValueError):
        return serial
    if serial == int(serial):
        return moment.date()
    return moment


@dataclass
class _PartStats:
    rows: int = 0
    cols: int = 0
    merged: int = 0
    present: int = 0
    text_chars: int = 0
    uncached: set = field(default_factory=set)
    errors: dict = field(default_factory=dict)
    values: list | None = None  # rows of cell values (values=True, C pass)


# element → what the sheet scanner does with it
_ROW, _CELL, _F, _V, _T, _MERGE, _OTHER = range(7)
_KINDS = {"row": _ROW, "c": _CELL, "f": _F, "v": _V, "t": _T, "mergeCell": _MERGE}


_REFS: dict[str, tuple[int, int]] = {}  # 'B7' → (7, 2): refs repeat across sheets and workbooks


try:  # the same pass in C (setup.py builds it where a compiler and expat's headers are)
    from . import _sheetscan as _native
except ImportError:  # pragma: no cover - depends on the install
    _native = None

_XML_SPACE = " \t\r\n"


def _sst_chars(raw: str, sst: array, longest: int) -> int:
    """Characters a t="s" cell shows, from the raw text of its <v>: calamine reads
    plain ASCII digits (any leading zeros) as the index and anything else as
    index 0, openpyxl reads int(raw) (' 1', '+1', '-1' = the last string,
    '1_0'); so anything but plain digits counts the longest string."""
    if not raw:
        return 0
    if raw.isascii() and raw.isdigit():
        body = raw.lstrip("0") or "0"
        i = int(body) if len(body) <= 12 else -1
        return sst[i] if 0 <= i < len(sst) else 0
    return longest


def _sheet_part(zf, info, budget: _Budget, sst: array, cells_before: int, chars_before: int, present_before: int, label: str,
                read: _Values | None = None) -> _PartStats:
    """The one streaming pass over a worksheet part (in C when it is built;
    with ``read``, it reads the cell values too)."""
    if _native is None:
        return _sheet_part_python(zf, info, budget, sst, cells_before, chars_before, present_before, label)
    return _sheet_part_native(zf, info, budget, sst, cells_before, chars_before, present_before, label, read)


@dataclass
class _Values:
    """What the C pass needs to read values: the shared strings, each cell
    format's kind (date, duration), the workbook's date system."""

    strings: list[str]
    styles: bytes
    date1904: bool = False


_GO, _CELLS, _CELLS_MERGED, _TEXT, _DTD, _BAD_XML, _NO_MEMORY, _RETRY, _STRINGS, _STYLES = range(10)


class _NativeParser:
    """What ``_feed`` needs of an expat parser, over the C scanner."""

    def __init__(self, scanner, refuse):
        self.scanner, self.refuse = scanner, refuse

    def Parse(self, data: bytes, final: bool) -> None:  # noqa: N802 - pyexpat's names
        code = self.scanner.feed(data, final)
        if code:
            self.refuse(code)

    @property
    def CurrentByteIndex(self) -> int:  # noqa: N802
        return self.scanner.position()


def _sheet_part_native(zf, info, budget: _Budget, sst: array, cells_before: int, chars_before: int, present_before: int, label: str,
                       read: _Values | None = None) -> _PartStats:
    """``_sheet_part_python`` with the handlers in C (``_sheetscan.c``): the same
    counts, refusals and messages; with ``read``, the cell values too."""
    unpacked = budget.scan.unpacked
    try:
        return _sheet_part_scanned(zf, info, budget, sst, cells_before, chars_before, present_before, label, read, False)
    except _Retry:  # the C tokenizer leaves this part to expat: read it again from the start
        budget.scan.unpacked = unpacked
        return _sheet_part_scanned(zf, info, budget, sst, cells_before, chars_before, present_before, label, read, True)


def _refuse_xml(scanner, code: int) -> None:
    """A DTD or malformed XML the C pass met: raised as ``_feed`` reports them."""
    if code == _DTD:
        raise _Dtd()
    if code == _BAD_XML:
        number, line = scanner.xml_error()
        error = expat.ExpatError(expat.ErrorString(number))
        error.code, error.lineno = number, line
        raise error


class _Retry(Exception):
    """The C pass's own tokenizer met something it leaves to expat (a comment,
    CDATA, another encoding, malformed XML, ...): the part is read again with expat."""


def _sheet_part_scanned(zf, info, budget: _Budget, sst: array, cells_before: int, chars_before: int, present_before: int, label: str,
                        read: _Values | None, use_expat: bool) -> _PartStats:
    limits = budget.limits
    present_room = limits.present - present_before
    char_room = limits.text_chars - chars_before
    if read is None:
        scanner = _native.Scanner(sst, limits.cells - cells_before, char_room, expat=use_expat)
    else:
        scanner = _native.Scanner(sst, limits.cells - cells_before, char_room, read.strings, read.styles, use_expat)

    def refuse(code: int) -> None:
        if code == _RETRY:
            raise _Retry()
        max_r, max_c, _, _, _, r, c = scanner.state()
        if code in (_CELLS, _CELLS_MERGED):
            budget.cells("超过", f"（工作表“{label}”{'含合并单元格' if code == _CELLS_MERGED else ''}最远到 {_a1(max_r, max_c)}）")
        if code == _TEXT:
            budget.text(f"，到工作表“{label}”的 {_a1(r, c)} 时已超过")
        _refuse_xml(scanner, code)

    parser = _NativeParser(scanner, refuse)

    def after_chunk():
        _, _, _, present, chars, r, c = scanner.state()
        if present > present_room:
            budget.present("超过", f"（到工作表“{label}”的 {_a1(r, c)} 时）")
        if chars > char_room:
            budget.text(f"，到工作表“{label}”的 {_a1(r, c)} 时已超过")

    _feed(zf, info, parser, budget, after_chunk)
    code = scanner.finish()
    if code:
        refuse(code)
    after_chunk()
    st = _PartStats()
    st.rows, st.cols, st.merged, st.present, st.text_chars, _, _ = scanner.state()
    st.uncached = set(scanner.uncached)
    st.errors = dict(scanner.errors)
    if read is not None:
        rows, dates = scanner.values()
        for r, c, kind in dates:  # the C pass lists only cells still holding that value
            value = rows[r - 1][c - 1]
            if kind == _ISO:
                if isinstance(value, str):
                    rows[r - 1][c - 1] = _iso_date(value)
            elif isinstance(value, float):
                rows[r - 1][c - 1] = _excel_date(value, kind, read.date1904)
        st.values = rows
    return st


def _sheet_part_python(zf, info, budget: _Budget, sst: array, cells_before: int, chars_before: int, present_before: int, label: str) -> _PartStats:
    """The one streaming pass over a worksheet part: extent, text as used,
    uncached formulas, error values. Refuses as soon as a budget is passed
    (the count of cells present is checked after each 64 KB chunk).

    Written for speed (it sees every cell of every workbook): one closure,
    the common empty cell costs a few dictionary look-ups."""
    st = _PartStats()
    kinds: dict[str, int] = {}
    limits = budget.limits
    cell_room = limits.cells - cells_before
    present_room = limits.present - present_before
    char_room = limits.text_chars - chars_before
    longest = max(sst, default=0)
    refs = _REFS
    # the current row, and the open cell: position, type, formula, value text
    row = 0
    r = c = 0
    open_cell = False
    t = "n"
    has_f = False
    value: list[str] | None = None
    cap = 0  # 1: inside <v>, 2: inside <t>
    max_r = max_c = 0
    merged = 0
    chars = 0
    present = 0

    def close_cell():
        nonlocal open_cell, chars
        open_cell = False
        raw = "".join(value) if value else ""
        v = raw.strip(_XML_SPACE)
        if t == "s":
            chars += _sst_chars(raw, sst, longest)
        elif t == "str":
            chars += len(v)
        elif t == "e" and v:
            st.errors[(r, c)] = v
        if has_f and not v:
            st.uncached.add((r, c))
        if chars > char_room:
            budget.text(f"，到工作表“{label}”的 {_a1(r, c)} 时已超过")

    def too_many(what: str) -> None:
        budget.cells("超过", f"（工作表“{label}”{what}最远到 {_a1(max_r, max_c)}）")

    def start(name, attrs):
        nonlocal row, r, c, open_cell, t, has_f, value, cap, max_r, max_c, merged, present
        if name == "c":
            if open_cell and (value or has_f):  # an empty cell needs no closing work
                close_cell()
            ref = attrs.get("r")
            pos = refs.get(ref) if ref else None
            if pos is None:
                pos = _ref(ref) if ref else None
                if pos is not None:
                    if len(refs) < 50_000:
                        refs[ref] = pos
                else:
                    pos = (row or 1, c + 1)  # no usable reference: the next cell of the row
            r, c = pos
            present += 1
            t = attrs.get("t", "n")
            has_f = False
            value = None
            cap = 0
            open_cell = True
            if r > max_r or c > max_c:
                if r > max_r:
                    max_r = r
                if c > max_c:
                    max_c = c
                if max_r * max_c + merged > cell_room:
                    too_many("")
            return
        if name == "v":
            cap = 1
            value = None
            return
        kind = kinds.get(name)
        if kind is None:
            kind = kinds[name] = _KINDS.get(_local(name), _OTHER)
        if kind == _CELL:  # a prefixed <x:c>: same as above, the slow way
            start("c", attrs)
        elif kind == _V:
            cap = 1
            value = None
        elif kind == _ROW:
            if open_cell:
                close_cell()
            row = _row_number(attrs.get("r"), row)
            r, c = row, 0
            cap = 0
        elif kind == _F:
            has_f = True
            cap = 0
        elif kind == _T:
            cap = 2
        elif kind == _MERGE:
            merged += _area(attrs.get("ref", ""))
            if max_r * max_c + merged > cell_room:
                too_many("含合并单元格")
        else:
            cap = 0

    def text(data):
        nonlocal chars, value
        if cap == 1:
            if open_cell:
                if value is None:
                    value = [data]
                else:
                    value.append(data)
        elif cap == 2:
            chars += len(data)

    def after_chunk():
        if present > present_room:
            budget.present("超过", f"（到工作表“{label}”的 {_a1(r, c)} 时）")
        if chars > char_room:
            budget.text(f"，到工作表“{label}”的 {_a1(r, c)} 时已超过")

    def end(name):
        nonlocal cap
        if open_cell and (name == "c" or _local(name) == "c"):  # text after </c> is no part of the cell
            close_cell()
            cap = 0
        elif cap and _local(name) in ("v", "t"):  # text after </v> or </t> is no value
            cap = 0

    p = _parser()
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = text
    _feed(zf, info, p, budget, after_chunk)
    if open_cell:
        close_cell()
    after_chunk()
    st.rows, st.cols, st.merged, st.text_chars, st.present = max_r, max_c, merged, chars, present
    return st


def _a1(row: int, col: int) -> str:
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
        if len(letters) > 8:
            return f"第 {row} 行第 {col} 列附近"
    return f"{letters}{row}"


# ------------------------------------------------------------------ xlsx

def _names(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Part name (normalised: forward slashes, no leading slash, lower case) → entry."""
    out: dict[str, zipfile.ZipInfo] = {}
    for i in zf.infolist():
        out.setdefault(i.filename.replace("\\", "/").lstrip("/").lower(), i)
    return out


def _resolve(names: dict[str, zipfile.ZipInfo], target: str, base: str = "xl") -> zipfile.ZipInfo | None:
    """The part a relationship target names: relative to xl/ or absolute,
    with ../, backslashes, any case, percent-encoded or not."""
    from urllib.parse import unquote

    for candidate in dict.fromkeys((target, unquote(target))):
        candidate = candidate.replace("\\", "/")
        path = candidate.lstrip("/") if candidate.startswith("/") else posixpath.join(base, candidate)
        info = names.get(posixpath.normpath(path).lstrip("/").lower())
        if info is not None:
            return info
    return None


_SHEET_TYPES = ("/worksheet", "/chartsheet", "/dialogsheet", "/xlMacrosheet", "/xlIntlMacrosheet", "/macrosheet")


def scan_xlsx(path: Path, limits: Limits = LIMITS, values: bool = False) -> Scan:
    scan = Scan("xlsx")
    values = values and _native is not None  # the Python pass only measures: calamine reads
    budget = _Budget(path, limits, scan)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused("文件已损坏或不完整（不是完整的 .xlsx）。请重新保存或重新报送工作簿。", path) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.parts:
            budget.refuse("文件中的部件过多", f"有 {len(infos):,} 个，上限为 {limits.parts:,} 个")
        names = _names(zf)
        book = names.get("xl/workbook.xml")
        if book is None:
            hint = "（看起来是 Word 文档）" if "word/document.xml" in names else ""
            raise Refused(f"文件不是 Excel 工作簿{hint}：缺少 xl/workbook.xml。请在 Excel 或 WPS 中另存为 .xlsx。", path)
        declared = sum(i.file_size for i in infos)
        if declared > limits.unpacked:
            budget.too_big(f"约 {declared // 1024 // 1024} MB，超过")

        rels_info = names.get("xl/_rels/workbook.xml.rels")
        rels = _relationships(zf, rels_info, budget) if rels_info else []
        by_id = {r.get("Id", ""): r for r in rels}
        workbook: dict = {}
        entries = _sheet_entries(zf, book, budget, workbook)
        done = {id(book), id(rels_info)}

        # shared strings: the part the relationships name and the conventional one
        sst = array("L")
        sst_parts = [_resolve(names, r.get("Target", "")) for r in rels if r.get("Type", "").endswith("/sharedStrings")]
        sst_parts.append(names.get("xl/sharedstrings.xml"))
        texts: list[str] | None = [] if values else None
        for info in {id(i): i for i in sst_parts if i is not None}.values():
            found: list[str] | None = [] if values else None
            lengths = _shared_string_lengths(zf, info, budget, found)
            done.add(id(info))
            if texts is not None and found is not None:  # two tables: as for the lengths, the longer string
                for k, text in enumerate(found):
                    if k >= len(texts):
                        texts.append(text)
                    elif len(text) > len(texts[k]):
                        texts[k] = text
            for k, n in enumerate(lengths):  # two tables: the longer string at each index
                if k < len(sst):
                    sst[k] = max(sst[k], n)
                else:
                    sst.append(n)
        scan.strings = len(sst)

        style_parts = [_resolve(names, r.get("Target", "")) for r in rels if r.get("Type", "").endswith("/styles")]
        style_parts.append(names.get("xl/styles.xml"))
        formats: dict | None = {} if values else None
        for info in {id(i): i for i in style_parts if i is not None}.values():
            scan.styles += _count_styles(zf, info, budget, formats)
            done.add(id(info))
            if scan.styles > limits.styles:
                budget.styles(f" {scan.styles:,} ")

        read = _Values(texts, _style_kinds(formats), workbook.get("date1904", False)) if values else None
        if values:
            scan.values = {}

        # every sheet the workbook names, wherever its part lives; a part named
        # twice is read twice by the readers, so it counts twice
        stats: dict[int, _PartStats] = {}
        parts: list[tuple[str, str, zipfile.ZipInfo | None]] = []
        for name, state, rid in entries:
            rel = by_id.get(rid)
            info = None
            if rel and rel.get("TargetMode", "") != "External":
                info = _resolve(names, rel.get("Target", ""))
            if info is None:  # a reader might still find something there: refuse rather than read unmeasured
                raise Refused(f"文件已损坏：找不到工作表“{name}”的数据部件。请在 Excel 中打开后重新保存。", path)
            parts.append((name, state, info))
        named = {id(i) for _, _, i in parts if i is not None}
        for r in rels:  # sheets of the relationships that <sheets> does not list: some readers still open them
            if r.get("Type", "").endswith(_SHEET_TYPES) and r.get("TargetMode", "") != "External":
                info = _resolve(names, r.get("Target", ""))
                if info is not None and id(info) not in named:
                    parts.append(("", "hidden", info))
                    named.add(id(info))
        for name, state, info in parts:
            info_stats = None
            if info is not None:
                info_stats = stats.get(id(info))
                if info_stats is None:
                    info_stats = stats[id(info)] = _sheet_part(zf, info, budget, sst, scan.cells, scan.text_chars, scan.present, name or info.filename,
                                                               read if name else None)
                    done.add(id(info))
                scan.cells += info_stats.rows * info_stats.cols + info_stats.merged
                scan.text_chars += info_stats.text_chars
                scan.present += info_stats.present
                if scan.present > limits.present:
                    budget.present(f"为 {scan.present:,} 个，超过", f"（{len(scan.sheets) + 1} 张工作表）")
                if scan.cells > limits.cells:
                    budget.cells(f"为 {scan.cells:,} 个单元格，超过", f"（{len(scan.sheets) + 1} 张工作表）")
                if scan.text_chars > limits.text_chars:
                    budget.text(f"（共 {scan.text_chars:,} 个字符）")
            if not name:
                continue
            sheet = SheetInfo(name, state if state in ("hidden", "veryHidden") else "visible")
            if info_stats is not None:
                sheet.rows, sheet.cols = info_stats.rows, info_stats.cols
                if info_stats.uncached:
                    scan.uncached[name] = set(info_stats.uncached)
                if info_stats.errors:
                    scan.errors[name] = dict(info_stats.errors)
            if scan.values is not None:
                scan.values[name] = info_stats.values if info_stats is not None and info_stats.values is not None else []
            scan.sheets.append(sheet)

        # every other part: a reader may parse it (openpyxl reads many), so no DTD
        # anywhere, and no part that would unpack like a bomb (streamed parts were
        # measured as they were read)
        for i in infos:
            if id(i) in done:
                continue
            if i.file_size > limits.ratio_from and i.file_size > limits.ratio * max(1, i.compress_size):
                budget.ratio(i.filename, i.file_size // max(1, i.compress_size))
            if i.filename.lower().endswith((".xml", ".rels", ".vml")):
                _prolog_only(zf, i, budget)
    return scan


# ------------------------------------------------------------------ xls (BIFF)

_BIFF_CELLS = {0x0006, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00D6, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0206, 0x0406}
_BIFF_MULTI = {0x00BD, 0x00BE}  # MULRK, MULBLANK: row, first col, …, last col
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


class _Segments:
    """The SST record and its CONTINUE records, read as one stream (strings may
    be split between records; a split inside characters repeats the flags byte)."""

    def __init__(self, segments: list[bytes]):
        self.segs, self.i, self.pos = segments, 0, 0

    def _next(self) -> bytes:
        while self.i < len(self.segs) and self.pos >= len(self.segs[self.i]):
            self.i += 1
            self.pos = 0
        if self.i >= len(self.segs):
            raise EOFError
        return self.segs[self.i]

    def take(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            seg = self._next()
            k = min(n - len(out), len(seg) - self.pos)
            out += seg[self.pos:self.pos + k]
            self.pos += k
        return out

    def skip(self, n: int) -> None:
        while n > 0:
            seg = self._next()
            k = min(n, len(seg) - self.pos)
            self.pos += k
            n -= k

    def chars(self, count: int, wide: bool) -> None:
        while count > 0:
            seg = self.segs[self.i] if self.i < len(self.segs) else b""
            if self.pos >= len(seg):
                self.i += 1
                self.pos = 0
                if self.i >= len(self.segs):
                    raise EOFError
                wide = bool(self.segs[self.i][0] & 1)
                self.pos = 1
                continue
            size = 2 if wide else 1
            k = min(count, (len(seg) - self.pos) // size)
            if k == 0:  # an odd byte left: malformed
                raise EOFError
            self.pos += k * size
            count -= k


def _sst_lengths(segments: list[bytes], budget: _Budget) -> array:
    s = _Segments(segments)
    lengths = array("L")
    unique = 0
    try:
        _total, unique = struct.unpack("<II", s.take(8))
        if unique > budget.limits.strings:
            budget.strings(f" {unique:,} ")
        for _ in range(unique):
            cch, flags = struct.unpack("<HB", s.take(3))
            runs = struct.unpack("<H", s.take(2))[0] if flags & 0x08 else 0
            ext = struct.unpack("<I", s.take(4))[0] if flags & 0x04 else 0
            s.chars(cch, bool(flags & 1))
            s.skip(4 * runs + ext)
            lengths.append(cch)
    except (EOFError, struct.error):
        # unreadable rest of the table: assume the longest strings Excel allows
        while len(lengths) < min(unique, budget.limits.strings):
            lengths.append(32767)
    return lengths


def scan_xls(path: Path, limits: Limits = LIMITS) -> Scan:
    import olefile

    scan = Scan("xls")
    budget = _Budget(path, limits, scan)
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if _ENCRYPTED in head:
        raise Refused("工作簿设置了打开密码（已加密），无法读取。请在 Excel 中取消密码（文件→信息→保护工作簿）后另存为 .xlsx。", path)
    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("EncryptedPackage"):
                raise Refused("工作簿设置了打开密码（已加密），无法读取。请在 Excel 中取消密码（文件→信息→保护工作簿）后另存为 .xlsx。", path)
            stream = "Workbook" if ole.exists("Workbook") else "Book" if ole.exists("Book") else None
            if stream is None:
                raise Refused("无法读取工作簿（旧版 .xls 或 WPS .et 文件无法读取，或文件已损坏）：文件中没有工作簿数据。请在 Excel 或 WPS 中打开后另存为 .xlsx 再试。", path)
            size = ole.get_size(stream)
            budget.unpacked(size, stream)
            data = ole.openstream(stream).read()
    except Refused:
        raise
    except Exception as exc:  # olefile raises many types for broken containers
        raise Refused(f"无法读取工作簿（旧版 .xls 或 WPS .et 文件无法读取，或文件已损坏）：{type(exc).__name__}。请在 Excel 中打开确认后另存为 .xlsx 再试。", path) from exc
    _walk_biff_or_refuse(data, budget, scan)
    return scan


def _walk_biff(data: bytes, budget: _Budget, scan: Scan) -> None:
    """The workbook globals (sheet list, shared strings), then each sheet's
    substream from the offset its BOUNDSHEET record gives — as the reader
    does, so a substream hidden inside another record is still measured."""
    limits = budget.limits
    unpack = struct.unpack_from
    end = len(data)
    sheets: list[tuple[int, SheetInfo]] = []
    sst = array("L")
    segments: list[bytes] | None = None
    pos = 0
    while pos + 4 <= end:
        rtype, length = unpack("<HH", data, pos)
        body, pos = pos + 4, pos + 4 + length
        if segments is not None:
            if rtype == 0x003C:  # CONTINUE of the SST
                segments.append(data[body:pos])
                continue
            sst = _sst_lengths(segments, budget)
            segments = None
        if rtype == 0x0085 and length >= 8:  # BOUNDSHEET
            offset, visibility = unpack("<IB", data, body)
            cch, flags = data[body + 6], data[body + 7]
            raw = data[body + 8: body + 8 + cch * (2 if flags & 1 else 1)]
            name = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
            info = SheetInfo(name, {1: "hidden", 2: "veryHidden"}.get(visibility & 3, "visible"))
            sheets.append((offset, info))
            scan.sheets.append(info)
            if len(sheets) > limits.sheets:
                budget.sheets()
        elif rtype == 0x00FC:  # SST
            segments = [data[body:pos]]
        elif rtype == 0x000A:  # EOF of the globals
            break
    if segments is not None:
        sst = _sst_lengths(segments, budget)
    scan.strings = len(sst)
    for offset, info in sheets:
        _walk_sheet(data, offset, info, sst, budget, scan)


def _walk_biff_or_refuse(data: bytes, budget: _Budget, scan: Scan) -> None:
    try:
        _walk_biff(data, budget, scan)
    except (struct.error, IndexError) as exc:  # a record cut off by the end of the stream
        raise Refused("无法读取工作簿（旧版 .xls 文件已损坏或不完整）。请在 Excel 中打开确认后另存为 .xlsx 再试。", budget.path) from exc


def _walk_sheet(data: bytes, offset: int, info: SheetInfo, sst: array, budget: _Budget, scan: Scan) -> None:
    limits = budget.limits
    unpack = struct.unpack_from
    end = len(data)
    rows = cols = dim_rows = dim_cols = merged = 0
    depth = 0
    pos = offset
    while pos + 4 <= end:
        rtype, length = unpack("<HH", data, pos)
        body, pos = pos + 4, pos + 4 + length
        if rtype == 0x0809:  # BOF (an embedded chart opens its own)
            depth += 1
        elif rtype == 0x000A:  # EOF
            depth -= 1
            if depth <= 0:
                break
        elif rtype in _BIFF_CELLS and length >= 4:
            row, col = unpack("<HH", data, body)
            if row >= rows:
                rows = row + 1
            if col >= cols:
                cols = col + 1
            scan.present += 1
            if rtype == 0x00FD and length >= 10:
                i = unpack("<I", data, body + 6)[0]
                if i < len(sst):
                    scan.text_chars += sst[i]
            elif rtype in (0x0204, 0x00D6) and length >= 8:
                scan.text_chars += unpack("<H", data, body + 6)[0]
            if scan.text_chars > limits.text_chars:
                budget.text(f"，到工作表“{info.name}”时已超过")
            if scan.present > limits.present:
                budget.present("超过", f"（工作表“{info.name}”）")
        elif rtype in _BIFF_MULTI and length >= 6:
            row, first = unpack("<HH", data, body)
            last = unpack("<H", data, pos - 2)[0]
            rows = max(rows, row + 1)
            cols = max(cols, last + 1)
            scan.present += max(0, last - first + 1)
            if scan.present > limits.present:
                budget.present("超过", f"（工作表“{info.name}”）")
        elif rtype == 0x0200 and length >= 14:  # DIMENSIONS: a reader may allocate by it
            _r0, r1, _c0, c1 = unpack("<IIHH", data, body)
            dim_rows, dim_cols = max(dim_rows, r1), max(dim_cols, c1)
        elif rtype == 0x00E5 and length >= 2:  # MERGEDCELLS
            n = unpack("<H", data, body)[0]
            for k in range(min(n, (length - 2) // 8)):
                r0, r1, c0, c1 = unpack("<HHHH", data, body + 2 + 8 * k)
                merged += (abs(r1 - r0) + 1) * (abs(c1 - c0) + 1)
        if rows * cols + merged > limits.cells - scan.cells:
            budget.cells("超过", f"（工作表“{info.name}”最远到 {_a1(rows, cols)}）")
    info.rows, info.cols = max(rows, dim_rows), max(cols, dim_cols)
    scan.cells += info.rows * info.cols + merged
    if scan.cells > limits.cells:
        budget.cells(f"为 {scan.cells:,} 个单元格，超过", f"（工作表“{info.name}”最远到 {_a1(info.rows, info.cols)}）")


def scan(path: str | Path, kind: str, limits: Limits = LIMITS, values: bool = False) -> Scan:
    """Measure a workbook against the budgets and collect what the reader needs.

    ``kind`` is 'xlsx' (any zip package: .xlsx, .xlsm) or 'ole' (legacy .xls).
    With ``values`` (xlsx, where the C pass is built) the same pass reads
    every sheet's cell values into ``Scan.values``: no second reader runs.
    Raises :class:`Refused` with a Chinese message saying which limit, what
    the file has, and what to do.
    """
    path = Path(path)
    if kind == "ole":
        return scan_xls(path, limits)
    return scan_xlsx(path, limits, values)
