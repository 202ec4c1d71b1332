"""`budgetxl check` starts light: it imports only what checking needs, and the
spec is not re-parsed from TOML on every start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from budgetxl.spec import _HERE, DEFAULT_SPEC, load_spec, parse_spec

from .conftest import EXAMPLE

HEAVY = ("jinja2", "multiprocessing", "concurrent.futures", "pandas", "xlwings", "sqlite3", "openpyxl", "docx", "tomllib",
         "dataclasses", "inspect", "typing", "locale", "csv", "weakref")  # the last six: start-up cost only (records, cli._help_width, cache)


def test_check_imports_only_what_it_uses(tmp_path):
    script = (
        "import json, sys\nfrom budgetxl.cli import main\n"
        f"main(['check', {str(EXAMPLE)!r}])\n"
        "print(json.dumps(sorted(m for m in sys.modules)))\n"
    )
    env = {**os.environ, "BUDGETXL_CACHE": str(tmp_path)}
    subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)  # fills the cache
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not [m for m in HEAVY if m in loaded], sorted(m for m in HEAVY if m in loaded)


def test_the_spec_cache_gives_the_parsed_spec_and_follows_edits(tmp_path):
    env = {**os.environ, "BUDGETXL_CACHE": str(tmp_path)}
    script = "from budgetxl.spec import load_spec; import pickle, sys; sys.stdout.buffer.write(pickle.dumps(load_spec()))"
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, check=True).stdout
    entries = list(tmp_path.glob("spec-*.marshal"))
    assert len(entries) == 1 and oct(entries[0].stat().st_mode & 0o777) == "0o600"
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, check=True).stdout
    import pickle

    fresh = parse_spec((_HERE / f"{DEFAULT_SPEC}.toml").read_text(encoding="utf-8"), _HERE / f"{DEFAULT_SPEC}.toml")
    assert pickle.loads(first) == pickle.loads(second) == fresh
    # an edited spec file is a new key: never a stale entry
    edited = tmp_path / "edited.toml"
    edited.write_text((_HERE / f"{DEFAULT_SPEC}.toml").read_text(encoding="utf-8").replace('title = "', 'title = "改', 1), encoding="utf-8")
    os.environ["BUDGETXL_CACHE"] = str(tmp_path)
    try:
        load_spec.cache_clear()
        spec = load_spec(str(edited))
    finally:
        del os.environ["BUDGETXL_CACHE"]
        load_spec.cache_clear()
    assert spec.title.startswith("改") and len(list(tmp_path.glob("spec-*.marshal"))) == 2
    # edited again: the entry of its last text is removed, the folder does not grow with every edit
    edited.write_text(edited.read_text(encoding="utf-8").replace('title = "改', 'title = "再改', 1), encoding="utf-8")
    (tmp_path / "spec-0-0-0.pickle").write_bytes(b"old format")
    os.environ["BUDGETXL_CACHE"] = str(tmp_path)
    try:
        load_spec.cache_clear()
        assert load_spec(str(edited)).title.startswith("再改")
    finally:
        del os.environ["BUDGETXL_CACHE"]
        load_spec.cache_clear()
    assert len(list(tmp_path.glob("spec-*"))) == 2, sorted(p.name for p in tmp_path.iterdir())
    # an entry of a checkout elsewhere, written over a month ago, goes with the next write
    stale = tmp_path / "spec-1-2-3.marshal"
    stale.write_bytes(b"")
    os.utime(stale, (0, 0))
    edited.write_text(edited.read_text(encoding="utf-8").replace('title = "再改', 'title = "三改', 1), encoding="utf-8")
    os.environ["BUDGETXL_CACHE"] = str(tmp_path)
    try:
        load_spec.cache_clear()
        load_spec(str(edited))
    finally:
        del os.environ["BUDGETXL_CACHE"]
        load_spec.cache_clear()
    assert not stale.exists() and len(list(tmp_path.glob("spec-*"))) == 2


def test_the_shipped_code_lists_are_kept_parsed_and_follow_edits(tmp_path):
    """The code lists come from the cache (no csv import at start-up); an edited
    list is a new key: never a stale entry."""
    from budgetxl.codes import load_codes, parse_code_csv

    shipped = load_spec()
    env = {**os.environ, "BUDGETXL_CACHE": str(tmp_path)}
    script = ("import sys\nfrom budgetxl.codes import codes_for\nfrom budgetxl.spec import load_spec\n"
              "c = codes_for(load_spec(), 'functional')\nprint(len(c.names), 'csv' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout.split()
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout.split()
    assert first[1] == "True" and second == [first[0], "False"]  # parsed once, then from the cache
    csv = _HERE / shipped.functional_codes
    fresh = parse_code_csv(csv.read_text(encoding="utf-8-sig"), "functional", str(csv))
    assert int(first[0]) == len(fresh.names)
    edited = tmp_path / "codes.csv"
    edited.write_text(csv.read_text(encoding="utf-8-sig") + "2990101,项,新增的项,29901\n", encoding="utf-8")
    os.environ["BUDGETXL_CACHE"] = str(tmp_path)
    try:
        load_codes.cache_clear()
        assert load_codes("functional", str(edited)).name("2990101") == "新增的项"
        edited.write_text(csv.read_text(encoding="utf-8-sig"), encoding="utf-8")
        load_codes.cache_clear()
        assert load_codes("functional", str(edited)).name("2990101") is None
    finally:
        del os.environ["BUDGETXL_CACHE"]
        load_codes.cache_clear()
