"""Per-document time of a batch (docx + pdf + xlsx) and where the time goes.

    .venv/bin/python bench/bench_convert.py [N]

Converts N (default 20) variants of the example at -j 1 and -j 2: Word and
Excel only, then all three formats with the persistent LibreOffice
(render/office.py), and at -j 2 also through the one-shot ``soffice
--convert-to`` path. The baseline, measured in the same run, is one bare
``soffice --convert-to pdf`` of one of the same Word files (warm profile):
every figure is also given as a ratio to it, with the CPU seconds per
document of all processes (a figure other work on the machine blurs less),
the CPU seconds other processes used meanwhile, and how many cores two busy
processes got before and after the runs. Each
configuration runs in a fresh Python process, as ``budgetxl convert`` does
(nothing imported or built by an earlier run helps a later one); the time is
that of ``convert_all`` in it. Ends with the per-workbook cost split
(read+check, narrative, docx, xlsx, pdf).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from budgetxl.batch import convert_all
from budgetxl.render import office
from budgetxl.render.pdf import fonts_conf, soffice
from budgetxl.spec import load_spec

SPEC = load_spec()

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "akto_2026.xlsx"
N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--one" else 20


def variants(folder: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        target = folder / f"unit{i:02d}.xlsx"
        with zipfile.ZipFile(EXAMPLE) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename.startswith("xl/worksheets/") or item.filename == "xl/sharedStrings.xml":
                    text = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))) if int(m.group(1)) > 127 else m.group(0), data.decode())  # &#38463; → 阿
                    data = text.replace("阿克陶县社会保险中心", f"测试单位{i:02d}").replace("人力资源和社会管理事务", "人力资源和社会保障管理事务").encode()
                zout.writestr(item, data)
        out.append(target)
    return out


def cpu_seconds() -> float:
    """CPU time of this process and of every finished child process (worker
    processes, LibreOffice and its helpers: all are waited for)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used since boot (Linux)."""
    try:
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cores_available(seconds: float = 1.0) -> float:
    """How many cores two busy-looping processes get right now (2.0 on an idle
    2-core machine; less when other work shares the machine)."""
    def spin() -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    before, t = cpu_seconds(), time.perf_counter()
    procs = [multiprocessing.get_context("fork").Process(target=spin) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return (cpu_seconds() - before) / (time.perf_counter() - t)


def run_here(sources, jobs: int, formats, one_shot: bool = False) -> dict:
    """One configuration, in this process: wall and CPU seconds of convert_all,
    each workbook's cost split, and a copy of one Word file."""
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    if one_shot:
        os.environ["BUDGETXL_UNO_PYTHON"] = ""
    office.uno_python.cache_clear()
    try:
        t, cpu, busy = time.perf_counter(), cpu_seconds(), machine_busy_seconds()
        results = convert_all(sources, out, formats, jobs, spec=SPEC)
        wall, cpu = time.perf_counter() - t, cpu_seconds() - cpu
        others = machine_busy_seconds() - busy - cpu if busy is not None else None
    finally:
        os.environ.pop("BUDGETXL_UNO_PYTHON", None)
        office.uno_python.cache_clear()
    docx = next(out.glob("*.docx"), None)
    kept = None
    if docx is not None:
        kept = Path(tempfile.mkdtemp(prefix="bench-docx-")) / "doc.docx"
        shutil.copyfile(docx, kept)
    shutil.rmtree(out)
    assert all(r.status == "完成" for r in results), [r.message for r in results if r.status != "完成"]
    return {"wall": wall, "cpu": cpu, "others": others, "seconds": [r.seconds for r in results], "kept": str(kept) if kept else None}


def run(sources, jobs: int, formats, one_shot: bool = False) -> dict:
    """One configuration in a fresh Python process."""
    args = [sys.executable, __file__, "--one", json.dumps([[str(s) for s in sources], jobs, list(formats), one_shot])]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bare_soffice(docx: Path) -> float:
    """One plain `soffice --convert-to pdf` of one document; the second of two
    runs on the same profile (the first also creates the profile)."""
    profile = docx.parent / "profile"
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts_conf())}
    cmd = [soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf", "--outdir", str(docx.parent), str(docx)]
    times = []
    for _ in range(2):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return times[-1]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-in-"))
    sources = variants(work, N)
    configs = [
        (("docx", "xlsx"), 1, False),
        (("docx", "xlsx"), 2, False),
        (("docx", "pdf", "xlsx"), 1, False),
        (("docx", "pdf", "xlsx"), 2, False),
        (("docx", "pdf", "xlsx"), 2, True),
    ]
    rows = []
    sample = None
    cores_before = cores_available()
    for formats, jobs, one_shot in configs:
        r = run(sources, jobs, formats, one_shot)
        sample = sample or (Path(r["kept"]) if r["kept"] else None)
        rows.append((",".join(formats), jobs, "one-shot" if one_shot else ("office" if "pdf" in formats else ""), r))
    bare = bare_soffice(sample)
    cores_after = cores_available()
    print(f"{N} workbooks, {os.cpu_count()} cores; baseline: one bare `soffice --convert-to pdf` of one of the Word files = {bare:.2f} s")
    print(f"cores two busy processes got: {cores_before:.2f} before the runs, {cores_after:.2f} after (2.00: nothing else was running)")
    print(f"{'formats':<16} {'-j':>3} {'pdf path':<9} {'seconds':>8} {'s/doc':>6} {'docs/min':>9} {'s/doc ÷ bare':>13} {'CPU-s/doc':>10} {'others':>7}")
    for formats, jobs, path, r in rows:
        per = r["wall"] / N
        others = f"{r['others']:7.1f}" if r["others"] is not None else "      ?"
        print(f"{formats:<16} {jobs:>3} {path:<9} {r['wall']:8.2f} {per:6.2f} {N / r['wall'] * 60:9.1f} {per / bare:13.2f} {r['cpu'] / N:10.2f} {others}")
    print("CPU-s/doc: all processes of the batch (workers, LibreOffice and its helpers); on 2 otherwise idle cores a batch needs at least CPU-s/doc ÷ 2 per document")
    print("others: CPU seconds other processes of the machine used during that run (0: the figure is the machine's own)")
    print(f"the PDF stage (all formats -j 2 office minus Word+Excel -j 2): {(rows[3][3]['cpu'] - rows[1][3]['cpu']) / N:.2f} CPU-s/doc")
    seconds = rows[2][3]["seconds"]  # all formats, -j 1, office
    split = {k: statistics.mean(s.get(k, 0.0) for s in seconds) for k in ("read+check", "narrative", "docx", "xlsx", "pdf")}
    total = sum(split.values())
    print("cost per workbook (-j 1, all formats, persistent office):")
    for k, v in split.items():
        print(f"  {k:<11} {v * 1000:7.0f} ms  {v / total:6.1%}")
    shutil.rmtree(work)
    for _, _, _, r in rows:
        if r["kept"]:
            shutil.rmtree(Path(r["kept"]).parent, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        paths, jobs, formats, one_shot = json.loads(sys.argv[2])
        print(json.dumps(run_here([Path(p) for p in paths], jobs, tuple(formats), one_shot)))
    else:
        main()
