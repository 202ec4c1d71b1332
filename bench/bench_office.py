"""Where LibreOffice's time goes when it converts the example's Word file to PDF.

    .venv/bin/python bench/bench_office.py

Builds the example document whole and without some of its parts (and whole
as it was written before issue 15's speed work: the template's table style and
styles), then has one persistent LibreOffice (the system Python with ``uno``,
started with the environment render/office.py gives it) load, update the 目录
and export each, three times; then a second LibreOffice without glibc's huge
pages does the whole document. Reports the CPU seconds LibreOffice itself
spent starting and in each step (best of three): CPU time, not wall time, so
that other work on the machine does not blur the split.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import budgetxl.render.docx_document as dd
from budgetxl import pipeline
from budgetxl.render import prepare
from budgetxl.render.office import WORKER, uno_python
from budgetxl.render import pdf
from budgetxl.render.pdf import office_env, soffice
from budgetxl.spec import load_spec
from docx.oxml.ns import qn

ROOT = Path(__file__).resolve().parent.parent

PROBE = r'''
import json, os, subprocess, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import office_worker as w
import uno
soffice, profile, files = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
pipe = "budgetxl-bench-%d" % os.getpid()
proc = subprocess.Popen([soffice, "-env:UserInstallation=" + profile, "--headless", "--norestore", "--nolockcheck",
                         "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ctx = w._connect(proc, pipe)
desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
def office_pid():
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open("/proc/%s/comm" % p).read().strip() == "soffice.bin" and profile in open("/proc/%s/cmdline" % p).read():
                return int(p)
        except OSError:
            pass
pid = office_pid()
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
out = {"start-up": cpu()}
for name, path in files.items():
    runs = []
    for _ in range(3):
        c0 = cpu()
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, (w._prop("Hidden", True), w._prop("ReadOnly", True)))
        c1 = cpu()
        idx = doc.getDocumentIndexes()
        for k in range(idx.getCount()):
            idx.getByIndex(k).update()
        c2 = cpu()
        doc.storeToURL(uno.systemPathToFileUrl(path + ".pdf"), (w._prop("FilterName", "writer_pdf_Export"),))
        c3 = cpu()
        doc.close(True)
        runs.append((c1 - c0, c2 - c1, c3 - c2))
    out[name] = min(runs, key=sum)
desktop.terminate()
proc.wait()
print(json.dumps(out))
'''


def with_template_styles(source: Path, target: Path) -> Path:
    """The document as it was written before issue 15's speed work, for a
    comparison in the same run: python-docx's template styles (about 160,
    most of them table styles, and the latent-style list) around ours, and
    every table on the template's "Table Grid" style."""
    import re
    import zipfile

    from docx import Document
    from lxml import etree

    template = Document().styles.element
    ours = etree.fromstring(zipfile.ZipFile(source).read("word/styles.xml"))
    mine = {s.get(qn("w:styleId")): s for s in ours.findall(qn("w:style"))}
    for s in template.findall(qn("w:style")):
        if s.get(qn("w:styleId")) in mine:
            template.remove(s)
    for s in mine.values():
        template.append(s)
    old_defaults, new_defaults = template.find(qn("w:docDefaults")), ours.find(qn("w:docDefaults"))
    template.replace(old_defaults, new_defaults)
    look = '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/styles.xml":
                data = etree.tostring(template, xml_declaration=True, encoding="UTF-8", standalone=True)
            elif item.filename == "word/document.xml":
                text = data.decode().replace("<w:tbl><w:tblPr>", '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>')
                data = re.sub(r"(<w:tblCellMar>.*?</w:tblCellMar>)</w:tblPr>", lambda m: m.group(1) + look + "</w:tblPr>", text).encode()
            zout.writestr(item, data)
    return target


def main() -> None:
    python = uno_python()
    if python is None:
        sys.exit("需要带 uno 的系统 Python（apt-get install python3-uno）")
    spec = load_spec()
    model, narrative, _ = prepare(pipeline.read(ROOT / "examples" / "akto_2026.xlsx", spec).disclosure, spec)
    work = Path(tempfile.mkdtemp(prefix="bench-office-"))
    nothing = lambda *a: None  # noqa: E731
    variants = {
        "whole document": {},
        "without 绩效目标表": {"_performance": nothing},
        "without any table": {"_performance": nothing, "_tables": nothing},
        "cover and 目录 only": {"_performance": nothing, "_tables": nothing, "_overview": nothing, "_explanation": nothing, "_glossary": nothing},
    }
    files = {}
    for name, patches in variants.items():
        saved = {k: getattr(dd, k) for k in patches}
        for k, v in patches.items():
            setattr(dd, k, v)
        try:
            files[name] = str(dd.write_docx(model, narrative, spec, work / f"{len(files)}.docx"))
        finally:
            for k, v in saved.items():
                setattr(dd, k, v)
    files["whole, as before (styles)"] = str(with_template_styles(Path(files["whole document"]), work / "before.docx"))
    env = office_env({"PATH": "/usr/bin:/bin", "HOME": str(work)})  # as render/office.py runs it
    plain = {k: v for k, v in env.items() if k != "GLIBC_TUNABLES"}  # without huge pages, for comparison
    results = {}
    for label, e, todo in (("as convert runs it", env, files), ("without huge pages", plain, {"whole document": files["whole document"]})):
        run = subprocess.run([python, "-c", PROBE, str(WORKER), soffice(), (work / f"profile-{len(results)}").as_uri(), json.dumps(todo)],
                             capture_output=True, text=True, env=e, check=True)
        results[label] = json.loads(run.stdout.strip().splitlines()[-1])
    print("LibreOffice CPU seconds: start-up, and per conversion (best of 3)")
    print(f"{'document':<26} {'load+layout':>11} {'目录':>6} {'export':>7} {'total':>7}")
    for label, result in results.items():
        print(f"-- {label} ({pdf.HUGE_PAGES if label.startswith('as') else 'GLIBC_TUNABLES unset'}): start-up {result.pop('start-up'):.2f}")
        for name, (load, index, export) in result.items():
            print(f"{name:<26} {load:11.2f} {index:6.2f} {export:7.2f} {load + index + export:7.2f}")


if __name__ == "__main__":
    main()
