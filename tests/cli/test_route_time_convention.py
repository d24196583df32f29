"""``leonet route --hypatia --time-convention``: Hypatia's Earth rotation at UTC, or true UT1."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from refdata import data_dir

from leonet.cli.main import cli

HYP = data_dir() / "hypatia-starlink550"
needs_data = pytest.mark.skipif(not (HYP / "tles.txt").is_file(), reason=f"Hypatia's Starlink-550 scenario not found in {HYP}")


def _lengths(tmp_path: Path, *extra: str) -> list[float]:
    out = tmp_path / f"r{len(extra)}.csv"
    res = CliRunner().invoke(cli, ["route", "--hypatia", str(HYP), "--from", "Tokyo", "--to", "London", "--duration", "3s", "--step", "1s",
                                   "--format", "csv", "-o", str(out), *extra], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    with open(out, newline="") as fh:
        return [float(r["length_m"]) for r in csv.DictReader(fh)]


@needs_data
def test_default_is_hypatias_convention_and_ut1_differs(tmp_path: Path) -> None:
    default = _lengths(tmp_path)
    hyp = _lengths(tmp_path, "--time-convention", "hypatia")
    ut1 = _lengths(tmp_path, "--time-convention", "ut1", "--min-grazing-alt-km", "80")
    assert default == hyp and len(default) == 3
    # UT1-UTC = +0.355 s on 2000-01-01: the Earth turns 0.355 s further, the ground ends move by
    # up to ~160 m, so the lengths change by metres to hundreds of metres, not more.
    d = [abs(a - b) for a, b in zip(hyp, ut1)]
    assert all(0.01 < x < 1000.0 for x in d)


def test_time_convention_needs_hypatia(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["route", "--preset", "starlink-gen1", "--from", "Tokyo", "--to", "London", "--start", "2025-01-01T00:00:00Z",
                                   "--duration", "1s", "--step", "1s", "--time-convention", "ut1", "--format", "csv", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 1 and "--time-convention applies to --hypatia" in res.output  # bad input: exit code 1
