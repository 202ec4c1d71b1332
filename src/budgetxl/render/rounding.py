"""The figures as they will be printed: one rounding per figure.

A workbook kept in 万元 is printed as it is (blank computed cells filled in).
A workbook kept in 元 is published in 万元 with two decimals. Every figure is
rounded **once**, and every table and sentence that shows it prints that one
value; every printed subtotal is still the sum of its printed parts, across
and down, and across tables. The method:

1. **Leaves.** Only figures staff enter are rounded: the detail cells of the
   tables (not 小计/合计/总计, not 表1/表4 derived rows) and the money fields of
   the input sheets. Every other figure is recomputed from the printed leaves
   (``subtotals.compute``), so sums hold on the page by construction.
2. **Controlled rounding within a table.** Each leaf goes to the cent below or
   the cent above its exact 万元 value (never further), and each group of
   leaves the table prints as a sum — a column's 类, 款 and total, and a row's
   合计 — gets the cent below or above its exact sum. Choosing which leaves go
   up is a feasible-flow problem over the two nested families of groups
   (columns → 类 → 款 on one side, rows on the other); network flows have
   integral solutions, so it always has one.
3. **Shared totals across tables**, taken from the tables that print them
   first, as fixed targets of the later ones (the identities the C rules check):

   * 表5, 表8, 表9 (per fund: 一般公共预算, 政府性基金, 国有资本经营) are rounded first;
   * 表2 per 科目: 一般公共预算 + 上级一般转移支付 = 表5 合计, 政府性基金 + 上级基金转移支付
     = 表8 合计, 国有资本经营 = 表9 合计 (C01, C04, C08);
   * 表3 per 科目: the fiscal part of 基本/项目支出 is 表5 + 表8 + 表9 as printed, and the
     rest is shared out to equal 表2's non-fiscal columns, so 表3 合计 = 表2 总计 (C03)
     and 表5 never exceeds 表3 (C05);
   * 表6 total = 表5 基本支出 (C06); 表10 一般公共预算 = 表6's 三公 rows (C09);
     表7 per 项 = 表5 项目支出 (C07); 表12 财政拨款/非财政拨款 = 表2 结转 columns,
     表1 单位资金 and 结转 rows = 表2 columns (C01, C11);
   * 机关运行经费 = 表6 公用经费 (D01), 政府采购 total = its parts (D02), 绩效目标
     amounts = 表1 / 表7 (E01, E02), and a 上年预算数 equal to this year's figure
     prints this year's printed figure (so 持平 stays 持平).

   A target is taken only when the identity holds exactly in 元; a workbook
   that does not satisfy it is rounded on its own terms (and ``check`` reports
   the disagreement in 元).
4. Non-money numbers (years, counts, areas) are never converted.

Every leaf whose printed value differs from plain half-up rounding is listed
in the log (``Adjustment``), so the change is visible and explainable.
"""

from __future__ import annotations

from collections import defaultdict, deque
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Hashable, Iterable

from ..model import DETAIL, Amount, CellRef, Disclosure, Form, Row, Table, frozen_map
from ..records import dataclass, replace
from ..spec import Spec
from ..subtotals import compute, with_blanks_filled
from ..textnorm import squash

CENT = Decimal("0.01")
HUNDRED = Decimal(100)  # 元 per cent of 万元
TEN_THOUSAND = Decimal(10000)


@dataclass(frozen=True)
class Adjustment:
    ref: CellRef
    yuan: Decimal
    plain: Decimal  # half-up rounding on its own
    printed: Decimal  # what is printed so that the sums add up

    def __str__(self) -> str:
        return (
            f"{self.ref}: {self.yuan:,.2f} 元 → 印 {self.printed:,.2f} 万元"
            f"（单独四舍五入为 {self.plain:,.2f}，为使合计与各项之和一致调整 {self.printed - self.plain:+.2f}）"
        )


