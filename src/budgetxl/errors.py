"""Errors whose message is for the user (Chinese, says what to do) and that the
front ends show as they are. Kept in a module of their own so the command line
can catch them without importing the machinery that raises them."""

from __future__ import annotations


class TemplateError(ValueError):
    """A 情况说明 template (a bureau's own, given with --templates) cannot be used."""


class FillError(ValueError):
    """The data file does not fit the template; the message is for the user."""


class RosterError(ValueError):
    """The roster file cannot be used; the message is for the user."""


class ConfigureError(Exception):
    """``budgetxl excel-setup`` cannot configure the workbook; the message is for the user."""


class CodeListError(ValueError):
    """A code list the user gave cannot be used; the message is for the user."""
