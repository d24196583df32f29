"""Scenario files: validation messages name the key and allowed values; `leonet run` writes
tables, a DuckDB database and a report; `leonet coverage` keeps its column contract."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from leonet.cli.main import cli
from leonet.errors import InputError
from leonet.jobs.regional import demo_scenario_path
from leonet.jobs.scenario import load_scenario

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
    assert res.exit_code == 1 and "Narnia" in res.output


def test_policy_db_drives_coverage_and_run(tmp_path: Path) -> None:
    """The twin reads the policy in force from the control-plane store at each simulated time."""
    url = f"sqlite:///{tmp_path / 'control.db'}"
    run = lambda *a: CliRunner().invoke(cli, list(a), catch_exceptions=False)  # noqa: E731
    admin = run("db", "init", "--db", url).stdout.strip().splitlines()[-1]
    code = CliRunner().invoke(cli, ["user", "add", "op", "--role", "operator", "--db", url], env={"LEONET_TOKEN": admin}).stdout.strip().splitlines()[-1]
    op = CliRunner().invoke(cli, ["user", "enrol", "op", "--db", url], input=code + "\n").stdout.strip().splitlines()[-1]
    assert run("policy", "add-region", "taiwan", "--country", "TWN", "--db", url, "--token", op).exit_code == 0
    res = run("policy", "set", "taiwan", "--deactivate", "--reason", "not licensed", "--from", "2025-01-01T00:05:00Z", "--backdate",
              "--db", url, "--token", op)
    assert res.exit_code == 0, res.output
    out = tmp_path / "cov.csv"
    res = run("coverage", "--preset", "starlink-gen1", "--region", "TWN", "--h3-res", "3", "--start", "2025-01-01T00:00:00Z",
              "--duration", "10min", "--step", "60s", "--policy-db", url, "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    covered = [int(r["cells_covered"]) for r in rows]
    assert all(c > 0 for c in covered[:5]) and all(c == 0 for c in covered[5:])
    assert all(int(r["sats_in_view_max"]) > 0 for r in rows)  # satellites still pass overhead
    res = run("run", str(write(tmp_path, SMALL.replace('active = false\nstart = "2025-01-01T00:10:00Z"', 'active = true'))),
              "-o", str(tmp_path / "o"), "--policy-db", url)
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(tmp_path / "o" / "leonet.duckdb"), read_only=True)
    assert con.execute("SELECT max(cells_served) FROM timeseries WHERE region='TWN' AND time_utc >= '2025-01-01T00:06:00Z'").fetchone()[0] == 0


def test_launch_batch_joins_coverage_when_it_reaches_its_shell(tmp_path: Path) -> None:
    base = SMALL.replace('preset = "starlink-gen1"', 'preset = "oneweb"').replace('duration = "20min"', 'duration = "12h"').replace(
        'step = "120s"', 'step = "300s"').split("[policy]")[0]
    batch = """
