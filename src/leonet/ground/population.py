"""Where people live: the GPWv4 1-degree population count grid, per point, per H3 cell and per polygon.

Data
----
Gridded Population of the World v4.11, 2020 population count, 1-degree cells (CIESIN,
Columbia University, 2018; CC BY 4.0): ``population/gpw_v4_population_count_rev11_2020_1_deg.asc``
in the reference data folder (:func:`leonet.paths.data_dir`), an ESRI ASCII grid of
360 x 180 cells whose first row is the northernmost; NODATA (-9999, ocean) is read as 0. Total:
7.97e9 people. The grid is not shipped in the package; give ``path=`` or set
``LEONET_DATA_DIR``.

Every figure below assumes people are spread **uniformly within each 1-degree cell** (the grid
says nothing finer), so anything smaller than ~100 km is a share of a cell, not a count.

Per H3 cell (:func:`population_for_cells`)
------------------------------------------
For H3 resolutions 0-5 each 1-degree cell's population is split equally among the H3 cells
(of that resolution) whose centres fall in it and lie on land (inside a country of the shipped
Natural Earth borders, or within 0.05 deg of one, which 1:50m coastlines need); only a 1-degree cell with no such land centre splits among all of its
H3 cells. Without the land rule a coastal 1-degree cell would give much of its population to
sea cells (Taiwan at resolution 5 would count 14.5 M people instead of about 23 M). A populated 1-degree cell that contains no H3
centre (H3 cells are as large as or larger than the 1-degree cells at resolutions 0-3, and
1-degree cells shrink towards the poles) gives its population to the H3 cell that contains
its own centre, so nothing is lost: the sum over all cells of a resolution equals the grid
total (to rounding, 1e-15 relative). :func:`cell_population_table` reports how much was moved
that way. Measured on the GPWv4 grid (16,988 populated 1-degree cells):

===  =========  ===================================  =====================
res  H3 cells   populated 1-degree cells w/o centre  population moved
===  =========  ===================================  =====================
0    122        16,956                               7.96e9 (99.9 %)
1    842        16,735                               7.86e9 (98.7 %)
2    5,882      15,198                               6.95e9 (87 %)
3    41,162     4,942                                1.20e9 (15 %)
4    288,122    81                                   3.3e3 (4e-7 of total)
5    2,016,842  0                                    0
===  =========  ===================================  =====================

So at resolution 3, where an H3 cell (12,400 km^2 on average) is as large as a 1-degree cell
at the equator, 15 % of the people are counted in a neighbouring H3 cell (about one cell,
~60 km, from where the grid puts them); from resolution 4 on the effect is negligible, and at
5 it is nil. A cell of resolution 6 or finer gets its resolution-5 ancestor's figure divided
equally among that ancestor's descendants at its resolution (7**k, or 1 + 5 (7**k - 1) / 6
under a pentagon), which again sums to the grid total over all cells.

Building the table for a resolution enumerates every cell of it and its centre (h3 4.x has no
vectorised ``cell_to_latlng``, and ``h3.api.numpy_int`` only returns arrays from functions that
produce many cells, so centres come from a list comprehension): 0.03 s at resolution 3, 0.15 s
at 4 and 1.2 s at 5 (2,016,842 cells, ~0.5 us per cell), once per grid and resolution (cached,
~50 MB at resolution 5). Lookups after that are vectorised (``np.searchsorted``): 0.13 s for
the 2,016,842 resolution-5 cells; finer cells use vectorised bit arithmetic for the ancestor
and for validity (checked against ``h3.is_valid_cell``).

A job that needs a few resolution-5 cells (a country and its neighbours) does not build the
whole table: :func:`population_for_cells` fills only the 1-degree cells that hold their centres
(and the populated ones whose own centre lies in one of them) with all their H3 cells, and
splits those exactly as the table does, so the figures are the table's bit for bit (Taiwan
and 300 km around: ~0.03 s instead of ~5 s; checked in the tests). More than
:data:`SUBSET_MAX_GRID_CELLS` 1-degree cells, or any beyond 80 degrees of latitude, take the
whole table.

Per polygon (:func:`population_in_polygon`)
-------------------------------------------
Area weighting on the 1-degree grid: each cell contributes its population times the fraction
of its area inside the polygon, areas measured in the equal-area coordinates
(longitude, sin latitude) after densifying the polygon's edges to 0.25 degree. This is exact
for polygons made of whole grid cells and does not depend on an H3 resolution; for a region
given as H3 cells, sum :func:`population_for_cells` instead (the two agree to the extent that
the cells cover the polygon).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from leonet.errors import DataNotFoundError, InputError
from leonet.ground.cells import all_cells, as_cells, cell_centers, cell_resolution

__all__ = [
    "DEFAULT_GRID_RELPATH",
    "MAX_TABLE_RES",
    "PopulationGrid",
    "CellPopulationTable",
    "parse_esri_ascii",
    "load_population_grid",
    "default_population_grid",
    "population_at",
    "cell_population_table",
    "population_for_cells",
    "population_in_polygon",
    "h3_parent",
]

DEFAULT_GRID_RELPATH = "population/gpw_v4_population_count_rev11_2020_1_deg.asc"
MAX_TABLE_RES = 5
"""Finest H3 resolution with an enumerated cell table; finer cells share their ancestor's figure."""

