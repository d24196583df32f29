"""leonet: a digital twin of Starlink-scale satellite constellations.

The front door, for notebooks and scripts (the ``leonet`` command calls the same functions)::

    import leonet
    c = leonet.load("../shared/data/tle/starlink_20241023_celestrak_gp.tle")  # files, URLs, celestrak:GROUP, preset:NAME
    grid = leonet.TimeGrid("2024-10-23T00:00:00Z", "1h", "60s")
    st = c.at(grid)                                   # States: .itrf_km (sats, times, 3), .error, .to_xarray()
    cov = leonet.coverage(c, ["TWN"], grid, h3_res=5, min_elevation_deg=25)
    r = leonet.route(c, "Taipei", "London", grid, mode="isl")
    cap = leonet.capacity(c, ["TWN", "PHL"], leonet.TimeGrid("2024-10-23T00:00:00Z", "1min", "15s"), inactive="TWN")
    p = leonet.passes(c, lat_deg=25.03, lon_deg=121.56, start="2024-10-23T00:00:00Z", duration="6h")
    run = leonet.run_scenario("examples/taiwan.toml")

The package is split into pipeline stages that import one way only (the import-linter
contract in pyproject.toml): ``constants``/``times`` -> ``orbits`` (kernels, the
:class:`Satellites` interface) -> ``sources`` (element sets, :class:`Constellation`) ->
``deployment`` -> ``ground`` -> ``policy`` -> ``coverage`` | ``control`` -> ``network`` ->
``imaging`` | ``capacity`` -> ``jobs`` -> ``export`` | ``reports`` -> ``api`` (this front door) -> ``cli``.
Names are imported on first use, so ``import leonet`` stays fast.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

from leonet.version import __version__  # noqa: E402,F401  (re-exported)

# name -> module that defines it (imported lazily by __getattr__).
_EXPORTS = {
    "load": "leonet.api",
    "route": "leonet.api",
    "route_hypatia": "leonet.api",
    "passes": "leonet.api",
    "run_scenario": "leonet.api",
    "write_scenario": "leonet.api",
    "export_czml": "leonet.api",
    "regions_geojson": "leonet.api",
    "Coverage": "leonet.api",
    "Capacity": "leonet.api",
    "Route": "leonet.api",
    "PassList": "leonet.api",
    "ScenarioRun": "leonet.jobs.regional",
    "TimeGrid": "leonet.times",
    "parse_time": "leonet.times",
    "parse_duration": "leonet.times",
    "format_time": "leonet.times",
    "Satellites": "leonet.orbits.satellites",
    "join": "leonet.orbits.satellites",
    "States": "leonet.orbits.propagate",
    "Constellation": "leonet.sources.constellation",
    "LaunchBatch": "leonet.deployment.batch",
    "LaunchBatches": "leonet.deployment.batch",
    "Region": "leonet.ground.regions",
    "ServicePolicy": "leonet.policy.model",
    "LeonetError": "leonet.errors",
    "InputError": "leonet.errors",
}

__all__ = sorted([*_EXPORTS, "capacity", "coverage"]) + ["__version__"]


class _CallableStage(types.ModuleType):
    """``leonet.coverage`` and ``leonet.capacity`` are both a stage's package
    (``leonet.coverage.regional``, ``leonet.capacity.run`` ...) and the front-door function of
    the same name: calling the package runs :func:`leonet.api.coverage` /
    :func:`leonet.api.capacity`. (Python binds a subpackage to its parent's attribute of the
    same name, so a plain function ``leonet.coverage`` would be replaced as soon as the stage is
    imported.)"""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import leonet.api

        return getattr(leonet.api, self.__name__.rsplit(".", 1)[1])(*args, **kwargs)


import leonet.capacity as _capacity_stage  # noqa: E402  (its __init__ is one docstring)
import leonet.coverage as _coverage_stage  # noqa: E402  (its __init__ is one docstring)

_coverage_stage.__class__ = _CallableStage
_capacity_stage.__class__ = _CallableStage


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'leonet' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