def to_wan(value: Decimal) -> Decimal:
    return (value / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


def largest_remainder(values: list[Decimal], target: Decimal) -> list[Decimal]:
    """Round ``values`` (exact, in 万元) to cents so that they add up to ``target``."""
    floors = [v.quantize(CENT, rounding=ROUND_FLOOR) for v in values]
    units = int(((target - sum(floors, Decimal(0))) / CENT).to_integral_value())
    order = sorted(range(len(values)), key=lambda i: (values[i] - floors[i], -i), reverse=True)
    for i in order[: max(0, min(units, len(values)))]:
        floors[i] += CENT
    return floors


# ------------------------------------------------------------------ the solver


def _floor(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=ROUND_FLOOR))


def _half_up(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=ROUND_HALF_UP))


class _Flow:
    """Dinic's max flow on a small graph (integer capacities)."""

    def __init__(self) -> None:
        self.graph: list[list[list]] = []

    def node(self) -> int:
        self.graph.append([])
        return len(self.graph) - 1

    def edge(self, u: int, v: int, cap: int) -> list:
        forward = [v, cap, None]
        backward = [u, 0, forward]
        forward[2] = backward
        self.graph[u].append(forward)
        self.graph[v].append(backward)
        return forward

    def max_flow(self, s: int, t: int) -> int:
        total = 0
        while True:
            level = [-1] * len(self.graph)
            level[s] = 0
            queue = deque([s])
            while queue:
                u = queue.popleft()
                for v, cap, _ in self.graph[u]:
                    if cap > 0 and level[v] < 0:
                        level[v] = level[u] + 1
                        queue.append(v)
            if level[t] < 0:
                return total
            it = [0] * len(self.graph)

            def push(u: int, f: int) -> int:
                if u == t:
                    return f
                edges = self.graph[u]
                while it[u] < len(edges):
                    e = edges[it[u]]
                    v, cap = e[0], e[1]
                    if cap > 0 and level[v] == level[u] + 1:
                        got = push(v, min(f, cap))
                        if got:
                            e[1] -= got
                            e[2][1] += got
                            return got
                    it[u] += 1
                return 0

            while True:
                f = push(s, 1 << 60)
                if not f:
                    break
                total += f


@dataclass
class Leaf:
    """One figure to round: exact value in cents of 万元 (元 / 100), and the groups it belongs to.

    ``up``: the nested groups on one side, outermost first (a column, its 类, its 款);
    ``down``: the nested groups on the other side, innermost first (a part of a row, the row)."""

    exact: Decimal
    up: tuple[Hashable, ...] = ()
    down: tuple[Hashable, ...] = ()
    fixed: int | None = None


def controlled(leaves: list[Leaf], targets: dict[Hashable, int] | None = None) -> list[int]:
    """Cents for each leaf: each the floor or ceiling of its exact value (or its fixed value),
    each group's sum the floor or ceiling of its exact sum, or its target where one is given.
    When the targets cannot be met within those bounds, the bounds of the other groups are
    widened step by step (a 类 may then print a cent or two off its own rounding, never a
    shared total); targets that cannot be met at all are dropped."""
    targets = dict(targets or {})
    result = None
    for slack in (0, 1, 2, 4, 8, 1 << 30):  # shared totals first: widen the other groups' bounds if need be
        result = _solve(leaves, targets, slack)
        if result is not None or not targets:
            break
    if result is None and targets:
        result = _solve(leaves, {})
    if result is None:  # cannot happen for two nested families, kept as a guard
        result = [leaf.fixed if leaf.fixed is not None else _half_up(leaf.exact) for leaf in leaves]
    return result


