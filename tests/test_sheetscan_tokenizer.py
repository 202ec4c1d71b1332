"""The C pass's own XML tokenizer (``_sheetscan.c``, the default) against
expat (``Scanner(..., expat=True)``), which it replaced on the common path.

The property: on any bytes, the own tokenizer either gives exactly what the
expat scanner gives — the same stop code, extent, counts, values, uncached
formulas and error values — or stops with RETRY, and guard then reads the
part with expat. It never accepts what expat rejects. Generated worksheets in
every XML spelling (quotes, spaces, references, line ends, declarations,
prefixes) and the same sheets with bytes changed, cut into chunks anywhere.
BUDGETXL_TOKENIZER_EXAMPLES=N runs N examples per test (default 150).
"""

from __future__ import annotations

import io
import os
import zipfile
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgetxl import guard
from budgetxl.grid import read_workbook

native = pytest.mark.skipif(guard._native is None, reason="the C pass is not built")
EXAMPLES = int(os.environ.get("BUDGETXL_TOKENIZER_EXAMPLES", "150"))
RETRY, BAD_XML = guard._RETRY, guard._BAD_XML
SST = array("L", [1, 4, 2])
STRINGS = ["甲", "乙丙丁", "xy"]
KINDS = bytes([0, 0, 0, 1, 0, 2])


def scan(xml: bytes, use_expat: bool, cuts=(), rooms=(2_000_000, 20_000_000)):
    """Everything the scanner gives for ``xml`` fed in pieces at ``cuts``."""
    s = guard._native.Scanner(SST, rooms[0], rooms[1], STRINGS, KINDS, use_expat)
    start = 0
    for cut in [*sorted(c for c in set(cuts) if 0 < c < len(xml)), len(xml)]:
        code = s.feed(xml[start:cut], cut == len(xml))
        start = cut
        if code:
            return ("stopped", code, s.state())
    code = s.finish()
    if code:
        return ("stopped", code, s.state())
    return (s.state(), s.values(), sorted(s.uncached), sorted(s.errors.items()))


def agree(xml: bytes, cuts=(), rooms=(2_000_000, 20_000_000)) -> bool:
    """The own tokenizer gives expat's result, or leaves the part to expat.
    Returns whether it read the part itself."""
    own, theirs = scan(xml, False, cuts, rooms), scan(xml, True, (), rooms)
    if own[:2] == ("stopped", RETRY):
        return False
    assert theirs[:2] != ("stopped", BAD_XML), f"the own tokenizer accepted what expat rejects: {xml!r}"
    assert own == theirs, xml
    return True


# ------------------------------------------------------------------ generated sheets in every spelling

SPACE = st.sampled_from(["", " ", "  ", "\n", "\t", "\r\n", " \n "])
TEXTS = st.sampled_from(["", "1", " 12.5 ", "-0.5", "1e3", "#N/A", "甲乙", "a&amp;b", "&lt;&gt;&quot;&apos;", "&#20013;&#x6587;",
                         "&#10;x&#13;", "_x000B_", "x]y", "]]", "a]]&gt;", "]", "tab\there", "line\nend", "😀", "é", "\u00a0",
                         "&#x1F600;", "&#65;&#0066;", "   "])
ATTR_TEXT = st.sampled_from(["A1", "B2", "$C$3", "XFD1", "a\tb", "x\ny", "&amp;", "&#65;1", "甲", "'", '"', ">", "AA10"])


@st.composite
def attribute(draw, name, value):
    q = draw(st.sampled_from(['"', "'"]))
    if q in value:
        value = value.replace(q, "&quot;" if q == '"' else "&apos;")
    return f"{draw(SPACE) or ' '}{name}{draw(SPACE)}={draw(SPACE)}{q}{value}{q}"