_HEADER_KEYS = ("ncols", "nrows", "xllcorner", "xllcenter", "yllcorner", "yllcenter", "cellsize", "nodata_value")


@dataclass(frozen=True, eq=False)
class PopulationGrid:
    """A population count grid in geographic coordinates.

    ``count`` (nrows, ncols) float64: people per cell, row 0 northernmost, NODATA read as 0.
    ``lon_west_deg``/``lat_south_deg``: the grid's lower-left corner; ``cell_deg``: cell size in
    degrees. ``source``: file it was read from; ``nodata_cells``: how many cells were NODATA.
    """

    count: NDArray[np.float64]
    lon_west_deg: float
    lat_south_deg: float
    cell_deg: float
    source: str = ""
    nodata_cells: int = 0

    @property
    def nrows(self) -> int:
        return int(self.count.shape[0])

    @property
    def ncols(self) -> int:
        return int(self.count.shape[1])

    @property
    def lat_north_deg(self) -> float:
        return self.lat_south_deg + self.nrows * self.cell_deg

    @property
    def lon_east_deg(self) -> float:
        return self.lon_west_deg + self.ncols * self.cell_deg

    @property
    def wraps_lon(self) -> bool:
        """True when the grid spans all 360 degrees of longitude."""
        return abs(self.ncols * self.cell_deg - 360.0) < 1e-9

    @functools.cached_property
    def total(self) -> float:
        """Sum over all cells (people)."""
        return float(self.count.sum())

    def cell_index(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(row, col) of the cells holding each point; -1 for points outside the grid.

        A point on a cell edge belongs to the cell east/south of it (the south pole to the last
        row). Longitudes are wrapped into the grid when it spans 360 degrees. Latitudes outside
        [-90, 90] raise :class:`~leonet.errors.InputError`.
        """
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64))
        bad = ~(np.abs(lat) <= 90.0) | ~np.isfinite(lon)
        if np.any(bad):
            i = int(np.flatnonzero(bad.ravel())[0])
            raise InputError(
                f"latitude must be in [-90, 90] degrees and longitude finite; point {i} is "
                f"(lat {lat.ravel()[i]}, lon {lon.ravel()[i]})"
            )
        row = np.floor((self.lat_north_deg - lat) / self.cell_deg).astype(np.intp)
        row = np.where(lat == self.lat_south_deg, self.nrows - 1, row)
        if self.wraps_lon:
            col = np.floor(np.mod(lon - self.lon_west_deg, 360.0) / self.cell_deg).astype(np.intp)
            col = np.minimum(col, self.ncols - 1)  # mod can round up to 360.0
        else:
            col = np.floor((lon - self.lon_west_deg) / self.cell_deg).astype(np.intp)
        outside = (row < 0) | (row >= self.nrows) | (col < 0) | (col >= self.ncols)
        return np.where(outside, -1, row), np.where(outside, -1, col)

    def population_at(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
        """Population count of the grid cell holding each point (0 outside the grid)."""
        row, col = self.cell_index(lat_deg, lon_deg)
        inside = row >= 0
        out = np.where(inside, self.count[np.where(inside, row, 0), np.where(inside, col, 0)], 0.0)
        return out[()]  # a NumPy float for scalar input

    def cell_centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(lat_deg, lon_deg) of every cell centre, each (nrows, ncols)."""
        lat = self.lat_north_deg - (np.arange(self.nrows) + 0.5) * self.cell_deg
        lon = self.lon_west_deg + (np.arange(self.ncols) + 0.5) * self.cell_deg
        return np.meshgrid(lat, lon, indexing="ij")


def parse_esri_ascii(text: str, source: str = "<text>") -> PopulationGrid:
    """Parse an ESRI ASCII grid (header ``ncols nrows xllcorner yllcorner cellsize
    [NODATA_value]``, then ``nrows`` lines of ``ncols`` values, northernmost first).

    Every problem raises :class:`~leonet.errors.InputError` naming the file and line: a
    missing or malformed header entry, a row with the wrong number of values, a value that is
    not a number, a negative count, or the wrong number of rows.
    """
    lines = text.splitlines()
    header: dict[str, float] = {}
    i = 0
    while i < len(lines):
        parts = lines[i].split()
        if not parts:
            i += 1
            continue
        key = parts[0].casefold()
        if key not in _HEADER_KEYS:
            if _is_number(parts[0]):
                break  # first data row
            raise InputError(
                f"{source}:{i + 1}: unknown header entry {parts[0]!r}; an ESRI ASCII grid header has "
                "ncols, nrows, xllcorner (or xllcenter), yllcorner (or yllcenter), cellsize and NODATA_value"
            )
        if len(parts) != 2 or not _is_number(parts[1]):
            raise InputError(f"{source}:{i + 1}: header entry {lines[i].strip()!r} should be '{parts[0]} <number>'")
        if key in header:
            raise InputError(f"{source}:{i + 1}: header entry {parts[0]!r} given twice")
        header[key] = float(parts[1])
        i += 1
    for need in ("ncols", "nrows", "cellsize"):
        if need not in header:
            raise InputError(f"{source}: header lacks {need!r} (found: {', '.join(header) or 'nothing'}); is this an ESRI ASCII grid?")
    if ("xllcorner" in header) == ("xllcenter" in header) or ("yllcorner" in header) == ("yllcenter" in header):
        raise InputError(f"{source}: header needs exactly one of xllcorner/xllcenter and one of yllcorner/yllcenter")
    ncols, nrows, cell = header["ncols"], header["nrows"], header["cellsize"]
    if ncols != int(ncols) or nrows != int(nrows) or ncols < 1 or nrows < 1:
        raise InputError(f"{source}: ncols and nrows must be positive integers, got {ncols:g} and {nrows:g}")
    if not cell > 0:
        raise InputError(f"{source}: cellsize must be positive, got {cell:g}")
    ncols_i, nrows_i = int(ncols), int(nrows)
    west = header.get("xllcorner", header.get("xllcenter", 0.0) - cell / 2)
    south = header.get("yllcorner", header.get("yllcenter", 0.0) - cell / 2)
    nodata = header.get("nodata_value", -9999.0)

    count = np.empty((nrows_i, ncols_i), dtype=np.float64)
    row = 0
    nodata_cells = 0
    for j in range(i, len(lines)):
        parts = lines[j].split()
        if not parts:
            continue
        if row >= nrows_i:
            raise InputError(f"{source}:{j + 1}: more data rows than nrows = {nrows_i} in the header")
        if len(parts) != ncols_i:
            raise InputError(f"{source}:{j + 1}: data row {row + 1} has {len(parts)} values, the header says ncols = {ncols_i}")
        try:
            values = np.array(parts, dtype=np.float64)
        except ValueError:
            k = next(k for k, p in enumerate(parts) if not _is_number(p))
            raise InputError(f"{source}:{j + 1}: value {parts[k]!r} (column {k + 1}) is not a number") from None
        is_nodata = values == nodata
        bad = ~is_nodata & ~(values >= 0.0)  # negative or NaN
        bad |= ~np.isfinite(values)
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{source}:{j + 1}: value {parts[k]} (column {k + 1}) is not a population count "
                f"(negative, infinite or NaN, and not the NODATA value {nodata:g})"
            )
        count[row] = np.where(is_nodata, 0.0, values)
        nodata_cells += int(np.count_nonzero(is_nodata))
        row += 1
    if row != nrows_i:
        raise InputError(f"{source}: the header says nrows = {nrows_i} but the file has {row} data rows; is it truncated?")
    return PopulationGrid(count, float(west), float(south), float(cell), source, nodata_cells)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def load_population_grid(path: str | Path | None = None) -> PopulationGrid:
    """Read a population grid (ESRI ASCII). Default: GPWv4 2020 1-degree in the reference data
    folder (``$LEONET_DATA_DIR/population/...``)."""
    if path is None:
        from leonet.paths import data_dir

        p = data_dir() / DEFAULT_GRID_RELPATH
        if not p.is_file():
            raise DataNotFoundError(
                f"population grid {p} not found; set LEONET_DATA_DIR to the reference data folder "
                f"(which holds {DEFAULT_GRID_RELPATH}) or pass path= to a GPWv4 1-degree .asc file"
            )
    else:
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"population grid file {str(p)!r} not found")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not a text file (byte {exc.start} is not UTF-8); expected an ESRI ASCII grid (.asc)") from None
    return parse_esri_ascii(text, str(p))


