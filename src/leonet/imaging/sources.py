"""Imaging satellites as position sources: SGP4 element sets, or launch batches raising orbit.

The access search needs satellite positions two ways: on a coarse grid, ``(sats, times, 3)``,
and at scattered ``(satellite, instant)`` pairs while refining. Both kinds of satellite give
both, in the ITRF of :func:`leonet.orbits.propagate.propagate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from leonet.coverage.passes import propagate_pairs, top_angular_rate_rad_s
from leonet.deployment.batch import MU_KM3_S2, RE_KM, LaunchBatch
from leonet.errors import InputError
from leonet.orbits.frames import EARTH_ROTATION_RAD_S, WGS84_A_KM
from leonet.orbits.propagate import propagate
from leonet.sources.constellation import Constellation


@dataclass(frozen=True, eq=False)
class SatelliteSource:
    """Satellites that can be positioned on a grid and at pairs.

    Exactly one of ``constellation`` (SGP4) or ``batches`` (analytic orbit raising; a raising
    satellite is not used until it reaches its shell, so its positions are NaN before then).
    ``norad_id``, ``name``: (sats,).
    """

    constellation: Constellation | None = None
    batches: tuple[LaunchBatch, ...] = ()
    _bounds: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if (self.constellation is None) == (not self.batches):
            raise InputError("give imaging satellites as a Constellation or as launch batches, not both or neither")
        counts = [b.satellites for b in self.batches]
        object.__setattr__(self, "_bounds", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))

    def __len__(self) -> int:
        return len(self.constellation) if self.constellation is not None else int(self._bounds[-1])

    @property
    def norad_id(self) -> np.ndarray:
        if self.constellation is not None:
            return self.constellation.norad_id
        return np.concatenate([b.norad_id for b in self.batches])

    @property
    def name(self) -> np.ndarray:
        if self.constellation is not None:
            return self.constellation.name
        return np.concatenate([b.names for b in self.batches])

    def grid_itrf_km(self, sat_index: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
        """Positions ``(len(sat_index), times, 3)`` km of satellites ``sat_index`` at ``t_ns``."""
        s = np.asarray(sat_index, dtype=np.int64)
        t = np.asarray(t_ns, dtype=np.int64)
        if self.constellation is not None:
            sats = [self.constellation.satrecs[i] for i in s.tolist()]
            return propagate(sats, t, frame="itrf", velocities=False).r_km
        return self.pairs_itrf_km(s[:, None], t[None, :])

    def pairs_itrf_km(self, sat_index: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
        """Positions ``(*broadcast, 3)`` km of satellites at instants (broadcast together);
        NaN where SGP4 failed or a batch satellite is not in service."""
        s, t = np.broadcast_arrays(np.asarray(sat_index, dtype=np.int64), np.asarray(t_ns, dtype=np.int64))
        if self.constellation is not None:
            r, _ = propagate_pairs(self.constellation.satrecs, s.ravel(), t.ravel())
            return r.reshape(*s.shape, 3)
        out = np.full((*s.shape, 3), np.nan)
        which = np.searchsorted(self._bounds, s, side="right") - 1
        for k, b in enumerate(self.batches):  # batches, not satellites
            sel = which == k
            if sel.any():
                local, tt = s[sel] - self._bounds[k], t[sel]
                r = b.positions_itrf_km(local, tt)
                r[tt < b.arrival_ns] = np.nan
                out[sel] = r
        return out

    def top_rate_rad_s(self, ground_alt_km: float = 0.0) -> np.ndarray:
        """Upper bound of each satellite's angular rate seen from the ground, (sats,) rad/s."""
        if self.constellation is not None:
            return top_angular_rate_rad_s(self.constellation.satrecs, ground_alt_km)
        # In service a batch satellite is on its circular shell (the lowest radius it can be seen from).
        r = np.concatenate([np.full(b.satellites, RE_KM + b.shell_altitude_km) for b in self.batches])
        v = np.sqrt(MU_KM3_S2 / r) + EARTH_ROTATION_RAD_S * r
        return v / np.maximum(r - 20.0 - (WGS84_A_KM + max(ground_alt_km, 0.0)), 50.0)


def as_source(sats: Constellation | SatelliteSource | LaunchBatch | Sequence[LaunchBatch]) -> SatelliteSource:
    """Wrap a Constellation, one LaunchBatch or a list of them."""
    if isinstance(sats, SatelliteSource):
        return sats
    if isinstance(sats, Constellation):
        return SatelliteSource(constellation=sats)
    if isinstance(sats, LaunchBatch):
        return SatelliteSource(batches=(sats,))
    items = tuple(sats)
    if not all(isinstance(b, LaunchBatch) for b in items):
        raise InputError("imaging satellites must be a Constellation, a LaunchBatch or a list of LaunchBatch")
    return SatelliteSource(batches=items)


__all__ = ["SatelliteSource", "as_source"]
