"""The service policy: regions active or inactive over time intervals.

A policy has a default (active everywhere, or inactive everywhere as in "active where
licensed") and an ordered list of rules ``(region, active, [start, end))``; at each instant a
cell takes the state of the last rule that covers it, else the default. A cell belongs to a
region when it is one of the region's cells at that H3 resolution
(:func:`leonet.ground.cells.region_cells`, 'hybrid' rule: cells whose centre is inside, plus
every cell touched by a part of the region too small to hold a cell centre, so small islands
count), and for a country also the cells :func:`leonet.ground.cells.cells_to_country` gives it.
A cell can so belong to two regions; the later rule decides.

Effective service per (cell, time) = at least one satellite in view AND the cell active.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import weakref
from pathlib import Path

import numpy as np

from leonet.errors import InputError
from leonet.times import format_time, parse_time

_FAR_PAST = np.iinfo(np.int64).min
_FAR_FUTURE = np.iinfo(np.int64).max


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
    def country(cls, code: str) -> "Region":
        from leonet.ground.borders import load_countries

        rec = load_countries().lookup(code)
        return cls("country", rec.iso_a3 or rec.name, rec.name, geometry=rec.geometry)

    @classmethod
    def polygon(cls, geometry: object, name: str) -> "Region":
        return cls("polygon", name, name, geometry=geometry)

    @classmethod
    def geojson(cls, path: str | Path, name: str | None = None) -> "Region":
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
    def from_spec(cls, spec: str, base_dir: str | Path | None = None) -> "Region":
        """A country code or name, or a path to a GeoJSON file (``*.geojson``/``*.json``,
        relative to ``base_dir``)."""
        if spec.lower().endswith((".geojson", ".json")):
            p = Path(spec)
            return cls.geojson(p if p.is_absolute() or base_dir is None else Path(base_dir) / p)
        return cls.country(spec)

    @classmethod
    def cell_set(cls, cells: Iterable[int], res: int, name: str) -> "Region":
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
_CELL_CACHE: "weakref.WeakKeyDictionary[Region, dict[int, np.ndarray]]" = weakref.WeakKeyDictionary()


def _region_cells_cached(region: Region, res: int) -> np.ndarray:
    from leonet.ground.cells import region_cells  # sorted and unique already

    if region.kind == "country":
        key = (region.key, res)
        if key not in _COUNTRY_CELLS:
            _COUNTRY_CELLS[key] = region_cells(region.geometry, res)
        return _COUNTRY_CELLS[key]
    by_res = _CELL_CACHE.setdefault(region, {})
    if res not in by_res:
        by_res[res] = region_cells(region.geometry, res)
    return by_res[res]


@dataclass(frozen=True)
class Rule:
    """``region`` is ``active`` during ``[start_ns, end_ns)`` (None = unbounded)."""

    region: Region
    active: bool
    start_ns: int | None = None
    end_ns: int | None = None

    def __post_init__(self) -> None:
        if self.start_ns is not None and self.end_ns is not None and self.end_ns <= self.start_ns:
            raise InputError(
                f"rule for {self.region.name!r}: end {format_time(self.end_ns)} must be after start {format_time(self.start_ns)}"
            )

    def time_mask(self, t_ns: np.ndarray) -> np.ndarray:
        lo = _FAR_PAST if self.start_ns is None else self.start_ns
        hi = _FAR_FUTURE if self.end_ns is None else self.end_ns
        return (t_ns >= lo) & (t_ns < hi)

    def describe(self) -> str:
        when = ""
        if self.start_ns is not None or self.end_ns is not None:
            a = "-inf" if self.start_ns is None else format_time(self.start_ns)
            b = "+inf" if self.end_ns is None else format_time(self.end_ns)
            when = f" during [{a}, {b})"
        return f"{'activate' if self.active else 'deactivate'} {self.region.kind} {self.region.name}{when}"


@dataclass(frozen=True)
class ServicePolicy:
    """Default state plus ordered rules; see the module docstring."""

    default_active: bool = True
    rules: tuple[Rule, ...] = ()
    name: str = "active everywhere"

    @classmethod
    def active_everywhere(cls) -> "ServicePolicy":
        return cls(True, (), "active everywhere")

    @classmethod
    def active_only_in(cls, countries: Iterable[str], name: str = "active where licensed") -> "ServicePolicy":
        """Inactive by default; the listed countries (ISO codes or names) are active."""
        codes = list(countries)
        if not codes:
            raise InputError("give at least one country to activate")
        return cls(False, tuple(Rule(Region.country(c), True) for c in codes), name)

    @classmethod
    def active_where_licensed(cls) -> "ServicePolicy":
        """The documented list in :mod:`leonet.policy.licensed`."""
        from leonet.policy.licensed import LICENSED_AS_OF, LICENSED_ISO3

        from leonet.ground.borders import load_countries

        known = set(load_countries().iso_a3.tolist())
        return cls.active_only_in(sorted(LICENSED_ISO3 & known), f"active where licensed (list as of {LICENSED_AS_OF})")

    def with_rule(self, region: Region, active: bool, start: str | int | None = None, end: str | int | None = None) -> "ServicePolicy":
        """A new policy with one more rule (it takes precedence over earlier ones)."""
        rule = Rule(region, active, None if start is None else parse_time(start), None if end is None else parse_time(end))
        return ServicePolicy(self.default_active, self.rules + (rule,), f"{self.name}; {rule.describe()}")

    def deactivate(self, region: Region, start: str | int | None = None, end: str | int | None = None) -> "ServicePolicy":
        return self.with_rule(region, False, start, end)

    def activate(self, region: Region, start: str | int | None = None, end: str | int | None = None) -> "ServicePolicy":
        return self.with_rule(region, True, start, end)

    def active(self, cells: np.ndarray, res: int, t_ns: np.ndarray, country: np.ndarray | None = None) -> np.ndarray:
        """Activation state ``(cells, times)`` bool of H3 ``cells`` (uint64, res ``res``).

        ``country``: :func:`leonet.ground.cells.cells_to_country` of ``cells`` if known; else
        it is computed once here (not once per country rule)."""
        cells = np.asarray(cells, dtype=np.uint64)
        t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
        out = np.full((cells.size, t.size), self.default_active, dtype=bool)
        if country is None and cells.size and any(r.region.kind == "country" for r in self.rules):
            from leonet.ground.cells import cells_to_country

            country = cells_to_country(cells)
        for rule in self.rules:
            members = rule.region.member_mask(cells, res, country)
            when = rule.time_mask(t)
            if members.any() and when.any():
                out[np.ix_(members, when)] = rule.active
        return out

    @cached_property
    def regions(self) -> tuple[Region, ...]:
        return tuple(dict.fromkeys(r.region for r in self.rules))

    def describe(self) -> list[str]:
        return [f"default: {'active' if self.default_active else 'inactive'} everywhere"] + [r.describe() for r in self.rules]
