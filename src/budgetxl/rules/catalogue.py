"""The catalogue: every code budgetxl reports — the reader's and subtotal
pass's problems (P…, S…), the rules (A…F) and the bureau's checks across
departments and years (Y…) — with its severity, title and
four-section documentation. ``docs/rules.md`` is generated from here
(``budgetxl rules --markdown``)."""

from __future__ import annotations

import re

from ..problems import BUREAU_PROBLEMS, PROBLEMS
from ..problems import Problem as Entry  # a catalogue entry: code, severity, title, four-section doc
from . import DOC_SECTIONS, REGISTRY


def entries() -> dict[str, Entry]:
    """Every catalogued code: problems first, then rules."""
    out = dict(PROBLEMS)
    out.update({code: Entry(code, r.severity, r.title, r.doc) for code, r in sorted(REGISTRY.items())})
    out.update(BUREAU_PROBLEMS)  # the bureau's checks across departments and years
    return out

FAMILIES = {
    "P": "P 读取工作簿时的问题",
    "S": "S 计算小计时的问题",
    "A": "A 完整性与一致性",
    "B": "B 表内勾稽",
    "C": "C 表间勾稽",
    "D": "D 情况说明数据（其他事项）",
    "E": "E 绩效目标",
    "F": "F 上年数与增减原因",
    "Y": "Y 财政局跨年度核对（collect/report --previous）",
}


def doc_sections(doc: str) -> dict[str, str]:
    """Split a rule docstring into its fixed sections."""
    pattern = "|".join(DOC_SECTIONS)
    parts = re.split(rf"({pattern})：", doc)
    out = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        out[name] = " ".join(body.split())
    return out


def markdown() -> str:
    lines = [
        "# 校验规则目录",
        "",
        "本文件由 `budgetxl rules --markdown > docs/rules.md` 从规则注册表生成，请勿手工修改（有测试检查它是最新的）。",
        "",
        "级别：**错误**必须改正（`budgetxl check` 退出码为 1）；**警告**须核实，核实后可在“校验结果”工作表标记“已核实”；"
        "**提示**供参考。金额相差在四舍五入尾差范围内（每个参与比较的两位小数金额各 ±0.005 万元）时报“提示”，"
        "工作簿以“元”为单位时精确比较。",
        "",
        "用 `--select` / `--ignore` 按代码或前缀选择规则，如 `--select B,C01`、`--ignore E05`。",
        "",
        "## 一览",
        "",
        "| 代码 | 级别 | 问题 |",
        "|---|---|---|",
    ]
    catalogue = entries()
    for code, entry in catalogue.items():
        lines.append(f"| [{code}](#{code.lower()}) | {entry.severity.value} | {entry.title} |")
    family = None
    for code, rule in catalogue.items():
        if rule.family != family:
            family = rule.family
            lines += ["", f"## {FAMILIES.get(family, family)}"]
        sections = doc_sections(rule.doc)
        lines += ["", f"### {code}", "", f"**{rule.title}**（默认级别：{rule.severity.value}）", ""]
        for name in DOC_SECTIONS:
            lines.append(f"- **{name}**：{sections.get(name, '')}")
    return "\n".join(lines) + "\n"
