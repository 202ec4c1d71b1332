"""Run the generated hostile corpus (``tests/robust_corpus.py``) plus the batch
scenarios through the real command line, each command in its own process with a
30-second limit, and count tracebacks, 内部错误, hangs, changed inputs and stopped
batches. ``python -m tests.robust_sweep [DIR]``; prints one line per run and the totals.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import robust_corpus

CLI = [sys.executable, "-m", "budgetxl.cli"]


def main(folder: Path) -> int:
    corpus = robust_corpus.build(folder / "corpus")
    inbox = folder / "inbox"
    inbox.mkdir()
    for p in corpus:
        os.link(p, inbox / p.name)
    os.mkfifo(inbox / "管道.xlsx")
    (inbox / "环.xlsx").symlink_to(inbox / "环.xlsx")
    (inbox / "表.csv").write_text("a,b\n", encoding="utf-8")
    os.utime(inbox / corpus[0].name, ns=(2**62, 2**62))
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus}
    runs = []
    for i, p in enumerate(corpus):
        out = folder / f"out{i}"
        out.mkdir()
        runs += [
            ["check", p, "--annotate", out / "a.xlsx"],
            ["subtotal", p, "-o", out / "s.xlsx"],
            ["narrate", p, "--write", out / "n.xlsx"],
        ]
    runs += [
        ["convert", *sorted(inbox.iterdir()), "-o", folder / "pub", "-j", "2", "--force"],
        ["collect", *sorted(inbox.iterdir()), "--db", folder / "b.db", "-j", "2", "-o", folder / "状态.xlsx"],
        ["report", "--db", folder / "b.db", "-o", folder / "状态2.xlsx"],
    ]
    counts = {"runs": 0, "traceback": 0, "内部错误": 0, "hang": 0, "exit>2": 0}
    for args in runs:
        counts["runs"] += 1
        try:
            r = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            counts["hang"] += 1
            print("HANG", args[:2])
            continue
        text = r.stdout + r.stderr
        counts["traceback"] += "Traceback" in text
        counts["内部错误"] += "内部错误" in text
        counts["exit>2"] += r.returncode not in (0, 1, 2)
        print(r.returncode, args[0], Path(str(args[1])).name)
    changed = sum(hashlib.sha256(p.read_bytes()).hexdigest() != h for p, h in before.items())
    print({**counts, "inputs changed": changed})
    return 0 if not any(v for k, v in counts.items() if k != "runs") and not changed else 1


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="robust-sweep-"))
    sys.exit(main(target))
