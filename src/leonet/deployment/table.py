"""Deployment from international designators: launches, batch per launch, satellites per shell.

An international designator ``YYYY-NNNP`` names the launch (year ``YYYY``, launch ``NNN`` of the
year) and the piece ``P``; every satellite of one launch shares ``YYYY-NNN``, so grouping by it
gives the launch batches.

**A snapshot holds only objects still in orbit.** An element-set file lists what was tracked
when it was made: satellites that re-entered before then (early failures, deorbited old
satellites, a batch lost to a storm) are simply absent, so a launch's count here is the part of
its batch still up, a lower bound on what was launched. :func:`compare_snapshots` shows it: two
snapshots differ by satellites added (launched in between) and lost (re-entered in between).

Shells: satellites are grouped by inclination band (``inclination_step_deg``, default 0.5 deg)
and, if ``altitude_step_km`` is given, mean-altitude band; satellites with perigee below 300 km
or eccentricity above 0.01 are "raising/deorbiting or eccentric" (as
:meth:`leonet.Constellation.shell_bands`). Satellites without a readable designator are counted
under launch "unknown", never dropped.

:func:`deployment_report` does it all for one snapshot (and a second to compare with);
:func:`plot_deployment` draws the table on a bare matplotlib Figure (no pyplot: the user's
backend is left alone), in any format of :data:`PLOT_FORMATS`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from leonet.deployment.history import LostSince, lost_since, survivor_counts
from leonet.errors import InputError
from leonet.sources.constellation import Constellation

SNAPSHOT_NOTE = (
    "A snapshot holds only objects still in orbit when it was made: satellites that re-entered "
    "before then are absent, so each launch's count is what remains of its batch (a lower bound on what was launched)."
)
ODD_SHELL = "raising/deorbiting or eccentric"


def shell_labels(c: Constellation, inclination_step_deg: float = 0.5, altitude_step_km: float | None = None) -> np.ndarray:
    """Shell label per satellite (sats,) str, e.g. '53.0 deg' or '53.0 deg / 550 km'."""
    if not inclination_step_deg > 0 or (altitude_step_km is not None and not altitude_step_km > 0):
        raise InputError("inclination_step_deg and altitude_step_km must be positive")
    inc = np.round(c.inclination_deg / inclination_step_deg) * inclination_step_deg
    labels = np.array([f"{x:.1f} deg" for x in inc], dtype=object)
    if altitude_step_km is not None:
        alt = np.round(c.mean_altitude_km / altitude_step_km) * altitude_step_km
        labels = np.array([f"{a} / {h:.0f} km" for a, h in zip(labels, alt)], dtype=object)
    odd = (c.perigee_altitude_km < 300.0) | (c.eccentricity > 0.01)
    labels[odd] = ODD_SHELL
    return labels


@dataclass
class DeploymentTable:
    """Launches of one snapshot, in launch order, and counts per shell per launch year.

    ``launch`` (L,) 'YYYY-NNN' ('unknown' last, if any); ``year``, ``number`` (L,) int (-1 for
    unknown); ``satellites`` (L,) int: still in orbit in this snapshot; ``first_piece``,
    ``last_piece`` (L,) str; ``main_shell`` (L,) str: the shell most of the batch is in now;
    ``median_altitude_km`` (L,) float. ``shells`` (S,) str; ``by_launch_shell`` (L, S) int;
    ``years`` (Y,) int and ``by_year_shell`` (Y, S) int (launched that year, in that shell now).
    """

    launch: np.ndarray
    year: np.ndarray
    number: np.ndarray
    satellites: np.ndarray
    first_piece: np.ndarray
    last_piece: np.ndarray
    main_shell: np.ndarray
    median_altitude_km: np.ndarray
    shells: np.ndarray
    by_launch_shell: np.ndarray
    years: np.ndarray
    by_year_shell: np.ndarray
    label: str = ""
    epoch_range: tuple[str, str] = ("", "")
    notes: list[str] = field(default_factory=lambda: [SNAPSHOT_NOTE])

    def __len__(self) -> int:
        return int(self.launch.shape[0])

    def launch_rows(self) -> list[dict]:
        return [
            {"order": k + 1, "launch": str(self.launch[k]), "year": int(self.year[k]), "satellites": int(self.satellites[k]),
             "pieces": f"{self.first_piece[k]}..{self.last_piece[k]}", "main_shell": str(self.main_shell[k]),
             "median_altitude_km": round(float(self.median_altitude_km[k]), 1)}
            for k in range(len(self))
        ]

    def year_rows(self) -> list[dict]:
        cum = np.cumsum(self.by_year_shell.sum(axis=1))
        return [
            {"year": int(y), **{str(s): int(v) for s, v in zip(self.shells, self.by_year_shell[i])}, "total": int(self.by_year_shell[i].sum()), "cumulative": int(cum[i])}
            for i, y in enumerate(self.years)
        ]

    def as_dict(self) -> dict:
        return {"label": self.label, "epoch_range": list(self.epoch_range), "satellites": int(self.satellites.sum()),
                "launches": self.launch_rows(), "by_year": self.year_rows(), "notes": self.notes}


def deployment_table(c: Constellation, inclination_step_deg: float = 0.5, altitude_step_km: float | None = None) -> DeploymentTable:
    """Launch table of a constellation snapshot (see the module notes)."""
    lid = c.launch_id
    lid = np.where(lid == "", "unknown", lid).astype(object)
    shells_all = shell_labels(c, inclination_step_deg, altitude_step_km)
    # 'YYYY-NNN' sorts in launch order as text, and 'unknown' after every digit.
    keys, li = np.unique(lid.astype(str), return_inverse=True)
    keys = keys.astype(object)
    names, si = np.unique(shells_all.astype(str), return_inverse=True)
    rank = np.array(sorted(range(len(names)), key=lambda j: (names[j] == ODD_SHELL, names[j])), dtype=np.int64)
    shells = names[rank].astype(object)
    si = np.argsort(rank)[si]  # old position -> position in the ordered list
    n_l, n_s = len(keys), len(shells)
    by_ls = np.zeros((n_l, n_s), dtype=np.int64)
    np.add.at(by_ls, (li, si), 1)
    year = np.array([int(k[:4]) if k != "unknown" else -1 for k in keys], dtype=np.int64)
    number = np.array([int(k[5:8]) if k != "unknown" else -1 for k in keys], dtype=np.int64)
    pieces = c.piece
    first_p = np.empty(n_l, dtype=object)
    last_p = np.empty(n_l, dtype=object)
    med_alt = np.full(n_l, np.nan)
    order = np.lexsort((pieces.astype(str), np.array([len(p) for p in pieces]), li))  # pieces sort A..Z, AA..
    bounds = np.searchsorted(li[order], np.arange(n_l + 1))
    alt_sorted = c.mean_altitude_km[order]
    for k in range(n_l):  # per launch (hundreds), not per satellite
        seg = order[bounds[k] : bounds[k + 1]]
        if seg.size:
            first_p[k], last_p[k] = pieces[seg[0]], pieces[seg[-1]]
            med_alt[k] = float(np.median(alt_sorted[bounds[k] : bounds[k + 1]]))
    years = np.unique(year[year >= 0])
    by_ys = np.zeros((len(years), n_s), dtype=np.int64)
    yi = np.searchsorted(years, year)
    ok = year >= 0
    np.add.at(by_ys, yi[ok], by_ls[ok])
    return DeploymentTable(
        launch=keys,
        year=year,
        number=number,
        satellites=by_ls.sum(axis=1),
        first_piece=first_p,
        last_piece=last_p,
        main_shell=shells[np.argmax(by_ls, axis=1)] if n_s else np.full(n_l, "", dtype=object),
        median_altitude_km=med_alt,
        shells=shells,
        by_launch_shell=by_ls,
        years=years,
        by_year_shell=by_ys,
        label=c.label,
        epoch_range=c.epoch_range(),
        notes=[SNAPSHOT_NOTE] + ([f"{int((lid == 'unknown').sum())} satellites have no readable international designator (launch 'unknown')"] if (lid == "unknown").any() else []),
    )


@dataclass
class SnapshotDiff:
    """Two snapshots compared by catalogue number. ``older``/``newer``: labels; ``added``: in the
    newer only (launched in between, or newly catalogued); ``lost``: in the older only
    (re-entered in between, or dropped from the feed); ``kept``: in both. Arrays of NORAD ids;
    ``*_by_year``: {launch year: count} (-1 = unknown designator)."""

    older: str
    newer: str
    older_epochs: tuple[str, str]
    newer_epochs: tuple[str, str]
    kept: np.ndarray
    added: np.ndarray
    lost: np.ndarray
    added_by_year: dict[int, int]
    lost_by_year: dict[int, int]

    def as_dict(self) -> dict:
        return {
            "older": self.older, "newer": self.newer, "older_epochs": list(self.older_epochs), "newer_epochs": list(self.newer_epochs),
            "kept": int(self.kept.size), "added": int(self.added.size), "lost": int(self.lost.size),
            "added_by_launch_year": {str(k): v for k, v in self.added_by_year.items()},
            "lost_by_launch_year": {str(k): v for k, v in self.lost_by_year.items()},
        }


def compare_snapshots(a: Constellation, b: Constellation) -> SnapshotDiff:
    """Satellites added and lost between two snapshots (ordered by their median epoch)."""
    if not len(a) or not len(b):
        raise InputError("both snapshots need satellites to be compared")
    old, new = (a, b) if np.median(a.epoch_ns) <= np.median(b.epoch_ns) else (b, a)
    kept = np.intersect1d(old.norad_id, new.norad_id)
    added = np.setdiff1d(new.norad_id, old.norad_id)
    lost = np.setdiff1d(old.norad_id, new.norad_id)

    def by_year(c: Constellation, ids: np.ndarray) -> dict[int, int]:
        yrs, cnt = np.unique(c.launch_year[np.isin(c.norad_id, ids)], return_counts=True)
        return {int(y): int(n) for y, n in zip(yrs, cnt)}

    return SnapshotDiff(old.label, new.label, old.epoch_range(), new.epoch_range(), kept, added, lost, by_year(new, added), by_year(old, lost))


@dataclass
class DeploymentReport:
    """A snapshot's launch table and, if a second snapshot was given, the comparison of the two."""

    constellation: Constellation
    table: DeploymentTable
    comparison: SnapshotDiff | None = None
    survivors: list[dict] = field(default_factory=list)
    lost_since: LostSince | None = None

    def as_dict(self) -> dict:
        """``{"deployment": ..., "survivors_by_year": ..., "lost_since": ..., "comparison": ...}``
        (the last two only when there are older snapshots or a second one)."""
        doc = {"deployment": self.table.as_dict(), "survivors_by_year": self.survivors}
        if self.lost_since is not None:
            doc["lost_since"] = self.lost_since.as_dict()
        if self.comparison is not None:
            doc["comparison"] = self.comparison.as_dict()
        return doc


