"""Shared fixtures: the read-only reference data folder and cached element-set snapshots.

The data folder is ``$LEONET_DATA_DIR`` if set, else ``../shared/data`` beside the checkout.
Tests that need it are skipped, with the reason, when it is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
from refdata import data_dir as reference_data_dir

from leonet.sources.constellation import Constellation
from leonet.sources.records import LoadReport, ParsedRecord
from leonet.sources.tle import parse_tle_text


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The reference data folder; skips the test when it is missing."""
    d = reference_data_dir()
    if not d.is_dir():
        pytest.skip(f"reference data folder {d} not found (set LEONET_DATA_DIR to the shared/data folder)")
    return d


@dataclass(frozen=True)
class Snapshot:
    """One element-set file as parsed by leonet: the raw records (with their two lines, for
    independent tools such as Skyfield), the load report and the resulting constellation."""

    path: Path
    records: tuple[ParsedRecord, ...]
    report: LoadReport
    constellation: Constellation


@lru_cache(maxsize=8)
def _load_tle_snapshot(path: Path) -> Snapshot:
    text = path.read_bytes().decode("utf-8")
    records, report = parse_tle_text(text, str(path))
    const = Constellation.from_records(records, report, label=path.stem)  # adds duplicates to report
    return Snapshot(path, tuple(records), report, const)


@pytest.fixture(scope="session")
def tle_snapshot(data_dir: Path) -> Callable[[str], Snapshot]:
    """``tle_snapshot('tle/starlink_20241023_celestrak_gp.tle')`` -> :class:`Snapshot` (cached);
    skips when that file is missing from the data folder."""

    def get(relpath: str) -> Snapshot:
        p = data_dir / relpath
        if not p.is_file():
            pytest.skip(f"reference file {p} not found in the data folder")
        return _load_tle_snapshot(p)

    return get
