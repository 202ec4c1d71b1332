"""docx → PDF through LibreOffice (headless): the one-shot path.

``office`` keeps one LibreOffice running for a whole batch; this module is the
fallback when that is not possible (no Python with ``uno``). LibreOffice
start-up dominates (≈1.5 s), so each call converts a whole chunk of documents
with one private profile. The 目录 keeps the entries without page numbers on
this path (``soffice --convert-to`` does not update indexes). Government fonts are mapped to the
open CJK fonts by ``fonts.conf`` (FONTCONFIG_FILE), so the PDF shows Chinese
glyphs with a serif body and mainland punctuation on any Linux machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path


class PdfUnavailable(RuntimeError):
    """LibreOffice is not installed; the message is for the user."""


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if not path:
        raise PdfUnavailable("未安装 LibreOffice，无法生成 PDF。请运行 scripts/setup.sh（或 apt-get install libreoffice-writer fonts-noto-cjk）后重试；Word 和 Excel 文件不受影响。")
    return path


def fonts_conf() -> Path:
    return Path(str(resources.files("budgetxl.render").joinpath("fonts.conf")))


HUGE_PAGES = "glibc.malloc.hugetlb=1"


def office_env(base: dict | None = None) -> dict[str, str]:
    """The environment LibreOffice runs in: the font aliases (``fonts.conf``),
    and glibc's allocator asked to back its heap with transparent huge pages
    (``GLIBC_TUNABLES``). LibreOffice's start-up is mostly the kernel filling
    fresh memory page by page: with huge pages it costs about half the CPU
    time, and each conversion a little less (bench/bench_office.py); memory
    grows by about 1–3%. glibc before 2.35, or a kernel with transparent huge
    pages off, ignores the setting."""
    env = dict(os.environ if base is None else base)
    env["FONTCONFIG_FILE"] = str(fonts_conf())
    tunables = env.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" not in tunables:
        env["GLIBC_TUNABLES"] = f"{tunables}:{HUGE_PAGES}" if tunables else HUGE_PAGES
    return env


def convert(docx_files: list[Path], outdir: Path, profile: Path, timeout_per_file: int = 60) -> dict[Path, Path | None]:
    """Convert files into ``outdir``; returns source -> PDF path (None if it failed)."""
    if not docx_files:
        return {}
    outdir.mkdir(parents=True, exist_ok=True)
    env = office_env()
    cmd = [
        soffice(), f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
        "--nolockcheck", "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docx_files),
    ]
    try:
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60 + timeout_per_file * len(docx_files), check=False)
    except subprocess.TimeoutExpired:
        pass  # whatever was converted is kept; the rest is reported as failed
    result = {}
    for f in docx_files:
        pdf = outdir / (f.stem + ".pdf")
        result[f] = pdf if pdf.exists() and pdf.stat().st_size > 0 else None
    return result


def convert_pairs(pairs: list[tuple[Path, Path]], work: Path, workers: int = 1, chunk: int = 10) -> dict[Path, float | None]:
    """The one-shot path for (source, target) pairs: one LibreOffice start per
    chunk of files, chunks in parallel. Returns source -> seconds (None: failed)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    if not pairs:
        return {}
    size = max(1, min(chunk, -(-len(pairs) // max(1, workers))))
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    done: dict[Path, float | None] = {}

    def run(i: int, batch: list[tuple[Path, Path]]) -> None:
        # LibreOffice names its output after the input: give each input a unique stem
        inputs = work / f"in{i}"
        inputs.mkdir(parents=True)
        links = {}
        for k, (source, target) in enumerate(batch):
            link = inputs / f"{k}.docx"
            shutil.copyfile(source, link)
            links[link] = (source, target)
        t = time.perf_counter()
        made = convert(list(links), work / f"out{i}", work / f"profile{i}")
        share = (time.perf_counter() - t) / len(batch)
        for link, (source, target) in links.items():
            if made.get(link) is None:
                done[source] = None
            else:
                os.replace(made[link], target)
                done[source] = share

    def guarded(i: int, batch: list[tuple[Path, Path]]) -> None:
        try:
            run(i, batch)
        except Exception:  # one chunk's failure must not stop the others
            for source, _ in batch:
                done.setdefault(source, None)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(lambda a: guarded(*a), enumerate(chunks)))
    return done
