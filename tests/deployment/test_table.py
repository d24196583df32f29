"""The launch table from international designators, and two snapshots compared (added and lost)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from leonet.deployment.table import ODD_SHELL, check_plot_path, compare_snapshots, deployment_report, deployment_table
from leonet.errors import InputError

OLD, NEW = "tle/starlink_20241023_celestrak_gp.tle", "tle/starlink_20260822_celestrak_gp.tle"


def test_launch_table_accounts_for_every_satellite(tle_snapshot) -> None:
    c = tle_snapshot(OLD).constellation
    tab = deployment_table(c)
    assert tab.satellites.sum() == len(c) == tab.by_year_shell.sum()
    assert list(tab.launch) == sorted(tab.launch)  # launch order
    assert tab.year_rows()[-1]["cumulative"] == len(c)
    assert tab.launch[0].startswith("2019-") and tab.years[-1] == 2024
    k = list(tab.launch).index("2024-184") if "2024-184" in tab.launch else None
    assert k is None or tab.satellites[k] == (c.launch_id == "2024-184").sum()
    assert {"43.0 deg", "53.0 deg", "70.0 deg", "97.5 deg"} <= set(tab.shells)
    assert tab.shells[-1] == ODD_SHELL  # raising batches of Oct 2024 are counted, not dropped
    assert "still in orbit" in tab.notes[0]


def test_snapshots_differ_by_added_and_lost(tle_snapshot) -> None:
    """2024-10 vs 2026-08: the newer snapshot lacks satellites that re-entered (lost, all
    launched by 2024) and has those launched since (added)."""
    a, b = tle_snapshot(OLD).constellation, tle_snapshot(NEW).constellation
    d = compare_snapshots(b, a)  # order of arguments does not matter
    assert d.older == a.label and d.newer == b.label
    assert d.kept.size + d.added.size == len(b) and d.kept.size + d.lost.size == len(a)
    assert d.lost.size > 500 and d.added.size > 4000
    assert max(d.lost_by_year) <= 2024 and min(d.added_by_year) >= 2024
    # The early launches shrink: the 2026 table has fewer 2019-2020 satellites than 2024's.
    early = lambda c: int(((c.launch_year >= 2019) & (c.launch_year <= 2020)).sum())  # noqa: E731
    assert early(b) == early(a) - d.lost_by_year.get(2019, 0) - d.lost_by_year.get(2020, 0)


def test_report_holds_table_and_comparison(tle_snapshot) -> None:
    a, b = tle_snapshot(OLD).constellation, tle_snapshot(NEW).constellation
    rep = deployment_report(a, b)
    doc = rep.as_dict()
    assert doc["deployment"] == deployment_table(a).as_dict() and doc["comparison"] == compare_snapshots(a, b).as_dict()
    assert "comparison" not in deployment_report(tle_snapshot(OLD).path).as_dict()  # files are loaded
    with pytest.raises(InputError, match="no satellites were loaded"):
        deployment_report(a.take(np.zeros(0, np.int64)))


def test_plot_formats_are_checked_before_drawing(tmp_path) -> None:
    assert check_plot_path(tmp_path / "d.SVG") == "svg" and check_plot_path(tmp_path / "d") == "png"
    with pytest.raises(InputError, match=r"cannot write a plot as '\.docx'.*\.png, \.svg"):
        check_plot_path(tmp_path / "d.docx")
    with pytest.raises(InputError, match="does not exist"):
        check_plot_path(tmp_path / "no" / "d.png")


def test_plot_leaves_pyplot_and_the_backend_alone(tle_snapshot, tmp_path) -> None:
    """Drawn on a bare Figure: a notebook's pyplot backend is never chosen or changed (run in a
    fresh interpreter, as other tests may have loaded pyplot)."""
    code = (
        "import sys, matplotlib\n"
        "from leonet.deployment.table import deployment_table, plot_deployment\n"
        "from leonet.sources.load import load\n"
        f"for suffix in ('png', 'pdf', 'svg'): plot_deployment(deployment_table(load([{str(tle_snapshot(OLD).path)!r}])), {str(tmp_path)!r} + '/d.' + suffix)\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
        "assert matplotlib.rcParams._get_backend_or_none() is None, matplotlib.rcParams._get_backend_or_none()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "d.pdf").read_bytes()[:4] == b"%PDF"
    assert b"<svg" in (tmp_path / "d.svg").read_bytes()[:2000]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.pdf", "d.png", "d.svg"]  # no temporary file left
