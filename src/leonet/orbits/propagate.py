"""Vectorised SGP4 over (satellites, times) into TEME or ITRF, chunked and parallel.

``sgp4.api.SatrecArray`` runs Vallado's C++ SGP4 over a block of satellites and times but holds
the GIL, so big jobs are split into satellite blocks run by forked worker processes that write
straight into one shared (anonymous ``mmap``) output array. Jobs run in this process call the
same C++ function without the GIL where :mod:`leonet.orbits.sgp4c` allows it, from threads
sharing blocks of satellites (the same states, bit for bit). Failures are data: a satellite
that has decayed gets NaN states and an SGP4 error code for those (satellite, time) pairs, and
the batch carries on.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sgp4.api import SGP4_ERRORS, Satrec, SatrecArray

from leonet.constants import EARTH_ROTATION_RAD_S, WGS72_A_KM, WGS72_MU_KM3_S2, WGS84_A_KM, WGS84_B_KM
from leonet.cpu import Scratch, anonymous_array, cores_shared, share_range, usable_cores
from leonet.errors import InputError
from leonet.orbits import sgp4c
from leonet.orbits.eop import EarthOrientation, builtin_eop
from leonet.orbits.frames import gmst82_rad, teme_to_itrf
from leonet.times import TimeGrid, as_t_ns, ns_to_jd2

FRAMES = ("teme", "itrf")
# Below this many (satellite, time) states the fork and the shared buffer cost more than they save.
PARALLEL_MIN_STATES = 1_000_000
BLOCK_STATES = 200_000  # states per block: ~10 MB of float64 temporaries, good cache behaviour

#: Fewest states a thread of an in-process job propagates (~0.6 us each; handing blocks to a
#: thread costs ~20 us and some CPU): below, one thread. Hypatia's 1,584 satellites at one
#: instant stay on one (~1 ms), the 10,744 of the 2026 snapshot take two.
THREAD_MIN_STATES = 2_000

#: Satellites per SGP4 block in :func:`propagate_pairs` (each block costs sats x pairs states).
PAIR_BLOCK_SATS = 8

#: Codes 1-6 are SGP4's own; leonet adds 7 and 8 for states SGP4 returns without complaint but
#: that cannot be real (far from the element epoch the theory diverges).
ERROR_BELOW_SURFACE = 7
ERROR_BEYOND_LEO = 8
ERROR_MESSAGES: dict[int, str] = {
    0: "ok",
    **{int(k): v for k, v in SGP4_ERRORS.items()},
    ERROR_BELOW_SURFACE: "position is below the Earth's surface (not physical; far from the element epoch?)",
    ERROR_BEYOND_LEO: "position is beyond 3 Earth radii for a LEO element set (not physical; far from the element epoch?)",
}
#: A LEO element set: at least this many revolutions a day (a period of 128 min or less).
LEO_MIN_REV_PER_DAY = 11.25
#: Radii (km) outside which a state is not physical: below the polar radius of the Earth, or
#: beyond three equatorial radii for a LEO element set.
_MIN_RADIUS_KM = WGS84_B_KM
_MAX_LEO_RADIUS_KM = 3.0 * WGS84_A_KM


def flag_unphysical(r_teme_km: np.ndarray, error: np.ndarray, leo: np.ndarray) -> None:
    """Mark states that SGP4 returned but that are not physical, in place: ``error`` (sats, ...)
    gets :data:`ERROR_BELOW_SURFACE` or :data:`ERROR_BEYOND_LEO` where it was 0. ``r_teme_km``
    (sats, ..., 3); ``leo`` (sats,) bool: LEO element sets (see :data:`LEO_MIN_REV_PER_DAY`)."""
    with np.errstate(invalid="ignore"):
        rad = np.sqrt(np.einsum("...k,...k->...", r_teme_km, r_teme_km))
        ok = error == 0
        below = ok & (rad < _MIN_RADIUS_KM)
        leo_b = np.asarray(leo, dtype=bool).reshape((-1,) + (1,) * (rad.ndim - 1))
        beyond = ok & leo_b & (rad > _MAX_LEO_RADIUS_KM)
    error[below] = ERROR_BELOW_SURFACE
    error[beyond] = ERROR_BEYOND_LEO


def leo_mask(satrecs: Sequence[Satrec]) -> np.ndarray:
    """(sats,) bool: element sets of at least :data:`LEO_MIN_REV_PER_DAY` revolutions a day."""
    n = np.array([s.no_kozai for s in satrecs], dtype=np.float64) * 1440.0 / (2.0 * np.pi)
    return n >= LEO_MIN_REV_PER_DAY


@dataclass
class _Models:
    """A block's SGP4 records and what calls on them need: ``arr`` (its ``SatrecArray``),
    ``leo`` (:func:`leo_mask`), the element sets ``block``, their epochs (:meth:`epochs`), and
    ``lock``, held by the one call that uses the kept records (SGP4 writes scratch fields into
    them)."""

    arr: SatrecArray
    leo: np.ndarray
    block: list[Satrec]
    epoch_jd: np.ndarray | None = None
    epoch_fr: np.ndarray | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def epochs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(epoch_jd, epoch_fr)``, read from the records on first use (threaded calls only)."""
        if self.epoch_jd is None or self.epoch_fr is None:
            self.epoch_jd, self.epoch_fr = sgp4c.epochs(self.block)
        return self.epoch_jd, self.epoch_fr


