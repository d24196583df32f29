"""Age of data: the delay from collecting an image to its reaching the ground.

Downlink here is direct: the imaging satellite itself in view of a gateway, above the gateway's
elevation mask. For each access the image is taken at the window's highest-elevation instant
(``peak_ns``, the best view, the one ``max_elevation_deg`` describes); its age of data is the
wait from then until the satellite next sees a gateway: 0 when a gateway is in view at that
moment. Contacts are searched in steps of ``step_s`` after the collection (a contact shorter
than a step can be missed) up to the analysis end plus ``horizon_s``, and each contact start
is refined by bisection to ``tolerance_s``. An access with no contact in that span has age NaN, reported as such.

A laser path (imaging satellite -> laser mesh -> a gateway-connected satellite) would cut the
age to the laser routing delay; it needs the laser-network model and is future work here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leonet.coverage.passes import _bisect_crossing
from leonet.errors import InputError
from leonet.ground.gateways import GroundSites
from leonet.imaging.access import AccessWindows
from leonet.imaging.sources import SatelliteSource, as_source
from leonet.orbits.frames import enu_basis, geodetic_to_itrf
from leonet.times import NS_PER_S

DEFAULT_GATEWAY_MIN_ELEVATION_DEG = 25.0
STEPS_PER_BLOCK = 45  # search steps per round for the accesses still waiting for a contact


@dataclass(frozen=True)
class AgeOfData:
    """Per access (parallel to the windows): ``collect_ns``, ``downlink_ns`` (int64 UTC ns,
    -1 where none), ``age_s`` (float64, NaN where no contact), ``gateway`` (str, '' where none)."""

    collect_ns: np.ndarray
    downlink_ns: np.ndarray
    age_s: np.ndarray
    gateway: np.ndarray


def age_of_data(
    windows: AccessWindows,
    satellites: object,
    gateways: GroundSites,
    min_elevation_deg: float = DEFAULT_GATEWAY_MIN_ELEVATION_DEG,
    step_s: float = 20.0,
    horizon_s: float = 6 * 3600.0,
    tolerance_s: float = 0.01,
) -> AgeOfData:
    """Age of data of every access window via the next gateway contact (see the module notes).

    ``satellites``: the same satellites the windows index; ``gateways``: sites to downlink to
    (e.g. ``load_gateways().gateways``); ``min_elevation_deg``: the gateway antennas' mask.
    """
    src: SatelliteSource = as_source(satellites)
    n = len(windows)
    if not len(gateways):
        raise InputError("no gateways to downlink to; load some with leonet.ground.gateways.load_gateways()")
    if step_s <= 0 or horizon_s < 0:
        raise InputError(f"step_s ({step_s}) must be positive and horizon_s ({horizon_s}) not negative")
    collect = windows.peak_ns.copy()
    down = np.full(n, -1, dtype=np.int64)
    gw_name = np.full(n, "", dtype=object)
    if not n:
        return AgeOfData(collect, down, np.zeros(0), gw_name)
    gw_pos = geodetic_to_itrf(gateways.lat_deg, gateways.lon_deg, gateways.alt_km)  # (g, 3)
    gw_up = enu_basis(gateways.lat_deg, gateways.lon_deg)[:, 2, :]
    sin_mask = np.sin(np.radians(min_elevation_deg))

    def best(sat_rows: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Highest gateway (sine-of-elevation margin, gateway index) for satellites at instants."""
        r = src.pairs_itrf_km(sat_rows, t)  # (pairs, 3)
        d = r[:, None, :] - gw_pos[None, :, :]
        s = np.einsum("pgk,gk->pg", d, gw_up) / np.linalg.norm(d, axis=-1)
        s = np.where(np.isfinite(s), s, -2.0)
        g = np.argmax(s, axis=1)
        return s[np.arange(len(g)), g] - sin_mask, g

    # At the collection instant itself: a gateway already in view means age 0.
    m_now, g_now = best(windows.sat_index, collect)
    now = m_now >= 0.0
    down[now], gw_name[now] = collect[now], gateways.name[g_now[now]]

    # The rest: step forward from each collection, a block of steps at a time for every access
    # still waiting (vectorised over accesses; most contacts come within minutes).
    todo = np.flatnonzero(~now)
    step_ns = int(round(step_s * NS_PER_S))
    limit = windows.analysis_end_ns + int(horizon_s * NS_PER_S)
    tol_ns = max(1, int(round(tolerance_s * NS_PER_S)))
    k0 = 0
    while todo.size:
        ks = np.arange(k0 + 1, k0 + STEPS_PER_BLOCK + 1, dtype=np.int64)
        t = np.minimum(collect[todo][:, None] + ks[None, :] * step_ns, limit)  # (r, K)
        sat = np.broadcast_to(windows.sat_index[todo][:, None], t.shape)
        margin = best(sat.ravel(), t.ravel())[0].reshape(t.shape)
        hit = margin >= 0.0
        has = hit.any(axis=1)
        j = np.argmax(hit, axis=1)
        rows = todo[has]
        jj = j[has]
        hi = t[has, jj]
        lo = np.where(jj > 0, t[has, np.maximum(jj - 1, 0)], collect[rows] if k0 == 0 else collect[rows] + k0 * step_ns)
        t_c = _bisect_crossing(lambda sr, tt: best(sr, tt)[0], 0.0, windows.sat_index[rows], lo, hi, np.zeros(len(rows), bool), tol_ns)
        _, g = best(windows.sat_index[rows], hi)
        down[rows], gw_name[rows] = t_c, gateways.name[g]
        todo = todo[~has & (t[:, -1] < limit)]
        k0 += STEPS_PER_BLOCK
    age = np.where(down >= 0, (down - collect) / NS_PER_S, np.nan)
    return AgeOfData(collect, down, age, gw_name)


__all__ = ["AgeOfData", "age_of_data", "DEFAULT_GATEWAY_MIN_ELEVATION_DEG"]
