"""Laser (+Grid) and ground-satellite links: topology and per-step geometry, as arrays.

Positions are ITRF (or any one Earth-centred frame) in km, ``(sats, 3)`` for one instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from leonet.constants import WGS72_A_KM
from leonet.cpu import cores_free, share_blocks
from leonet.errors import InputError
from leonet.geometry import above_mask_jit, mask_sin
from leonet.network.shortest import grow

# Hypatia's (satgenpy) laser limits for Starlink-550: the line of sight between two satellites
# must clear 80 km above a spherical Earth of SGP4's radius, which at 550 km gives 5,016.6 km.
DEFAULT_MIN_GRAZING_ALT_KM = 80.0
DEFAULT_ISL_MAX_RANGE_KM = 5016.591233


def plus_grid(shell: np.ndarray, plane: np.ndarray, slot: np.ndarray, u_deg: np.ndarray) -> np.ndarray:
    """+Grid laser links ``(L, 2)`` int64 satellite indices, each undirected link once (a < b).

    Within a plane each satellite links to the next one by argument of latitude ``u_deg`` (the
    ring closes; gaps of missing satellites are bridged, and the range check decides whether such
    a link works). Across planes, slot ``s`` of plane ``p`` links to slot ``s`` of plane
    ``(p + 1) mod P`` where both exist (as Hypatia's ``isls.txt``). Inputs ``(n,)`` as from
    :func:`leonet.network.shells.infer_shells`; satellites with shell or plane -1 get no links.
    """
    shell, plane, slot = (np.asarray(a, dtype=np.int64) for a in (shell, plane, slot))
    idx = np.flatnonzero((shell >= 0) & (plane >= 0))
    links = []
    if idx.size:
        # In-plane ring: sort by (shell, plane, u); each links to the next, the last to the first.
        o = idx[np.lexsort((np.asarray(u_deg)[idx], plane[idx], shell[idx]))]
        key = shell[o] * 1_000_000 + plane[o]
        first = np.r_[True, key[1:] != key[:-1]]
        last = np.r_[key[1:] != key[:-1], True]
        start = np.maximum.accumulate(np.where(first, np.arange(o.size), 0))
        nxt = np.r_[np.arange(1, o.size), 0]
        nxt[last] = start[last]
        a, b = o, o[nxt]
        links.append(np.stack([a, b], 1)[a != b])
        # Across planes: (shell, plane, slot) -> (shell, plane + 1 mod P, slot).
        s_idx = idx[slot[idx] >= 0]
        n_planes = np.zeros(int(shell.max()) + 1, dtype=np.int64)
        np.maximum.at(n_planes, shell[idx], plane[idx] + 1)
        spp = int(slot.max()) + 1
        code = (shell[s_idx] * 1_000_000 + plane[s_idx]) * spp + slot[s_idx]
        order = np.argsort(code)
        sorted_code = code[order]
        nb_plane = (plane[s_idx] + 1) % n_planes[shell[s_idx]]
        want = (shell[s_idx] * 1_000_000 + nb_plane) * spp + slot[s_idx]
        pos = np.clip(np.searchsorted(sorted_code, want), 0, max(sorted_code.size - 1, 0))
        hit = (sorted_code[pos] == want) & (nb_plane != plane[s_idx])
        links.append(np.stack([s_idx[hit], s_idx[order[pos[hit]]]], 1))
    if not links:
        return np.zeros((0, 2), dtype=np.int64)
    all_links = np.sort(np.concatenate(links), axis=1)
    return np.unique(all_links, axis=0)


def laser_geometry(r_km: np.ndarray, links: np.ndarray, earth_radius_km: float = WGS72_A_KM) -> tuple[np.ndarray, np.ndarray]:
    """Length ``(L,)`` km and grazing altitude ``(L,)`` km, float64 (lowest point of the straight
    line of sight above a sphere of ``earth_radius_km``), of ``links`` ``(L, 2)`` at positions
    ``r_km`` ``(sats, 3)``. NaN positions (SGP4 failures) give NaN."""
    r, ln = _as_positions_links(r_km, links)
    length = np.empty(len(ln))
    graze = np.empty(len(ln))
    _laser_geometry(r, ln, float(earth_radius_km), length, graze)
    return length, graze


def laser_links_up(
    r_km: np.ndarray,
    links: np.ndarray,
    max_range_km: float = DEFAULT_ISL_MAX_RANGE_KM,
    min_grazing_alt_km: float = DEFAULT_MIN_GRAZING_ALT_KM,
) -> tuple[np.ndarray, np.ndarray]:
    """``(up, length_km)``, both ``(L,)``: a link works when its length is at most
    ``max_range_km`` and its line of sight stays ``min_grazing_alt_km`` above the Earth."""
    length, graze = laser_geometry(r_km, links)
    with np.errstate(invalid="ignore"):
        up = (length <= max_range_km) & (graze >= min_grazing_alt_km)
    return up, length


def _as_positions_links(r_km: np.ndarray, links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.ascontiguousarray(r_km, dtype=np.float64)
    ln = np.ascontiguousarray(links, dtype=np.int64)
    if ln.size == 0:
        ln = ln.reshape(0, 2)
    if r.ndim != 2 or r.shape[1] != 3:
        raise InputError(f"satellite positions must be (sats, 3) km, got shape {r.shape}")
    if ln.ndim != 2 or ln.shape[1] != 2:
        raise InputError(f"laser links must be (L, 2) satellite indices, got shape {ln.shape}")
    if ln.size and (ln.min() < 0 or ln.max() >= r.shape[0]):
        raise InputError(f"laser links name satellites outside 0..{r.shape[0] - 1}")
    return r, ln


@njit(cache=True, nogil=True, error_model="numpy")
def _laser_geometry(r, links, earth_radius_km, length, graze):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Per link ``a -> b``: ``d = r[b] - r[a]``, its length, and the height above the sphere of
    the point of the segment closest to the centre (parameter ``-(r[a] . d) / (d . d)``
    clipped to [0, 1]). Each dot product adds its terms as NumPy's ``einsum("ij,ij->i")`` does
    on three columns on x86-64, ``(x + z) + y`` (its loop takes two terms a lane, multiplied
    and added apart), so the lengths, which routes add up, keep the bits the earlier array
    expression gave there (tests/network/test_links.py)."""
    for k in range(links.shape[0]):
        a, b = links[k, 0], links[k, 1]
        ax, ay, az = r[a, 0], r[a, 1], r[a, 2]
        dx, dy, dz = r[b, 0] - ax, r[b, 1] - ay, r[b, 2] - az
        dd = (dx * dx + dz * dz) + dy * dy
        length[k] = np.sqrt(dd)
        t = -((ax * dx + az * dz) + ay * dy) / dd
        t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)  # NaN stays NaN
        cx, cy, cz = ax + t * dx, ay + t * dy, az + t * dz
        graze[k] = np.sqrt((cx * cx + cz * cz) + cy * cy) - earth_radius_km


