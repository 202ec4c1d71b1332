"""The rule catalogue.

Each rule is a plain function ``check_<what>(ctx, out)`` registered with a
stable code (never reused), a default severity and a Chinese title. Its
docstring is its documentation, in four fixed sections: 检查内容 / 为何重要 /
示例 / 处理方法 (a test enforces them; ``docs/rules.md`` is generated from
here). Rules can be selected or ignored by code or prefix. A rule that crashes
becomes a finding naming the rule and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from ..model import CellRef, Finding, Severity
from ..records import dataclass
from .context import CheckContext

DOC_SECTIONS = ("检查内容", "为何重要", "示例", "处理方法")


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class Rule:
    """A registered rule: its code, default severity, title and the function that checks."""

    code: str
    severity: Severity
    title: str
    func: Callable[["CheckContext", "Emitter"], None]

    @property
    def family(self) -> str:
        return self.code[0]

    @property
    def doc(self) -> str:
        import inspect  # only where a rule's text is shown: it costs at start-up

        return inspect.cleandoc(self.func.__doc__ or "")


REGISTRY: dict[str, Rule] = {}


def rule(code: str, severity: Severity, title: str):
    def register(func):
        if code in REGISTRY:
            raise ValueError(f"rule code {code} registered twice")
        REGISTRY[code] = Rule(code, severity, title, func)
        return func

    return register


class Emitter:
    """What a rule calls to report; fills in the rule's code and title."""

    def __init__(self, rule: Rule):
        self.rule = rule
        self.findings: list[Finding] = []

    def emit(
        self,
        message: str,
        refs: Iterable[CellRef | None] = (),
        severity: Severity | None = None,
        expected=None,
        actual=None,
        difference: Decimal | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                self.rule.code,
                severity or self.rule.severity,
                message,
                tuple(r for r in refs if r is not None),
                expected,
                actual,
                difference,
                self.rule.title,
            )
        )


def _matches(code: str, patterns: Sequence[str]) -> bool:
    return any(code.upper().startswith(p.strip().upper()) for p in patterns if p.strip())


def selected(code: str, select: Sequence[str] | None, ignore: Sequence[str] | None) -> bool:
    if select and not _matches(code, select):
        return False
    return not (ignore and _matches(code, ignore))


def run_rules(ctx: CheckContext, select: Sequence[str] | None = None, ignore: Sequence[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for code, r in sorted(REGISTRY.items()):
        if not selected(code, select, ignore):
            continue
        out = Emitter(r)
        try:
            r.func(ctx, out)
        except Exception as exc:  # a broken rule must not stop the others
            import traceback

            where = traceback.extract_tb(exc.__traceback__)[-1]
            out.findings = [
                Finding(
                    code,
                    Severity.ERROR,
                    f"规则 {code}（{r.title}）运行出错：{type(exc).__name__}（{where.name} 第{where.lineno}行）。"
                    "这是 budgetxl 的问题，不是工作簿的问题，请把工作簿和这条信息发给维护人员；其他规则照常运行。",
                    (),
                    title="规则运行出错",
                )
            ]
        findings.extend(out.findings)
    return findings


def load_all() -> None:
    """Import every rule module so that the registry is complete."""
    from . import arithmetic, crosstable, narrative_inputs, performance, reasons, structure  # noqa: F401


load_all()
