from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from budgetxl import api
from budgetxl.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "akto_2026.xlsx"
EXAMPLE_DATA = ROOT / "examples" / "akto_2026.toml"
TEMPLATE = ROOT / "templates" / "budget_template.xlsx"


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def example_reading():
    return api.read(EXAMPLE)


@pytest.fixture
def example_copy(tmp_path) -> Path:
    target = tmp_path / "示例 工作簿.xlsx"
    shutil.copyfile(EXAMPLE, target)
    return target
