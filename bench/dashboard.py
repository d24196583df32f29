"""Dashboard speed in headless Chromium with software WebGL (SwiftShader), as a user sees it.

Starts `leonet serve` (a child process on 127.0.0.1, stopped by its PID) over a fresh SQLite
control store with the 2026-08 Starlink snapshot (10,744 satellites), then drives Debian's
/usr/bin/chromium with Playwright and prints medians of:

* first full paint: from the page request to the first frame with every satellite drawn
  (``window.leonet.ready``; the page's own clock, navigation start = 0); baseline in the same
  run: the same page without a token (sign-in form, no globe data);
* slider move redraw: from the slider's input to the next frame after the one drawn at the new time (on screen), for a move to
  a new instant (fetch + draw) and within fetched instants (interpolation + draw);
* frames per second while playing at 60x for 5 s;
* bytes for one instant of every satellite: the binary payload against the same positions as
  JSON objects (the baseline).

Targets (issue 14): paint <= 3 s, redraw <= 100 ms, >= 20 frames/s at 60x, payload <= 300 KB.

    python bench/dashboard.py [--elements FILE] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
from control_support import free_port, start_server_process  # noqa: E402
from web_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from leonet.paths import data_dir  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elements", default=str(data_dir() / "tle/starlink_20260822_celestrak_gp.tle"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/control.db"
        out = subprocess.run([sys.executable, "-c", "from leonet.cli.main import main; main()", "db", "init", "--db", url, "--admin", "a", "--admin", "b"],
                             capture_output=True, text=True, check=True)
        token = out.stdout.split()[0]
        port = free_port()
        t = time.perf_counter()
        proc = start_server_process(url, port, "--elements", a.elements)
        print(f"server up in {time.perf_counter() - t:.1f} s ({a.elements})")
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    run(browser, base, token, a.runs)
                finally:
                    browser.close()
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(15)
    return 0


def page_of(browser, base: str, token: str | None):
    ctx = browser.new_context(viewport={"width": 1280, "height": 760})
    page = ctx.new_page()
    if token:
        page.add_init_script(f"sessionStorage.setItem('leonet.token', {json.dumps(token)})")
    return page


def run(browser, base: str, token: str, runs: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    index = httpx.get(f"{base}/dash/index", headers=headers, timeout=60).json()
    n = index["count"]
    t0 = index["default_time_utc"]

    # Payload of one instant: binary float32 against JSON objects of the same numbers.
    r = httpx.get(f"{base}/dash/positions", params={"t": t0}, headers=headers, timeout=60)
    pos = np.frombuffer(r.content, "<f4").reshape(-1, 3)
    as_json = json.dumps([{"norad_id": int(i), "lon_deg": float(x[0]), "lat_deg": float(x[1]), "alt_km": float(x[2])}
                          for i, x in zip(index["norad_id"], pos)]).encode()

    paint, empty, wall = [], [], []
    for _ in range(runs):
        pg = page_of(browser, base, None)
        pg.goto(base + "/")
        pg.evaluate("window.leonet.ready")
        empty.append(pg.evaluate("window.leonet.state().ready_ms"))
        pg.context.close()
        pg = page_of(browser, base, token)
        t = time.perf_counter()
        pg.goto(base + "/")
        pg.evaluate("window.leonet.ready")
        wall.append((time.perf_counter() - t) * 1000)
        s = pg.evaluate("window.leonet.state()")
        assert s["satellites_drawn"] > 0.99 * n, s
        paint.append(s["ready_ms"])
        pg.context.close()

    pg = page_of(browser, base, token)
    pg.goto(base + "/")
    pg.evaluate("window.leonet.ready")
    start_ms = pg.evaluate("Date.parse(window.leonet.state().time_utc)")
    new_instant, cached = [], []
    for k in range(1, 16):  # a new instant each time: fetch + interpolate + draw
        new_instant.append(pg.evaluate(f"window.leonet.setTime({start_ms + k * 600_000})"))
    for k in range(15):  # inside the last fetched pair: interpolate + draw
        cached.append(pg.evaluate(f"window.leonet.setTime({start_ms + 15 * 600_000 + 1000 * (k + 1)})"))
    pg.evaluate("window.leonet.play(true, 60)")
    pg.wait_for_timeout(1000)
    r0 = pg.evaluate("window.leonet.state().renders")
    t = time.perf_counter()
    pg.wait_for_timeout(5000)
    r1 = pg.evaluate("window.leonet.state().renders")
    fps = (r1 - r0) / (time.perf_counter() - t)
    pg.evaluate("window.leonet.play(false)")
    pg.context.close()

    load = os.getloadavg()
    med = statistics.median
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; Chromium headless, SwiftShader WebGL")
    print(f"satellites: {n:,} at {t0}; medians of {runs} page loads, 15 slider moves of each kind, 5 s of play")
    print(f"first full paint (page clock from navigation): {med(paint):8.0f} ms  (runs {', '.join(f'{x:.0f}' for x in paint)}; target <= 3000)")
    print(f"  same measured from page.goto in Python:      {med(wall):8.0f} ms")
    print(f"  baseline, sign-in page without data:          {med(empty):8.0f} ms  -> ratio {med(paint) / med(empty):.1f}x")
    print(f"slider move to a new instant (fetch + draw):    {med(new_instant):8.1f} ms  (max {max(new_instant):.1f}; target <= 100)")
    print(f"slider move within fetched instants (draw):     {med(cached):8.1f} ms  (max {max(cached):.1f})")
    print(f"frames/s playing at 60x:                        {fps:8.1f}     (target >= 20)")
    print(f"one instant, binary float32 lon/lat/alt:        {len(r.content):8,d} B  (target <= 300 KB)")
    print(f"  baseline, the same as JSON objects:           {len(as_json):8,d} B  -> binary is {len(r.content) / len(as_json):.2f}x of it")


if __name__ == "__main__":
    sys.exit(main())
