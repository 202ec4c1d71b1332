"""A persistent LibreOffice, driven over UNO. Runs under the *system* Python
(the one with Debian's ``python3-uno``), not the project's virtual environment:

    /usr/bin/python3 office_worker.py SOFFICE PROFILE_URL PIPE_NAME

It starts LibreOffice listening on a named pipe (no TCP port to allocate),
prints one JSON line ``{"ready": true}``, then converts one document per JSON
line read from stdin (``{"in": path, "out": path}``) and answers each with a
JSON line (``{"ok": true, "pages": n}`` or ``{"ok": false, "error": text}``).
Indexes (the 目录) are updated before export, so the table of contents gets
its page numbers. At end of input it closes LibreOffice.

Only the standard library and ``uno`` are imported: nothing from budgetxl.
"""

import json
import os
import signal
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(proc, pipe, seconds=90):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + seconds
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if proc.poll() is not None or time.monotonic() > deadline:
                return None
            time.sleep(0.05)


def _convert(desktop, source, target):
    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(source), "_blank", 0, (_prop("Hidden", True), _prop("ReadOnly", True))
    )
    if doc is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        indexes = doc.getDocumentIndexes()
        # the 目录's page numbers: its cached entries are already the headings,
        # so one update does not change its length (or the pages after it)
        for i in range(indexes.getCount()):
            indexes.getByIndex(i).update()
        doc.storeToURL(uno.systemPathToFileUrl(target), (_prop("FilterName", "writer_pdf_Export"), _prop("Overwrite", True)))
        controller = doc.getCurrentController()
        return controller.PageCount if controller is not None else None
    finally:
        doc.close(True)


def main(argv):
    soffice, profile_url, pipe = argv[1:4]
    proc = subprocess.Popen(
        [soffice, f"-env:UserInstallation={profile_url}", "--headless", "--invisible", "--nocrashreport",
         "--nodefault", "--nologo", "--nofirststartwizard", "--norestore", "--nolockcheck",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    ctx = _connect(proc, pipe)
    if ctx is None:
        print(json.dumps({"ready": False}), flush=True)
        proc.kill()
        return 1
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    try:
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            job = json.loads(line)
            try:
                reply = {"ok": True, "pages": _convert(desktop, job["in"], job["out"])}
            except Exception as exc:  # reported to the caller, which falls back
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)
    except (OSError, ValueError):  # the caller is gone (killed): its pipes are closed
        pass
    finally:  # never leave LibreOffice running, whatever ended the loop
        try:
            desktop.terminate()
        except Exception:
            pass  # the connection drops as LibreOffice exits
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(0, signal.SIGKILL)  # LibreOffice and its helpers are in this process group (and so is this worker)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