@functools.lru_cache(maxsize=1)
def _default_grid(path_key: str) -> PopulationGrid:
    return load_population_grid(path_key)


def default_population_grid() -> PopulationGrid:
    """The default grid, read once per data folder and cached."""
    from leonet.paths import data_dir

    p = data_dir() / DEFAULT_GRID_RELPATH
    if not p.is_file():
        load_population_grid()  # raises the DataNotFoundError with advice
    return _default_grid(str(p))


def population_at(lat_deg: ArrayLike, lon_deg: ArrayLike, grid: PopulationGrid | None = None) -> NDArray[np.float64]:
    """Population count of the 1-degree cell holding each point (vectorised; people per cell,
    not a density)."""
    return (grid or default_population_grid()).population_at(lat_deg, lon_deg)


# --- H3 index arithmetic (vectorised; see the H3 index bit layout) -------------------------

_RES_SHIFT = np.uint64(52)
_MODE_SHIFT = np.uint64(59)
_BASE_SHIFT = np.uint64(45)
_U4 = np.uint64(0xF)
_U7 = np.uint64(7)


def _digit(cells: NDArray[np.uint64], r: int) -> NDArray[np.uint64]:
    return (cells >> np.uint64((15 - r) * 3)) & _U7



def h3_parent(cells: NDArray[np.uint64], res: int) -> NDArray[np.uint64]:
    """Ancestor at ``res`` of valid H3 cells whose resolution is >= ``res`` (vectorised
    ``h3.cell_to_parent``)."""
    c = np.asarray(cells, dtype=np.uint64)
    below = np.uint64((1 << ((15 - res) * 3)) - 1)
    return (c & ~(_U4 << _RES_SHIFT)) | (np.uint64(res) << _RES_SHIFT) | below


