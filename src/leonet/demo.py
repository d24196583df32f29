"""``leonet demo``: the main job on embedded defaults.

Loads the 2024-10 Starlink snapshot from the reference data (or, when that folder is absent, the
filed Starlink Gen1 shells) and reports which satellites are above the 25 deg mask over a few
cities at the snapshot's newest epoch.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from rich.table import Table

from leonet.cli.common import err_console, out_console, report_load
from leonet.coverage.overhead import overhead
from leonet.sources.load import data_dir as default_data_dir
from leonet.sources.load import load
from leonet.sources.walker import preset_constellation
from leonet.times import NS_PER_S, format_time, parse_time

SNAPSHOT = "tle/starlink_20241023_celestrak_gp.tle"
CITIES = {  # name: (lat_deg, lon_deg)
    "Taipei": (25.0330, 121.5654),
    "London": (51.5072, -0.1276),
    "New York": (40.7128, -74.0060),
    "Sydney": (-33.8688, 151.2093),
    "Nairobi": (-1.2921, 36.8219),
}


def run_demo(data_dir: Path | None = None, when: str | None = None, min_elevation_deg: float = 25.0) -> None:
    started = time.perf_counter()
    folder = data_dir or default_data_dir()
    path = folder / SNAPSHOT
    if path.is_file():
        c = load(path)
        source = str(path)
    else:
        err_console.print(f"[yellow]{path} not found[/]: using the filed Starlink Gen1 shells instead")
        c = preset_constellation("starlink-gen1", epoch=when or "2024-10-23T00:00:00Z")
        source = "preset:starlink-gen1"
    report_load(c)
    if when:
        t_ns = parse_time(when)
    else:
        hour = 3600 * NS_PER_S
        t_ns = int(c.epoch_ns.max()) // hour * hour  # newest epoch, on the hour: freshest elements
    t = Table(title=f"Satellites above {min_elevation_deg:g} deg at {format_time(t_ns)} ({source})", title_justify="left")
    for col in ("city", "in view", "highest", "elevation deg", "range km"):
        t.add_column(col, justify="left" if col in ("city", "highest") else "right")
    for city, (lat, lon) in CITIES.items():
        rows = overhead(c, lat, lon, 0.0, t_ns, min_elevation_deg)
        top = rows[0] if rows else None
        t.add_row(city, str(len(rows)), top["name"] if top else "-", f"{top['elevation_deg']:.1f}" if top else "-", f"{top['range_km']:.0f}" if top else "-")
    out_console.print(t)
    alt = np.median(c.mean_altitude_km)
    out_console.print(f"{len(c)} satellites, median mean altitude {alt:.0f} km; done in {time.perf_counter() - started:.1f} s")
