"""Number style of the 情况说明, as Jinja2 filters.

Amounts ``1,462.90``; shares and growth rates to two decimals with ``%``;
增加/减少 by sign; 持平 when unchanged; 新增 (never a growth rate) when last
year's figure is zero. All rounding is ROUND_HALF_UP at the last printed digit.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..comparables import Comparable
from ..money import fmt

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def money(value: Decimal | None) -> str:
    return fmt(value if value is not None else Decimal(0))


def percent(value: Decimal) -> str:
    return f"{fmt(value)}%"


def ratio(part: Decimal | None, whole: Decimal | None) -> Decimal:
    if not whole:
        return Decimal(0)
    return ((part or Decimal(0)) * HUNDRED / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def share(part: Decimal | None, whole: Decimal | None) -> str:
    return percent(ratio(part, whole))


def shares(parts: list[Decimal | None]) -> list[str]:
    """Shares of parts that make up a whole, adding up to exactly 100.00%
    (largest-remainder rounding), so that a printed structure adds up."""
    values = [p or Decimal(0) for p in parts]
    total = sum(values, Decimal(0))
    if not total:
        return [percent(Decimal(0)) for _ in values]
    exact = [v * HUNDRED / total for v in values]
    floors = [e.quantize(CENT, rounding=ROUND_FLOOR) for e in exact]
    left = int((HUNDRED - sum(floors, Decimal(0))) / CENT)
    for i in sorted(range(len(values)), key=lambda i: exact[i] - floors[i], reverse=True)[:left]:
        floors[i] += CENT
    return [percent(f) for f in floors]


def _reason(item: Comparable, closed: bool) -> str:
    text = (item.reason.value if item.reason else "").strip()
    if text.startswith("主要原因是"):
        text = text[len("主要原因是"):]
    text = text.rstrip("。；;.，, ")
    if not text:
        return ""
    return f"，主要原因是{text}" + ("。" if closed else "")


def change(item: Comparable, lead: str = "比上年预算", with_reason: bool = True, closed: bool = True) -> str:
    """'比上年预算增加X万元，增长Y%，主要原因是……。' and its 减少/持平/新增 forms.

    With ``closed`` the reason ends the sentence with '。'; without, it can be
    followed by '；' in a list. Empty when last year's figure is unknown."""
    reason = _reason(item, closed) if with_reason else ""
    if item.prior is None or item.prior.value is None:
        return ""
    prior, current = item.prior.value, item.current or Decimal(0)
    diff = current - prior
    if diff == 0:
        flat = "与上年预算持平" if lead else "与上年持平"
        return f"{flat}{reason}"
    if prior == 0:
        return f"{lead}新增{money(diff)}万元（上年预算为零）{reason}"
    word, rate_word = ("增加", "增长") if diff > 0 else ("减少", "下降")
    return f"{lead}{word}{money(abs(diff))}万元，{rate_word}{percent(ratio(abs(diff), prior))}{reason}"


def sentence(text: str) -> str:
    """End a sentence with '。' unless it already ends with punctuation."""
    text = text.rstrip("，,；; ")
    return text if not text or text[-1] in "。！？：" else text + "。"


CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 21 → 二十一."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_DIGITS[tens]
    return f"{head}十{CHINESE_DIGITS[ones] if ones else ''}"


FILTERS = {
    "money": money,
    "share": share,
    "percent": percent,
    "change": change,
    "sentence": sentence,
    "cn": chinese_number,
}
