"""CLI contract of ``leonet fleet``, and the state in ``leonet info`` and ``leonet overhead``."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from refdata import data_dir

from leonet.cli.main import cli
from leonet.orbits.fleet import STATES

DATA = data_dir()
S2608 = DATA / "tle" / "starlink_20260822_celestrak_gp.tle"
S2605 = DATA / "tle" / "starlink_20260513_celestrak_supgp.tle"
S2501 = DATA / "tle" / "starlink_20250123_celestrak_gp.tle"
needs_data = pytest.mark.skipif(not S2608.is_file(), reason=f"reference data not found in {DATA}")
COLUMNS = ["norad_id", "name", "intl_designator", "shell", "state", "alt_km", "inclination_deg", "reason"]


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@needs_data
def test_fleet_csv_contract(tmp_path: Path) -> None:
    out = tmp_path / "fleet.csv"
    res = run("fleet", str(S2608), "--history", str(S2605), "--history", str(S2501), "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0] == ",".join(COLUMNS)  # the header as documented, unquoted
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == 10744
    assert {r["state"] for r in rows} <= set(STATES)
    assert sum(r["state"] == "dtc" for r in rows) == 639
    assert all(r["reason"] for r in rows if r["state"] != "operational")
    assert all(int(r["shell"]) >= 0 for r in rows if r["state"] == "operational")
    # The terminal shows the counts of every state.
    for s in STATES:
        assert s in res.output


@needs_data
def test_fleet_parquet_and_errors(tmp_path: Path) -> None:
    out = tmp_path / "fleet.parquet"
    assert run("fleet", str(S2501), "--format", "parquet", "-o", str(out)).exit_code == 0
    t = pq.read_table(out)
    assert t.column_names == COLUMNS and t.num_rows == 6909
    # A history snapshot newer than the file is refused before anything is written.
    bad = run("fleet", str(S2501), "--history", str(S2608), "--format", "csv", "-o", str(tmp_path / "x.csv"))
    assert bad.exit_code == 1 and "not older" in bad.output and not (tmp_path / "x.csv").exists()
    missing = run("fleet", str(tmp_path / "nope.tle"), "--format", "csv", "-o", str(tmp_path / "y.csv"))
    assert missing.exit_code == 1 and "nope.tle" in missing.output


@needs_data
def test_info_counts_per_state_and_overhead_state_column() -> None:
    res = run("info", str(S2608), "--json")
    assert res.exit_code == 0
    import json

    doc = json.loads(res.output)
    assert set(doc["states"]) == set(STATES) and sum(doc["states"].values()) == doc["satellites"] == 10744
    assert doc["states"]["dtc"] == 639
    res = run("info", str(S2608))
    assert "operational" in res.output and "639" in res.output
    ov = run("overhead", str(S2608), "--lat", "47.6", "--lon", "-122.3", "--time", "2026-08-22T00:00:00Z", "--format", "csv")
    assert ov.exit_code == 0
    lines = [ln for ln in ov.output.splitlines() if ln.startswith(("norad_id", "4", "5", "6"))]
    assert lines[0].split(",") == ["norad_id", "name", "azimuth_deg", "elevation_deg", "range_km", "altitude_km", "state"]
    assert all(ln.split(",")[-1] in STATES for ln in lines[1:]) and len(lines) > 10
