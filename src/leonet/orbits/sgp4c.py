"""Vallado's C++ SGP4, the very code of ``sgp4.api.SatrecArray``, called from a numba kernel
that holds no GIL, so threads of this process propagate blocks of satellites side by side.

``SatrecArray._sgp4`` holds the GIL for its whole loop: at one instant, 10,744 satellites took
6-7 ms on one core while the other idled (a routing step waits on it). The extension exports
``SGP4Funcs::sgp4(elsetrec&, double tsince, double r[3], double v[3])`` (it returns false on an
SGP4 error), and a ``SatrecArray`` keeps its element records one after another after the
object's header (``__basicsize__``, records of ``__itemsize__`` bytes). :func:`sgp4_block` calls
that function for each (satellite, instant) of a block with the minutes since epoch formed as
the extension forms them, ``(jd - jdsatepoch) * 1440 + (fr - jdsatepochF) * 1440``, and writes
the same ``r`` and ``v``. It reports only whether each state succeeded; the caller runs the
states that did not through ``SatrecArray._sgp4`` again for their error codes (rare: decayed
satellites).

:func:`available` checks all this once per process: the symbol is there and, on element sets
that include failing states, the kernel's states equal ``SatrecArray._sgp4``'s bit for bit and
its failures are the states with an error code. Where anything differs (another build of the
extension, another platform), it is False and callers keep ``SatrecArray._sgp4``.

The kernel writes each record's scratch fields (SGP4 stores the time and mean elements it used
in the record), as ``SatrecArray._sgp4`` does: one ``SatrecArray`` must serve one call at a
time (:mod:`leonet.orbits.propagate` locks the ones it keeps).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic
from sgp4.api import Satrec, SatrecArray

_SYMBOL = "_ZN9SGP4Funcs4sgp4ER8elsetrecdPdS2_"  # SGP4Funcs::sgp4(elsetrec&, double, double*, double*)


@intrinsic
def _call(typingctx, fn, rec, tsince, r, v):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``fn(rec, tsince, r, v) != 0`` for the C function at address ``fn`` (a ``bool (void*,
    double, double*, double*)``); the pointers are int64 addresses."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        f_addr, rec_addr, t, r_addr, v_addr = args
        i8p, f64p = ir.IntType(8).as_pointer(), ir.DoubleType().as_pointer()
        fnty = ir.FunctionType(ir.IntType(8), [i8p, ir.DoubleType(), f64p, f64p])
        f = builder.inttoptr(f_addr, fnty.as_pointer())
        out = builder.call(f, [builder.inttoptr(rec_addr, i8p), t, builder.inttoptr(r_addr, f64p), builder.inttoptr(v_addr, f64p)])
        return builder.icmp_unsigned("!=", builder.and_(out, ir.Constant(ir.IntType(8), 1)), ir.Constant(ir.IntType(8), 0))
    return types.boolean(types.int64, types.int64, types.float64, types.int64, types.int64), codegen


@njit(cache=True, nogil=True)
def _kernel(fn, base, stride, lo, hi, epoch_jd, epoch_fr, jd, fr, r_addr, v_addr, ok):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Records ``lo..hi-1`` at every instant: states into the (rows, times, 3) float64 buffers
    at ``r_addr``/``v_addr`` (row 0 is record ``lo``), success into ``ok`` (rows, times)."""
    m = jd.size
    for i in range(lo, hi):
        rec = base + i * stride
        for j in range(m):
            t = (jd[j] - epoch_jd[i]) * 1440.0 + (fr[j] - epoch_fr[i]) * 1440.0
            at = ((i - lo) * m + j) * 24
            ok[i - lo, j] = _call(fn, rec, t, r_addr + at, v_addr + at)


def _function_address() -> int:
    import sgp4.vallado_cpp as ext

    return int(ctypes.cast(ctypes.CDLL(ext.__file__)[_SYMBOL], ctypes.c_void_p).value or 0)


def epochs(satrecs: list[Satrec]) -> tuple[np.ndarray, np.ndarray]:
    """``(jdsatepoch, jdsatepochF)``, each (sats,) float64."""
    return np.array([s.jdsatepoch for s in satrecs], dtype=np.float64), np.array([s.jdsatepochF for s in satrecs], dtype=np.float64)