_MODELS: OrderedDict[tuple[int, int, int], tuple[tuple, _Models]] = OrderedDict()
_MODELS_KEPT = 8  # (element sets, block) pairs whose SatrecArray is kept
_MODELS_LOCK = threading.Lock()


def _new_models(block: list[Satrec]) -> _Models:
    return _Models(SatrecArray(block), leo_mask(block), block)


def _block_models(satrecs: Sequence[Satrec], i: int, j: int) -> _Models:
    """The :class:`_Models` of ``satrecs[i:j]``. Building them costs ~3 ms for 10,000
    satellites, half their SGP4 at one instant: when ``satrecs`` is a tuple (immutable, as
    ``Constellation.satrecs``) they are kept for the next call on the same tuple, e.g. a
    router's next time step."""
    key = (id(satrecs), i, j)
    if isinstance(satrecs, tuple):
        with _MODELS_LOCK:
            hit = _MODELS.get(key)
            if hit is not None and hit[0] is satrecs:
                _MODELS.move_to_end(key)
                return hit[1]
    models = _new_models(list(satrecs[i:j]))
    if isinstance(satrecs, tuple):
        with _MODELS_LOCK:
            _MODELS[key] = (satrecs, models)
            while len(_MODELS) > _MODELS_KEPT:
                _MODELS.popitem(last=False)
    return models


