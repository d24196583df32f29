"""Skyfield as an independent reference, offline: DE421 and the time scale from skyfield-data."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest

from leonet.times import NS_PER_S


def skyfield_loader():
    """``(skyfield.api, Loader over skyfield-data, builtin timescale)``; skips without Skyfield."""
    sf = pytest.importorskip("skyfield.api")
    sd = pytest.importorskip("skyfield_data")
    with warnings.catch_warnings():  # its bundled finals2000A.all is old; only DE421 is read here
        warnings.simplefilter("ignore", RuntimeWarning)
        path = sd.get_skyfield_data_path()
    loader = sf.Loader(path, verbose=False)
    return sf, loader, loader.timescale(builtin=True)


def utc_datetime(ns: int) -> datetime:
    """UTC ns -> an aware datetime (microseconds)."""
    return datetime.fromtimestamp(ns // NS_PER_S, UTC).replace(microsecond=(ns % NS_PER_S) // 1000)
