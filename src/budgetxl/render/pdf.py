"""docx → PDF through LibreOffice (headless), many files per start.

LibreOffice start-up dominates (≈1.5 s), so each call converts a whole chunk
of documents with one private profile. Government fonts are mapped to the
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


def convert(docx_files: list[Path], outdir: Path, profile: Path, timeout_per_file: int = 60) -> dict[Path, Path | None]:
    """Convert files into ``outdir``; returns source -> PDF path (None if it failed)."""
    if not docx_files:
        return {}
    outdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts_conf())}
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
