from __future__ import annotations

import pytest

from budgetxl import pipeline
from budgetxl.model import Severity

from ..builders import GridEditor
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()


def run(grid, code: str):
    """Findings of one rule on a grid."""
    reading = pipeline.read_grid(grid, SPEC)
    return list(pipeline.check(reading, SPEC, select=[code]).findings)


def cell(reading, table: str, row_id: str, column: str, side=None):
    """Cell reference of a figure in the example: row by code or fixed-row key."""
    t = reading.disclosure.table(table)
    row = t.by_code(row_id) or t.by_key(row_id, side) or next(r for r in t.rows if r.project == row_id)
    return row.values[column].ref


@pytest.fixture
def editor():
    return GridEditor()


@pytest.fixture(scope="session")
def base(example_reading):
    return example_reading


def fired(findings, ref=None, severity=Severity.ERROR):
    return [f for f in findings if f.severity == severity and (ref is None or ref in f.refs)]
