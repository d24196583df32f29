"""The ``Constellation``: SGP4 element sets plus per-satellite metadata, as parallel arrays.

A constellation is immutable; selections and concatenations return new ones. Real element
sets (TLE/OMM) and generated Walker shells give the same object and take the same SGP4 path.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from leonet.constants import WGS72_A_KM
from leonet.errors import InputError
from leonet.orbits.propagate import States, motion_bounds, propagate, propagate_pairs, top_angular_rate_rad_s
from leonet.orbits.satellites import Satellites
from leonet.sources.records import LoadReport, ParsedRecord
from leonet.times import format_time, jd2_to_ns

#: Element sets this many days from the time asked for get a warning; past the maximum, a refusal.
STALE_WARN_DAYS = 14.0
STALE_MAX_DAYS = 90.0


@dataclass(frozen=True, eq=False)
class Constellation(Satellites):
    """SGP4 satellites as parallel arrays of length ``n``; a :class:`~leonet.orbits.satellites.Satellites`
    (``c.at(grid)`` gives their states).

    ``satrecs``: SGP4 models; ``norad_id`` (n,) int64; ``name``, ``intl_designator`` (e.g.
    '2019-029A'), ``classification`` (n,) str; ``epoch_ns`` (n,) int64 UTC ns. Derived orbit
    figures are properties (``inclination_deg``, ``mean_altitude_km``, ``period_min`` ...).
    ``report`` says how the set was loaded.
    """

    satrecs: tuple[Satrec, ...]
    norad_id: np.ndarray
    name: np.ndarray
    intl_designator: np.ndarray
    classification: np.ndarray
    epoch_ns: np.ndarray
    report: LoadReport = field(default_factory=LoadReport)
    label: str = ""

    def __post_init__(self) -> None:
        n = len(self.satrecs)
        for attr in ("norad_id", "name", "intl_designator", "classification", "epoch_ns"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"Constellation.{attr} has {len(getattr(self, attr))} entries for {n} satellites")

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Sequence[ParsedRecord], report: LoadReport | None = None, label: str = "") -> Constellation:
        """Build from parsed records, keeping the newest epoch per catalogue number (reported)."""
        report = report if report is not None else LoadReport()
        jd = np.array([r.satrec.jdsatepoch for r in records], dtype=np.float64)
        fr = np.array([r.satrec.jdsatepochF for r in records], dtype=np.float64)
        epochs = jd2_to_ns(jd, fr).tolist()  # one vectorised conversion for the whole file
        order = _newest_per_id(
            [int(r.satrec.satnum) for r in records], epochs, [f"{r.source}:{r.line}" for r in records], report
        )
        recs = [records[k] for k in order]
        return cls(
            satrecs=tuple(r.satrec for r in recs),
            norad_id=np.array([r.satrec.satnum for r in recs], dtype=np.int64),
            name=np.array([r.name for r in recs], dtype=object),
            intl_designator=np.array([r.intl_designator for r in recs], dtype=object),
            classification=np.array([r.classification for r in recs], dtype=object),
            epoch_ns=np.array([epochs[k] for k in order], dtype=np.int64),
            report=report,
            label=label,
        )

    @classmethod
    def from_satrecs(cls, satrecs: Sequence[Satrec], label: str = "") -> Constellation:
        """SGP4 models built elsewhere (``sgp4.api.Satrec``), with their own catalogue numbers
        and epochs; names and designators are left empty."""
        sats = tuple(satrecs)
        if not all(isinstance(s, Satrec) for s in sats):
            raise InputError("from_satrecs takes sgp4.api.Satrec objects")
        jd = np.array([s.jdsatepoch for s in sats], dtype=np.float64)
        fr = np.array([s.jdsatepochF for s in sats], dtype=np.float64)
        blank = np.array([""] * len(sats), dtype=object)
        epochs = jd2_to_ns(jd, fr).astype(np.int64) if sats else np.zeros(0, np.int64)
        return cls(sats, np.array([s.satnum for s in sats], dtype=np.int64), blank, blank.copy(),
                   np.array(["U"] * len(sats), dtype=object), epochs, label=label)

    @classmethod
    def empty(cls) -> Constellation:
        e = np.array([], dtype=object)
        return cls((), np.array([], dtype=np.int64), e, e.copy(), e.copy(), np.array([], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.satrecs)

    def __repr__(self) -> str:
        return f"<Constellation {self.label or ''} {len(self)} satellites>".replace("  ", " ")

    # ---- SGP4 access --------------------------------------------------------------------
    @cached_property
    def sat_array(self) -> SatrecArray:
        """All satellites as one ``sgp4.api.SatrecArray``."""
        return SatrecArray(list(self.satrecs))

    # ---- the Satellites interface -------------------------------------------------------
    def _at(self, t_ns: np.ndarray, frame: str, velocities: bool, workers: int | None, progress: Callable[[int], None] | None) -> States:
        return propagate(self.satrecs, t_ns, frame=frame, velocities=velocities, workers=workers, progress=progress)

    def _at_pairs(self, sat_index: np.ndarray, t_ns: np.ndarray, serving_only: bool) -> np.ndarray:
        return propagate_pairs(self.satrecs, sat_index, t_ns)[0]

    def _take(self, idx: np.ndarray) -> Constellation:
        return self.take(idx)

    def top_rate_rad_s(self, ground_alt_km: float = 0.0) -> np.ndarray:
        return top_angular_rate_rad_s(self.satrecs, ground_alt_km)

    def motion_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return motion_bounds(self.satrecs)

    def element_epoch_ns(self) -> np.ndarray:
        return self.epoch_ns

    def stale_elements(self, start_ns: int, end_ns: int, warn_days: float = STALE_WARN_DAYS, max_days: float = STALE_MAX_DAYS,
                       allow: bool = False) -> list[str]:
        """Check how far ``[start_ns, end_ns]`` lies from the element epochs. Returns notes for
        satellites past ``warn_days``; raises :class:`~leonet.errors.InputError` when any is past
        ``max_days`` unless ``allow`` (then that is a note too). SGP4 on real element sets is
        good to about a km at epoch and drifts 1-3 km a day (more for manoeuvring satellites)."""
        if not len(self):
            return []
        age = np.maximum(np.abs(start_ns - self.epoch_ns), np.abs(end_ns - self.epoch_ns)) / 86_400e9
        worst = int(np.argmax(age))
        where = f"(the farthest, {self.name[worst] or self.norad_id[worst]}, has its epoch {format_time(int(self.epoch_ns[worst]), 's')}, {age[worst]:,.0f} days away)"
        notes = []
        n_max, n_warn = int((age > max_days).sum()), int((age > warn_days).sum())
        if n_max and not allow:
            raise InputError(
                f"{n_max:,} of {len(self):,} element sets are more than {max_days:g} days from the time asked for {where}: "
                "SGP4 positions that far from epoch are wrong by hundreds of km or more; use element sets from near that "
                "time, or give --allow-stale-elements (Python: allow_stale_elements=True) to go on anyway"
            )
        if n_warn:
            notes.append(f"{n_warn:,} of {len(self):,} element sets are more than {warn_days:g} days from the time asked for {where}; "
                         "SGP4 drifts 1-3 km a day from epoch")
        return notes

    # ---- derived orbit figures ----------------------------------------------------------
    def _attr(self, name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in self.satrecs], dtype=np.float64)

    @cached_property
    def inclination_deg(self) -> np.ndarray:
        return np.degrees(self._attr("inclo"))

    @cached_property
    def raan_deg(self) -> np.ndarray:
        """Right ascension of the ascending node at each satellite's epoch (TEME), degrees."""
        return np.degrees(self._attr("nodeo"))

    @cached_property
    def eccentricity(self) -> np.ndarray:
        return self._attr("ecco")

    @cached_property
    def arg_perigee_deg(self) -> np.ndarray:
        return np.degrees(self._attr("argpo"))

    @cached_property
    def mean_anomaly_deg(self) -> np.ndarray:
        return np.degrees(self._attr("mo"))

    @cached_property
    def mean_motion_rev_day(self) -> np.ndarray:
        """Kozai mean motion as written in the element set, rev/day."""
        return self._attr("no_kozai") * 1440.0 / (2.0 * np.pi)

    @cached_property
    def semi_major_axis_km(self) -> np.ndarray:
        """SGP4's (Brouwer) mean semi-major axis, km."""
        return self._attr("a") * WGS72_A_KM

    @cached_property
    def mean_altitude_km(self) -> np.ndarray:
        """Mean semi-major axis minus SGP4's Earth radius (6378.135 km)."""
        return self.semi_major_axis_km - WGS72_A_KM

    @cached_property
    def perigee_altitude_km(self) -> np.ndarray:
        return self._attr("altp") * WGS72_A_KM

    @cached_property
    def apogee_altitude_km(self) -> np.ndarray:
        return self._attr("alta") * WGS72_A_KM

    @cached_property
    def period_min(self) -> np.ndarray:
        """Keplerian period from SGP4's Brouwer mean motion (``2 pi / n``, with ``n = xke a^-1.5``,
        ``a`` in Earth radii), minutes. J2 makes the node-to-node period differ by about 0.1 %."""
        return 2.0 * np.pi * self._attr("a") ** 1.5 / self._attr("xke")

    @cached_property
    def launch_year(self) -> np.ndarray:
        """From the international designator; -1 where unknown."""
        return np.array([_designator_part(d, 0) for d in self.intl_designator], dtype=np.int64)

    @cached_property
    def launch_number(self) -> np.ndarray:
        """Launch of the year from the international designator; -1 where unknown."""
        return np.array([_designator_part(d, 1) for d in self.intl_designator], dtype=np.int64)

    @cached_property
    def piece(self) -> np.ndarray:
        """Piece of the launch from the international designator ('2019-074B' -> 'B'); '' where unknown."""
        return np.array([_designator_piece(d) for d in self.intl_designator], dtype=object)

    @property
    def launch_id(self) -> np.ndarray:
        """'YYYY-NNN' per satellite ('' where unknown)."""
        return np.array([d[:8] if _DESIGNATOR.match(d or "") else "" for d in self.intl_designator], dtype=object)

    # ---- selection ----------------------------------------------------------------------
    def take(self, index: np.ndarray | Sequence[int] | slice) -> Constellation:
        """Satellites at integer positions or a boolean mask, in that order."""
        if isinstance(index, np.ndarray) and index.dtype == bool:
            if index.shape != (len(self),):
                raise InputError(f"a boolean mask for {len(self)} satellites must have shape ({len(self)},), not {index.shape}")
            idx = np.flatnonzero(index)
        else:
            try:
                idx = np.arange(len(self))[index]
            except IndexError as exc:
                raise InputError(f"cannot take {index!r} from {len(self)} satellites: {exc}") from None
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        return Constellation(
            satrecs=tuple(map(self.satrecs.__getitem__, idx.tolist())),  # Python ints index a tuple fastest
            norad_id=self.norad_id[idx],
            name=self.name[idx],
            intl_designator=self.intl_designator[idx],
            classification=self.classification[idx],
            epoch_ns=self.epoch_ns[idx],
            report=self.report,
            label=self.label,
        )

    def select(
        self,
        *,
        name: str | None = None,
        norad_ids: Sequence[int] | None = None,
        inclination_deg: tuple[float, float] | None = None,
        altitude_km: tuple[float, float] | None = None,
        launch: str | None = None,
        launch_year: int | tuple[int, int] | None = None,
        strict: bool = True,
    ) -> Constellation:
        """Satellites matching every given criterion.

        ``name``: shell-style pattern, case-insensitive ('STARLINK-1*'); ``norad_ids``: catalogue
        numbers (with ``strict``, asking for one that is absent is an error); ``inclination_deg``
        and ``altitude_km``: inclusive (low, high) bands on inclination and mean altitude;
        ``launch``: 'YYYY-NNN'; ``launch_year``: a year or an inclusive (first, last) range.
        """
        mask = np.ones(len(self), dtype=bool)
        if name is not None:
            pat = re.compile(fnmatch.translate(name.upper()))
            mask &= np.array([bool(pat.match(str(n).upper())) for n in self.name], dtype=bool)
        if norad_ids is not None:
            want = np.atleast_1d(np.asarray(norad_ids, dtype=np.int64))
            missing = np.setdiff1d(want, self.norad_id)
            if strict and missing.size:
                shown = ", ".join(map(str, missing[:10])) + (" ..." if missing.size > 10 else "")
                raise InputError(f"catalogue number(s) {shown} are not in this constellation of {len(self)} satellites")
            mask &= np.isin(self.norad_id, want)
        if inclination_deg is not None:
            lo, hi = _band(inclination_deg, "inclination_deg")
            mask &= (self.inclination_deg >= lo) & (self.inclination_deg <= hi)
        if altitude_km is not None:
            lo, hi = _band(altitude_km, "altitude_km")
            mask &= (self.mean_altitude_km >= lo) & (self.mean_altitude_km <= hi)
        if launch is not None:
            if not re.fullmatch(r"\d{4}-\d{3}", launch):
                raise InputError(f"launch {launch!r} must look like '2019-074' (year and launch number)")
            mask &= self.launch_id == launch
        if launch_year is not None:
            single = isinstance(launch_year, (int, np.integer)) and not isinstance(launch_year, bool)
            lo, hi = (launch_year, launch_year) if single else _band(launch_year, "launch_year")
            mask &= (self.launch_year >= lo) & (self.launch_year <= hi)
        return self.take(mask)

    def __add__(self, other: Constellation) -> Constellation:
        return concat([self, other])

    # ---- summaries ----------------------------------------------------------------------
    def epoch_range(self) -> tuple[str, str]:
        if not len(self):
            return ("", "")
        return (str(format_time(int(self.epoch_ns.min()), "s")), str(format_time(int(self.epoch_ns.max()), "s")))

    def shell_bands(self, inclination_step_deg: float = 0.5, altitude_step_km: float = 10.0, min_count: int = 1) -> list[dict]:
        """Counts per (inclination band, mean-altitude band), largest first.

        Satellites with perigee below 300 km or eccentricity above 0.01 are grouped as
        'raising/deorbiting or eccentric' rather than banded.
        """
        odd = (self.perigee_altitude_km < 300.0) | (self.eccentricity > 0.01)
        inc_band = np.round(self.inclination_deg / inclination_step_deg) * inclination_step_deg
        alt_band = np.round(self.mean_altitude_km / altitude_step_km) * altitude_step_km
        keys = np.stack([inc_band[~odd], alt_band[~odd]], -1)
        rows: list[dict] = []
        if len(keys):
            uniq, counts = np.unique(keys, axis=0, return_counts=True)
            for (inc, alt), c in zip(uniq, counts):
                if c >= min_count:
                    rows.append({"inclination_deg": round(float(inc), 9), "altitude_km": round(float(alt), 9), "satellites": int(c)})
            rows.sort(key=lambda r: -r["satellites"])
            small = int(counts[counts < min_count].sum())
            if small:
                rows.append({"inclination_deg": None, "altitude_km": None, "satellites": small, "note": f"bands of fewer than {min_count}"})
        if odd.any():
            rows.append({"inclination_deg": None, "altitude_km": None, "satellites": int(odd.sum()), "note": "raising/deorbiting or eccentric"})
        return rows

    def summary(self) -> dict:
        first, last = self.epoch_range()
        return {
            "label": self.label,
            "satellites": len(self),
            "epoch_first_utc": first,
            "epoch_last_utc": last,
            "records_read": self.report.read,
            "rejected": len(self.report.rejected),
            "duplicates": len(self.report.duplicates),
            "mean_altitude_km_median": float(np.median(self.mean_altitude_km)) if len(self) else None,
        }


