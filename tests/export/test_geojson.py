"""GeoJSON export against RFC 7946: ring orientation (right-hand rule), longitudes within
[-180, 180], cells and lines cut at the antimeridian, shapely validity, and properties that
are the coverage result's figures of merit."""

from __future__ import annotations

import json
import math

import h3
import numpy as np
import pytest
import shapely
import shapely.geometry

import leonet
from leonet.errors import InputError
from leonet.export.geojson import (
    cells_feature_collection,
    cells_table_feature_collection,
    great_circle_vertices,
    regions_feature_collection,
    split_line,
    write_geojson,
)
from leonet.ground.borders import area_km2
from leonet.ground.regions import Region
from leonet.orbits.frames import geodetic_to_itrf
from leonet.policy.model import ServicePolicy
from leonet.times import TimeGrid, parse_time

FIJI_RES3 = h3.str_to_int(h3.latlng_to_cell(-17.0, 179.99, 3))
CHUKOTKA_RES4 = h3.str_to_int(h3.latlng_to_cell(65.0, 180.0, 4))
NORTH_POLE_RES2 = h3.str_to_int(h3.latlng_to_cell(90.0, 0.0, 2))
TAIPEI_RES5 = h3.str_to_int(h3.latlng_to_cell(25.03, 121.56, 5))


