"""Sensitivity is geographic: which sensitive zones a region's changes reach.

A sensitive zone is the set of cells of a region marked sensitive. A policy state on any
region R changes the service of every cell the twin counts as R's
(:meth:`leonet.ground.regions.Region.member_mask`), so a change *reaches* zone Z when R and Z
share a cell. The twin may run at any H3 resolution, so sharing is checked at each of
:data:`PROTECTED_RES` (where a cell set, which only resolves at its own resolution, is
involved: at that resolution), and, for finer grids, by geometry: interiors that overlap or
parts closer than :data:`FINE_MARGIN_DEG`. A change that reaches a zone needs two different
operators, whatever region it is filed against.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np

from leonet.ground.regions import Region

PROTECTED_RES = tuple(range(0, 8))  # res 5 are Starlink's service cells; the twin accepts 0..15
FINE_MARGIN_DEG = 0.02  # ~2 km: two res-8 cells; closer parts may share a finer cell
_CACHE_LOCK = threading.Lock()
GROUND_LOCK = threading.Lock()
_REACH: dict[tuple[str, str], bool] = {}
_ZONE_CELLS: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}


def region_of(row: Any) -> Region:
    """A stored region row as the twin's :class:`Region`."""
    import shapely.geometry

    kind = row.kind
    if kind == "country":
        return Region.country(row.country)
    if kind == "polygon":
        return Region.polygon(shapely.geometry.shape(json.loads(row.geometry)), row.name)
    import h3

    cells = [h3.str_to_int(c) for c in json.loads(row.cells)]
    return Region.cell_set(cells, int(row.h3_res), row.name)


def _identity(row: Any) -> str:
    # Regions never change after creation; id + key + creation time names one for good.
    return f"{row.id}:{row.key}:{row.created_at}"


def reaches(row: Any, zone_row: Any) -> bool:
    """Whether a state on region ``row`` can change the service of a cell of ``zone_row``."""
    if row.id == zone_row.id:
        return True
    key = (_identity(row), _identity(zone_row))
    with _CACHE_LOCK:
        if key in _REACH:
            return _REACH[key]
    # One computation at a time: the border and cell code it calls (compiled on first use) is
    # not safe to enter from many server threads at once, and the answer is cached for good.
    with GROUND_LOCK:
        with _CACHE_LOCK:
            if key in _REACH:
                return _REACH[key]
        got = _reaches(region_of(row), region_of(zone_row), _identity(zone_row))
        with _CACHE_LOCK:
            _REACH[key] = got
    return got


def cached_reach(row: Any, zone_row: Any) -> bool | None:
    """:func:`reaches` if already known in this process (rows need only ``id``, ``key``,
    ``created_at``), else None."""
    if row.id == zone_row.id:
        return True
    with _CACHE_LOCK:
        return _REACH.get((_identity(row), _identity(zone_row)))


def _reaches(r: Region, z: Region, zid: str) -> bool:
    if r.kind == "cells" or z.kind == "cells":
        if r.kind == "cells" and z.kind == "cells":
            res = min(int(r.cells_res), int(z.cells_res))  # type: ignore[arg-type]
            return bool(np.intersect1d(_parents(r.cells, res), _parents(z.cells, res)).size)  # type: ignore[arg-type]
        res = int(r.cells_res if r.kind == "cells" else z.cells_res)  # type: ignore[arg-type]
        return _shares_cell(r, z, zid, res)
    if any(_shares_cell(r, z, zid, res) for res in PROTECTED_RES):
        return True
    rg, zg = r.geometry, z.geometry
    return bool(rg.relate_pattern(zg, "T********") or 0 < rg.distance(zg) < FINE_MARGIN_DEG)  # type: ignore[union-attr]


def _parents(cells: np.ndarray, res: int) -> np.ndarray:
    import h3.api.basic_int as h3i

    return np.unique(np.array([h3i.cell_to_parent(int(c), res) if h3i.get_resolution(int(c)) > res else int(c) for c in cells], dtype=np.uint64))


def zone_cells(z: Region, zid: str, res: int) -> tuple[np.ndarray, np.ndarray]:
    """The zone's cells at ``res`` (the twin's membership rule) and their countries."""
    key = (zid, res)
    with _CACHE_LOCK:
        if key in _ZONE_CELLS:
            return _ZONE_CELLS[key]
    from leonet.ground.cells import cells_to_country

    if z.kind == "cells":
        cells = z.cells_at(res)
        countries = cells_to_country(cells)
    else:
        import h3.api.basic_int as h3i

        inner = z.cells_at(res)
        # A country also owns coastal cells that cells_to_country gives it: look one ring out.
        ring = np.unique(np.array([c for x in inner.tolist() for c in h3i.grid_disk(int(x), 1)], dtype=np.uint64)) if inner.size else inner
        ring_countries = cells_to_country(ring)
        keep = z.member_mask(ring, res, ring_countries)
        cells, countries = ring[keep], ring_countries[keep]
    with _CACHE_LOCK:
        _ZONE_CELLS[key] = (cells, countries)
    return cells, countries


def _shares_cell(r: Region, z: Region, zid: str, res: int) -> bool:
    cells, countries = zone_cells(z, zid, res)
    if not cells.size:
        return False
    if r.kind == "cells":
        return bool(np.isin(cells, r.cells_at(res)).any())
    if r.kind == "country" and (countries == r.key).any():
        return True
    return bool(np.isin(cells, _clipped_cells(r, cells, res)).any())


def _clipped_cells(r: Region, near: np.ndarray, res: int) -> np.ndarray:
    """R's cells at ``res`` around ``near`` only: R's geometry clipped to a box around those cells.

    Clipping can only add cells (a clipped part too small for a cell centre gets the cells it
    touches), never drop one inside the box, so the answer errs towards "shared".
    """
    import h3
    import shapely

    from leonet.ground.cells import cell_centers, region_cells

    lat, lon = cell_centers(near)
    pad = 3.0 * h3.average_hexagon_edge_length(res, unit="km") / 111.0 / max(np.cos(np.radians(min(abs(lat).max(), 85.0))), 0.05)
    x0, x1, y0, y1 = lon.min() - pad, lon.max() + pad, lat.min() - pad, lat.max() + pad
    if x1 - x0 > 180:  # across the antimeridian or very large: no clipping
        part = r.geometry
    else:
        part = shapely.clip_by_rect(r.geometry, max(x0, -180), max(y0, -90), min(x1, 180), min(y1, 90))
    if part is None or part.is_empty:
        return np.empty(0, dtype=np.uint64)
    return region_cells(part, res)