_DESIGNATOR = re.compile(r"^(\d{4})-(\d{3})")


def _band(value: object, what: str) -> tuple[float, float]:
    """An inclusive (low, high) pair, checked."""
    try:
        lo, hi = value  # type: ignore[misc]
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise InputError(f"{what}={value!r} must be an inclusive (low, high) pair, e.g. (52.5, 53.5)") from None
    if not lo <= hi:
        raise InputError(f"{what}=({lo:g}, {hi:g}): low must not exceed high")
    return lo, hi


def _newest_per_id(ids: Sequence[int], epochs: Sequence[int], where: Sequence[str], report: LoadReport) -> list[int]:
    """Positions to keep, in input order: one per catalogue number, the newest epoch (the first
    seen on a tie). Every dropped one is recorded in ``report.duplicates``."""
    from leonet.sources.records import Duplicate

    best: dict[int, int] = {}
    for k, num in enumerate(ids):
        if num not in best:
            best[num] = k
            continue
        j = best[num]
        keep, drop = (k, j) if epochs[k] > epochs[j] else (j, k)
        best[num] = keep
        report.duplicates.append(Duplicate(num, where[keep], where[drop], epochs[keep], epochs[drop]))
    return sorted(best.values())


def _designator_piece(d: str) -> str:
    m = _DESIGNATOR.match(d or "")
    return d[m.end() :].strip() if m else ""


