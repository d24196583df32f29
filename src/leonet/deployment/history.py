"""Survivors only, said plainly, and the satellites older snapshots add back.

A launch table built from one snapshot counts the satellites still in orbit when it was made:
a launch whose satellites have all re-entered is absent, and every other launch is a lower bound
(the 2026-08 Starlink snapshot finds 1 of the 2 Starlink launches of 2019, 18 of 2021's 19 and 62
of 2023's 63). :func:`survivor_counts` gives the figures per launch year; :func:`lost_since`
takes older snapshots and adds, per launch, the satellites they hold that the newest snapshot
no longer does (re-entered or dropped from the catalogue since), including launches with no
survivor left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leonet.errors import InputError
from leonet.sources.constellation import Constellation, concat


def survivor_counts(c: Constellation) -> list[dict]:
    """Per launch year of a snapshot: launches found and satellites still in orbit (rows
    ``{"year", "launches", "satellites"}``, by year; -1 = unreadable designator)."""
    lid = c.launch_id
    rows = []
    for y in np.unique(c.launch_year):  # years, not satellites
        m = c.launch_year == y
        rows.append({"year": int(y), "launches": int(np.unique(lid[m]).size), "satellites": int(m.sum())})
    return rows


@dataclass(frozen=True)
class LostSince:
    """Launches of the newest snapshot and of older ones. Per launch ``(K,)``, sorted by launch
    id: ``launch`` ('YYYY-NNN' or 'unknown'), ``year``, ``survivors`` (in the newest snapshot),
    ``lost`` (in an older snapshot, not in the newest). ``lost_ids``: catalogue numbers of the
    lost satellites; ``history``: labels of the older snapshots; ``newest``: the newest's label."""

    newest: str
    history: tuple[str, ...]
    launch: np.ndarray
    year: np.ndarray
    survivors: np.ndarray
    lost: np.ndarray
    lost_ids: np.ndarray

    def year_rows(self) -> list[dict]:
        """Per launch year: launches with survivors, launches seen only in older snapshots,
        survivors, lost since the older snapshots."""
        out = []
        for y in np.unique(self.year):
            m = self.year == y
            out.append({
                "year": int(y),
                "launches_with_survivors": int((m & (self.survivors > 0)).sum()),
                "launches_only_in_history": int((m & (self.survivors == 0)).sum()),
                "survivors": int(self.survivors[m].sum()),
                "lost": int(self.lost[m].sum()),
            })
        return out

    def as_dict(self) -> dict:
        return {"newest": self.newest, "history": list(self.history), "lost": int(self.lost.sum()),
                "launches_only_in_history": int((self.survivors == 0).sum()), "by_year": self.year_rows()}


def lost_since(newest: Constellation, history: Sequence[Constellation]) -> LostSince:
    """Satellites of the ``history`` snapshots that ``newest`` no longer holds, per launch. A
    history snapshot whose median epoch is not older than the newest's is an error."""
    if not history:
        raise InputError("lost_since needs at least one older snapshot")
    for h in history:
        if not len(h):
            raise InputError(f"history snapshot {h.label or '(unnamed)'} holds no satellites")
        if np.median(h.epoch_ns) >= np.median(newest.epoch_ns):
            raise InputError(f"history snapshot {h.label or '(unnamed)'} is not older than {newest.label or 'the newest snapshot'}; give older snapshots with --history")
    older = concat(list(history))  # one row per catalogue number (its newest record)
    gone = ~np.isin(older.norad_id, newest.norad_id)
    lost = older.take(gone)
    lid_new = np.where(newest.launch_id == "", "unknown", newest.launch_id).astype(str)
    lid_lost = np.where(lost.launch_id == "", "unknown", lost.launch_id).astype(str)
    keys = np.union1d(lid_new, lid_lost)
    survivors = np.zeros(keys.size, dtype=np.int64)
    lost_n = np.zeros(keys.size, dtype=np.int64)
    np.add.at(survivors, np.searchsorted(keys, lid_new), 1)
    np.add.at(lost_n, np.searchsorted(keys, lid_lost), 1)
    year = np.array([int(k[:4]) if k != "unknown" else -1 for k in keys], dtype=np.int64)
    return LostSince(newest.label, tuple(h.label for h in history), keys.astype(object), year, survivors, lost_n, np.sort(lost.norad_id))


__all__ = ["LostSince", "lost_since", "survivor_counts"]
