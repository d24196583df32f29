"""CZML for CesiumJS, written with the ``czml3`` package: a document packet (name, version,
clock over the window) then one packet per satellite with its positions sampled on the time
grid.

Positions are the library's ITRF states (``Satellites.at(grid).itrf_km``), written as
``cartesian`` samples in metres in Cesium's ``FIXED`` (Earth-fixed) frame, times as seconds
from the packet's ``epoch`` (the grid's start), interpolated by Cesium with Lagrange polynomials
of degree 5 (LEO positions sampled every 60 s are then good to metres between samples). A
state SGP4 could not compute (a decayed satellite) is left out and the packet's
``availability`` covers only the runs of computed samples, so Cesium does not draw the
satellite where it has no position. Each packet says who the satellite is: ``name``, a
``description`` (an HTML table: catalogue number, designator, operational state, shell, mean
altitude, inclination, why) and the same in ``properties`` (a value that does not exist, such
as the shell of a satellite in none, is left out: CesiumJS's loader fails on a null); its ``point`` is coloured by
operational state (:data:`STATE_COLOURS`).

The file is streamed: satellites are propagated and written in blocks of
:func:`czml_block_sats` satellites, so memory stays bounded whatever the constellation size.
"""

from __future__ import annotations

import html
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from leonet.errors import InputError
from leonet.orbits.satellites import Satellites
from leonet.times import NS_PER_S, TimeGrid, format_time

#: RGBA per operational state (:data:`leonet.orbits.fleet.STATES`) and for launch batches.
STATE_COLOURS: dict[str, tuple[int, int, int, int]] = {
    "operational": (46, 204, 113, 255),  # green
    "raising": (52, 152, 219, 255),  # blue
    "lowering": (243, 156, 18, 255),  # orange
    "deorbiting": (231, 76, 60, 255),  # red
    "dtc": (155, 89, 182, 255),  # purple
    "unassigned": (149, 165, 166, 255),  # grey
    "launch batch": (241, 196, 15, 255),  # yellow
}
#: Samples (satellite x instant) held at once while writing: the positions, the Python floats
#: czml3 validates and the JSON text of one block.
CZML_BLOCK_SAMPLES = 400_000
#: Bytes per (satellite, instant) sample held while writing a block (measured: ~350 B).
CZML_SAMPLE_BYTES = 512
#: About how many bytes one sample takes in the file (four numbers: time and x, y, z to the mm).
CZML_FILE_SAMPLE_BYTES = 48
#: Lagrange interpolation degree Cesium is told to use between samples.
INTERPOLATION_DEGREE = 5


