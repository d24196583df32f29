"""A small scenario for partitioned-run tests and its one-shot reference tables."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq

SMALL = """[scenario]
name = "small"
[constellation]
preset = "starlink-gen1"
[time]
start = "2025-01-01T00:00:00Z"
duration = "{duration}"
step = "60s"
[coverage]
regions = ["TWN"]
neighbours_within_km = 100
h3_res = 4
min_elevation_deg = {mask}
[policy]
default = "active"
[[policy.rules]]
region = "TWN"
active = false
start = "2025-01-01T00:50:00Z"
end = "2025-01-01T01:10:00Z"
"""


def write_small(folder: Path, duration: str = "2h", mask: float = 40, name: str = "small.toml") -> Path:
    p = folder / name
    p.write_text(SMALL.format(duration=duration, mask=mask))
    return p


@cache
def reference(duration: str = "2h", mask: float = 40) -> dict[str, pd.DataFrame]:
    """The one-shot run's tables (as `leonet run` writes them)."""
    import tempfile

    from leonet.export.tables import result_tables
    from leonet.jobs.regional import run_scenario

    with tempfile.TemporaryDirectory() as tmp:
        run = run_scenario(write_small(Path(tmp), duration, mask))
    return {k: v.to_pandas() for k, v in result_tables(run.result, run.baseline, run.scenario.beam_radius_km).items()}


def read_timeseries(folder: Path) -> pd.DataFrame:
    """The partitioned timeseries in chunk order, without the partition column."""
    t = ds.dataset(folder / "timeseries", partitioning="hive").to_table().to_pandas()
    return t.sort_values("chunk", kind="stable").drop(columns="chunk").reset_index(drop=True)


def assert_same_as_reference(folder: Path, duration: str = "2h", mask: float = 40) -> None:
    ref = reference(duration, mask)
    for name in ("cells", "regions", "border"):
        pd.testing.assert_frame_equal(pq.read_table(folder / f"{name}.parquet").to_pandas(), ref[name], check_exact=True)
    pd.testing.assert_frame_equal(read_timeseries(folder), ref["timeseries"], check_exact=True)
