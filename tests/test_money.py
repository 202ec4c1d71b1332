import datetime as dt
from decimal import Decimal as D

import pytest

from budgetxl.money import NotAnAmount, as_text, fmt, from_float, parse_amount


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("—", None),
        ("-", None),
        (1462.9, D("1462.9")),
        (1381.5600000000002, D("1381.56")),  # binary noise from a spreadsheet formula
        (0.1 + 0.2, D("0.3")),
        (7, D("7")),
        (7.0, D("7")),
        ("1,462.90", D("1462.90")),
        ("１２３.４５", D("123.45")),  # full-width digits
        (" 12.3 ", D("12.3")),
        ("(12.30)", D("-12.30")),
        ("(-1)", D("-1")),  # a sign inside the parentheses: still negative, never +1
        ("（-2.23）", D("-2.23")),
        ("-5.00", D("-5.00")),
        ("9.00万元", D("9.00")),
        (D("1.10"), D("1.10")),
    ],
)
def test_amounts(raw, expected):
    assert parse_amount(raw) == expected
    if expected is not None:
        assert isinstance(parse_amount(raw), D)


@pytest.mark.parametrize("raw", ["12.3.4", "abc", "1,23,4", True, dt.date(2026, 1, 1), "#REF!", "#DIV/0!", float("nan"), 1e28, "9" * 30])
def test_not_amounts(raw):
    with pytest.raises(NotAnAmount) as exc:
        parse_amount(raw)
    assert exc.value.reason  # a Chinese reason for the user


def test_from_float_is_shortest_repr():
    assert from_float(1462.9) == D("1462.9")
    assert str(from_float(0.93)) == "0.93"


def test_formatting():
    assert fmt(D("1462.9")) == "1,462.90"
    assert fmt(D("0.005")) == "0.01"  # half up, documented
    assert as_text(D("9")) == "9.00"
    assert as_text(D("12.345")) == "12.345"
    assert as_text(None) is None