def deployment_report(snapshot: Constellation | str | Path | Sequence[str | Path], compare_with: Constellation | str | Path | None = None,
                      inclination_step_deg: float = 0.5, altitude_step_km: float | None = None,
                      history: Sequence[Constellation | str | Path] = ()) -> DeploymentReport:
    """Launch table of ``snapshot`` (a Constellation, or element-set files read with
    :func:`leonet.sources.load.load`), its survivors per launch year, the satellites lost since
    the older ``history`` snapshots (:mod:`leonet.deployment.history`) and its comparison with
    ``compare_with`` if given."""
    c = _as_constellation(snapshot)
    if not len(c):
        raise InputError("no satellites were loaded from the file(s); check them with leonet info")
    tab = deployment_table(c, inclination_step_deg, altitude_step_km)
    diff = compare_snapshots(c, _as_constellation(compare_with)) if compare_with is not None else None
    lost = lost_since(c, [_as_constellation(h) for h in history]) if history else None
    return DeploymentReport(c, tab, diff, survivor_counts(c), lost)


def _as_constellation(x: Constellation | str | Path | Sequence[str | Path]) -> Constellation:
    if isinstance(x, Constellation):
        return x
    from leonet.sources.load import load

    return load([x] if isinstance(x, (str, Path)) else list(x))


