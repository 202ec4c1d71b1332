"""Number style of the 情况说明, as Jinja2 filters.

Amounts ``1,462.90``; shares and growth rates to two decimals with ``%``;
增加/减少 by sign; 持平 when unchanged; 新增 (never a growth rate) when last
year's figure is zero. All rounding is ROUND_HALF_UP at the last printed digit.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

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
    with localcontext() as ctx:  # a tiny last-year figure (0.000001) gives a huge rate, not a crash
        ctx.prec = 80
        return ((part or Decimal(0)) * HUNDRED / whole).quantize(CENT, rounding=ROUND_HALF_UP)


TODO = "【待填写：{}】"


def money_or(value: Decimal | None, label: str) -> str:
    """An amount, or the visible placeholder 【待填写：label】 when the input is blank."""
    return TODO.format(label) if value is None else money(value)


def count_or(value: Decimal | int | None, label: str) -> str:
    """A count (辆, 台, 个), or the placeholder when blank."""
    return TODO.format(label) if value is None else str(int(value))


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
    """1 → 一, 10 → 十, 11 → 十一, 21 → 二十一, 100 → 一百, 101 → 一百零一, 120 → 一百二十, 1005 → 一千零五."""
    if n < 0:
        return "负" + chinese_number(-n)
    if n < 10:
        return CHINESE_DIGITS[n]
    if n < 20:
        return "十" + (CHINESE_DIGITS[n - 10] if n > 10 else "")
    if n >= 10000:
        high, low = divmod(n, 10000)
        return chinese_number(high) + "万" + (("零" if low < 1000 else "") + _below_10000(low) if low else "")
    return _below_10000(n)


def _below_10000(n: int) -> str:
    out, zero = "", False
    for unit, size in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        digit, n = divmod(n, size)
        if digit:
            if zero and out:
                out += "零"
            out += CHINESE_DIGITS[digit] + unit
            zero = False
        else:
            zero = True
    return out


FILTERS = {
    "money": money,
    "share": share,
    "percent": percent,
    "change": change,
    "sentence": sentence,
    "cn": chinese_number,
    "money_or": money_or,
    "count_or": count_or,
}
