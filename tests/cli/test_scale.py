"""CLI contracts of partitioned runs: `leonet run --scheduler`, `--resume`, `leonet sweep`."""

from __future__ import annotations

from click.testing import CliRunner
from scale_support import assert_same_as_reference, write_small

from leonet.cli.common import EXIT_INPUT
from leonet.cli.main import cli


def test_run_with_scheduler_none_writes_the_dataset(tmp_path):
    sc = write_small(tmp_path)
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "out"), "--scheduler", "none", "--chunk-instants", "50"])
    assert r.exit_code == 0, r.output
    assert "3 tasks of up to 50 instants" in r.output and "TWN" in r.output and "3 tasks computed, 0 reused" in r.output
    assert_same_as_reference(tmp_path / "out")
    again = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "out"), "--scheduler", "none"])
    assert again.exit_code == EXIT_INPUT and "--resume" in again.output
    resumed = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "out"), "--resume"])
    assert resumed.exit_code == 0 and "0 tasks computed, 3 reused" in resumed.output


def test_bad_scheduler_and_options_are_errors(tmp_path):
    sc = write_small(tmp_path)
    for args, msg in ((["--scheduler", "yarn"], "none, local or tcp://HOST:PORT"),
                      (["--scheduler", "none", "--workers", "2"], "--workers sets the processes of --scheduler local"),
                      (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler")):
        r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "o"), *args])
        assert r.exit_code == EXIT_INPUT, r.output
        assert msg in r.output
        assert "Traceback" not in r.output


def test_sweep_command_prints_the_summary(tmp_path):
    write_small(tmp_path, duration="30min")
    p = tmp_path / "sweep.toml"
    p.write_text('[sweep]\nscenario = "small.toml"\n[axes]\nmin_elevation_deg = [25, 40]\n')
    r = CliRunner().invoke(cli, ["sweep", str(p), "-o", str(tmp_path / "sw"), "--scheduler", "none"])
    assert r.exit_code == 0, r.output
    assert "sweep over min_elevation_deg" in r.output and "2 tasks computed" in r.output
    assert (tmp_path / "sw" / "summary.parquet").is_file()


def test_route_with_scheduler_writes_the_dataset(tmp_path):
    args = ["route", "--preset", "starlink-gen1", "--from", "Taipei", "--to", "London", "--start", "2025-01-01T00:00:00Z",
            "--duration", "4min", "--step", "60s", "--format", "csv", "-o", str(tmp_path / "r"), "--scheduler", "none", "--chunk-instants", "2"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "4 rows in" in r.output and "2 tasks computed, 0 reused" in r.output and "Taipei" in r.output
    assert (tmp_path / "r" / "summary.parquet").is_file() and (tmp_path / "r" / "routes" / "chunk=000001" / "part-0.parquet").is_file()
    bad = CliRunner().invoke(cli, args[:-2] + ["--hypatia", str(tmp_path)])
    assert bad.exit_code == EXIT_INPUT and "a Hypatia scenario runs in memory" in bad.output, bad.output
