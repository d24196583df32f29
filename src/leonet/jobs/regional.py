"""A scenario file's run: its satellites, regions and policy in, regional coverage and service out.

Nothing here prints or writes files: :func:`run_scenario` returns a :class:`ScenarioRun`, and
the caller (:func:`leonet.run_scenario`, the CLI) writes it through :mod:`leonet.export` and
:mod:`leonet.reports`. Notes for the user (a fallback taken, launch batches joining) are kept in
``ScenarioRun.notes`` and also logged to the ``leonet`` logger.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from leonet.capacity.params import CapacityParams
from leonet.capacity.run import CapacityResult
from leonet.coverage.regional import AnalysisArea, RegionalResult, build_area, run_regional
from leonet.deployment.batch import LaunchBatch, LaunchBatches
from leonet.errors import InputError
from leonet.ground.regions import Region
from leonet.jobs.scenario import Scenario, load_scenario
from leonet.orbits.satellites import Satellites, join
from leonet.paths import data_dir
from leonet.policy.model import ServicePolicy
from leonet.sources.constellation import Constellation
from leonet.sources.load import load
from leonet.times import TimeGrid, format_time, parse_duration

log = logging.getLogger("leonet")


def demo_scenario_path() -> Path:
    """The packaged demo scenario (``examples/taiwan.toml`` in the repository links to it)."""
    return Path(str(resources.files("leonet.scenarios").joinpath("taiwan.toml")))


def _note(notes: list[str], text: str) -> None:
    notes.append(text)
    log.info(text)


def scenario_constellation(sc: Scenario, folder: Path | None = None, notes: list[str] | None = None) -> tuple[Constellation, str]:
    """The scenario's element sets and a label of where they came from. A relative file is read
    from the data folder; a missing file falls back to ``fallback_preset`` (with a note)."""
    notes = notes if notes is not None else []
    src = f"preset:{sc.preset}" if sc.preset else (sc.source or "")
    if not src.startswith(("preset:", "celestrak:", "http://", "https://")):
        p = Path(src)
        src = str(p if p.is_absolute() else (folder or data_dir()) / p)
        if not Path(src).is_file():
            if not sc.fallback_preset:
                raise InputError(f"element-set file {src} not found; set LEONET_DATA_DIR or give fallback_preset in [constellation]")
            _note(notes, f"{src} not found: using the filed {sc.fallback_preset} shells instead (fallback_preset)")
            src = f"preset:{sc.fallback_preset}"
    return load(src, epoch=sc.start), src


def scenario_satellites(sc: Scenario, constellation: Constellation, notes: list[str] | None = None) -> Satellites:
    """The satellites that serve: the constellation's satellites in the scenario's ``states``
    (default operational; the others are counted in a note), joined with its launch batches."""
    if sc.states is not None:
        from leonet.sources.fleet import serving

        s = serving(constellation, sc.states)
        constellation = s.constellation
        if notes is not None:
            _note(notes, s.describe())
    if not sc.launches:
        return constellation
    batches = LaunchBatches(tuple(LaunchBatch(**d) for d in sc.launches))
    if notes is not None:
        _note(notes, f"{len(batches)} satellites in {len(batches.batches)} launch batch(es) join as they reach their shells")
    return join(constellation, batches)


def scenario_policy(sc: Scenario) -> ServicePolicy:
    """The scenario's ``[policy]``: its default and its rules in order."""
    if sc.policy_default == "licensed":
        policy = ServicePolicy.active_where_licensed()
    elif sc.policy_default == "inactive":
        policy = ServicePolicy(False, (), "inactive everywhere")
    else:
        policy = ServicePolicy.active_everywhere()
    base = sc.path.parent if sc.path else None
    for rule in sc.policy_rules:
        policy = policy.with_rule(Region.from_spec(rule.region, base), rule.active, rule.start, rule.end)
    return policy


def scenario_grid(sc: Scenario) -> TimeGrid:
    return TimeGrid(sc.start, sc.duration, sc.step)


def scenario_area(sc: Scenario) -> AnalysisArea:
    """The target regions' cells and their neighbours' land cells within ``neighbours_within_km``."""
    targets = tuple(Region.from_spec(spec, sc.path.parent if sc.path else None) for spec in sc.regions)
    return build_area(targets, sc.h3_res, sc.neighbours_within_km)


