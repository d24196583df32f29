"""The writer's bit primitives (leonet.coverage._bits) against plain Python on random words."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from leonet.coverage import _bits


def pdep_python(x: int, mask: int) -> int:
    out, k = 0, 0
    for bit in range(64):
        if mask >> bit & 1:
            out |= (x >> k & 1) << bit
            k += 1
    return out


def _applier(f):  # type: ignore[no-untyped-def]
    @njit
    def apply(x: np.ndarray, m: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = f(x[i], m[i])
        return out

    return apply


@njit
def _popcounts(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = _bits.popcount(x[i])
    return out


def _words(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    w[:4] = [0, 2**64 - 1, 1, 2**63]  # the edges
    sparse = rng.integers(0, 2**64, n, dtype=np.uint64) & rng.integers(0, 2**64, n, dtype=np.uint64)
    return np.concatenate([w, sparse])


@pytest.mark.parametrize("name", ["pdep_loop", "pdep_bmi2", "pdep"])
def test_pdep_deposits_bits_in_order(name: str) -> None:
    if name == "pdep_bmi2" and not _bits.FAST_PDEP:
        pytest.skip("this CPU has no fast BMI2 pdep")
    rng = np.random.default_rng(3)
    x, m = _words(rng, 400), _words(rng, 400)[::-1].copy()
    got = _applier(getattr(_bits, name))(x, m)
    assert [int(g) for g in got] == [pdep_python(int(a), int(b)) for a, b in zip(x, m)]


def test_popcount() -> None:
    x = _words(np.random.default_rng(4), 300)
    assert [int(v) for v in _popcounts(x)] == [bin(int(v)).count("1") for v in x]
