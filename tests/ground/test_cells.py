"""H3 service cells: region filling, small islands, the antimeridian, cell -> country."""

from __future__ import annotations

from pathlib import Path

import h3.api.numpy_int as h3n
import numpy as np
import pytest
import shapely

from leonet.errors import InputError
from leonet.ground.borders import area_km2, load_countries, load_regions_geojson
from leonet.ground.cells import (
    all_cells,
    cell_boundaries,
    cell_centers,
    cell_resolution,
    cells_to_country,
    cells_to_index,
    country_cells,
    region_cells,
)

DATA = Path(__file__).resolve().parents[2] / "src" / "leonet" / "data"
HAS_10M = (DATA / "countries-10m.geojson.gz").is_file()
needs_10m = pytest.mark.skipif(not HAS_10M, reason="countries-10m.geojson.gz is not shipped")


@pytest.fixture(scope="module")
def taiwan():
    return country_cells("TW")


# ---------------------------------------------------------------------------------------
# Global grid
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("res", "count"), [(0, 122), (1, 842), (3, 41_162), (4, 288_122)])
def test_all_cells_counts(res, count):
    cells = all_cells(res)
    assert cells.dtype == np.uint64 and cells.shape == (count,)
    assert np.unique(cells).size == count
    assert np.all(cells[1:] > cells[:-1])  # sorted
    assert np.all(cell_resolution(cells[:: max(1, count // 1000)]) == res)


@pytest.mark.parametrize("res", [-1, 6, 2.0, True])
def test_all_cells_rejects_bad_resolutions(res):
    with pytest.raises(InputError):
        all_cells(res)


# ---------------------------------------------------------------------------------------
# Region -> cells
# ---------------------------------------------------------------------------------------
def test_taiwan_cells_are_plausible(taiwan):
    assert taiwan.dtype == np.uint64
    assert np.unique(taiwan).size == taiwan.size and np.all(taiwan[1:] > taiwan[:-1])
    # ~36,000 km² of land over ~253 km² cells (smaller than average at this latitude).
    assert 130 <= taiwan.size <= 190
    assert np.all(cell_resolution(taiwan) == 5)
    assert h3n.latlng_to_cell(25.03, 121.56, 5) in set(taiwan.tolist())  # Taipei
    assert h3n.latlng_to_cell(24.45, 118.37, 5) in set(taiwan.tolist())  # Kinmen (1:50m has it)
    lat, lon = cell_centers(taiwan)
    assert np.all((lon > 118) & (lon < 122.2) & (lat > 21.5) & (lat < 25.6))


def test_containment_modes_nest(taiwan):
    centre = country_cells("TWN", contain="center")
    overlap = country_cells(158, contain="overlap")
    assert set(centre.tolist()) <= set(taiwan.tolist()) <= set(overlap.tolist())
    assert overlap.size > taiwan.size  # the coastal ring
    # Every centre-rule cell really has its centre in Taiwan.
    assert np.all(load_countries().country_of(*cell_centers(centre)) == "TWN")
    with pytest.raises(InputError):
        country_cells("TW", contain="most")  # type: ignore[arg-type]


@needs_10m
def test_taiwan_10m_includes_penghu():
    cells = set(country_cells("TW", resolution="10m").tolist())
    assert h3n.latlng_to_cell(23.57, 119.58, 5) in cells  # Magong, Penghu
    assert h3n.latlng_to_cell(24.45, 118.37, 5) in cells  # Kinmen
    assert 140 <= len(cells) <= 200


@pytest.mark.parametrize("code", ["NR", "MC", "VA", "SM", "SG"])
def test_small_countries_get_the_cells_they_touch(code):
    cells = country_cells(code)
    assert cells.size >= 1
    assert country_cells(code, contain="center").size <= cells.size
    # Each added cell really meets the country.
    geom = load_countries().geometry(code)
    assert shapely.intersects(cell_boundaries(cells), geom).all()


@needs_10m
def test_tuvalu_10m_gets_cells():
    assert country_cells("TUV", resolution="10m").size >= 1


def test_fiji_cells_on_both_sides_of_the_antimeridian():
    cells = country_cells("FJ")
    _, lon = cell_centers(cells)
    assert (lon > 179).any() and (lon < -179).any()
    assert np.unique(cells).size == cells.size


def test_antarctica_includes_the_pole_cell():
    cells = country_cells("AQ", res=3)
    assert h3n.latlng_to_cell(-90.0, 0.0, 3) in set(cells.tolist())
    area = area_km2(load_countries().geometry("ATA"))
    assert 0.85 < cells.size * h3n.average_hexagon_area(3, "km^2") / area < 1.15


def test_user_region_across_the_antimeridian():
    regions = load_regions_geojson(
        {
            "type": "Polygon",
            "coordinates": [[[175, -5], [-175, -5], [-175, 5], [175, 5], [175, -5]]],
        }
    )
    geom = regions[0].geometry
    cells = region_cells(geom, res=4)
    lat, lon = cell_centers(cells)
    assert (lon > 175).any() and (lon < -175).any()
    assert np.all(np.abs(lat) <= 5.5) and np.all(np.abs(lon) >= 174.5)
    # Cell sizes vary (they are ~25 % below average here), so compare areas, not counts.
    covered = sum(h3n.cell_area(c, "km^2") for c in cells.tolist())
    assert covered == pytest.approx(area_km2(geom), rel=0.03)


def test_region_with_a_hole():
    outer = shapely.box(10, 10, 14, 14)
    holed = shapely.Polygon(outer.exterior.coords, [shapely.box(11, 11, 13, 13).exterior.coords])
    cells = region_cells(holed, res=5)
    lat, lon = cell_centers(cells)
    inner = (lon > 11.2) & (lon < 12.8) & (lat > 11.2) & (lat < 12.8)
    assert not inner.any()
    assert set(cells.tolist()) < set(region_cells(outer, res=5).tolist())


@pytest.mark.parametrize(
    "geometry",
    [
        shapely.Point(0, 0),
        shapely.LineString([(0, 0), (1, 1)]),
        shapely.box(170, 0, 190, 10),  # not cut at the antimeridian
        "TW",  # a code, not a geometry: use country_cells
        shapely.Polygon(),
    ],
)
def test_region_cells_rejects_bad_geometries(geometry):
    with pytest.raises(InputError):
        region_cells(geometry)


# ---------------------------------------------------------------------------------------
# Cells -> geometry and country
# ---------------------------------------------------------------------------------------
def test_cell_centers_and_boundaries(taiwan):
    lat, lon = cell_centers(taiwan)
    assert lat.shape == lon.shape == taiwan.shape
    taipei = h3n.latlng_to_cell(25.03, 121.56, 5)
    c_lat, c_lon = cell_centers(np.array([[taipei]]))
    assert c_lat.shape == (1, 1)
    assert abs(c_lat[0, 0] - 25.03) < 0.15 and abs(c_lon[0, 0] - 121.56) < 0.15

    outlines = cell_boundaries(taiwan)
    assert outlines.shape == taiwan.shape and shapely.is_valid(outlines).all()
    assert shapely.intersects_xy(outlines, lon, lat).all()
    areas = area_km2(outlines)
    assert np.all((areas > 150) & (areas < 400))


def test_cell_boundaries_across_the_antimeridian_and_at_the_poles():
    crossing = h3n.latlng_to_cell(0.0, 179.99, 4)
    north = h3n.latlng_to_cell(90.0, 0.0, 4)
    south = h3n.latlng_to_cell(-90.0, 0.0, 4)
    plain = h3n.latlng_to_cell(0.0, 0.0, 4)
    out = cell_boundaries(np.array([crossing, north, south, plain], dtype=np.uint64))
    assert shapely.is_valid(out).all()
    assert out[0].geom_type == "MultiPolygon"
    assert out[0].bounds[0] == -180.0 and out[0].bounds[2] == 180.0
    assert out[1].bounds[3] == 90.0 and out[2].bounds[1] == -90.0
    areas = area_km2(out)
    mean = h3n.average_hexagon_area(4, "km^2")
    assert np.all((areas > 0.4 * mean) & (areas < 2.0 * mean))


def test_taiwan_cells_round_trip_to_taiwan(taiwan):
    codes = cells_to_country(taiwan)
    assert codes.shape == taiwan.shape
    assert np.mean(codes == "TWN") >= 0.95


def test_coastal_cells_fall_back_to_the_country_they_touch():
    overlap = country_cells("TW", contain="overlap")
    centre = country_cells("TW", contain="center")
    coastal = np.setdiff1d(overlap, centre)
    assert coastal.size > 20
    assert load_countries().country_of(*cell_centers(coastal)).tolist().count("TWN") == 0
    codes = cells_to_country(coastal)
    assert set(codes.tolist()) <= {"TWN", "CHN"}  # Kinmen lies off Fujian
    assert np.mean(codes == "TWN") > 0.9


def test_open_sea_and_mixed_cells():
    cells = np.array(
        [
            h3n.latlng_to_cell(0.0, -30.0, 5),  # mid-Atlantic
            h3n.latlng_to_cell(48.86, 2.35, 5),  # Paris
            h3n.latlng_to_cell(-90.0, 0.0, 5),  # south pole
            h3n.latlng_to_cell(90.0, 0.0, 5),  # north pole
            h3n.latlng_to_cell(-16.82, -179.93, 5),  # Fiji, west of 180
        ],
        dtype=np.uint64,
    )
    assert cells_to_country(cells).tolist() == ["", "FRA", "ATA", "", "FJI"]
    idx = cells_to_index(cells.reshape(5, 1), load_countries())
    assert idx.shape == (5, 1) and idx[0, 0] == -1


def test_cells_to_country_on_a_global_grid_is_fast_enough():
    cells = all_cells(3)
    codes = cells_to_country(cells)
    land = codes != ""
    # Land is ~29 % of the surface; coastal cells at res 3 (~12,000 km²) add a lot.
    assert 0.3 < land.mean() < 0.45
    assert {"RUS", "ATA", "FJI", "USA", "BRA"} <= set(codes.tolist())


@pytest.mark.parametrize("bad", [[0], [12345], ["85283473fffffff"], [-1]])
def test_invalid_cells_are_input_errors(bad):
    with pytest.raises(InputError):
        cell_centers(bad)
    with pytest.raises(InputError):
        cells_to_country(bad)
