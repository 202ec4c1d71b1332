"""docs/rules.md, generated from the rule registry (``budgetxl rules --markdown``)."""

from __future__ import annotations

import re

from .parse import PARSE_PROBLEMS
from .rules import DOC_SECTIONS, REGISTRY
from .subtotals import SUBTOTAL_PROBLEMS

FAMILIES = {
    "A": "A 完整性与一致性",
    "B": "B 表内勾稽",
    "C": "C 表间勾稽",
    "D": "D 情况说明数据（其他事项）",
    "E": "E 绩效目标",
    "F": "F 上年数与增减原因",
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
        "## 读取与计算小计时的问题",
        "",
        "| 代码 | 级别 | 问题 |",
        "|---|---|---|",
    ]
    for code, (severity, title) in {**PARSE_PROBLEMS, **SUBTOTAL_PROBLEMS}.items():
        lines.append(f"| {code} | {severity.value} | {title} |")
    lines += ["", "## 规则一览", "", "| 代码 | 级别 | 规则 |", "|---|---|---|"]
    for code, rule in sorted(REGISTRY.items()):
        lines.append(f"| [{code}](#{code.lower()}) | {rule.severity.value} | {rule.title} |")
    family = None
    for code, rule in sorted(REGISTRY.items()):
        if rule.family != family:
            family = rule.family
            lines += ["", f"## {FAMILIES.get(family, family)}"]
        sections = doc_sections(rule.doc)
        lines += ["", f"### {code}", "", f"**{rule.title}**（默认级别：{rule.severity.value}）", ""]
        for name in DOC_SECTIONS:
            lines.append(f"- **{name}**：{sections.get(name, '')}")
    return "\n".join(lines) + "\n"
