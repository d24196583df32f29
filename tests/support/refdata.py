"""The reference data folder for tests: the project's own lookup, plus a skip when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from leonet.paths import data_dir

__all__ = ["data_dir", "ref_file"]


def ref_file(rel: str) -> Path:
    """A file under the reference data folder; skips the calling test when it is missing."""
    p = data_dir() / rel
    if not p.is_file():
        pytest.skip(f"reference file {p} not found (set LEONET_DATA_DIR to the shared/data folder)")
    return p
