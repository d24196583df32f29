"""One call for an imaging study: access windows of satellites to targets, their figures of
merit and, optionally, the age of data of every access (what ``leonet track`` runs)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leonet.ground.gateways import GroundSites, load_gateways
from leonet.imaging.access import AccessWindows, Sensor, find_access
from leonet.imaging.downlink import DEFAULT_GATEWAY_MIN_ELEVATION_DEG, AgeOfData, age_of_data
from leonet.imaging.fom import AccessFigures, figures
from leonet.imaging.summary import access_summary
from leonet.imaging.targets import Targets
from leonet.times import NS_PER_S, parse_time

MAX_DOWNLINK_STEP_S = 60.0  # gateway contacts are searched at the access step, at most this


@dataclass(frozen=True)
class TrackResult:
    """``windows``: the access windows; ``figures``: per target; ``age``: per access, None when
    age of data was not asked for or there is no access; ``norad_id`` (sats,): catalogue numbers
    of the satellites the windows index."""

    targets: Targets
    sensor: Sensor
    start_ns: int
    end_ns: int
    norad_id: np.ndarray
    windows: AccessWindows
    figures: AccessFigures
    age: AgeOfData | None
    lasers: bool

    def summary(self) -> dict:
        """The JSON-ready summary (see :func:`leonet.imaging.summary.access_summary`)."""
        return access_summary(self.targets, self.windows, self.figures, self.age, self.sensor, self.start_ns, self.end_ns, self.lasers)


def access_samples(satellites: int, targets: int, start_ns: int, end_ns: int, step_s: float) -> int:
    """Coarse samples :func:`track` reports through ``progress``: satellites x targets x instants."""
    return satellites * targets * (int(math.ceil((end_ns - start_ns) / (step_s * NS_PER_S))) + 1)


def track(
    satellites: object,
    targets: Targets,
    sensor: Sensor,
    start: int | str,
    end: int | str,
    step_s: float,
    *,
    downlink: bool = True,
    gateways: GroundSites | str | Path | None = None,
    gateway_min_elevation_deg: float = DEFAULT_GATEWAY_MIN_ELEVATION_DEG,
    lasers: bool = False,
    progress: Callable[[int], None] | None = None,
    stage: Callable[[str], None] | None = None,
) -> TrackResult:
    """Access windows of ``satellites`` (a Constellation, launch batches, any Satellites) to
    ``targets`` seen by ``sensor`` in ``[start, end]`` (UTC ns or ISO), searched at ``step_s``
    and refined to 0.01 s; figures of merit per target; and with ``downlink`` the age of data of
    every access to ``gateways`` (sites, a gateway file, or None for the reference set) above
    ``gateway_min_elevation_deg``, over the +Grid lasers too when ``lasers``.

    ``progress`` gets the coarse samples done (:func:`access_samples` in all); ``stage`` gets a
    short description of each later step, as it starts."""
    t0, t1 = parse_time(start), parse_time(end)
    windows = find_access(satellites, targets, sensor, t0, t1, step_s, progress=progress)
    fom = figures(windows, targets)
    age = None
    if downlink and len(windows):
        sites = gateways if isinstance(gateways, GroundSites) else load_gateways(gateways).gateways
        if stage is not None:
            stage("age of data (laser paths, then next gateway contact)" if lasers else "age of data (next gateway contact)")
        age = age_of_data(windows, satellites, sites, gateway_min_elevation_deg, step_s=min(step_s, MAX_DOWNLINK_STEP_S), lasers=lasers)
    return TrackResult(targets, sensor, t0, t1, np.asarray(satellites.norad_id, dtype=np.int64), windows, fom, age, lasers)


__all__ = ["MAX_DOWNLINK_STEP_S", "TrackResult", "access_samples", "track"]