[[launches]]
name = "test batch"
satellites = 60
release = "2025-01-01T00:00:00Z"
insertion_altitude_km = 500
shell_altitude_km = 550
inclination_deg = 24
raise_rate_km_per_day = 800
"""
    plain = CliRunner().invoke(cli, ["run", str(write(tmp_path, base)), "-o", str(tmp_path / "a")], catch_exceptions=False)
    assert plain.exit_code == 0, plain.output
    (tmp_path / "s.toml").unlink()
    joined = CliRunner().invoke(cli, ["run", str(write(tmp_path, base + batch)), "-o", str(tmp_path / "b")], catch_exceptions=False)
    assert joined.exit_code == 0, joined.output
    q = "SELECT time_utc, sats_in_view_max FROM timeseries WHERE region='TWN' ORDER BY time_utc"
    a = duckdb.connect(str(tmp_path / "a" / "leonet.duckdb"), read_only=True).execute(q).fetchall()
    b = duckdb.connect(str(tmp_path / "b" / "leonet.duckdb"), read_only=True).execute(q).fetchall()
    arrival = datetime(2025, 1, 1, 1, 30, tzinfo=UTC)  # 50 km at 800 km/day; time_utc is a UTC timestamp
    assert all(x[1] == y[1] for x, y in zip(a, b) if x[0] < arrival)  # raising satellites serve no one
    assert any(y[1] > x[1] for x, y in zip(a, b) if x[0] >= arrival)


def test_bad_launch_entry_names_the_field(tmp_path: Path) -> None:
    bad = SMALL + '\n[[launches]]\nname = "b"\nsatellites = 0\nrelease = "2025-01-01"\nshell_altitude_km = 550\ninclination_deg = 53\n'
    with pytest.raises(InputError, match=r"\[\[launches\]\] #1.*satellites"):
        load_scenario(write(tmp_path, bad))


def test_geojson_regions_in_scenarios(tmp_path: Path) -> None:
    """Users give their own regions: a GeoJSON polygon as target and as a policy rule."""
    import json

    box = {"type": "Feature", "properties": {"name": "north"}, "geometry": {"type": "Polygon", "coordinates": [
        [[121.0, 24.6], [122.0, 24.6], [122.0, 25.4], [121.0, 25.4], [121.0, 24.6]]]}}
    (tmp_path / "north.geojson").write_text(json.dumps(box))
    text = SMALL.replace('regions = ["TWN"]', 'regions = ["north.geojson"]').replace('region = "TWN"', 'region = "north.geojson"')
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["run", str(write(tmp_path, text)), "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(out / "leonet.duckdb"), read_only=True)
    rows = con.execute("SELECT time_utc, cells, cells_served FROM timeseries WHERE region = 'north' ORDER BY 1").fetchall()
    assert rows and rows[0][1] > 0
    assert all(r[2] == 0 for r in rows if r[0] >= datetime(2025, 1, 1, 0, 10, tzinfo=UTC)) and rows[0][2] > 0
    with pytest.raises(InputError, match="not found"):
        from leonet.ground.regions import Region

        Region.from_spec("missing.geojson", tmp_path)


def test_report_draws_cells_that_cross_the_antimeridian(tmp_path: Path) -> None:
    """Fiji's cells straddle 180 deg: cell_boundaries gives two-part shapes, the maps draw both."""
    text = SMALL.replace('regions = ["TWN"]', 'regions = ["FJI"]').replace("neighbours_within_km = 100", "neighbours_within_km = 0")
    text = text.replace('region = "TWN"', 'region = "FJI"').replace("h3_res = 4", "h3_res = 3")
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["run", str(write(tmp_path, text)), "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    from leonet.ground.cells import cell_boundaries

    cells = duckdb.connect(str(out / "leonet.duckdb"), read_only=True).execute("SELECT h3_cell FROM cells").fetchall()
    import h3

    polys = cell_boundaries([h3.str_to_int(c[0]) for c in cells])
    assert any(p.geom_type == "MultiPolygon" for p in polys), "the case must include a cell split at 180 deg"
    assert (out / "report.html").read_text().count("<img") == 3


def test_states_key_chooses_who_serves(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, SMALL)).states == ("operational",)
    every = SMALL.replace('preset = "starlink-gen1"', 'preset = "starlink-gen1"\nstates = ["all"]')
    assert load_scenario(write(tmp_path, every)).states is None
    two = SMALL.replace('preset = "starlink-gen1"', 'preset = "starlink-gen1"\nstates = ["operational", "raising"]')
    assert load_scenario(write(tmp_path, two)).states == ("operational", "raising")
    bad = SMALL.replace('preset = "starlink-gen1"', 'preset = "starlink-gen1"\nstates = ["flying"]')
    with pytest.raises(InputError, match=r"\[constellation\] states.*'flying'.*operational"):
        load_scenario(write(tmp_path, bad))
    from leonet.jobs.regional import run_scenario

    run = run_scenario(write(tmp_path, SMALL))
    assert any("satellites serve (states: operational)" in n for n in run.notes)