@dataclass(frozen=True)
class SatelliteInfo:
    """Who each satellite is, ``(sats,)`` each: ``state`` (operational state or 'launch batch'),
    ``shell`` (int, -1 none), ``intl_designator``, ``alt_km`` (mean altitude), ``inclination_deg``
    and ``reason`` (why that state)."""

    state: np.ndarray
    shell: np.ndarray
    intl_designator: np.ndarray
    alt_km: np.ndarray
    inclination_deg: np.ndarray
    reason: np.ndarray

    def take(self, idx: np.ndarray) -> SatelliteInfo:
        return SatelliteInfo(*(np.asarray(getattr(self, f))[idx] for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class CzmlWritten:
    """What :func:`write_czml` wrote: ``packets`` (satellites), ``samples`` (positions written),
    ``missing`` (states SGP4 could not compute, left out), ``bytes`` (file size) and
    ``path``."""

    path: Path
    packets: int
    samples: int
    missing: int
    bytes: int


def czml_block_sats(n_sats: int, n_times: int) -> int:
    """Satellites propagated and written at once (at least one)."""
    return max(1, min(int(n_sats), CZML_BLOCK_SAMPLES // max(1, int(n_times))))


def estimate_czml(n_sats: int, grid: TimeGrid) -> dict:
    """Memory and file size of :func:`write_czml` for ``n_sats`` satellites on ``grid``."""
    block = czml_block_sats(n_sats, grid.count)
    samples = int(n_sats) * grid.count
    size = samples * CZML_FILE_SAMPLE_BYTES + int(n_sats) * 1500
    return {"what": f"{n_sats:,} satellites x {grid.count:,} instants = {samples:,} positions, a file of about {size / 2**20:,.0f} MB",
            "samples": samples, "file_bytes": size, "bytes": block * grid.count * CZML_SAMPLE_BYTES + 64 * 2**20}


def _iso(t_ns: int) -> str:
    return str(format_time(int(t_ns)))


def document_packet(grid: TimeGrid, name: str, multiplier: float = 60.0, description: str | None = None):
    """The document packet: ``name``, CZML version, and a clock over the grid's first to last
    instant, starting at the first, looping, advancing ``multiplier`` simulated seconds per
    real second."""
    from czml3 import CZML_VERSION, Clock, Packet
    from czml3.enums import ClockRanges, ClockSteps
    from czml3.types import IntervalValue

    start = datetime.fromtimestamp(grid.start_ns / NS_PER_S, UTC)
    last = datetime.fromtimestamp((grid.start_ns + grid.step_ns * (grid.count - 1)) / NS_PER_S, UTC)
    clock = Clock(currentTime=_iso(grid.start_ns), multiplier=float(multiplier), range=ClockRanges.LOOP_STOP, step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER)
    return Packet(id="document", name=name, version=CZML_VERSION, description=description,
                  clock=IntervalValue(start=start, end=last, value=clock))


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """Runs ``[a, b]`` (inclusive) of True in a (times,) bool array."""
    edges = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist()))


def _description(norad_id: int, name: str, info: SatelliteInfo | None, k: int) -> str:
    rows = [("NORAD id", str(norad_id)), ("name", name)]
    if info is not None:
        shell = int(info.shell[k])
        rows += [("international designator", str(info.intl_designator[k])), ("operational state", str(info.state[k])),
                 ("shell", str(shell) if shell >= 0 else "none"), ("mean altitude", f"{float(info.alt_km[k]):.1f} km"),
                 ("inclination", f"{float(info.inclination_deg[k]):.2f} deg"), ("why", str(info.reason[k]))]
    body = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in rows)
    return f"<table class=\"cesium-infoBox-defaultTable\"><tbody>{body}</tbody></table>"


def satellite_packet(norad_id: int, name: str, grid: TimeGrid, r_km: np.ndarray, info: SatelliteInfo | None = None, k: int = 0,
                     path_trail_s: float | None = None, label: bool = False, pixel_size: float = 4.0):
    """One satellite's packet: positions ``r_km`` ``(times, 3)`` ITRF km on ``grid`` (NaN where
    not computed; those samples are left out and ``availability`` covers the rest); ``info``
    row ``k`` says who it is. ``path_trail_s``: draw the track behind it over that many
    seconds; ``label``: show its name."""
    from czml3 import Color, Label, Packet, Path, Point, Position
    from czml3.enums import InterpolationAlgorithms
    from czml3.types import TimeInterval, TimeIntervalCollection

    state = str(info.state[k]) if info is not None else None
    props: dict[str, object] = {"norad_id": int(norad_id)}
    if info is not None:
        shell = int(info.shell[k])
        props |= {"intl_designator": str(info.intl_designator[k]), "state": state, "shell": shell if shell >= 0 else None,
                  "alt_km": round(float(info.alt_km[k]), 3), "inclination_deg": round(float(info.inclination_deg[k]), 4)}
        # Values that do not exist are left out: CesiumJS's CZML loader fails on a null
        # property value (and JSON has no NaN).
        props = {key: v for key, v in props.items() if v is not None and not (isinstance(v, float) and not math.isfinite(v))}
    ok = np.isfinite(r_km).all(axis=1)
    n_ok = int(ok.sum())
    rgba = list(STATE_COLOURS.get(state or "operational", STATE_COLOURS["unassigned"]))
    fields: dict[str, object] = {
        "id": f"satellite/{int(norad_id)}", "name": str(name), "description": _description(int(norad_id), str(name), info, k),
        "properties": props, "point": Point(color=Color(rgba=rgba), pixelSize=pixel_size, outlineWidth=0),
    }
    if n_ok:
        t_s = (np.arange(grid.count, dtype=np.float64) * (grid.step_ns / NS_PER_S))[ok]
        samples = np.column_stack([t_s, np.round(r_km[ok] * 1000.0, 3)]).ravel().tolist()  # metres, to the mm
        degree = min(INTERPOLATION_DEGREE, n_ok - 1)
        fields["position"] = Position(epoch=_iso(grid.start_ns), referenceFrame="FIXED", cartesian=samples,
                                      interpolationAlgorithm=InterpolationAlgorithms.LAGRANGE if degree > 1 else InterpolationAlgorithms.LINEAR,
                                      interpolationDegree=max(1, degree))
        runs = _runs(ok)
        t0 = grid.start_ns
        intervals = [TimeInterval(start=_iso(t0 + a * grid.step_ns), end=_iso(t0 + b * grid.step_ns)) for a, b in runs]
        fields["availability"] = intervals[0] if len(intervals) == 1 else TimeIntervalCollection(values=intervals)
        if path_trail_s:
            fields["path"] = Path(show=True, leadTime=0.0, trailTime=float(path_trail_s), width=1.0,
                                  material={"solidColor": {"color": {"rgba": rgba}}}, resolution=float(grid.step_ns / NS_PER_S))
    if label:
        fields["label"] = Label(text=str(name), show=True, font="11px sans-serif", fillColor=Color(rgba=rgba), pixelOffset={"cartesian2": [8, 0]})
    return Packet(**fields)


def write_czml(
    path: str | Path,
    satellites: Satellites,
    grid: TimeGrid,
    info: SatelliteInfo | None = None,
    *,
    name: str = "leonet",
    multiplier: float = 60.0,
    path_trail_s: float | None = None,
    labels: bool = False,
    description: str | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> CzmlWritten:
    """Write ``satellites`` on ``grid`` as a CZML document at ``path`` (see the module doc):
    propagated (:meth:`~leonet.orbits.satellites.Satellites.at`, ITRF) and written a block of
    satellites at a time, beside the final name and renamed into place when complete.
    ``info``: who each satellite is (state colours; None: all drawn as operational).
    ``progress`` gets the satellites written."""
    if not len(satellites):
        raise InputError("no satellites to write")
    if info is not None and len(info.state) != len(satellites):
        raise InputError(f"info has {len(info.state)} rows for {len(satellites)} satellites")
    out = Path(path)
    if not out.parent.is_dir():
        raise InputError(f"output folder {out.parent} does not exist; create it first")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    n = len(satellites)
    block = czml_block_sats(n, grid.count)
    samples = missing = 0
    ids, names = np.asarray(satellites.norad_id), np.asarray(satellites.name)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("[" + document_packet(grid, name, multiplier, description).dumps())
            for a in range(0, n, block):
                b = min(a + block, n)
                states = satellites.take(np.arange(a, b)).at(grid, workers=workers)
                r = states.itrf_km
                buf = io.StringIO()
                for k in range(b - a):  # one packet per satellite: the CZML contract
                    p = satellite_packet(int(ids[a + k]), str(names[a + k]), grid, r[k], info, a + k, path_trail_s, labels)
                    buf.write(",\n" + p.dumps())
                fh.write(buf.getvalue())
                ok = np.isfinite(r).all(axis=2)
                samples += int(ok.sum())
                missing += int((~ok).sum())
                if progress:
                    progress(b - a)
            fh.write("]\n")
        size = tmp.stat().st_size
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return CzmlWritten(out, n, samples, missing, size)


__all__ = ["CZML_BLOCK_SAMPLES", "STATE_COLOURS", "CzmlWritten", "SatelliteInfo", "czml_block_sats", "document_packet", "estimate_czml",
           "satellite_packet", "write_czml"]
