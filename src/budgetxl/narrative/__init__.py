"""The 情况说明, written from the model so that it is right by construction.

One Jinja2 template per section (``templates/*.j2``), rendered with the
context of ``context.py`` and the number filters of ``filters.py``. A bureau
overrides any section by putting a file of the same name in a directory given
with ``--templates``. A template renders one paragraph per line; blank lines
are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..model import Disclosure
from ..records import dataclass
from ..spec import Spec
from .context import build_context
from .filters import FILTERS

# id, heading level, title (a Jinja2 string), template file (None: heading only)
SECTIONS: tuple[tuple[str, int, str, str | None], ...] = (
    ("part1", 1, "第一部分 {{ year }}年部门概况", None),
    ("part1.functions", 2, "一、主要职能", "p1_functions.j2"),
    ("part1.structure", 2, "二、机构设置", "p1_structure.j2"),
    ("part3", 1, "第三部分 {{ year }}年部门预算情况说明", None),
    ("s01", 2, "一、关于{{ dept }}{{ year }}年收支预算情况总体说明", "s01_overview.j2"),
    ("s02", 2, "二、关于{{ dept }}{{ year }}年收入预算情况说明", "s02_income.j2"),
    ("s03", 2, "三、关于{{ dept }}{{ year }}年支出预算情况说明", "s03_spending.j2"),
    ("s04", 2, "四、关于{{ dept }}{{ year }}年财政拨款收支预算情况的总体说明", "s04_fiscal.j2"),
    ("s05", 2, "五、关于{{ dept }}{{ year }}年一般公共预算当年拨款情况说明", None),
    ("s05.1", 3, "（一）一般公共预算当年拨款规模变化情况", "s05_1_scale.j2"),
    ("s05.2", 3, "（二）一般公共预算当年拨款结构情况", "s05_2_structure.j2"),
    ("s05.3", 3, "（三）一般公共预算当年拨款具体使用情况", "s05_3_uses.j2"),
    ("s06", 2, "六、关于{{ dept }}{{ year }}年一般公共预算基本支出情况说明", "s06_basic.j2"),
    ("s07", 2, "七、关于{{ dept }}{{ year }}年一般公共预算项目支出情况说明", "s07_projects.j2"),
    ("s08", 2, "八、关于{{ dept }}{{ year }}年政府性基金预算拨款情况说明", "s08_government_funds.j2"),
    ("s09", 2, "九、关于{{ dept }}{{ year }}年国有资本经营预算拨款情况说明", "s09_state_capital.j2"),
    ("s10", 2, "十、关于{{ dept }}{{ year }}年财政拨款“三公”经费预算情况说明", "s10_three_public.j2"),
    ("s11", 2, "十一、关于{{ dept }}{{ year }}年财政拨款委托业务费支出情况说明", "s11_commissioned.j2"),
    ("s12", 2, "十二、关于{{ dept }}{{ year }}年上年结转结余预算情况说明", "s12_carryover.j2"),
    ("s13", 2, "十三、其他重要事项的情况说明", None),
    ("s13.1", 3, "（一）机关运行经费情况", "s13_1_running.j2"),
    ("s13.2", 3, "（二）政府采购情况", "s13_2_procurement.j2"),
    ("s13.3", 3, "（三）国有资产占用使用情况", "s13_3_assets.j2"),
    ("s13.4", 3, "（四）预算绩效情况", "s13_4_performance.j2"),
    ("s13.5", 3, "（五）其他需说明的事项", "s13_5_other.j2"),
    ("part4", 1, "第四部分 名词解释", "glossary.j2"),
)


@dataclass(frozen=True)
class Section:
    id: str
    level: int
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Narrative:
    department: str
    year: int | None
    sections: tuple[Section, ...]

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def paragraphs(self) -> list[tuple[str, str]]:
        """(paragraph id, text), ids like 's02.3' — stable keys for the 情况说明 sheet."""
        return [(f"{s.id}.{i}", p) for s in self.sections for i, p in enumerate(s.paragraphs, start=1)]

    def to_text(self) -> str:
        lines = []
        for s in self.sections:
            lines.append(s.title)
            lines.extend(s.paragraphs)
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def to_markdown(self) -> str:
        lines = []
        for s in self.sections:
            lines += ["#" * s.level + " " + s.title, ""]
            for p in s.paragraphs:
                lines += [p, ""]
        return "\n".join(lines).rstrip() + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "year": self.year,
            "sections": [{"id": s.id, "level": s.level, "title": s.title, "paragraphs": list(s.paragraphs)} for s in self.sections],
        }


_ENVIRONMENTS: dict = {}


def environment(templates: str | Path | None = None) -> "jinja2.Environment":
    """One environment per template directory: templates are compiled once per process
    (Jinja2 reloads a bureau's template file when it changes on disk)."""
    key = str(templates) if templates is not None else None
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = _environment(templates)
    return _ENVIRONMENTS[key]


def _environment(templates: str | Path | None = None) -> "jinja2.Environment":
    import jinja2  # only when writing the narrative: `check` reads the 情况说明 sheet without it

    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.PackageLoader("budgetxl.narrative", "templates"))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=False, undefined=jinja2.StrictUndefined)
    env.filters.update(FILTERS)
    return env


def template_names() -> list[str]:
    return [t for *_, t in SECTIONS if t]


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def generate(disclosure: Disclosure, spec: Spec, templates: str | Path | None = None) -> Narrative:
    import jinja2

    from ..errors import TemplateError

    env = environment(templates)
    context = build_context(disclosure, spec)
    sections = []
    for section_id, level, title, template in SECTIONS:
        try:
            paragraphs = _lines(env.get_template(template).render(context)) if template else ()
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"情况说明模板 {exc.name or template} 第{exc.lineno}行有语法错误（{exc.message}）。请改正该模板，或不用 --templates 使用内置模板。"
            ) from exc
        except jinja2.UndefinedError as exc:  # an input this spec's workbook does not have: say so, visibly
            missing = re.findall(r"attribute '([^']+)'|'([^']+)' is undefined", str(exc))
            name = next((a or b for a, b in missing), "")
            paragraphs = (f"【待填写：{name or '本节所需数据'}】",)
        sections.append(Section(section_id, level, env.from_string(title).render(context), paragraphs))
    return Narrative(disclosure.department, disclosure.year, tuple(sections))