def _solve(leaves: list[Leaf], targets: dict[Hashable, int], slack: int = 0) -> list[int] | None:
    floors = [leaf.fixed if leaf.fixed is not None else _floor(leaf.exact) for leaf in leaves]
    fracs = [Decimal(0) if leaf.fixed is not None else leaf.exact - floors[i] for i, leaf in enumerate(leaves)]
    up_members: dict[Hashable, list[int]] = defaultdict(list)
    down_members: dict[Hashable, list[int]] = defaultdict(list)
    ROOT = ("__all__",)
    for i, leaf in enumerate(leaves):
        for g in (ROOT, *leaf.up):
            up_members[("u", g)].append(i)
        for g in leaf.down:
            down_members[("d", g)].append(i)

    def bounds(kind: str, key: Hashable, members: list[int]) -> tuple[int, int] | None:
        base = sum(floors[i] for i in members)
        frac = sum((fracs[i] for i in members), Decimal(0))
        if key in targets:
            need = targets[key] - base
            return (need, need) if 0 <= need <= sum(1 for i in members if fracs[i]) else None
        if key == ROOT and targets:  # with shared totals fixed, the grand total follows from them and the columns
            return 0, len(members)
        if kind == "d":  # parts of rows are shared with other tables: never widened
            return _floor(frac), -_floor(-frac)
        return max(0, _floor(frac) - slack), -_floor(-frac) + slack

    flow = _Flow()
    s, t = flow.node(), flow.node()
    nodes: dict[Hashable, int] = {}
    lower_edges: list[tuple[int, int, int, int]] = []  # u, v, lo, hi

    def node(key):
        if key not in nodes:
            nodes[key] = flow.node()
        return nodes[key]

    for key, members in up_members.items():
        b = bounds("u", key[1], members)
        if b is None:
            return None
        parent = s
        path = key[1]
        if path != ROOT:
            leaf = leaves[members[0]]
            pos = leaf.up.index(path)
            parent = node(("u", leaf.up[pos - 1])) if pos else node(("u", ROOT))
        lower_edges.append((parent, node(key), b[0], b[1]))
    for key, members in down_members.items():
        b = bounds("d", key[1], members)
        if b is None:
            return None
        leaf = leaves[members[0]]
        pos = leaf.down.index(key[1])
        child_to = node(("d", leaf.down[pos + 1])) if pos + 1 < len(leaf.down) else t
        lower_edges.append((node(key), child_to, b[0], b[1]))
    leaf_edges: list[int] = [0] * len(leaves)
    # leaves with the largest remainders first: the search takes them first, so a leaf goes
    # up where plain rounding would take it up, and the adjustments stay few
    for i in sorted(range(len(leaves)), key=lambda i: -fracs[i]):
        leaf = leaves[i]
        top = node(("u", leaf.up[-1])) if leaf.up else node(("u", ROOT))
        n = flow.node()
        lower_edges.append((top, n, 0, 1 if fracs[i] else 0))
        leaf_edges[i] = len(lower_edges) - 1
        bottom = node(("d", leaf.down[0])) if leaf.down else t
        lower_edges.append((n, bottom, 0, 1))
    # feasible flow with lower bounds: circulation with t -> s, super source/sink
    ss, tt = flow.node(), flow.node()
    excess = defaultdict(int)
    handles = []
    for u, v, lo, hi in lower_edges:
        if hi < lo:
            return None
        handles.append(flow.edge(u, v, hi - lo))
        excess[v] += lo
        excess[u] -= lo
    flow.edge(t, s, 1 << 40)
    need = 0
    for v, e in excess.items():
        if e > 0:
            flow.edge(ss, v, e)
            need += e
        elif e < 0:
            flow.edge(v, tt, -e)
    if flow.max_flow(ss, tt) != need:
        return None
    out = []
    for i, edge_index in enumerate(leaf_edges):
        u, v, lo, hi = lower_edges[edge_index]
        used = lo + (hi - lo - handles[edge_index][1])
        out.append(floors[i] + used)
    return out


# ------------------------------------------------------------------ tables


def _cents(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)) / HUNDRED


