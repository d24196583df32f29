"""The service policy: regions active or inactive over time intervals.

A policy has a default (active everywhere, or inactive everywhere as in "active where
licensed") and an ordered list of rules ``(region, active, [start, end))`` over
:class:`~leonet.ground.regions.Region` s; at each instant a cell takes the state of the last
rule that covers it, else the default. A cell can belong to two regions; the later rule decides.

Effective service per (cell, time) = at least one satellite in view AND the cell active.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from leonet.errors import InputError
from leonet.ground.regions import Region
from leonet.times import format_time, parse_time

_FAR_PAST = np.iinfo(np.int64).min
_FAR_FUTURE = np.iinfo(np.int64).max


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
    def active_everywhere(cls) -> ServicePolicy:
        return cls(True, (), "active everywhere")

    @classmethod
    def active_only_in(cls, countries: Iterable[str], name: str = "active where licensed") -> ServicePolicy:
        """Inactive by default; the listed countries (ISO codes or names) are active."""
        codes = list(countries)
        if not codes:
            raise InputError("give at least one country to activate")
        return cls(False, tuple(Rule(Region.country(c), True) for c in codes), name)

    @classmethod
    def active_where_licensed(cls) -> ServicePolicy:
        """The documented list in :mod:`leonet.policy.licensed`."""
        from leonet.ground.borders import load_countries
        from leonet.policy.licensed import LICENSED_AS_OF, LICENSED_ISO3

        known = set(load_countries().iso_a3.tolist())
        return cls.active_only_in(sorted(LICENSED_ISO3 & known), f"active where licensed (list as of {LICENSED_AS_OF})")

    def with_rule(self, region: Region, active: bool, start: str | int | None = None, end: str | int | None = None) -> ServicePolicy:
        """A new policy with one more rule (it takes precedence over earlier ones)."""
        rule = Rule(region, active, None if start is None else parse_time(start), None if end is None else parse_time(end))
        return ServicePolicy(self.default_active, self.rules + (rule,), f"{self.name}; {rule.describe()}")

    def deactivate(self, region: Region, start: str | int | None = None, end: str | int | None = None) -> ServicePolicy:
        return self.with_rule(region, False, start, end)

    def activate(self, region: Region, start: str | int | None = None, end: str | int | None = None) -> ServicePolicy:
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
