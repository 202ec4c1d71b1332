"""Published documents. ``prepare`` is the one place that decides what gets
printed: the figures (with 元 → 万元 rounding) and the narrative written from them."""

from __future__ import annotations


def prepare(disclosure, spec):
    """(model to print, narrative, rounding adjustments)."""
    from ..narrative import generate
    from .rounding import printable

    model, adjustments = printable(disclosure, spec)
    return model, generate(model, spec), adjustments


def warm(spec, formats=("docx", "pdf", "xlsx")) -> None:
    """Import the renderers and build their per-process package skeletons now
    (a batch does it before forking its workers, which then share them)."""
    from ..narrative import environment, template_names
    from . import docx_document, rounding, xlsx_publication  # noqa: F401

    env = environment()
    for name in template_names():  # compiled once, here
        env.get_template(name)
    if "docx" in formats or "pdf" in formats:
        docx_document._package()
    if "xlsx" in formats:
        xlsx_publication._skeleton(spec)