class _Rounder:
    """Rounds the leaves of one 元 workbook, table by table, sharing totals (see the module doc)."""

    def __init__(self, d: Disclosure, spec: Spec):
        self.d, self.spec = d, spec
        self.printed: dict[tuple[str, int, str], int] = {}  # (table, row index, column) -> cents
        self.log: list[Adjustment] = []

    # -------------------------------------------------------------- helpers
    def table(self, key: str) -> Table | None:
        t = self.d.tables.get(key)
        return t if t is not None and t.rows else None

    def inputs(self, key: str) -> tuple[str, ...]:
        t = self.spec.table(key)
        targets = {rs.target for rs in (*t.row_sums, *t.right_row_sums)}
        return tuple(k for k in t.amount_keys() if k not in targets)

    def details(self, key: str) -> list[tuple[int, Row]]:
        t = self.table(key)
        return [(i, r) for i, r in enumerate(t.rows) if r.kind == DETAIL] if t else []

    def exact_sum(self, key: str, columns: Iterable[str], code: str | None = None) -> Decimal:
        columns = tuple(columns)
        return sum((r.amount(c) for _, r in self.details(key) if code is None or (r.code or "").startswith(code) for c in columns), Decimal(0))

    def printed_sum(self, key: str, columns: Iterable[str], code: str | None = None) -> int:
        columns = tuple(columns)
        return sum(self.printed.get((key, i, c), 0) for i, r in self.details(key) if code is None or (r.code or "").startswith(code) for c in columns)

    def solve(self, key: str, leaves: list[tuple[int, str, Leaf]], targets: dict) -> None:
        cents = controlled([leaf for _, _, leaf in leaves], targets)
        for (i, column, leaf), c in zip(leaves, cents):
            self.printed[(key, i, column)] = c

    def classified_leaves(self, key: str, columns: tuple[str, ...], down=lambda i, r, c: (("row", i),), exact=None) -> list[tuple[int, str, Leaf]]:
        levels = self.spec.table(key).code_levels[:-1]
        leaves = []
        for i, r in self.details(key):
            for c in columns:
                if c not in r.values or r.values[c].value is None:
                    continue
                value = exact(i, r, c) if exact else _cents(r.amount(c))
                code = r.code or ""
                up = (("col", c), *[("code", c, code[:n]) for n in levels if len(code) > n])
                leaves.append((i, c, Leaf(value, up, down(i, r, c))))
        return leaves

    # -------------------------------------------------------------- the order of the module doc
    def run(self) -> None:
        for key in ("T5", "T8", "T9"):
            if self.table(key):
                self.solve(key, self.classified_leaves(key, self.inputs(key)), {})
        self.t2()
        self.t3()
        self.t6()
        self.t10()
        self.t7()
        for key in ("T11",):
            if self.table(key):
                self.solve(key, self.classified_leaves(key, self.inputs(key)), {})
        self.t12()

    def _code_total(self, key: str, code: str, columns: tuple[str, ...]) -> tuple[Decimal, int] | None:
        """(exact, printed) of a table's detail row with this code, over columns."""
        for i, r in self.details(key):
            if r.code == code and r.project is None:
                return sum((r.amount(c) for c in columns), Decimal(0)), sum(self.printed.get((key, i, c), 0) for c in columns)
        return None

    FUND_GROUPS = (
        ("T5", ("一般公共预算", "上级一般公共预算安排的转移支付")),
        ("T8", ("政府性基金预算", "上级政府性基金安排的转移支付")),
        ("T9", ("国有资本经营预算",)),
    )

    SHARED_T2 = ("财政专户（教育收费）", "单位资金", "财政拨款结转", "非财政拨款结转结余")

    def t2(self) -> None:
        if not self.table("T2"):
            return
        group_of = {c: n for n, (_, cols) in enumerate(self.FUND_GROUPS) for c in cols}

        def down(i, r, c):
            return (("part", i, group_of.get(c, "other")),)  # the row's 总计 is the sum of its parts

        leaves = self.classified_leaves("T2", self.inputs("T2"), down)
        # columns 表1 and 表12 print as totals too: their totals are decided first (half-up)
        targets = {("col", c): _half_up(self.exact_sum("T2", (c,)) / HUNDRED) for c in self.SHARED_T2}
        for i, r in self.details("T2"):
            for n, (source, cols) in enumerate(self.FUND_GROUPS):
                if not self.table(source):
                    continue
                exact = sum((r.amount(c) for c in cols), Decimal(0))
                found = self._code_total(source, r.code or "", self.inputs(source))
                if found and found[0] == exact:
                    targets[("part", i, n)] = found[1]
                elif found is None and exact == 0:
                    targets[("part", i, n)] = 0
        self.solve("T2", leaves, targets)

    def t3(self) -> None:
        """表3 = the fiscal part (表5 + 表8 + 表9 as printed) + the rest, shared out to equal 表2's non-fiscal columns."""
        if not self.table("T3"):
            return
        fiscal_cols = {"基本支出": {"T5": ("基本支出",), "T8": ("人员经费", "公用经费"), "T9": ("人员经费", "公用经费")},
                       "项目支出": {"T5": ("项目支出",), "T8": ("项目支出",), "T9": ("项目支出",)}}
        fixed_part: dict[tuple[int, str], tuple[Decimal, int]] = {}
        for i, r in self.details("T3"):
            for column, sources in fiscal_cols.items():
                exact, printed = Decimal(0), 0
                for source, cols in sources.items():
                    found = self._code_total(source, r.code or "", cols) if self.table(source) else None
                    if found:
                        exact += found[0]
                        printed += found[1]
                fixed_part[(i, column)] = (exact, printed)
        consistent = all(r.amount(c) >= fixed_part[(i, c)][0] for i, r in self.details("T3") for c in fiscal_cols)
        if not consistent:
            self.solve("T3", self.classified_leaves("T3", self.inputs("T3")), {})
            return

        def rest(i, r, c):
            return _cents(r.amount(c) - fixed_part[(i, c)][0])

        leaves = self.classified_leaves("T3", self.inputs("T3"), exact=rest)
        targets = {}
        t2_codes = {r.code: (i, r) for i, r in self.details("T2")}
        other_cols = ("财政专户（教育收费）", "单位资金", "财政拨款结转", "非财政拨款结转结余")
        for i, r in self.details("T3"):
            if r.code in t2_codes:
                j, r2 = t2_codes[r.code]
                exact_rest = sum((r.amount(c) - fixed_part[(i, c)][0] for c in fiscal_cols), Decimal(0))
                if exact_rest == sum((r2.amount(c) for c in other_cols), Decimal(0)):
                    targets[("row", i)] = sum(self.printed.get(("T2", j, c), 0) for c in other_cols)
        cents = controlled([leaf for *_, leaf in leaves], targets)
        for (i, column, leaf), c in zip(leaves, cents):
            self.printed[("T3", i, column)] = c + fixed_part[(i, column)][1]

    def t6(self) -> None:
        if not self.table("T6"):
            return
        leaves = self.classified_leaves("T6", self.inputs("T6"))
        targets = {}
        if self.table("T5") and self.exact_sum("T6", self.inputs("T6")) == self.exact_sum("T5", ("基本支出",)):
            targets[("__all__",)] = self.printed_sum("T5", ("基本支出",))
        self.solve("T6", leaves, targets)

    def t10(self) -> None:
        t10 = self.table("T10")
        if not t10:
            return
        t6 = {r.code: i for i, r in self.details("T6")}
        spec = self.spec.table("T10")
        leaves = []
        for i, r in enumerate(t10.rows):
            row_spec = next((x for x in spec.fixed_rows if x.key == r.key), None)
            if row_spec is None or row_spec.sum:  # 小计 rows are computed
                continue
            for c in self.inputs("T10"):
                if c not in r.values or r.values[c].value is None:
                    continue
                leaf = Leaf(_cents(r.amount(c)), (("col", c),), (("row", i),))
                j = t6.get(row_spec.economic or "")
                if c == "一般公共预算" and j is not None and self.d.tables["T6"].rows[j].amount("合计") == r.amount(c):
                    leaf.fixed = self.printed.get(("T6", j, "公用经费"), 0) + self.printed.get(("T6", j, "人员经费"), 0)
                leaves.append((i, c, leaf))
        self.solve("T10", leaves, {})

    def t7(self) -> None:
        if not self.table("T7"):
            return

        def down(i, r, c):
            return (("project", i), ("item", r.code or ""))

        leaves = self.classified_leaves("T7", self.inputs("T7"), down)
        targets = {}
        if self.table("T5"):
            for code in {r.code for _, r in self.details("T7") if r.code}:
                found = self._code_total("T5", code, ("项目支出",))
                if found and found[0] == self.exact_sum("T7", self.inputs("T7"), code) and all(r.code == code for _, r in self.details("T7") if (r.code or "").startswith(code)):
                    targets[("item", code)] = found[1]
        self.solve("T7", leaves, targets)

    def t12(self) -> None:
        if not self.table("T12"):
            return
        sides = {"财政拨款": "财政拨款结转", "非财政拨款": "非财政拨款结转结余"}

        def down(i, r, c):
            return (("side", i, c.split("/")[0]), ("row", i))

        leaves = []
        for i, r in self.details("T12"):
            for c in self.inputs("T12"):
                if c in r.values and r.values[c].value is not None:
                    side = c.split("/")[0]
                    leaves.append((i, c, Leaf(_cents(r.amount(c)), (("side", side), ("col", c)), down(i, r, c))))
        targets = {}
        if self.table("T2"):
            for side, t2_col in sides.items():
                cols = [c for c in self.inputs("T12") if c.startswith(side + "/")]
                if self.exact_sum("T12", cols) == self.exact_sum("T2", (t2_col,)):
                    targets[("side", side)] = self.printed_sum("T2", (t2_col,))
        self.solve("T12", leaves, targets)

    # -------------------------------------------------------------- 表1 inputs
    T1_PARTS = {"单位资金": "单位资金", "财政拨款结转": "财政拨款结转", "非财政拨款结转结余": "非财政拨款结转结余"}

    def t1(self) -> dict[tuple[int, str], int]:
        """表1 leaves (单位资金 and 结转 parts, 上级国有资本 transfer): their groups equal 表2's columns."""
        t1 = self.table("T1")
        if not t1:
            return {}
        spec = self.spec.table("T1")
        leaves, targets = [], {}
        parent_of = {k: row.key for row in spec.fixed_rows for k in row.sum}
        for i, r in enumerate(t1.rows):
            if r.side != "收入" or not r.key or r.kind != DETAIL:
                continue
            row_spec = spec.fixed_row(r.key)
            if row_spec.sum or row_spec.derive is not None or r.values.get("预算数") is None or r.values["预算数"].value is None:
                continue
            group, chain = r.key, []
            while group in parent_of:
                group = parent_of[group]
                chain.append(group)
            leaves.append(((i, "预算数"), Leaf(_cents(r.amount("预算数")), tuple(reversed(chain)))))
        for key, column in self.T1_PARTS.items():
            members = [leaf for _, leaf in leaves if key in leaf.up]
            if members and self.table("T2") and sum((m.exact for m in members), Decimal(0)) * HUNDRED == self.exact_sum("T2", (column,)):
                targets[key] = self.printed_sum("T2", (column,))
        cents = controlled([leaf for _, leaf in leaves], targets)
        return {where: c for (where, _), c in zip(leaves, cents)}

    # -------------------------------------------------------------- the rounded model
    def tables(self) -> dict[str, Table]:
        t1 = self.t1()
        out = {}
        for t in self.spec.tables:
            table = self.d.tables.get(t.key)
            if table is None:
                continue
            new_rows = []
            for i, r in enumerate(table.rows):
                values = {}
                for k, a in r.values.items():
                    cents = self.printed.get((t.key, i, k))
                    if cents is None and t.key == "T1":
                        cents = t1.get((i, k))
                    if cents is not None and a.value is not None:
                        printed = Decimal(cents) * CENT
                        values[k] = Amount(printed, a.ref)
                        plain = to_wan(a.value)
                        if printed != plain:
                            self.log.append(Adjustment(a.ref, a.value, plain, printed))
                    elif r.kind == DETAIL and a.value is not None and t.layout not in ("two_sided", "fixed"):
                        values[k] = Amount(to_wan(a.value), a.ref)
                    elif t.layout == "fixed" and r.kind == DETAIL and a.value is not None and (t.key, i, k) not in self.printed and not t.fixed_row(r.key).sum and k in self.inputs(t.key):
                        values[k] = Amount(to_wan(a.value), a.ref)
                    else:
                        values[k] = Amount(None, a.ref)  # computed from the rounded leaves
                new_rows.append(replace(r, values=frozen_map(values)))
            out[t.key] = replace(table, rows=tuple(new_rows))
        return out


