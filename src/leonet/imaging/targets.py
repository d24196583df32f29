"""Imaging targets: fixed points, areas (as H3 cells) and moving targets (time-stamped tracks).

Every target is one row of :class:`Targets`; an area contributes one row per cell (its centre)
with the area's name in ``group``. Positions are evaluated for ``(target, time)`` pairs without a
Python loop over targets: a track is linearly interpolated in latitude and longitude (the
shorter way round in longitude) between its samples, and is *undefined* (no access possible)
before its first sample and after its last one.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leonet.errors import InputError
from leonet.ground.points import GroundPoints
from leonet.times import parse_time

KINDS = ("point", "cell", "track")


@dataclass(frozen=True, eq=False)
class Targets:
    """Targets as parallel arrays of length ``k``, with track samples in CSR form.

    ``name`` (k,) str: unique per row (``AREA:cellhex`` for area cells); ``group`` (k,) str: the
    area's name for its cells, else ``name``; ``kind`` (k,) str in :data:`KINDS`. Samples of row
    ``i`` are ``offsets[i]:offsets[i + 1]`` of ``sample_t_ns`` (int64 UTC ns, ascending; ignored
    for points and cells) and of ``samples``, their positions
    (:class:`~leonet.ground.points.GroundPoints`, WGS84; one sample for a point or a cell), also
    read as ``sample_lat_deg`` and ``sample_lon_deg``; ``alt_km`` (k,) is each target's height
    above the ellipsoid (that of its samples).
    """

    name: np.ndarray
    group: np.ndarray
    kind: np.ndarray
    offsets: np.ndarray
    sample_t_ns: np.ndarray
    samples: GroundPoints

    def __len__(self) -> int:
        return int(self.name.shape[0])

    @property
    def sample_lat_deg(self) -> np.ndarray:
        """(samples,) latitudes, deg."""
        return self.samples.lat_deg

    @property
    def sample_lon_deg(self) -> np.ndarray:
        """(samples,) longitudes, deg."""
        return self.samples.lon_deg

    @property
    def alt_km(self) -> np.ndarray:
        """(k,) heights above the WGS84 ellipsoid, km."""
        return self.samples.alt_km[self.offsets[:-1]]

    @property
    def is_track(self) -> np.ndarray:
        return self.kind == "track"

    def span_ns(self, start_ns: int, end_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """Each target's analysis window ``(first, last)`` (k,) int64 ns: ``[start, end]`` for
        points and cells, the track's own span clipped to ``[start, end]`` for tracks (empty
        where ``last <= first``)."""
        first = np.full(len(self), int(start_ns), dtype=np.int64)
        last = np.full(len(self), int(end_ns), dtype=np.int64)
        tr = np.flatnonzero(self.is_track)
        if tr.size:
            first[tr] = np.maximum(first[tr], self.sample_t_ns[self.offsets[tr]])
            last[tr] = np.minimum(last[tr], self.sample_t_ns[self.offsets[tr + 1] - 1])
        return first, last

    def geodetic(self, target: np.ndarray, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Latitude, longitude (deg), height (km) and validity of targets at instants.

        ``target`` (int rows) and ``t_ns`` broadcast to a common shape; returns four arrays of
        that shape (``valid`` False where a track is not defined: outside its samples).
        """
        tgt, t = np.broadcast_arrays(np.asarray(target, dtype=np.int64), np.asarray(t_ns, dtype=np.int64))
        lo = self.offsets[tgt]
        hi = self.offsets[tgt + 1] - 1  # last sample
        lat = self.sample_lat_deg[lo].copy()
        lon = self.sample_lon_deg[lo].copy()
        valid = np.ones(tgt.shape, dtype=bool)
        track = self.is_track[tgt]
        if track.any():
            tt, a, b = t[track], lo[track], hi[track]
            t_first, t_last = self.sample_t_ns[a], self.sample_t_ns[b]
            ok = (tt >= t_first) & (tt <= t_last)
            # Vectorised binary search for the segment [j, j + 1] holding each instant.
            left, right = a.copy(), np.maximum(b, a + 1)
            while True:
                act = right - left > 1
                if not act.any():
                    break
                mid = (left + right) // 2
                go_right = act & (self.sample_t_ns[np.minimum(mid, b)] <= tt)
                left = np.where(go_right, mid, left)
                right = np.where(act & ~go_right, mid, right)
            j0 = left
            j1 = np.minimum(left + 1, b)
            span = (self.sample_t_ns[j1] - self.sample_t_ns[j0]).astype(np.float64)
            w = np.where(span > 0, (tt - self.sample_t_ns[j0]) / np.where(span > 0, span, 1.0), 0.0)
            w = np.clip(w, 0.0, 1.0)
            dlon = (self.sample_lon_deg[j1] - self.sample_lon_deg[j0] + 180.0) % 360.0 - 180.0
            lat[track] = self.sample_lat_deg[j0] + w * (self.sample_lat_deg[j1] - self.sample_lat_deg[j0])
            lon[track] = self.sample_lon_deg[j0] + w * dlon
            valid[track] = ok
        return lat, lon, self.alt_km[tgt], valid