def _designator_part(d: str, k: int) -> int:
    m = _DESIGNATOR.match(d or "")
    return int(m.group(k + 1)) if m else -1


def concat(parts: Sequence[Constellation], dedupe: bool = True) -> Constellation:
    """Join constellations; with ``dedupe`` a catalogue number seen twice keeps its newest epoch
    and the drop is reported (as for files)."""
    parts = list(parts)
    # Every part's report is kept, an empty part's too: its rejections must not vanish.
    report = LoadReport()
    for p in parts:
        report = report.merge(p.report)
        if not p.report.read:  # built by hand: its satellites are what was read
            report.read += len(p)
    label = "+".join(p.label for p in parts if p.label)
    parts = [p for p in parts if len(p)]
    if not parts:
        out = Constellation.empty()
        return Constellation(out.satrecs, out.norad_id, out.name, out.intl_designator, out.classification, out.epoch_ns, report, label)
    if dedupe:
        # Duplicates across parts are new information; the parts' own reports are kept.
        ids = [int(x) for p in parts for x in p.norad_id]
        epochs = [int(x) for p in parts for x in p.epoch_ns]
        where = [f"{p.label or 'constellation'}:{i + 1}" for p in parts for i in range(len(p))]
        keep = np.asarray(_newest_per_id(ids, epochs, where, report), dtype=np.int64)
        satrecs = [s for p in parts for s in p.satrecs]
        return Constellation(
            tuple(satrecs[k] for k in keep),
            np.concatenate([p.norad_id for p in parts])[keep],
            np.concatenate([p.name for p in parts])[keep],
            np.concatenate([p.intl_designator for p in parts])[keep],
            np.concatenate([p.classification for p in parts])[keep],
            np.concatenate([p.epoch_ns for p in parts])[keep],
            report,
            label,
        )
    return Constellation(
        tuple(s for p in parts for s in p.satrecs),
        np.concatenate([p.norad_id for p in parts]),
        np.concatenate([p.name for p in parts]),
        np.concatenate([p.intl_designator for p in parts]),
        np.concatenate([p.classification for p in parts]),
        np.concatenate([p.epoch_ns for p in parts]),
        report,
        label,
    )


__all__ = ["Constellation", "concat", "WGS72"]