def _money_keys(spec: Spec, input_key: str) -> set[str]:
    inp = next((i for i in spec.inputs if i.key == input_key), None)
    return {f.key for f in inp.fields if f.type == "amount"} if inp else set()


def _form(form: Form, keys: set[str], printed: dict[str, Decimal]) -> Form:
    """Money fields only (years, counts and areas are not money)."""
    amounts = {}
    for k, a in form.amounts.items():
        if k in keys and a.value is not None:
            amounts[k] = Amount(printed.get(k, to_wan(a.value)), a.ref)
        else:
            amounts[k] = a
    return replace(form, amounts=frozen_map(amounts))


def _other(source: Disclosure, model: Disclosure) -> dict[str, Decimal]:
    other = source.forms.get("other")
    if other is None:
        return {}
    a = {k: v.value for k, v in other.amounts.items()}
    printed: dict[str, Decimal] = {}
    t6 = model.tables.get("T6")
    src6 = source.tables.get("T6")
    if a.get("机关运行经费") is not None and t6 is not None and src6 is not None and src6.total_row() is not None:
        exact_public = sum((r.amount("公用经费") for r in src6.rows if r.kind == DETAIL), Decimal(0))
        if a["机关运行经费"] == exact_public:
            printed["机关运行经费"] = sum((r.amount("公用经费") for r in t6.rows if r.kind == DETAIL), Decimal(0))
    parts = ("政府采购货物预算", "政府采购工程预算", "政府采购服务预算")
    leaves = [Leaf(_cents(a.get(k))) for k in parts]
    cents = controlled(leaves)
    for k, c in zip(parts, cents):
        if a.get(k) is not None:
            printed[k] = Decimal(c) * CENT
    if a.get("政府采购预算总额") is not None and a["政府采购预算总额"] == sum((a.get(k) or Decimal(0) for k in parts), Decimal(0)):
        printed["政府采购预算总额"] = sum((printed.get(k, Decimal(0)) for k in parts), Decimal(0))
    limit = printed.get("政府采购预算总额")
    for key in ("面向中小企业预留政府采购预算", "其中：小微企业预留政府采购预算"):
        if a.get(key) is None:
            continue
        value = to_wan(a[key])
        if limit is not None and value > limit:
            value = limit
        printed[key] = value
        limit = value
    return printed


