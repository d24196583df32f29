"""The CLI contract: columns, errors and exit codes that scripts rely on."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from refdata import data_dir

from leonet.cli.main import cli

DATA = data_dir()
SNAP = DATA / "tle" / "starlink_20241023_celestrak_gp.tle"
ACTIVE = DATA / "tle" / "active_20260822_celestrak_gp.tle"
needs_data = pytest.mark.skipif(not SNAP.is_file(), reason=f"reference data not found in {DATA}")


def run(*args: str) -> click.testing.Result:  # noqa: F821
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_every_command_has_help() -> None:
    res = run("--help")
    assert res.exit_code == 0
    commands = [line.split()[0] for line in res.output.split("Commands:")[1].strip().splitlines()]
    assert {"info", "propagate", "overhead", "shells", "demo"} <= set(commands)
    for name in commands:
        sub = run(name, "--help")
        assert sub.exit_code == 0, name
        assert "Usage:" in sub.output


@needs_data
def test_propagate_csv_itrf_columns(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    res = run("propagate", str(SNAP), "--start", "2024-10-23T00:00:00Z", "--duration", "10min", "--step", "60s",
              "--sats", "44714,44715", "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["norad_id", "time_utc", "x_km", "y_km", "z_km", "error"]
    assert len(rows) == 2 * 10
    assert rows[0]["time_utc"] == "2024-10-23T00:00:00Z" and rows[1]["time_utc"] == "2024-10-23T00:01:00Z"
    r = sum(float(rows[0][k]) ** 2 for k in ("x_km", "y_km", "z_km")) ** 0.5
    assert 6700 < r < 7000
    assert all(row["error"] == "" for row in rows)


def test_propagate_geodetic_parquet_preset(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    res = run("propagate", "--preset", "oneweb", "--start", "2025-01-01T00:00:00Z", "--duration", "2min", "--step", "30s",
              "--frame", "geodetic", "--format", "parquet", "-o", str(out))
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    assert t.column_names == ["norad_id", "time_utc", "lat_deg", "lon_deg", "alt_km", "error"]
    assert t.num_rows == 720 * 4
    alts = t.column("alt_km").to_numpy()
    assert 1150 < alts.min() and alts.max() < 1250  # 1,200 km shell over the WGS84 ellipsoid


@needs_data
def test_propagate_keeps_failed_rows_with_error(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    res = run("propagate", str(ACTIVE), "--start", "2026-08-22T00:00:00Z", "--duration", "3d", "--step", "6h",
              "--sats", "46129", "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 12  # no row dropped
    bad = [r for r in rows if r["error"]]
    assert bad, "object 46129 fails SGP4 within three days of 2026-08-22"
    assert all(r["x_km"] == "" and r["error"].split(":")[0].isdigit() for r in bad)


def test_propagate_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    res = run("propagate", "--preset", "oneweb", "--start", "yesterday-ish", "--duration", "1h", "--step", "60s",
              "--format", "csv", "-o", str(tmp_path / "x.csv"))
    assert res.exit_code == 1
    assert "cannot read time 'yesterday-ish'" in res.output
    res = run("propagate", "--preset", "nope", "--start", "2025-01-01", "--duration", "1h", "--step", "60s",
              "--format", "csv", "-o", str(tmp_path / "x.csv"))
    assert res.exit_code == 1 and "unknown preset 'nope'" in res.output
    res = run("propagate", "--start", "2025-01-01", "--duration", "1h", "--step", "60s", "--format", "csv", "-o", "x.csv")
    assert res.exit_code == 1 and "--preset" in res.output
    res = run("propagate", str(tmp_path / "missing.tle"), "--start", "2025-01-01", "--duration", "1h", "--step", "60s",
              "--format", "csv", "-o", "x.csv")
    assert res.exit_code == 1 and "not found" in res.output


@needs_data
def test_overhead_sorted_and_above_mask() -> None:
    res = run("overhead", str(SNAP), "--lat", "25.03", "--lon", "121.56", "--time", "2024-10-23T00:00:00Z",
              "--min-elevation-deg", "30", "--format", "csv")
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if ln and ln[0].isdigit()]
    els = [float(ln.split(",")[3]) for ln in lines]
    assert els and min(els) >= 30 and els == sorted(els, reverse=True)


@needs_data
def test_info_reports_counts_and_rejections(tmp_path: Path) -> None:
    text = SNAP.read_text().splitlines()
    bad = text[:7] + [text[7][:20] + "X" + text[7][21:]] + text[8:12]  # 4 records, the third one corrupted
    f = tmp_path / "mixed.tle"
    f.write_text("\n".join(bad) + "\n")
    res = run("info", str(f))
    assert res.exit_code == 0, res.output
    assert "records read 4, accepted 3, rejected 1" in res.output
    assert f"{f}:8" in res.output  # file and line of the bad line


def test_shells_lists_presets() -> None:
    res = run("shells")
    assert res.exit_code == 0
    for name in ("starlink-gen1", "starlink-gen2", "kuiper", "oneweb"):
        assert name in res.output
