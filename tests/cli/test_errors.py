"""A newcomer's first hour (issue 11): every defect found with bad inputs, one test each, and a
property test that drives the CLI with generated bad options."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from refdata import ref_file

from leonet.cli.main import cli

SNAP = "tle/starlink_20241023_celestrak_gp.tle"
ONE_SAT = "44714"  # STARLINK-1008, in the 2024-10 snapshot


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def no_traceback(res) -> None:
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit), res.output


# ---- 1. positions far from the element epoch ----------------------------------------------------
@pytest.mark.parametrize("start", ["1950-01-01T00:00:00Z", "2150-01-01T00:00:00Z", "2026-10-23T00:00:00Z"])
def test_far_from_epoch_is_refused_naming_the_way_on(tmp_path: Path, start: str) -> None:
    res = run("propagate", str(ref_file(SNAP)), "--sats", ONE_SAT, "--start", start, "--duration", "1h", "--step", "10min",
              "-o", str(tmp_path / "s.csv"))
    assert res.exit_code == 1 and "more than 90 days" in res.output and "--allow-stale-elements" in res.output
    no_traceback(res)
    assert not (tmp_path / "s.csv").exists()


def test_unphysical_states_are_errors_with_a_code(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    res = run("propagate", str(ref_file(SNAP)), "--sats", ONE_SAT, "--start", "2150-01-01T00:00:00Z", "--duration", "1h",
              "--step", "10min", "--allow-stale-elements", "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == 6
    for r in rows:  # 125 years on, SGP4 returns positions; none of them may pass as real
        code = int(r.split(",")[-1].strip('"').split(":")[0])
        assert code in (1, 2, 3, 4, 6, 7, 8) and ",,,," in r, r


def test_overhead_far_in_the_future_lists_nothing_unphysical() -> None:
    res = run("overhead", str(ref_file(SNAP)), "--lat", "25", "--lon", "121", "--time", "2150-01-01T00:00:00Z", "--format", "csv")
    assert res.exit_code == 1 and "--allow-stale-elements" in res.output
    ok = run("overhead", str(ref_file(SNAP)), "--lat", "25", "--lon", "121", "--time", "2150-01-01T00:00:00Z", "--format", "csv",
             "--allow-stale-elements")
    assert ok.exit_code == 0, ok.output
    lines = [ln for ln in ok.output.splitlines() if ln and ln[0].isdigit()]
    assert all(float(ln.split(",")[4]) < 3 * 6378.137 for ln in lines)  # no satellite 600,000 km up "above 25 deg"


def test_two_weeks_from_epoch_warns(tmp_path: Path) -> None:
    res = run("propagate", str(ref_file(SNAP)), "--sats", ONE_SAT, "--start", "2024-11-23T00:00:00Z", "--duration", "10min",
              "--step", "10min", "-o", str(tmp_path / "s.csv"))
    assert res.exit_code == 0 and "warning:" in res.output and "more than 14 days" in res.output


# ---- 2. messages printed verbatim, no tracebacks --------------------------------------------------
def test_scenario_errors_keep_their_brackets(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('[sections]\nx = 1\n')
    res = run("run", str(p))
    assert res.exit_code == 1 and "unknown section [sections]" in res.output and "[[launches]]" in res.output
    p.write_text('[time]\nstart = "2025-01-01T00:00:00Z"\nduration = "1h"\nstep = "60s"\n[coverage]\nregions = ["TWN"]\n'
                 '[constellation]\npreset = "starlink-gen1"\n[[policy.rules]]\nregion = 5\n')
    res = run("run", str(p))
    assert res.exit_code == 1 and "[[policy.rules]] #1" in res.output


def test_binary_scenario_and_bad_plot_are_one_line_errors(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_bytes(bytes(range(256)))
    res = run("run", str(p))
    assert res.exit_code == 1 and "not a TOML text file" in res.output
    no_traceback(res)
    res = run("deployment", str(ref_file(SNAP)), "--plot", str(tmp_path / "p.xyz"))
    assert res.exit_code == 1 and "cannot write a plot" in res.output
    no_traceback(res)


def test_internal_errors_are_one_line_with_a_code(monkeypatch, tmp_path: Path) -> None:
    import leonet.api

    def boom(*a, **k):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(leonet.api, "passes", boom)
    res = run("passes", "--preset", "oneweb", "--lat", "0", "--lon", "0", "--start", "2025-01-01T00:00:00Z", "--duration", "1h",
              "-o", str(tmp_path / "p.csv"))
    assert res.exit_code == 3 and "internal error (ZeroDivisionError: simulated bug)" in res.output and "LEONET_DEBUG=1" in res.output
    monkeypatch.setenv("LEONET_DEBUG", "1")
    res = run("passes", "--preset", "oneweb", "--lat", "0", "--lon", "0", "--start", "2025-01-01T00:00:00Z", "--duration", "1h",
              "-o", str(tmp_path / "p.csv"))
    assert isinstance(res.exception, ZeroDivisionError)


# ---- 3. checks before the work ------------------------------------------------------------------
def test_output_folder_policy_db_and_step_are_checked_first(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("demo", "-o", str(blocker / "out"))
    assert res.exit_code == 2 and "-o" in res.output and "is a file" in res.output
    res = run("coverage", "--preset", "starlink-gen1", "--region", "TWN", "--start", "2025-01-01T00:00:00Z", "--duration", "1h",
              "--step", "60s", "-o", str(tmp_path / "c.csv"), "--policy-db", "sqlite:///" + str(tmp_path / "none" / "x.db"))
    assert res.exit_code == 1 and "--policy-db" in res.output
    res = run("coverage", "--preset", "starlink-gen1", "--region", "TWN", "--start", "2025-01-01T00:00:00Z", "--duration", "1h",
              "--step", "0s", "-o", str(tmp_path / "c.csv"))
    assert res.exit_code == 1 and "--step 0s" in res.output


# ---- 4. size guard ------------------------------------------------------------------------------
def test_huge_jobs_are_refused_before_they_start(tmp_path: Path) -> None:
    res = run("propagate", "--preset", "starlink-gen1", "--start", "2025-01-01T00:00:00Z", "--duration", "P36500D", "--step", "60s",
              "-o", str(tmp_path / "s.parquet"))
    assert res.exit_code == 1 and "--max-memory-gb" in res.output and "GB" in res.output
    res = run("coverage", "--preset", "starlink-gen1", "--region", "ATA", "--h3-res", "9", "--start", "2025-01-01T00:00:00Z",
              "--duration", "1d", "--step", "60s", "-o", str(tmp_path / "c.csv"))
    assert res.exit_code == 1 and "--max-memory-gb" in res.output
    ok = run("propagate", "--preset", "oneweb", "--start", "2025-01-01T00:00:00Z", "--duration", "2min", "--step", "60s",
             "-o", str(tmp_path / "s.csv"), "--max-memory-gb", "0.5")
    assert ok.exit_code == 0 and "job: 720 satellites x 2 instants" in ok.output


# ---- 5. consistent results ------------------------------------------------------------------------
def test_one_country_twice_is_one_region_and_a_place_to_itself_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    res = run("coverage", "--preset", "starlink-gen1", "--region", "TW,158", "--h3-res", "3", "--start", "2025-01-01T00:00:00Z",
              "--duration", "3min", "--step", "60s", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert len(out.read_text().splitlines()) == 1 + 3
    res = run("route", "--preset", "starlink-gen1", "--from", "Taipei", "--to", "Taipei", "--start", "2025-01-01T00:00:00Z",
              "--duration", "1min", "--step", "60s", "-o", str(tmp_path / "r.csv"))
    assert res.exit_code == 1 and "same place" in res.output


def test_taiwan_has_one_cell_set() -> None:
    from leonet.coverage.regional import build_area
    from leonet.ground.regions import Region

    alone = build_area((Region.country("TWN"),), 5, 0.0)
    with_neighbours = build_area((Region.country("TWN"),), 5, 100.0)
    assert alone.members("TWN").sum() == with_neighbours.members("TWN").sum() == 197
    assert abs(alone.population[alone.members("TWN")].sum() - with_neighbours.population[with_neighbours.members("TWN")].sum()) < 1.0


# ---- 6. outputs analysts trust --------------------------------------------------------------------
def test_parquet_and_duckdb_hold_timestamps_nulls_json_and_the_run(tmp_path: Path) -> None:
    sc = tmp_path / "s.toml"
    sc.write_text('[constellation]\npreset = "starlink-gen1"\n[time]\nstart = 2025-01-01T00:00:00Z\nduration = "10min"\nstep = "60s"\n'
                  '[coverage]\nregions = ["TWN"]\nneighbours_within_km = 300\nh3_res = 4\n'
                  '[[policy.rules]]\nregion = "TWN"\nactive = false\n')  # a TOML date-time for start
    out = tmp_path / "o"
    res = run("run", str(sc), "-o", str(out))
    assert res.exit_code == 0, res.output
    ts = pq.read_table(out / "timeseries.parquet")
    assert str(ts.schema.field("time_utc").type) == "timestamp[ns, tz=UTC]"
    rows = ts.to_pylist()
    assert all(r["sats_overhead"] is None for r in rows if r["region"] != "TWN")
    assert all(r["sats_overhead"] is not None and r["sats_overhead"] >= 0 for r in rows if r["region"] == "TWN")
    meta = {k.decode(): v.decode() for k, v in ts.schema.metadata.items()}
    assert meta["leonet_version"] and meta["command_line"].startswith("leonet run") and "starlink-gen1" in meta["sources"]
    con = duckdb.connect(str(out / "leonet.duckdb"), read_only=True)
    run_tab = dict(con.execute("SELECT key, value FROM run").fetchall())
    assert json.loads(run_tab["grid"])["instants"] == 10 and "deactivate country Taiwan" in run_tab["policy"]
    assert con.execute("SELECT typeof(time_utc) FROM timeseries LIMIT 1").fetchone()[0] in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ_NS")
    assert con.execute("SELECT avg(sats_overhead) FROM timeseries").fetchone()[0] >= 0  # no -1 sentinels
    border = con.execute("SELECT by_region FROM border").fetchall()
    assert border and all(isinstance(json.loads(b[0]), dict) for b in border)


def test_format_follows_the_extension_or_disagrees_loudly(tmp_path: Path) -> None:
    args = ["propagate", "--preset", "oneweb", "--sats", "100001", "--start", "2025-01-01T00:00:00Z", "--duration", "2min", "--step", "60s"]
    res = run(*args, "--format", "parquet", "-o", str(tmp_path / "out.csv"))
    assert res.exit_code == 1 and "--format parquet" in res.output and ".csv" in res.output
    assert run(*args, "-o", str(tmp_path / "out.parquet")).exit_code == 0
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 2
    res = run(*args, "-o", str(tmp_path / "out.dat"))
    assert res.exit_code == 1 and "--format" in res.output


def test_deployment_writes_no_plot_unless_asked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = run("deployment", str(ref_file(SNAP)))
    assert res.exit_code == 0, res.output
    assert not list(tmp_path.iterdir())


def test_piped_runs_print_plain_progress_lines(tmp_path: Path) -> None:
    res = run("coverage", "--preset", "starlink-gen1", "--region", "TWN", "--h3-res", "3", "--start", "2025-01-01T00:00:00Z",
              "--duration", "5min", "--step", "60s", "-o", str(tmp_path / "c.csv"))
    assert res.exit_code == 0 and "coverage: 5/5 instants (100%)" in res.output


def test_plain_progress_says_what_runs_after_the_last_step(capsys) -> None:
    """A job whose bar fills before its outputs are written says so, once, on its own line."""
    from leonet.cli.common import progress_bar

    with progress_bar("coverage", 3, "instants", then="writing tables") as advance:
        for _ in range(3):
            advance(1)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln]
    assert lines[0].startswith("coverage: 3/3 instants (100%)") and lines[0].endswith(" done")
    assert lines[1:] == ["writing tables ..."]
    with progress_bar("coverage", 3, "instants") as advance:  # without `then`: one line at the end, as before
        advance(3)
    assert [ln for ln in capsys.readouterr().err.splitlines() if ln][-1].endswith(" done")


# ---- 7. small ones --------------------------------------------------------------------------------
def test_folder_junk_gzip_and_info_header(tmp_path: Path) -> None:
    res = run("info", str(tmp_path))
    assert res.exit_code == 1 and "is a folder" in res.output
    junk = tmp_path / "x.tle.gz"
    junk.write_bytes(b"\x1f\x8bnot really gzip")
    res = run("info", str(junk))
    assert res.exit_code == 1 and str(junk) in res.output and "gzip" in res.output
    good = tmp_path / "y.tle.gz"
    good.write_bytes(gzip.compress(ref_file(SNAP).read_bytes()[:2000]))
    res = run("info", str(good))
    assert res.exit_code == 0 and "note" in res.output


# ---- the property: bad options never give a traceback, and the message names the option -----------
_BAD_TIMES = st.sampled_from(["", "yesterday", "2025-13-01", "2025-01-01T25:00:00Z", "1e400", "now-ish", "2025/01/01 00:00"])
_BAD_SPANS = st.sampled_from(["0s", "-5min", "soon", "1 fortnight", "P", "PT", "nan", "inf", ""])


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(option=st.sampled_from(["--start", "--duration", "--step", "--lat", "--h3-res", "--min-elevation-deg"]), data=st.data())
def test_bad_options_name_themselves(option: str, data) -> None:
    values = {"--start": "2025-01-01T00:00:00Z", "--duration": "10min", "--step": "60s", "--lat": "10", "--h3-res": "3",
              "--min-elevation-deg": "25"}
    bad = {
        "--start": _BAD_TIMES, "--duration": _BAD_SPANS, "--step": _BAD_SPANS,
        "--lat": st.one_of(st.floats(min_value=90.001, max_value=1e9), st.sampled_from(["north", "nan", ""])),
        "--h3-res": st.one_of(st.integers(16, 10**6), st.integers(-10**6, -1)).map(str),
        "--min-elevation-deg": st.floats(min_value=90.001, max_value=1e6).map(str),
    }[option]
    values[option] = str(data.draw(bad))
    cmd = "passes" if option == "--lat" else "coverage"
    args = [cmd, "--preset", "oneweb", "-o", "/tmp/leonet-never-written.csv"]
    if cmd == "passes":
        args += ["--lat", values["--lat"], "--lon", "0", "--start", values["--start"], "--duration", values["--duration"]]
    else:
        args += ["--region", "NOR", "--start", values["--start"], "--duration", values["--duration"], "--step", values["--step"],
                 "--h3-res", values["--h3-res"], "--min-elevation-deg", values["--min-elevation-deg"]]
    res = run(*args)
    assert res.exit_code in (1, 2), res.output
    no_traceback(res)
    assert option in res.output, res.output
