"""The published reference document's 12 tables, read straight from its text.

Independent of the example data file: this is what the example must reproduce.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

REFERENCE = Path(__file__).parent / "fixtures" / "reference_2026_akto.txt"
HEADER_LINES = {1: 2, 2: 2, 3: 2, 4: 2, 5: 3, 6: 2, 7: 2, 8: 3, 9: 3, 10: 2, 11: 2, 12: 3}
_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})*\.\d{2}$")


def _clean(cell: str) -> str:
    return re.sub(r"</?b>", "", cell).strip()


def reference_tables() -> dict[int, list[list[str]]]:
    """Table number -> data rows (header lines dropped), cells in sheet column order."""
    lines = REFERENCE.read_text(encoding="utf-8").split("\n")
    end_of_tables = next(i for i, l in enumerate(lines) if "第三部分" in l and i > 100)
    starts = [(int(m.group(1)), i) for i, l in enumerate(lines[:end_of_tables]) if (m := re.fullmatch(r"表 (\d+)", l.strip()))]
    tables = {}
    for k, (n, start) in enumerate(starts):
        stop = starts[k + 1][1] if k + 1 < len(starts) else end_of_tables
        tab = [l for l in lines[start:stop] if "\t" in l]
        header = tab[: HEADER_LINES[n]]
        tables[n] = [[_clean(c) for c in l.split("\t")] for l in tab[HEADER_LINES[n]:] if l not in header]
    return tables


def amount(cell: str) -> Decimal | None:
    return Decimal(cell.replace(",", "")) if _AMOUNT.match(cell) else None
