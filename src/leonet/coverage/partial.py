"""Figures of merit and per-cell statistics of a long window, merged exactly from time chunks.

A chunked run computes, for each time chunk of a ``counts`` ``(places, times)`` series, a
:class:`ChunkPartial`: integer sums and extremes, the uncovered runs touching the chunk's two
edges, and the uncovered runs wholly inside it (as ``(place, length)`` pairs in samples, in
time order). :class:`FomMerger` folds the partials in time order into exactly the
:class:`~leonet.coverage.fom.FiguresOfMerit` that :func:`~leonet.coverage.fom.figures_of_merit`
gives on the whole series, bit for bit:

* means and percentages are integer sums divided once at the end, as NumPy's ``mean`` of
  integers does (its float sums of integers below 2**53 are exact);
* a gap that crosses chunk boundaries is the run left open at one chunk's end joined with the
  next chunk's leading run (a chunk wholly uncovered extends it);
* the gap sums (``gap_s`` and ``gap_s**2``) are accumulated gap by gap in time order per
  place, the same floating-point additions as ``np.bincount`` in
  :func:`~leonet.coverage.fom.gap_statistics`, so even a step such as 0.1 s gives equal bits.

Memory: the merger holds ``O(places)`` state; a partial holds ``O(places)`` plus its inner gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leonet.coverage.fom import FiguresOfMerit, mean_gap, run_lengths


@dataclass
class ChunkPartial:
    """One time chunk's contribution for ``places`` places over ``times`` samples. Per place
    ``(places,)``: ``vmin``/``vmax`` counts, ``vsum`` int64 sum, ``ge`` ``(places, max_n)``
    samples with at least N = 1..max_n, ``lead`` uncovered samples at the chunk's start
    (``times`` when never covered), ``trail`` uncovered samples at its end, ``starts`` coverage
    intervals beginning inside the chunk (its first sample counts when covered). ``gap_place``
    and ``gap_len`` (samples): the uncovered runs touching neither edge, in time order per place."""

    times: int
    vmin: np.ndarray
    vmax: np.ndarray
    vsum: np.ndarray
    ge: np.ndarray
    lead: np.ndarray
    trail: np.ndarray
    starts: np.ndarray
    gap_place: np.ndarray
    gap_len: np.ndarray

    def columns(self) -> dict[str, np.ndarray]:
        """Per-place columns (for a table); the inner gaps are in :meth:`gap_columns`."""
        cols = {"vmin": self.vmin, "vmax": self.vmax, "vsum": self.vsum, "lead": self.lead, "trail": self.trail, "starts": self.starts}
        cols |= {f"ge{k + 1}": self.ge[:, k] for k in range(self.ge.shape[1])}
        return cols

    def gap_columns(self) -> dict[str, np.ndarray]:
        return {"place": self.gap_place, "length": self.gap_len}

    @classmethod
    def from_columns(cls, times: int, cols: dict[str, np.ndarray], gaps: dict[str, np.ndarray]) -> ChunkPartial:
        ks = sorted(int(k[2:]) for k in cols if k.startswith("ge"))
        ge = np.stack([np.asarray(cols[f"ge{k}"], np.int64) for k in ks], axis=1) if ks else np.zeros((len(cols["vmin"]), 0), np.int64)
        return cls(times, np.asarray(cols["vmin"]), np.asarray(cols["vmax"]), np.asarray(cols["vsum"], np.int64), ge,
                   np.asarray(cols["lead"], np.int64), np.asarray(cols["trail"], np.int64), np.asarray(cols["starts"], np.int64),
                   np.asarray(gaps["place"], np.int64), np.asarray(gaps["length"], np.int64))


def chunk_partial(counts: np.ndarray, max_n: int = 4) -> ChunkPartial:
    """The :class:`ChunkPartial` of ``counts`` ``(places, times)`` (one time chunk, times >= 1)."""
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[1] == 0:
        raise ValueError(f"counts must be (places, times) with at least one time, got shape {counts.shape}")
    places, times = counts.shape
    covered = counts > 0
    # Leading run: index of the first covered sample (times when none); trailing likewise.
    any_cov = covered.any(axis=1)
    lead = np.where(any_cov, covered.argmax(axis=1), times).astype(np.int64)
    trail = np.where(any_cov, covered[:, ::-1].argmax(axis=1), times).astype(np.int64)
    gp, glen = run_lengths(covered)
    # Drop the runs touching an edge: the first run of a place starting at 0, the last ending at times.
    if gp.size:
        first = np.ones(gp.size, bool)
        first[1:] = gp[1:] != gp[:-1]
        last = np.ones(gp.size, bool)
        last[:-1] = gp[:-1] != gp[1:]
        touches_start = first & (lead[gp] > 0)
        touches_end = last & (trail[gp] > 0)
        inner = ~(touches_start | touches_end)
        gp, glen = gp[inner], glen[inner]
    starts = covered.copy()
    starts[:, 1:] &= ~covered[:, :-1]
    return ChunkPartial(
        times=times,
        vmin=counts.min(axis=1) if places else np.zeros(0),  # as figures_of_merit without places
        vmax=counts.max(axis=1) if places else np.zeros(0),
        vsum=counts.sum(axis=1, dtype=np.int64),
        ge=np.stack([(counts >= k).sum(axis=1, dtype=np.int64) for k in range(1, max_n + 1)], axis=1) if places else np.zeros((0, max_n), np.int64),
        lead=lead,
        trail=trail,
        starts=starts.sum(axis=1, dtype=np.int64),
        gap_place=gp.astype(np.int64),
        gap_len=glen.astype(np.int64),
    )


class FomMerger:
    """Folds :class:`ChunkPartial` s, given in time order, into the whole window's figures of
    merit (:meth:`result`) and per-place sums (``vsum``, ``vmin``, ``vmax``)."""

    def __init__(self, places: int, step_s: float, max_n: int = 4):
        if step_s <= 0:
            raise ValueError(f"step_s must be positive, got {step_s}")
        self.places, self.step_s, self.max_n = places, float(step_s), max_n
        self.times = 0
        self.vmin: np.ndarray | None = None
        self.vmax: np.ndarray | None = None
        self.vsum = np.zeros(places, np.int64)
        self.ge = np.zeros((places, max_n), np.int64)
        self.starts = np.zeros(places, np.int64)
        self.open = np.zeros(places, np.int64)  # uncovered samples at the end of what has been merged
        self.last_covered = np.zeros(places, bool)
        self.gap_count = np.zeros(places, np.int64)
        self.gap_total = np.zeros(places)
        self.gap_sq = np.zeros(places)
        self.gap_max = np.zeros(places)

    def add(self, p: ChunkPartial) -> None:
        if p.vsum.shape != (self.places,):
            raise ValueError(f"partial has {p.vsum.shape[0]} places, the merger {self.places}")
        self.vmin = p.vmin.copy() if self.vmin is None else np.minimum(self.vmin, p.vmin)
        self.vmax = p.vmax.copy() if self.vmax is None else np.maximum(self.vmax, p.vmax)
        self.vsum += p.vsum
        self.ge += p.ge[:, : self.max_n]
        first_covered = p.lead == 0
        # An interval running on from the previous chunk is not a new access.
        self.starts += p.starts - (first_covered & self.last_covered)
        never = p.lead == p.times
        # The run open before this chunk closes at its first covered sample (joined with its lead).
        closing = ~never & ((self.open + p.lead) > 0)
        cp = np.flatnonzero(closing)
        place = np.concatenate([cp, p.gap_place])
        length = np.concatenate([self.open[cp] + p.lead[cp], p.gap_len])
        order = np.argsort(place, kind="stable")  # per place: the joined run first, then inner runs in time order
        self._gaps(place[order], length[order])
        self.open = np.where(never, self.open + p.times, p.trail)
        self.last_covered = np.where(never, False, p.trail == 0)
        self.times += p.times

    def _gaps(self, place: np.ndarray, length: np.ndarray) -> None:
        gap_s = length * self.step_s
        self.gap_count += np.bincount(place, minlength=self.places)
        # Unbuffered, in index order: the additions bincount makes on the whole series.
        np.add.at(self.gap_total, place, gap_s)
        np.add.at(self.gap_sq, place, gap_s * gap_s)
        np.maximum.at(self.gap_max, place, gap_s)

    def result(self) -> FiguresOfMerit:
        """The figures of merit of everything added (the window is the sum of the chunks)."""
        if self.times == 0 or self.vmin is None or self.vmax is None:
            raise ValueError("no chunk was merged")
        tail = np.flatnonzero(self.open > 0)
        total, sq, mx, cnt = self.gap_total.copy(), self.gap_sq.copy(), self.gap_max.copy(), self.gap_count.copy()
        gap_s = self.open[tail] * self.step_s
        cnt[tail] += 1
        np.add.at(total, tail, gap_s)
        np.add.at(sq, tail, gap_s * gap_s)
        np.maximum.at(mx, tail, gap_s)
        window_s = self.times * self.step_s
        n = np.float64(self.times)
        return FiguresOfMerit(
            sats_in_view_min=self.vmin,
            sats_in_view_mean=self.vsum.astype(np.float64) / n,
            sats_in_view_max=self.vmax,
            percent_covered_by_at_least=(self.ge.astype(np.float64) / n) * 100.0,
            gap_count=cnt,
            gap_max_s=mx,
            gap_mean_s=mean_gap(total, cnt),
            response_time_mean_s=sq / (2.0 * window_s),
            response_time_max_s=mx,
            time_average_gap_s=sq / window_s,
            access_count=self.starts,
            window_s=window_s,
        )


def merge_partials(partials: list[ChunkPartial], step_s: float, max_n: int = 4) -> FiguresOfMerit:
    """:class:`FomMerger` over ``partials`` in order."""
    if not partials:
        raise ValueError("no partials to merge")
    m = FomMerger(len(partials[0].vsum), step_s, max_n)
    for p in partials:
        m.add(p)
    return m.result()
