"""The web server: /api/check throughput with 1 and 2 worker processes against an
in-process check loop measured in the same run, and how long a small request waits
while PDFs are being made (against the same request on an idle server).

    .venv/bin/python bench/bench_web.py [N]      (default 40 uploads per run)
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from budgetxl import pipeline
from budgetxl.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "akto_2026.xlsx"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 40
SPEC = load_spec()


def start(workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "budgetxl.cli", "serve", "--port", str(port), "--workers", str(workers),
                             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    httpx.post(url + "/api/check", files={"file": ("x.xlsx", EXAMPLE.read_bytes())}, timeout=120)  # warm the workers
    return proc, url


def uploads_per_second(url: str, n: int) -> float:
    data = EXAMPLE.read_bytes()
    t = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: httpx.post(url + "/api/check", files={"file": ("x.xlsx", data)}, timeout=300).status_code, range(n)))
    assert set(codes) == {200}, codes
    return n / (time.perf_counter() - t)


def health_ms(url: str, k: int = 30) -> float:
    times = []
    for _ in range(k):
        t = time.perf_counter()
        httpx.get(url + "/healthz", timeout=60)
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.05)
    return statistics.median(times)


def main() -> None:
    t = time.perf_counter()
    for _ in range(N):
        pipeline.check(pipeline.read(EXAMPLE, SPEC), SPEC)
    baseline = N / (time.perf_counter() - t)
    print(f"in-process read+check: {baseline:.1f}/s (= 1)")
    for workers in (1, 2):
        proc, url = start(workers)
        try:
            rate = uploads_per_second(url, N)
            print(f"/api/check, --workers {workers}, 8 clients: {rate:.1f}/s ({rate / baseline:.2f}x)")
            if workers == 2:
                idle = health_ms(url)
                c = httpx.Client(base_url=url, timeout=300)
                import re

                page = c.get("/").text
                token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
                r = c.post("/check", data={"csrf": token, "keep": "1"}, files={"file": ("x.xlsx", EXAMPLE.read_bytes())})
                link = re.search(r'href="(/download/[^"]+/pdf)"', r.text).group(1)
                threads = [threading.Thread(target=c.get, args=(link,)) for _ in range(2)]
                for th in threads:
                    th.start()
                time.sleep(0.5)
                busy = health_ms(url, 20)
                for th in threads:
                    th.join()
                print(f"/healthz median: idle {idle:.1f} ms, while 2 PDFs render {busy:.1f} ms ({busy / idle:.1f}x)")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