@dataclass
class States:
    """Propagated states. ``r_km``, ``v_kms``: ``(sats, times, 3)`` in ``frame``; ``error``:
    ``(sats, times)`` uint8 SGP4 codes (0 = ok, see ``ERROR_MESSAGES``); ``t_ns``: ``(times,)``.

    ``norad_id``: ``(sats,)`` catalogue numbers when the states come from
    :meth:`leonet.orbits.satellites.Satellites.at`; ``serving``: ``(sats, times)`` bool, whether
    each satellite may carry traffic at that instant (None: all of them, e.g. plain SGP4 element
    sets; a launch batch still raising its orbit does not serve)."""

    t_ns: np.ndarray
    r_km: np.ndarray
    v_kms: np.ndarray | None
    error: np.ndarray
    frame: str
    norad_id: np.ndarray | None = None
    serving: np.ndarray | None = None
    epoch_ns: np.ndarray | None = None

    @property
    def age_days(self) -> np.ndarray:
        """Time from each satellite's element epoch, ``(sats, times)`` days (negative before
        it). SGP4 on real elements is good to about a km at epoch and drifts 1-3 km a day."""
        if self.epoch_ns is None:
            raise InputError("these states carry no element epochs; get them from Satellites.at()")
        return (self.t_ns[None, :] - np.asarray(self.epoch_ns, dtype=np.int64)[:, None]) / 86_400e9

    @property
    def shape(self) -> tuple[int, int]:
        return self.error.shape  # type: ignore[return-value]

    @property
    def itrf_km(self) -> np.ndarray:
        """Positions in ITRF, ``(sats, times, 3)`` km (NaN where SGP4 failed)."""
        if self.frame != "itrf":
            raise InputError(f"these states are in {self.frame.upper()}; ask for frame='itrf'")
        return self.r_km

    @property
    def teme_km(self) -> np.ndarray:
        """Positions in TEME, ``(sats, times, 3)`` km (NaN where SGP4 failed)."""
        if self.frame != "teme":
            raise InputError(f"these states are in {self.frame.upper()}; ask for frame='teme'")
        return self.r_km

    def serving_positions(self) -> np.ndarray:
        """``r_km`` with NaN where a satellite does not serve (NaN is never in view): what the
        coverage, routing and imaging kernels are fed."""
        if self.serving is None:
            return self.r_km
        return np.where(self.serving[..., None], self.r_km, np.nan)

    def to_xarray(self):  # -> xarray.Dataset (imported lazily: xarray is only needed here)
        """An ``xarray.Dataset`` with dims ``(norad_id, time)`` (+ ``xyz`` for vectors):
        ``<frame>_km`` positions, ``error`` codes, ``serving`` when known; ``time`` as
        ``datetime64[ns]`` UTC."""
        import xarray as xr

        n = self.shape[0]
        ids = self.norad_id if self.norad_id is not None else np.arange(n)
        coords = {"norad_id": np.asarray(ids, dtype=np.int64), "time": self.t_ns.astype("datetime64[ns]"), "xyz": ["x", "y", "z"]}
        data = {f"{self.frame}_km": (("norad_id", "time", "xyz"), self.r_km), "error": (("norad_id", "time"), self.error)}
        if self.v_kms is not None:
            data[f"{self.frame}_velocity_km_s"] = (("norad_id", "time", "xyz"), self.v_kms)
        if self.serving is not None:
            data["serving"] = (("norad_id", "time"), self.serving)
        if self.epoch_ns is not None:
            data["age_days"] = (("norad_id", "time"), self.age_days)
        return xr.Dataset(data, coords=coords, attrs={"frame": self.frame, "errors": "0 = ok; " + "; ".join(f"{k} = {v}" for k, v in ERROR_MESSAGES.items() if k)})

    def error_counts(self) -> dict[int, int]:
        """Number of failed (satellite, time) states per SGP4 error code (0 excluded)."""
        codes, counts = np.unique(self.error[self.error != 0], return_counts=True)
        return {int(c): int(n) for c, n in zip(codes, counts)}

    def failed_satellites(self) -> np.ndarray:
        """Row indices of satellites with at least one failed state."""
        return np.flatnonzero(self.error.any(axis=1))

    def error_summary(self) -> str:
        counts = self.error_counts()
        if not counts:
            return "all states propagated"
        parts = [f"{n} states error {c} ({ERROR_MESSAGES.get(c, 'unknown')})" for c, n in counts.items()]
        return f"{len(self.failed_satellites())} satellites failed SGP4 at some time: " + "; ".join(parts)


def default_workers() -> int:
    """Worker processes for a call: every usable core, busy or not. The pool hands out many
    small blocks as workers free up, so a worker that other processes slow down only takes
    fewer blocks, and each extra process gets its own share of a busy machine: with a CPU-bound
    competitor on every core the pool is still faster than one process (``bench/busy.py``).
    The threads of in-process jobs share blocks the same way (:func:`leonet.cpu.share_range`)."""
    return usable_cores()


