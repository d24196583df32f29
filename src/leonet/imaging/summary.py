"""Per-target summaries of access windows: figures of merit and age-of-data statistics, as plain
rows (JSON-ready: numbers rounded to the ms, None where undefined)."""

from __future__ import annotations

import numpy as np

from leonet.errors import InputError
from leonet.imaging.access import AccessWindows, Sensor
from leonet.imaging.downlink import ROUTES, AgeOfData
from leonet.imaging.fom import AccessFigures
from leonet.imaging.targets import Targets
from leonet.times import format_time

AGE_DIRECT = "from the highest-elevation instant of each access to the satellite's next gateway contact (direct downlink; laser paths not modelled)"
AGE_LASERS = ("from the highest-elevation instant of each access: one-way light time of the shortest path over the constellation's +Grid lasers "
              "to a satellite in view of a gateway at that instant (route 'laser'; 'direct-now' when the imaging satellite itself sees one), "
              "else the wait to the satellite's next gateway contact ('direct-later'); satellites in no inferred shell have no lasers")


def rounded(x: float | None) -> float | None:
    """``x`` rounded to 3 decimals (ms for seconds); None for None, NaN or infinity."""
    return None if x is None or not np.isfinite(x) else round(float(x), 3)


def age_of_data_stats(age: AgeOfData, target: np.ndarray, n_targets: int) -> list[dict]:
    """Age-of-data statistics per target, ``n_targets`` rows (targets without accesses included).

    ``age``: per access; ``target`` (n,) int: the target row of each access (``windows.target``).
    Each row: ``age_of_data_mean_s``, ``_p50_s``, ``_p90_s``, ``_max_s`` over the accesses that
    reached a gateway (None if none did), ``accesses_without_downlink`` and
    ``age_of_data_routes`` ({route: accesses} for every route of :data:`ROUTES`)."""
    target = np.asarray(target, dtype=np.int64)
    if target.shape != age.age_s.shape:
        raise InputError(f"target has shape {target.shape}, the ages {age.age_s.shape}: give one target row per access")
    order = np.argsort(target, kind="stable")  # each target's accesses in their original order
    bounds = np.searchsorted(target[order], np.arange(n_targets + 1))
    rows = []
    for k in range(n_targets):  # reporting only: one row per target, no per-access work
        idx = order[bounds[k] : bounds[k + 1]]
        a = age.age_s[idx]
        ok = a[np.isfinite(a)]
        rows.append({
            "age_of_data_mean_s": rounded(ok.mean()) if ok.size else None,
            "age_of_data_p50_s": rounded(np.percentile(ok, 50)) if ok.size else None,
            "age_of_data_p90_s": rounded(np.percentile(ok, 90)) if ok.size else None,
            "age_of_data_max_s": rounded(ok.max()) if ok.size else None,
            "accesses_without_downlink": int(a.size - ok.size),
            "age_of_data_routes": {r: int(np.count_nonzero(age.route[idx] == r)) for r in ROUTES},
        })
    return rows


def access_summary(targets: Targets, windows: AccessWindows, figures: AccessFigures, age: AgeOfData | None, sensor: Sensor,
                   start_ns: int, end_ns: int, lasers: bool = False) -> dict:
    """The summary document of an access run: window, sensor, access count, how age of data was
    found, and one row per target (name, group, kind, every figure of merit, and the
    age-of-data statistics of :func:`age_of_data_stats` when ``age`` is given)."""
    cols = figures.as_columns()
    ages = age_of_data_stats(age, windows.target, len(targets)) if age is not None else None
    per_target = []
    for k in range(len(targets)):  # reporting only
        row = {"target": str(targets.name[k]), "group": str(targets.group[k]), "kind": str(targets.kind[k])}
        row |= {name: (int(v[k]) if v.dtype.kind in "iu" else rounded(v[k])) for name, v in cols.items()}
        if ages is not None:
            row |= ages[k]
        per_target.append(row)
    return {
        "start_utc": str(format_time(start_ns)),
        "end_utc": str(format_time(end_ns)),
        "sensor": {"min_elevation_deg": sensor.min_elevation_deg, "max_off_nadir_deg": sensor.max_off_nadir_deg, "sun_min_elevation_deg": sensor.sun_min_elevation_deg},
        "accesses": len(windows),
        "age_of_data": None if age is None else (AGE_LASERS if lasers else AGE_DIRECT),
        "age_of_data_lasers": None if age is None else bool(lasers),
        "age_of_data_routes": None if age is None else age.route_counts(),
        "targets": per_target,
    }


__all__ = ["AGE_DIRECT", "AGE_LASERS", "access_summary", "age_of_data_stats", "rounded"]
