"""budgetxl's cache folder (parsed specs, a started LibreOffice profile): a leaf
module, imported at start-up."""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder() -> Path | None:
    """``$BUDGETXL_CACHE`` (``off``: no cache), else ``$XDG_CACHE_HOME/budgetxl``
    (only an absolute path, as the XDG rules say), else ``~/.cache/budgetxl``;
    None when there is no home folder to put it in (HOME unset, no passwd entry)."""
    setting = os.environ.get("BUDGETXL_CACHE", "")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "budgetxl"
    try:
        return Path.home() / ".cache" / "budgetxl"
    except (RuntimeError, KeyError, OSError):
        return None
