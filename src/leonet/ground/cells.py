"""H3 service cells: which hexagons make up a country or region, and where they are.

Starlink's availability map is drawn on H3 cells at resolution 5 (about 253 km² and 9.9 km
edge on average), so that is the default here. Cells are 64-bit H3 indexes held as
``numpy.uint64``; geometries are flat lon/lat degrees as in :mod:`leonet.ground.borders`.

Which cells belong to a region (:func:`region_cells`, ``contain='hybrid'``, the default):

1. every cell whose centre lies inside the region (boundary included), so that countries
   sharing a land border split the cells between them without overlap; plus
2. for each polygon of the region that holds no cell centre at all (an island or exclave
   smaller than a cell: Nauru, Monaco, Penghu's outer islets), every cell that polygon
   overlaps, so that no land disappears from the service map.

Cells added by rule 2 may also be counted by a neighbour under rule 1 (a small island next
to another country's coast). ``contain='center'`` and ``contain='overlap'`` give rule 1
alone or every cell the region touches.

Performance (one core): h3-py 4.5 has no array API for per-cell functions, so
:func:`cell_centers` and :func:`cell_boundaries` make one call into h3's C extension per cell
(about 0.5 µs per centre; 4-7 µs per outline with the shapely polygon). Polygon filling and
:func:`all_cells` run wholly inside h3's C code: ``all_cells(5)`` (2,016,842 cells) takes
about 35 ms, ``country_cells('TW')`` 15 ms, ``country_cells('RU')`` about 1 s, and
``cells_to_country(all_cells(5))`` about 6 s (outlines are built only for sea cells near land).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Literal, TypeVar

import h3
import h3.api.numpy_int as h3n
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from leonet.errors import InputError
from leonet.ground.borders import CountryRecord, Regions, load_countries, polygon_from_rings

__all__ = [
    "DEFAULT_RES",
    "Containment",
    "as_cells",
    "region_cells",
    "country_cells",
    "cell_centers",
    "cell_boundaries",
    "cells_to_index",
    "cells_to_country",
    "all_cells",
    "cell_resolution",
]

DEFAULT_RES = 5
"""H3 resolution of Starlink's service cells."""

MAX_GLOBAL_RES = 5  # all_cells(6) would be 14 million cells; fill a region instead

Containment = Literal["hybrid", "center", "overlap"]
T = TypeVar("T")

# Hemispheres [-180, 0] and [0, 180]: h3 reads a loop edge spanning more than 180 degrees of
# longitude as crossing the antimeridian, so flat shapes that span the whole map (Antarctica's
# pole edge, Russia) are handed over in halves.
_HEMISPHERES = shapely.box(np.array([-180.0, 0.0]), -90.0, np.array([0.0, 180.0]), 90.0)


def _check_res(res: int, *, top: int = 15) -> int:
    if isinstance(res, bool) or not isinstance(res, (int, np.integer)) or not 0 <= res <= top:
        raise InputError(f"H3 resolution must be an integer 0..{top}, got {res!r}")
    return int(res)


def as_cells(cells: ArrayLike, allow_strings: bool = False) -> NDArray[np.uint64]:
    """H3 indexes (uint64/int arrays or Python ints; hex strings such as '8531aca3fffffff' too
    with ``allow_strings``) -> uint64 array of the same shape. No validity check here."""
    arr = np.asarray(cells)
    if arr.dtype.kind in "US":
        if not allow_strings:
            raise InputError(f"H3 cells must be integers (uint64), got strings ({arr.dtype}); convert hex strings with h3.str_to_int")
        try:
            return np.array([h3.str_to_int(str(s)) for s in arr.ravel()], dtype=np.uint64).reshape(arr.shape)
        except (ValueError, TypeError) as exc:
            raise InputError(f"H3 cells given as strings must be hexadecimal indices such as '8531aca3fffffff' ({exc})") from None
    if arr.dtype.kind == "u":
        return arr.astype(np.uint64, copy=False)
    if arr.dtype.kind == "i":
        if arr.size and arr.min() < 0:
            raise InputError("H3 cells must be non-negative 64-bit integers (uint64)")
        return arr.astype(np.uint64)
    if arr.dtype == object and arr.size:
        try:
            return np.array([int(x) for x in arr.ravel()], dtype=np.uint64).reshape(arr.shape)
        except (ValueError, TypeError, OverflowError):
            pass
    if arr.size == 0:
        return arr.astype(np.uint64)
    raise InputError(f"H3 cells must be a uint64 array of cell indices (or hex strings), got dtype {arr.dtype}")


