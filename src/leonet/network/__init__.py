"""Network: shells/planes/slots from element sets, +Grid lasers, ground links, routing and latency.

Kernels take and return arrays; files and the CLI live elsewhere (``leonet.cli.network``).
"""

from leonet.network.hypatia import HypatiaScenario, read_hypatia
from leonet.network.links import (
    DEFAULT_ISL_MAX_RANGE_KM,
    DEFAULT_MIN_GRAZING_ALT_KM,
    GroundLinks,
    ground_links,
    laser_geometry,
    laser_links_up,
    max_range_for_grazing_km,
    plus_grid,
)
from leonet.network.routing import (
    MODES,
    LinkRule,
    Router,
    Routes,
    StepRoutes,
    endpoint_activity,
    fibre_rtt_ms,
    route_series,
)
from leonet.network.shells import ShellAssignment, ShellInfo, elements_at_epoch, infer_shells, infer_shells_arrays

__all__ = [
    "DEFAULT_ISL_MAX_RANGE_KM", "DEFAULT_MIN_GRAZING_ALT_KM", "MODES",
    "GroundLinks", "HypatiaScenario", "LinkRule", "Router", "Routes", "ShellAssignment", "ShellInfo", "StepRoutes",
    "elements_at_epoch", "endpoint_activity", "fibre_rtt_ms", "ground_links", "infer_shells", "infer_shells_arrays",
    "laser_geometry", "laser_links_up", "max_range_for_grazing_km", "plus_grid", "read_hypatia", "route_series",
]