@functools.lru_cache(maxsize=1)
def _pentagon_base_cells() -> NDArray[np.uint64]:
    import h3

    return np.array(sorted(h3.get_base_cell_number(p) for p in h3.get_pentagons(0)), dtype=np.uint64)


def _fine_cells_valid(cells: NDArray[np.uint64], res: int) -> NDArray[np.bool_]:
    """Validity of H3 cell indices of one resolution ``res`` (checks what the coarse-ancestor
    lookup does not: unused digits are 7, used digits are 0-6, no pentagon-deleted K digit)."""
    ok = ((cells >> np.uint64(63)) == 0) & (((cells >> _MODE_SHIFT) & _U4) == 1)
    ok &= ((cells >> np.uint64(56)) & _U7) == 0
    first_nonzero = np.zeros(cells.shape, dtype=np.uint64)
    for r in range(1, 16):
        d = _digit(cells, r)
        if r <= res:
            ok &= d != _U7
            first_nonzero = np.where(first_nonzero == 0, d, first_nonzero)
        else:
            ok &= d == _U7
    base = (cells >> _BASE_SHIFT) & np.uint64(0x7F)
    ok &= base < 122
    ok &= ~(np.isin(base, _pentagon_base_cells()) & (first_nonzero == 1))
    return ok


@dataclass(frozen=True, eq=False)
class CellPopulationTable:
    """Population of every H3 cell of one resolution (see the module docstring).

    ``cells`` (n,) uint64 sorted; ``population`` (n,) float64 people; ``grid_cell`` (n,) int64:
    flat index (row * ncols + col) of the grid cell holding each cell's centre (-1 outside the
    grid). ``empty_grid_cells``: populated grid cells with no H3 centre in them;
    ``population_moved``: their population, given to the H3 cell holding the grid cell's centre.
    """

    res: int
    cells: NDArray[np.uint64]
    population: NDArray[np.float64]
    grid_cell: NDArray[np.int64]
    empty_grid_cells: int
    population_moved: float
    grid_total: float

    def lookup(self, cells: NDArray[np.uint64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """(population, found) for cells of this resolution."""
        pos = np.searchsorted(self.cells, cells)
        pos_c = np.minimum(pos, self.cells.shape[0] - 1)
        found = self.cells[pos_c] == cells
        return np.where(found, self.population[pos_c], 0.0), found



LAND_MARGIN_DEG = 0.05  # about 5 km: coastline error of Natural Earth 1:50m around small islands


def _land_mask(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], candidates: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which points ``(n,)`` count as land: inside a shipped country, or (for the points in
    ``candidates``) within LAND_MARGIN_DEG of one."""
    from leonet.ground.borders import load_countries

    countries = load_countries()
    land = countries.index_of(lat_deg, lon_deg) >= 0
    # At 1:50m a coastal cell's centre (Xiamen island, say) can fall just offshore: cells in a
    # populated 1-degree cell whose centre is within LAND_MARGIN_DEG of land count as land too.
    near = ~land & candidates
    if near.any():
        parts = shapely.get_parts(countries.geometries)
        pts = shapely.points(lon_deg[near], lat_deg[near])
        hit = shapely.STRtree(parts).query(pts, predicate="dwithin", distance=LAND_MARGIN_DEG)[0]
        land[np.flatnonzero(near)[np.unique(hit)]] = True
    return land


def _share_population(
    grid: PopulationGrid, res: int, cells: NDArray[np.uint64], lat_deg: NDArray[np.float64],
    lon_deg: NDArray[np.float64], complete: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64], int, float]:
    """Split each grid cell's people among the H3 ``cells`` (sorted, with centres ``lat_deg``,
    ``lon_deg``) whose centres it holds (land rule of the module docstring).

    ``complete``: flat grid indices (bool, ``nrows * ncols``) for which ``cells`` holds *every*
    H3 cell of ``res`` centred inside (None: all, i.e. ``cells`` is the whole resolution); only
    those grid cells' shares are exact, and only they may give their people to the cell holding
    their centre when no H3 centre lies inside them. Returns (population, flat grid index,
    grid cells moved, people moved)."""
    row, col = grid.cell_index(lat_deg, lon_deg)
    inside = row >= 0
    flat = np.where(inside, row * grid.ncols + col, -1).astype(np.int64)
    grid_flat = grid.count.ravel()
    counts = np.bincount(flat[inside], minlength=grid_flat.size)
    land = _land_mask(lat_deg, lon_deg, inside & (grid_flat[np.maximum(flat, 0)] > 0))
    land_counts = np.bincount(flat[inside & land], minlength=grid_flat.size)
    use_land = land_counts[np.maximum(flat, 0)] > 0
    weight = np.where(use_land, land.astype(np.float64), 1.0)
    share = np.where(use_land, land_counts[np.maximum(flat, 0)], counts[np.maximum(flat, 0)])
    pop = np.zeros(cells.shape[0], dtype=np.float64)
    pop[inside] = grid_flat[flat[inside]] * weight[inside] / share[inside]

    empty_mask = (counts == 0) & (grid_flat > 0)
    if complete is not None:
        empty_mask &= complete
    empty = np.flatnonzero(empty_mask)
    moved = float(grid_flat[empty].sum())
    if empty.size:
        targets = _grid_centre_cells(grid, res)[empty]
        pos = np.minimum(np.searchsorted(cells, targets), max(cells.shape[0] - 1, 0))
        mine = cells[pos] == targets  # a subset of cells holds only some of the receivers
        np.add.at(pop, pos[mine], grid_flat[empty][mine])
    return pop, flat, int(empty.size), moved


@functools.lru_cache(maxsize=12)
def _grid_centre_cells(grid: PopulationGrid, res: int) -> NDArray[np.uint64]:
    """The H3 cell (``res``) holding each populated grid cell's centre, by flat grid index
    (0 for unpopulated grid cells)."""
    import h3.api.numpy_int as h3n

    clat, clon = grid.cell_centres()
    out = np.zeros(grid.count.size, dtype=np.uint64)
    pop = np.flatnonzero(grid.count.ravel() > 0)
    out[pop] = np.fromiter((h3n.latlng_to_cell(a, b, res) for a, b in zip(clat.flat[pop].tolist(), clon.flat[pop].tolist())), np.uint64, pop.size)
    return out


@functools.lru_cache(maxsize=12)
def _cell_table(grid: PopulationGrid, res: int) -> CellPopulationTable:
    cells = all_cells(res)
    lat_deg, lon_deg = cell_centers(cells)  # setup path, ~0.5 us/cell
    pop, flat, n_empty, moved = _share_population(grid, res, cells, lat_deg, lon_deg)
    return CellPopulationTable(res, cells, pop, flat, n_empty, moved, grid.total)


SUBSET_MAX_GRID_CELLS = 4000  # beyond this many 1-degree cells the whole-resolution table is as quick
_SUBSET_MARGIN_DEG = 0.05  # boxes grown by this so that h3's centre fill surely holds every centre
_SUBSET_MAX_LAT_DEG = 80.0  # nearer the poles grid cells are slivers: use the whole table


def _subset_population(grid: PopulationGrid, res: int, cells: NDArray[np.uint64]) -> NDArray[np.float64] | None:
    """Population of ``cells`` (valid, one resolution ``res``) equal to the whole-resolution
    table's, built from only the H3 cells centred in the grid cells that matter: those holding
    a centre of ``cells``, and populated ones whose own centre lies in one of ``cells``. None
    when the whole table is the better way (many grid cells, or near a pole)."""
    u = np.unique(cells)
    lat, lon = cell_centers(u)
    row, col = grid.cell_index(lat, lon)
    if np.any(row < 0):
        return None
    flat = row * grid.ncols + col
    receivers = np.flatnonzero(np.isin(_grid_centre_cells(grid, res), u) & (grid.count.ravel() > 0))
    need = np.union1d(flat, receivers)
    if need.size > SUBSET_MAX_GRID_CELLS:
        return None
    g_row, g_col = np.divmod(need, grid.ncols)
    top = grid.lat_north_deg - g_row * grid.cell_deg
    if np.any(np.abs(top) > _SUBSET_MAX_LAT_DEG) or np.any(np.abs(top - grid.cell_deg) > _SUBSET_MAX_LAT_DEG):
        return None
    west = grid.lon_west_deg + g_col * grid.cell_deg
    m = _SUBSET_MARGIN_DEG
    x0, x1, y0, y1 = west - m, west + grid.cell_deg + m, top - grid.cell_deg - m, top + m
    # Boxes that spill over the antimeridian get their other side too (shifted by 360 deg).
    boxes = [shapely.box(x0, y0, x1, y1)]
    for spill, shift in ((x0 < -180.0, 360.0), (x1 > 180.0, -360.0)):
        if spill.any():
            boxes.append(shapely.box(x0[spill] + shift, y0[spill], x1[spill] + shift, y1[spill]))
    area = shapely.intersection(shapely.union_all(np.concatenate(boxes)), shapely.box(-180.0, -90.0, 180.0, 90.0))
    from leonet.ground.cells import region_cells

    cand = region_cells(area, res, contain="center")
    c_lat, c_lon = cell_centers(cand)
    c_row, c_col = grid.cell_index(c_lat, c_lon)
    keep = np.isin(np.where(c_row >= 0, c_row * grid.ncols + c_col, -1), need)
    cand, c_lat, c_lon = cand[keep], c_lat[keep], c_lon[keep]
    complete = np.zeros(grid.count.size, dtype=bool)
    complete[need] = True
    pop, _, _, _ = _share_population(grid, res, cand, c_lat, c_lon, complete)
    pos = np.minimum(np.searchsorted(cand, cells), max(cand.size - 1, 0))
    if cand.size == 0 or not np.all(cand[pos] == cells):  # pragma: no cover - the fill missed a centre
        return None
    return pop[pos]


def _lookup(g: PopulationGrid, res: int, cells: NDArray[np.uint64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """(population, found) of ``cells`` of resolution ``res``: at resolution 5 from only the
    grid cells they need (:func:`_subset_population`) when that is possible, else from the
    whole-resolution table."""
    if res == MAX_TABLE_RES and _is_global(g):
        ok = _fine_cells_valid(cells, res)
        sub = _subset_population(g, res, cells[ok]) if ok.any() else None
        if sub is not None:
            pop = np.zeros(cells.shape[0], dtype=np.float64)
            pop[ok] = sub
            return pop, ok
    return cell_population_table(res, g).lookup(cells)


def _is_global(g: PopulationGrid) -> bool:
    return g.wraps_lon and abs(g.lat_south_deg + 90.0) < 1e-9 and abs(g.lat_north_deg - 90.0) < 1e-9


def cell_population_table(res: int, grid: PopulationGrid | None = None) -> CellPopulationTable:
    """The population of every H3 cell at resolution ``res`` (0-5), cached per grid and
    resolution. Resolution 5 takes about a second to build (2,016,842 cells)."""
    if not (isinstance(res, (int, np.integer)) and 0 <= int(res) <= MAX_TABLE_RES):
        raise InputError(f"H3 resolution for a full cell table must be 0..{MAX_TABLE_RES}, got {res!r}")
    g = grid or default_population_grid()
    if not _is_global(g):
        raise InputError(
            f"{g.source}: per-H3-cell population needs a global grid (longitude -180..180, latitude -90..90); "
            f"this one spans lon {g.lon_west_deg:g}..{g.lon_east_deg:g}, lat {g.lat_south_deg:g}..{g.lat_north_deg:g}"
        )
    return _cell_table(g, int(res))



def population_for_cells(cells: ArrayLike, grid: PopulationGrid | None = None) -> NDArray[np.float64]:
    """Population (people, float64) of each H3 cell, any mix of resolutions 0-15.

    Resolutions 0-5 come from :func:`cell_population_table`; finer cells get their
    resolution-5 ancestor's population divided equally among its descendants. Summing over all
    cells of one resolution gives the grid total; summing over a region's cells gives the
    region's population under the uniform-within-1-degree assumption. Invalid indices raise
    :class:`~leonet.errors.InputError` naming them.
    """
    c = as_cells(cells, allow_strings=True)
    shape = c.shape
    c = c.ravel()
    g = grid or default_population_grid()
    out = np.zeros(c.shape[0], dtype=np.float64)
    valid = np.zeros(c.shape[0], dtype=np.bool_)
    res = cell_resolution(c)
    for r in np.unique(res).tolist():
        sel = np.flatnonzero(res == r)
        cr = c[sel]
        if r <= MAX_TABLE_RES:
            pop, found = _lookup(g, r, cr)
            out[sel], valid[sel] = pop, found
        else:
            ok = _fine_cells_valid(cr, r)
            anc = h3_parent(cr, MAX_TABLE_RES)
            pop, found = _lookup(g, MAX_TABLE_RES, anc)
            ok &= found
            k = r - MAX_TABLE_RES
            pent_anc = np.isin((anc >> _BASE_SHIFT) & np.uint64(0x7F), _pentagon_base_cells())
            for rr in range(1, MAX_TABLE_RES + 1):
                pent_anc &= _digit(anc, rr) == 0
            n_desc = np.where(pent_anc, 1 + 5 * (7**k - 1) // 6, 7**k).astype(np.float64)
            out[sel], valid[sel] = pop / n_desc, ok
    if not np.all(valid):
        bad = np.flatnonzero(~valid)
        shown = ", ".join(f"{int(c[i]):x} (position {i})" for i in bad[:5])
        raise InputError(
            f"{bad.size} of {c.shape[0]} values are not valid H3 cell indices: {shown}"
            + (" ..." if bad.size > 5 else "")
            + "; pass cells from h3.latlng_to_cell / leonet.ground.cells as uint64"
        )
    return out.reshape(shape)


def population_in_polygon(geometry: shapely.Geometry, grid: PopulationGrid | None = None) -> float:
    """People inside a (multi)polygon in longitude/latitude degrees, by area weighting on the
    grid (see the module docstring). Coordinates must lie in lon [-180, 180], lat [-90, 90]
    (cut shapes that cross the 180th meridian, as :mod:`leonet.ground.borders` does)."""
    g = grid or default_population_grid()
    if not isinstance(geometry, shapely.Geometry):
        raise InputError(f"population_in_polygon needs a shapely Polygon or MultiPolygon, got {type(geometry).__name__}")
    if geometry.is_empty:
        return 0.0
    if shapely.get_type_id(geometry) not in (3, 6, 7):  # Polygon, MultiPolygon, GeometryCollection
        raise InputError(f"population_in_polygon needs a Polygon or MultiPolygon, got a {geometry.geom_type}")
    if not shapely.is_valid(geometry):
        raise InputError(
            f"invalid polygon ({shapely.is_valid_reason(geometry)}); repair it first, e.g. with shapely.make_valid"
        )
    x0, y0, x1, y1 = shapely.bounds(geometry)
    if x0 < -180.0 - 1e-9 or x1 > 180.0 + 1e-9 or y0 < -90.0 - 1e-9 or y1 > 90.0 + 1e-9:
        raise InputError(
            f"polygon bounds lon {x0:g}..{x1:g}, lat {y0:g}..{y1:g} leave lon [-180, 180] / lat [-90, 90]; "
            "give longitudes in [-180, 180] and cut shapes at the 180th meridian"
        )
    # Grid cells overlapping the bounds.
    c0 = max(int(math.floor((x0 - g.lon_west_deg) / g.cell_deg)), 0)
    c1 = min(int(math.ceil((x1 - g.lon_west_deg) / g.cell_deg)), g.ncols)
    r0 = max(int(math.floor((g.lat_north_deg - y1) / g.cell_deg)), 0)
    r1 = min(int(math.ceil((g.lat_north_deg - y0) / g.cell_deg)), g.nrows)
    if c1 <= c0 or r1 <= r0:
        return 0.0
    rows, cols = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    counts = g.count[rows, cols]
    keep = counts > 0
    rows, cols, counts = rows[keep], cols[keep], counts[keep]
    if rows.size == 0:
        return 0.0

    def to_equal_area(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack([xy[:, 0], np.sin(np.radians(xy[:, 1]))])

    geom = shapely.transform(shapely.segmentize(geometry, 0.25), to_equal_area)
    lat_top = g.lat_north_deg - rows * g.cell_deg
    lon_left = g.lon_west_deg + cols * g.cell_deg
    boxes = shapely.box(
        lon_left, np.sin(np.radians(lat_top - g.cell_deg)), lon_left + g.cell_deg, np.sin(np.radians(lat_top))
    )
    shapely.prepare(geom)
    inside = shapely.covers(geom, boxes)
    partial = ~inside & shapely.intersects(geom, boxes)
    frac = inside.astype(np.float64)
    if np.any(partial):
        part = boxes[partial]
        frac[partial] = shapely.area(shapely.intersection(part, geom)) / shapely.area(part)
    return float(np.sum(counts * frac))
