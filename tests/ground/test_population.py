"""The population grid (ESRI ASCII): totals, per point, per H3 cell at any resolution, per polygon,
malformed files and the missing-file message."""

from __future__ import annotations

import math
from pathlib import Path

import h3.api.numpy_int as h3n
import numpy as np
import pytest
import shapely
from refdata import ref_file
from shapely.geometry import Polygon, box

from leonet.errors import DataNotFoundError, InputError
from leonet.ground.population import (
    PopulationGrid,
    cell_population_table,
    h3_parent,
    load_population_grid,
    parse_esri_ascii,
    population_at,
    population_for_cells,
    population_in_polygon,
)

GRID_REL = "population/gpw_v4_population_count_rev11_2020_1_deg.asc"


@pytest.fixture(scope="module")
def grid(data_dir: Path) -> PopulationGrid:
    return load_population_grid(ref_file(GRID_REL))


def test_grid_total_and_shape(grid: PopulationGrid) -> None:
    assert grid.count.shape == (180, 360) and grid.count.dtype == np.float64
    assert grid.total == pytest.approx(7.97e9, rel=0.005)
    assert grid.count.min() >= 0.0 and grid.nodata_cells > 20_000  # oceans are NODATA -> 0
    assert (grid.lon_west_deg, grid.lat_south_deg, grid.cell_deg) == (-180.0, -90.0, 1.0)


def test_taiwan_cells_population(grid: PopulationGrid) -> None:
    # The 1-degree cells over Taiwan: lat 21..26 N (rows 64..68), lon 120..122 E (cols 300, 301).
    lat = np.arange(21.5, 26.0, 1.0)
    lon = np.array([120.5, 121.5])
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    total = population_at(la, lo, grid).sum()
    assert 22e6 < total < 26e6  # Taiwan: ~23.5 million
    assert total == pytest.approx(grid.count[64:69, 300:302].sum())
    assert population_at(25.03, 121.56, grid) == grid.count[64, 301]
    assert population_in_polygon(box(120, 21, 122, 26), grid) == pytest.approx(total, rel=1e-12)


def test_population_at_edges_and_errors(grid: PopulationGrid) -> None:
    v = population_at(np.array([[0.5, 0.5], [-90.0, 90.0]]), np.array([[179.5, -180.5], [0.0, 180.0]]), grid)
    assert v.shape == (2, 2)
    assert v[0, 1] == v[0, 0] == grid.count[89, 359]  # -180.5 wraps to 179.5
    assert v[1, 0] == grid.count[179, 180] and v[1, 1] == grid.count[0, 0]  # 180 wraps to -180
    with pytest.raises(InputError, match="latitude"):
        population_at(91.0, 0.0, grid)


def test_cells_at_res3_sum_to_grid_total(grid: PopulationGrid) -> None:
    table = cell_population_table(3, grid)
    assert table.cells.size == 41_162
    pop = population_for_cells(table.cells[::-1].copy(), grid)
    assert pop.sum() == pytest.approx(grid.total, rel=1e-3)
    assert pop.sum() == pytest.approx(grid.total, rel=1e-9)  # nothing lost, by construction
    assert np.all(pop >= 0)
    # At res 3 H3 cells are as large as 1-degree cells: some populated cells hold no centre.
    assert 0 < table.empty_grid_cells < 6_000 and table.population_moved < 0.2 * grid.total
    assert cell_population_table(4, grid).empty_grid_cells < 200


def test_cell_region_sum_is_consistent_with_grid(grid: PopulationGrid) -> None:
    table = cell_population_table(5, grid)
    assert table.empty_grid_cells == 0  # at res 5 every populated 1-degree cell holds H3 centres
    rows, cols = np.meshgrid(np.arange(64, 69), np.arange(300, 302), indexing="ij")
    region = np.isin(table.grid_cell, (rows * 360 + cols).ravel())
    cells = table.cells[region]
    assert population_for_cells(cells, grid).sum() == pytest.approx(grid.count[64:69, 300:302].sum(), rel=1e-12)


