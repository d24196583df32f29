"""Vectorised SGP4 over (satellites, times) into TEME or ITRF, chunked and process-parallel.

``sgp4.api.SatrecArray`` runs Vallado's C++ SGP4 over a block of satellites and times but holds
the GIL, so big jobs are split into satellite blocks run by forked worker processes that write
straight into one shared (anonymous ``mmap``) output array; small jobs run in this process.
Failures are data: a satellite that has decayed gets NaN states and an SGP4 error code for
those (satellite, time) pairs, and the batch carries on.
"""

from __future__ import annotations

import mmap
import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sgp4.api import SGP4_ERRORS, Satrec, SatrecArray

from leonet.errors import InputError
from leonet.orbits.eop import EarthOrientation, builtin_eop
from leonet.orbits.frames import gmst82_rad, teme_to_itrf
from leonet.times import ns_to_jd2

FRAMES = ("teme", "itrf")
# Below this many (satellite, time) states the fork and the shared buffer cost more than they save.
PARALLEL_MIN_STATES = 1_000_000
BLOCK_STATES = 200_000  # states per block: ~10 MB of float64 temporaries, good cache behaviour

ERROR_MESSAGES: dict[int, str] = {0: "ok", **{int(k): v for k, v in SGP4_ERRORS.items()}}


@dataclass
class States:
    """Propagated states. ``r_km``, ``v_kms``: ``(sats, times, 3)`` in ``frame``; ``error``:
    ``(sats, times)`` uint8 SGP4 codes (0 = ok, see ``ERROR_MESSAGES``); ``t_ns``: ``(times,)``."""

    t_ns: np.ndarray
    r_km: np.ndarray
    v_kms: np.ndarray | None
    error: np.ndarray
    frame: str

    @property
    def shape(self) -> tuple[int, int]:
        return self.error.shape  # type: ignore[return-value]

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
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def propagate(
    satrecs: Sequence[Satrec],
    t_ns: np.ndarray,
    frame: str = "itrf",
    velocities: bool = True,
    dtype: type = np.float64,
    workers: int | None = None,
    eop: EarthOrientation | None = None,
    polar_motion: bool = False,
    progress: Callable[[int], None] | None = None,
) -> States:
    """SGP4 states of every satellite at every instant.

    ``satrecs``: n SGP4 models (e.g. ``Constellation.satrecs``); ``t_ns``: ``(times,)`` UTC ns.
    ``frame``: 'teme' (SGP4's own) or 'itrf' (GMST-1982 at UT1, Vallado's teme2ecef; polar
    motion only with ``polar_motion`` and an ``eop`` that has it). Computation is float64;
    ``dtype=np.float32`` halves the stored result. ``workers``: processes (default: the cores
    this process may use; 1 keeps everything in-process). ``progress`` is called with the
    number of states finished since the last call.
    """
    frame = frame.lower()
    if frame not in FRAMES:
        raise InputError(f"frame {frame!r} is not one of {', '.join(FRAMES)} (geodetic is derived from itrf)")
    t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
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
    bufs = []

    def alloc(shape: tuple[int, ...], dt: np.dtype | type) -> np.ndarray:
        size = int(np.prod(shape)) * np.dtype(dt).itemsize
        if not parallel or size == 0:
            return np.empty(shape, dtype=dt)
        buf = mmap.mmap(-1, size)  # anonymous MAP_SHARED: forked workers write into it
        bufs.append(buf)
        return np.frombuffer(buf, dtype=dt).reshape(shape)

    r_out = alloc((n, m, 3), dtype)
    v_out = alloc((n, m, 3), dtype) if velocities else None
    e_out = alloc((n, m), np.uint8)

    block = max(1, BLOCK_STATES // max(m, 1))
    blocks = [(i, min(i + block, n)) for i in range(0, n, block)]
    job = _Job(satrecs, jd, fr, theta, pm, r_out, v_out, e_out)
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
    scratch: dict = field(default_factory=dict)

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
        SatrecArray(list(self.satrecs[i:j]))._sgp4(self.jd, self.fr, err, r, v)
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

    def _scratch(self, key: str, rows: int, m: int) -> np.ndarray:
        buf = self.scratch.get(key)
        if buf is None or buf.shape[0] < rows:
            buf = self.scratch[key] = np.empty((rows, m, 3))
        return buf[:rows]


_JOB: _Job | None = None


def _run_block_global(span: tuple[int, int]) -> int:
    assert _JOB is not None  # set by the parent before forking
    return _JOB.run(span)
