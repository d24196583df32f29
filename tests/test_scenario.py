"""Scenario files: validation messages name the key and allowed values; `leonet run` writes
tables, a DuckDB database and a report; `leonet coverage` keeps its column contract."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from leonet.cli.main import cli
from leonet.errors import InputError
from leonet.jobs import demo_scenario_path
from leonet.scenario import load_scenario

SMALL = """
[scenario]
name = "small"
[constellation]
preset = "starlink-gen1"
[time]
start = "2025-01-01T00:00:00Z"
duration = "20min"
step = "120s"
[coverage]
regions = ["TWN"]
neighbours_within_km = 100
h3_res = 4
[policy]
default = "active"
[[policy.rules]]
region = "TWN"
active = false
start = "2025-01-01T00:10:00Z"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_demo_scenario_is_valid() -> None:
    sc = load_scenario(demo_scenario_path())
    assert sc.regions == ("TWN",) and sc.h3_res == 5 and sc.min_elevation_deg == 25.0
    assert sc.duration == "24h" and sc.step == "60s"
    assert Path("examples/taiwan.toml").resolve() == demo_scenario_path().resolve() or not Path("examples").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (("h3_res = 4", "h3_res = 16"), "'h3_res' = 16 must be in 0..15"),
        (('default = "active"', 'default = "sometimes"'), "must be one of active, inactive, licensed"),
        (("[time]", "[times]"), "unknown section [times]"),
        (('duration = "20min"', 'duration = "twenty"'), "[time] duration"),
        (('preset = "starlink-gen1"', 'preset = "gen9"'), "is not one of starlink-gen1"),
        (("neighbours_within_km = 100", "neighbors_within_km = 100"), "unknown key(s) neighbors_within_km; allowed:"),
        (('regions = ["TWN"]', "regions = []"), "'regions' must be a non-empty list"),
        (("active = false", 'active = "no"'), "key 'active' must be a bool"),
    ],
)
def test_bad_scenarios_name_key_and_allowed_values(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(InputError) as exc:
        load_scenario(write(tmp_path, SMALL.replace(*change)))
    assert message in str(exc.value)
    assert str(tmp_path / "s.toml") in str(exc.value)


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[time\nstart="))


def test_run_writes_tables_database_and_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(write(tmp_path, SMALL)), "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    for name in ("timeseries.parquet", "cells.parquet", "regions.parquet", "leonet.duckdb", "report.html"):
        assert (out / name).is_file(), name
    con = duckdb.connect(str(out / "leonet.duckdb"), read_only=True)
    served = con.execute("SELECT max(cells_served) FROM timeseries WHERE region = 'TWN' AND time_utc >= '2025-01-01T00:10:00Z'").fetchone()[0]
    before = con.execute("SELECT min(cells_served) FROM timeseries WHERE region = 'TWN' AND time_utc < '2025-01-01T00:10:00Z'").fetchone()[0]
    assert served == 0 and before > 0
    assert "<img" in (out / "report.html").read_text()


def test_coverage_cli_contract(tmp_path: Path) -> None:
    out = tmp_path / "cov.csv"
    res = CliRunner().invoke(cli, ["coverage", "--preset", "starlink-gen1", "--region", "TWN,PHL", "--h3-res", "3",
                                   "--start", "2025-01-01T00:00:00Z", "--duration", "10min", "--step", "60s",
                                   "--format", "csv", "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["time_utc", "region", "cells", "cells_covered", "sats_in_view_min", "sats_in_view_mean",
                             "sats_in_view_max", "sats_overhead"]
    assert len(rows) == 10 * 2 and {r["region"] for r in rows} == {"TWN", "PHL"}
    assert rows[0]["time_utc"] == "2025-01-01T00:00:00Z"
    for r in rows:
        assert int(r["sats_in_view_min"]) <= float(r["sats_in_view_mean"]) <= int(r["sats_in_view_max"])
        assert 0 <= int(r["cells_covered"]) <= int(r["cells"])
    res = CliRunner().invoke(cli, ["coverage", "--preset", "starlink-gen1", "--region", "Narnia", "--start", "2025-01-01",
                                   "--duration", "1h", "--step", "60s", "--format", "csv", "-o", str(out)])
    assert res.exit_code == 2 and "Narnia" in res.output