def _priors(source: Disclosure, model: Disclosure, spec: Spec) -> dict[int, Decimal]:
    """上年预算数 equal to this year's figure prints this year's printed figure; zero stays zero."""
    from ..comparables import _key, comparables

    exact = {_key(i.category, i.code, i.name): i.current for i in comparables(source, spec)}
    printed = {_key(i.category, i.code, i.name): i.current for i in comparables(model, spec)}
    out = {}
    for n, r in enumerate(source.lists.get("priors", ())):
        value = r.amount("上年预算数")
        if value is None:
            continue
        k = _key(r.text("类别"), r.text("编码"), r.text("名称"))
        if value == (exact.get(k) or Decimal(0)) and k in printed:
            out[n] = printed[k] or Decimal(0)
        else:
            out[n] = to_wan(value)
    return out


def _targets(source: Disclosure, model: Disclosure) -> dict[int, dict[str, Decimal]]:
    """绩效目标 amounts: 部门整体 = 表1, 项目 = its 表7 project, parts still adding up."""
    out: dict[int, dict[str, Decimal]] = {}
    t1, src1 = model.tables.get("T1"), source.tables.get("T1")
    t7, src7 = model.tables.get("T7"), source.tables.get("T7")
    projects = {}
    if t7 is not None and src7 is not None:
        for old, new in zip(src7.rows, t7.rows):
            if old.kind == DETAIL and old.project:
                projects[squash(old.project)] = (old.amount("项目支出合计"), new.amount("项目支出合计"))
    uppers = ("上级一般公共预算安排转移支付", "上级政府性基金安排转移支付", "上级国有资本经营预算安排转移支付")

    def t1_value(table, key, side="收入"):
        if table is None:
            return Decimal(0)
        row = table.by_key(key, side) if key else table.total_row(side)
        return row.amount("预算数") if row else Decimal(0)

    for n, r in enumerate(source.lists.get("targets", ())):
        a = {k: v.value for k, v in r.amounts.items()}
        printed = {k: to_wan(v) for k, v in a.items() if v is not None}
        anchors: dict[str, tuple[Decimal, Decimal]] = {}
        if r.text("类型") == "部门整体":
            anchors["年度预算总额"] = (t1_value(src1, None), t1_value(t1, None))
            anchors["上级安排"] = (sum((t1_value(src1, k) for k in uppers), Decimal(0)), sum((t1_value(t1, k) for k in uppers), Decimal(0)))
        else:
            found = projects.get(squash(r.text("表7项目名称") or r.text("目标表名称")))
            if found:
                anchors["年度预算总额"] = found
        for k, (exact, value) in anchors.items():
            if a.get(k) is not None and a[k] == exact:
                printed[k] = value
        # parts of a whole: 财政拨款 + 其他资金 = 年度预算总额, 本级安排 + 上级安排 = 财政拨款
        if a.get("年度预算总额") is not None and a.get("财政拨款") is not None:
            if a["财政拨款"] == a["年度预算总额"]:
                printed["财政拨款"] = printed["年度预算总额"]
            if a.get("其他资金") is not None and a["财政拨款"] + a["其他资金"] == a["年度预算总额"]:
                printed["其他资金"] = printed["年度预算总额"] - printed["财政拨款"]
        if a.get("财政拨款") is not None and a.get("本级安排") is not None and a["本级安排"] + (a.get("上级安排") or 0) == a["财政拨款"]:
            printed["本级安排"] = printed["财政拨款"] - printed.get("上级安排", Decimal(0))
        out[n] = printed
    return out


