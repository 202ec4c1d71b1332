"""The shortcuts on the read path give what the general rule gives: a whole
float amount, a code cell holding a number or plain digits (hypothesis, the
general rule written out here as the reference)."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from budgetxl.codes import _SEPARATORS, normalize_code
from budgetxl.money import from_float


def general_amount(value: float) -> Decimal:
    """money's rule: the float's shortest repr, noise below 6 places rounded off,
    a whole number without places, anything else normalised."""
    d = Decimal(repr(value))
    if d.as_tuple().exponent < -6:
        d = d.quantize(Decimal(1).scaleb(-6), rounding=ROUND_HALF_UP)
    return d.normalize() if d != d.to_integral_value() else d.quantize(Decimal(1))


def general_code(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return re.sub(_SEPARATORS, "", unicodedata.normalize("NFKC", str(raw)).strip())


AMOUNTS = st.one_of(
    st.integers(-(10**15) + 1, 10**15 - 1).map(float),
    st.floats(-1e15, 1e15, allow_nan=False),
    st.decimals(-(10**12), 10**12, places=2).map(float),
    st.sampled_from([0.0, -0.0, 1e-320, 2.5e-7, 0.1 + 0.2]),
)


@settings(max_examples=400, deadline=None)
@given(AMOUNTS)
def test_a_float_amount_reads_as_the_general_rule_reads_it(value):
    fast, general = from_float(value), general_amount(value)
    assert fast.as_tuple() == general.as_tuple(), (value, fast, general)


CODES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**12),
    st.integers(-(10**7), 10**9).map(float),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.sampled_from("0123456789 -_.·２０８²٣abc\t"), max_size=9),
)


@settings(max_examples=400, deadline=None)
@given(CODES)
def test_a_code_cell_reads_as_the_general_rule_reads_it(raw):
    assert normalize_code(raw) == general_code(raw)


NUMBERING = r"^(?:[一二三四五六七八九十]+[、.]|\(?[一二三四五六七八九十]+\)|\d+[.、)]|\(\d+\))"


def regex_bare_label(text: str) -> str:
    import re

    from budgetxl.textnorm import squash

    return re.sub(r"^其中[:]?", "", re.sub(NUMBERING, "", squash(text)))


LABELS = st.text(st.sampled_from("一二三十、.()（）：:其中12٣ 收入x"), max_size=10)


@settings(max_examples=600, deadline=None)
@given(LABELS)
def test_a_label_loses_its_numbering_as_the_pattern_says(text):
    from budgetxl.textnorm import bare_label

    assert bare_label(text) == regex_bare_label(text)


def test_the_numberings_of_the_reference_document():
    from budgetxl.textnorm import bare_label

    for label, bare in [("一、一般公共预算拨款", "一般公共预算拨款"), ("（一）工资福利支出", "工资福利支出"), ("其中：基本支出", "基本支出"),
                        ("1.社会保障和就业支出", "社会保障和就业支出"), ("(2)项目支出", "项目支出"), ("十二、其他", "其他"), ("一般", "一般")]:
        assert bare_label(label) == bare == regex_bare_label(label)


def pairwise_parent_map(rows) -> dict:
    """The rule as first written: every subtotal compared with every row."""
    subtotals = [r for r in rows if r.kind == "subtotal" and r.code]
    parents = {}
    for i, row in enumerate(rows):
        if not row.code:
            parents[i] = None
            continue
        best = None
        for s in subtotals:
            if s is row or not row.code.startswith(s.code):
                continue
            if len(s.code) == len(row.code) and not (row.project and row.kind == "detail"):
                continue
            if best is None or len(s.code) > len(best.code):
                best = s
        parents[i] = best
    return parents


ROWS = st.lists(st.tuples(st.sampled_from(["detail", "subtotal", "total"]),
                          st.sampled_from([None, "", "2", "20", "208", "20801", "2080101", "2080109", "20802", "210", "21011", "2101101", "2081"]),
                          st.sampled_from([None, "", "项目甲"])), max_size=30)


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_parents_are_found_by_prefix_as_by_comparing_every_pair(spec_rows):
    from budgetxl.model import Row, Table
    from budgetxl.rules.helpers import parent_map

    rows = tuple(Row(kind, "名称", {}, i + 5, code=code, project=project) for i, (kind, code, project) in enumerate(spec_rows))
    table = Table("T3", "表3", "表3", rows)
    got = parent_map(table)
    assert {i: id(r) if r else None for i, r in got.items()} == {i: id(r) if r else None for i, r in pairwise_parent_map(rows).items()}




@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=True), st.integers(-10**20, 10**20), st.booleans(), st.datetimes(), st.dates(), st.times(),
                 st.timedeltas()))
def test_what_is_not_text_squashes_to_ascii(value):
    """Header rows are scored on text cells only when no wanted header text is
    ASCII: numbers, dates, times and logical values squash to ASCII."""
    from budgetxl.textnorm import squash

    assert squash(value).isascii()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["X", "x", "×", "{", "}", "…", ".", "增加", "（减少）", "(减少)", "待", "填写", "补充", "甲", " ", "9"]), max_size=10).map("".join))
def test_a_text_with_a_placeholder_has_one_of_its_first_characters(text):
    """A04 searches only texts holding a character a placeholder begins with."""
    from budgetxl.rules.structure import PLACEHOLDER_STARTS, PLACEHOLDERS

    if PLACEHOLDERS.search(text):
        assert PLACEHOLDER_STARTS.search(text)


def test_every_placeholder_alternative_begins_with_one_of_the_first_characters():
    from budgetxl.rules.structure import PLACEHOLDER_STARTS, PLACEHOLDERS

    for example in ["XX", "××", "xx", "待填写", "待补充", "{单位}", "增加（减少）", "增加(减少)", "……", "......"]:
        assert PLACEHOLDERS.match(example) and PLACEHOLDER_STARTS.match(example), example
    assert PLACEHOLDERS.pattern.count("|") == 9  # a new alternative: add its first character above