def signed_area(ring: list[list[float]]) -> float:
    """Shoelace area in degree² (> 0 counter-clockwise), computed here, not by shapely."""
    a = np.asarray(ring, dtype=np.float64)
    x, y = a[:, 0], a[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def polygons(geom: dict) -> list[list[list[list[float]]]]:
    return [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]


def check_rfc7946(doc: dict) -> None:
    """Every rule this exporter promises, checked independently of its code."""
    assert doc["type"] == "FeatureCollection"
    json.dumps(doc, allow_nan=False)  # no NaN anywhere
    for f in doc["features"]:
        g = f["geometry"]
        if g is None:
            continue
        xy = np.asarray(shapely.get_coordinates(shapely.geometry.shape(g)))
        assert (xy[:, 0] >= -180.0).all() and (xy[:, 0] <= 180.0).all() and (np.abs(xy[:, 1]) <= 90.0).all()
        if g["type"] in ("Polygon", "MultiPolygon"):
            for poly in polygons(g):
                assert poly[0][0] == poly[0][-1]
                assert signed_area(poly[0]) > 0  # exterior counter-clockwise
                assert all(signed_area(h) < 0 for h in poly[1:])  # holes clockwise
            assert shapely.geometry.shape(g).is_valid
        if g["type"] in ("LineString", "MultiLineString"):
            lines = [g["coordinates"]] if g["type"] == "LineString" else g["coordinates"]
            for line in lines:  # no edge jumps across the map: those were cut
                assert np.abs(np.diff(np.asarray(line)[:, 0])).max(initial=0.0) <= 180.0


def test_cells_follow_rfc7946_and_antimeridian_cells_are_cut() -> None:
    cells = np.array([FIJI_RES3, CHUKOTKA_RES4, NORTH_POLE_RES2, TAIPEI_RES5], dtype=np.uint64)
    doc = cells_feature_collection(cells, {"value": [1.5, float("nan"), 3, 4]})
    check_rfc7946(doc)
    f = {x["id"]: x for x in doc["features"]}
    assert [x["id"] for x in doc["features"]] == [f"{int(c):x}" for c in cells]
    assert f[f"{TAIPEI_RES5:x}"]["geometry"]["type"] == "Polygon"
    assert f[f"{CHUKOTKA_RES4:x}"]["properties"]["value"] is None  # NaN -> null
    for c in (FIJI_RES3, CHUKOTKA_RES4):
        g = f[f"{c:x}"]["geometry"]
        assert g["type"] == "MultiPolygon" and len(g["coordinates"]) == 2
        east, west = sorted(g["coordinates"], key=lambda p: -np.asarray(p[0])[:, 0].max())
        assert np.asarray(east[0])[:, 0].max() == 180.0 and np.asarray(east[0])[:, 0].min() > 0
        assert np.asarray(west[0])[:, 0].min() == -180.0 and np.asarray(west[0])[:, 0].max() < 0
        # The two pieces are the whole cell: their area is the cell's (h3's spherical area).
        assert area_km2(shapely.geometry.shape(g)) == pytest.approx(h3.cell_area(f"{c:x}", "km^2"), rel=0.01)
    pole = shapely.geometry.shape(f[f"{NORTH_POLE_RES2:x}"]["geometry"])
    assert pole.covers(shapely.Point(0.0, 89.999)) and pole.covers(shapely.Point(179.0, 89.999))


def test_every_cell_near_the_antimeridian_is_valid() -> None:
    # Every resolution-3 cell within 3 degrees of the 180th meridian, from pole to pole.
    lat = np.arange(-87.0, 88.0, 1.0)
    cells = np.unique([h3.str_to_int(h3.latlng_to_cell(la, lo, 3)) for la in lat for lo in (-179.5, 179.5, 178.0, -178.0)]).astype(np.uint64)
    doc = cells_feature_collection(cells)
    check_rfc7946(doc)
    cut = [x for x in doc["features"] if x["geometry"]["type"] == "MultiPolygon"]
    assert len(cut) >= 10
    for x in doc["features"]:
        assert area_km2(shapely.geometry.shape(x["geometry"])) == pytest.approx(h3.cell_area(x["id"], "km^2"), rel=0.02)


def test_cell_properties_are_the_coverage_figures_of_merit(tmp_path) -> None:
    c = leonet.load("preset:starlink-gen1", epoch="2025-01-01T00:00:00Z")
    cov = leonet.coverage(c, ["TWN"], TimeGrid("2025-01-01T00:00:00Z", "20min", "60s"), h3_res=3, min_elevation_deg=40.0)
    doc = cov.to_geojson()
    check_rfc7946(doc)
    res = cov.result
    assert [f["id"] for f in doc["features"]] == [f"{int(x):x}" for x in res.area.cells]
    fom = res.coverage_fom.as_columns()
    for k, f in enumerate(doc["features"]):
        p = f["properties"]
        assert p["region"] == res.area.region[k] and p["population"] == pytest.approx(res.area.population[k])
        for name, values in fom.items():
            v = values[k]
            want = None if isinstance(v, float | np.floating) and math.isnan(v) else v.item()
            assert p[f"coverage_{name}"] == want
        assert p["service_percent_covered_ge1"] == res.service_fom.percent_covered_by_at_least[k, 0]
    assert doc["leonet"]["h3_res"] == 3 and doc["leonet"]["instants"] == 20
    # The same cells from the run's table (cells.parquet) give the same features.
    again = cells_table_feature_collection(cov.cells_table())
    assert again["features"] == doc["features"]
    out = tmp_path / "cells.geojson"
    assert write_geojson(doc, out) == len(res.area)
    assert json.loads(out.read_text())["features"] == doc["features"]


def test_lines_are_cut_at_the_antimeridian_and_follow_great_circles() -> None:
    g = split_line(np.array([170.0, 179.0, -179.0, -170.0]), np.array([0.0, 1.0, 3.0, 4.0]))
    assert g["type"] == "MultiLineString"
    a, b = g["coordinates"]
    assert a[-1] == [180.0, 2.0] and b[0] == [-180.0, 2.0]  # the crossing, interpolated halfway
    assert split_line(np.array([10.0, 20.0]), np.array([0.0, 0.0]))["type"] == "LineString"
    # A link between two satellites over the Pacific, densified along the great circle under it.
    xyz = geodetic_to_itrf(np.array([10.0, 20.0]), np.array([170.0, -160.0]), np.array([550.0, 550.0])).reshape(-1, 3)
    lat, lon = great_circle_vertices(xyz)
    assert lat[0] == pytest.approx(10.0) and lon[0] == pytest.approx(170.0) and lat[-1] == pytest.approx(20.0) and lon[-1] == pytest.approx(-160.0)
    u = np.stack([np.cos(np.radians(lat)) * np.cos(np.radians(lon)), np.cos(np.radians(lat)) * np.sin(np.radians(lon)), np.sin(np.radians(lat))], -1)
    steps = np.degrees(np.arccos(np.clip(np.einsum("ik,ik->i", u[:-1], u[1:]), -1, 1)))
    assert steps.max() < 1.01
    normal = np.cross(xyz[0], xyz[1])
    # Geodetic vs geocentric latitude differ by < 0.2 deg: the vertices lie within that of the plane.
    assert np.degrees(np.abs(np.arcsin(u @ (normal / np.linalg.norm(normal))))).max() < 0.2
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": split_line(lon, lat), "properties": {}}]}
    check_rfc7946(doc)
    assert doc["features"][0]["geometry"]["type"] == "MultiLineString"


def test_route_features_run_from_source_to_destination() -> None:
    c = leonet.load("preset:starlink-gen1", epoch="2025-01-01T00:00:00Z")
    r = leonet.route(c, "Taipei", "Los Angeles", TimeGrid("2025-01-01T00:00:00Z", "3min", "60s"))
    doc = r.to_geojson()
    check_rfc7946(doc)
    points = [f for f in doc["features"] if f["geometry"] and f["geometry"]["type"] == "Point"]
    lines = [f for f in doc["features"] if not (f["geometry"] and f["geometry"]["type"] == "Point")]
    assert len(points) == 2 and len(lines) == 3
    src, dst = (p["geometry"]["coordinates"] for p in points)
    for f, rtt in zip(lines, r.run.routes.rtt_ms[:, 0]):
        p = f["properties"]
        if f["geometry"] is None:
            assert p["hops"] is None and p["rtt_ms"] is None and not p["path"]
            continue
        assert p["rtt_ms"] == pytest.approx(rtt) and len(p["path"]) == p["hops"] + 1
        assert p["node_kinds"][0] == p["node_kinds"][-1] == "endpoint" and set(p["node_kinds"][1:-1]) == {"satellite"}
        lines_ = [f["geometry"]["coordinates"]] if f["geometry"]["type"] == "LineString" else f["geometry"]["coordinates"]
        assert lines_[0][0] == pytest.approx(src, abs=1e-6) and lines_[-1][-1] == pytest.approx(dst, abs=1e-6)
        assert parse_time(p["time_utc"]) in r.run.routes.t_ns
    assert any(f["geometry"]["type"] == "MultiLineString" for f in lines if f["geometry"])  # Taipei -> LA crosses the Pacific


def test_regions_and_policy_states() -> None:
    fiji, taiwan = Region.country("FJI"), Region.country("TWN")
    doc = regions_feature_collection([fiji, taiwan], [{"a": 1}, {"a": 2}])
    check_rfc7946(doc)
    assert [f["id"] for f in doc["features"]] == ["FJI", "TWN"] and doc["features"][1]["properties"] == {"key": "TWN", "name": "Taiwan", "kind": "country", "a": 2}
    assert doc["features"][0]["geometry"]["type"] == "MultiPolygon"
    xs = np.asarray(shapely.get_coordinates(shapely.geometry.shape(doc["features"][0]["geometry"])))[:, 0]
    assert xs.max() == pytest.approx(180.0, abs=1e-6) and xs.min() == pytest.approx(-180.0, abs=1e-6)  # Fiji spans the antimeridian
    ring = Region.cell_set([FIJI_RES3], 3, "fiji-cell")
    policy = ServicePolicy.active_everywhere().deactivate(taiwan, "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z").deactivate(ring)
    inside = leonet.regions_geojson([], policy=policy, at="2025-01-01T12:00:00Z")
    check_rfc7946(inside)
    by = {f["id"]: f["properties"] for f in inside["features"]}
    assert by["TWN"]["active"] is False and by["fiji-cell"]["active"] is False and by["fiji-cell"]["h3_res"] == 3
    assert by["TWN"]["rules"] == [policy.rules[0].describe()]
    after = leonet.regions_geojson(["JPN"], policy=policy, at="2025-01-03T00:00:00Z")
    by = {f["id"]: f["properties"] for f in after["features"]}
    assert by["TWN"]["active"] is True and by["JPN"]["active"] is True and after["leonet"]["time_utc"] == "2025-01-03T00:00:00Z"
    with pytest.raises(InputError, match="give regions"):
        leonet.regions_geojson([])


def test_bad_cells_are_refused() -> None:
    with pytest.raises(InputError, match="h3_cell"):
        cells_feature_collection(np.array([TAIPEI_RES5], dtype=np.uint64), {"h3_cell": ["8531aca3fffffff"]})
    with pytest.raises(InputError, match="not H3 cells"):
        cells_feature_collection(np.array([12345], dtype=np.uint64))
    with pytest.raises(InputError, match="one value per feature"):
        cells_feature_collection(np.array([TAIPEI_RES5], dtype=np.uint64), {"v": [1, 2]})
    import pyarrow as pa

    with pytest.raises(InputError, match="no h3_cell column"):
        cells_table_feature_collection(pa.table({"x": [1]}))
