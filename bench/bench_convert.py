"""Per-document time of a batch (docx + pdf + xlsx) and where the time goes.

    .venv/bin/python bench/bench_convert.py [N]

Converts N (default 20) variants of the example at -j 1 and -j 2: Word and
Excel only, then all three formats with the persistent LibreOffice
(render/office.py), and at -j 2 also through the one-shot ``soffice
--convert-to`` path. The baseline, measured in the same run, is one bare
``soffice --convert-to pdf`` of one of the same Word files (warm profile):
every figure is also given as a ratio to it. Ends with the per-workbook cost
split (read+check, narrative, docx, xlsx, pdf).
"""

from __future__ import annotations

import os
import re
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
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20


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


def run(sources, jobs: int, formats, one_shot: bool = False):
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    if one_shot:
        os.environ["BUDGETXL_UNO_PYTHON"] = ""
    office.uno_python.cache_clear()
    try:
        t = time.perf_counter()
        results = convert_all(sources, out, formats, jobs, spec=SPEC)
        wall = time.perf_counter() - t
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
    return wall, results, kept


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
for formats, jobs, one_shot in configs:
    wall, results, kept = run(sources, jobs, formats, one_shot)
    sample = sample or kept
    rows.append((",".join(formats), jobs, "one-shot" if one_shot else ("office" if "pdf" in formats else ""), wall, results))
bare = bare_soffice(sample)
print(f"{N} workbooks, {os.cpu_count()} cores; baseline: one bare `soffice --convert-to pdf` of one of the Word files = {bare:.2f} s")
print(f"{'formats':<16} {'-j':>3} {'pdf path':<9} {'seconds':>8} {'s/doc':>6} {'docs/min':>9} {'s/doc ÷ bare':>13}")
for formats, jobs, path, wall, _ in rows:
    per = wall / N
    print(f"{formats:<16} {jobs:>3} {path:<9} {wall:8.2f} {per:6.2f} {N / wall * 60:9.1f} {per / bare:13.2f}")
_, _, _, _, results = rows[2]  # all formats, -j 1, office
split = {k: statistics.mean(r.seconds.get(k, 0.0) for r in results) for k in ("read+check", "narrative", "docx", "xlsx", "pdf")}
total = sum(split.values())
print("cost per workbook (-j 1, all formats, persistent office):")
for k, v in split.items():
    print(f"  {k:<11} {v * 1000:7.0f} ms  {v / total:6.1%}")
shutil.rmtree(work)
shutil.rmtree(sample.parent, ignore_errors=True)
