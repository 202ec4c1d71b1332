"""`check` on the example, as a ratio to the raw calamine read of the same file.

Two views, each against its own baseline measured in the same run:

* whole process: ``budgetxl check FILE`` (the installed command) against a process that
  only imports python-calamine and reads every sheet (same interpreter), and
  the peak memory of the check process (VmHWM); a process that only imports
  what check imports, and an empty one, show what start-up and imports cost;
* in one process: the steps (guard pass, read, parse, rules) against the raw
  calamine read.

    .venv/bin/python bench/bench_check.py [WORKBOOK]

With ``BENCH_BASELINE_SRC=DIR`` (the ``src`` folder of another checkout, e.g.
``git archive main | tar -x -C /tmp/base``) the check process of that tree is
timed in the same run too, for a before/after ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import measure, raw_calamine, report  # noqa: E402

from budgetxl import pipeline
from budgetxl.grid import read_workbook
from budgetxl.guard import scan
from budgetxl.rules import run_rules
from budgetxl.rules.context import CheckContext
from budgetxl.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
# Time the commands as installed: pip writes the bytecode (.pyc) of a package when
# it installs it, and Python writes it on the first run, so no start-up here should
# pay for compiling our sources (PYTHONDONTWRITEBYTECODE would make every run do so).
import compileall  # noqa: E402

compileall.compile_dir(ROOT / "src" / "budgetxl", quiet=1)
path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "akto_2026.xlsx"
spec = load_spec()

BARE = (
    "import sys\nfrom python_calamine import CalamineWorkbook\n"
    "wb = CalamineWorkbook.from_path(sys.argv[1])\n"
    "[wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names]\n"
)
PEAK = (
    "import sys\nfrom budgetxl.cli import main\ncode = main(['check', sys.argv[1]])\n"
    "peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
    "print(peak, file=sys.stderr)\n"
)


def process_seconds(argv: list[str], repeat: int = 15) -> float:
    times = []
    for _ in range(repeat + 2):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times[2:])


IMPORTS = "import budgetxl.cli, budgetxl.rules, python_calamine"  # every module check imports before it reads

# ``budgetxl check FILE`` as a user types it: the console script pip installed
# (it imports budgetxl.cli and calls run; ``python -m`` would add runpy's imports).
# A tree given by BENCH_BASELINE_SRC has no script of its own: the same wrapper
# text runs it, calling ``run`` or, in an older tree, ``main``.
WRAPPER = (
    "import sys\nfrom budgetxl import cli\n"
    "sys.argv[0] = sys.argv[0].removesuffix('.exe')\n"
    "sys.exit(cli.run() if hasattr(cli, 'run') else cli.main(sys.argv[1:]))\n"
)
script = Path(sys.executable).with_name("budgetxl")
command = [str(script)] if script.exists() else [sys.executable, "-c", WRAPPER]

whole = [
    ("bare calamine read (process)", process_seconds([sys.executable, "-c", BARE, str(path)])),
    ("budgetxl check (process)", process_seconds([*command, "check", str(path)])),
    ("imports of check, nothing run (process)", process_seconds([sys.executable, "-c", IMPORTS])),
    ("python -c pass (process)", process_seconds([sys.executable, "-c", "pass"])),
]
if os.environ.get("BENCH_BASELINE_SRC"):
    env = {**os.environ, "PYTHONPATH": os.environ["BENCH_BASELINE_SRC"]}
    argv = [sys.executable, "-c", WRAPPER, "check", str(path)]
    times = []
    for _ in range(17):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - t)
    whole.append(("baseline tree: budgetxl check (process)", statistics.median(times[2:])))
peak = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=False).stderr.strip().splitlines()[-1]

reading = pipeline.read(path, spec)
ctx = CheckContext.build(reading.disclosure, spec)
rows = [
    ("calamine raw read", measure(lambda: raw_calamine(path))),
    ("guard pass (budgets, formulas, hidden)", measure(lambda: scan(path, "xlsx"))),
    ("guard pass reading the values too", measure(lambda: scan(path, "xlsx", values=True))),
    ("read_workbook (the one pass, or guard + calamine without the C pass)", measure(lambda: read_workbook(path))),
    ("rules only (model → findings)", measure(lambda: run_rules(ctx))),
    ("check: read + parse + rules", measure(lambda: pipeline.check(pipeline.read(path, spec), spec))),
]
print(f"workbook: {path.name}, {len(pipeline.check(reading, spec).findings)} findings")
report(whole, "bare calamine read (process)")
print(f"peak memory of the check process: {int(peak) / 1024:.1f} MiB")
print()
report(rows, "calamine raw read")
