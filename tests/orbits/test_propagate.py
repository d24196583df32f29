"""leonet.orbits.propagate: process-parallel equals serial bit for bit, float32 storage, SGP4
failures as data (error codes, NaN states, counts) on a real 16,069-object catalogue, argument
validation and progress reporting.

Authorities: serial in-process SGP4 (python-sgp4 2.27, Vallado's C++) is the reference for the
parallel path (tolerance: identical bits); float64 results rounded to float32 are the reference
for float32 storage (tolerance: half a float32 ulp, |d| <= 2**-24 |x|).
"""

from __future__ import annotations

import mmap
import multiprocessing as mp

import numpy as np
import pytest

import leonet.orbits.propagate as prop
from leonet.errors import InputError
from leonet.orbits.frames import gmst82_rad, teme_to_itrf
from leonet.orbits.propagate import ERROR_MESSAGES, States, propagate
from leonet.times import TimeGrid

ACTIVE = "tle/active_20260822_celestrak_gp.tle"
STARLINK_2024 = "tle/starlink_20241023_celestrak_gp.tle"
# The active catalogue over 2026-08-22 .. 08-25 at 1 h (python-sgp4 2.27). Found by running it:
# three objects re-entering (perigee 146-163 km at epoch) fail from the hour given onwards.
ACTIVE_GRID = ("2026-08-22T00:00:00Z", "3d", "1h")
ACTIVE_FAILURES = {  # NORAD id: (SGP4 error code, first failing instant)
    46129: (1, "2026-08-23T09:00:00"),  # STARLINK-1623
    46727: (1, "2026-08-24T13:00:00"),  # STARLINK-1830
    67298: (6, "2026-08-22T13:00:00"),  # TRISAT-2 (RUVDSSAT1)
}
ACTIVE_ERROR_COUNTS = {1: 50, 6: 59}

needs_fork = pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="the parallel path needs fork()")


def _bits_equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _is_shared(a: np.ndarray) -> bool:
    """Whether an array lives in the anonymous shared mmap the parallel path allocates."""
    base = a
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return isinstance(base, mmap.mmap)


@pytest.fixture(scope="module")
def active(tle_snapshot):
    snap = tle_snapshot(ACTIVE)
    grid = TimeGrid.from_span(*ACTIVE_GRID)
    return snap.constellation, grid


@pytest.fixture(scope="module")
def active_parallel(active) -> States:
    const, grid = active
    assert len(const) * len(grid) >= prop.PARALLEL_MIN_STATES  # big enough for the parallel path as shipped
    return propagate(const.satrecs, grid.t_ns, frame="itrf", workers=2)


@pytest.fixture(scope="module")
def starlink_small(tle_snapshot):
    const = tle_snapshot(STARLINK_2024).constellation
    idx = np.linspace(0, len(const) - 1, 300).round().astype(int)
    t = TimeGrid.from_count(int(np.median(const.epoch_ns)), 20 * 60 * 10**9, 36).t_ns
    return [const.satrecs[i] for i in idx], t


# ---- failures are data --------------------------------------------------------------------------


def test_active_catalogue_failures_are_data(active, active_parallel) -> None:
    const, grid = active
    st = active_parallel
    assert st.shape == (len(const), len(grid)) == (16_069, 72)
    counts = st.error_counts()
    summary = st.error_summary()
    print(f"\nactive catalogue, {st.error.size} states: {summary}")
    assert counts == ACTIVE_ERROR_COUNTS
    failed_ids = set(const.norad_id[st.failed_satellites()].tolist())
    assert failed_ids == set(ACTIVE_FAILURES)
    for norad, (code, first) in ACTIVE_FAILURES.items():
        i = int(np.flatnonzero(const.norad_id == norad)[0])
        k = int(np.searchsorted(grid.t_ns, np.datetime64(first, "ns").astype(np.int64)))
        assert (st.error[i, :k] == 0).all() and (st.error[i, k:] == code).all(), (norad, st.error[i])
        assert const.perigee_altitude_km[i] < 200.0
    failed = st.error != 0
    assert np.isnan(st.r_km[failed]).all() and np.isnan(st.v_kms[failed]).all()
    assert np.isfinite(st.r_km[~failed]).all() and np.isfinite(st.v_kms[~failed]).all()
    assert summary.startswith("3 satellites failed SGP4 at some time")
    for code, n in ACTIVE_ERROR_COUNTS.items():
        assert f"{n} states error {code} ({ERROR_MESSAGES[code]})" in summary
    # Every good state is a plausible Earth orbit: above the surface, inside the Moon's distance
    # (the catalogue holds high-apogee science satellites out to ~180,000 km).
    radius = np.linalg.norm(st.r_km[~failed], axis=-1)
    assert radius.min() > 6_378.0 and radius.max() < 384_000.0