def _check_lat_lon(lat: np.ndarray, lon: np.ndarray, what: str) -> None:
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise InputError(f"{what}: latitudes and longitudes must be finite numbers")
    if np.any(np.abs(lat) > 90.0):
        raise InputError(f"{what}: latitude {float(lat[np.argmax(np.abs(lat))])} is outside [-90, 90] deg; give lat first, then lon")


def make_targets(
    points: Sequence[tuple[str, float, float]] = (),
    areas: Sequence[tuple[str, Sequence[int] | np.ndarray]] = (),
    tracks: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = (),
    alt_km: float = 0.0,
) -> Targets:
    """Build :class:`Targets`.

    ``points``: ``(name, lat_deg, lon_deg)``; ``areas``: ``(name, h3_cells)`` (uint64 or hex
    strings; each cell becomes a target at its centre, named ``name:cellhex``); ``tracks``:
    ``(name, t_ns (n,), lat_deg (n,), lon_deg (n,))`` with at least one sample (sorted here; a
    repeated instant is an error). ``alt_km``: height of every target above the ellipsoid.
    """
    names: list[str] = []
    groups: list[str] = []
    kinds: list[str] = []
    counts: list[int] = []
    ts: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    for name, lat, lon in points:
        la, lo = np.array([float(lat)]), np.array([float(lon)])
        _check_lat_lon(la, lo, f"point target {name!r}")
        names.append(str(name)), groups.append(str(name)), kinds.append("point"), counts.append(1)
        ts.append(np.zeros(1, np.int64)), lats.append(la), lons.append(lo)
    for name, cells in areas:
        from leonet.ground.cells import cell_centers

        arr = np.asarray([int(c, 16) if isinstance(c, str) else int(c) for c in np.atleast_1d(cells)], dtype=np.uint64)
        if not arr.size:
            raise InputError(f"area target {name!r} has no cells; give H3 cells (e.g. from leonet.ground.cells.country_cells)")
        try:
            clat, clon = cell_centers(arr)
        except Exception as exc:  # h3 raises its own types for invalid cells
            raise InputError(f"area target {name!r}: invalid H3 cell ({exc}); give H3 indexes as integers or hex strings") from None
        for c, la, lo in zip(arr.tolist(), clat.tolist(), clon.tolist()):
            names.append(f"{name}:{c:x}"), groups.append(str(name)), kinds.append("cell"), counts.append(1)
            ts.append(np.zeros(1, np.int64)), lats.append(np.array([la])), lons.append(np.array([lo]))
    for name, t_ns, lat, lon in tracks:
        t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
        la, lo = np.atleast_1d(np.asarray(lat, dtype=np.float64)), np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if not (t.shape == la.shape == lo.shape) or t.size < 1:
            raise InputError(f"track {name!r}: times, latitudes and longitudes must be 1-D arrays of the same non-zero length")
        _check_lat_lon(la, lo, f"track {name!r}")
        order = np.argsort(t, kind="stable")
        t, la, lo = t[order], la[order], lo[order]
        if np.any(np.diff(t) == 0):
            raise InputError(f"track {name!r} has two samples at the same instant; give each instant once")
        names.append(str(name)), groups.append(str(name)), kinds.append("track"), counts.append(t.size)
        ts.append(t), lats.append(la), lons.append(lo)
    if not names:
        raise InputError("no targets: give points (--target LAT,LON), areas (H3 cells) or tracks (--target-file)")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"target names must be unique; repeated: {', '.join(dup[:5])}")
    return Targets(
        name=np.array(names, dtype=object),
        group=np.array(groups, dtype=object),
        kind=np.array(kinds, dtype=object),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        sample_t_ns=np.concatenate(ts),
        samples=GroundPoints.from_geodetic(np.concatenate(lats), np.concatenate(lons), float(alt_km)),
    )


