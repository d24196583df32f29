"""Regions on the ground: a country, a polygon or an explicit set of H3 cells.

A cell belongs to a region when it is one of the region's cells at that H3 resolution
(:func:`leonet.ground.cells.region_cells`, 'hybrid' rule: cells whose centre is inside, plus
every cell touched by a part of the region too small to hold a cell centre, so small islands
count), and for a country also the cells :func:`leonet.ground.cells.cells_to_country` gives it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leonet.errors import InputError


@dataclass(frozen=True, eq=False)
class Region:
    """A country (ISO code), a polygon (shapely, lon/lat degrees) or an explicit cell set.

    ``cells`` are H3 ids (uint64) at ``cells_res``; a cell set only resolves at that resolution.
    """

    kind: str
    key: str
    name: str
    geometry: object | None = None
    cells: np.ndarray | None = None
    cells_res: int | None = None

    @classmethod
    def country(cls, code: str) -> Region:
        from leonet.ground.borders import load_countries

        rec = load_countries().lookup(code)
        return cls("country", rec.iso_a3 or rec.name, rec.name, geometry=rec.geometry)

    @classmethod
    def polygon(cls, geometry: object, name: str) -> Region:
        return cls("polygon", name, name, geometry=geometry)

    @classmethod
    def geojson(cls, path: str | Path, name: str | None = None) -> Region:
        """A user's own region: the union of the polygons in a GeoJSON file."""
        import shapely

        from leonet.ground.borders import load_regions_geojson

        p = Path(path)
        if not p.is_file():
            raise InputError(f"GeoJSON region file {p} not found")
        regions = load_regions_geojson(p)
        geom = shapely.union_all(regions.geometries)
        if geom.is_empty:
            raise InputError(f"{p}: the GeoJSON holds no polygon area")
        return cls("polygon", name or p.stem, name or p.stem, geometry=geom)

    @classmethod
    def from_spec(cls, spec: str, base_dir: str | Path | None = None) -> Region:
        """A country code or name, or a path to a GeoJSON file (``*.geojson``/``*.json``,
        relative to ``base_dir``)."""
        if spec.lower().endswith((".geojson", ".json")):
            p = Path(spec)
            return cls.geojson(p if p.is_absolute() or base_dir is None else Path(base_dir) / p)
        return cls.country(spec)

    @classmethod
    def cell_set(cls, cells: Iterable[int], res: int, name: str) -> Region:
        arr = np.unique(np.asarray(list(cells), dtype=np.uint64))
        if not arr.size:
            raise InputError(f"cell set {name!r} is empty; give at least one H3 cell")
        return cls("cells", name, name, cells=arr, cells_res=res)

    def cells_at(self, res: int) -> np.ndarray:
        """This region's H3 cells at ``res`` (uint64, sorted, unique)."""
        if self.kind == "cells":
            if res != self.cells_res:
                raise InputError(f"region {self.name!r} is a set of resolution-{self.cells_res} cells; it cannot be used at resolution {res}")
            return self.cells  # type: ignore[return-value]
        return _region_cells_cached(self, res)

    def member_mask(self, cells: np.ndarray, res: int, country: np.ndarray | None = None) -> np.ndarray:
        """Which of ``cells`` (uint64, res ``res``) belong to this region: ``(cells,)`` bool.

        For a country this is also every cell that :func:`leonet.ground.cells.cells_to_country`
        gives to it (coastal cells whose centre is at sea but that overlap its land most), so
        that the policy and the per-country figures always count the same cells. Pass
        ``country`` (that function's answer for ``cells``) when it is already known.
        """
        mask = np.isin(cells, self.cells_at(res))
        if self.kind == "country" and cells.size:
            if country is None:
                from leonet.ground.cells import cells_to_country

                country = cells_to_country(cells)
            mask |= country == self.key
        return mask


# Country cells are cached by code (a scenario, the control plane and the CLI each build their
# own Region objects for the same country); other regions by object.
_COUNTRY_CELLS: dict[tuple[str, int], np.ndarray] = {}
_CELL_CACHE: weakref.WeakKeyDictionary[Region, dict[int, np.ndarray]] = weakref.WeakKeyDictionary()


def _region_cells_cached(region: Region, res: int) -> np.ndarray:
    from leonet.ground.cells import region_cells  # sorted and unique already

    if region.kind == "country":
        key = (region.key, res)
        if key not in _COUNTRY_CELLS:
            _COUNTRY_CELLS[key] = _country_cells(region, res)
        return _COUNTRY_CELLS[key]
    by_res = _CELL_CACHE.setdefault(region, {})
    if res not in by_res:
        by_res[res] = region_cells(region.geometry, res)
    return by_res[res]


def _country_cells(region: Region, res: int) -> np.ndarray:
    """A country's cells: the 'hybrid' cells of its borders plus the coastal cells whose centre
    is at sea but that overlap its land most (:func:`leonet.ground.cells.cells_to_country`), so
    that a country has one cell set whether it is studied alone or with its neighbours."""
    from leonet.ground.cells import cells_to_country, region_cells

    inner = region_cells(region.geometry, res)
    touched = np.setdiff1d(region_cells(region.geometry, res, contain="overlap"), inner)
    coast = touched[cells_to_country(touched) == region.key] if touched.size else touched
    return np.union1d(inner, coast)

