"""Service policy: rule order, schedules, memberships and the effective-service invariants."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.errors import InputError
from leonet.ground.cells import cells_to_country, country_cells
from leonet.ground.regions import Region
from leonet.policy.model import ServicePolicy
from leonet.times import parse_time

RES = 4


@pytest.fixture(scope="module")
def cells() -> np.ndarray:
    return np.concatenate([country_cells("TWN", RES), country_cells("PHL", RES), country_cells("JPN", RES)])


def test_default_active_everywhere(cells: np.ndarray) -> None:
    t = np.array([0, 10**9])
    assert ServicePolicy.active_everywhere().active(cells, RES, t).all()
    assert not ServicePolicy(False).active(cells, RES, t).any()


def test_deactivate_country_only_touches_its_cells(cells: np.ndarray) -> None:
    twn = Region.country("TW")
    pol = ServicePolicy.active_everywhere().deactivate(twn)
    act = pol.active(cells, RES, np.array([0]))[:, 0]
    member = twn.member_mask(cells, RES)
    assert member.sum() >= len(country_cells("TWN", RES))
    assert not act[member].any() and act[~member].all()
    # every cell the reports give to TWN is governed by the TWN rule; the extra members are
    # cells touched by islands too small to hold a cell centre (Kinmen at res 4)
    assert member[cells_to_country(cells) == "TWN"].all()
    extra = cells[member & (cells_to_country(cells) != "TWN")]
    assert np.isin(extra, country_cells("TWN", RES)).all()


def test_later_rules_win_and_schedules_apply(cells: np.ndarray) -> None:
    t = parse_time("2025-01-01T00:00:00Z") + np.arange(4) * 3600 * 10**9
    twn = Region.country("TWN")
    pol = (ServicePolicy.active_everywhere()
           .deactivate(twn, start="2025-01-01T01:00:00Z")
           .activate(twn, start="2025-01-01T02:00:00Z", end="2025-01-01T03:00:00Z"))
    m = twn.member_mask(cells, RES)
    act = pol.active(cells, RES, t)
    assert act[m].all(axis=0).tolist() == [True, False, True, False]
    assert act[~m].all()


def test_active_only_in_and_licensed(cells: np.ndarray) -> None:
    pol = ServicePolicy.active_only_in(["PHL", "JP"])
    act = pol.active(cells, RES, np.array([0]))[:, 0]
    country = cells_to_country(cells)
    assert act[country == "PHL"].all() and act[country == "JPN"].all() and not act[country == "TWN"].any()
    lic = ServicePolicy.active_where_licensed()
    act = lic.active(cells, RES, np.array([0]))[:, 0]
    assert not act[country == "TWN"].any() and act[country == "JPN"].all()
    assert "licensed" in lic.name


def test_cell_set_region_and_errors() -> None:
    c = country_cells("TWN", RES)[:3]
    reg = Region.cell_set(c, RES, "three cells")
    pol = ServicePolicy.active_everywhere().deactivate(reg)
    act = pol.active(country_cells("TWN", RES), RES, np.array([0]))[:, 0]
    assert (~act).sum() == 3
    with pytest.raises(InputError, match="resolution"):
        reg.cells_at(5)
    with pytest.raises(InputError, match="empty"):
        Region.cell_set([], RES, "none")
    with pytest.raises(InputError, match="must be after"):
        ServicePolicy.active_everywhere().deactivate(reg, start="2025-01-02", end="2025-01-01")
    with pytest.raises(InputError):
        Region.country("Atlantis")
