"""What every rule sees: the workbook as entered, the spec, the code lists,
and the rounding tolerance that follows from the figures' precision."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property

from ..codes import CodeList, codes_for
from ..model import Disclosure, Row, Table, Text
from ..records import dataclass
from ..spec import Spec, TableSpec

HALF = Decimal("0.5")


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class Comparison:
    """Outcome of comparing a stated figure with the figure it should equal."""

    difference: Decimal  # stated − expected
    envelope: Decimal  # rounding envelope; 0 means exact comparison

    @property
    def equal(self) -> bool:
        return self.difference == 0

    @property
    def within_rounding(self) -> bool:
        return self.difference != 0 and abs(self.difference) <= self.envelope


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class CheckContext:
    """What every rule reads: the workbook's model, the spec and the code lists."""

    disclosure: Disclosure
    spec: Spec
    functional: CodeList
    economic: CodeList

    @classmethod
    def build(cls, disclosure: Disclosure, spec: Spec, functional_csv=None, economic_csv=None) -> "CheckContext":
        return cls(disclosure, spec, codes_for(spec, "functional", functional_csv), codes_for(spec, "economic", economic_csv))

    @property
    def edited_text(self) -> Mapping[str, Text]:
        """The 情况说明 sheet as staff left it: paragraph id -> text and cell (parsed by the parser)."""
        return self.disclosure.narrative_text

    @cached_property
    def memo(self) -> dict:
        """Indexes the rules build once per check (a rule run per record would
        otherwise rescan the same table for every record)."""
        return {}

    @cached_property
    def comparables(self):
        """The items the narrative compares with last year (shared by the F rules)."""
        from ..comparables import comparables

        return comparables(self.disclosure, self.spec)

    @property
    def unit(self) -> str:
        return self.disclosure.unit or "万元"

    def table(self, key: str) -> Table:
        return self.disclosure.tables[key]

    def table_spec(self, key: str) -> TableSpec:
        return self.spec.table(key)

    def has(self, key: str) -> bool:
        t = self.disclosure.tables.get(key)
        return bool(t and t.rows)

    def codes(self, kind: str) -> CodeList:
        return self.functional if kind == "functional" else self.economic

    # ------------------------------------------------------------ rounding

    def envelope(self, terms: int, *figures: Decimal | None) -> Decimal:
        """Rounding envelope of a sum of ``terms`` rounded figures compared with
        a rounded total: half a unit of the last digit for each of the terms
        and for the total. Figures in 元 are compared exactly."""
        if self.unit == "元":
            return Decimal(0)
        places = max([2, *(_places(f) for f in figures if f is not None)])
        return HALF * Decimal(1).scaleb(-places) * (terms + 1)

    def compare(self, stated: Decimal | None, expected: Decimal | None, terms: int = 1) -> Comparison:
        s = stated or Decimal(0)
        e = expected or Decimal(0)
        return Comparison(s - e, self.envelope(terms, stated, expected))

    def money(self, value: Decimal | None) -> str:
        from ..money import fmt

        return f"{fmt(value or Decimal(0))} {self.unit}"


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def row_label(row: Row) -> str:
    """How a row is named in messages: '208 01 09 社会保险经办机构'."""
    if row.code:
        c = row.code
        spaced = " ".join([c[:3], *[c[i : i + 2] for i in range(3, len(c), 2)]])
        return f"{spaced} {row.name}" + (f"（{row.project}）" if row.project else "")
    return row.label or row.name