def printable(disclosure: Disclosure, spec: Spec) -> tuple[Disclosure, list[Adjustment]]:
    """The model to print, in 万元, and the rounding adjustments made."""
    if disclosure.unit != "元":
        return with_blanks_filled(disclosure, spec), []
    rounder = _Rounder(disclosure, spec)
    rounder.run()
    tables = rounder.tables()
    rounded = compute(replace(disclosure, unit="万元", tables=frozen_map(tables)), spec).disclosure
    forms = {}
    for key, form in disclosure.forms.items():
        printed = _other(disclosure, rounded) if key == "other" else {}
        forms[key] = _form(form, _money_keys(spec, key), printed)
    rounded = replace(rounded, forms=frozen_map(forms))
    priors = _priors(disclosure, rounded, spec)
    targets = _targets(disclosure, rounded)
    lists = {}
    for key, records in disclosure.lists.items():
        money = _money_keys(spec, key)
        new = []
        for n, r in enumerate(records):
            fixed = {"上年预算数": priors[n]} if key == "priors" and n in priors else targets.get(n, {}) if key == "targets" else {}
            new.append(replace(r, amounts=frozen_map({
                k: Amount(fixed.get(k, to_wan(a.value)), a.ref) if a.value is not None and k in money else a for k, a in r.amounts.items()
            })))
        lists[key] = tuple(new)
    model = replace(rounded, forms=frozen_map(forms), lists=frozen_map(lists))
    return model, rounder.log
