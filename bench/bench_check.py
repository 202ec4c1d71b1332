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


IMPORTS = "import budgetxl.cli, budgetxl.rules, budgetxl.guard"  # every module check imports before it reads

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

BASE = "bare calamine read (process)"
commands = [
    (BASE, [sys.executable, "-c", BARE, str(path)], None),
    ("budgetxl check (process)", [*command, "check", str(path)], None),
    ("imports of check, nothing run (process)", [sys.executable, "-c", IMPORTS], None),
    ("python -c pass (process)", [sys.executable, "-c", "pass"], None),
]
if os.environ.get("BENCH_BASELINE_SRC"):
    env = {**os.environ, "PYTHONPATH": os.environ["BENCH_BASELINE_SRC"]}
    commands.append(("baseline tree: budgetxl check (process)", [sys.executable, "-c", WRAPPER, "check", str(path)], env))

# The processes run in turns (one of each per round), so a change in the machine's
# load falls on all of them alike; each ratio is the median of the per-round ratios.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))
times: dict[str, list[float]] = {name: [] for name, _, _ in commands}
for round_ in range(ROUNDS + 2):
    for name, argv, env in commands:
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        if round_ >= 2:  # the first two rounds warm the file cache and the .pyc files
            times[name].append(time.perf_counter() - t)
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
print(f"{'process':<44} {'ms (median)':>11}  × bare calamine read (median of {ROUNDS} rounds' ratios)")
for name, _, _ in commands:
    ratio = statistics.median(t / b for t, b in zip(times[name], times[BASE]))
    print(f"{name:<44} {statistics.median(times[name]) * 1000:11.2f}  {ratio:6.2f}")
print(f"peak memory of the check process: {int(peak) / 1024:.1f} MiB")
print()
report(rows, "calamine raw read")
