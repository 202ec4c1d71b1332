from __future__ import annotations

import os

# xlwings decides at import time whether its remote engine (xlwings/pro, PolyForm
# Noncommercial licence: free for this project's tests and for government users)
# is available, so the key is set before anything imports xlwings.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import shutil  # noqa: E402
from pathlib import Path

import pytest  # noqa: E402

from budgetxl import pipeline  # noqa: E402
from budgetxl.spec import load_spec  # noqa: E402
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "akto_2026.xlsx"
EXAMPLE_DATA = ROOT / "examples" / "akto_2026.toml"
TEMPLATE = ROOT / "templates" / "budget_template.xlsx"


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def example_reading():
    return pipeline.read(EXAMPLE, SPEC)


@pytest.fixture
def example_copy(tmp_path) -> Path:
    target = tmp_path / "示例 工作簿.xlsx"
    shutil.copyfile(EXAMPLE, target)
    return target
