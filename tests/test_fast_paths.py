"""The shortcuts on the read path give what the general rule gives: a whole
float amount, a code cell holding a number or plain digits (hypothesis, the
general rule written out here as the reference)."""

from __future__ import annotations

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
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(raw)).strip())


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
