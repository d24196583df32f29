"""Shell, plane and slot inference from element sets.

Real element sets say nothing about which orbital plane or slot a satellite flies in, yet +Grid
laser links need exactly that. The inference works in three passes, all on arrays:

1. **Shells**: near-circular satellites (eccentricity at most ``max_eccentricity``) are grouped
   by inclination and mean altitude. The densest (inclination, altitude) box of half-widths
   ``inclination_tol_deg`` x ``altitude_tol_km`` is found on a 2-D histogram, its centre is
   refined to the members' median, its members are taken out, and the search repeats until the
   densest box holds fewer than ``min_shell_satellites``. Satellites left over (raising or
   lowering their orbits, eccentric, or in groups too small to be a shell) are unassigned.
2. **Planes**: within a shell, each satellite's RAAN is brought to one common epoch with SGP4's
   own secular nodal rate (``Satrec.nodedot``: J2, plus J4, drift of about -4.5 deg/day at
   550 km), so element sets of different epochs compare. RAANs are clustered on the circle:
   sorted values split wherever the gap exceeds ``plane_gap_deg``. Clusters holding fewer than a
   quarter of the shell's median plane population (satellites drifting between planes) are
   dissolved: their satellites keep the shell but get plane -1. Planes are numbered by mean RAAN
   from 0 deg upwards.
3. **Slots**: the argument of latitude ``u = argp + M`` is brought to the same epoch with
   SGP4's secular rates. The slots per plane ``S`` is ``360 / spacing`` for the median spacing
   of neighbouring satellites in a plane. Each plane gets a phase offset ``u0_p`` (circular mean
   of ``u`` modulo the spacing), unwrapped from plane to plane so that slot ``s`` of neighbouring
   planes are nearest neighbours (the "same slot" of a +Grid); slot = round((u - u0_p) /
   spacing) mod S, slot 0 of plane 0 being its satellite nearest the ascending node. Where
   two satellites fall in one slot the nearer keeps it and the other
   gets slot -1 (still in the plane, so it keeps its in-plane links).

Two filed shells of the same inclination and altitude (as Starlink Gen1's two 97.6 deg / 560 km
shells) cannot be told apart from elements and come out as one shell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leonet.errors import InputError
from leonet.orbits.fleet import find_shell_boxes as _find_shells
from leonet.sources.constellation import Constellation
from leonet.times import NS_PER_S

_NS_PER_MIN = 60 * NS_PER_S


@dataclass(frozen=True)
class ShellInfo:
    """One inferred shell: centre inclination (deg) and mean altitude (km, above 6378.135 km),
    satellites, planes found, slots per plane ``S`` and satellites without a plane."""

    index: int
    inclination_deg: float
    altitude_km: float
    satellites: int
    planes: int
    sats_per_plane: int
    without_plane: int

    def describe(self) -> str:
        return (
            f"shell {self.index}: {self.inclination_deg:.2f} deg, {self.altitude_km:.1f} km, {self.satellites} satellites, "
            f"{self.planes} planes x {self.sats_per_plane} slots ({self.without_plane} between planes)"
        )


@dataclass(frozen=True)
class ShellAssignment:
    """Per satellite ``(n,)`` int64: ``shell`` (-1 unassigned), ``plane`` (-1 none), ``slot``
    (-1 none); ``raan_deg``, ``u_deg`` (n,) at ``epoch_ns``; ``shells`` describes each shell."""

    shell: np.ndarray
    plane: np.ndarray
    slot: np.ndarray
    raan_deg: np.ndarray
    u_deg: np.ndarray
    epoch_ns: int
    shells: tuple[ShellInfo, ...]

    @property
    def unassigned(self) -> np.ndarray:
        """Indices of satellites in no shell."""
        return np.flatnonzero(self.shell < 0)

    def table(self) -> list[dict]:
        return [s.__dict__.copy() for s in self.shells]


def _sgp4_attr(const: Constellation, name: str) -> np.ndarray:
    return np.array([getattr(s, name) for s in const.satrecs], dtype=np.float64)


def elements_at_epoch(const: Constellation, epoch_ns: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """RAAN and argument of latitude ``(n,)`` deg of every satellite brought to one epoch with
    SGP4's secular rates (``nodedot``, ``argpdot``, ``mdot`` in rad/min). ``epoch_ns`` defaults
    to the median element-set epoch. Returns ``(raan_deg, u_deg, epoch_ns)``."""
    if epoch_ns is None:
        epoch_ns = int(np.median(const.epoch_ns)) if len(const) else 0
    dt_min = (epoch_ns - const.epoch_ns).astype(np.float64) / _NS_PER_MIN
    raan = _sgp4_attr(const, "nodeo") + _sgp4_attr(const, "nodedot") * dt_min
    u = (
        _sgp4_attr(const, "argpo")
        + _sgp4_attr(const, "mo")
        + (_sgp4_attr(const, "argpdot") + _sgp4_attr(const, "mdot")) * dt_min
    )
    return np.degrees(raan) % 360.0, np.degrees(u) % 360.0, int(epoch_ns)


def infer_shells(
    const: Constellation,
    epoch_ns: int | None = None,
    *,
    inclination_tol_deg: float = 0.1,
    altitude_tol_km: float = 5.0,
    min_shell_satellites: int = 60,
    max_eccentricity: float = 0.005,
    plane_gap_deg: float = 1.0,
) -> ShellAssignment:
    """Shells, planes and slots of ``const`` (see the module docstring for the method)."""
    raan, u, epoch_ns = elements_at_epoch(const, epoch_ns)
    shell, plane, slot, infos = infer_shells_arrays(
        const.inclination_deg,
        const.mean_altitude_km,
        const.eccentricity,
        raan,
        u,
        inclination_tol_deg=inclination_tol_deg,
        altitude_tol_km=altitude_tol_km,
        min_shell_satellites=min_shell_satellites,
        max_eccentricity=max_eccentricity,
        plane_gap_deg=plane_gap_deg,
    )
    return ShellAssignment(shell, plane, slot, raan, u, epoch_ns, infos)


def infer_shells_arrays(
    inclination_deg: np.ndarray,
    altitude_km: np.ndarray,
    eccentricity: np.ndarray,
    raan_deg: np.ndarray,
    u_deg: np.ndarray,
    *,
    inclination_tol_deg: float = 0.1,
    altitude_tol_km: float = 5.0,
    min_shell_satellites: int = 60,
    max_eccentricity: float = 0.005,
    plane_gap_deg: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[ShellInfo, ...]]:
    """The kernel of :func:`infer_shells`. All inputs ``(n,)``; RAAN and argument of latitude
    already at a common epoch. Returns ``shell, plane, slot`` (n,) int64 and the shells."""
    inc = np.asarray(inclination_deg, dtype=np.float64)
    alt = np.asarray(altitude_km, dtype=np.float64)
    n = inc.size
    for name, arr in (("altitude_km", alt), ("eccentricity", eccentricity), ("raan_deg", raan_deg), ("u_deg", u_deg)):
        if np.shape(arr) != (n,):
            raise InputError(f"{name} has shape {np.shape(arr)}; every element array must have shape ({n},)")
    if inclination_tol_deg <= 0 or altitude_tol_km <= 0 or plane_gap_deg <= 0:
        raise InputError("inclination_tol_deg, altitude_tol_km and plane_gap_deg must be positive")
    if min_shell_satellites < 2:
        raise InputError(f"min_shell_satellites={min_shell_satellites} must be at least 2")
    shell = _find_shells(inc, alt, np.asarray(eccentricity) <= max_eccentricity, inclination_tol_deg, altitude_tol_km, min_shell_satellites)
    plane = np.full(n, -1, dtype=np.int64)
    slot = np.full(n, -1, dtype=np.int64)
    raan = np.asarray(raan_deg, dtype=np.float64) % 360.0
    u = np.asarray(u_deg, dtype=np.float64) % 360.0
    infos = []
    for k in range(int(shell.max()) + 1 if n else 0):
        members = np.flatnonzero(shell == k)
        p = _cluster_planes(raan[members], plane_gap_deg)
        plane[members] = p
        s, spp = _assign_slots(u[members], p)
        slot[members] = s
        infos.append(
            ShellInfo(k, float(np.median(inc[members])), float(np.median(alt[members])), int(members.size),
                      int(p.max()) + 1 if (p >= 0).any() else 0, spp, int((p < 0).sum()))
        )
    return shell, plane, slot, tuple(infos)


def _circular_clusters(values_deg: np.ndarray, gap_deg: float) -> np.ndarray:
    """Cluster labels ``(n,)`` of angles: sorted values split where the gap exceeds ``gap_deg``
    (the circle wraps). Labels are not yet ordered."""
    n = values_deg.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values_deg)
    v = values_deg[order]
    gaps = np.diff(np.concatenate([v, v[:1] + 360.0]))  # gaps[i]: from v[i] to the next
    breaks = gaps > gap_deg
    labels_sorted = np.empty(n, dtype=np.int64)
    if not breaks.any():
        labels_sorted[:] = 0
    else:
        # Start counting just after the last break so that the wrap-around cluster is one label.
        start = (int(np.flatnonzero(breaks)[-1]) + 1) % n
        rolled = np.roll(breaks, -start)
        labels_rolled = np.concatenate([[0], np.cumsum(rolled[:-1])])
        labels_sorted[np.roll(np.arange(n), -start)] = labels_rolled
    out = np.empty(n, dtype=np.int64)
    out[order] = labels_sorted
    return out


def _circmean_deg(values_deg: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    rad = np.radians(values_deg)
    s = np.bincount(labels, np.sin(rad), minlength=count)
    c = np.bincount(labels, np.cos(rad), minlength=count)
    return np.degrees(np.arctan2(s, c)) % 360.0


def _cluster_planes(raan_deg: np.ndarray, gap_deg: float) -> np.ndarray:
    """Plane per satellite of one shell (-1 for satellites between planes), planes numbered by
    mean RAAN."""
    lab = _circular_clusters(raan_deg, gap_deg)
    count = int(lab.max()) + 1 if lab.size else 0
    sizes = np.bincount(lab, minlength=count)
    keep = sizes >= max(2.0, 0.25 * float(np.median(sizes))) if count else np.zeros(0, bool)
    means = _circmean_deg(raan_deg, lab, count)
    kept = np.flatnonzero(keep)
    rank = np.full(count, -1, dtype=np.int64)
    rank[kept[np.argsort(means[kept])]] = np.arange(kept.size)
    return rank[lab]


def _assign_slots(u_deg: np.ndarray, plane: np.ndarray) -> tuple[np.ndarray, int]:
    """Slot per satellite of one shell and the slots per plane (see the module docstring)."""
    slot = np.full(u_deg.size, -1, dtype=np.int64)
    ok = plane >= 0
    if not ok.any():
        return slot, 0
    idx = np.flatnonzero(ok)
    p, u = plane[idx], u_deg[idx]
    order = np.lexsort((u, p))
    ps, us = p[order], u[order]
    # Spacing to the next satellite in the same plane (the last wraps to the plane's first).
    first = np.r_[True, ps[1:] != ps[:-1]]
    start_of = np.maximum.accumulate(np.where(first, np.arange(ps.size), 0))
    nxt = np.r_[np.arange(1, ps.size), 0]
    last = np.r_[ps[1:] != ps[:-1], True]
    nxt[last] = start_of[last]
    spacing = (us[nxt] - us) % 360.0
    spacing = spacing[(spacing > 0) & (nxt != np.arange(ps.size))]
    if spacing.size == 0:
        slot[idx] = 0
        return slot, 1
    spp = max(1, int(round(360.0 / float(np.median(spacing)))))
    sp = 360.0 / spp
    n_planes = int(p.max()) + 1
    phase = _circmean_deg((u % sp) * (360.0 / sp), p, n_planes) * (sp / 360.0)  # in [0, sp)
    # Unwrap from plane to plane so that "the same slot" in neighbouring planes are neighbours.
    step = np.diff(phase)
    step = (step + sp / 2.0) % sp - sp / 2.0
    # Slot 0 of plane 0 is its satellite nearest the ascending node.
    phase = (phase[0] + sp / 2.0) % sp - sp / 2.0 + np.r_[0.0, np.cumsum(step)]
    raw = np.round((u - phase[p]) / sp)
    s = raw.astype(np.int64) % spp
    miss = np.abs((u - phase[p]) / sp - raw)  # distance from the slot centre, in slots
    # Two satellites in one slot: the nearer to the slot centre keeps it.
    key = p * spp + s
    o = np.lexsort((miss, key))
    dup = np.r_[False, key[o][1:] == key[o][:-1]]
    s_sorted = s[o]
    s_sorted[dup] = -1
    s[o] = s_sorted
    slot[idx] = s
    return slot, spp
