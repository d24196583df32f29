"""Sweep files: axes checked before any work; one dataset with the axes as columns."""

from __future__ import annotations

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from scale_support import write_small

from leonet.errors import InputError
from leonet.scale.run import execute, plan_sweep
from leonet.scale.sweep import load_sweep


def write_sweep(tmp_path, axes: str) -> object:
    write_small(tmp_path, duration="1h")
    p = tmp_path / "sweep.toml"
    p.write_text(f'[sweep]\nscenario = "small.toml"\n[axes]\n{axes}\n[output]\ndir = "{tmp_path / "out"}"\n')
    return p


def test_sweep_over_masks_and_shells(tmp_path):
    p = write_sweep(tmp_path, 'min_elevation_deg = [25, 40]\nshells = ["starlink-gen1", "oneweb"]')
    spec = load_sweep(p)
    assert len(spec) == 4
    out = execute(plan_sweep(spec, chunk_instants=30))
    assert out.computed == 8
    summary = pq.read_table(tmp_path / "out" / "summary.parquet").to_pandas()
    assert list(summary.columns[:3]) == ["variant", "min_elevation_deg", "shells"]
    twn = summary[summary.region == "TWN"].set_index(["min_elevation_deg", "shells"])
    # A lower mask sees more satellites; each variant is its own scenario run.
    for shells in ("starlink-gen1", "oneweb"):
        assert twn.loc[(25, shells), "sats_in_view_mean"] > twn.loc[(40, shells), "sats_in_view_mean"]
    assert twn.loc[(25, "starlink-gen1"), "sats_in_view_mean"] > twn.loc[(25, "oneweb"), "sats_in_view_mean"]
    ts = ds.dataset(tmp_path / "out" / "timeseries", partitioning="hive").to_table().to_pandas()
    assert set(ts["variant"]) == {0, 1, 2, 3} and {"min_elevation_deg", "shells"} <= set(ts.columns)
    assert len(ts) == 4 * 60 * ts["region"].nunique()
    con = duckdb.connect(str(tmp_path / "out" / "leonet.duckdb"), read_only=True)
    n = con.execute("SELECT count(DISTINCT (min_elevation_deg, shells)) FROM cells").fetchone()[0]
    assert n == 4
    # The same variant alone gives the same numbers (a sweep is runs side by side).
    from leonet.jobs.regional import run_scenario

    alone = run_scenario(next(sc for axes, sc in spec.variants() if dict(axes) == {"min_elevation_deg": 40, "shells": "oneweb"}))
    row = next(r for r in alone.summary() if r["region"] == "TWN")
    assert row["sats_in_view_mean"] == twn.loc[(40, "oneweb"), "sats_in_view_mean"]
    assert row["served_time_percent"] == twn.loc[(40, "oneweb"), "served_time_percent"]


@pytest.mark.parametrize("axes, message", [
    ("", r"\[axes\] is empty"),
    ("min_elevation_deg = []", "non-empty list"),
    ("colour = [1]", "unknown axis 'colour'"),
    ("snap = [{ elements = \"a.tle\" }, { start = \"2025-01-01T00:00:00Z\" }]", "same keys"),
    ("min_elevation_deg = [25, 95]", r"min_elevation_deg = 95.*must be in 0..90"),
    ("shells = [\"starlink-gen9\"]", "starlink-gen9"),
    ("policy = [\"maybe\"]", "maybe"),
    ("min_elevation_deg = [25, 25]", "twice"),
])
def test_bad_sweeps_are_named(tmp_path, axes, message):
    with pytest.raises(InputError, match=message):
        load_sweep(write_sweep(tmp_path, axes))


def test_missing_scenario_is_named(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[sweep]\nscenario = "nope.toml"\n[axes]\nstep = ["60s"]\n')
    with pytest.raises(InputError, match="nope.toml not found"):
        load_sweep(p)


def test_linked_axis_changes_keys_together(tmp_path):
    p = write_sweep(tmp_path, 'snapshot = [{ shells = "oneweb", start = "2025-01-01T00:00:00Z" }, { shells = "kuiper", start = "2025-01-02T00:00:00Z" }]')
    variants = list(load_sweep(p).variants())
    assert [dict(a) for a, _ in variants] == [{"shells": "oneweb", "start": "2025-01-01T00:00:00Z"}, {"shells": "kuiper", "start": "2025-01-02T00:00:00Z"}]
    assert [(sc.preset, sc.start) for _, sc in variants] == [("oneweb", "2025-01-01T00:00:00Z"), ("kuiper", "2025-01-02T00:00:00Z")]