@st.composite
def cell(draw, p):
    attrs = ""
    if draw(st.booleans()):
        attrs += draw(attribute("r", draw(ATTR_TEXT)))
    t = draw(st.sampled_from([None, "s", "str", "inlineStr", "n", "b", "e", "d"]))
    if t:
        attrs += draw(attribute("t", t))
    if draw(st.booleans()):
        attrs += draw(attribute("s", draw(st.sampled_from(["0", "3", "5", "99", "x"]))))
    body = ""
    if draw(st.booleans()):
        body += f"<{p}f>SUM(A1)</{p}f>"
    kind = draw(st.sampled_from(["none", "v", "v", "is", "vv"]))
    if kind in ("v", "vv"):
        for _ in range(1 if kind == "v" else 2):
            body += f"<{p}v{draw(SPACE)}>{draw(st.sampled_from(['0', '1', '2', ' 1', '7']) if t == 's' else TEXTS)}</{p}v{draw(SPACE)}>"
    elif kind == "is":
        keep = draw(attribute("xml:space", "preserve")) if draw(st.booleans()) else ""
        body += f"<{p}is><{p}t{keep}>{draw(TEXTS)}</{p}t><{p}rPh><{p}t>ヨミ</{p}t></{p}rPh></{p}is>"
    close = f"{draw(SPACE)}/>" if not body and draw(st.booleans()) else f">{body}</{p}c>"
    return f"<{p}c{attrs}{close}"


@st.composite
def sheets(draw):
    p = draw(st.sampled_from(["", "", "x:"]))
    decl = draw(st.sampled_from([
        "", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n', "<?xml version='1.0'?>", '<?xml version="1.0" encoding="utf-8"?>\n',
        '\ufeff<?xml version="1.0" encoding="UTF-8"?>', '<?xml  version = "1.0"  standalone="no" ?>',
    ]))
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        r = draw(st.sampled_from(["", ' r="1"', " r='2'", ' r="5"', ' r="x"', ' spans="1:3" r="3"']))
        rows.append(f"<{p}row{r}>{draw(SPACE)}{''.join(draw(st.lists(cell(p), max_size=6)))}</{p}row>")
    merges = "".join(f'<{p}mergeCell{draw(attribute("ref", draw(ATTR_TEXT) + ":" + draw(ATTR_TEXT)))}/>' for _ in range(draw(st.integers(0, 2))))
    ns = ' xmlns:x="urn:x"' if p else ""
    tail = draw(st.sampled_from(["", "\n", "\r\n  "]))
    return (f'{decl}<{p}worksheet xmlns="urn:main"{ns}>{draw(SPACE)}<{p}sheetData>{"".join(rows)}</{p}sheetData>'
            f"<{p}mergeCells>{merges}</{p}mergeCells></{p}worksheet>{tail}").encode()


CUTS = st.lists(st.integers(1, 3000), max_size=5)


@native
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets(), CUTS, st.sampled_from([(2_000_000, 20_000_000)] * 3 + [(12, 20_000_000), (2_000_000, 6)]))
def test_generated_sheets_read_the_same_as_with_expat(xml, cuts, rooms):
    """Every spelling generated here is one the own tokenizer takes itself (a CR
    only between elements), so each example compares values, never just RETRY."""
    assert agree(xml, cuts, rooms), "the own tokenizer left a plain sheet to expat"


# ------------------------------------------------------------------ the same sheets with bytes changed

PIECES = [b"<", b">", b"&", b";", b'"', b"'", b"=", b"/", b" ", b"\r", b"\r\n", b"\x00", b"\x01", b"\x0b", b"\x80", b"\xff", b"\xc0\xaf",
          b"\xed\xa0\x80", b"\xef\xbf\xbe", b"\xf4\x90\x80\x80", b"\xe4\xb8", b"]]>", b"<!-- c -->", b"<![CDATA[x]]>", b"<?pi x?>",
          b"&#0;", b"&#xFFFE;", b"&#x110000;", b"&#xD800;", b"&bogus;", b"&#;", b"&#x;", b"&#12345678901;", b"&amp", b"</c>", b"<c>",
          b"<c/>", b"</x:c>", b"\xe7\x94\xb2", b"<!DOCTYPE x>", b"a", b"1", b":", b"-", b"\t", b"\n", b"<v>", b"</v>", b"xml:space"]


@st.composite
def mutated(draw):
    xml = bytearray(draw(sheets()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(xml)))
        how = draw(st.sampled_from(["insert", "replace", "delete"]))
        piece = draw(st.sampled_from(PIECES))
        if how == "insert":
            xml[at:at] = piece
        elif how == "replace":
            xml[at:at + len(piece)] = piece
        else:
            del xml[at:at + draw(st.integers(1, 8))]
    return bytes(xml)


@native
@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), CUTS)
def test_changed_bytes_are_read_as_expat_reads_them_or_left_to_expat(xml, cuts):
    agree(xml, cuts)


# ------------------------------------------------------------------ what it leaves to expat, through guard

