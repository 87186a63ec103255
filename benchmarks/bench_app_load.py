"""Benchmark: a founder's cold load of the app, from navigation to the first verdict in Chromium.

Starts Voila on notebook 01 twice on 127.0.0.1 and opens the page in headless Debian Chromium:

* ``voila defaults``: the lab template, no pre-heated kernel, the chart bundle built afresh (an
  empty cache directory) — what the app was before;
* ``scripts/app``: the ``tcpmf`` template, a pre-heated kernel (given ``--preheat-wait`` seconds to
  run the notebook, as a server started before its first visitor has), the chart bundle cache warm.

For each, the seconds from ``page.goto`` to the first verdict on the page (the median of
``--loads`` fresh pages; each later page has a freshly started or re-heated kernel) and the requests
that left 127.0.0.1.  It also times, in fresh Python processes, the kernel's own work — importing
the app and building ``FounderApp`` — with an empty and with a warm bundle cache.  Printed as
seconds and as ratios to the first configuration, measured in the same run.  Nothing is asserted.

    python benchmarks/bench_app_load.py [--loads 2] [--preheat-wait 40]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
KERNEL_WORK = (
    "import time; t = time.perf_counter()\n"
    "from tcpmf.app.widgets import FounderApp\n"
    "from tcpmf.core.yamlio import assumptions_dir\n"
    "FounderApp(assumptions_dir() / 'products' / 'writing_assistant.yaml')\n"
    "print(time.perf_counter() - t)\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(cache: str) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_CACHE_HOME": cache,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "JUPYTER_PATH": os.pathsep.join(
            filter(None, [str(ROOT / "notebooks" / "jupyter"), os.environ.get("JUPYTER_PATH")])
        ),
    }


def kernel_work_s(cache: str) -> float:
    """Import the app and build it in a fresh process (what the kernel does), in seconds."""
    out = subprocess.run(
        [sys.executable, "-c", KERNEL_WORK],
        env=_env(cache),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def page_loads(
    args: list[str], cache: str, loads: int, wait_s: float
) -> tuple[list[float], list[str]]:
    """Seconds from navigation to the first verdict for *loads* fresh pages; requests outside 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                str(ROOT / "notebooks" / "01_founder_break_even.ipynb"),
                "--no-browser",
                f"--port={port}",
                "--Voila.ip=127.0.0.1",
                *args,
            ],
            cwd=ROOT,
            env=_env(cache),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            while True:
                try:
                    with urllib.request.urlopen(url + "voila/static/", timeout=5):
                        break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    time.sleep(0.3)
            time.sleep(wait_s)
            times: list[float] = []
            external: list[str] = []
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=[
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                    ],
                )
                for _ in range(loads):
                    page = browser.new_page(viewport={"width": 1280, "height": 1000})
                    page.on(
                        "request",
                        lambda r: (
                            external.append(r.url)
                            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                            else None
                        ),
                    )
                    started = time.perf_counter()
                    page.goto(url, timeout=300_000)
                    page.wait_for_function(
                        "(document.querySelector('.tcpmf-headline') || {}).innerText",
                        timeout=300_000,
                    )
                    times.append(time.perf_counter() - started)
                    page.close()
                    time.sleep(wait_s)  # the pool re-heats a kernel, as between two visitors
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return times, sorted(set(external))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=2)
    parser.add_argument("--preheat-wait", type=float, default=40.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as warm:
        kernel_empty = kernel_work_s(empty)
        kernel_warm = statistics.median(
            kernel_work_s(warm) for _ in range(3)
        )  # the first run fills the cache
        print(
            f"kernel work (import + FounderApp), fresh process: empty bundle cache {kernel_empty:.2f} s, "
            f"warm {kernel_warm:.2f} s (ratio {kernel_warm / kernel_empty:.2f})"
        )
        rows = []
        for label, voila_args, cache, wait in (
            ("voila defaults", [], empty, 0.0),
            ("scripts/app", ["--template=tcpmf", "--preheat_kernel=True"], warm, args.preheat_wait),
        ):
            if label == "voila defaults":
                for f in Path(empty).glob("tcpmf/*.js"):
                    f.unlink()  # built afresh by each kernel, as before the cache
            times, external = page_loads(voila_args, cache, args.loads, wait)
            rows.append((label, statistics.median(times), times, external))
        base = rows[0][1]
        for label, median, times, external in rows:
            shown = ", ".join(f"{t:.1f}" for t in times)
            print(
                f"{label:15s} first verdict median {median:5.1f} s ({shown}); ratio to voila defaults "
                f"{median / base:.2f}; requests outside 127.0.0.1: {len(external)} {external[:3]}"
            )


if __name__ == "__main__":
    main()