def propagate(
    satrecs: Sequence[Satrec],
    t_ns: np.ndarray | TimeGrid,
    frame: str = "itrf",
    velocities: bool = True,
    dtype: type = np.float64,
    workers: int | None = None,
    eop: EarthOrientation | None = None,
    polar_motion: bool = False,
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
) -> States:
    """SGP4 states of every satellite at every instant.

    ``satrecs``: n SGP4 models (e.g. ``Constellation.satrecs``); ``t_ns``: ``(times,)`` integer
    UTC ns, a :class:`~leonet.times.TimeGrid`, ``datetime64`` values or ISO text (floats are
    refused: a float could be seconds).
    ``frame``: 'teme' (SGP4's own) or 'itrf' (GMST-1982 at UT1, Vallado's teme2ecef; polar
    motion only with ``polar_motion`` and an ``eop`` that has it). Computation is float64;
    ``dtype=np.float32`` halves the stored result. ``workers``: processes (default: the cores
    this process may use; 1 keeps everything in-process). ``threads``: in this process, threads
    sharing each block's SGP4 (default: the cores this process may use, as many as the work is
    worth, see :data:`THREAD_MIN_STATES`; one in forked workers, in daemonic worker processes
    such as Dask's, and while this process shares work with forked copies,
    :func:`leonet.cpu.cores_shared`; ``workers=1`` with threads is still one process: give
    ``threads=1`` for one core). ``progress`` is called
    with the number of states finished since the last call.
    """
    frame = frame.lower()
    if frame not in FRAMES:
        raise InputError(f"frame {frame!r} is not one of {', '.join(FRAMES)} (geodetic is derived from itrf)")
    t = as_t_ns(t_ns)  # refuses floats (seconds are not nanoseconds), reads ISO text and datetime64
    if t.ndim != 1:
        raise InputError(f"times must be a 1-D array of ns, got shape {t.shape}")
    n, m = len(satrecs), len(t)
    if dtype not in (np.float64, np.float32):
        raise InputError("dtype must be numpy.float64 or numpy.float32")
    eop = eop or builtin_eop()
    if polar_motion and not eop.polar_motion:
        raise InputError("polar motion was asked for but the Earth orientation data has none; load an IERS file with load_finals()")
    jd, fr = ns_to_jd2(t)
    theta = gmst82_rad(t, eop) if frame == "itrf" else None
    pm = eop.polar_motion_rad(t) if (frame == "itrf" and polar_motion) else None

    workers = default_workers() if workers is None else max(1, int(workers))
    parallel = workers > 1 and n * m >= PARALLEL_MIN_STATES and "fork" in mp.get_all_start_methods()

    def alloc(shape: tuple[int, ...], dt: np.dtype | type) -> np.ndarray:
        return anonymous_array(shape, dt) if parallel else np.empty(shape, dtype=dt)  # forked workers write into it

    r_out = alloc((n, m, 3), dtype)
    v_out = alloc((n, m, 3), dtype) if velocities else None
    e_out = alloc((n, m), np.uint8)

    block = max(1, BLOCK_STATES // max(m, 1))
    blocks = [(i, min(i + block, n)) for i in range(0, n, block)]
    # In this process, threads share each block's SGP4; one thread where processes already share
    # the cores (forked copies, Dask's and pools' workers, which are daemons), and in forked workers.
    in_process = (1 if cores_shared() else usable_cores()) if threads is None else max(1, int(threads))
    job = _Job(satrecs, jd, fr, theta, pm, r_out, v_out, e_out, threads=1 if parallel else in_process)
    if parallel:
        global _JOB
        _JOB = job
        try:
            ctx = mp.get_context("fork")
            with ctx.Pool(min(workers, len(blocks))) as pool:
                for done in pool.imap_unordered(_run_block_global, blocks):
                    if progress:
                        progress(done)
        finally:
            _JOB = None
    else:
        for b in blocks:
            done = job.run(b)
            if progress:
                progress(done)
    return States(t, r_out, v_out, e_out, frame)


@dataclass
class _Job:
    satrecs: Sequence[Satrec]
    jd: np.ndarray
    fr: np.ndarray
    theta: np.ndarray | None
    pm: tuple[np.ndarray, np.ndarray] | None
    r_out: np.ndarray
    v_out: np.ndarray | None
    e_out: np.ndarray
    threads: int = 1
    scratch: Scratch = field(default_factory=Scratch)

    def run(self, span: tuple[int, int]) -> int:
        i, j = span
        m = len(self.jd)
        # SGP4 writes straight into the output when it is float64 (no block temporaries, whose
        # fresh pages would cost page faults every block); otherwise into reused scratch.
        direct = self.r_out.dtype == np.float64
        r = self.r_out[i:j] if direct else self._scratch("r", j - i, m)
        if self.v_out is not None and self.v_out.dtype == np.float64:
            v = self.v_out[i:j]
        else:
            v = self._scratch("v", j - i, m)
        err = self.e_out[i:j]
        models = _block_models(self.satrecs, i, j)
        kept = models.lock.acquire(blocking=False)
        if not kept:  # another call is using the kept records: this one takes its own
            models = _new_models(list(self.satrecs[i:j]))
        try:
            self._sgp4(models, i, j, r, v, err)
        finally:
            if kept:
                models.lock.release()
        flag_unphysical(r, err, models.leo)
        # The C++ SGP4 leaves NaN only for errors 1-4; for error 6 (decayed, radius below 1
        # Earth radius) it still returns finite positions. Every failed state is NaN here.
        failed = err != 0
        if failed.any():
            r[failed] = np.nan
            v[failed] = np.nan
        if self.theta is not None:
            teme_to_itrf(r, v if self.v_out is not None else None, self.theta, self.pm, out_r=r, out_v=v)
        if not direct:
            self.r_out[i:j] = r
        if self.v_out is not None and self.v_out.dtype != np.float64:  # float64 was written in place
            self.v_out[i:j] = v
        return (j - i) * m

    def _sgp4(self, models: _Models, i: int, j: int, r: np.ndarray, v: np.ndarray, err: np.ndarray) -> None:
        """SGP4 of the block's ``j - i`` satellites into ``r``, ``v`` and ``err``: on this
        job's threads without the GIL (:mod:`leonet.orbits.sgp4c`), the failed states' codes
        from ``SatrecArray`` after; else ``SatrecArray`` alone (one thread, GIL held)."""
        rows, m = j - i, len(self.jd)
        threads = max(1, min(self.threads, rows * m // THREAD_MIN_STATES))
        if threads == 1 or not sgp4c.available():
            models.arr._sgp4(self.jd, self.fr, err, r, v)
            return
        ok = np.empty((rows, m), dtype=np.bool_)
        epoch_jd, epoch_fr = models.epochs()
        share_range(lambda a, b: sgp4c.sgp4_block(models.arr, epoch_jd, epoch_fr, a, b, self.jd, self.fr, r[a:b], v[a:b], ok[a:b]),
                    rows, threads, 4)
        err[...] = 0
        bad = np.flatnonzero(~ok.all(axis=1))
        if bad.size:  # their codes (and states) as SatrecArray gives them
            e2, r2, v2 = np.empty((bad.size, m), np.uint8), np.empty((bad.size, m, 3)), np.empty((bad.size, m, 3))
            SatrecArray([self.satrecs[i + k] for k in bad])._sgp4(self.jd, self.fr, e2, r2, v2)
            err[bad], r[bad], v[bad] = e2, r2, v2

    def _scratch(self, key: str, rows: int, m: int) -> np.ndarray:
        return self.scratch.get(key, rows * m * 3, np.float64).reshape(rows, m, 3)


_JOB: _Job | None = None


def _run_block_global(span: tuple[int, int]) -> int:
    assert _JOB is not None  # set by the parent before forking
    return _JOB.run(span)


def _orbit_extremes(satrecs: Sequence[Satrec]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Perigee and apogee radii (km) and perigee speed (km/s, vis-viva) from SGP4's mean
    elements, (sats,) each; an unusable semi-major axis counts as one Earth radius."""
    a_km = np.array([s.a for s in satrecs], dtype=np.float64) * WGS72_A_KM
    ecc = np.clip(np.array([s.ecco for s in satrecs], dtype=np.float64), 0.0, 0.999)
    a_km = np.where(np.isfinite(a_km) & (a_km > 0), a_km, WGS72_A_KM)
    r_p = a_km * (1.0 - ecc)
    r_a = a_km * (1.0 + ecc)
    return r_p, r_a, np.sqrt(WGS72_MU_KM3_S2 * np.maximum(2.0 / r_p - 1.0 / a_km, 0.0))


def top_angular_rate_rad_s(satrecs: Sequence[Satrec], alt_km: float = 0.0) -> np.ndarray:
    """Upper bound on each satellite's angular rate seen from a ground point, (sats,) rad/s.

    The line of sight turns at most ``|v| / range``: ``|v|`` is bounded by the perigee speed
    (vis-viva on SGP4's mean elements) plus the Earth-rotation speed at apogee (ITRF velocity),
    and the range by the perigee height above the point's geocentric radius, less 30 km for
    SGP4's short-period terms (at least 50 km). 0.0156 rad/s (0.89 deg/s) for a 550 km shell.
    """
    if not len(satrecs):
        return np.zeros(0)
    r_p, r_a, v_p = _orbit_extremes(satrecs)
    v_max = v_p + EARTH_ROTATION_RAD_S * r_a
    rho_min = np.maximum(r_p - 30.0 - (WGS84_A_KM + max(alt_km, 0.0)), 50.0)
    return v_max / rho_min


#: Margin for SGP4's short-period terms around the mean-element perigee and apogee radii, km.
SHORT_PERIOD_MARGIN_KM = 50.0


def motion_bounds(satrecs: Sequence[Satrec]) -> tuple[np.ndarray, np.ndarray]:
    """Per satellite, ``(rate_rad_s, r_max_km)``, each (sats,): an upper bound on how fast its
    direction from the Earth's centre turns in ITRF (speed bound over the smallest radius) and
    on its geocentric radius. The speed is the perigee speed (vis-viva on SGP4's mean elements)
    plus the Earth-rotation speed at apogee; radii get :data:`SHORT_PERIOD_MARGIN_KM` either
    way. Used to skip satellites that cannot come near a region between two sampled instants."""
    if not len(satrecs):
        return np.zeros(0), np.zeros(0)
    r_p, r_a, v_p = _orbit_extremes(satrecs)
    r_min = np.maximum(r_p - SHORT_PERIOD_MARGIN_KM, 0.5 * WGS72_A_KM)
    return (v_p + EARTH_ROTATION_RAD_S * (r_a + SHORT_PERIOD_MARGIN_KM)) / r_min, r_a + SHORT_PERIOD_MARGIN_KM


def propagate_pairs(
    satrecs: Sequence[Satrec],
    sat_index: np.ndarray,
    t_ns: np.ndarray,
    eop: EarthOrientation | None = None,
    block_sats: int = PAIR_BLOCK_SATS,
) -> tuple[np.ndarray, np.ndarray]:
    """ITRF positions of satellite ``sat_index[k]`` at instant ``t_ns[k]``, each pair on its own.

    ``sat_index``: (pairs,) rows into ``satrecs``; ``t_ns``: (pairs,) UTC ns. Returns
    ``(r_itrf_km (pairs, 3), error (pairs,) uint8)``; failed pairs have NaN positions. Same frame
    as :func:`~leonet.orbits.propagate.propagate` with ``frame='itrf'`` (no polar motion).

    SGP4's array kernel evaluates every satellite of a block at every instant of the block, so
    pairs are sorted by satellite and cut into blocks of ``block_sats`` satellites; a block costs
    ``block_sats x pairs_in_block`` states, of which ``pairs_in_block`` are kept.
    """
    s = np.asarray(sat_index, dtype=np.int64).ravel()
    t = np.asarray(t_ns, dtype=np.int64).ravel()
    if s.shape != t.shape:
        raise InputError(f"sat_index {s.shape} and t_ns {t.shape} must have the same length")
    k = len(s)
    r_out = np.full((k, 3), np.nan)
    e_out = np.zeros(k, dtype=np.uint8)
    if k == 0:
        return r_out, e_out
    order = np.lexsort((t, s))
    s_sorted, t_sorted = s[order], t[order]
    jd, fr = ns_to_jd2(t_sorted)
    first_of_sat = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    rank = np.cumsum(first_of_sat) - 1  # satellite rank among the distinct ones
    group = rank // max(1, int(block_sats))
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    r_sorted = np.empty((k, 3))
    e_sorted = np.empty(k, dtype=np.uint8)
    for a, b in zip(bounds[:-1], bounds[1:]):  # blocks of satellites, not satellites
        rows = rank[a:b] - rank[a]
        block = s_sorted[a:b][first_of_sat[a:b]]
        m = b - a
        e = np.empty((len(block), m), dtype=np.uint8)
        r = np.empty((len(block), m, 3))
        v = np.empty((len(block), m, 3))
        SatrecArray([satrecs[i] for i in block])._sgp4(jd[a:b], fr[a:b], e, r, v)
        flag_unphysical(r, e, leo_mask([satrecs[i] for i in block]))
        cols = np.arange(m)
        r_sorted[a:b] = r[rows, cols]
        e_sorted[a:b] = e[rows, cols]
    theta = gmst82_rad(t_sorted, eop or builtin_eop())
    teme_to_itrf(r_sorted, None, theta, out_r=r_sorted)
    r_sorted[e_sorted != 0] = np.nan
    r_out[order] = r_sorted
    e_out[order] = e_sorted
    return r_out, e_out
