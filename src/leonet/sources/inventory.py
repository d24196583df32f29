"""What loaded element sets hold: counts, epochs, satellites by shell, and every record
rejected, duplicated or repaired (what ``leonet info`` reports)."""

from __future__ import annotations

from leonet.sources.constellation import Constellation
from leonet.sources.fleet import infer_fleet


def shell_band_min_count(satellites: int) -> int:
    """Smallest shell band worth listing: every band for fewer than 500 satellites, else bands of
    at least max(5, satellites / 500) (a big catalogue has many stray objects)."""
    return 1 if satellites < 500 else max(5, satellites // 500)


def inventory(c: Constellation) -> dict:
    """:meth:`Constellation.summary` plus ``sources``, ``states`` (satellites per operational
    state) and ``fleet_shells`` (the shells satellites hold station in; see
    :mod:`leonet.sources.fleet`), ``shells`` (shell bands, see :func:`shell_band_min_count`),
    ``rejections`` (text), ``duplicates`` (dicts), ``repaired`` and ``notes`` of the load report."""
    fleet = infer_fleet(c)
    return c.summary() | {
        "sources": c.report.sources,
        "states": fleet.counts(),
        "fleet_shells": list(fleet.shells),
        "shells": c.shell_bands(min_count=shell_band_min_count(len(c))),
        "rejections": [str(r) for r in c.report.rejected],
        "duplicates": [d.__dict__ for d in c.report.duplicates],
        "repaired": c.report.repaired,
        "notes": c.report.notes,
    }


__all__ = ["inventory", "shell_band_min_count"]