def _per_cell(func: Callable[[int], T], flat: NDArray[np.uint64]) -> list[T]:
    """Apply an h3 per-cell function over ``flat``, turning h3 errors into InputError.

    h3-py has no array form of these functions; ``map`` keeps the per-cell cost to the C call.
    """
    try:
        return list(map(func, flat.tolist()))
    except h3.H3BaseException as exc:
        bad = flat[~np.fromiter(map(h3n.is_valid_cell, flat.tolist()), bool, flat.size)]
        first = int(bad[0]) if bad.size else "?"
        raise InputError(
            f"{bad.size} value(s) are not valid H3 cells (first: {first}; {exc}); pass cell "
            "indexes as produced by region_cells/all_cells or h3"
        ) from exc


# ---------------------------------------------------------------------------------------
# Region -> cells
# ---------------------------------------------------------------------------------------
def _polygons_of(geometry: shapely.Geometry | CountryRecord) -> NDArray[np.object_]:
    """The non-empty polygons of a region, checked to be polygonal and on the lon/lat map."""
    geom = geometry.geometry if isinstance(geometry, CountryRecord) else geometry
    if not isinstance(geom, shapely.Geometry):
        raise InputError(
            f"region must be a shapely Polygon/MultiPolygon or a CountryRecord, got "
            f"{type(geometry).__name__}"
        )
    parts = shapely.get_parts(shapely.get_parts(geom))  # collections may hold MultiPolygons
    parts = parts[~shapely.is_empty(parts)]
    if len(parts) == 0 or not np.all(shapely.get_type_id(parts) == 3):
        raise InputError(
            f"region must be a non-empty Polygon or MultiPolygon, got {geom.geom_type}"
        )
    minx, miny, maxx, maxy = shapely.total_bounds(parts)
    if minx < -180.0 or maxx > 180.0 or miny < -90.0 or maxy > 90.0:
        raise InputError(
            f"region bounds ({minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}) leave the lon/lat "
            "box [-180, 180] x [-90, 90]; build it with polygon_from_rings or "
            "load_regions_geojson, which cut shapes at the antimeridian"
        )
    return parts


def _h3_polys(part: shapely.Geometry) -> list[h3.LatLngPoly]:
    """One flat polygon -> h3 polygons (lat/lng, open rings), one per hemisphere it touches."""
    pieces = shapely.get_parts(shapely.intersection(part, _HEMISPHERES))
    out = []
    for piece in pieces[shapely.get_type_id(pieces) == 3]:
        if piece.is_empty:
            continue
        outer = shapely.get_coordinates(piece.exterior)[:-1, ::-1].tolist()
        holes = [shapely.get_coordinates(r)[:-1, ::-1].tolist() for r in piece.interiors]
        out.append(h3n.LatLngPoly(outer, *holes))
    return out


def _fill(polys: list[h3.LatLngPoly], res: int, mode: str) -> NDArray[np.uint64]:
    """Cells of h3 polygons under an h3 containment mode ('center' or 'overlap').

    Uses h3's "experimental" polygon fill (H3 >= 4.2; h3 is pinned below 4.6): its 'center'
    mode matches the stable ``h3shape_to_cells`` and shapely's planar point-in-polygon, and
    unlike the stable call it does not fail on polygons that reach a pole (Antarctica).
    """
    if not polys:
        return np.empty(0, np.uint64)
    return np.concatenate(
        [np.asarray(h3n.h3shape_to_cells_experimental(p, res, mode), np.uint64) for p in polys]
    )


def region_cells(
    geometry: shapely.Geometry | CountryRecord,
    res: int = DEFAULT_RES,
    contain: Containment = "hybrid",
) -> NDArray[np.uint64]:
    """H3 cells covering a region.

    Parameters
    ----------
    geometry : shapely Polygon/MultiPolygon or CountryRecord
        Flat lon/lat degrees within [-180, 180] x [-90, 90] (holes are respected).
    res : int
        H3 resolution, 0..15 (default 5, Starlink's service cells).
    contain : {'hybrid', 'center', 'overlap'}
        ``'hybrid'``: cells whose centre is in the region, plus every cell touched by a
        polygon of the region that contains no cell centre (see the module docstring);
        ``'center'``: centre rule only; ``'overlap'``: every cell the region touches.

    Returns
    -------
    ndarray of uint64, shape (n,)
        Sorted, unique cell indexes.
    """
    res = _check_res(res)
    if contain not in ("hybrid", "center", "overlap"):
        raise InputError(f"contain must be 'hybrid', 'center' or 'overlap', got {contain!r}")
    parts = _polygons_of(geometry)
    found: list[NDArray[np.uint64]] = []
    # One h3 call per polygon (h3's own multi-polygon call loops the same way); this loops
    # over polygons, never over cells.
    for part in parts:
        polys = _h3_polys(part)
        if contain == "overlap":
            found.append(_fill(polys, res, "overlap"))
            continue
        centred = _fill(polys, res, "center")
        found.append(centred)
        if contain == "hybrid" and centred.size == 0:
            touched = _fill(polys, res, "overlap")
            if touched.size == 0:  # safety net: h3 found nothing for a sliver
                p = part.representative_point()
                touched = np.array([h3n.latlng_to_cell(p.y, p.x, res)], np.uint64)
            found.append(touched)
    return np.unique(np.concatenate(found)) if found else np.empty(0, np.uint64)


