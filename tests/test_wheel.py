"""The wheel carries everything the Excel buttons need: installed into a fresh
virtual environment, `budgetxl excel setup` and the .xlsm build work from there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

XLSM = ROOT / "templates" / "budget_template.xlsm"


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source")  # a clean copy: no build/ or egg-info left over in the tree
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "*.so"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    # pip builds in an isolated environment with the build backend from the package index
    result = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)])
    wheels = list(out.glob("budgetxl-*.whl"))
    assert wheels, result.stdout + result.stderr
    return wheels[0]


def test_wheel_carries_macros_and_the_macro_workbook(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "budgetxl/macros/budgetxl.bas" in names
        assert zf.read("budgetxl/data/budget_template.xlsm") == XLSM.read_bytes()
        bas = zf.read("budgetxl/macros/budgetxl.bas")
    assert bas.isascii() and b"\r\n" in bas and bas.count(b"\n") == bas.count(b"\r\n")
    assert {"budgetxl/vba/cfb.py", "budgetxl/vba/compression.py", "budgetxl/vba/project.py", "budgetxl/xlsm.py"} <= names
    if sys.platform.startswith("linux"):  # built from source here: the C pass of the guard is in it
        assert any(n.startswith("budgetxl/_sheetscan") and n.endswith(".so") for n in names), sorted(names)


def test_installed_wheel_builds_the_workbook_and_sets_it_up(wheel, tmp_path):
    """A fresh venv with only the wheel installed (its dependencies come from this
    environment's site-packages through a .pth file: no network, no editable source)."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    result = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    assert result.returncode == 0, result.stderr
    budgetxl = env_dir / ("Scripts/budgetxl.exe" if os.name == "nt" else "bin/budgetxl")
    where = _run([str(python), "-c", "import budgetxl; print(budgetxl.__file__)"], cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(env_dir), where  # the installed copy, not the source tree

    help_text = _run([str(budgetxl), "excel", "setup", "--help"], cwd=tmp_path)
    assert help_text.returncode == 0 and "--interpreter" in help_text.stdout

    built = tmp_path / "built.xlsm"
    result = _run([str(budgetxl), "template", "--xlsm", "-o", str(built)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(built) as a, zipfile.ZipFile(XLSM) as b:
        assert {n: a.read(n) for n in a.namelist()} == {n: b.read(n) for n in b.namelist()}

    copy = tmp_path / "部门预算公开.xlsm"
    result = _run([str(budgetxl), "excel", "setup", "-o", str(copy), "--interpreter", r"C:\Python311\python.exe", "--target", "win"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Interpreter_Win" in result.stdout
    with zipfile.ZipFile(copy) as a, zipfile.ZipFile(XLSM) as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")