def test_no_failures_summary() -> None:
    st = States(np.zeros(1, np.int64), np.zeros((1, 1, 3)), None, np.zeros((1, 1), np.uint8), "teme")
    assert st.error_counts() == {} and st.error_summary() == "all states propagated"
    assert st.failed_satellites().size == 0


# ---- parallel == serial ---------------------------------------------------------------------------


@needs_fork
def test_parallel_equals_serial_bit_for_bit_active(active, active_parallel) -> None:
    """The 16,069 x 72 job as shipped (above PARALLEL_MIN_STATES), failures included."""
    const, grid = active
    par = active_parallel
    assert _is_shared(par.r_km) and _is_shared(par.error)  # it really took the forked path
    ser = propagate(const.satrecs, grid.t_ns, frame="itrf", workers=1)
    assert not _is_shared(ser.r_km)
    assert _bits_equal(par.r_km, ser.r_km)
    assert _bits_equal(par.v_kms, ser.v_kms)
    assert _bits_equal(par.error, ser.error)
    assert np.array_equal(par.t_ns, ser.t_ns) and par.frame == ser.frame == "itrf"


@needs_fork
@pytest.mark.parametrize("frame", ["teme", "itrf"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_parallel_equals_serial_small_blocks(monkeypatch, starlink_small, frame, dtype) -> None:
    sats, t = starlink_small
    monkeypatch.setattr(prop, "PARALLEL_MIN_STATES", 1)
    monkeypatch.setattr(prop, "BLOCK_STATES", 1_000)  # 27 satellites per block: 12 blocks, 2 workers
    ticks: list[int] = []
    par = propagate(sats, t, frame=frame, dtype=dtype, workers=2, progress=ticks.append)
    assert _is_shared(par.r_km)
    assert sum(ticks) == len(sats) * len(t) and len(ticks) == 12
    ser = propagate(sats, t, frame=frame, dtype=dtype, workers=1)
    assert _bits_equal(par.r_km, ser.r_km) and _bits_equal(par.v_kms, ser.v_kms) and _bits_equal(par.error, ser.error)


# ---- float32 storage ------------------------------------------------------------------------------


@pytest.mark.parametrize("frame", ["teme", "itrf"])
def test_float32_storage_is_rounded_float64(monkeypatch, active, frame) -> None:
    const, grid = active
    sats = const.satrecs[::40] + tuple(const.satrecs[int(np.flatnonzero(const.norad_id == n)[0])] for n in ACTIVE_FAILURES)
    monkeypatch.setattr(prop, "BLOCK_STATES", 5_000)  # several blocks through the float32 scratch buffers
    s64 = propagate(sats, grid.t_ns, frame=frame, workers=1)
    s32 = propagate(sats, grid.t_ns, frame=frame, dtype=np.float32, workers=1)
    assert s32.r_km.dtype == s32.v_kms.dtype == np.float32
    assert _bits_equal(s32.error, s64.error) and s32.error_counts() == s64.error_counts()
    ok = s64.error == 0
    assert (s64.error != 0).any()  # failures are in the sample
    for a32, a64 in ((s32.r_km, s64.r_km), (s32.v_kms, s64.v_kms)):
        assert np.isnan(a32[~ok]).all()
        rel = np.abs(a32[ok].astype(np.float64) - a64[ok]) <= 2.0**-24 * np.abs(a64[ok])
        assert rel.all()
    worst_m = np.abs(s32.r_km[ok] - s64.r_km[ok]).max() * 1000.0
    print(f"\nfloat32 storage ({frame}): worst position rounding {worst_m:.3g} m")
    s32n = propagate(sats, grid.t_ns, frame=frame, dtype=np.float32, velocities=False, workers=1)
    assert s32n.v_kms is None and _bits_equal(s32n.r_km, s32.r_km)


def test_velocities_off_keeps_positions(starlink_small) -> None:
    sats, t = starlink_small
    a = propagate(sats, t, frame="itrf", workers=1)
    b = propagate(sats, t, frame="itrf", velocities=False, workers=1)
    assert b.v_kms is None and _bits_equal(a.r_km, b.r_km)


def test_itrf_is_teme_rotated(starlink_small) -> None:
    """frame='itrf' is exactly teme_to_itrf(frame='teme' states, GMST-1982 at UT1)."""
    sats, t = starlink_small
    teme = propagate(sats, t, frame="teme", workers=1)
    itrf = propagate(sats, t, frame="itrf", workers=1)
    r, v = teme_to_itrf(teme.r_km, teme.v_kms, gmst82_rad(t))
    assert np.abs(r - itrf.r_km).max() < 1e-9 and np.abs(v - itrf.v_kms).max() < 1e-12
    # Sanity of the rotation: radius unchanged, ITRF speed = TEME speed less Earth's rotation.
    assert np.abs(np.linalg.norm(r, axis=-1) - np.linalg.norm(teme.r_km, axis=-1)).max() < 1e-9


# ---- progress --------------------------------------------------------------------------------------


def test_progress_sums_to_states_serial(monkeypatch, starlink_small) -> None:
    sats, t = starlink_small
    monkeypatch.setattr(prop, "BLOCK_STATES", 720)  # 20 satellites per block: 15 blocks
    ticks: list[int] = []
    propagate(sats, t, frame="teme", workers=1, progress=ticks.append)
    assert sum(ticks) == len(sats) * len(t) and len(ticks) == 15 and all(x > 0 for x in ticks)


@needs_fork
def test_progress_sums_to_states_parallel_active(active) -> None:
    const, grid = active
    ticks: list[int] = []
    propagate(const.satrecs[:14_000], grid.t_ns, frame="teme", velocities=False, workers=2, progress=ticks.append)
    assert sum(ticks) == 14_000 * len(grid) and len(ticks) > 1


# ---- validation and edge cases --------------------------------------------------------------------


# Two of Vallado's verification elements (SGP4-VER.TLE), so these run without the data folder.
_TLES = [
    (
        "1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753",
        "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667",
    ),
    (
        "1 06251U 62025E   06176.82412014  .00008885  00000-0  12808-3 0  3985",
        "2 06251  58.0579  54.0425 0030035 139.1568 221.1854 15.56387291  6774",
    ),
]


@pytest.fixture(scope="module")
def few():
    from sgp4.api import Satrec

    from leonet.times import jd2_to_ns

    sats = [Satrec.twoline2rv(a, b) for a, b in _TLES]
    t0 = int(jd2_to_ns(sats[1].jdsatepoch, sats[1].jdsatepochF))
    return sats, t0 + np.arange(36, dtype=np.int64) * 600 * 10**9


def test_argument_validation(few) -> None:
    sats, t = few
    with pytest.raises(InputError, match="frame 'gcrs' is not one of teme, itrf"):
        propagate(sats, t, frame="gcrs")
    with pytest.raises(InputError, match="frame 'geodetic'"):
        propagate(sats, t, frame="geodetic")
    with pytest.raises(InputError, match="1-D"):
        propagate(sats, t.reshape(6, 6))
    with pytest.raises(InputError, match="dtype"):
        propagate(sats, t, dtype=np.int32)
    with pytest.raises(InputError, match="polar motion"):
        propagate(sats, t, frame="itrf", polar_motion=True)
    assert propagate(sats[:2], t[:3], frame="ITRF", workers=1).frame == "itrf"


def test_edge_shapes(few) -> None:
    sats, t = few
    one = propagate(sats, t[0], frame="teme", workers=1)  # scalar instant
    assert one.shape == (2, 1) and one.r_km.shape == (2, 1, 3) and one.t_ns.shape == (1,)
    assert np.isfinite(one.r_km).all()
    none = propagate([], t, frame="itrf", workers=2)
    assert none.shape == (0, len(t)) and none.error_counts() == {}
    empty_t = propagate(sats, np.array([], dtype=np.int64), frame="itrf", workers=1)
    assert empty_t.shape == (2, 0) and empty_t.error_summary() == "all states propagated"


def test_progress_serial_no_data(monkeypatch, few) -> None:
    sats, t = few
    monkeypatch.setattr(prop, "BLOCK_STATES", 36)  # one satellite per block
    ticks: list[int] = []
    propagate(sats, t, frame="itrf", workers=1, progress=ticks.append)
    assert ticks == [36, 36]


def test_kept_models_follow_the_element_sets(starlink_small) -> None:
    """The SatrecArray kept for a tuple of element sets is used only for that same tuple: a call
    on the same tuple again gives the same states bit for bit (also after another tuple's
    call), a list is never kept, and an equal-looking tuple of other element sets gets its own."""
    sats = tuple(starlink_small[0])
    t = starlink_small[1][:3]
    first = propagate(sats, t, workers=1)
    other = tuple(reversed(sats))
    flipped = propagate(other, t, workers=1)
    np.testing.assert_array_equal(flipped.r_km, first.r_km[::-1])
    again = propagate(sats, t, workers=1)
    np.testing.assert_array_equal(again.r_km, first.r_km)
    np.testing.assert_array_equal(propagate(list(sats), t, workers=1).r_km, first.r_km)
    assert any(entry[0] is sats for entry in prop._MODELS.values())
    assert not any(isinstance(entry[0], list) for entry in prop._MODELS.values())


# ---- SGP4 without the GIL ------------------------------------------------------------------------


def test_the_extension_agrees_with_the_gil_free_call() -> None:
    """The check that gates the threaded path passes with the shipped python-sgp4 (its element
    sets include failing states: their flags must match the error codes)."""
    from leonet.orbits import sgp4c

    assert sgp4c.available()
    assert sgp4c._agrees()


def test_threads_equal_satrecarray_bit_for_bit_failures_included(monkeypatch, active) -> None:
    """The active catalogue (16,069 objects, three failing within the span: codes 1 and 6) on
    threads without the GIL, in small blocks, equals SatrecArray on one thread: states, codes
    and failure NaNs, TEME and ITRF, velocities or not."""
    import threading

    from leonet.orbits import sgp4c

    const, grid = active
    t = grid.t_ns[::8]
    monkeypatch.setattr(prop, "THREAD_MIN_STATES", 500)
    monkeypatch.setattr(prop, "usable_cores", lambda: 3)
    calls: list[int] = []
    block = sgp4c.sgp4_block
    monkeypatch.setattr(sgp4c, "sgp4_block", lambda *a: calls.append(threading.get_ident()) or block(*a))
    for frame, vel in (("itrf", True), ("teme", False)):
        calls.clear()
        threaded = propagate(const.satrecs, t, frame=frame, velocities=vel, workers=1)
        assert len(calls) >= 12 and len(set(calls)) >= 2  # blocks, on more than one thread
        with monkeypatch.context() as m:
            m.setattr(sgp4c, "available", lambda: False)
            single = propagate(const.satrecs, t, frame=frame, velocities=vel, workers=1)
        calls.clear()
        one = propagate(const.satrecs, t, frame=frame, velocities=vel, workers=1, threads=1)  # one thread: SatrecArray itself
        assert not calls and _bits_equal(one.r_km, single.r_km)
        assert (single.error == 1).any() and (single.error == 6).any()
        for a, b in ((threaded.r_km, single.r_km), (threaded.v_kms, single.v_kms), (threaded.error, single.error)):
            assert _bits_equal(a, b)


def test_concurrent_calls_on_kept_records(monkeypatch, starlink_small) -> None:
    """Calls from several Python threads on one tuple of element sets at once (its kept records
    serve one call; the others take their own) each get the states of a lone call."""
    import threading

    monkeypatch.setattr(prop, "THREAD_MIN_STATES", 100)
    sats = tuple(starlink_small[0])
    ts = [starlink_small[1][k::4] for k in range(4)]
    want = [propagate(sats, t, workers=1).r_km for t in ts]
    got: dict[int, np.ndarray] = {}

    def call(k: int) -> None:
        for _ in range(5):
            got[k] = propagate(sats, ts[k], workers=1).r_km

    threads = [threading.Thread(target=call, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for k in range(4):
        assert _bits_equal(got[k], want[k])


def _threaded_calls_in_daemon(sats, t, q) -> None:  # type: ignore[no-untyped-def]
    from leonet.orbits import sgp4c

    calls: list[int] = []
    block = sgp4c.sgp4_block
    sgp4c.sgp4_block = lambda *a: calls.append(1) or block(*a)
    prop.THREAD_MIN_STATES = 100
    propagate(sats, t, workers=1)
    q.put(len(calls))


@needs_fork
def test_no_sgp4_threads_in_daemonic_workers(monkeypatch, starlink_small) -> None:
    """A daemonic worker process (Dask's, a pool's) shares the cores with its siblings: its
    SGP4 stays on one thread; the same call here uses threads."""
    from leonet.orbits import sgp4c

    sats, t = tuple(starlink_small[0]), starlink_small[1][:12]
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    child = ctx.Process(target=_threaded_calls_in_daemon, args=(sats, t, q), daemon=True)
    child.start()
    assert q.get(timeout=60) == 0
    child.join(timeout=10)
    calls: list[int] = []
    block = sgp4c.sgp4_block
    monkeypatch.setattr(sgp4c, "sgp4_block", lambda *a: calls.append(1) or block(*a))
    monkeypatch.setattr(prop, "THREAD_MIN_STATES", 100)
    monkeypatch.setattr(prop, "usable_cores", lambda: 2)
    propagate(sats, t, workers=1)
    assert calls
