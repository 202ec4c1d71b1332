"""Exact money: every amount is a ``Decimal`` from the cell to the page.

Reading rules (documented in the README, "金额与舍入"):

* A numeric cell arrives from the readers as ``int`` or binary ``float``. A
  float is converted through its shortest round-trip text (``repr``), so 1462.9
  becomes ``Decimal("1462.9")`` and never ``1462.900000000000090949…``. Floats
  that carry binary noise from a spreadsheet formula (``1381.5600000000002``)
  are rounded half-up to ``NOISE_PLACES`` decimals — far below a 分 and far
  above the noise.
* Text is accepted when it is a number written the way people write money:
  thousands separators (``1,462.90``), full-width digits (``１２３``), spaces
  around it, accounting negatives ``(12.30)`` (``(-12.30)`` is negative
  too, never positive), a trailing 元/万元. A dash
  (``—``, ``-``, ``－``) alone means "nothing" and reads as blank.
* Anything else (``12.3.4``, ``TRUE``, a date) is not an amount: the parser
  turns it into a finding that names the cell.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

ZERO = Decimal("0")
# No budget figure comes near 10^15 (in 万元 that is 10^19 元); larger cells are
# typing accidents or hostile input, and beyond Decimal's 28 significant digits.
MAX_AMOUNT = Decimal(10) ** 15
CENT = Decimal("0.01")
NOISE_PLACES = 6
_NOISE_QUANTUM = Decimal(1).scaleb(-NOISE_PLACES)

_DASHES = {"-", "—", "－", "–", "——", "/", "／"}
_NUMBER = r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$"  # compiled on first use (re caches it): only amounts typed as text need it


class NotAnAmount(ValueError):
    """The cell holds something that is not a money amount."""

    def __init__(self, raw: object, reason: str):
        super().__init__(reason)
        self.raw = raw
        self.reason = reason


def from_float(value: float) -> Decimal:
    """A cell's float as the amount it shows: its shortest repr, noise below
    6 places rounded off (half up), a whole number without places, anything
    else normalised. Two shortcuts give the same (tests/test_fast_paths.py)."""
    if value.is_integer() and value:  # a whole amount (not -0.0: it keeps its sign below)
        return Decimal(int(value))
    text = repr(value)
    point = text.find(".")
    if point > 0 and "e" not in text and len(text) - point - 1 <= NOISE_PLACES and value:
        return Decimal(text)  # 1462.9: no noise to round, no trailing zero to normalise
    d = Decimal(text)
    if d.as_tuple().exponent < -NOISE_PLACES:  # type: ignore[operator]
        d = d.quantize(_NOISE_QUANTUM, rounding=ROUND_HALF_UP)
    return d.normalize() if d != d.to_integral_value() else d.quantize(Decimal(1))


def parse_amount(raw: object) -> Decimal | None:
    """Turn a raw cell value into an amount; ``None`` for a blank cell.

    Raises :class:`NotAnAmount` with a Chinese reason for anything else.
    """
    value = _parse(raw)
    if value is not None and abs(value) >= MAX_AMOUNT:
        raise NotAnAmount(raw, "金额大得不合理（超过 10 的 15 次方），可能是误输入")
    return value


def _parse(raw: object) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise NotAnAmount(raw, "单元格是逻辑值（TRUE/FALSE），不是金额")
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            raise NotAnAmount(raw, "单元格不是有效数字")
        if abs(raw) >= 1e15:
            raise NotAnAmount(raw, "金额大得不合理（超过 10 的 15 次方），可能是误输入")
        return from_float(raw)
    if isinstance(raw, (_dt.date, _dt.datetime, _dt.time, _dt.timedelta)):
        raise NotAnAmount(raw, "单元格是日期或时间，不是金额")
    if isinstance(raw, str):
        return _parse_text(raw)
    raise NotAnAmount(raw, f"无法识别的单元格内容（{type(raw).__name__}）")


def _parse_text(raw: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    if text == "":
        return None
    if text in _DASHES:
        return None
    if text.startswith("#"):
        raise NotAnAmount(raw, f"单元格是公式错误值 {text}")
    for suffix in ("万元", "元"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
        if text.startswith("-"):  # (-12.30): negative either way, never positive
            negative = False
    text = text.replace(" ", "")
    if not re.match(_NUMBER, text):
        raise NotAnAmount(raw, f"“{raw.strip()[:30]}”不是数字")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex guards this
        raise NotAnAmount(raw, f"“{raw}”不是数字") from exc
    return -value if negative else value


def plain(value: Decimal | None) -> str | None:
    """Decimal as a plain string without exponent (for JSON)."""
    if value is None:
        return None
    return format(value, "f")


def fmt(value: Decimal | None, places: int = 2) -> str:
    """``1,462.90`` — the number style of the published tables."""
    if value is None:
        return ""
    with localcontext() as ctx:
        ctx.prec = 60  # sums of many large figures stay exact when printed
        q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return f"{q:,.{places}f}"


def places_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def total(values) -> Decimal:
    """Sum of amounts, blanks counting as zero."""
    result = ZERO
    for v in values:
        if v is not None:
            result += v
    return result


def as_text(value: Decimal | None) -> str | None:
    """Amount as a decimal string with at least two places: '1462.90', '9.00'.

    Never loses digits: 12.345 stays '12.345'."""
    if value is None:
        return None
    if places_of(value) < 2:
        value = value.quantize(CENT)
    return format(value, "f")