def max_range_for_grazing_km(altitude_km: float, min_grazing_alt_km: float = DEFAULT_MIN_GRAZING_ALT_KM) -> float:
    """Longest line of sight between two satellites at ``altitude_km`` that clears
    ``min_grazing_alt_km`` (Hypatia's rule: 5,016.6 km at 550 km and 80 km)."""
    r, g = WGS72_A_KM + altitude_km, WGS72_A_KM + min_grazing_alt_km
    if g >= r:
        raise InputError(f"grazing altitude {min_grazing_alt_km} km must be below the satellites' {altitude_km} km")
    return 2.0 * math.sqrt(r * r - g * g)


@dataclass(frozen=True)
class GroundLinks:
    """Ground-satellite links of one instant: ``ground`` (K,) and ``sat`` (K,) indices and
    ``length_km`` (K,)."""

    ground: np.ndarray
    sat: np.ndarray
    length_km: np.ndarray


def ground_links(
    ground_r_km: np.ndarray,
    sat_r_km: np.ndarray,
    *,
    ground_up: np.ndarray | None = None,
    min_elevation_deg: float | None = None,
    max_range_km: float | None = None,
    sat_usable: np.ndarray | None = None,
) -> GroundLinks:
    """Links between ground points ``(G, 3)`` km and satellites ``(N, 3)`` km at one instant.

    A link exists when the satellite is at least ``min_elevation_deg`` above the local horizon
    (``ground_up``: ``(G, 3)`` unit normals, e.g. the geodetic vertical) and, if given, at most
    ``max_range_km`` away. ``sat_usable`` ``(N,)`` bool leaves satellites out. Satellites are
    taken in blocks of columns: for each, both tests come from two ``(G, 3) x (3, block)``
    products, so no ``(G, N, 3)`` array is formed, and one compiled pass over them keeps the
    links; blocks share the free cores when there is enough work, and the links come back
    ordered by ground point, then satellite.
    """
    if min_elevation_deg is None and max_range_km is None:
        raise InputError("ground links need an elevation mask (min_elevation_deg) or a maximum range (max_range_km)")
    g = np.asarray(ground_r_km, dtype=np.float64)
    s = np.asarray(sat_r_km, dtype=np.float64)
    rr = np.einsum("ij,ij->i", s, s)
    gg = np.einsum("ij,ij->i", g, g)
    masked = min_elevation_deg is not None
    if masked:
        if ground_up is None:
            raise InputError("an elevation mask needs the ground points' up vectors (ground_up)")
        up = np.asarray(ground_up, dtype=np.float64)
        ug, sin_mask = np.einsum("ij,ij->i", up, g), mask_sin(min_elevation_deg)
    else:
        ug, sin_mask = gg[:0], 0.0
    usable = np.ones(s.shape[0], bool) if sat_usable is None else np.asarray(sat_usable, dtype=bool)
    max_d2 = np.inf if max_range_km is None else float(max_range_km) * float(max_range_km)
    blocks = column_blocks(g.shape[0], s.shape[0])

    def block(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c0, c1 = blocks[k]
        sb = s[c0:c1]
        gs = g @ sb.T  # the product whose rounding every link length carries
        us = up @ sb.T if masked else gs[:0]
        gi, si, length = _links_within(gs, gg, rr[c0:c1], us, ug, sin_mask, masked, max_d2, usable[c0:c1])
        return gi, si + c0, length

    # Blocks are independent (the products release the GIL, and so does the compiled pass): the
    # cores share them when there is enough work; the parts are joined in block order either way.
    # OpenBLAS's threads spinning after the route search's products compete with the pool's:
    # they count as busy here (count_own).
    threads = cores_free(count_own=True) if len(blocks) > 1 and g.shape[0] * s.shape[0] >= PARALLEL_MIN_PAIRS else 1
    parts = share_blocks(block, len(blocks), threads)
    gi, si, length = (np.concatenate(x) for x in zip(*parts)) if parts else (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(parts) > 1:  # blocks of satellites: back to ground-major order, satellites ascending
        order = np.argsort(gi, kind="stable")
        gi, si, length = gi[order], si[order], length[order]
    return GroundLinks(gi, si, length)


#: Fewest (ground points x satellites) for which ground_links' blocks share the cores.
PARALLEL_MIN_PAIRS = 500_000
#: OpenBLAS runs a product of more than 2**18 multiply-adds on all its threads; on a busy
#: machine the threaded (100, 3) x (3, 10,744) product cost 15 ms of CPU against 1.2 ms for the
#: same product in blocks below that size.
BLAS_SINGLE_THREAD_MAX = 2**18


def column_blocks(g_count: int, n: int) -> list[tuple[int, int]]:
    """Satellite ranges ``[c0, c1)`` for :func:`ground_links`' products ``(G, 3) x (3, c1 - c0)``:
    each small enough for OpenBLAS to run on one thread (:data:`BLAS_SINGLE_THREAD_MAX`) and
    for the kernel to read from cache, and a whole multiple of 64 columns, so every column falls
    in the same kernel panel as in the one-call product and the values are the same bits
    (tests/network/test_links.py)."""
    block = max(64, BLAS_SINGLE_THREAD_MAX // (3 * max(g_count, 1)) // 64 * 64)
    return [(c, min(c + block, n)) for c in range(0, n, block)]


@njit(cache=True, nogil=True)
def _links_within(gs, gg, rr, us, ug, sin_mask, masked, max_d2, usable):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The pairs of :func:`ground_links` in a block of satellites, in row-major order, from the
    products ``gs = g @ s.T`` and ``us = up @ s.T`` (G, N): the squared length ``gg + rr - 2 gs`` (floored at 0) and the
    height ``us - ug`` term by term as NumPy would evaluate them (so lengths and tests agree with
    the array expressions bit for bit), with no (G, N) temporaries. Each row is tested in a loop
    without branches, which vectorises (links are ~0.5% of the pairs); then its few links are
    collected."""
    g_count, n = gs.shape
    cap = max(16, 4 * g_count)
    gi = np.empty(cap, dtype=np.int64)
    si = np.empty(cap, dtype=np.int64)
    ln = np.empty(cap, dtype=np.float64)
    ok = np.zeros(-(-n // 8) * 8, dtype=np.bool_)
    words = ok.view(np.uint64)  # the flags eight at a time: most are 0
    d2s = np.empty(n, dtype=np.float64)
    k = 0
    for i in range(g_count):
        ggi = gg[i]
        hits = 0
        if masked:
            ugi = ug[i]
            for j in range(n):
                d2 = (ggi + rr[j]) - 2.0 * gs[i, j]
                d2 = 0.0 if d2 < 0.0 else d2  # NaN stays NaN (a failed satellite) and fails below
                keep = usable[j] & (d2 < np.inf) & (d2 <= max_d2) & above_mask_jit(us[i, j] - ugi, d2, sin_mask)
                ok[j] = keep
                d2s[j] = d2
                hits += np.int64(keep)
        else:
            for j in range(n):
                d2 = (ggi + rr[j]) - 2.0 * gs[i, j]
                d2 = 0.0 if d2 < 0.0 else d2
                keep = usable[j] & (d2 < np.inf) & (d2 <= max_d2)
                ok[j] = keep
                d2s[j] = d2
                hits += np.int64(keep)
        if hits == 0:
            continue
        if k + hits > cap:
            cap = 2 * (k + hits)
            gi, si, ln = grow(gi, cap), grow(si, cap), grow(ln, cap)
        for w in range(words.size):
            if words[w] == 0:
                continue
            for j in range(8 * w, 8 * w + 8):
                if ok[j]:
                    gi[k] = i
                    si[k] = j
                    ln[k] = np.sqrt(d2s[j])
                    k += 1
    return gi[:k].copy(), si[:k].copy(), ln[:k].copy()




def warm_kernels() -> None:
    """Compile the ground-link kernel into numba's on-disk cache (``make venv`` runs it)."""
    r = np.array([[7000.0, 0.0, 0.0], [0.0, 7000.0, 0.0]])
    g = np.array([[6378.0, 0.0, 0.0]])
    ground_links(g, r, ground_up=g / 6378.0, min_elevation_deg=10.0)
    laser_geometry(r, np.array([[0, 1]]))
