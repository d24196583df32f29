"""Launch batches joining a shell: release at an insertion orbit, constant-rate orbit raising.

SGP4 element sets describe a fixed mean orbit, so a satellite whose altitude changes cannot be
one. A batch is instead modelled analytically, as a circular orbit whose radius follows a
prescribed profile and whose angles advance at the J2 secular rates of the current radius:

* **Altitude profile** (km above 6378.137 km): ``insertion_altitude_km`` from ``release`` for
  ``hold_days`` (checkout), then rising at the constant ``raise_rate_km_per_day`` until
  ``shell_altitude_km``, then constant. The default rate, 5 km/day, is a round figure for
  Hall-thruster raising as Starlink batches show in public element sets (about 280 -> 550 km in
  6-10 weeks, i.e. 4-6 km/day); set it per batch.
* **Angles**: argument of latitude ``u`` and node ``Omega`` advance at the J2 secular rates of a
  circular orbit of the current radius ``r`` (``n = sqrt(mu / r^3)``)::

      du/dt     = n [1 + 3/4 J2 (Re/r)^2 (6 - 8 sin^2 i)]
      dOmega/dt = -3/2 n J2 (Re/r)^2 cos i

  Both are integrated in closed form over each phase (``r`` constant or linear in time).
  Short-period J2 terms, drag and the eccentricity of a real transfer are left out: the model is
  for "when does the batch join and where are its planes", not for km-level ephemerides.
* **Target plane**: ``plane_raan_deg`` is the node of the shell plane the batch is meant for, at
  ``plane_epoch`` (default: release), and that plane precesses at the shell's rate. The batch is
  released with the node that, after its slower-then-faster drift while raising, lands it in
  that plane on arrival (operators use this differential precession the same way).
* **Along-track slots**: satellite ``k`` starts at ``u0 + k * spacing`` (default spacing
  ``360 / N``: the batch fills its plane evenly). A real stack spreads along track over days;
  the even spacing is the end state, assumed from release.
* **Frame**: positions are formed in the true-equator mean-equinox frame of date (SGP4's TEME)
  and rotated to ITRF with GMST-1982 (:func:`leonet.orbits.frames.teme_to_itrf`), the same ITRF
  as :func:`leonet.orbits.propagate.propagate`, so they feed the coverage kernels unchanged.

**Service rule**: a satellite is *in service* only from the instant it reaches the shell
altitude (``arrival_ns``); before that it is raising (or not yet launched) and must not carry
traffic. :meth:`BatchStates.service_positions` gives positions with NaN where a satellite is not
in service, which the visibility kernels treat as "never visible".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec

from leonet.constants import EARTH_ROTATION_RAD_S, WGS84_A_KM, WGS84_J2, WGS84_MU_KM3_S2
from leonet.errors import InputError
from leonet.orbits.frames import gmst82_rad, teme_to_itrf
from leonet.orbits.propagate import States
from leonet.orbits.satellites import Satellites
from leonet.sources.constellation import Constellation
from leonet.times import NS_PER_DAY, NS_PER_S, parse_time

DEFAULT_INSERTION_ALTITUDE_KM = 280.0
DEFAULT_RAISE_RATE_KM_PER_DAY = 5.0


@dataclass(frozen=True)
class LaunchBatch:
    """One launch's satellites bound for one shell plane (see the module notes).

    ``release`` and ``plane_epoch``: ISO-8601 or int ns (UTC); ``plane_epoch`` None = release.
    Angles in degrees, altitudes in km above 6378.137 km, rate in km/day, hold in days.
    ``first_id``: catalogue number of the first satellite (made-up numbers; keep them clear of
    the real catalogue and of the constellation the batch joins).
    """

    name: str
    satellites: int
    release: str | int
    shell_altitude_km: float
    inclination_deg: float
    plane_raan_deg: float = 0.0
    plane_epoch: str | int | None = None
    insertion_altitude_km: float = DEFAULT_INSERTION_ALTITUDE_KM
    raise_rate_km_per_day: float = DEFAULT_RAISE_RATE_KM_PER_DAY
    hold_days: float = 0.0
    first_arg_latitude_deg: float = 0.0
    arg_latitude_spacing_deg: float | None = None
    first_id: int = 800_001

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.satellites, bool) or not isinstance(self.satellites, (int, np.integer)) or self.satellites < 1:
            problems.append(f"satellites={self.satellites!r} must be a whole number of at least 1")
        for key in ("shell_altitude_km", "inclination_deg", "plane_raan_deg", "insertion_altitude_km", "raise_rate_km_per_day", "hold_days", "first_arg_latitude_deg"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
                raise InputError(f"launch batch {self.name!r}: {key}={v!r} must be a finite number")
        if not 150.0 <= self.insertion_altitude_km <= self.shell_altitude_km:
            problems.append(
                f"insertion_altitude_km={self.insertion_altitude_km:g} must be at least 150 and at most shell_altitude_km={self.shell_altitude_km:g} (batches raise, they do not lower)"
            )
        if not self.shell_altitude_km <= 5000.0:
            problems.append(f"shell_altitude_km={self.shell_altitude_km:g} must be a LEO altitude (at most 5,000 km)")
        if not 0.0 <= self.inclination_deg <= 180.0:
            problems.append(f"inclination_deg={self.inclination_deg:g} must be in 0..180")
        if not self.raise_rate_km_per_day > 0.0:
            problems.append(f"raise_rate_km_per_day={self.raise_rate_km_per_day:g} must be positive (e.g. 5)")
        if self.hold_days < 0.0:
            problems.append(f"hold_days={self.hold_days:g} must not be negative")
        if problems:
            raise InputError(f"launch batch {self.name!r}: " + "; ".join(problems))
        _ = (self.release_ns, self.plane_epoch_ns)  # parse now so a bad time fails at construction

    @property
    def release_ns(self) -> int:
        return parse_time(self.release)

    @property
    def plane_epoch_ns(self) -> int:
        return self.release_ns if self.plane_epoch is None else parse_time(self.plane_epoch)

    @property
    def raise_duration_ns(self) -> int:
        days = (self.shell_altitude_km - self.insertion_altitude_km) / self.raise_rate_km_per_day
        return int(round(days * NS_PER_DAY))

    @property
    def arrival_ns(self) -> int:
        """When the batch reaches the shell and enters service (UTC ns)."""
        return self.release_ns + int(round(self.hold_days * NS_PER_DAY)) + self.raise_duration_ns

    @property
    def norad_id(self) -> np.ndarray:
        return np.arange(self.first_id, self.first_id + self.satellites, dtype=np.int64)

    @property
    def names(self) -> np.ndarray:
        return np.array([f"{self.name} #{k + 1:02d}" for k in range(self.satellites)], dtype=object)

    def altitude_km(self, t_ns: np.ndarray) -> np.ndarray:
        """Altitude (km) at UTC instants, any shape; NaN before release."""
        t = np.asarray(t_ns, dtype=np.int64)
        climb_s = (t - self.release_ns - int(round(self.hold_days * NS_PER_DAY))) / NS_PER_S
        h = self.insertion_altitude_km + np.clip(climb_s, 0.0, None) * self.raise_rate_km_per_day / 86_400.0
        h = np.minimum(h, self.shell_altitude_km)
        return np.where(t >= self.release_ns, h, np.nan)

    def _angle_integrals(self, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Argument of latitude and node advanced since release (rad) at ``t_ns`` (clipped to
        release): closed-form integrals of the J2 secular rates over the three phases."""
        t = np.asarray(t_ns, dtype=np.int64)
        sin2, cos_i = math.sin(math.radians(self.inclination_deg)) ** 2, math.cos(math.radians(self.inclination_deg))
        # Both rates are  a r^-1.5 + b r^-3.5  with these coefficients:
        u_a, u_b = math.sqrt(WGS84_MU_KM3_S2), math.sqrt(WGS84_MU_KM3_S2) * 0.75 * WGS84_J2 * WGS84_A_KM**2 * (6.0 - 8.0 * sin2)
        o_b = -1.5 * math.sqrt(WGS84_MU_KM3_S2) * WGS84_J2 * WGS84_A_KM**2 * cos_i
        r0, r1 = WGS84_A_KM + self.insertion_altitude_km, WGS84_A_KM + self.shell_altitude_km
        hold_s = self.hold_days * 86_400.0
        rise_s = self.raise_duration_ns / NS_PER_S
        k = self.raise_rate_km_per_day / 86_400.0  # km/s
        since = np.maximum((t - self.release_ns) / NS_PER_S, 0.0)
        tau1 = np.minimum(since, hold_s)
        tau2 = np.clip(since - hold_s, 0.0, rise_s)
        tau3 = np.maximum(since - hold_s - rise_s, 0.0)
        r2 = r0 + k * tau2

        def prim(r: np.ndarray | float, p: float) -> np.ndarray | float:  # d/dr of this is r^-p / k
            return r ** (1.0 - p) / (k * (1.0 - p))

        def phase(a: float, b: float) -> np.ndarray:
            const0 = a * r0**-1.5 + b * r0**-3.5
            const1 = a * r1**-1.5 + b * r1**-3.5
            climb = a * (prim(r2, 1.5) - prim(r0, 1.5)) + b * (prim(r2, 3.5) - prim(r0, 3.5))
            return const0 * tau1 + climb + const1 * tau3

        return phase(u_a, u_b), phase(0.0, o_b)

    def _node_rate_shell_rad_s(self) -> float:
        r1 = WGS84_A_KM + self.shell_altitude_km
        return -1.5 * math.sqrt(WGS84_MU_KM3_S2 / r1**3) * WGS84_J2 * (WGS84_A_KM / r1) ** 2 * math.cos(math.radians(self.inclination_deg))

    def positions_itrf_km(self, sat_index: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
        """ITRF positions (km) of satellites ``sat_index`` at ``t_ns`` (broadcast together),
        shape ``(*broadcast, 3)``; NaN before release."""
        s, t = np.broadcast_arrays(np.asarray(sat_index, dtype=np.int64), np.asarray(t_ns, dtype=np.int64))
        if s.size and (s.min() < 0 or s.max() >= self.satellites):
            raise InputError(f"launch batch {self.name!r} has satellites 0..{self.satellites - 1}, not {int(s.max())}")
        du, dnode = self._angle_integrals(t)
        du_arr, dnode_arr = self._angle_integrals(np.array(self.arrival_ns))
        node_arrival = math.radians(self.plane_raan_deg) + self._node_rate_shell_rad_s() * (self.arrival_ns - self.plane_epoch_ns) / NS_PER_S
        node0 = node_arrival - float(dnode_arr)
        spacing = 360.0 / self.satellites if self.arg_latitude_spacing_deg is None else self.arg_latitude_spacing_deg
        u = np.radians(self.first_arg_latitude_deg + s * spacing) + du
        node = node0 + dnode
        r = WGS84_A_KM + self.altitude_km(t)
        inc = math.radians(self.inclination_deg)
        cu, su, cn, sn = np.cos(u), np.sin(u), np.cos(node), np.sin(node)
        teme = np.stack([r * (cn * cu - sn * math.cos(inc) * su), r * (sn * cu + cn * math.cos(inc) * su), r * math.sin(inc) * su], -1)
        flat = teme.reshape(-1, 3)
        theta = gmst82_rad(t.reshape(-1))
        # teme_to_itrf rotates (..., times, 3) by (times,): treat every pair as its own time.
        out, _ = teme_to_itrf(flat, None, theta)
        return out.reshape(teme.shape)


@dataclass
class BatchStates:
    """Batch satellites over a time grid.

    ``t_ns`` (times,); ``norad_id``, ``name``, ``batch`` (sats,) (``batch``: index into the input
    batches); ``r_km`` (sats, times, 3) ITRF, NaN before release; ``altitude_km`` (sats, times),
    NaN before release; ``in_service`` (sats, times) bool: released and at the shell.
    """

    t_ns: np.ndarray
    norad_id: np.ndarray
    name: np.ndarray
    batch: np.ndarray
    r_km: np.ndarray
    altitude_km: np.ndarray
    in_service: np.ndarray

    def service_positions(self) -> np.ndarray:
        """``r_km`` with NaN where a satellite is not in service: feed this to the coverage and
        visibility kernels (NaN is never visible), concatenated with the SGP4 satellites'."""
        return np.where(self.in_service[..., None], self.r_km, np.nan)

    def in_service_count(self) -> np.ndarray:
        """Satellites in service per instant, (times,) int64."""
        return self.in_service.sum(axis=0)


def batch_states(batches: Sequence[LaunchBatch] | LaunchBatch, t_ns: np.ndarray) -> BatchStates:
    """Positions, altitudes and in-service masks of every satellite of ``batches`` at ``t_ns``
    (times,) UTC ns. Vectorised over satellites and times (a loop over batches only)."""
    items = [batches] if isinstance(batches, LaunchBatch) else list(batches)
    t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    ids = np.concatenate([b.norad_id for b in items]) if items else np.zeros(0, np.int64)
    if len(np.unique(ids)) != len(ids):
        raise InputError("launch batches share catalogue numbers; give each batch its own first_id range")
    r, alt, serv, names, which = [], [], [], [], []
    for k, b in enumerate(items):
        r.append(b.positions_itrf_km(np.arange(b.satellites)[:, None], t[None, :]))
        h = np.broadcast_to(b.altitude_km(t), (b.satellites, t.size))
        alt.append(h)
        serv.append(np.broadcast_to((t >= b.arrival_ns) & (t >= b.release_ns), (b.satellites, t.size)))
        names.append(b.names)
        which.append(np.full(b.satellites, k, dtype=np.int64))
    if not items:
        z = np.zeros((0, t.size))
        return BatchStates(t, ids, np.zeros(0, object), np.zeros(0, np.int64), np.zeros((0, t.size, 3)), z, z.astype(bool))
    return BatchStates(t, ids, np.concatenate(names), np.concatenate(which), np.concatenate(r), np.concatenate(alt), np.concatenate(serv))


class LaunchBatches(Satellites):
    """Launch batches as :class:`~leonet.orbits.satellites.Satellites`: rows are the batches'
    satellites in order. :meth:`at` gives their positions (NaN before release) and ``serving``
    (released and at the shell); everything that serves users uses only serving states."""

    def __init__(self, batches: Sequence[LaunchBatch] | LaunchBatch) -> None:
        items = (batches,) if isinstance(batches, LaunchBatch) else tuple(batches)
        if not all(isinstance(b, LaunchBatch) for b in items):
            raise InputError("LaunchBatches takes LaunchBatch objects")
        self.batches = items
        self._bounds = np.concatenate([[0], np.cumsum([b.satellites for b in items])]).astype(np.int64)
        self.norad_id = np.concatenate([b.norad_id for b in items]) if items else np.zeros(0, np.int64)
        self.name = np.concatenate([b.names for b in items]) if items else np.zeros(0, object)
        if len(np.unique(self.norad_id)) != len(self.norad_id):
            raise InputError("launch batches share catalogue numbers; give each batch its own first_id range")
        self._rows: np.ndarray | None = None  # rows of the full batches this object holds (after take)

    def __repr__(self) -> str:
        return f"<LaunchBatches {len(self.batches)} batches, {len(self)} satellites>"

    def _states(self, t_ns: np.ndarray) -> BatchStates:
        st = batch_states(self.batches, t_ns)
        if self._rows is None:
            return st
        k = self._rows
        return BatchStates(st.t_ns, st.norad_id[k], st.name[k], st.batch[k], st.r_km[k], st.altitude_km[k], st.in_service[k])

    def _at(self, t_ns, frame, velocities, workers, progress) -> States:
        if frame != "itrf" or velocities:
            raise InputError("launch batches give ITRF positions only (frame='itrf', velocities=False)")
        st = self._states(t_ns)
        err = np.zeros(st.in_service.shape, dtype=np.uint8)
        if progress:
            progress(err.size)
        return States(st.t_ns, st.r_km, None, err, "itrf", serving=np.asarray(st.in_service))

    def _at_pairs(self, sat_index, t_ns, serving_only) -> np.ndarray:
        rows = sat_index if self._rows is None else self._rows[sat_index]
        out = np.full((len(rows), 3), np.nan)
        which = np.searchsorted(self._bounds, rows, side="right") - 1
        for k, b in enumerate(self.batches):  # batches, not satellites
            sel = which == k
            if sel.any():
                tt = t_ns[sel]
                r = b.positions_itrf_km(rows[sel] - self._bounds[k], tt)
                if serving_only:
                    r[tt < b.arrival_ns] = np.nan
                out[sel] = r
        return out

    def _take(self, idx: np.ndarray) -> LaunchBatches:
        out = LaunchBatches.__new__(LaunchBatches)
        out.batches, out._bounds = self.batches, self._bounds
        out._rows = idx if self._rows is None else self._rows[idx]
        full_ids = np.concatenate([b.norad_id for b in self.batches]) if self.batches else np.zeros(0, np.int64)
        full_names = np.concatenate([b.names for b in self.batches]) if self.batches else np.zeros(0, object)
        out.norad_id, out.name = full_ids[out._rows], full_names[out._rows]
        return out

    def top_rate_rad_s(self, ground_alt_km: float = 0.0) -> np.ndarray:
        # In service a batch satellite is on its circular shell (the lowest radius it serves from).
        rows = np.arange(self._bounds[-1]) if self._rows is None else self._rows
        r = np.concatenate([np.full(b.satellites, WGS84_A_KM + b.shell_altitude_km) for b in self.batches])[rows] if self.batches else np.zeros(0)
        v = np.sqrt(WGS84_MU_KM3_S2 / r) + EARTH_ROTATION_RAD_S * r
        return v / np.maximum(r - 20.0 - (WGS84_A_KM + max(ground_alt_km, 0.0)), 50.0)


def as_satellites(sats: Satellites | LaunchBatch | Sequence[LaunchBatch] | Sequence[Satrec]) -> Satellites:
    """The one way to accept satellites: a :class:`~leonet.orbits.satellites.Satellites` as it
    is (a Constellation, LaunchBatches, a join of them), one :class:`LaunchBatch` or a list of
    them, or a list of SGP4 models (``sgp4.api.Satrec``, as a Constellation)."""
    if isinstance(sats, Satellites):
        return sats
    if isinstance(sats, LaunchBatch):
        return LaunchBatches((sats,))
    items = tuple(sats)
    if items and all(isinstance(b, LaunchBatch) for b in items):
        return LaunchBatches(items)
    if all(isinstance(b, Satrec) for b in items):
        return Constellation.from_satrecs(items)
    raise InputError("satellites must be a Constellation, LaunchBatches, a LaunchBatch, a list of LaunchBatch or of sgp4 Satrec")


__all__ = ["as_satellites", "LaunchBatch", "LaunchBatches", "BatchStates", "batch_states", "DEFAULT_INSERTION_ALTITUDE_KM", "DEFAULT_RAISE_RATE_KM_PER_DAY"]
