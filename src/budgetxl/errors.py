"""Errors whose message is for the user (Chinese, says what to do) and that the
front ends show as they are. Kept in a module of their own so the command line
can catch them without importing the machinery that raises them."""

from __future__ import annotations


class TemplateError(ValueError):
    """A 情况说明 template (a bureau's own, given with --templates) cannot be used."""
