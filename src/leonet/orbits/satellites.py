"""The one satellites abstraction: anything that can be positioned at any instants.

Every stage that needs satellite positions (coverage, passes, routing, imaging, capacity) takes
a :class:`Satellites`. The public :meth:`Satellites.at` checks its input and wraps the result
in :class:`~leonet.orbits.propagate.States`; subclasses implement the private array methods
(:meth:`Satellites._at` over a grid, :meth:`Satellites._at_pairs` at scattered
(satellite, instant) pairs, :meth:`Satellites.top_rate_rad_s` for search steps). SGP4 element
sets (:class:`leonet.sources.constellation.Constellation`) and launch batches raising their orbit
(:class:`leonet.deployment.batch.LaunchBatches`) implement it; :func:`join` puts several
together so that a scenario's satellites are one object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from leonet.errors import InputError
from leonet.orbits.propagate import FRAMES, States
from leonet.times import TimeGrid, as_t_ns


class Satellites(ABC):
    """Satellites with catalogue numbers ``norad_id`` (sats,) and names ``name`` (sats,)."""

    norad_id: np.ndarray
    name: np.ndarray

    def __len__(self) -> int:
        return len(self.norad_id)

    def at(
        self,
        times: TimeGrid | np.ndarray | Sequence | str | int | datetime | np.datetime64,
        frame: str = "itrf",
        *,
        velocities: bool = False,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> States:
        """States of every satellite at every instant of ``times``.

        ``times``: a :class:`~leonet.times.TimeGrid`, integer UTC ns, ``datetime64`` values or
        ISO-8601 text (floats are refused: seconds are not nanoseconds). ``frame``: 'itrf'
        (default) or 'teme'. Returns :class:`~leonet.orbits.propagate.States` with ``r_km``
        ``(sats, times, 3)``, ``error`` ``(sats, times)``, ``norad_id`` and ``serving``.
        ``progress`` is called with the number of states done since the last call.
        """
        t = as_t_ns(times)
        frame = str(frame).lower()
        if frame not in FRAMES:
            raise InputError(f"frame {frame!r} is not one of {', '.join(FRAMES)} (geodetic is derived from itrf)")
        st = self._at(t, frame, velocities, workers, progress)
        st.norad_id = np.asarray(self.norad_id, dtype=np.int64)
        st.epoch_ns = self.element_epoch_ns()
        return st

    def element_epoch_ns(self) -> np.ndarray | None:
        """Each satellite's element epoch, (sats,) UTC ns, where it has one (SGP4 element sets)."""
        return None

    def at_pairs(self, sat_index: np.ndarray, t_ns: np.ndarray, serving_only: bool = True) -> np.ndarray:
        """ITRF positions ``(*broadcast, 3)`` km of satellite ``sat_index[k]`` at ``t_ns[k]``
        (integer arrays broadcast together); NaN where propagation failed and, with
        ``serving_only``, where the satellite does not serve."""
        s, t = np.broadcast_arrays(np.asarray(sat_index), np.asarray(t_ns))
        if s.dtype.kind not in "iu" or t.dtype.kind not in "iu":
            raise InputError("at_pairs takes integer satellite rows and integer UTC ns")
        s, t = s.astype(np.int64), t.astype(np.int64)
        if s.size and (s.min() < 0 or s.max() >= len(self)):
            raise InputError(f"satellite rows must be in 0..{len(self) - 1}")
        r = self._at_pairs(s.ravel(), t.ravel(), serving_only)
        return r.reshape(*s.shape, 3)

    def take(self, index: np.ndarray | Sequence[int] | slice) -> Satellites:
        """The satellites at integer positions or a boolean mask, in that order."""
        idx = np.arange(len(self))[index] if not (isinstance(index, np.ndarray) and index.dtype == bool) else np.flatnonzero(index)
        return self._take(np.atleast_1d(np.asarray(idx, dtype=np.int64)))

    # ---- what an implementation provides ------------------------------------------------
    @abstractmethod
    def _at(self, t_ns: np.ndarray, frame: str, velocities: bool, workers: int | None, progress: Callable[[int], None] | None) -> States:
        """States on ``t_ns`` (times,) int64 UTC ns, ``frame`` checked already."""

    @abstractmethod
    def _at_pairs(self, sat_index: np.ndarray, t_ns: np.ndarray, serving_only: bool) -> np.ndarray:
        """ITRF km ``(pairs, 3)`` for (pairs,) rows and instants."""

    @abstractmethod
    def _take(self, idx: np.ndarray) -> Satellites:
        """A new object holding rows ``idx`` (int64, checked)."""

    @abstractmethod
    def top_rate_rad_s(self, ground_alt_km: float = 0.0) -> np.ndarray:
        """Upper bound of each satellite's angular rate seen from a ground point, (sats,) rad/s."""

    def motion_bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(rate_rad_s, r_max_km)`` (sats,) each: bounds on how fast each satellite's direction
        from the Earth's centre turns in ITRF and on its radius
        (:func:`~leonet.orbits.propagate.motion_bounds`); None when not known (then callers
        propagate every satellite at every instant)."""
        return None


class SatelliteUnion(Satellites):
    """Several :class:`Satellites` as one, rows in the order given (see :func:`join`)."""

    def __init__(self, parts: Sequence[Satellites]) -> None:
        self.parts = tuple(p for p in parts if len(p))
        self._bounds = np.concatenate([[0], np.cumsum([len(p) for p in self.parts])]).astype(np.int64)
        self.norad_id = np.concatenate([p.norad_id for p in self.parts]) if self.parts else np.zeros(0, np.int64)
        self.name = np.concatenate([p.name for p in self.parts]) if self.parts else np.zeros(0, object)
        if len(np.unique(self.norad_id)) != len(self.norad_id):
            raise InputError("the satellites joined share catalogue numbers; give launch batches their own first_id range")

    def __repr__(self) -> str:
        return f"<SatelliteUnion of {' + '.join(type(p).__name__ + f'({len(p)})' for p in self.parts)}>"

    def _at(self, t_ns, frame, velocities, workers, progress) -> States:
        states = [p._at(t_ns, frame, velocities, workers, progress) for p in self.parts]
        if not states:
            z = np.zeros((0, len(t_ns)))
            return States(t_ns, np.zeros((0, len(t_ns), 3)), np.zeros((0, len(t_ns), 3)) if velocities else None, z.astype(np.uint8), frame)
        serving = None
        if any(s.serving is not None for s in states):
            serving = np.concatenate([s.serving if s.serving is not None else np.ones(s.shape, bool) for s in states])
        v = np.concatenate([s.v_kms for s in states]) if velocities else None
        return States(t_ns, np.concatenate([s.r_km for s in states]), v, np.concatenate([s.error for s in states]), frame, serving=serving)

    def _at_pairs(self, sat_index, t_ns, serving_only) -> np.ndarray:
        out = np.full((len(sat_index), 3), np.nan)
        which = np.searchsorted(self._bounds, sat_index, side="right") - 1
        for k, p in enumerate(self.parts):  # a loop over parts, not satellites
            sel = which == k
            if sel.any():
                out[sel] = p._at_pairs(sat_index[sel] - self._bounds[k], t_ns[sel], serving_only)
        return out

    def element_epoch_ns(self) -> np.ndarray | None:
        epochs = [p.element_epoch_ns() for p in self.parts]
        if all(e is None for e in epochs):
            return None
        # Satellites without element sets (launch batches) have no epoch to be far from.
        return np.concatenate([e if e is not None else np.full(len(p), np.iinfo(np.int64).min) for e, p in zip(epochs, self.parts)])

    def _take(self, idx: np.ndarray) -> Satellites:
        which = np.searchsorted(self._bounds, idx, side="right") - 1
        runs = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
        pieces = [self.parts[which[a]]._take(idx[a:b] - self._bounds[which[a]]) for a, b in zip(runs, np.r_[runs[1:], len(idx)])]
        return pieces[0] if len(pieces) == 1 else SatelliteUnion(pieces)

    def top_rate_rad_s(self, ground_alt_km: float = 0.0) -> np.ndarray:
        return np.concatenate([p.top_rate_rad_s(ground_alt_km) for p in self.parts]) if self.parts else np.zeros(0)

    def motion_bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        bounds = [p.motion_bounds() for p in self.parts]
        if not bounds or any(b is None for b in bounds):
            return None
        return np.concatenate([b[0] for b in bounds]), np.concatenate([b[1] for b in bounds])  # type: ignore[index]


def join(*parts: Satellites) -> Satellites:
    """One :class:`Satellites` holding ``parts`` in order (e.g. a snapshot and launch batches)."""
    flat: list[Satellites] = []
    for p in parts:
        if not isinstance(p, Satellites):
            raise InputError(f"join takes Satellites (a Constellation, LaunchBatches, ...), not {type(p).__name__}")
        flat.extend(p.parts if isinstance(p, SatelliteUnion) else [p])
    return flat[0] if len(flat) == 1 else SatelliteUnion(flat)


__all__ = ["Satellites", "SatelliteUnion", "join"]
