"""GeoJSON (RFC 7946) of H3 cells with their figures of merit, regions and routes.

Every geometry leaves here as RFC 7946 asks: ``[longitude, latitude]`` degrees in WGS84, every
longitude within [-180, 180], polygon exteriors counter-clockwise and holes clockwise (the
right-hand rule, §3.1.6), and anything that crosses the 180th meridian cut into pieces on
either side of it (a MultiPolygon or MultiLineString, §3.1.9). H3 outlines come from
:func:`leonet.ground.cells.cell_boundaries` (cut at the antimeridian, capped over a pole);
route lines follow the great circle under each link (the chord between two nodes projected
from the Earth's centre) and are cut where they cross the antimeridian.

The functions are pure: arrays, shapely geometries and Arrow tables in, GeoJSON ``dict`` s out
(the dashboard serves them as they are); :func:`write_geojson` writes one atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from leonet.errors import InputError

#: Largest angle (deg, seen from the Earth's centre) between two vertices of a route line.
ROUTE_MAX_STEP_DEG = 1.0


# ---- geometries ---------------------------------------------------------------------------
def rfc7946_geometries(geoms: Sequence[shapely.Geometry] | np.ndarray) -> list[dict | None]:
    """GeoJSON geometry objects of flat lon/lat shapely geometries ``(n,)`` (already cut at the
    antimeridian, as :mod:`leonet.ground` builds them): polygons oriented by the right-hand
    rule, longitudes checked to lie in [-180, 180]. None (or empty) gives None (a feature
    with ``"geometry": null``)."""
    arr = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    out: list[dict | None] = [None] * arr.size
    if not arr.size:
        return out
    present = np.array([g is not None for g in arr], dtype=bool)
    present[present] = ~shapely.is_empty(arr[present].astype(object))
    if present.any():
        g = shapely.orient_polygons(arr[present], exterior_cw=False)  # RFC 7946 §3.1.6
        x = shapely.get_coordinates(g)[:, 0] if g.size else np.zeros(0)
        if x.size and (x.min() < -180.0 or x.max() > 180.0):
            raise InputError("a geometry has longitudes outside [-180, 180]; cut it at the antimeridian first")
        texts = shapely.to_geojson(g)
        parsed = json.loads("[" + ",".join(texts.tolist()) + "]")
        for i, d in zip(np.flatnonzero(present), parsed):
            out[i] = d
    return out


def split_line(lon_deg: np.ndarray, lat_deg: np.ndarray) -> dict | None:
    """A GeoJSON LineString through ``(lon, lat)`` vertices ``(n,)`` degrees, where every edge
    goes the short way round (an edge whose longitudes differ by more than 180 degrees crosses
    the antimeridian): a MultiLineString of the pieces on either side when it does, the
    crossing latitude interpolated linearly. None for fewer than two vertices."""
    lon = np.asarray(lon_deg, dtype=np.float64)
    lat = np.asarray(lat_deg, dtype=np.float64)
    if lon.size < 2:
        return None
    d = np.diff(lon)
    ulon = lon[0] + np.concatenate([[0.0], np.cumsum(d - 360.0 * np.round(d / 360.0))])
    line = shapely.LineString(np.column_stack([ulon, lat]))
    lo, hi = float(ulon.min()), float(ulon.max())
    first, last = int(np.ceil((lo - 180.0) / 360.0)), int(np.floor((hi + 180.0) / 360.0))
    pieces: list[np.ndarray] = []
    for s in range(first, last + 1):
        part = shapely.intersection(line, shapely.box(-180.0 + 360.0 * s, -90.0, 180.0 + 360.0 * s, 90.0))
        for p in getattr(part, "geoms", [part]):
            if isinstance(p, shapely.LineString) and not p.is_empty and p.length > 0:
                c = shapely.get_coordinates(p) - [360.0 * s, 0.0]
                pieces.append(np.column_stack([np.clip(c[:, 0], -180.0, 180.0), c[:, 1]]))
    if not pieces:
        return None
    if len(pieces) == 1:
        return {"type": "LineString", "coordinates": pieces[0].tolist()}
    return {"type": "MultiLineString", "coordinates": [p.tolist() for p in pieces]}


def great_circle_vertices(xyz_km: np.ndarray, max_step_deg: float = ROUTE_MAX_STEP_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (deg) of a path through Earth-fixed points ``(n, 3)`` km, each
    straight link densified so that vertices are at most ``max_step_deg`` apart seen from the
    Earth's centre: the points of the chord between two nodes, projected on the ground (a
    laser link or a ground link drawn where it passes over). Geodetic coordinates
    (:func:`~leonet.orbits.frames.itrf_to_geodetic`) of the chord's points."""
    from leonet.orbits.frames import itrf_to_geodetic

    p = np.asarray(xyz_km, dtype=np.float64).reshape(-1, 3)
    if len(p) < 2:
        lat, lon, _ = itrf_to_geodetic(p)
        return np.atleast_1d(lat), np.atleast_1d(lon)
    a, b = p[:-1], p[1:]
    cosang = np.einsum("ik,ik->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    ang = np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0)))
    steps = np.maximum(1, np.ceil(ang / max_step_deg).astype(np.int64))
    owner = np.repeat(np.arange(len(a)), steps)
    frac = (np.arange(int(steps.sum())) - np.repeat(np.cumsum(steps) - steps, steps)) / steps[owner]
    # The chord's point seen at angle theta = frac * A from a (even steps in angle): with
    # ra, rb the ends' radii, a + f (b - a) with f = ra sin(theta) / (rb sin(A - theta) + ra sin(theta)).
    big_a = np.radians(ang)[owner]
    theta = frac * big_a
    ra, rb = np.linalg.norm(a, axis=1)[owner], np.linalg.norm(b, axis=1)[owner]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = ra * np.sin(theta) / (rb * np.sin(big_a - theta) + ra * np.sin(theta))
    f = np.where(big_a > 1e-12, f, frac)
    pts = a[owner] + f[:, None] * (b[owner] - a[owner])
    pts = np.vstack([pts, p[-1:]])
    lat, lon, _ = itrf_to_geodetic(pts)
    return np.asarray(lat), np.asarray(lon)


# ---- features -----------------------------------------------------------------------------
def json_value(v: Any) -> Any:
    """A property value JSON can hold: numpy scalars as Python numbers, NaN and infinities as
    null (JSON has no NaN), arrays and tuples as lists."""
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, (np.ndarray, list, tuple)):
        return [json_value(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, Mapping):
        return {str(k): json_value(x) for k, x in v.items()}
    if hasattr(v, "isoformat"):
        return v.isoformat().replace("+00:00", "Z")
    return v if isinstance(v, str) else str(v)


def property_rows(properties: Mapping[str, Sequence | np.ndarray] | pa.Table | None, n: int) -> list[dict]:
    """Per-feature property dicts from columns (``{name: (n,) values}`` or an Arrow table of n
    rows); timestamps as ISO-8601 text, NaN as null."""
    if properties is None:
        return [{} for _ in range(n)]
    if isinstance(properties, pa.Table):
        cols = {}
        for name, col in zip(properties.column_names, properties.columns):
            if pa.types.is_timestamp(col.type):
                from leonet.times import format_time

                ns = col.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
                cols[name] = np.atleast_1d(format_time(ns)) if len(ns) else []
            else:
                cols[name] = col.to_pylist()
        properties = cols
    bad = [k for k, v in properties.items() if len(v) != n]
    if bad:
        raise InputError(f"property columns {bad} do not have one value per feature ({n})")
    names = list(properties)
    columns = [[json_value(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)] for v in properties.values()]
    return [dict(zip(names, row)) for row in zip(*columns)] if names else [{} for _ in range(n)]


def feature(geometry: dict | None, properties: Mapping[str, Any] | None = None, id: str | int | None = None) -> dict:
    """One GeoJSON Feature (``id`` only when given)."""
    f: dict[str, Any] = {"type": "Feature"}
    if id is not None:
        f["id"] = id
    f["geometry"] = geometry
    f["properties"] = {str(k): json_value(v) for k, v in (properties or {}).items()}
    return f


def feature_collection(features: list[dict], **members: Any) -> dict:
    """A FeatureCollection; ``members`` (e.g. ``leonet`` metadata) are foreign members (RFC 7946 §6.1)."""
    return {"type": "FeatureCollection", **{k: json_value(v) for k, v in members.items()}, "features": features}


# ---- cells --------------------------------------------------------------------------------
def cells_feature_collection(cells: np.ndarray | Sequence[int] | Sequence[str],
                             properties: Mapping[str, Sequence | np.ndarray] | pa.Table | None = None, **members: Any) -> dict:
    """One Polygon (or MultiPolygon, cut at the antimeridian) Feature per H3 cell, ``id`` and
    property ``h3_cell`` the cell's hex index, then ``properties`` (columns of one value per
    cell, e.g. the figures of merit of :func:`leonet.export.tables.cells_table`; an ``h3_cell``
    column there must name the same cells)."""
    import h3

    from leonet.ground.cells import as_cells, cell_boundaries

    ids = as_cells(np.asarray(cells) if not isinstance(cells, np.ndarray) else cells, allow_strings=True).ravel()
    hexes = [f"{int(c):x}" for c in ids]
    bad = [h for h in hexes if not h3.is_valid_cell(h)]
    if bad:
        raise InputError(f"{len(bad)} values are not H3 cells (e.g. {bad[0]}); give H3 indexes such as 8531aca3fffffff")
    rows = property_rows(properties, ids.size)
    if rows and "h3_cell" in rows[0] and [r["h3_cell"] for r in rows] != hexes:
        raise InputError("the h3_cell column of the properties does not match the cells given")
    geoms = rfc7946_geometries(cell_boundaries(ids))
    feats = [feature(g, {"h3_cell": h, **{k: v for k, v in r.items() if k != "h3_cell"}}, id=h) for g, h, r in zip(geoms, hexes, rows)]
    return feature_collection(feats, **members)


def cells_table_feature_collection(table: pa.Table, **members: Any) -> dict:
    """Cells from a table with an ``h3_cell`` column (hex text or integers; e.g. a run's
    ``cells.parquet``): every other column becomes a property."""
    if "h3_cell" not in table.column_names:
        raise InputError(f"the table has no h3_cell column (columns: {', '.join(table.column_names)}); give a run's cells.parquet")
    cells = table.column("h3_cell").to_pylist()
    if any(c is None for c in cells):
        raise InputError("the h3_cell column has empty values")
    return cells_feature_collection(np.asarray(cells) if isinstance(cells[0], str) else np.asarray(cells, dtype=np.uint64),
                                    table.drop_columns(["h3_cell"]), **members)


# ---- regions ------------------------------------------------------------------------------
def region_geometry(region: Any) -> shapely.Geometry | None:
    """The flat lon/lat outline of a :class:`~leonet.ground.regions.Region`: its polygons, or
    for a cell set the union of its cells' outlines."""
    if getattr(region, "geometry", None) is not None:
        return region.geometry
    if getattr(region, "cells", None) is not None:
        from leonet.ground.cells import cell_boundaries

        return shapely.union_all(cell_boundaries(region.cells))
    return None


def regions_feature_collection(regions: Sequence[Any], properties: Sequence[Mapping[str, Any]] | None = None, **members: Any) -> dict:
    """One Feature per :class:`~leonet.ground.regions.Region` (id its key): properties
    ``key, name, kind`` (and ``h3_res`` for a cell set), then ``properties[k]``."""
    extra = list(properties) if properties is not None else [{} for _ in regions]
    if len(extra) != len(regions):
        raise InputError(f"{len(extra)} property rows for {len(regions)} regions")
    geoms = rfc7946_geometries(np.array([region_geometry(r) for r in regions] + [None], dtype=object)[:-1])
    feats = []
    for r, g, p in zip(regions, geoms, extra):
        base = {"key": r.key, "name": r.name, "kind": r.kind}
        if r.kind == "cells":
            base["h3_res"] = r.cells_res
        feats.append(feature(g, {**base, **p}, id=r.key))
    return feature_collection(feats, **members)


# ---- routes -------------------------------------------------------------------------------
def route_feature_collection(run: Any, **members: Any) -> dict:
    """A :class:`~leonet.network.run.RouteRun` as features: a Point per endpoint (``kind``
    'endpoint'), and per (instant, pair) the route as a LineString (MultiLineString across the
    antimeridian) over the ground under each node and link, with ``time_utc, src, dst, hops,
    rtt_ms, length_m`` and ``path`` (node names) and ``node_kinds``; an unreachable pair keeps
    its feature with ``"geometry": null``. Satellite positions are the run's satellites at each
    instant (:meth:`~leonet.orbits.satellites.Satellites.at_pairs`)."""
    from leonet.times import format_time

    r = run.routes
    kept = r.kept_paths()
    cols = run.node_columns()
    kinds, names = np.asarray(cols["kind"], dtype=object), np.asarray(cols["name"], dtype=object)
    n_sats = len(run.satellites)
    ground = [run.endpoints, run.router.gateways, run.router.pops]
    ground_xyz = np.concatenate([np.asarray(g.itrf_km, dtype=np.float64).reshape(-1, 3) for g in ground]) if ground else np.zeros((0, 3))
    feats = [feature({"type": "Point", "coordinates": [float(lo), float(la)]}, {"kind": "endpoint", "name": str(n), "node": n_sats + k})
             for k, (la, lo, n) in enumerate(zip(run.endpoints.lat_deg, run.endpoints.lon_deg, names[n_sats:n_sats + len(run.endpoints)]))]
    # Every satellite node of every path at its instant, positioned in one call.
    paths: list[tuple[int, int, np.ndarray]] = []
    for k in range(len(r.t_ns)):
        rows, h = kept[k], r.hops[k]
        for p in range(h.size):
            paths.append((k, p, rows[p, -(h[p] + 1):] if h[p] >= 0 else np.zeros(0, np.int64)))
    sat_nodes = [(k, node) for k, _, nodes in paths for node in nodes if node < n_sats]
    sat_xyz = {}
    if sat_nodes:
        idx = np.array([s for _, s in sat_nodes], dtype=np.int64)
        t = r.t_ns[np.array([k for k, _ in sat_nodes], dtype=np.int64)]
        xyz = run.satellites.at_pairs(idx, t, serving_only=False)
        sat_xyz = {(int(k), int(s)): xyz[i] for i, (k, s) in enumerate(sat_nodes)}
    times = np.atleast_1d(format_time(r.t_ns))
    for k, p, nodes in paths:
        props = {"time_utc": str(times[k]), "src": str(names[r.src_id[p]]), "dst": str(names[r.dst_id[p]]),
                 "hops": int(r.hops[k, p]) if r.hops[k, p] >= 0 else None, "rtt_ms": r.rtt_ms[k, p], "length_m": r.length_m[k, p],
                 "path": [str(names[n]) for n in nodes], "node_kinds": [str(kinds[n]) for n in nodes]}
        geom = None
        if nodes.size >= 2:
            xyz = np.stack([sat_xyz[(k, int(n))] if n < n_sats else ground_xyz[int(n) - n_sats] for n in nodes])
            if np.isfinite(xyz).all():
                lat, lon = great_circle_vertices(xyz)
                geom = split_line(lon, lat)
        feats.append(feature(geom, props))
    return feature_collection(feats, **members)


# ---- writing ------------------------------------------------------------------------------
def write_geojson(doc: Mapping[str, Any], path: str | Path) -> int:
    """Write a GeoJSON document (compact, UTF-8, ``allow_nan`` off: a NaN is a bug) atomically;
    returns the number of features."""
    from leonet.export.files import write_text

    write_text(json.dumps(doc, separators=(",", ":"), allow_nan=False, ensure_ascii=False), path)
    return len(doc.get("features", ()))


__all__ = [
    "ROUTE_MAX_STEP_DEG", "cells_feature_collection", "cells_table_feature_collection", "feature", "feature_collection",
    "great_circle_vertices", "json_value", "property_rows", "region_geometry", "regions_feature_collection", "rfc7946_geometries",
    "route_feature_collection", "split_line", "write_geojson",
]
