"""``leonet capacity``: the output contract and one-line errors naming the option."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from refdata import ref_file

from leonet.cli.main import cli

SNAP = "tle/starlink_20241023_celestrak_gp.tle"
CELL_COLUMNS = ["time_utc", "cell", "region", "demand_mbps", "allocated_mbps", "served_by", "sold_out"]
REGION_COLUMNS = ["time_utc", "region", "demand_mbps", "allocated_mbps", "share_met", "cells_sold_out"]
WINDOW = ["--start", "2024-10-23T00:00:00Z", "--duration", "30s", "--step", "15s"]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_contract_csv(tmp_path: Path) -> None:
    out = tmp_path / "cap.csv"
    res = run("capacity", str(ref_file(SNAP)), "--region", "TWN,PHL", "--h3-res", "4", *WINDOW, "--inactive", "TWN", "--method", "approx",
              "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    cells = pacsv.read_csv(out)
    assert cells.column_names == CELL_COLUMNS
    regions = pacsv.read_csv(tmp_path / "cap.regions.csv")
    assert regions.column_names == REGION_COLUMNS
    assert (tmp_path / "cap.rules.csv").is_file()
    d = cells.to_pandas()
    assert d["time_utc"].nunique() == 2
    twn = d[d["region"] == "TWN"]
    assert len(twn) and (twn["allocated_mbps"] == 0).all() and (twn["demand_mbps"] == 0).all() and not twn["sold_out"].any()
    assert (d["allocated_mbps"] <= d["demand_mbps"] + 1e-6).all()
    served = d[d["allocated_mbps"] > 0]
    assert len(served) and served["served_by"].astype(str).str.fullmatch(r"\d+( \d+)*").all()
    r = regions.to_pandas()
    phl = r[r["region"] == "PHL"]
    assert (phl["allocated_mbps"].to_numpy() <= phl["demand_mbps"].to_numpy() + 1e-6).all()
    assert set(r["region"]) == {"TWN", "PHL"}
    assert "deactivate country Taiwan" in res.output


def test_contract_parquet_lp_proportional(tmp_path: Path) -> None:
    out = tmp_path / "cap.parquet"
    res = run("capacity", str(ref_file(SNAP)), "--region", "TWN", "--h3-res", "4", "--start", "2024-10-23T00:00:00Z", "--duration", "15s",
              "--step", "15s", "--fairness", "proportional", "--take-rate", "0.01", "--format", "parquet", "-o", str(out))
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    assert t.column_names == CELL_COLUMNS
    assert pq.read_table(tmp_path / "cap.regions.parquet").column_names == REGION_COLUMNS
    assert not (tmp_path / "cap.rules.parquet").exists()  # no policy rule, no rule table
    d = t.to_pandas()
    assert (d["allocated_mbps"] > 0).any() and "lp" in res.output


@pytest.mark.parametrize(("extra", "needle"), [
    (["--region", "XXX"], "--region XXX"),
    (["--region", "TWN", "--fairness", "fair"], "--fairness fair"),
    (["--region", "TWN", "--take-rate", "0"], "--take-rate 0"),
    (["--region", "TWN", "--take-rate", "1.5"], "--take-rate 1.5"),
    (["--region", "TWN", "--inactive", "JPN"], "--inactive JPN"),
    (["--region", "TWN", "--inactive", "ZZZ"], "--inactive ZZZ"),
    (["--region", "TWN", "--method", "exact"], "--method exact"),
    (["--region", "TWN", "--generation", "v3"], "--generation v3"),
    (["--region", "TWN", "--demand", "/nonexistent/demand.csv"], "--demand"),
])
def test_bad_options_give_one_line(tmp_path: Path, extra: list[str], needle: str) -> None:
    out = tmp_path / "cap.csv"
    res = run("capacity", str(ref_file(SNAP)), *WINDOW, *extra, "--format", "csv", "-o", str(out))
    assert res.exit_code == 1, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("error:")]) == 1
    assert not out.exists()


def test_empty_window_names_the_option(tmp_path: Path) -> None:
    res = run("capacity", str(ref_file(SNAP)), "--region", "TWN", "--start", "2024-10-23T00:00:00Z", "--duration", "0s", "--step", "15s",
              "--format", "csv", "-o", str(tmp_path / "c.csv"))
    assert res.exit_code == 1 and "--duration 0s" in res.output


def test_demand_file(tmp_path: Path) -> None:
    import h3

    cell = h3.latlng_to_cell(25.03, 121.56, 4)  # Taipei
    f = tmp_path / "demand.csv"
    f.write_text(f"cell,demand_mbps\n{cell},5000\n")
    out = tmp_path / "cap.csv"
    res = run("capacity", str(ref_file(SNAP)), "--region", "TWN", "--h3-res", "4", "--start", "2024-10-23T00:00:00Z", "--duration", "15s",
              "--step", "15s", "--demand", str(f), "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    d = pacsv.read_csv(out).to_pandas()
    assert d.loc[d["cell"] == cell, "demand_mbps"].tolist() == [5000.0]
    assert (d.loc[d["cell"] != cell, "demand_mbps"] == 0).all()
    assert 0 < d.loc[d["cell"] == cell, "allocated_mbps"].iloc[0] <= 5000.0
    f.write_text("cell,demand_mbps\n85283473fffffff,1\n")  # a cell in California
    bad = run("capacity", str(ref_file(SNAP)), "--region", "TWN", "--h3-res", "4", "--start", "2024-10-23T00:00:00Z", "--duration", "15s",
              "--step", "15s", "--demand", str(f), "--format", "csv", "-o", str(out))
    assert bad.exit_code == 1 and "is not one of the regions' cells" in bad.output


def test_policy_db_switches_cells_off_in_time(tmp_path: Path) -> None:
    """The control plane's activation states apply at each simulated time, as for coverage."""
    url = f"sqlite:///{tmp_path / 'control.db'}"
    inv = lambda *a, **k: CliRunner().invoke(cli, list(a), catch_exceptions=False, **k)  # noqa: E731
    admin = inv("db", "init", "--db", url).stdout.strip().splitlines()[-1]
    code = inv("user", "add", "op", "--role", "operator", "--db", url, env={"LEONET_TOKEN": admin}).stdout.strip().splitlines()[-1]
    op = inv("user", "enrol", "op", "--db", url, input=code + "\n").stdout.strip().splitlines()[-1]
    assert inv("policy", "add-region", "taiwan", "--country", "TWN", "--db", url, "--token", op).exit_code == 0
    assert inv("policy", "set", "taiwan", "--deactivate", "--reason", "not licensed", "--from", "2025-01-01T00:05:00Z", "--backdate",
               "--db", url, "--token", op).exit_code == 0
    out = tmp_path / "cap.csv"
    res = inv("capacity", "--preset", "starlink-gen1", "--region", "TWN,PHL", "--h3-res", "3", "--start", "2025-01-01T00:00:00Z", "--duration", "10min",
              "--step", "60s", "--policy-db", url, "--method", "approx", "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    r = pacsv.read_csv(tmp_path / "cap.regions.csv").to_pandas()
    twn = r[r["region"] == "TWN"].sort_values("time_utc")
    assert (twn["allocated_mbps"].iloc[:5] > 0).all() and (twn["allocated_mbps"].iloc[5:] == 0).all()
    assert (tmp_path / "cap.rules.csv").is_file()
