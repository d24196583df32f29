"""Vectorised one-dimensional searches over many functions at once: golden-section maximum and
bisection of a level crossing.

Each search runs ``n`` independent problems together. Problem ``i`` is the function
``t -> f(key[i], t)`` on an integer abscissa (int64; leonet uses UTC nanoseconds), where ``key``
``(n,)`` is whatever identifies it to ``f`` (a satellite row, a (target, satellite) row ...).
``f(keys, t)`` takes two ``(k,)`` arrays and returns ``(k,)`` float64 values; it is called once
per round with only the problems still open, so its cost is what the searches spend. Brackets
are integers, so every problem ends with a bracket at most ``tol`` wide, exactly.

Used by :mod:`leonet.coverage.passes` (rise, culmination, set), :mod:`leonet.imaging.access`
(access windows) and :mod:`leonet.imaging.downlink` (first gateway contact).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["golden_max", "bisect_crossing", "INV_PHI"]

#: 1 / golden ratio, 0.618...: the golden-section interior points sit this fraction from each end.
INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def golden_max(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    key: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    t_known: np.ndarray,
    f_known: np.ndarray,
    tol: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Golden-section search for the maximum of ``f(key, t)`` on ``[a, b]``, all problems at once.

    ``key``, ``a``, ``b`` (int64), ``fa``, ``fb`` (values at the ends), ``t_known``, ``f_known``
    (one more known point, e.g. a coarse sample): ``(n,)``. Each round evaluates one new point
    for every bracket still wider than ``tol`` (int, same unit as ``t``). Returns
    ``(t (n,) int64, f (n,) float64)``: the best point seen, ends included (a maximum at an end
    of the bracket is found). ``f`` must be unimodal on each bracket; then the maximum lies
    within ``tol`` of the returned ``t``.
    """
    a, b = a.astype(np.int64).copy(), b.astype(np.int64).copy()
    fa, fb = fa.astype(np.float64).copy(), fb.astype(np.float64).copy()
    best_t, best_f = t_known.astype(np.int64).copy(), f_known.astype(np.float64).copy()
    for t_end, f_end in ((a, fa), (b, fb)):
        better = f_end > best_f
        best_t[better], best_f[better] = t_end[better], f_end[better]
    if not len(a):
        return best_t, best_f
    c = b - np.round((b - a) * INV_PHI).astype(np.int64)
    d = a + np.round((b - a) * INV_PHI).astype(np.int64)
    both = f(np.concatenate([key, key]), np.concatenate([c, d]))
    fc, fd = both[: len(a)], both[len(a) :]
    while True:
        act = np.flatnonzero((b - a) > tol)
        if not len(act):
            break
        left = fc[act] >= fd[act]  # the maximum lies in [a, d]
        aa, bb, cc, dd = a[act], b[act], c[act], d[act]
        fcc, fdd = fc[act], fd[act]
        na = np.where(left, aa, cc)
        nb = np.where(left, dd, bb)
        fa[act] = np.where(left, fa[act], fcc)
        fb[act] = np.where(left, fdd, fb[act])
        keep_t = np.where(left, cc, dd)  # the interior point that survives
        keep_f = np.where(left, fcc, fdd)
        width = nb - na
        new_t = np.where(left, nb - np.round(width * INV_PHI).astype(np.int64), na + np.round(width * INV_PHI).astype(np.int64))
        new_f = f(key[act], new_t)
        a[act], b[act] = na, nb
        c[act] = np.where(left, new_t, keep_t)
        fc[act] = np.where(left, new_f, keep_f)
        d[act] = np.where(left, keep_t, new_t)
        fd[act] = np.where(left, keep_f, new_f)
    for t_pt, f_pt in ((a, fa), (b, fb), (c, fc), (d, fd)):
        better = f_pt > best_f
        best_t[better], best_f[better] = t_pt[better], f_pt[better]
    return best_t, best_f


def bisect_crossing(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    level: float,
    key: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    above_at_lo: np.ndarray,
    tol: int,
) -> np.ndarray:
    """Bisection for where ``f(key, t)`` crosses ``level`` in ``[lo, hi]``, all problems at once.

    ``key``, ``lo``, ``hi`` (int64), ``above_at_lo`` (bool): ``(n,)``. ``above_at_lo`` says
    whether ``f >= level`` at ``lo`` (a fall, e.g. a set) or not (a rise); ``f`` is taken to be
    on the other side at ``hi``. Returns ``(n,)`` int64: the midpoint of the final bracket, at
    most ``tol / 2`` from a crossing (one crossing when ``f`` is monotonic on the bracket).
    """
    lo, hi = lo.astype(np.int64).copy(), hi.astype(np.int64).copy()
    while True:
        act = np.flatnonzero((hi - lo) > tol)
        if not len(act):
            break
        mid = lo[act] + (hi[act] - lo[act]) // 2
        same_as_lo = (f(key[act], mid) >= level) == above_at_lo[act]
        lo[act] = np.where(same_as_lo, mid, lo[act])
        hi[act] = np.where(same_as_lo, hi[act], mid)
    return lo + (hi - lo) // 2