def test_fine_cells_share_their_ancestor(grid: PopulationGrid) -> None:
    rng = np.random.default_rng(7)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    lon = rng.uniform(-180, 180, 500)
    fine = np.array([h3n.latlng_to_cell(a, b, 8) for a, b in zip(lat, lon)], dtype=np.uint64)
    assert np.array_equal(h3_parent(fine, 5), np.array([h3n.cell_to_parent(c, 5) for c in fine], dtype=np.uint64))
    taipei = h3n.latlng_to_cell(25.03, 121.56, 5)
    children = np.asarray(h3n.cell_to_children(taipei, 7), dtype=np.uint64)
    assert children.size == 49
    parent_pop = population_for_cells(np.array([taipei], dtype=np.uint64), grid)[0]
    assert parent_pop > 0
    assert population_for_cells(children, grid).sum() == pytest.approx(parent_pop, rel=1e-12)
    pent = np.uint64(h3n.get_pentagons(5)[0])
    pent_children = np.asarray(h3n.cell_to_children(pent, 7), dtype=np.uint64)  # 1 + 5*48/6 = 41
    assert pent_children.size == 41
    assert population_for_cells(pent_children, grid).sum() == pytest.approx(
        population_for_cells(np.array([pent]), grid)[0], rel=1e-12, abs=1e-9)
    # hex strings and mixed resolutions are accepted
    as_str = np.array([f"{int(c):x}" for c in children[:3]] + [f"{int(taipei):x}"])
    assert population_for_cells(as_str, grid)[-1] == parent_pop


def test_invalid_cells_are_named(grid: PopulationGrid) -> None:
    good = np.array([h3n.latlng_to_cell(25.03, 121.56, 6)], dtype=np.uint64)
    bad = good ^ np.uint64(1 << 2)  # digit 15 of a res-6 cell must be 7
    with pytest.raises(InputError, match=r"1 of 2 values are not valid H3 cell indices.*position 1"):
        population_for_cells(np.concatenate([good, bad]), grid)
    with pytest.raises(InputError, match="not valid H3"):
        population_for_cells(np.array([12345], dtype=np.int64), grid)
    with pytest.raises(InputError, match="resolution"):
        cell_population_table(6, grid)


def test_polygon_area_weighting(grid: PopulationGrid) -> None:
    cell = grid.count[64, 301]  # lat 25..26, lon 121..122
    half = (math.sin(math.radians(25.5)) - math.sin(math.radians(25))) / (math.sin(math.radians(26)) - math.sin(math.radians(25)))
    assert population_in_polygon(box(121, 25, 122, 25.5), grid) == pytest.approx(cell * half, rel=1e-9)
    world = population_in_polygon(box(-180, -90, 180, 90), grid)
    assert world == pytest.approx(grid.total, rel=1e-9)
    assert population_in_polygon(box(-30, -40, -20, -30), grid) == 0.0  # South Atlantic
    with pytest.raises(InputError, match="invalid polygon"):
        population_in_polygon(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), grid)
    with pytest.raises(InputError, match="180th meridian"):
        population_in_polygon(box(170, 0, 190, 10), grid)
    with pytest.raises(InputError, match="Polygon"):
        population_in_polygon(shapely.Point(0, 0), grid)


HEADER = "ncols 4\nnrows 3\nxllcorner -180\nyllcorner -90\ncellsize 90\nNODATA_value -9999\n"


