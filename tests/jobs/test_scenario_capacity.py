"""The ``[capacity]`` section of scenario files."""

from __future__ import annotations

import pytest

from leonet.errors import InputError
from leonet.jobs.regional import demo_scenario_path
from leonet.jobs.scenario import CapacitySpec, load_scenario, parse_scenario

BASE = {"constellation": {"preset": "starlink-gen1"}, "time": {"start": "2024-10-23T00:00:00Z", "duration": "1h", "step": "60s"},
        "coverage": {"regions": ["TWN"]}}


def test_defaults_and_the_demo() -> None:
    sc = parse_scenario({**BASE, "capacity": {}})
    assert sc.capacity == CapacitySpec()
    assert parse_scenario(BASE).capacity is None
    demo = load_scenario(demo_scenario_path()).capacity
    assert demo is not None and demo.method == "approx" and demo.steps <= 4  # the demo's capacity part stays cheap


@pytest.mark.parametrize(("section", "needle"), [
    ({"fairness": "fair"}, "'fairness'"),
    ({"method": "exact"}, "'method'"),
    ({"take_rate": 0.0}, "'take_rate'"),
    ({"take_rate": 2}, "'take_rate'"),
    ({"steps": 0}, "'steps'"),
    ({"step": "soon"}, "step"),
    ({"cells_per_beam": 0}, "'cells_per_beam'"),
    ({"backhaul": "yes"}, "'backhaul'"),
    ({"beams": 3}, "unknown key(s) beams"),
])
def test_bad_keys_name_themselves(section: dict, needle: str) -> None:
    with pytest.raises(InputError, match=r"\[capacity\]") as e:
        parse_scenario({**BASE, "capacity": section})
    assert needle in str(e.value)
