"""Country borders: shipped data validity, antimeridian handling, lookups, user regions."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from leonet.errors import DataNotFoundError, InputError
from leonet.ground.borders import (
    RESOLUTIONS,
    Regions,
    area_km2,
    country_of,
    load_countries,
    load_regions_geojson,
    polygon_from_rings,
)

DATA = Path(__file__).resolve().parents[2] / "src" / "leonet" / "data"
SHIPPED = [r for r in RESOLUTIONS if (DATA / f"countries-{r}.geojson.gz").is_file()]


@pytest.fixture(scope="module")
def countries():
    return load_countries("50m")


def test_50m_is_shipped_and_cached():
    assert "50m" in SHIPPED
    assert load_countries("50m") is load_countries()


@pytest.mark.parametrize("res", SHIPPED)
def test_all_geometries_valid_polygonal_and_on_the_map(res):
    c = load_countries(res)
    geoms = c.geometries
    assert len(c) > 230
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert set(shapely.get_type_id(geoms)) <= {3, 6}
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    assert minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90
    # Every ISO code names exactly one feature (Ashmore merged into Australia).
    for column in (c.iso_a2, c.iso_a3, c.iso_n3):
        coded = column[column != ""]
        assert len(coded) == len(set(coded))
    # Land area of the world is ~149 million km² (Antarctica included).
    assert 140e6 < area_km2(geoms).sum() < 155e6


@pytest.mark.parametrize("res", SHIPPED)
def test_codeless_features_are_the_documented_ones(res):
    c = load_countries(res)
    codeless = set(c.names[c.iso_n3 == ""])
    assert {"Kosovo", "Somaliland", "N. Cyprus", "Siachen Glacier"} <= codeless
    kosovo = c.lookup("Kosovo")
    assert (kosovo.iso_a2, kosovo.iso_a3, kosovo.iso_n3) == ("XK", "XKX", "")
    somaliland = c.lookup("Somaliland")
    assert (somaliland.iso_a2, somaliland.iso_a3) == ("", "")
    # Natural Earth's "Indian Ocean Ter." becomes Christmas Island and the Cocos Islands.
    assert c.lookup("CX").name == "Christmas Island" and c.lookup("CC").iso_n3 == "166"
    cx, cc = c.geometry("CX"), c.geometry("CC")
    assert 105 < cx.bounds[0] < cx.bounds[2] < 106 and 96 < cc.bounds[0] < cc.bounds[2] < 97
    assert c.country_of(-10.49, 105.62) == "CXR"
    with pytest.raises(InputError, match="several regions"):
        c.lookup("Indian Ocean Ter.")  # both halves carry Natural Earth's name
    assert "Ashmore and Cartier Is." not in set(c.names)


@pytest.mark.parametrize(
    ("code", "low_km2", "high_km2"),
    [
        ("RUS", 16.4e6, 17.4e6),
        ("ATA", 11.8e6, 14.2e6),
        ("USA", 9.2e6, 9.8e6),
        ("FJI", 17e3, 20e3),
        ("KIR", 600, 1200),
        ("TWN", 34e3, 38e3),
    ],
)
def test_antimeridian_shapes_are_valid_with_sane_areas(countries, code, low_km2, high_km2):
    geom = countries.geometry(code)
    assert geom.is_valid
    assert low_km2 < area_km2(geom) < high_km2  # a bad cut would span the whole map


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (-16.82, -179.93, "FJI"),  # Vanua Levu/Taveuni, west of 180
        (-16.92, 179.96, "FJI"),  # Taveuni, east of 180
        (-17.80, 178.00, "FJI"),  # Viti Levu
        (66.0, -175.0, "RUS"),  # Chukotka, west of 180
        (65.0, 175.0, "RUS"),  # Chukotka, east of 180
        (71.24, -178.76, "RUS"),  # Wrangel Island, west part
        (71.20, 179.43, "RUS"),  # Wrangel Island, east part
        (64.84, -147.72, "USA"),  # Fairbanks, Alaska
        (52.90, 173.00, "USA"),  # Attu, Aleutians, east of 180
        (-0.87, 169.54, "KIR"),  # Banaba
        (25.03, 121.56, "TWN"),  # Taipei
        (24.45, 118.37, "TWN"),  # Kinmen, as Natural Earth draws it
        (48.86, 2.35, "FRA"),  # Paris
        (35.68, 139.69, "JPN"),  # Tokyo
        (-33.87, 151.21, "AUS"),  # Sydney
        (0.0, 3.0, ""),  # Gulf of Guinea
        (30.0, -40.0, ""),  # mid-Atlantic
        (89.5, 0.0, ""),  # Arctic Ocean
    ],
)
def test_country_of_known_points(countries, lat, lon, expected):
    assert countries.country_of(lat, lon) == expected


@pytest.mark.parametrize("lon", [-180.0, -135.0, -90.0, -45.0, 0.0, 45.0, 90.0, 135.0, 180.0])
def test_antarctica_reaches_the_pole(countries, lon):
    assert countries.country_of(-85.0, lon) == "ATA"
    assert countries.country_of(-89.99, lon) == "ATA"
    assert countries.country_of(-90.0, lon) == "ATA"


def test_country_of_is_vectorised_and_keeps_shape(countries):
    lat = np.array([[25.03, 48.86], [0.0, -16.82]])
    lon = np.array([[121.56, 2.35], [3.0, -179.93]])
    out = countries.country_of(lat, lon)
    assert out.shape == (2, 2)
    assert out.tolist() == [["TWN", "FRA"], ["", "FJI"]]
    # Module shorthand, broadcasting a scalar latitude, wrapping longitudes past 180.
    assert country_of(25.03, [121.56, 121.56 + 360.0, 121.56 - 360.0]).tolist() == ["TWN"] * 3
    assert country_of(np.empty(0), np.empty(0)).shape == (0,)


def test_country_of_matches_a_brute_force_check(countries):
    rng = np.random.default_rng(7)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 4000)))
    lon = rng.uniform(-180, 180, 4000)
    idx = countries.index_of(lat, lon)
    land = idx >= 0
    assert 0.2 < land.mean() < 0.4  # ~29 % of the globe is land
    # Each answer's geometry really holds the point; "sea" points are in no geometry.
    assert shapely.intersects_xy(countries.geometries[idx[land]], lon[land], lat[land]).all()
    world = shapely.union_all(countries.geometries)
    assert not shapely.intersects_xy(world, lon[~land], lat[~land]).any()


def test_codeless_land_is_named_but_has_no_code(countries):
    assert countries.name_of(9.56, 44.06) == "Somaliland"  # Hargeisa
    assert countries.country_of(9.56, 44.06) == ""


@pytest.mark.parametrize("bad", [(95.0, 0.0), (np.nan, 0.0), (0.0, np.inf)])
def test_country_of_rejects_bad_points(countries, bad):
    with pytest.raises(InputError):
        countries.country_of(*bad)


@pytest.mark.parametrize(
    "query", ["TW", "tw", "TWN", "twn", 158, "158", "0158", "Taiwan", " TAIWAN "]
)
def test_lookup_taiwan_by_any_code_or_name(countries, query):
    rec = countries.lookup(query)
    assert (rec.iso_a2, rec.iso_a3, rec.iso_n3, rec.name) == ("TW", "TWN", "158", "Taiwan")
    assert countries.geometry(query) is rec.geometry


def test_lookup_by_natural_earth_and_accent_free_names(countries):
    assert countries.lookup("Dem. Rep. Congo").iso_a3 == "COD"
    assert countries.lookup("Côte d'Ivoire").iso_a3 == "CIV"
    assert countries.lookup("Cote d'Ivoire").iso_a3 == "CIV"
    assert countries.lookup("United States of America").iso_a3 == "USA"
    assert countries.lookup("united states").iso_a3 == "USA"


def test_lookup_errors_list_close_matches(countries):
    with pytest.raises(InputError, match=r"Taiwan \(TWN\)"):
        countries.lookup("Taiwn")
    with pytest.raises(InputError, match="numeric code '999'"):
        countries.lookup(999)
    with pytest.raises(InputError):
        countries.lookup(3.5)  # type: ignore[arg-type]


def test_unknown_resolution_is_an_input_error():
    with pytest.raises(InputError, match="50m"):
        load_countries("1m")


# ---------------------------------------------------------------------------------------
# polygon_from_rings
# ---------------------------------------------------------------------------------------
def _box_area(lon0, lat0, lon1, lat1):
    return area_km2(shapely.box(lon0, lat0, lon1, lat1))


@pytest.mark.parametrize(
    "ring",
    [
        [[170, -10], [-170, -10], [-170, 10], [170, 10]],  # jumps across 180, ring left open
        [[170, -10], [190, -10], [190, 10], [170, 10], [170, -10]],  # longitudes past 180
        [[-190, -10], [-170, -10], [-170, 10], [-190, 10], [-190, -10]],  # past -180
    ],
)
def test_polygon_crossing_the_antimeridian_is_cut(ring):
    geom = polygon_from_rings([ring])
    assert geom.geom_type == "MultiPolygon" and geom.is_valid
    assert geom.bounds == (-180.0, -10.0, 180.0, 10.0)
    assert area_km2(geom) == pytest.approx(_box_area(170, -10, 190, 10), rel=1e-9)
    assert shapely.intersects_xy(geom, [175.0, -175.0], [0.0, 0.0]).all()
    assert not shapely.intersects_xy(geom, 0.0, 0.0)


@pytest.mark.parametrize(
    ("ring", "bounds"),
    [
        ([[0, 80], [90, 80], [180, 80], [-90, 80]], (-180, 80, 180, 90)),  # circles the N pole
        ([[-180, 80], [-90, 80], [0, 80], [90, 80], [180, 80]], (-180, 80, 180, 90)),
        ([[0, -80], [-90, -80], [180, -80], [90, -80]], (-180, -90, 180, -80)),
        ([[-180, -60], [180, -60], [180, 60], [-180, 60]], (-180, -60, 180, 60)),  # flat band
        ([[-180, -90], [180, -90], [180, -60], [-180, -60]], (-180, -90, 180, -60)),
    ],
)
def test_pole_and_full_width_rings(ring, bounds):
    geom = polygon_from_rings([ring])
    assert geom.is_valid
    assert geom.bounds == bounds
    assert area_km2(geom) == pytest.approx(_box_area(*bounds), rel=1e-9)


def test_d3_convention_reads_winding_for_pole_rings():
    # world-atlas's 1:50m Antarctica: a westward shell near the pole (interior on its right:
    # north of it) with the coast as an eastward hole.
    lons = np.linspace(180, -180, 37)[:-1]
    shell = np.column_stack([lons, np.full(lons.size, -89.999)])
    coast = np.column_stack([lons[::-1], np.full(lons.size, -70.0)])
    geom = polygon_from_rings([shell, coast], convention="d3")
    assert geom.bounds == pytest.approx((-180, -89.999, 180, -70))
    # The same coast as a lone eastward shell encloses the south.
    cap = polygon_from_rings([coast], convention="d3")
    assert cap.bounds == (-180, -90, 180, -70)


def test_hole_across_the_antimeridian():
    shell = [[160, -20], [200, -20], [200, 20], [160, 20]]
    hole = [[175, -5], [-175, -5], [-175, 5], [175, 5]]
    geom = polygon_from_rings([shell, hole])
    assert geom.is_valid
    assert not shapely.intersects_xy(geom, [179.0, -179.0], [0.0, 0.0]).any()
    assert shapely.intersects_xy(geom, [179.0, -179.0], [10.0, -10.0]).all()
    expected = _box_area(160, -20, 200, 20) - _box_area(175, -5, 185, 5)
    assert area_km2(geom) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "rings",
    [
        [],  # no shell
        [[[0, 0], [1, 1]]],  # too few positions
        [[[0, 0], [1, 95], [2, 0]]],  # latitude beyond 90
        [[[0, 0], [1], [2, 0]]],  # a position without latitude
        [[["a", 0], [1, 1], [2, 0]]],  # not a number
    ],
)
def test_polygon_from_bad_rings(rings):
    with pytest.raises(InputError):
        polygon_from_rings(rings)


# ---------------------------------------------------------------------------------------
# User regions
# ---------------------------------------------------------------------------------------
def _feature(coords, name, kind="Polygon", **props):
    return {
        "type": "Feature",
        "properties": {"name": name, **props},
        "geometry": {"type": kind, "coordinates": coords},
    }


def test_user_geojson_crossing_the_antimeridian(tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [
            _feature(
                [[[170, -10], [-170, -10], [-170, 10], [170, 10], [170, -10]]],
                "dateline",
                iso_a3="dtl",
            ),
            _feature([[[[0, 40], [10, 40], [10, 50], [0, 50], [0, 40]]]], "europe", "MultiPolygon"),
        ],
    }
    path = tmp_path / "regions.geojson"
    path.write_text(json.dumps(collection))
    regions = load_regions_geojson(path)
    assert isinstance(regions, Regions) and len(regions) == 2
    names = regions.name_of([0, 0, 0, 45], [175, -175, 0, 5])
    assert names.tolist() == ["dateline", "dateline", "", "europe"]
    dateline = regions.lookup("DTL")
    assert dateline.name == "dateline" and dateline.geometry.is_valid
    assert area_km2(dateline.geometry) == pytest.approx(_box_area(170, -10, 190, 10), rel=1e-9)

    gz = tmp_path / "regions.geojson.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert load_regions_geojson(gz).names.tolist() == ["dateline", "europe"]


def test_user_geojson_feature_and_bare_geometry():
    geometry = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    bare = load_regions_geojson(geometry)
    assert bare.names.tolist() == ["region-0"]
    feature = {"type": "Feature", "id": "sq", "properties": None, "geometry": geometry}
    assert load_regions_geojson(feature).names.tolist() == ["sq"]


@pytest.mark.parametrize(
    "content",
    [
        "this is not json",
        "[1, 2, 3]",
        '{"type": "Point", "coordinates": [0, 0]}',
        '{"type": "FeatureCollection", "features": []}',
        '{"type": "Feature", "properties": {}, "geometry": null}',
        '{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}',
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 100], [0, 0]]]}',
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}',
        '{"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]}',
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}',
    ],
)
def test_bad_geojson_is_an_input_error(tmp_path, content):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(InputError):
        load_regions_geojson(path)


def test_missing_regions_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        load_regions_geojson(tmp_path / "nope.geojson")


def test_overlapping_picks_the_larger_share(countries):
    # A box mostly in France, a little in Spain; one in open ocean.
    boxes = np.array([shapely.box(1.0, 42.3, 2.0, 43.5), shapely.box(-30.0, 0.0, -29.0, 1.0)])
    idx = countries.overlapping(boxes)
    assert countries.values_at("iso_a3", idx).tolist() == ["FRA", ""]