# Formats matplotlib writes without extra software (pgf needs LaTeX; raw/rgba are no image files).
PLOT_FORMATS = ("png", "svg", "svgz", "pdf", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp")


def check_plot_path(path: str | Path) -> str:
    """The image format of a plot file from its suffix (none: PNG), or a clear error naming the
    supported ones; also that its folder exists. Call it before long work."""
    p = Path(path)
    fmt = p.suffix[1:].lower() or "png"
    if fmt not in PLOT_FORMATS:
        raise InputError(f"cannot write a plot as {p.suffix!r} ({p}); use one of .{', .'.join(PLOT_FORMATS)}, e.g. .png, .svg or .pdf")
    if not p.expanduser().resolve().parent.is_dir():
        raise InputError(f"folder {p.expanduser().resolve().parent} does not exist; create it first")
    return fmt


def plot_deployment(table: DeploymentTable, path: str | Path, title: str | None = None) -> Path:
    """Two panels: satellites still in orbit per launch (launch order) and per launch year,
    stacked by shell. Writes ``path`` (format by suffix, see :data:`PLOT_FORMATS`; written
    beside its final name and renamed into place) and returns it.

    Drawn on a bare :class:`matplotlib.figure.Figure`: pyplot and the user's backend are left
    alone (a notebook keeps its own)."""
    import matplotlib
    from matplotlib.figure import Figure

    p = Path(path)
    fmt = check_plot_path(p)
    fig = Figure(figsize=(12, 8), constrained_layout=True)
    ax1, ax2 = fig.subplots(2, 1)
    x = np.arange(1, len(table) + 1)
    bottom1 = np.zeros(len(table))
    bottom2 = np.zeros(len(table.years))
    colours = matplotlib.colormaps["tab10"]
    for j, shell in enumerate(table.shells):
        c = colours(j % 10)
        ax1.bar(x, table.by_launch_shell[:, j], bottom=bottom1, width=1.0, color=c, label=str(shell))
        bottom1 += table.by_launch_shell[:, j]
        ax2.bar(table.years, table.by_year_shell[:, j], bottom=bottom2, color=c, label=str(shell))
        bottom2 += table.by_year_shell[:, j]
    first_of_year = np.r_[True, table.year[1:] != table.year[:-1]]
    ax1.set_xticks(x[first_of_year], [str(y) if y >= 0 else "?" for y in table.year[first_of_year]])
    ax1.set_xlabel("launch (in order; ticks at each year's first)")
    ax1.set_ylabel("satellites still in orbit")
    ax1.set_title(title or f"{table.label}: {int(table.satellites.sum()):,} satellites from {len(table)} launches (epochs {table.epoch_range[0]} .. {table.epoch_range[1]})")
    ax1.legend(title="shell now", fontsize=8, ncols=2)
    cum = np.cumsum(table.by_year_shell.sum(axis=1))
    ax2.plot(table.years, cum, "k.-", label="cumulative")
    ax2.set_xlabel("launch year")
    ax2.set_ylabel("satellites still in orbit")
    ax2.set_title("by launch year (only objects still in orbit at the snapshot)")
    ax2.legend(fontsize=8)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, format=fmt, dpi=110)
        tmp.replace(p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


__all__ = [
    "DeploymentReport", "DeploymentTable", "PLOT_FORMATS", "SNAPSHOT_NOTE", "SnapshotDiff", "check_plot_path", "compare_snapshots",
    "deployment_report", "deployment_table", "plot_deployment", "shell_labels",
]
