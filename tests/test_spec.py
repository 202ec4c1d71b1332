"""The layout is data: another region's template is another spec file."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pathlib import Path

from budgetxl import pipeline
from budgetxl.spec import load_spec, parse_spec

OTHER_REGION = """
[meta]
id = "test-region-2027"
region = "测试省"
year = 2027
title = "部门预算公开"
functional_codes = "functional_2026.csv"
economic_codes = "economic_2026.csv"

[[tables]]
key = "T1"
number = 1
sheet = "表一 支出总表"
title = "部门支出总表"
layout = "classified"
codes = "functional"
header = [["功能科目编码", "功能科目名称", "合计", "基本支出", "项目支出"]]
columns = [
  { key = "功能科目编码", role = "code" },
  { key = "功能科目名称", role = "name" },
  { key = "合计", role = "amount" },
  { key = "基本支出", role = "amount" },
  { key = "项目支出", role = "amount" },
]
row_sums = [{ target = "合计", terms = ["基本支出", "项目支出"] }]

[[inputs]]
key = "info"
sheet = "单位信息"
kind = "form"
title = "单位信息"
fields = [{ key = "单位名称", type = "text", required = true }, { key = "年度", type = "year" }, { key = "金额单位", type = "choice", choices = ["万元", "元"] }]
"""


def test_shipped_spec_has_twelve_tables():
    spec = load_spec()
    assert [t.key for t in spec.tables] == [f"T{i}" for i in range(1, 13)]
    assert spec.table("T7").column("project").key == "项目名称"


def test_another_region_is_a_spec_file(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text(OTHER_REGION, encoding="utf-8")
    spec = load_spec(str(path))
    workbook = pipeline.write_template(tmp_path / "t.xlsx", spec)
    import openpyxl

    wb = openpyxl.load_workbook(workbook)
    ws = wb["表一 支出总表"]
    ws["A5"], ws["B5"], ws["D5"], ws["E5"] = "2080109", "社会保险经办机构", 10, 5
    wb["单位信息"]["B3"] = "测试单位"
    wb.save(workbook)
    reading = pipeline.read(workbook, spec)
    table = reading.disclosure.table("T1")
    assert table.by_code("2080109").value("基本支出") == Decimal("10")
    done = pipeline.subtotal_file(workbook, spec, tmp_path / "o.xlsx")
    assert pipeline.read(done.target, spec).disclosure.table("T1").total_row().value("合计") == Decimal("15")


def test_spec_mistakes_are_caught_when_loading():
    broken = OTHER_REGION.replace('target = "合计"', 'target = "总额"')
    with pytest.raises(ValueError, match="unknown column"):
        parse_spec(broken)
    with pytest.raises(ValueError, match="differ in width"):
        parse_spec(OTHER_REGION.replace('"项目支出"]]', '"项目支出", "多余"]]'))


def test_no_home_folder_means_no_cache_not_a_crash():
    """HOME unset and no passwd entry (a service account): every command used to
    stop with "Could not determine home directory" (found by a fresh-clone trial)."""
    import os
    import shutil
    import subprocess
    import sys

    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv or not Path("/usr/bin/python3").exists():
        pytest.skip("needs root, setpriv and a system Python to run as a user without a passwd entry")
    src = Path(__file__).resolve().parent.parent / "src"
    probe = ("from budgetxl.cache import cache_folder\n"
             "import os\nos.environ['XDG_CACHE_HOME'] = 'relative'\nprint(cache_folder())\n")
    out = subprocess.run([setpriv, "--reuid", "4242", "--regid", "4242", "--clear-groups", "env", "-u", "HOME",
                          f"PYTHONPATH={src}", "/usr/bin/python3", "-c", probe], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "None", out.stderr