def _part(xml: bytes, limits: guard.Limits = guard.LIMITS, use: str = "native"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(buf) as z:
        budget = guard._Budget(Path("t.xlsx"), limits, guard.Scan("xlsx"))
        read = guard._Values(list(STRINGS), KINDS)
        info = z.getinfo("xl/worksheets/sheet1.xml")
        try:
            if use == "native":
                st_ = guard._sheet_part_native(z, info, budget, SST, 0, 0, 0, "表", read)
            else:
                st_ = guard._sheet_part_scanned(z, info, budget, SST, 0, 0, 0, "表", read, True)
        except guard.Refused as exc:
            return ("refused", exc.message), budget.scan.unpacked
    return (st_.rows, st_.cols, st_.present, st_.text_chars, st_.values, sorted(st_.uncached)), budget.scan.unpacked


SHEET = ('<worksheet xmlns="urn:main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>甲{}</t></is></c>'
         '<c r="B1"><v>1{}</v></c></row></sheetData></worksheet>')


@native
@pytest.mark.parametrize("a, b", [
    ("<!-- 注释 -->", ""),                      # a comment
    ("<![CDATA[<乙>]]>", ""),                  # CDATA
    ("<?pi data?>", ""),                       # a processing instruction
    ("\r\n乙", "\r\n"),                         # CR in kept text: expat makes it LF
    ("", "&#xD800;"),                           # not a character: expat names the error
    ("&nbsp;", ""),                             # an entity no DTD declares
])
def test_what_the_own_tokenizer_leaves_to_expat_reads_as_expat_reads_it(a, b):
    xml = SHEET.format(a, b).encode()
    assert scan(xml, False)[:2] == ("stopped", RETRY)
    got, unpacked = _part(xml)
    assert (got, unpacked) == _part(xml, use="expat")
    assert unpacked == len(xml)  # the part is counted once, though read twice


@native
def test_a_doctype_is_still_refused_and_a_utf16_part_still_read():
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'
    assert "DTD" in _part(dtd)[0][1]
    utf16 = "<worksheet><sheetData><row r='3'><c r='B3' t='str'><v>汉字</v></c></row></sheetData></worksheet>".encode("utf-16")
    got = _part(utf16)[0]
    assert got[4] == [[None, None], [None, None], [None, "汉字"]] and got == _part(utf16, use="expat")[0]


@native
def test_a_tag_longer_than_the_carry_is_left_to_expat_and_read():
    """A start tag over 1 MiB (a long sqref, or an attack) is not carried
    from chunk to chunk: expat reads the part."""
    long = "A1 " * 400_000
    xml = (f'<worksheet><sheetViews><sheetView><selection sqref="{long}"/></sheetView></sheetViews>'
           '<sheetData><row r="2"><c r="C2"><v>5</v></c></row></sheetData></worksheet>').encode()
    assert scan(xml, False, cuts=range(1 << 16, len(xml), 1 << 16))[:2] == ("stopped", RETRY)
    got, unpacked = _part(xml)
    assert got[4] == [[None, None, None], [None, None, 5.0]] and unpacked == len(xml)


@native
def test_deep_nesting_is_left_to_expat():
    xml = b"<worksheet>" + b"<a>" * 1500 + b"</a>" * 1500 + b"<sheetData><row><c><v>1</v></c></row></sheetData></worksheet>"
    assert scan(xml, False)[:2] == ("stopped", RETRY)
    assert _part(xml)[0][4] == [[1.0]]


@native
def test_a_budget_stops_the_own_tokenizer_where_it_stops_expat():
    xml = ('<worksheet><sheetData>' + "".join(f'<row r="{r}"><c r="C{r}"><v>{r}</v></c></row>' for r in range(1, 50))
           + "</sheetData></worksheet>").encode()
    limits = guard.Limits(cells=30)
    own = _part(xml, limits)
    assert own == _part(xml, limits, use="expat") and own[0][0] == "refused" and "C11" in own[0][1]


@native
def test_the_shipped_workbooks_are_read_by_the_own_tokenizer(tmp_path):
    """The example and the template (and so every workbook made from them) never
    need expat: the fast path is the path they take."""
    root = Path(__file__).resolve().parent.parent
    for name in ("examples/akto_2026.xlsx", "templates/budget_template.xlsx"):
        with zipfile.ZipFile(root / name) as z:
            for part in z.namelist():
                if part.startswith("xl/worksheets/") and part.endswith(".xml"):
                    assert agree(z.read(part)), (name, part)
        read_workbook(root / name)


# ------------------------------------------------------------------ shared strings: the C pass and the Python pass

SST_TEXTS = st.sampled_from(["", "甲", " 乙 ", "\n丙\t", "a&amp;b", "&#20013;", "_x000B_x", "_x0041__x00e9_", "  ", "x]]y"[:3], "😀",
                             "&lt;t&gt;", "line\nend"])


@st.composite
def shared_strings(draw):
    p = draw(st.sampled_from(["", "x:"]))
    items = []
    for _ in range(draw(st.integers(0, 6))):
        runs = []
        for _ in range(draw(st.integers(0, 3))):
            keep = ' xml:space="preserve"' if draw(st.booleans()) else ""
            t = f"<{p}t{keep}>{draw(SST_TEXTS)}</{p}t>"
            runs.append(draw(st.sampled_from([t, f"<{p}r><{p}rPr><{p}b/></{p}rPr>{t}</{p}r>", f"<{p}rPh sb=\"0\"><{p}t>ヨミ</{p}t></{p}rPh>"])))
        items.append(f"<{p}si>{draw(SPACE)}{''.join(runs)}{draw(SPACE)}</{p}si>")
    stray = draw(st.sampled_from(["", f"<{p}t>外</{p}t>", "\n"]))
    ns = ' xmlns:x="urn:x"' if p else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\r\n<{p}sst xmlns="urn:main"{ns} count="{len(items)}">{"".join(items)}{stray}'
            f"</{p}sst>").encode()


