"""Column widths of a printed table from its content.

Widths are measured at the printed size: a Chinese character is one em, a
digit, comma or point about half an em. Amount and code columns never wrap
(they get the widest figure in the column); a header may wrap over up to four
lines; name columns get their longest name when the page allows it and share
what is left otherwise, so names wrap only where they must. An empty amount
column costs only what its header needs.
"""

from __future__ import annotations

import math
import unicodedata

HEADER_LINES = 4  # a header cell may wrap over this many lines
MIN_TEXT_EMS = 6  # a name column is never narrower than this
BOLD = 1.06  # bold digits are a little wider


def ems(text: str) -> float:
    """Width of ``text`` in ems (CJK and full-width characters 1, the rest ~0.55)."""
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            width += 1.0
        elif ch in ",.":
            width += 0.3
        else:
            width += 0.56
    return width


def _header_ems(text: str, lines: int = HEADER_LINES) -> float:
    """The narrowest width at which a header wraps over at most ``lines`` lines
    (Chinese text breaks between any two characters)."""
    if not text:
        return 0.0
    return max(2.0, math.ceil(len(text) / lines)) if ems(text) >= len(text) else ems(text)


def column_widths(
    header: tuple[tuple[str, ...], ...],
    rows: list[tuple[str, ...]],
    kinds: tuple[str, ...],
    bold_rows: list[bool],
    total_pt: float,
    size_pt: float,
    padding_pt: float,
) -> list[float]:
    """Widths in points that add up to ``total_pt``.

    ``kinds`` per column: "amount", "code" (never wrap) or "text" (may wrap).
    ``header`` uses the spec's notation ("<" merged left, "^" merged up); only
    cells that belong to one column constrain that column.
    """
    n = len(kinds)
    body = [0.0] * n
    for cells, bold in zip(rows, bold_rows):
        for c, text in enumerate(cells):
            if text:
                body[c] = max(body[c], ems(text) * (BOLD if bold else 1.0))
    head_min = [0.0] * n  # wrapped over HEADER_LINES
    head_two = [0.0] * n  # wrapped over two lines
    for r, hrow in enumerate(header):
        for c, text in enumerate(hrow):
            if text in ("<", "^") or not text:
                continue
            if c + 1 < n and hrow[c + 1] == "<":
                continue  # spans several columns
            head_min[c] = max(head_min[c], _header_ems(text))
            head_two[c] = max(head_two[c], _header_ems(text, 2))
    minimum, natural = [], []
    for c, kind in enumerate(kinds):
        if kind == "text":
            low = max(head_min[c], min(body[c], MIN_TEXT_EMS))
            high = max(low, body[c], head_two[c])
        else:
            low = max(head_min[c], body[c], 1.0)
            high = max(low, head_two[c])
        minimum.append(low * size_pt + padding_pt)
        natural.append(high * size_pt + padding_pt)
    if sum(natural) <= total_pt:
        # every name on one line: the space left goes to all columns alike
        spare = total_pt - sum(natural)
        weight = sum(natural)
        return [w + spare * w / weight for w in natural]
    if sum(minimum) >= total_pt:
        scale = total_pt / sum(minimum)
        return [w * scale for w in minimum]
    # amounts keep their width; names share what is left, up to their natural width
    widths = list(minimum)
    spare = total_pt - sum(minimum)
    for group in (("text",), ("amount", "code")):
        wants = {c: natural[c] - widths[c] for c in range(n) if kinds[c] in group and natural[c] > widths[c]}
        need = sum(wants.values())
        if not need:
            continue
        share = min(1.0, spare / need)
        for c, want in wants.items():
            widths[c] += want * share
        spare -= need * share
        if spare <= 1e-6:
            break
    if spare > 1e-6:
        weight = sum(widths)
        widths = [w + spare * w / weight for w in widths]
    return widths
