"""Survivors only: launches found per year, and the satellites older snapshots add back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from leonet.cli.main import cli
from leonet.deployment.history import lost_since, survivor_counts
from leonet.deployment.table import compare_snapshots, deployment_table
from leonet.errors import InputError

S2410 = "tle/starlink_20241023_celestrak_gp.tle"
S2501 = "tle/starlink_20250123_celestrak_gp.tle"
S2608 = "tle/starlink_20260822_celestrak_gp.tle"


def test_survivor_counts_per_year(tle_snapshot) -> None:
    c = tle_snapshot(S2608).constellation
    rows = {r["year"]: r for r in survivor_counts(c)}
    # The figures of issue 13: of the Starlink launches flown, the 2026-08 snapshot still finds
    # 1 of 2019's 2, 18 of 2021's 19 and 62 of 2023's 63.
    assert rows[2019]["launches"] == 1 and rows[2021]["launches"] == 18 and rows[2023]["launches"] == 62
    assert sum(r["satellites"] for r in rows.values()) == len(c)
    assert sum(r["launches"] for r in rows.values()) == len(deployment_table(c))


def test_lost_since_matches_the_snapshot_difference(tle_snapshot) -> None:
    new, old, mid = (tle_snapshot(p).constellation for p in (S2608, S2410, S2501))
    one = lost_since(new, [old])
    diff = compare_snapshots(old, new)
    np.testing.assert_array_equal(one.lost_ids, np.sort(diff.lost))
    assert int(one.lost.sum()) == diff.lost.size == 1051
    assert int(one.survivors.sum()) == len(new)
    by_year = {r["year"]: r["lost"] for r in one.year_rows()}
    assert by_year == {y: diff.lost_by_year.get(y, 0) for y in by_year}
    # Two older snapshots: the union of what they hold and the newest does not.
    two = lost_since(new, [old, mid])
    union = np.union1d(old.norad_id, mid.norad_id)
    assert int(two.lost.sum()) == np.setdiff1d(union, new.norad_id).size
    with pytest.raises(InputError, match="not older"):
        lost_since(old, [new])


def test_history_keeps_launches_without_survivors(tle_snapshot) -> None:
    # Keep only the 2024 launches of the newest snapshot: every older launch then has no survivor
    # and must come back from history, with its lost satellites.
    new, old = tle_snapshot(S2608).constellation, tle_snapshot(S2410).constellation
    only_2024 = new.select(launch_year=2024)
    res = lost_since(only_2024, [old])
    gone = res.survivors == 0
    assert gone.any() and (res.lost[gone] > 0).all() and (res.year[gone] < 2025).all()
    assert int(res.lost.sum()) == np.setdiff1d(old.norad_id, only_2024.norad_id).size


def test_deployment_cli_says_survivors_only_and_adds_history(tle_snapshot, tmp_path) -> None:
    new, old = tle_snapshot(S2608), tle_snapshot(S2410)
    out = tmp_path / "d.json"
    res = CliRunner().invoke(cli, ["deployment", str(new.path), "--history", str(old.path), "--plot", str(tmp_path / "d.png"), "--json", str(out)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "Survivors only" in res.output and "2019: 1 (14)" in res.output
    assert "Lost since" in res.output and "1,051" in res.output
    doc = json.loads(out.read_text())
    assert doc["lost_since"]["lost"] == 1051 and doc["survivors_by_year"][0]["year"] == 2019
