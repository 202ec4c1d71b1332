"""Published documents. ``prepare`` is the one place that decides what gets
printed: the figures (with 元 → 万元 rounding) and the narrative written from them."""

from __future__ import annotations


def prepare(disclosure, spec):
    """(model to print, narrative, rounding adjustments)."""
    from ..narrative import generate
    from .rounding import printable

    model, adjustments = printable(disclosure, spec)
    return model, generate(model, spec), adjustments
