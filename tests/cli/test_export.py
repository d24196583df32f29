"""CLI contract of ``leonet export czml`` and ``leonet export geojson cells|regions|route``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from refdata import data_dir

import leonet
from leonet.cli.main import cli
from leonet.export.files import write_table
from leonet.times import TimeGrid, parse_time

DATA = data_dir()
S2608 = DATA / "tle" / "starlink_20260822_celestrak_gp.tle"
needs_data = pytest.mark.skipif(not S2608.is_file(), reason=f"reference data not found in {DATA}")
WINDOW = ["--start", "2025-01-01T00:00:00Z", "--duration", "5min", "--step", "60s"]


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def small_tle(tmp_path: Path, n: int = 40) -> Path:
    """The first ``n`` satellites of the 2026-08 snapshot as a TLE file."""
    lines = S2608.read_text().splitlines()
    p = tmp_path / "few.tle"
    p.write_text("\n".join(lines[: 3 * n]) + "\n")
    return p


def test_czml_preset_contract(tmp_path: Path) -> None:
    out = tmp_path / "gen1.czml"
    res = run("export", "czml", "--preset", "starlink-gen1", *WINDOW, "--multiplier", "30", "--labels", "--path", "600", "-o", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc[0]["id"] == "document" and doc[0]["clock"]["multiplier"] == 30 and doc[0]["name"] == "starlink-gen1"
    assert len(doc) == 1 + 4408 and all(p["id"].startswith("satellite/") for p in doc[1:])
    p = doc[1]
    assert len(p["position"]["cartesian"]) == 4 * 5 and parse_time(p["position"]["epoch"]) == parse_time("2025-01-01T00:00:00Z")
    assert p["label"]["text"] == p["name"] and p["path"]["trailTime"] == 600
    assert "wrote 4,408 satellites x 5 instants" in res.output


@needs_data
def test_czml_file_contract_and_states(tmp_path: Path) -> None:
    tle = small_tle(tmp_path)
    out = tmp_path / "few.czml"
    res = run("export", "czml", tle, "--start", "2026-08-22T00:00:00Z", "--duration", "4min", "--step", "60s", "-o", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    c = leonet.load(tle)
    assert [p["properties"]["norad_id"] for p in doc[1:]] == c.norad_id.tolist()
    truth = c.at(TimeGrid("2026-08-22T00:00:00Z", "4min", "60s")).itrf_km * 1000.0
    got = np.array([np.reshape(p["position"]["cartesian"], (-1, 4))[:, 1:] for p in doc[1:]])
    assert np.abs(got - truth).max() < 1.0
    states = {p["properties"]["state"] for p in doc[1:]}
    one = sorted(states)[0]
    only = tmp_path / "only.czml"
    res = run("export", "czml", tle, "--start", "2026-08-22T00:00:00Z", "--duration", "4min", "--step", "60s", "--states", one, "-o", only)
    assert res.exit_code == 0, res.output
    assert {p["properties"]["state"] for p in json.loads(only.read_text())[1:]} == {one}


def test_czml_errors(tmp_path: Path) -> None:
    out = tmp_path / "x.czml"
    missing = run("export", "czml", "--preset", "starlink-gen1", "--duration", "5min", "--step", "60s", "-o", out)
    assert missing.exit_code == 2 and "--start" in missing.output
    res = run("export", "czml", "--preset", "starlink-gen1", *WINDOW, "-o", tmp_path / "x.json")
    assert res.exit_code == 1 and "end in .czml" in res.output
    res = run("export", "czml", "--preset", "nosuch", *WINDOW, "-o", out)
    assert res.exit_code == 1 and "unknown preset" in res.output and "starlink-gen1" in res.output
    res = run("export", "czml", "--preset", "starlink-gen1", *WINDOW, "--states", "flying", "-o", out)
    assert res.exit_code == 1 and "--states flying" in res.output and "operational" in res.output
    res = run("export", "czml", "--preset", "starlink-gen1", "--start", "2025-13-01", "--duration", "5min", "--step", "60s", "-o", out)
    assert res.exit_code == 1 and "--start" in res.output
    res = run("export", "czml", "--preset", "starlink-gen1", "--start", "2025-01-01", "--duration", "365d", "--step", "1s", "--max-memory-gb", "2", "-o", out)
    assert res.exit_code == 1 and "more than the 2 GB allowed" in res.output and "Traceback" not in res.output
    res = run("export", "czml", "--preset", "starlink-gen1", *WINDOW, "-o", tmp_path / "nope" / "x.czml")
    assert res.exit_code == 2 and "does not exist" in res.output
    res = run("export", "czml", "x.tle", "--preset", "starlink-gen1", *WINDOW, "-o", out)
    assert res.exit_code == 1 and "not both" in res.output
    assert not out.exists()


def test_geojson_cells_from_a_run_and_from_its_table(tmp_path: Path) -> None:
    out = tmp_path / "cells.geojson"
    res = run("export", "geojson", "cells", "--preset", "starlink-gen1", "--region", "TWN", "--h3-res", "3", *WINDOW, "--min-elevation-deg", "40", "-o", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    cov = leonet.coverage(leonet.load("preset:starlink-gen1", epoch="2025-01-01T00:00:00Z"), ["TWN"], TimeGrid("2025-01-01T00:00:00Z", "5min", "60s"),
                          h3_res=3, min_elevation_deg=40)
    assert [f["id"] for f in doc["features"]] == [f"{int(c):x}" for c in cov.result.area.cells]
    assert [f["properties"]["coverage_sats_in_view_mean"] for f in doc["features"]] == cov.result.coverage_fom.sats_in_view_mean.tolist()
    # A finished run's cells.parquet gives the same features.
    table = tmp_path / "cells.parquet"
    write_table(cov.cells_table(), table, "parquet")
    out2 = tmp_path / "cells2.geojson"
    res = run("export", "geojson", "cells", "--table", table, "-o", out2)
    assert res.exit_code == 0, res.output
    assert json.loads(out2.read_text())["features"] == doc["features"]
    assert pq.read_table(table).num_rows == len(doc["features"])


def test_geojson_cells_errors(tmp_path: Path) -> None:
    out = tmp_path / "c.geojson"
    res = run("export", "geojson", "cells", "--preset", "starlink-gen1", "--region", "TWN", "-o", out)
    assert res.exit_code == 1 and "give --start, --duration, --step" in res.output
    res = run("export", "geojson", "cells", "--table", tmp_path / "cells.parquet", "--region", "TWN", "-o", out)
    assert res.exit_code == 1 and "drop --region" in res.output
    res = run("export", "geojson", "cells", "--table", tmp_path / "none.parquet", "-o", out)
    assert res.exit_code == 1 and "no such file" in res.output
    (tmp_path / "bad.parquet").write_text("not parquet")
    res = run("export", "geojson", "cells", "--table", tmp_path / "bad.parquet", "-o", out)
    assert res.exit_code == 1 and "not a Parquet table" in res.output
    res = run("export", "geojson", "cells", "--preset", "starlink-gen1", "--region", "Narnia", *WINDOW, "-o", out)
    assert res.exit_code == 1 and "Narnia" in res.output
    res = run("export", "geojson", "cells", "--preset", "starlink-gen1", "--region", "TWN", *WINDOW, "-o", tmp_path / "c.csv")
    assert res.exit_code == 1 and ".geojson" in res.output
    assert not out.exists()


def test_geojson_regions_with_a_policy_db(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'control.db'}"
    ok = lambda *a: CliRunner().invoke(cli, [str(x) for x in a], catch_exceptions=False)  # noqa: E731
    admin = ok("db", "init", "--db", url).stdout.strip().splitlines()[-1]
    code = CliRunner().invoke(cli, ["user", "add", "op", "--role", "operator", "--db", url], env={"LEONET_TOKEN": admin}).stdout.strip().splitlines()[-1]
    op = CliRunner().invoke(cli, ["user", "enrol", "op", "--db", url], input=code + "\n").stdout.strip().splitlines()[-1]
    assert ok("policy", "add-region", "taiwan", "--country", "TWN", "--db", url, "--token", op).exit_code == 0
    res = ok("policy", "set", "taiwan", "--deactivate", "--reason", "not licensed", "--from", "2025-01-01T00:05:00Z", "--backdate", "--db", url, "--token", op)
    assert res.exit_code == 0, res.output
    out = tmp_path / "regions.geojson"
    res = run("export", "geojson", "regions", "--region", "FJI", "--policy-db", url, "--time", "2025-01-01T00:00:00Z", "-o", out)
    assert res.exit_code == 0, res.output
    by = {f["id"]: f for f in json.loads(out.read_text())["features"]}
    assert set(by) == {"FJI", "TWN"} and by["TWN"]["properties"]["active"] is True and by["FJI"]["geometry"]["type"] == "MultiPolygon"
    res = run("export", "geojson", "regions", "--policy-db", url, "--time", "2025-01-01T00:06:00Z", "-o", out)
    assert res.exit_code == 0, res.output
    (twn,) = json.loads(out.read_text())["features"]
    assert twn["properties"]["active"] is False and "deactivate" in twn["properties"]["rules"][0]
    assert run("export", "geojson", "regions", "-o", out).exit_code == 1
    res = run("export", "geojson", "regions", "--region", "TWN", "--time", "2025-01-01", "-o", out)
    assert res.exit_code == 1 and "--time applies with --policy-db" in res.output
    res = run("export", "geojson", "regions", "--policy-db", "sqlite:///" + str(tmp_path / "no" / "x.db"), "-o", out)
    assert res.exit_code == 1 and "--policy-db" in res.output


def test_geojson_route(tmp_path: Path) -> None:
    out = tmp_path / "route.geojson"
    res = run("export", "geojson", "route", "--preset", "starlink-gen1", "--from", "Taipei", "--to", "Tokyo", *WINDOW, "-o", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    kinds = [f["geometry"]["type"] if f["geometry"] else None for f in doc["features"]]
    assert kinds[:2] == ["Point", "Point"] and len(kinds) == 2 + 5
    assert [f["properties"]["time_utc"] for f in doc["features"][2:]] == [f"2025-01-01T00:0{k}:00Z" for k in range(5)]
    res = run("export", "geojson", "route", "--preset", "starlink-gen1", "--from", "Taipei", "--to", "Taipei", *WINDOW, "-o", out)
    assert res.exit_code == 1 and "same place" in res.output
    res = run("export", "geojson", "route", "--preset", "starlink-gen1", "--from", "Taipei", *WINDOW, "-o", out)
    assert res.exit_code == 2 and "--to" in res.output


def test_export_help_lists_the_commands() -> None:
    res = run("export", "--help")
    assert res.exit_code == 0 and "czml" in res.output and "geojson" in res.output
    res = run("export", "geojson", "--help")
    assert all(k in res.output for k in ("cells", "regions", "route"))