def country_cells(
    code_or_name: str | int,
    res: int = DEFAULT_RES,
    contain: Containment = "hybrid",
    resolution: str = "50m",
) -> NDArray[np.uint64]:
    """H3 cells of a shipped country, e.g. ``country_cells('TW')``; see :func:`region_cells`.

    ``code_or_name`` is anything :meth:`leonet.ground.borders.Regions.lookup` accepts;
    ``resolution`` picks the Natural Earth scale of the borders.
    """
    return region_cells(load_countries(resolution).lookup(code_or_name), res, contain)


def all_cells(res: int) -> NDArray[np.uint64]:
    """Every H3 cell on Earth at ``res`` (0..5), sorted; shape (n,), uint64.

    res 0: 122, 3: 41,162, 4: 288,122, 5: 2,016,842 cells. Built by h3's ``uncompact`` of the
    122 base cells, entirely in C (about 30 ms at res 5).
    """
    res = _check_res(res, top=MAX_GLOBAL_RES)
    return np.sort(h3n.uncompact_cells(h3n.get_res0_cells(), res).astype(np.uint64))


# ---------------------------------------------------------------------------------------
# Cells -> geometry
# ---------------------------------------------------------------------------------------
def cell_centers(cells: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centres of H3 cells.

    Parameters
    ----------
    cells : array_like of uint64, shape S

    Returns
    -------
    lat_deg, lon_deg : ndarray of float64, shape S
        Geodetic latitude and longitude in degrees (longitude in [-180, 180]).
    """
    arr = as_cells(cells)
    flat = arr.ravel()
    pairs = _per_cell(h3n.cell_to_latlng, flat)
    ll = np.fromiter(chain.from_iterable(pairs), np.float64, 2 * flat.size).reshape(-1, 2)
    return ll[:, 0].reshape(arr.shape), ll[:, 1].reshape(arr.shape)


def cell_boundaries(cells: ArrayLike) -> NDArray[np.object_]:
    """Outlines of H3 cells as flat lon/lat shapely polygons, e.g. for maps or GeoJSON.

    Parameters
    ----------
    cells : array_like of uint64, shape (n,)

    Returns
    -------
    ndarray of object, shape (n,)
        A Polygon per cell (5 to 10 vertices; h3 adds vertices where an edge crosses an
        icosahedron face), a MultiPolygon of its two halves for a cell crossing the 180th
        meridian, and a cap closed over the pole for the cell that contains a pole. Edges
        are straight in lon/lat, as in :mod:`leonet.ground.borders`.
    """
    flat = as_cells(cells).ravel()
    n = flat.size
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    bounds = _per_cell(h3n.cell_to_boundary, flat)
    counts = np.fromiter(map(len, bounds), np.int64, n)
    flat_ll = chain.from_iterable(chain.from_iterable(bounds))
    latlng = np.fromiter(flat_ll, np.float64, 2 * int(counts.sum()))
    lat, lon = latlng[0::2], latlng[1::2]
    owner = np.repeat(np.arange(n), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))

    # Unwrap each cell's longitudes around its first vertex; cells that then leave
    # [-180, 180] straddle the antimeridian.
    first = lon[starts][owner]
    lon_u = first + (lon - first + 180.0) % 360.0 - 180.0
    lo = np.minimum.reduceat(lon_u, starts)
    hi = np.maximum.reduceat(lon_u, starts)
    polar = np.isin(flat, _POLAR_CELLS)
    crossing = ((lo < -180.0) | (hi > 180.0)) & ~polar

    polys = shapely.polygons(shapely.linearrings(np.column_stack([lon_u, lat]), indices=owner))
    plain = ~(crossing | polar)
    out[plain] = polys[plain]
    if crossing.any():
        # Move each straddling cell into [0, 360) so it is contiguous, cut it at 180 and
        # shift the part beyond back by -360.
        east = shapely.transform(
            polys[crossing], lambda c: np.column_stack([c[:, 0] % 360.0, c[:, 1]])
        )
        west = shapely.transform(east, lambda c: c - [360.0, 0.0])
        left = shapely.intersection(east, shapely.box(0.0, -90.0, 180.0, 90.0))
        right = shapely.intersection(west, shapely.box(-180.0, -90.0, 0.0, 90.0))
        out[crossing] = shapely.union(left, right)
    for i in np.flatnonzero(polar):  # at most two per resolution: the cells holding a pole
        ring = np.column_stack([lon[owner == i], lat[owner == i]])
        out[i] = polygon_from_rings([ring], convention="geojson", where="polar H3 cell")
    return out


def cell_resolution(cells: ArrayLike) -> NDArray[np.int64]:
    """H3 resolution of each cell (bits 52-55 of the index), vectorised; shape of ``cells``."""
    return ((as_cells(cells) >> np.uint64(52)) & np.uint64(15)).astype(np.int64)


# The cells that contain the north or the south pole, at every resolution.
_POLAR_CELLS = np.array(
    [h3n.latlng_to_cell(p, 0.0, r) for r in range(16) for p in (90.0, -90.0)], np.uint64
)
# Mean hexagon edge per resolution, km: sizes the search box around a cell centre.
_EDGE_KM = np.array([h3n.average_hexagon_edge_length(r, "km") for r in range(16)])


# ---------------------------------------------------------------------------------------
# Cells -> country
# ---------------------------------------------------------------------------------------
def cells_to_index(cells: ArrayLike, regions: Regions) -> NDArray[np.int64]:
    """Index into ``regions`` of each cell's region, -1 where none; shape of ``cells``.

    A cell belongs to the region containing its centre. A cell whose centre is in no region
    (at sea) but whose outline overlaps one — a coastal cell, or a cell holding a small
    island — goes to the region it overlaps most (see
    :meth:`leonet.ground.borders.Regions.overlapping`).
    """
    arr = as_cells(cells)
    flat = arr.ravel()
    lat, lon = cell_centers(flat)
    idx = regions.index_of(lat, lon)
    sea = np.flatnonzero(idx < 0)
    if sea.size:
        # Outlines cost ~2 us each, so first drop sea cells whose surroundings meet no
        # region polygon's box: a box of twice the mean edge around the centre contains the
        # whole cell (h3 cells reach at most ~1.5 mean edges from their centre).
        s_lat, s_lon = lat[sea], lon[sea]
        dlat = 2.0 * _EDGE_KM[cell_resolution(flat[sea])] / 111.195
        reach = np.abs(s_lat) + dlat
        cos_reach = np.cos(np.radians(np.minimum(reach, 89.0)))
        dlon = np.where(reach >= 89.0, 180.0, np.minimum(dlat / cos_reach, 180.0))
        # Clipping to the map is enough: a box past +-180 also tests the other edge's strip.
        boxes = shapely.box(
            np.maximum(s_lon - dlon, -180.0),
            np.maximum(s_lat - dlat, -90.0),
            np.minimum(s_lon + dlon, 180.0),
            np.minimum(s_lat + dlat, 90.0),
        )
        beyond = (s_lon - dlon < -180.0) | (s_lon + dlon > 180.0)
        near = regions.box_hits(boxes) | beyond
        cand = sea[near]
        if cand.size:
            idx[cand] = regions.overlapping(cell_boundaries(flat[cand]))
    return idx.reshape(arr.shape)


def cells_to_country(cells: ArrayLike, resolution: str = "50m") -> NDArray[np.str_]:
    """ISO alpha-3 code of the country of each H3 cell, ``''`` for open sea.

    The country is the one containing the cell centre; a coastal cell whose centre is at sea
    goes to the country it overlaps most (see :func:`cells_to_index`). Land without an ISO
    code (e.g. Somaliland) also gives ``''``.

    Parameters
    ----------
    cells : array_like of uint64, shape S
    resolution : {'50m', '10m'}
        Natural Earth scale of the borders.

    Returns
    -------
    ndarray of str (``<U3``), shape S
    """
    countries = load_countries(resolution)
    return countries.values_at("iso_a3", cells_to_index(cells, countries))
