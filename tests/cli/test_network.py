"""`leonet route`: the CLI contract (columns, ids, unreachable rows, modes)."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from leonet.cli.main import cli

COLUMNS = ["t_ns", "src", "dst", "hops", "path", "length_m", "rtt_ms"]
C_M_S = 299_792_458.0


def _rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def test_route_hypatia_city_pair(data_dir, tmp_path) -> None:
    out = tmp_path / "r.csv"
    res = CliRunner().invoke(cli, ["route", "--hypatia", str(data_dir / "hypatia-starlink550"), "--from", "Tokyo", "--to", "London",
                                   "--start", "2000-01-01T00:00:00Z", "--duration", "3s", "--step", "1s", "--format", "csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert [int(r["t_ns"]) for r in rows] == [0, 1_000_000_000, 2_000_000_000]
    for r in rows:
        ids = [int(x) for x in r["path"].split("-")]
        assert (int(r["src"]), int(r["dst"])) == (1584, 1584 + 27) == (ids[0], ids[-1])  # Tokyo gid 0, London gid 27
        assert all(0 <= x < 1584 for x in ids[1:-1]) and int(r["hops"]) == len(ids) - 1
        assert float(r["rtt_ms"]) == pytest.approx(2 * float(r["length_m"]) / C_M_S * 1e3, rel=1e-6)
        assert 64 < float(r["rtt_ms"]) < 130
    nodes = (tmp_path / "r.csv.nodes.csv").read_text().splitlines()
    assert nodes[1585] == "1584,endpoint,Tokyo,"


def test_route_hypatia_all_pairs(data_dir, tmp_path) -> None:
    out = tmp_path / "all.csv"
    res = CliRunner().invoke(cli, ["route", "--hypatia", str(data_dir / "hypatia-starlink550"), "--all-pairs",
                                   "--duration", "1s", "--step", "1s", "--format", "csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert len(rows) == 100 * 99 and {r["t_ns"] for r in rows} == {"0"}
    assert all(r["path"] for r in rows)


def test_route_file_unreachable_rows_kept_and_errors(data_dir, tmp_path) -> None:
    out = tmp_path / "u.csv"
    tles = str(data_dir / "hypatia-starlink550" / "tles.txt")
    args = ["route", tles, "--from", "85,0", "--to", "London", "--start", "2000-01-01T00:00:00Z", "--duration", "2min", "--step", "1min",
            "--format", "csv", "-o", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert len(rows) == 2 and all(r["path"] == "" and r["hops"] == "" and r["rtt_ms"] == "" for r in rows)  # 53 deg shell never reaches 85 N
    bad = CliRunner().invoke(cli, args[:2] + args[6:])  # neither --from/--to nor --all-pairs
    assert bad.exit_code == 1 and "--all-pairs" in bad.output


def test_route_gateway_mode(data_dir, tmp_path) -> None:
    out = tmp_path / "g.csv"
    tles = str(data_dir / "hypatia-starlink550" / "tles.txt")
    res = CliRunner().invoke(cli, ["route", tles, "--from", "Taipei", "--to", "London", "--mode", "gateway", "--start", "2000-01-01T00:00:00Z",
                                   "--duration", "1min", "--step", "1min", "--format", "csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    (row,) = _rows(out)
    ids = [int(x) for x in row["path"].split("-")]
    assert ids[0] == 1584 and ids[-1] == 1585 and ids[-3] >= 1586  # user, ..., gateway, PoP, London
    # Fibre legs make the RTT more than the vacuum figure of the path length.
    assert float(row["rtt_ms"]) > 2 * float(row["length_m"]) / C_M_S * 1e3
