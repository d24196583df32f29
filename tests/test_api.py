"""leonet's front door: the notebook session of the README, its contracts with the CLI (the same
rows and columns), time inputs at the edges, and one Satellites abstraction everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import leonet
from leonet.cli.main import cli
from leonet.errors import InputError

T0 = "2025-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def gen1() -> leonet.Constellation:
    return leonet.load("preset:starlink-gen1", epoch=T0)


def test_front_door_names() -> None:
    for name in ("load", "TimeGrid", "coverage", "route", "passes", "run_scenario", "Satellites", "join", "LaunchBatches"):
        assert name in leonet.__all__ and getattr(leonet, name) is not None
    # leonet.coverage is the coverage stage's package and the front-door function at once.
    import leonet.coverage.regional as regional

    assert callable(leonet.coverage) and leonet.coverage.regional is regional
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        leonet.nothing  # noqa: B018


def test_load_checks_its_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no element sets given"):
        leonet.load([])
    bad = tmp_path / "junk.tle"
    bad.write_text("not an element set\n")
    with pytest.raises(InputError, match="no usable satellites"):
        leonet.load(bad)


def test_time_grid_takes_edge_types() -> None:
    a = leonet.TimeGrid(T0, "1h", "60s")
    b = leonet.TimeGrid(datetime(2025, 1, 1, tzinfo=UTC), timedelta(hours=1), timedelta(seconds=60))
    c = leonet.TimeGrid(np.datetime64("2025-01-01T00:00:00"), np.timedelta64(3600, "s"), "PT1M")
    assert a == b == c and len(a) == 60 and a.t_ns[1] - a.t_ns[0] == 60 * 10**9
    with pytest.raises(InputError, match="seconds or nanoseconds"):
        leonet.TimeGrid(T0, 3600.0, "60s")
    with pytest.raises(InputError, match="not a float"):
        leonet.TimeGrid(1.7e9, "1h", "60s")


def test_at_gives_states_and_refuses_float_seconds(gen1) -> None:
    grid = leonet.TimeGrid(T0, "5min", "60s")
    st = gen1.at(grid)
    assert st.itrf_km.shape == (4408, 5, 3) and st.error.shape == (4408, 5) and not st.error.any()
    r = np.linalg.norm(st.itrf_km, axis=-1)
    assert np.all((r > 6378.0 + 500) & (r < 6378.0 + 600))
    ds = st.to_xarray()
    assert ds["itrf_km"].dims == ("norad_id", "time", "xyz") and ds["error"].dims == ("norad_id", "time")
    assert ds["time"].values[0] == np.datetime64("2025-01-01T00:00:00", "ns")
    with pytest.raises(InputError, match="in TEME"):
        gen1.at(grid, frame="teme").itrf_km  # noqa: B018
    with pytest.raises(InputError, match="floats"):
        gen1.at(np.array([1.7e9]))
    one = gen1.at(T0)  # one ISO instant
    assert one.itrf_km.shape == (4408, 1, 3) and np.array_equal(one.itrf_km[:, 0], st.itrf_km[:, 0])


def _cli(*args: str) -> None:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for col in a.columns:
        x, y = a[col], b[col]
        if col.endswith("_utc"):  # timestamp[ns, UTC] in Arrow and pandas, ISO text in CSV
            assert (pd.to_datetime(x, utc=True) == pd.to_datetime(y, utc=True)).all(), col
        elif pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            np.testing.assert_allclose(x.to_numpy(float), y.to_numpy(float), rtol=1e-9, atol=1e-6, equal_nan=True)
        else:
            assert [str(v) for v in x.fillna("")] == [str(v) for v in y.fillna("")], col


def test_coverage_rows_are_the_cli_rows(gen1, tmp_path: Path) -> None:
    grid = leonet.TimeGrid(T0, "10min", "60s")
    cov = leonet.coverage(gen1, ["TWN", "PHL"], grid, h3_res=4)
    df = cov.to_pandas()
    out = tmp_path / "c.csv"
    _cli("coverage", "--preset", "starlink-gen1", "--region", "TWN,PHL", "--h3-res", "4", "--start", T0, "--duration", "10min",
         "--step", "60s", "--format", "csv", "-o", str(out))
    _same(df, pd.read_csv(out))
    assert len(df) == 20 and set(df["region"]) == {"TWN", "PHL"}
    # The same country twice (alpha-2 and alpha-3) is one region, not every step twice.
    twice = leonet.coverage(gen1, ["TW", "TWN"], grid, h3_res=4).to_pandas()
    assert len(twice) == 10


def test_route_rows_are_the_cli_rows(gen1, tmp_path: Path) -> None:
    grid = leonet.TimeGrid(T0, "3min", "60s")
    r = leonet.route(gen1, "Taipei", "London", grid, mode="isl")
    df = r.to_pandas()
    out = tmp_path / "r.csv"
    _cli("route", "--preset", "starlink-gen1", "--from", "Taipei", "--to", "London", "--start", T0, "--duration", "3min",
         "--step", "60s", "--format", "csv", "-o", str(out))
    got = pd.read_csv(out)
    _same(df.drop(columns=["length_m", "rtt_ms"]), got.drop(columns=["length_m", "rtt_ms"]))
    np.testing.assert_allclose(df["rtt_ms"], got["rtt_ms"], atol=1e-6)  # the CSV keeps ns
    np.testing.assert_allclose(df["length_m"], got["length_m"], atol=1e-3)  # and mm
    assert list(df["t_ns"]) == [0, 60 * 10**9, 120 * 10**9] and (df["hops"] >= 3).all()
    nodes = pd.read_csv(str(out) + ".nodes.csv")
    assert list(nodes.columns) == ["id", "kind", "name", "norad_id"] and (nodes["kind"] == "endpoint").sum() == 2


def test_passes_rows_are_the_cli_rows(gen1, tmp_path: Path) -> None:
    sats = gen1.take(np.arange(0, 4408, 40))
    p = leonet.passes(sats, lat_deg=25.03, lon_deg=121.56, start=T0, duration="3h", states=None)  # as the CLI with --sats
    df = p.to_pandas()
    ids = ",".join(str(i) for i in sats.norad_id)
    out = tmp_path / "p.csv"
    _cli("passes", "--preset", "starlink-gen1", "--sats", ids, "--lat", "25.03", "--lon", "121.56", "--start", T0, "--duration", "3h",
         "--format", "csv", "-o", str(out))
    got = pd.read_csv(out)
    _same(df.drop(columns=["max_elevation_deg"]), got.drop(columns=["max_elevation_deg"]))
    np.testing.assert_allclose(df["max_elevation_deg"], got["max_elevation_deg"], atol=5e-5)
    assert len(df) > 10 and (df["max_elevation_deg"] >= 25.0).all()


def test_run_scenario_prints_nothing_and_writes_on_request(tmp_path: Path, capfd) -> None:
    sc = tmp_path / "small.toml"
    sc.write_text(
        '[constellation]\npreset = "starlink-gen1"\n[time]\nstart = "2025-01-01T00:00:00Z"\nduration = "20min"\nstep = "60s"\n'
        '[coverage]\nregions = ["TWN"]\nneighbours_within_km = 0\nh3_res = 4\n[policy]\ndefault = "active"\n'
        '[[policy.rules]]\nregion = "TWN"\nactive = false\n'
    )
    capfd.readouterr()
    run = leonet.run_scenario(sc)
    assert capfd.readouterr() == ("", "")
    assert not run.paths
    row = run.summary()[0]
    assert row["region"] == "TWN" and row["served_time_percent"] == 0.0 and row["served_time_percent_all_active"] == 100.0
    paths = leonet.write_scenario(run, tmp_path / "out")
    assert {"timeseries", "cells", "regions", "duckdb", "report"} <= set(paths) and all(p.is_file() for p in paths.values())


def _batch(**kw) -> leonet.LaunchBatch:
    args = dict(name="B1", satellites=20, release="2024-10-01T00:00:00Z", shell_altitude_km=550.0, inclination_deg=53.0,
                plane_raan_deg=10.0, first_id=900_001)
    return leonet.LaunchBatch(**(args | kw))


def test_launch_batches_are_satellites_everywhere(gen1) -> None:
    arrived = leonet.LaunchBatches([_batch()])  # released three months before T0: at its shell by then (54 days of raising)
    raising = leonet.LaunchBatches([_batch(name="B2", release="2024-12-31T00:00:00Z", first_id=900_101)])
    grid = leonet.TimeGrid(T0, "2h", "60s")
    st = arrived.at(grid)
    assert st.serving.all() and st.itrf_km.shape == (20, 120, 3)
    assert not raising.at(grid).serving.any()  # still raising: positions, but no service
    # Passes: batches alone and joined with an SGP4 constellation give the same batch passes.
    site = dict(lat_deg=10.0, lon_deg=20.0, start=T0, duration="12h", coarse_step="20s")  # one grid for both sets
    alone = leonet.passes(arrived, **site).to_pandas()
    both = leonet.passes(leonet.join(gen1.take(np.arange(50)), arrived, raising), **site).to_pandas()
    assert len(alone) > 0
    _same(alone, both[both["norad_id"] >= 900_001].reset_index(drop=True))
    assert not (both["norad_id"] >= 900_101).any()  # a raising satellite never passes for service
    # Routing over a joined set: the raising batch carries no traffic.
    joined = leonet.join(gen1, raising)
    r = leonet.route(joined, "Taipei", "Tokyo", leonet.TimeGrid(T0, "2min", "60s"), mode="isl")
    paths = [int(x) for p in r.to_pandas()["path"].dropna() for x in p.split("-")]
    assert paths and not any(len(gen1) <= x < len(gen1) + 20 for x in paths)
    with pytest.raises(InputError, match="share catalogue numbers"):
        leonet.join(arrived, arrived)


def test_only_operational_satellites_serve_by_default(tmp_path: Path) -> None:
    """Issue 13: direct-to-cell payloads and satellites on the move serve no broadband users
    unless asked; every summary says what was left out."""
    from refdata import ref_file

    c = leonet.load(ref_file("tle/starlink_20260822_celestrak_gp.tle"))
    grid = leonet.TimeGrid("2026-08-22T00:00:00Z", "2min", "60s")
    cov = leonet.coverage(c, ["TWN"], grid, h3_res=3)
    every = leonet.coverage(c, ["TWN"], grid, h3_res=3, states=None)
    assert cov.left_out["dtc"] == 639 and "left out:" in cov.serving_note and "639 dtc" in cov.serving_note
    assert (cov.result.counts <= every.result.counts).all() and (cov.result.counts < every.result.counts).any()
    r = leonet.route(c, "Seattle", "Los Angeles", grid, mode="bentpipe")
    nodes = leonet.route(c, "Seattle", "Los Angeles", grid, mode="bentpipe").run.node_columns()
    names = dict(zip(nodes["id"], nodes["name"]))
    used = {int(x) for p in r.to_pandas()["path"].dropna() for x in p.split("-")}
    assert used and not any("DTC" in names[i] for i in used)
    assert any("639 dtc" in n for n in r.run.notes)
    out = tmp_path / "c.csv"
    _cli("coverage", str(ref_file("tle/starlink_20260822_celestrak_gp.tle")), "--region", "TWN", "--h3-res", "3",
         "--start", "2026-08-22T00:00:00Z", "--duration", "2min", "--step", "60s", "--states", "all", "-o", str(out))
    np.testing.assert_array_equal(pd.read_csv(out)["sats_in_view_max"], every.to_pandas()["sats_in_view_max"])


@pytest.mark.parametrize("mode", ["isl", "gateway"])
def test_route_output_written_while_routing_is_the_same_file_without_the_paths(gen1, tmp_path: Path, mode: str) -> None:
    """``route(..., output=)`` writes the CSV step by step as it routes: the same bytes and nodes
    file as ``Route.write``, the same figures and path changes, and no paths kept (what needs
    them says so)."""
    grid = leonet.TimeGrid(T0, "4min", "60s")
    kept = leonet.route(gen1, grid=grid, all_pairs=True, cities=6, mode=mode)
    kept_csv, streamed_csv = tmp_path / "kept.csv", tmp_path / "streamed.csv"
    rows = kept.write(kept_csv)
    streamed = leonet.route(gen1, grid=grid, all_pairs=True, cities=6, mode=mode, output=streamed_csv)
    assert streamed.rows_written == rows == 4 * 30 and kept.rows_written is None
    assert streamed_csv.read_bytes() == kept_csv.read_bytes()
    assert Path(f"{streamed_csv}.nodes.csv").read_bytes() == Path(f"{kept_csv}.nodes.csv").read_bytes()
    a, b = kept.run.routes, streamed.run.routes
    assert b.paths is None and a.paths is not None
    for name in ("rtt_ms", "length_m", "hops"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.path_changed(), b.path_changed())
    assert a.path_changed().sum() > 10  # paths change from minute to minute: the kept changes are exercised
    assert kept.summary() == streamed.summary()
    for needs_paths in (streamed.to_arrow, lambda: streamed.write(tmp_path / "again.csv"), streamed.to_geojson):
        with pytest.raises(InputError, match="paths of these routes were not kept"):
            needs_paths()


def test_route_output_is_not_left_half_written(gen1, tmp_path: Path) -> None:
    """A run that stops part-way (here its progress callback raises) leaves neither the CSV nor
    a temporary file, and a file already at that name is untouched."""
    out = tmp_path / "r.csv"
    out.write_text("before\n")
    steps = []

    def stop_at_the_second_step(n: int) -> None:
        steps.append(n)
        if len(steps) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        leonet.route(gen1, grid=leonet.TimeGrid(T0, "4min", "60s"), all_pairs=True, cities=4, output=out, progress=stop_at_the_second_step)
    assert out.read_text() == "before\n" and sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


def test_route_csv_is_the_tables_bytes_and_falls_back_mid_file(gen1, tmp_path: Path, monkeypatch) -> None:
    """The compiled route writer gives the bytes write_table gives for routes_table; a step it
    cannot format goes through write_table, the steps around it stay compiled, and the bytes are
    the same, with no partial file left."""
    import leonet.export.results as results
    from leonet.export.files import write_table

    grid = leonet.TimeGrid(T0, "3min", "60s")
    run = leonet.route(gen1, "Taipei", "London", grid, mode="isl").run
    fast, slow = tmp_path / "fast.csv", tmp_path / "slow.csv"
    assert results.write_routes(run, fast)[0] == 3
    write_table(results.routes_table(run), slow, "csv", quoting="minimal", decimals={"length_m": 3, "rtt_ms": 6})
    assert fast.read_bytes() == slow.read_bytes()
    real = results.route_step_rows
    calls = []

    def fails_on_the_second_step(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return -1 if len(calls) == 2 else real(*args)

    monkeypatch.setattr(results, "route_step_rows", fails_on_the_second_step)
    again = tmp_path / "again.csv"
    assert results.write_routes(run, again)[0] == 3 and len(calls) == 3
    assert again.read_bytes() == slow.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no partial file left
