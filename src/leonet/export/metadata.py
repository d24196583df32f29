"""Run metadata: what produced an output (inputs, grid, mask, policy, version, command line),
stored in a ``run`` table and in each Parquet file's key-value metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from leonet.sources.constellation import Constellation
from leonet.times import TimeGrid, format_time
from leonet.version import __version__


def run_metadata(
    constellation: Constellation | None = None,
    grid: TimeGrid | None = None,
    *,
    command_line: str | None = None,
    **facts: object,
) -> dict[str, str]:
    """Key-value metadata of a run (all values text): ``leonet_version``, ``created_utc``,
    ``command_line`` (the CLI's argv, else '(Python API)'), the element-set ``sources`` with
    their epoch range and counts, the ``grid`` and any other ``facts`` (mask, policy, regions...;
    non-text values as JSON)."""
    out: dict[str, str] = {
        "leonet_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command_line": command_line if command_line is not None else "(Python API)",
    }
    if constellation is not None:
        first, last = constellation.epoch_range()
        out["sources"] = json.dumps(list(constellation.report.sources) or [constellation.label])
        out["satellites"] = str(len(constellation))
        out["element_epochs_utc"] = f"{first} .. {last}"
    if grid is not None:
        out["grid"] = json.dumps({"start_utc": str(format_time(grid.start_ns)), "step_s": grid.step_s, "instants": grid.count})
    for key, value in facts.items():
        if value is not None:
            out[key] = value if isinstance(value, str) else json.dumps(value, default=_plain)
    return out


def run_table(metadata: Mapping[str, str]) -> pa.Table:
    """The metadata as a two-column ``key, value`` table (the ``run`` table of a database)."""
    return pa.table({"key": list(metadata), "value": [metadata[k] for k in metadata]})


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


__all__ = ["run_metadata", "run_table"]
