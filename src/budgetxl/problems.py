"""Problems found while reading a workbook (P…) and while computing subtotals (S…).

They are catalogued like the rules (``rules/catalogue.py`` lists both in
``docs/rules.md``): a stable code, a default severity, a Chinese title, and a
documentation text in the four fixed sections 检查内容 / 为何重要 / 示例 / 处理方法.
The reader and the subtotal pass emit them; no rule function runs for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Finding, Severity


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    title: str
    doc: str

    @property
    def family(self) -> str:
        return self.code[0]


def _p(code: str, severity: Severity, title: str, doc: str) -> Problem:
    return Problem(code, severity, title, " ".join(doc.split()))


PROBLEMS: dict[str, Problem] = {p.code: p for p in (
    _p("P01", Severity.ERROR, "缺少工作表", """
        检查内容：标准模板的每张公开表（表1至表12）在工作簿中都有对应的工作表（按名称、表号或标题查找）。
        为何重要：缺少的表无法校验，也无法生成公开文件，公开时会少一张表。
        示例：工作簿中没有“表8 政府性基金预算支出情况表”。
        处理方法：使用标准模板，不要删除或改名工作表；没有数据的表保留为空表。"""),
    _p("P02", Severity.ERROR, "找不到表头", """
        检查内容：工作表中能找到与模板一致的表头。
        为何重要：程序按表头识别各列，表头被改动后无法知道哪一列是哪个数。
        示例：“表3 部门支出总体情况表”的表头被删除或改写。
        处理方法：从标准模板复制原样的表头，不要合并、删除或改写表头单元格。"""),
    _p("P03", Severity.ERROR, "缺少列", """
        检查内容：表头中有模板规定的每一列。
        为何重要：缺少的列中的数字读不到，勾稽关系无法核对。
        示例：表2 缺少“财政专户（教育收费）”列。
        处理方法：恢复缺少的列（可从标准模板复制），没有数字的列留空。"""),
    _p("P04", Severity.ERROR, "金额无法识别", """
        检查内容：金额单元格中是数字（可以带千分位、负号或括号表示的负数）。
        为何重要：无法识别的金额按空白处理会使合计出错。
        示例：金额写成“约 5 万”或“12,3,4”。
        处理方法：改为数字，保留两位小数，不要输入文字、单位或空格。"""),
    _p("P05", Severity.ERROR, "科目代码无法识别", """
        检查内容：类、款、项代码是 3 位、2 位、2 位数字（或完整的 3、5、7 位代码）。
        为何重要：代码决定每一行属于哪个类、款，小计和表间核对都依赖它。
        示例：类填成“208-01”或“二〇八”。
        处理方法：类填 3 位（如 208），款、项各填 2 位（如 01），或在“类”列填写完整代码。"""),
    _p("P06", Severity.WARNING, "公式没有计算结果", """
        检查内容：含公式的单元格保存了计算结果。
        为何重要：由不计算公式的程序生成的文件中，公式单元格读出来是空的，数字会被漏掉。
        示例：用脚本生成、未在 Excel 中打开保存过的工作簿。
        处理方法：在 Excel 或 WPS 中打开后保存一次，或把公式改为数值。"""),
    _p("P07", Severity.WARNING, "无法识别的行", """
        检查内容：每个有数字的行都能识别为明细、小计或总计行。
        为何重要：识别不了的行不参加小计和核对，其中的数字可能被漏掉。
        示例：有金额但没有科目代码和名称的行。
        处理方法：补填科目代码和名称，或删除多余的行。"""),
    _p("P08", Severity.ERROR, "缺少固定行", """
        检查内容：固定格式的表（表1、表4、表10 等）中有模板规定的每一行。
        为何重要：缺少的行对应的数字读不到，收支总表无法平衡。
        示例：表1 中删除了“上级一般公共预算安排转移支付”行。
        处理方法：从标准模板恢复该行，没有数字的留空。"""),
    _p("P09", Severity.WARNING, "缺少总计行", """
        检查内容：表格末尾有“总计”（或“合计”）行。
        为何重要：没有总计行，程序无法核对合计，也无法写入计算结果。
        示例：表7 的“总计”行被删除。
        处理方法：在表格末尾保留“总计”行，由“计算小计”填写。"""),
    _p("P10", Severity.ERROR, "必填信息缺失", """
        检查内容：“单位信息”等输入表中必填的项目已填写。
        为何重要：单位名称、年度、金额单位等是每张表和情况说明都要用到的信息。
        示例：“单位信息”的“单位名称”为空。
        处理方法：在提示的单元格填写该项目。"""),
    _p("P11", Severity.ERROR, "信息格式不正确", """
        检查内容：年度是合理的四位年份，金额单位只能是“万元”或“元”，日期是日期。
        为何重要：年度和金额单位决定说明中的年份和所有金额的换算。
        示例：年度填“二〇二六”或 99999，金额单位填“千元”。
        处理方法：年度填如 2026 的四位年份，金额单位从下拉列表选择。"""),
    _p("P12", Severity.WARNING, "缺少输入工作表", """
        检查内容：情况说明需要的输入表（上年数与原因、项目说明、绩效目标等）都在工作簿中。
        为何重要：缺少输入表时，情况说明中相应的段落无法生成。
        示例：工作簿中没有“绩效目标”工作表。
        处理方法：使用标准模板，从模板中复制缺少的工作表。"""),
    _p("S01", Severity.WARNING, "缺少上级小计行", """
        检查内容：计算小计时，每个项级或款级明细行之上有所属的类、款小计行。
        为何重要：缺少小计行时，类、款合计无处写入，公开表的层级也不完整。
        示例：表3 有 2080501 行，但没有 208 或 20805 行。
        处理方法：在明细行之上插入类、款行，只填代码和名称，再运行“计算小计”。"""),
    _p("S02", Severity.WARNING, "只填写了合计", """
        检查内容：计算小计时，明细行填写了各列而不是只填“合计”。
        为何重要：只有合计没有分项，程序无法按列计算，分项列会是空的。
        示例：表3 的明细行只填了“合计”，“基本支出”“项目支出”为空。
        处理方法：填写各分项列，“合计”由“计算小计”计算。"""),
)}


def problem(code: str, message: str, refs=(), **numbers) -> Finding:
    """A finding of a catalogued problem."""
    p = PROBLEMS[code]
    return Finding(code, p.severity, message, tuple(refs), title=p.title, **numbers)
