"""Fixtures shared by the imaging tests: a 40-satellite sample of the 2024-10-23 Starlink snapshot."""

from __future__ import annotations

import numpy as np
import pytest

SNAP = "tle/starlink_20241023_celestrak_gp.tle"


@pytest.fixture(scope="module")
def starlink(tle_snapshot):
    """40 satellites spread evenly over the snapshot's catalogue order."""
    c = tle_snapshot(SNAP).constellation
    return c.take(np.linspace(0, len(c) - 1, 40).astype(np.int64))