@pytest.mark.parametrize(
    "body, message",
    [
        (HEADER + "1 2 3 4\n1 2 3\n1 2 3 4\n", r"bad\.asc:8: data row 2 has 3 values, the header says ncols = 4"),
        (HEADER + "1 2 3 4\n1 2 x 4\n1 2 3 4\n", r"bad\.asc:8: value 'x' \(column 3\) is not a number"),
        (HEADER + "1 2 3 4\n1 2 3 4\n", r"nrows = 3 but the file has 2 data rows"),
        (HEADER + "1 2 3 4\n1 2 3 4\n1 2 3 4\n1 2 3 4\n", r"bad\.asc:10: more data rows than nrows = 3"),
        (HEADER + "1 2 3 4\n1 -2 3 4\n1 2 3 4\n", r"bad\.asc:8: value -2 \(column 2\) is not a population count"),
        (HEADER.replace("ncols 4", "ncols four") + "1\n", r"bad\.asc:1: header entry 'ncols four'"),
        (HEADER.replace("nrows 3\n", "") + "1 2 3 4\n", r"header lacks 'nrows'"),
        (HEADER.replace("cellsize", "cellsise") + "1 2 3 4\n", r"bad\.asc:5: unknown header entry 'cellsise'"),
    ],
)
def test_malformed_grid_errors(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "bad.asc"
    p.write_text(body)
    with pytest.raises(InputError, match=message):
        load_population_grid(p)


def test_small_grid_parses() -> None:
    head = "NCOLS 4\r\nNROWS 2\r\nXLLCENTER -135\r\nYLLCENTER -45\r\nCELLSIZE 90\r\nNODATA_VALUE -1\r\n"
    g = parse_esri_ascii(head + "1 2 3 4\r\n-1 0 5 6\r\n\r\n", "x.asc")  # CRLF, centre form, blank tail
    assert g.count.shape == (2, 4) and g.nodata_cells == 1 and g.total == 21.0
    assert (g.lon_west_deg, g.lat_south_deg, g.lat_north_deg) == (-180.0, -90.0, 90.0)
    assert g.population_at(-89.0, 179.0) == 6.0 and g.population_at(89.0, -179.0) == 1.0
    assert isinstance(g.population_at(0.0, 0.0), float)  # scalar in, scalar out


def test_missing_default_grid_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEONET_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="LEONET_DATA_DIR"):
        population_at(0.0, 0.0)


@pytest.mark.parametrize("code", ["TW", "NZ", "FJ", "CL"])  # FJ straddles the antimeridian; CL is long and thin
def test_needed_cells_only_equal_the_whole_table(grid: PopulationGrid, code: str) -> None:
    """A job's cells get their population from only the grid cells they need; the figures are
    the whole-resolution table's, bit for bit."""
    from leonet.ground.cells import country_cells
    from leonet.ground.population import _subset_population

    cells = country_cells(code, 5)
    sub = _subset_population(grid, 5, cells)
    assert sub is not None  # the quick path was taken
    whole, found = cell_population_table(5, grid).lookup(cells)
    assert found.all() and np.array_equal(sub, whole)
    assert np.array_equal(population_for_cells(cells, grid), whole)


def test_needed_cells_only_with_grid_cells_holding_no_centre() -> None:
    """On a 0.1-degree grid most grid cells hold no resolution-5 centre and give their people
    to the cell holding their own centre; the quick path moves them exactly as the table does."""
    from leonet.ground.cells import region_cells
    from leonet.ground.population import _subset_population

    count = np.zeros((1800, 3600))
    rng = np.random.default_rng(3)
    count[640:700, 3000:3030] = rng.uniform(0, 1e4, (60, 30))  # around Taiwan
    count[880:920, 3580:3600] = rng.uniform(0, 1e4, (40, 20))  # west of the antimeridian
    count[880:920, 0:20] = rng.uniform(0, 1e4, (40, 20))  # east of it
    fine = PopulationGrid(count, -180.0, -90.0, 0.1, "synthetic")
    cells = region_cells(box(119.5, 21.0, 122.5, 26.0), 5, "center")
    cells = np.union1d(cells, region_cells(box(-180.0, -2.0, -178.5, 2.0), 5, "center"))
    cells = np.union1d(cells, region_cells(box(178.5, -2.0, 180.0, 2.0), 5, "center"))
    sub = _subset_population(fine, 5, cells)
    assert sub is not None
    table = cell_population_table(5, fine)
    assert table.empty_grid_cells > 100
    whole, _ = table.lookup(cells)
    assert np.array_equal(sub, whole) and sub.sum() > 0
