"""Generated departments in the 2026 新疆 format: valid by construction, seeded, reproducible.

``department(seed)`` draws one department: 行政/参公/事业 units; every income
source (一般公共预算, 上级转移支付, 政府性基金, 国有资本经营, 财政专户, 单位资金,
结转结余) on some seeds; non-zero 三公 including 因公出国 and 公务用车购置; 0 to 120
projects; from 5 classification rows per table up to all the bundled code list
has (about 100 rows in 表2/表3/表5) and about 150 rows in 表7; prior-year figures that rise,
fall, stay equal, start from zero and drop to zero. Every figure is made in 分
(integers) and every identity the checks know holds exactly in 元; a "round"
department has figures in whole 100 元, so its 万元 version is exact too.

``Department.data(unit)`` is a ``budgetxl fill`` data file (the format of
examples/akto_2026.toml) in 元 or 万元; ``Department.grid(unit)`` is the filled
workbook as an in-memory grid (no file), for corpus runs in tests and benchmarks.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from ..codes import codes_for
from ..records import dataclass, field
from ..spec import Spec

YEAR = 2026
FEN = Decimal("0.01")
MIN_PART = 10_000  # 分: 100 元, printed as at least 0.01 万元

# 功能科目 whose 基本支出 C13 pairs with a 社保 经济科目: left out so that C13 has nothing to pair
_PAIRED = ("2080505", "2080506", "2210201", "2080501", "2080502", "21011")
PEOPLE_CODES = ("30101", "30102", "30103", "30107", "30112", "30199", "30305", "30399")
PUBLIC_CODES = ("30201", "30205", "30206", "30207", "30211", "30213", "30214", "30216", "30226", "30228", "30229", "30239", "30299")
THREE_CODES = {"因公出国（境）费用": "30212", "公务接待费": "30217", "公务用车运行维护费": "30231", "公务用车购置": "31013"}
PROJECT_COLUMNS = ("商品和服务支出", "对个人和家庭的补助", "资本性支出", "其他支出")
T2_FUNDS = ("一般公共预算", "上级一般公共预算安排的转移支付", "政府性基金预算", "上级政府性基金安排的转移支付", "国有资本经营预算",
            "财政专户（教育收费）", "单位资金", "财政拨款结转", "非财政拨款结转结余")
NATURES = ("行政单位", "参照公务员法管理事业单位", "事业单位")
TOPICS = ("档案数字化", "业务培训", "信息系统运维", "基层服务站建设", "宣传教育", "设备更新", "专项检查", "调查统计",
          "应急保障", "技能提升", "公共服务补助", "困难群体补助", "标准化建设", "课题研究", "监测评估")
INDICATORS = (
    ("产出指标", "质量指标", "任务完成率（%）", "≥95%", 30),
    ("产出指标", "时效指标", "资金拨付及时率（%）", "≥95%", 20),
    ("效益指标", "社会效益指标", "政策知晓率（%）", "≥90%", 20),
    ("满意度指标", "服务对象满意度指标", "服务对象满意度（%）", "≥90%", 20),
)


def split(rng: random.Random, total: int, n: int, unit: int = 1) -> list[int]:
    """``total`` (a multiple of ``unit``) in ``n`` positive parts, each a multiple of ``unit``."""
    if n <= 0:
        return []
    floor = MIN_PART if total >= n * (MIN_PART + unit) else unit  # parts of at least 100 元 where there is room
    rest = total - n * floor
    units = rest // unit
    if units < 0:
        raise ValueError("too small to split")
    cuts = sorted(rng.randint(0, units) for _ in range(n - 1))
    bounds = [0, *cuts, units]
    parts = [(b - a) * unit + floor for a, b in zip(bounds, bounds[1:])]
    parts[-1] += rest - units * unit
    return parts


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) * FEN).quantize(FEN)


_CODES: dict[tuple[int, str], dict[str, str]] = {}


def _codes(spec: Spec, kind: str) -> dict[str, str]:
    key = (id(spec), kind)
    if key not in _CODES:
        _CODES[key] = dict(codes_for(spec, kind).names)
    return _CODES[key]


@dataclass
class Department:
    """One generated department. Amounts are in 分 (int) until ``data`` converts them."""

    seed: int
    spec: Spec
    nature: str
    name: str
    round: bool  # every figure is whole 100 元 (an exact 万元 version exists)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def data(self, unit: str = "元") -> dict[str, Any]:
        """The ``fill`` data file: table rows in sheet column order, amounts as text."""
        if unit not in ("元", "万元"):
            raise ValueError(unit)
        if unit == "万元" and not self.round:
            raise ValueError("only round departments have an exact 万元 version")
        divisor = Decimal(1) if unit == "元" else Decimal(10000)

        def conv(v):
            if isinstance(v, Amt):
                return "" if v.fen is None else format((_yuan(v.fen) / divisor).quantize(FEN), "f")
            return v

        out: dict[str, Any] = {"info": dict(self.forms["info"], 金额单位=unit), "tables": {}}
        spec = self.spec
        for key, block in self.tables.items():
            out["tables"][key] = {
                "rows": [[conv(v) for v in row] for row in block["rows"]],
                "total": [conv(v) for v in block["total"]],
                "department": self.name,
            }
            statement = spec.table(key).empty_statement
            if statement and not any(isinstance(v, Amt) and v for row in block["rows"] for v in row):
                out["tables"][key]["statement"] = statement.format(单位名称=self.name, 年度=YEAR)
        out["other"] = {k: conv(v) for k, v in self.forms["other"].items()}
        for key, records in self.lists.items():
            out[key] = [{k: conv(v) for k, v in r.items()} for r in records]
        return out

    def grid(self, spec: Spec, unit: str = "元"):
        """The filled workbook as an in-memory grid, as the reader would return it."""
        from .workbook import filled_grid

        return filled_grid(self.data(unit), spec)


@dataclass(frozen=True)
class Amt:
    """An amount in 分 inside generated rows (None: blank)."""

    fen: int | None

    def __bool__(self) -> bool:
        return bool(self.fen)


BLANK = Amt(None)


def _a(fen: int | None) -> Amt:
    return Amt(fen) if fen else BLANK


def department(seed: int, spec: Spec, projects: int | None = None, codes: int | None = None, round_figures: bool | None = None) -> Department:
    """One valid department of the 2026 新疆 format (``spec``), the same for the same arguments."""
    rng = random.Random(seed)
    nature = NATURES[seed % 3]
    name = f"示例县第{seed}号{('局', '中心', '服务站')[seed % 3]}"
    rnd = round_figures if round_figures is not None else seed % 4 == 0
    q = 10000 if rnd else 1  # quantum in 分: 100 元 for round departments

    def amount(low: int, high: int) -> int:
        """A random amount between low and high 元 (log-uniform), in 分, a multiple of q."""
        import math

        v = int(math.exp(rng.uniform(math.log(low), math.log(high))) * 100)
        return max(q, v // q * q)

    funds = {
        "上级一般": seed % 5 in (1, 3) or rng.random() < 0.3,
        "基金": seed % 6 == 2 or rng.random() < 0.2,
        "上级基金": False,
        "国有": seed % 7 == 3 or rng.random() < 0.15,
        "专户": seed % 8 == 4 or rng.random() < 0.15,
        "单位": nature == "事业单位" or rng.random() < 0.2,
        "财政结转": seed % 5 == 2 or rng.random() < 0.2,
        "非财政结转": seed % 9 == 5 or rng.random() < 0.15,
    }
    funds["上级基金"] = funds["基金"] and rng.random() < 0.5

    # ------------------------------------------------------------ 功能科目
    names = _codes(spec, "functional")
    pool = [c for c in names if len(c) == 7 and not c.startswith(_PAIRED)]
    n_projects = projects if projects is not None else rng.choice([0, rng.randint(1, 5), rng.randint(1, 15), rng.randint(5, 40), rng.randint(40, 120)] if seed % 11 else [120])
    n_codes = codes if codes is not None else rng.choice([2, rng.randint(2, 6), rng.randint(4, 15), rng.randint(10, len(pool))])
    n_codes = max(2, min(n_codes, len(pool)))
    chosen = sorted(rng.sample(pool, n_codes))
    if len({c[:5] for c in chosen}) + len({c[:3] for c in chosen}) + len(chosen) < 5:
        chosen = sorted(set(chosen) | set(rng.sample([c for c in pool if c[:3] != chosen[0][:3]], 2)))
    project_codes = rng.sample(chosen, min(len(chosen), n_projects)) if n_projects else []
    per_code_projects = dict.fromkeys(project_codes, 1)
    for _ in range(n_projects - len(project_codes)):
        per_code_projects[rng.choice(project_codes)] += 1
    basic_codes = set(c for c in chosen if c not in per_code_projects or rng.random() < 0.5)
    if not basic_codes:
        basic_codes = {chosen[0]}

    row: dict[str, dict[str, int]] = {}
    for c in chosen:
        b5 = amount(20_000, 5_000_000) if c in basic_codes else 0
        p5 = sum(amount(5_000, 3_000_000) for _ in range(per_code_projects.get(c, 0)))
        if c in per_code_projects and p5 < per_code_projects[c] * q:
            p5 = per_code_projects[c] * q
        r = {"b5": b5, "p5": p5}
        for key in ("基金", "国有"):
            if funds[key] and rng.random() < 0.5:
                r[key + "人员"] = amount(5_000, 800_000) if rng.random() < 0.6 else 0
                r[key + "公用"] = amount(2_000, 300_000) if rng.random() < 0.6 else 0
                r[key + "项目"] = amount(5_000, 900_000) if rng.random() < 0.5 or not (r[key + "人员"] or r[key + "公用"]) else 0
        for key in ("专户", "单位", "财政结转", "非财政结转"):
            if funds[key] and rng.random() < 0.5:
                r[key + "基本"] = amount(2_000, 600_000) if rng.random() < 0.6 else 0
                r[key + "项目"] = amount(2_000, 600_000) if not r[key + "基本"] or rng.random() < 0.4 else 0
        row[c] = r
    # every present source has money somewhere
    for key in ("基金", "国有"):
        if funds[key] and not any(row[c].get(key + "人员") or row[c].get(key + "公用") or row[c].get(key + "项目") for c in chosen):
            row[chosen[-1]][key + "项目"] = amount(5_000, 500_000)
    for key in ("专户", "单位", "财政结转", "非财政结转"):
        if funds[key] and not any(row[c].get(key + "基本") or row[c].get(key + "项目") for c in chosen):
            row[chosen[0]][key + "基本"] = amount(2_000, 400_000)

    def g(c, k):
        return row[c].get(k, 0)

    # T2 columns per code
    t2 = {}
    for c in chosen:
        general = g(c, "b5") + g(c, "p5")
        upper = 0
        if funds["上级一般"] and general >= 2 * q and rng.random() < 0.5:
            upper = rng.randint(1, general // q - 1) * q
        fund = g(c, "基金人员") + g(c, "基金公用") + g(c, "基金项目")
        upper_fund = rng.randint(1, fund // q - 1) * q if funds["上级基金"] and fund >= 2 * q and rng.random() < 0.6 else 0
        t2[c] = {
            "一般公共预算": general - upper, "上级一般公共预算安排的转移支付": upper,
            "政府性基金预算": fund - upper_fund, "上级政府性基金安排的转移支付": upper_fund,
            "国有资本经营预算": g(c, "国有人员") + g(c, "国有公用") + g(c, "国有项目"),
            "财政专户（教育收费）": g(c, "专户基本") + g(c, "专户项目"),
            "单位资金": g(c, "单位基本") + g(c, "单位项目"),
            "财政拨款结转": g(c, "财政结转基本") + g(c, "财政结转项目"),
            "非财政拨款结转结余": g(c, "非财政结转基本") + g(c, "非财政结转项目"),
        }
    funds["上级一般"] = any(t2[c]["上级一般公共预算安排的转移支付"] for c in chosen)
    funds["上级基金"] = any(t2[c]["上级政府性基金安排的转移支付"] for c in chosen)
    other_parts = ("专户", "单位", "财政结转", "非财政结转")
    t3 = {
        c: {
            "基本支出": g(c, "b5") + g(c, "基金人员") + g(c, "基金公用") + g(c, "国有人员") + g(c, "国有公用") + sum(g(c, k + "基本") for k in other_parts),
            "项目支出": g(c, "p5") + g(c, "基金项目") + g(c, "国有项目") + sum(g(c, k + "项目") for k in other_parts),
        }
        for c in chosen
    }

    def classified(codes_values: dict[str, list[int]], width_names: int = 3) -> list[list[Any]]:
        """类/款/项 rows with subtotal rows above, values summed."""
        rows = []
        codes = sorted(codes_values)
        ncols = len(next(iter(codes_values.values())))
        for lei in sorted({c[:3] for c in codes}):
            members = [c for c in codes if c.startswith(lei)]
            rows.append([lei, "", "", names[lei], *[_a(sum(codes_values[m][i] for m in members)) for i in range(ncols)]])
            for kuan in sorted({c[:5] for c in members}):
                sub = [c for c in members if c.startswith(kuan)]
                rows.append([lei, kuan[3:], "", names[kuan], *[_a(sum(codes_values[m][i] for m in sub)) for i in range(ncols)]])
                for c in sub:
                    rows.append([lei, kuan[3:], c[5:], names[c], *[_a(v) for v in codes_values[c]]])
        return rows

    def total_row(codes_values, lead):
        ncols = len(next(iter(codes_values.values())))
        return [*lead, *[_a(sum(v[i] for v in codes_values.values())) for i in range(ncols)]]

    tables: dict[str, dict[str, Any]] = {}
    v2 = {c: [sum(t2[c].values()), sum(t2[c][k] for k in T2_FUNDS[:5]), *[t2[c][k] for k in T2_FUNDS]] for c in chosen}
    tables["T2"] = {"rows": classified(v2), "total": total_row(v2, ["", "", "", "总计"])}
    v3 = {c: [t3[c]["基本支出"] + t3[c]["项目支出"], t3[c]["基本支出"], t3[c]["项目支出"]] for c in chosen}
    tables["T3"] = {"rows": classified(v3), "total": total_row(v3, ["", "", "", "总计"])}
    v5 = {c: [g(c, "b5") + g(c, "p5"), g(c, "b5"), g(c, "p5")] for c in chosen if g(c, "b5") + g(c, "p5")}
    tables["T5"] = {"rows": classified(v5), "total": total_row(v5, ["", "", "", "总计"])}
    for key, label in (("T8", "基金"), ("T9", "国有")):
        v = {c: [g(c, label + "人员") + g(c, label + "公用") + g(c, label + "项目"), g(c, label + "人员"), g(c, label + "公用"), g(c, label + "项目")]
             for c in chosen if g(c, label + "人员") + g(c, label + "公用") + g(c, label + "项目")}
        tables[key] = {"rows": classified(v), "total": total_row(v, ["", "", "", "总计"])} if v else {"rows": [], "total": ["", "", "", "总计", BLANK, BLANK, BLANK, BLANK]}

    # ------------------------------------------------------------ 表6 and 三公
    basic_total = sum(g(c, "b5") for c in chosen)
    three_on = seed % 3 != 1 or rng.random() < 0.3
    three = {k: 0 for k in THREE_CODES}
    if three_on and basic_total >= 40 * 100 * MIN_PART:
        budget = basic_total // 20
        for k in THREE_CODES:
            if rng.random() < 0.6 or (k == "因公出国（境）费用" and seed % 4 == 2) or (k == "公务用车购置" and seed % 4 == 3):
                three[k] = max(100 * MIN_PART, rng.randint(1, max(1, budget // 4 // q)) * q)
    rest = basic_total - sum(three.values())
    people_share = rest * rng.randint(60, 92) // 100 // q * q
    public_rest = rest - people_share
    people_codes = sorted(rng.sample(PEOPLE_CODES, rng.randint(1, min(len(PEOPLE_CODES), max(1, people_share // q)))))
    public_codes = sorted(rng.sample(PUBLIC_CODES, rng.randint(1, min(len(PUBLIC_CODES), max(1, public_rest // q))))) if public_rest else []
    econ: dict[str, list[int]] = {}
    if people_share:
        for code, v in zip(people_codes, split(rng, people_share, len(people_codes), q)):
            econ[code] = [v, v, 0]
    if public_rest:
        for code, v in zip(public_codes, split(rng, public_rest, len(public_codes), q)):
            econ[code] = [v, 0, v]
    for k, code in THREE_CODES.items():
        if three[k]:
            econ[code] = [three[k], 0, three[k]]
    enames = _codes(spec, "economic")
    t6_rows = []
    for lei in sorted({c[:3] for c in econ}):
        members = sorted(c for c in econ if c.startswith(lei))
        t6_rows.append([lei, "", enames[lei], *[_a(sum(econ[m][i] for m in members)) for i in range(3)]])
        for c in members:
            t6_rows.append([lei, c[3:], enames[c], *[_a(v) for v in econ[c]]])
    tables["T6"] = {"rows": t6_rows, "total": ["", "", "总计", *[_a(sum(v[i] for v in econ.values())) for i in range(3)]]}
    public_total = sum(v[2] for v in econ.values())

    car_total = three["公务用车购置"] + three["公务用车运行维护费"]
    t10_rows = [
        ["因公出国（境）费用", _a(three["因公出国（境）费用"]), _a(three["因公出国（境）费用"]), BLANK, BLANK],
        ["公务接待费", _a(three["公务接待费"]), _a(three["公务接待费"]), BLANK, BLANK],
        ["公务用车购置及运行维护费（小计）", _a(car_total), _a(car_total), BLANK, BLANK],
        ["其中：公务用车购置", _a(three["公务用车购置"]), _a(three["公务用车购置"]), BLANK, BLANK],
        ["公务用车运行维护费", _a(three["公务用车运行维护费"]), _a(three["公务用车运行维护费"]), BLANK, BLANK],
    ]
    three_total = sum(three.values())
    tables["T10"] = {"rows": t10_rows, "total": ["总计", _a(three_total), _a(three_total), BLANK, BLANK]}

    # ------------------------------------------------------------ 表7 projects
    t7_rows: list[list[Any]] = []
    project_list = []
    topics = list(TOPICS)
    counter = 0
    for c in sorted(per_code_projects):
        amounts = split(rng, g(c, "p5"), per_code_projects[c], q)
        for v in amounts:
            counter += 1
            pname = f"{YEAR}年{rng.choice(topics)}项目（{counter:03d}）"
            columns = rng.sample(PROJECT_COLUMNS, rng.randint(1, min(3, max(1, v // q))))
            parts = dict(zip(columns, split(rng, v, len(columns), q)))
            project_list.append((c, pname, v, parts))
    t7_cols = ("项目支出合计", "工资福利支出", "商品和服务支出", "对个人和家庭的补助", "债务利息及费用支出", "资本性支出（基本建设）", "资本性支出",
               "对企业补助（基本建设）", "对企业补助", "对社会保障基金补助", "其他支出")

    def t7_values(items):
        return [_a(sum(p[2] for p in items))] + [_a(sum(p[3].get(col, 0) for p in items)) for col in t7_cols[1:]]

    if project_list:
        t7_rows.append(["", "", "", name, "", *t7_values(project_list)])
        for lei in sorted({p[0][:3] for p in project_list}):
            members = [p for p in project_list if p[0].startswith(lei)]
            t7_rows.append([lei, "", "", names[lei], "", *t7_values(members)])
            for kuan in sorted({p[0][:5] for p in members}):
                sub = [p for p in members if p[0].startswith(kuan)]
                t7_rows.append([lei, kuan[3:], "", names[kuan], "", *t7_values(sub)])
                for p in sub:
                    t7_rows.append([lei, kuan[3:], p[0][5:], names[p[0]], p[1], *t7_values([p])])
    tables["T7"] = {"rows": t7_rows, "total": ["", "", "", "总计", "", *t7_values(project_list)]}

    # ------------------------------------------------------------ 表11, 表12
    t11 = []
    if rng.random() < 0.3:
        for i in range(rng.randint(1, 4)):
            v = amount(1_000, 200_000)
            t11.append([f"{rng.choice(TOPICS)}委托业务（{i + 1}）", _a(v), _a(v), BLANK, BLANK])
    t11_total = sum(r[1].fen for r in t11)
    tables["T11"] = {"rows": t11, "total": ["总计", _a(t11_total), _a(t11_total), BLANK, BLANK]}
    carry_f = sum(t2[c]["财政拨款结转"] for c in chosen)
    carry_o = sum(t2[c]["非财政拨款结转结余"] for c in chosen)
    t12 = []
    if carry_f or carry_o:
        n = rng.randint(1, 3)
        items = [[0] * 6 for _ in range(n)]
        for side, total in ((0, carry_f), (3, carry_o)):
            if not total:
                continue
            cells = [(i, side + j) for i in range(n) for j in range(3)]
            picked = rng.sample(cells, rng.randint(1, min(len(cells), max(1, total // q))))
            for (i, j), v in zip(picked, split(rng, total, len(picked), q)):
                items[i][j] = v
        for i, it in enumerate(items):
            if not any(it):
                continue
            f, o = sum(it[:3]), sum(it[3:])
            t12.append([f"结转项目（{i + 1}）", _a(f + o), _a(f), _a(it[0]), _a(it[1]), _a(it[2]), _a(o), _a(it[3]), _a(it[4]), _a(it[5])])
    tables["T12"] = {"rows": t12, "total": ["总计", *[_a(sum(r[k].fen or 0 for r in t12)) for k in range(1, 10)]]}

    # ------------------------------------------------------------ 表1, 表4 (derived, filled in as staff would)
    col = lambda k: sum(t2[c][k] for c in chosen)  # noqa: E731
    own = col("单位资金")
    own_parts = dict(zip(("事业收入", "上级补助收入", "其他收入"), split(rng, own, 3, q) if own >= 3 * q else [own, 0, 0]))
    carry_f_parts = [carry_f, 0, 0]
    carry_o_parts = split(rng, carry_o, 2, q) if carry_o >= 2 * q else [carry_o, 0]
    general_income = col("一般公共预算") + col("上级一般公共预算安排的转移支付")
    fund_income = col("政府性基金预算") + col("上级政府性基金安排的转移支付")
    state_income = col("国有资本经营预算")
    this_year = general_income + fund_income + state_income + col("财政专户（教育收费）") + own
    carry = carry_f + carry_o
    left1 = [
        ("一、本年收入", this_year), ("1. 一般公共预算拨款", general_income), ("其中：一般财力", col("一般公共预算")),
        ("上级一般公共预算安排转移支付", col("上级一般公共预算安排的转移支付")), ("2. 政府性基金预算拨款", fund_income),
        ("其中：政府性基金收入", col("政府性基金预算")), ("上级政府性基金安排转移支付", col("上级政府性基金安排的转移支付")),
        ("3. 国有资本经营预算拨款", state_income), ("其中：国有资本经营收入", state_income), ("上级国有资本经营预算安排转移支付", 0),
        ("4. 财政专户核拨", col("财政专户（教育收费）")), ("5. 单位资金", own), ("其中：事业收入", own_parts["事业收入"]),
        ("上级补助收入", own_parts["上级补助收入"]), ("附属单位上缴收入", 0), ("事业单位经营收入", 0), ("其他收入", own_parts["其他收入"]),
        ("二、上年结转结余", carry), ("1. 财政拨款结转", carry_f), ("其中：一般公共预算拨款", carry_f_parts[0]),
        ("政府性基金预算拨款", carry_f_parts[1]), ("国有资本经营预算拨款", carry_f_parts[2]), ("2. 非财政拨款结转结余", carry_o),
        ("其中：财政专户核拨", carry_o_parts[0]), ("单位资金", carry_o_parts[1]),
    ]
    fclasses = [(c, n) for c, n in names.items() if len(c) == 3]
    t3_class = {lei: sum(v3[c][0] for c in chosen if c.startswith(lei)) for lei, _ in fclasses}
    rows1 = []
    for i in range(max(len(left1), len(fclasses))):
        label, v = left1[i] if i < len(left1) else ("", 0)
        right = fclasses[i] if i < len(fclasses) else None
        rows1.append([label, _a(v), f"{right[0]} {right[1]}" if right else "", _a(t3_class.get(right[0], 0)) if right else BLANK])
    total_income = this_year + carry
    tables["T1"] = {"rows": rows1, "total": ["收入总计", _a(total_income), "支出总计", _a(sum(t3_class.values()))]}

    fiscal = general_income + fund_income + state_income
    left4 = [("一、财政拨款（补助）", fiscal), ("一般公共预算", general_income), ("政府性基金预算", fund_income), ("国有资本经营预算", state_income)]
    class_of = lambda key, lei: sum(v[0] for c, v in key.items() if c.startswith(lei))  # noqa: E731
    v8 = {c: [g(c, "基金人员") + g(c, "基金公用") + g(c, "基金项目")] for c in chosen}
    v9 = {c: [g(c, "国有人员") + g(c, "国有公用") + g(c, "国有项目")] for c in chosen}
    rows4 = []
    for i in range(max(len(left4), len(fclasses))):
        label, v = left4[i] if i < len(left4) else ("", 0)
        lei, cname = fclasses[i]
        a5, a8, a9 = class_of(v5, lei), class_of(v8, lei), class_of(v9, lei)
        rows4.append([label, _a(v), f"{lei} {cname}", _a(a5 + a8 + a9), _a(a5), _a(a8), _a(a9)])
    s5, s8, s9 = (sum(v[0] for v in d.values()) for d in (v5, v8, v9))
    tables["T4"] = {"rows": rows4, "total": ["收入总计", _a(fiscal), "支出总计", _a(s5 + s8 + s9), _a(s5), _a(s8), _a(s9)]}

    # ------------------------------------------------------------ input sheets
    info = {
        "单位名称": name, "年度": YEAR, "单位性质": nature, "单位编码": f"{seed:06d}", "所属地区": "示例县",
        "主要职能": f"{name}负责本行业的政策执行、公共服务和监督管理工作。", "机构设置": f"{name}内设综合股、业务股，无下属预算单位。",
        "批复日期": "2026-01-10", "公开日期": "2026-01-25", "联系人": "王明", "联系电话": "09981234567",
    }
    running = nature != "事业单位"
    cars = three["公务用车运行维护费"] > 0
    buying = three["公务用车购置"] > 0
    procurement = [amount(1_000, 300_000) if rng.random() < 0.7 else 0 for _ in range(3)]
    proc_total = sum(procurement)
    spend_total = sum(t3_class.values())
    while proc_total and proc_total > spend_total:
        procurement = [p // 2 // q * q for p in procurement]
        proc_total = sum(procurement)
    sme = proc_total * rng.randint(0, 100) // 100 // q * q
    micro = sme * rng.randint(0, 100) // 100 // q * q
    law = rng.random() < 0.3
    other = {
        "机关运行经费": _a(public_total) if running else BLANK,
        "政府采购预算总额": Amt(proc_total), "政府采购货物预算": Amt(procurement[0]), "政府采购工程预算": Amt(procurement[1]),
        "政府采购服务预算": Amt(procurement[2]), "面向中小企业预留政府采购预算": Amt(sme), "其中：小微企业预留政府采购预算": Amt(micro),
        "资产统计截止年度": YEAR - 1, "房屋面积（平方米）": str(rng.randint(0, 5000)), "房屋价值": Amt(amount(10_000, 9_000_000)),
        "一般公务用车（辆）": rng.randint(1, 6) if cars else 0, "一般公务用车价值": Amt(amount(50_000, 600_000)) if cars else Amt(0),
        "执法执勤用车（辆）": rng.randint(1, 4) if law else 0, "执法执勤用车价值": Amt(amount(50_000, 500_000)) if law else Amt(0),
        "其他车辆（辆）": 0, "其他车辆价值": Amt(0),
        "办公家具价值": Amt(amount(5_000, 500_000)), "其他资产价值": Amt(amount(1_000, 300_000) if rng.random() < 0.5 else 0),
        "单价50万元以上大型设备（台）": rng.randint(0, 3), "单价100万元以上大型设备（台）": rng.randint(0, 2),
        "本年安排购置车辆（辆）": rng.randint(1, 3) if buying else 0,
        "本年安排购置单价50万元以上大型设备（台）": rng.randint(0, 2), "本年安排购置单价100万元以上大型设备（台）": 0,
        "其他需说明的事项": "本部门无其他需说明事项。",
    }

    # 上年数与原因: every item the narrative compares
    items: list[tuple[str, str, str, int]] = []  # category, code, name, current
    for src, key in spec.income_sources():
        current = next((v for label, v in left1 if _t1_key(label) == key), 0)
        items.append(("收入", "", src, current))
    basic3 = sum(v[1] for v in v3.values())
    project3 = sum(v[2] for v in v3.values())
    items += [("支出", "", "基本支出", basic3), ("支出", "", "项目支出", project3)]
    items += [("一般公共预算拨款", "", "基本支出", sum(v[1] for v in v5.values())), ("一般公共预算拨款", "", "项目支出", sum(v[2] for v in v5.values()))]
    items += [("功能分类科目", c, names[c], v5[c][0]) for c in sorted(v5)]
    items += [("三公经费", "", "合计", three_total)] + [("三公经费", "", k, three[k]) for k in ("因公出国（境）费用", "公务用车购置", "公务用车运行维护费", "公务接待费")]
    if running:
        items.append(("机关运行经费", "", "机关运行经费", public_total))
    priors = []
    for i, (category, code, iname, current) in enumerate(items):
        pattern = rng.choice(("rise", "fall", "equal", "zero", "drop") if not current else ("rise", "fall", "equal", "zero"))
        if not current:
            prior = amount(1_000, 200_000) if pattern == "drop" else 0
        elif pattern == "rise":
            prior = current * rng.randint(50, 95) // 100 // q * q
        elif pattern == "fall":
            prior = current * rng.randint(105, 160) // 100 // q * q
        elif pattern == "equal":
            prior = current
        else:
            prior = 0
        if category == "收入" and not current and not prior:
            continue
        if prior == current:
            reason = ""
        elif prior > current:
            reason = f"{iname}按第{i + 1}项工作安排调整，本年预算减少。"
        else:
            reason = f"{iname}按第{i + 1}项工作安排调整，本年预算增加。"
        priors.append({"类别": category, "编码": code, "名称": iname, "上年预算数": Amt(prior), "增减原因": reason})

    purposes = [{"科目代码": lei, "科目名称": cname, "主要用途": f"{cname}方面的基本运转和业务工作"} for lei, cname in fclasses
                if class_of(v5, lei) + class_of(v8, lei) + class_of(v9, lei)]
    notes = [{"项目名称": p[1], "项目承担单位": name, "设立的政策依据": f"根据本级政府关于{p[1]}的安排。", "资金分配情况": "按项目实施进度安排资金。",
              "资金执行时间": "2026年1月1日—2026年12月31日"} for p in project_list]
    upper_total = col("上级一般公共预算安排的转移支付") + col("上级政府性基金安排的转移支付")
    targets = [{"目标表名称": name, "类型": "部门整体", "表7项目名称": "", "年度预算总额": Amt(total_income), "财政拨款": Amt(fiscal),
                "上级安排": Amt(upper_total), "本级安排": Amt(fiscal - upper_total), "其他资金": Amt(total_income - fiscal),
                "总体目标": "完成年度工作任务。"}]
    targets += [{"目标表名称": p[1], "类型": "项目", "表7项目名称": p[1], "年度预算总额": Amt(p[2]), "财政拨款": Amt(p[2]),
                 "本级安排": Amt(p[2]), "总体目标": f"完成{p[1]}的年度任务。"} for p in project_list]
    indicators = [{"目标表名称": t["目标表名称"], "一级指标": a, "二级指标": b, "三级指标": c, "指标值": v, "分值权重": w}
                  for t in targets for a, b, c, v, w in INDICATORS]
    dept = Department(seed, spec, nature, name, rnd, tables, {"info": info, "other": other},
                      {"priors": priors, "purposes": purposes, "projects": notes, "targets": targets, "indicators": indicators})
    dept.facts = {"projects": len(project_list), "codes": len(chosen), "funds": {k for k, v in funds.items() if v}, "three": three}
    return dept


_T1_KEYS = {
    "其中：一般财力": "一般财力", "上级一般公共预算安排转移支付": "上级一般公共预算安排转移支付", "其中：政府性基金收入": "政府性基金收入",
    "上级政府性基金安排转移支付": "上级政府性基金安排转移支付", "其中：国有资本经营收入": "国有资本经营收入",
    "上级国有资本经营预算安排转移支付": "上级国有资本经营预算安排转移支付", "4. 财政专户核拨": "财政专户核拨", "5. 单位资金": "单位资金",
    "二、上年结转结余": "上年结转结余",
}


def _t1_key(label: str) -> str:
    return _T1_KEYS.get(label, label)


def corpus(n: int, spec: Spec, start: int = 0):
    """``n`` departments, seeds ``start`` … ``start + n - 1``."""
    return (department(seed, spec) for seed in range(start, start + n))
