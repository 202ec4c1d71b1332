"""The C worksheet pass (``budgetxl._sheetscan``) counts exactly what the
Python pass counts: extent, merged area, cells present, text as used, formulas
without a value, error values, and refuses at the same point with the same
message. Generated sheets (hypothesis) are run through both here; the
hostile-file corpus in test_guard.py."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgetxl import guard


native = pytest.mark.skipif(guard._native is None, reason="the C pass is not built")


def test_the_c_pass_is_built_on_linux():
    """setup.sh installs a compiler and expat's headers, so on Linux the fast
    pass must be there (elsewhere the install may fall back to Python)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("only required on Linux")
    assert guard._native is not None


# ------------------------------------------------------------------ generated sheets

REFS = st.one_of(
    st.builds(lambda c, r: f"{c}{r}", st.sampled_from(["A", "b", "Z", "AA", "xfd", "XFD", "ABCDE", "$A"]),
              st.sampled_from(["1", "2", "07", "10", "1048576", "0", "123456789", "1234567890", "$3"])),
    st.sampled_from(["", "A", "1", "A1B2", "Ａ1", "A１", "1A", "B", "C3 ", "c4"]),
)
SST_VALUES = st.sampled_from(["0", "1", "2", " 3 ", "+1", "-0", "-1", "99", "1_0", "１", "x", "", "4\n", "00001",
                              "0000000000001", "00000000000000000000004", "1e0", " "])
TEXT = st.sampled_from(["", "12.5", "  7 ", "#DIV/0!", "#N/A", "长的文字", "a&amp;b", "x" * 40, "\u30009"])
NAMES = st.sampled_from(["", "x:"])


@st.composite
def cells(draw):
    p = draw(NAMES)
    attrs = []
    if draw(st.booleans()):
        attrs.append(f'r="{draw(REFS)}"')
    t = draw(st.sampled_from([None, "s", "s", "s", "str", "str", "e", "n", "b", "inlineStr"]))
    if t:
        attrs.append(f't="{t}"')
    if draw(st.booleans()):
        attrs.append('s="3"')
    body = ""
    if draw(st.booleans()):
        body += f"<{p}f>SUM(A1)</{p}f>"
    kind = draw(st.sampled_from(["v", "v", "vv", "v2"] if t == "s" else ["none", "v", "is", "v2", "vv"]))
    if kind == "v":
        body += f"<{p}v>{draw(SST_VALUES) if t == 's' else draw(TEXT)}</{p}v>"
    elif kind == "v2":  # text after </v>
        body += f"<{p}v>{draw(SST_VALUES) if t == 's' else draw(TEXT)}</{p}v>{draw(SST_VALUES)}"
    elif kind == "vv":  # two values: the readers take the last
        body += "".join(f"<{p}v>{draw(SST_VALUES) if t == 's' else draw(TEXT)}</{p}v>" for _ in range(2))
    elif kind == "is":
        body += f"<{p}is><{p}r><{p}t>{draw(TEXT)}</{p}t></{p}r><{p}t>{draw(TEXT)}</{p}t></{p}is>"
    a = " ".join(attrs)
    return f"<{p}c {a}>{body}</{p}c>" if body else f"<{p}c {a}/>"


@st.composite
def sheets(draw):
    p = draw(NAMES)
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        r = draw(st.sampled_from([None, "1", "2", "5", "40", "1048576", "9999999999", "x", ""]))
        attr = f' r="{r}"' if r is not None else ""
        rows.append(f"<{p}row{attr}>{''.join(draw(st.lists(cells(), min_size=1, max_size=8)))}</{p}row>")
    merges = "".join(f'<{p}mergeCell ref="{draw(REFS)}:{draw(REFS)}"/>' for _ in range(draw(st.integers(0, 3))))
    if draw(st.booleans()):
        merges += f'<{p}mergeCell ref="{draw(REFS)}"/>'
    ns = ' xmlns:x="urn:x"' if p else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet xmlns="urn:main"{ns}><{p}sheetData>{"".join(rows)}'
            f"</{p}sheetData><{p}mergeCells>{merges}</{p}mergeCells></{p}worksheet>")


def _run(impl, xml: bytes, limits: guard.Limits, sst: array):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(buf) as z:
        budget = guard._Budget(Path("gen.xlsx"), limits, guard.Scan("xlsx"))
        try:
            s = impl(z, z.getinfo("xl/worksheets/sheet1.xml"), budget, sst, 0, 0, 0, "表")
        except guard.Refused as exc:
            return ("refused", exc.message)
    return (s.rows, s.cols, s.merged, s.present, s.text_chars, sorted(s.uncached), sorted(s.errors.items()))


SST = array("L", [5, 11, 17, 3, 2_000])


@native
@settings(max_examples=int(os.environ.get("BUDGETXL_GUARD_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets(), st.sampled_from([(2_000_000, 20_000_000, 400_000)] * 3 + [(30, 50, 400_000), (5, 2_000, 400_000), (2_000_000, 10, 400_000), (2_000_000, 20_000_000, 6)]))
def test_both_passes_agree_on_generated_sheets(xml, rooms):
    limits = guard.Limits(cells=rooms[0], text_chars=rooms[1], present=rooms[2])
    data = xml.encode()
    assert _run(guard._sheet_part_native, data, limits, SST) == _run(guard._sheet_part_python, data, limits, SST)


@native
@pytest.mark.parametrize("xml", [
    b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet/>',
    b"<worksheet><sheetData><row><c r='A1'><v>1</v></c></row>",  # truncated
    b"<worksheet><sheetData><row><c r='A1' r='B1'/></row></sheetData></worksheet>",  # duplicate attribute
    b"\xff\xfe<\x00w\x00/\x00>\x00",  # UTF-16 with a BOM: valid
    "<worksheet><sheetData><row r='3'><c r='B3' t='str'><v>汉字</v></c></row></sheetData></worksheet>".encode("utf-16"),
    b"<worksheet>&undefined;</worksheet>",
    b"",
])
def test_both_passes_agree_on_malformed_parts(xml):
    limits = guard.Limits()
    assert _run(guard._sheet_part_native, xml, limits, SST) == _run(guard._sheet_part_python, xml, limits, SST)


class _CountingParser:
    """Stands in for expat's parser object in ``guard._feed``: records the
    size of every chunk it is given, parses nothing (its position never moves,
    as when one token spans the whole part)."""

    CurrentByteIndex = 0

    def __init__(self):
        self.sizes: list[int] = []

    def Parse(self, data: bytes, final: bool) -> None:  # noqa: N802
        self.sizes.append(len(data))


def test_a_token_longer_than_a_chunk_is_read_in_growing_chunks():
    """expat re-scans an open token from its start at every chunk: one 40 MB
    attribute value took minutes in 64 KB chunks. While the parser makes no
    progress, _feed reads 4× more at once, so the work stays linear."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b'<worksheet><c r="A1" x="' + b"a" * 40_000_000 + b'"/></worksheet>')
    with zipfile.ZipFile(buf) as z:
        parser = _CountingParser()
        guard._feed(z, z.getinfo("xl/worksheets/sheet1.xml"), parser, guard._Budget(Path("x.xlsx"), guard.Limits(), guard.Scan("xlsx")))
    assert sum(parser.sizes) == 40_000_000 + 39
    assert len(parser.sizes) < 20, parser.sizes[:10]  # 611 chunks of 64 KB before