@dataclass
class ScenarioRun:
    """A scenario's results: ``result`` under its policy and ``baseline`` with service active
    everywhere (same geometry), the ``constellation`` and all ``satellites`` used (launch batches
    included), where the element sets came from (``source``), ``notes`` for the user, wall
    ``seconds``, and ``paths`` of the files written (empty until written)."""

    scenario: Scenario
    result: RegionalResult
    baseline: RegionalResult
    constellation: Constellation
    satellites: Satellites
    source: str
    grid: TimeGrid
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    paths: dict[str, Path] = field(default_factory=dict)
    capacity: CapacityResult | None = None

    @property
    def area(self) -> AnalysisArea:
        return self.result.area

    def facts(self) -> dict[str, str]:
        """The run's inputs in words, for reports."""
        sc, res = self.scenario, self.result
        return {
            "constellation": f"{self.source} ({len(self.constellation):,} satellites)",
            "window": f"{format_time(self.grid.start_ns)} + {sc.duration} at {sc.step} ({self.grid.count:,} instants)",
            "cells": f"{len(self.area):,} H3 cells at resolution {sc.h3_res}",
            "elevation mask": f"{sc.min_elevation_deg:g} deg" + (f", max range {sc.max_range_km:g} km" if sc.max_range_km else ""),
            "policy": res.policy.name,
            "SGP4": res.sgp4_failures,
        }

    def summary(self) -> list[dict]:
        """Per region (targets first): the policy run's :meth:`~RegionalResult.region_summary`
        plus ``served_time_percent_all_active`` from the baseline."""
        base = {r["region"]: r for r in self.baseline.region_summary()}
        return [r | {"served_time_percent_all_active": base[r["region"]]["served_time_percent"]} for r in self.result.region_summary()]

    def border_effect(self) -> list[dict]:
        return self.result.border_effect(self.scenario.beam_radius_km)

    def add_capacity(self) -> CapacityResult | None:
        """The scenario's ``[capacity]`` section (:func:`scenario_capacity`), computed now if
        :func:`run_scenario` was told to leave it (``capacity=False``); None without a section."""
        if self.capacity is None and self.scenario.capacity is not None:
            started = time.perf_counter()
            self.capacity = scenario_capacity(self.scenario, self.satellites, self.area, self.result.policy)
            self.seconds += time.perf_counter() - started
        return self.capacity


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    folder: Path | None = None,
    policy_db: str | None = None,
    area: AnalysisArea | None = None,
    progress: Callable[[int], None] | None = None,
    capacity: bool = True,
) -> ScenarioRun:
    """Run a coverage scenario under its policy and, for comparison, with service active
    everywhere. ``scenario``: a :class:`~leonet.jobs.scenario.Scenario` or a TOML file;
    ``policy_db``: a control-plane database whose activation states apply over the scenario's
    own rules; ``area``: the cells, if already built (:func:`scenario_area`); ``progress``
    gets the number of instants done; ``capacity``: False leaves the ``[capacity]`` section
    to :meth:`ScenarioRun.add_capacity` (for a caller that overlaps it with other work)."""
    started = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    grid = scenario_grid(sc)
    policy = scenario_policy(sc)
    if policy_db:
        from leonet.control import load_policy

        # The store's activation states come after the scenario's rules, so they win.
        policy = load_policy(policy_db, default=policy)
    notes: list[str] = []
    const, source = scenario_constellation(sc, folder, notes)
    for note in const.stale_elements(grid.start_ns, int(grid.t_ns[-1]), allow=sc.allow_stale_elements):
        _note(notes, note)
    sats = scenario_satellites(sc, const, notes)
    area = area if area is not None else scenario_area(sc)
    res = run_regional(sats, area, grid.t_ns, policy, sc.min_elevation_deg, sc.max_range_km, progress=progress)
    # The comparison needs no new geometry: the same visibility with every cell active.
    base = dataclasses.replace(res, active=np.ones_like(res.active), policy=ServicePolicy.active_everywhere(), service_fom=res.coverage_fom)
    run = ScenarioRun(sc, res, base, const, sats, source, grid, notes)
    run.seconds = time.perf_counter() - started
    if capacity:
        run.add_capacity()  # adds its own time to run.seconds
    return run


def scenario_capacity_inputs(sc: Scenario) -> tuple[TimeGrid, CapacityParams]:
    """The grid (the first ``steps`` intervals from the scenario's start) and the
    :class:`~leonet.capacity.params.CapacityParams` of the ``[capacity]`` section: one home, so
    that one-shot and partitioned scenario runs compute the same thing."""
    spec = sc.capacity
    assert spec is not None
    grid = TimeGrid(sc.start, parse_duration(spec.step) * spec.steps, spec.step)
    params = CapacityParams(take_rate=spec.take_rate, busy_hour_mbps=spec.busy_hour_mbps, cells_per_beam=spec.cells_per_beam,
                            min_elevation_deg=sc.min_elevation_deg)
    return grid, params


def scenario_capacity(sc: Scenario, satellites: Satellites, area: AnalysisArea, policy: ServicePolicy) -> CapacityResult:
    """The ``[capacity]`` section: bandwidth per cell over its first ``steps`` intervals from
    the scenario's start, under the scenario's policy, with each rule's effect (the rule left
    out: for the demo, Taiwan active)."""
    from leonet.capacity.run import run_capacity
    from leonet.ground.gateways import load_gateways, packaged_gateways_path

    spec = sc.capacity
    grid, params = scenario_capacity_inputs(sc)
    return run_capacity(satellites, area, grid.t_ns, policy, load_gateways(packaged_gateways_path()), params, fairness=spec.fairness,
                        method=spec.method, backhaul=spec.backhaul)


__all__ = [
    "ScenarioRun", "demo_scenario_path", "run_scenario", "scenario_area", "scenario_capacity", "scenario_capacity_inputs", "scenario_constellation",
    "scenario_grid", "scenario_policy", "scenario_satellites",
]