def parse_lat_lon_text(text: str) -> tuple[float, float]:
    """'LAT,LON' (degrees) -> (lat, lon)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(f"--target {text!r} must be LAT,LON in degrees, e.g. --target 25.03,121.56") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
        raise InputError(f"--target {text!r}: latitude must be in [-90, 90] and longitude in [-180, 360] degrees")
    return lat, lon


def read_target_file(path: str | Path) -> Targets:
    """Targets from a CSV file with a header; columns ``name`` plus either

    * ``lat_deg,lon_deg`` (a fixed point; one row),
    * ``lat_deg,lon_deg,time_utc`` (a moving target: every row with that name is one sample,
      ISO-8601 time), or
    * ``h3_cell`` (an area: every row with that name adds a cell, hex H3 index).

    Rows of one name must all be of one kind. Empty cells mean "not given".
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"target file {str(p)!r} not found; give a CSV with name,lat_deg,lon_deg[,time_utc] or name,h3_cell")
    with p.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if line.strip() and not line.lstrip().startswith("#")))
    if not rows:
        raise InputError(f"{p}: no target rows; the header is name,lat_deg,lon_deg[,time_utc] or name,h3_cell")
    cols = set(rows[0])
    if "name" not in cols or not ({"lat_deg", "lon_deg"} <= cols or "h3_cell" in cols):
        raise InputError(f"{p}: header {sorted(cols)} needs name and lat_deg,lon_deg (optionally time_utc) or h3_cell")
    by_name: dict[str, list[tuple[int, dict]]] = {}
    for k, row in enumerate(rows, start=2):
        name = (row.get("name") or "").strip()
        if not name:
            raise InputError(f"{p}:{k}: empty name; every row needs one")
        by_name.setdefault(name, []).append((k, row))
    points, areas, tracks = [], [], []
    for name, items in by_name.items():
        kinds = set()
        for _k, row in items:
            if (row.get("h3_cell") or "").strip():
                kinds.add("cell")
            elif (row.get("time_utc") or "").strip():
                kinds.add("track")
            else:
                kinds.add("point")
        if len(kinds) != 1:
            raise InputError(f"{p}: target {name!r} mixes {', '.join(sorted(kinds))} rows; give each name one kind")
        kind = kinds.pop()
        try:
            if kind == "cell":
                areas.append((name, [row["h3_cell"].strip() for _, row in items]))
            elif kind == "point":
                if len(items) > 1:
                    raise InputError(f"{p}: point target {name!r} appears on {len(items)} rows; add time_utc for a moving target or rename")
                row = items[0][1]
                points.append((name, float(row["lat_deg"]), float(row["lon_deg"])))
            else:
                t = np.array([parse_time(row["time_utc"].strip()) for _, row in items], dtype=np.int64)
                la = np.array([float(row["lat_deg"]) for _, row in items])
                lo = np.array([float(row["lon_deg"]) for _, row in items])
                tracks.append((name, t, la, lo))
        except (ValueError, TypeError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{p}: target {name!r}: cannot read a number or time ({exc}); lat_deg and lon_deg are degrees, time_utc ISO-8601") from None
    return make_targets(points, areas, tracks)


__all__ = ["Targets", "make_targets", "read_target_file", "parse_lat_lon_text", "KINDS"]
