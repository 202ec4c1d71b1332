"""Generated workbooks for the collect benches: N copies of the example, each
with its own department name, and the plain openpyxl read-only load loop they
are compared against."""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import openpyxl_loop  # noqa: E402,F401  (re-exported for the isolation benches)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "akto_2026.xlsx"


def generate(folder: Path, n: int) -> list[Path]:
    with zipfile.ZipFile(EXAMPLE) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    out = []
    for k in range(n):
        target = folder / f"unit{k:04d}.xlsx"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for info, data in members:
                if info.filename.startswith("xl/worksheets/"):
                    text = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))) if int(m.group(1)) > 127 else m.group(0), data.decode())
                    data = text.replace("阿克陶县社会保险中心", f"单位{k:04d}").encode()
                zout.writestr(info, data)
        out.append(target)
    return out