def sgp4_block(models: SatrecArray, epoch_jd: np.ndarray, epoch_fr: np.ndarray, lo: int, hi: int, jd: np.ndarray, fr: np.ndarray,
               r: np.ndarray, v: np.ndarray, ok: np.ndarray) -> None:
    """SGP4 of ``models``' records ``lo..hi-1`` (``epoch_jd``, ``epoch_fr``: :func:`epochs` of
    all of them) at the instants ``jd + fr`` (times,): states into ``r`` and ``v`` (hi - lo,
    times, 3) C-contiguous float64, success into ``ok`` (hi - lo, times) bool; no GIL held.
    The caller keeps ``models`` alive and used by no one else meanwhile (see the module
    docstring) and checks :func:`available` first."""
    m = jd.size
    if fr.shape != jd.shape or epoch_jd.shape != (len(models),) or epoch_fr.shape != (len(models),):
        raise ValueError("instants (jd, fr) and epochs (one per record) do not match")
    for a in (r, v):
        if a.dtype != np.float64 or not a.flags.c_contiguous or a.shape != (hi - lo, m, 3):
            raise ValueError(f"states need C-contiguous float64 ({hi - lo}, {m}, 3) buffers, got {a.dtype} {a.shape}")
    if ok.shape != (hi - lo, m) or not 0 <= lo <= hi <= len(models):
        raise ValueError("record range and success flags do not match")
    _kernel(_FN, id(models) + SatrecArray.__basicsize__, SatrecArray.__itemsize__, lo, hi, epoch_jd, epoch_fr, np.ascontiguousarray(jd, np.float64),
            np.ascontiguousarray(fr, np.float64), r.ctypes.data, v.ctypes.data, ok)


_FN = 0
_AVAILABLE: bool | None = None
_CHECK_LOCK = threading.Lock()

# Element sets for the check: a LEO satellite, one that decays within the check's span (SGP4
# error 6, and mean motion below zero: error 2, later), and a deep-space (SDP4) one.
_CHECK_TLES = (
    ("1 25544U 98067A   24127.82853009  .00015698  00000+0  27310-3 0  9995",
     "2 25544  51.6393 160.4574 0003580 140.6673 205.7250 15.50957674452123"),
    ("1 44713U 19074A   24127.50000000  .50000000  00000+0  50000-1 0  9990",
     "2 44713  53.0540 130.0000 0001400  90.0000 270.1000 15.90000000 00003"),
    ("1 28626U 05008A   24127.50000000 -.00000200  00000+0  00000+0 0  9993",
     "2 28626   0.0370  85.0000 0002000 300.0000  60.0000  1.00270000 70000"),
)


def _layout_known() -> bool:
    """Whether ``SatrecArray``'s records sit where :func:`sgp4_block` reads them: the Python
    class adds no fields to the extension's (same header size), records have a size, and an
    array's memory holds its header and records."""
    import sys

    import sgp4.vallado_cpp as ext

    basic, item = SatrecArray.__basicsize__, SatrecArray.__itemsize__
    probe = SatrecArray([Satrec.twoline2rv(*_CHECK_TLES[0])] * 3)
    return basic == ext.SatrecArray.__basicsize__ and item > 0 and sys.getsizeof(probe) >= basic + 3 * item


def available() -> bool:
    """Whether :func:`sgp4_block` may be used here (checked once per process, see the module
    docstring)."""
    global _AVAILABLE, _FN
    if _AVAILABLE is None:
        with _CHECK_LOCK:
            if _AVAILABLE is None:
                try:
                    _FN = _function_address()
                    _AVAILABLE = bool(_FN) and _layout_known() and _agrees()
                except Exception:  # noqa: BLE001 - a missing symbol, another layout: keep SatrecArray
                    _AVAILABLE = False
    return bool(_AVAILABLE)


def _agrees() -> bool:
    """The kernel's states and failures against ``SatrecArray._sgp4`` on the check's sets at
    instants from 30 days before their epoch to 400 days after."""
    sats = [Satrec.twoline2rv(a, b) for a, b in _CHECK_TLES]
    jd = np.full(64, 2460437.5)
    fr = np.linspace(-30.0, 400.0, 64)
    want_e = np.empty((len(sats), jd.size), np.uint8)
    want_r, want_v = np.empty((len(sats), jd.size, 3)), np.empty((len(sats), jd.size, 3))
    SatrecArray(sats)._sgp4(jd, fr, want_e, want_r, want_v)
    models = SatrecArray(sats)
    ep, epf = epochs(sats)
    r, v = np.full_like(want_r, np.nan), np.full_like(want_v, np.nan)
    ok = np.zeros(want_e.shape, bool)
    sgp4_block(models, ep, epf, 0, len(sats), jd, fr, r, v, ok)
    good = want_e == 0
    return (bool(good.any()) and bool((~good).any()) and np.array_equal(ok, good)
            and np.array_equal(r[good], want_r[good]) and np.array_equal(v[good], want_v[good]))


def warm_kernels() -> None:
    """Compile the kernel into numba's on-disk cache (``make venv`` runs it)."""
    available()


__all__ = ["available", "epochs", "sgp4_block", "warm_kernels"]
