"""Shared checks for the visibility kernel's tests (tests/coverage)."""

from __future__ import annotations

import numpy as np

from leonet.coverage.visibility import Visibility


def assert_same(a: Visibility, b: Visibility) -> None:
    """Identical counts, CSR pairs and max elevations (when present)."""
    np.testing.assert_array_equal(a.counts, b.counts)
    assert a.counts.dtype == np.uint16
    if a.offsets is not None or b.offsets is not None:
        np.testing.assert_array_equal(a.offsets, b.offsets)
        np.testing.assert_array_equal(a.sat_index, b.sat_index)
        assert a.sat_index is not None and a.sat_index.dtype == np.int32
    if a.max_elevation_deg is not None or b.max_elevation_deg is not None:
        np.testing.assert_array_equal(a.max_elevation_deg, b.max_elevation_deg)
