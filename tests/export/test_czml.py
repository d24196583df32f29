"""CZML export: the document packet, one packet per satellite, samples equal to the library's
states, czml3 validation, state colours, streaming in blocks equal to one block."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from czml3 import Document

import leonet
from leonet.export import czml as czml_mod
from leonet.export.czml import STATE_COLOURS, SatelliteInfo, satellite_packet, write_czml
from leonet.sources.fleet import infer_fleet
from leonet.times import TimeGrid, format_time, parse_time

GRID = TimeGrid("2025-01-01T00:00:00Z", "10min", "60s")


@pytest.fixture(scope="module")
def gen1():
    return leonet.load("preset:starlink-gen1", epoch="2025-01-01T00:00:00Z")


def _samples(packet: dict) -> np.ndarray:
    return np.asarray(packet["position"]["cartesian"], dtype=np.float64).reshape(-1, 4)


def test_document_then_one_packet_per_satellite_with_the_library_positions(gen1, tmp_path: Path) -> None:
    sats = gen1.take(np.arange(0, len(gen1), 97))  # 46 satellites over every plane of every shell
    out = tmp_path / "s.czml"
    w = leonet.export_czml(sats, GRID, out, name="gen1 sample", multiplier=120)
    doc = json.loads(out.read_text())
    assert w.packets == len(sats) == len(doc) - 1 and w.samples == len(sats) * GRID.count and w.missing == 0
    head = doc[0]
    assert head["id"] == "document" and head["version"] == "1.0" and head["name"] == "gen1 sample"
    clock = head["clock"]
    a, b = clock["interval"].split("/")
    assert parse_time(a) == GRID.start_ns and parse_time(b) == GRID.t_ns[-1]  # first to last instant
    assert parse_time(clock["currentTime"]) == GRID.start_ns and clock["multiplier"] == 120
    assert [p["id"] for p in doc[1:]] == [f"satellite/{n}" for n in sats.norad_id]
    truth = sats.at(GRID).itrf_km * 1000.0  # (sats, times, 3) m: the library's States
    for k, p in enumerate(doc[1:]):
        pos = p["position"]
        assert pos["referenceFrame"] == "FIXED" and parse_time(pos["epoch"]) == GRID.start_ns
        assert pos["interpolationAlgorithm"] == "LAGRANGE" and pos["interpolationDegree"] == 5
        s = _samples(p)
        assert s.shape == (GRID.count, 4)
        np.testing.assert_array_equal(s[:, 0], np.arange(GRID.count) * 60.0)  # seconds from the epoch
        assert np.abs(s[:, 1:] - truth[k]).max() < 1.0  # within 1 m (written to the mm)
        assert p["name"] == sats.name[k] and p["properties"]["norad_id"] == int(sats.norad_id[k])
        assert str(sats.norad_id[k]) in p["description"]
    # czml3 reads it back as a valid document (its validators check every packet and sample list).
    back = Document.load(out)
    assert len(back.packets) == len(doc) and back.packets[0].id == "document"


def test_states_and_colours_follow_the_fleet(data_dir: Path, tmp_path: Path) -> None:
    c = leonet.load(data_dir / "tle" / "starlink_20260822_celestrak_gp.tle")
    f = infer_fleet(c)
    grid = TimeGrid("2026-08-22T00:00:00Z", "2min", "60s")
    out = tmp_path / "f.czml"
    leonet.export_czml(c, grid, out)  # the whole snapshot: states are inferred on it
    doc = json.loads(out.read_text())
    assert len(doc) - 1 == len(c)
    assert len(set(f.state)) >= 5  # operational, raising, lowering, deorbiting, dtc, unassigned
    for k, p in enumerate(doc[1:]):
        state = str(f.state[k])
        assert p["properties"]["state"] == state
        assert p["point"]["color"]["rgba"] == list(STATE_COLOURS[state])
        shell = int(f.shell[k])
        assert p["properties"].get("shell") == (shell if shell >= 0 else None)
        assert None not in p["properties"].values()  # CesiumJS's CZML loader fails on a null property
    assert all(str(f.state[k]) in doc[1 + k]["description"] for k in range(0, len(c), 500))
    # --states: only those satellites, whose states were inferred on the whole snapshot (info).
    pick = np.concatenate([np.flatnonzero(f.state == s)[:3] for s in np.unique(f.state)])
    info = leonet.api.satellite_info(c).take(pick)
    only = tmp_path / "op.czml"
    w = leonet.export_czml(c.take(pick), grid, only, states="operational", info=info)
    got = json.loads(only.read_text())[1:]
    assert w.packets == int((f.state[pick] == "operational").sum()) == len(got) == 3
    assert {p["properties"]["state"] for p in got} == {"operational"}


def test_missing_states_are_left_out_and_availability_covers_the_rest() -> None:
    grid = TimeGrid("2025-01-01T00:00:00Z", "10min", "60s")
    r = np.tile(np.array([[7000.0, 0.0, 0.0]]), (grid.count, 1)) + np.arange(grid.count)[:, None]
    r[3:5] = np.nan  # SGP4 failed at instants 3 and 4
    p = json.loads(satellite_packet(42, "X", grid, r).dumps())
    s = _samples(p)
    np.testing.assert_array_equal(s[:, 0], [0, 60, 120, 300, 360, 420, 480, 540])
    np.testing.assert_allclose(s[:, 1:], r[np.isfinite(r[:, 0])] * 1000.0)
    assert [tuple(parse_time(x) for x in iv.split("/")) for iv in p["availability"]] == [
        (grid.t_ns[0], grid.t_ns[2]), (grid.t_ns[5], grid.t_ns[9])]
    none = json.loads(satellite_packet(43, "Y", grid, np.full((grid.count, 3), np.nan)).dumps())
    assert "position" not in none and none["id"] == "satellite/43"  # still one packet per satellite


def test_blocks_stream_the_same_file_as_one_block(gen1, tmp_path: Path, monkeypatch) -> None:
    sats = gen1.take(np.arange(0, len(gen1), 400))
    info = SatelliteInfo(*(np.asarray(x) for x in (np.full(len(sats), "raising", object), np.zeros(len(sats), int),
                                                      np.full(len(sats), "", object), np.full(len(sats), 550.0), np.full(len(sats), 53.0),
                                                      np.full(len(sats), "r", object))))
    one = write_czml(tmp_path / "one.czml", sats, GRID, info)
    monkeypatch.setattr(czml_mod, "CZML_BLOCK_SAMPLES", 3 * GRID.count)  # three satellites per block
    assert czml_mod.czml_block_sats(len(sats), GRID.count) == 3
    many = write_czml(tmp_path / "many.czml", sats, GRID, info)
    assert (tmp_path / "one.czml").read_bytes() == (tmp_path / "many.czml").read_bytes()
    assert one.bytes == many.bytes and one.packets == many.packets == len(sats)
    assert not list(tmp_path.glob(".*.tmp"))  # written beside the final name, then renamed


def test_estimate_grows_with_the_window_not_the_constellation() -> None:
    small = leonet.api.estimate_czml(10_744, TimeGrid("2026-08-22T00:00:00Z", "90min", "60s"))
    assert small["bytes"] < 1 * 2**30 and small["samples"] == 10_744 * 90
    big_fleet = leonet.api.estimate_czml(100_000, TimeGrid("2026-08-22T00:00:00Z", "90min", "60s"))
    assert big_fleet["bytes"] == small["bytes"]  # blocks of satellites: memory independent of their number
    long = leonet.api.estimate_czml(10, TimeGrid("2026-08-22T00:00:00Z", "3650d", "1s"))
    assert long["bytes"] > 100 * 2**30  # one satellite's samples alone are too many: refused by check_job
    assert str(format_time(GRID.start_ns)) == "2025-01-01T00:00:00Z"


CESIUM_DIR = Path(__file__).resolve().parents[2] / "scripts" / "cesium"


@pytest.mark.skipif(shutil.which("node") is None or not (CESIUM_DIR / "node_modules" / "cesium").is_dir(),
                    reason="CesiumJS not installed: `make test` installs it (cd scripts/cesium && npm ci)")
def test_cesiumjs_loads_the_document(gen1, tmp_path: Path) -> None:
    """CesiumJS's own CzmlDataSource (what every Cesium viewer runs) loads the file: the clock,
    one entity per satellite in the FIXED frame, its properties and colour, and positions equal
    to the library's states at the samples and, interpolated by Cesium, between them."""
    sats = gen1.take(np.arange(0, len(gen1), 250))
    info = leonet.api.satellite_info(gen1).take(np.arange(0, len(gen1), 250))
    out = tmp_path / "c.czml"
    leonet.export_czml(sats, GRID, out, name="check", multiplier=30, labels=True, path_trail_s=300, info=info)
    times = ["2025-01-01T00:03:00Z", "2025-01-01T00:04:30Z"]  # a sample, and midway between two
    q = tmp_path / "q.json"
    ids = [f"satellite/{n}" for n in sats.norad_id]
    q.write_text(json.dumps({"ids": ids, "times": times}))
    p = subprocess.run(["node", str(CESIUM_DIR / "check_czml.mjs"), str(out), str(q)], capture_output=True, text=True, timeout=120, cwd=CESIUM_DIR)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout)
    assert got["name"] == "check" and got["entities"] == len(sats)
    assert got["clock"] == {"start": "2025-01-01T00:00:00Z", "stop": "2025-01-01T00:09:00Z", "current": "2025-01-01T00:00:00Z", "multiplier": 30}
    truth = sats.at(np.array([parse_time(t) for t in times], dtype=np.int64)).itrf_km * 1000.0
    for k, sid in enumerate(ids):
        e = got["sats"][sid]
        assert e["frame"] == "FIXED" and e["name"] == sats.name[k]
        assert e["properties"]["norad_id"] == int(sats.norad_id[k]) and e["properties"]["state"] == info.state[k]
        assert tuple(e["rgba"]) == STATE_COLOURS[str(info.state[k])]
        pos = np.array(e["positions_m"])
        assert np.abs(pos[0] - truth[k, 0]).max() < 0.01  # at a sample: the value written (to the mm)
        assert np.linalg.norm(pos[1] - truth[k, 1]) < 1.0  # between samples: Lagrange degree 5 over 60 s steps