def _through(part: str, xml: bytes, limits: guard.Limits, run, out):
    """``run(zip, info, budget, out)`` on a package holding only ``part``: its
    result, what it filled into ``out`` and the bytes it counted, or the refusal."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(part, xml)
    with zipfile.ZipFile(buf) as z:
        budget = guard._Budget(Path("t.xlsx"), limits, guard.Scan("xlsx"))
        try:
            result = run(z, z.getinfo(part), budget, out)
        except guard.Refused as exc:
            return ("refused", exc.message)
    return result, out, budget.scan.unpacked


def _strings(xml: bytes, texts: bool, python: bool, limit: int = 1_000_000):
    run = guard._shared_string_lengths_python if python else guard._shared_string_lengths
    got = _through("xl/sharedStrings.xml", xml, guard.Limits(strings=limit), run, [] if texts else None)
    return got if got[0] == "refused" else (list(got[0]), *got[1:])


@native
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared_strings(), st.booleans(), st.sampled_from([1_000_000, 1_000_000, 2]))
def test_shared_strings_read_the_same_in_c_and_in_python(xml, texts, limit):
    assert _strings(xml, texts, False, limit) == _strings(xml, texts, True, limit)


@st.composite
def mutated_strings(draw):
    xml = bytearray(draw(shared_strings()))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(xml)))
        piece = draw(st.sampled_from(PIECES))
        if draw(st.booleans()):
            xml[at:at] = piece
        else:
            del xml[at:at + draw(st.integers(1, 8))]
    return bytes(xml)


@native
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_strings(), st.booleans())
def test_changed_shared_strings_read_or_are_refused_the_same_in_c_and_in_python(xml, texts):
    assert _strings(xml, texts, False) == _strings(xml, texts, True)


@native
def test_shared_strings_saved_by_libreoffice_are_read_by_the_own_tokenizer():
    """The strings as an office suite writes them (runs, phonetic guides,
    preserved spaces): the fast path reads them, and reads them as Python does."""
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<sst xmlns="urn:main" count="3" uniqueCount="3">'
           '<si><t xml:space="preserve"> 阿克陶县 </t></si><si><r><rPr><sz val="11"/></rPr><t>社会</t></r><r><t>保险_x000B_中心</t></r>'
           '<rPh sb="0" eb="1"><t>ア</t></rPh></si><si><t>\n 1462.90\n</t></si></sst>').encode()
    s = guard._native.Scanner(array("L"), 0, 0, [], b"", strings_limit=10)
    assert s.feed(xml, True) == 0 and s.finish() == 0
    got = _strings(xml, True, False)
    assert got == _strings(xml, True, True)
    assert got[:2] == ([6, 14, 10], [" 阿克陶县 ", "社会保险\x0b中心", "1462.90"])


# ------------------------------------------------------------------ styles: the C pass and the Python pass

@st.composite
def stylesheets(draw):
    p = draw(st.sampled_from(["", "x:"]))
    fmts = "".join(f'<{p}numFmt numFmtId="{draw(st.sampled_from(["164", "165", " 166", ""]))}" formatCode="{draw(st.sampled_from(["yyyy-mm-dd", "0.00", "[h]:mm", "&quot;年&quot;", ""]))}"/>'
                   for _ in range(draw(st.integers(0, 3))))
    xf = lambda: f'<{p}xf numFmtId="{draw(st.sampled_from(["0", "14", "164", "165", "46", "x"]))}" fontId="0"/>' if draw(st.booleans()) else f"<{p}xf/>"  # noqa: E731
    cell_xfs = "".join(xf() for _ in range(draw(st.integers(0, 5))))
    style_xfs = "".join(xf() for _ in range(draw(st.integers(0, 2))))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}styleSheet xmlns="urn:main"{" xmlns:x=" + chr(34) + "urn:x" + chr(34) if p else ""}>'
            f"<{p}numFmts>{fmts}</{p}numFmts><{p}fonts><{p}font/><{p}font><{p}b/></{p}font></{p}fonts><{p}cellStyleXfs>{style_xfs}</{p}cellStyleXfs>"
            f"<{p}cellXfs>{cell_xfs}</{p}cellXfs><{p}cellStyles><{p}cellStyle name=\"常规\"/></{p}cellStyles><{p}dxfs/></{p}styleSheet>").encode()


def _styles(xml: bytes, values: bool, python: bool, limit: int = 70_000):
    run = guard._count_styles_python if python else guard._count_styles
    return _through("xl/styles.xml", xml, guard.Limits(styles=limit), run, {} if values else None)


@native
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stylesheets(), st.booleans(), st.sampled_from([70_000, 70_000, 3]))
def test_styles_read_the_same_in_c_and_in_python(xml, values, limit):
    assert _styles(xml, values, False, limit) == _styles(xml, values, True, limit)


@native
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stylesheets(), st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(PIECES)), min_size=1, max_size=3))
def test_changed_styles_read_or_are_refused_the_same_in_c_and_in_python(xml, changes):
    data = bytearray(xml)
    for at, piece in changes:
        data[at:at] = piece
    assert _styles(bytes(data), True, False) == _styles(bytes(data), True, True)


@native
def test_the_shipped_styles_are_read_by_the_own_tokenizer():
    root = Path(__file__).resolve().parent.parent
    with zipfile.ZipFile(root / "examples/akto_2026.xlsx") as z:
        xml = z.read("xl/styles.xml")
    s = guard._native.Scanner(array("L"), 0, 0, [], b"", styles_limit=70_000)
    assert s.feed(xml, True) == 0 and s.finish() == 0
    n, cells, codes = s.formats()
    assert n > 10 and cells and (n, {"cells": cells, "codes": codes}, len(xml)) == _styles(xml, True, True)


@native
@pytest.mark.parametrize("use_expat", [False, True])
def test_feeding_after_the_final_feed_is_refused_in_both_modes(use_expat):
    """The own tokenizer took more data after the final feed (found by an
    attack run); both modes now refuse it, as they refuse feeding after finish."""
    s = guard._native.Scanner(SST, 2_000_000, 20_000_000, STRINGS, KINDS, use_expat)
    assert s.feed(b'<a><c t="str"><v>x</v></c></a>', True) == 0
    for more in (b"  ", b"", b"<b/>"):
        with pytest.raises(RuntimeError):
            s.feed(more, False)
    assert s.finish() == 0 and s.values()[0] == [["x"]]


@native
@pytest.mark.skipif(os.environ.get("BUDGETXL_BIG") != "1", reason="BUDGETXL_BIG=1: feeds 2 GiB at once (needs ~5 GiB of memory)")
def test_one_feed_of_more_than_2_gib_is_read_in_slices():
    """An attack run fed 2 GiB of text in one call: the text's length passed
    to the handlers as an int went negative (a read out of bounds). The own
    tokenizer now takes at most 1 GiB at a time, as expat is fed."""
    n = 2**31 + 16
    data = b"<a><t>" + b"x" * n + b"</t></a>"
    s = guard._native.Scanner(array("L"), 2_000_000, 1 << 40, expat=False)
    assert s.feed(data, True) == 0 and s.finish() == 0
    assert s.state()[4] == n  # every character counted once
