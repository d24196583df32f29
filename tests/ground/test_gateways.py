"""Gateway and PoP lists: the reference files (starlinkviz, StarPerf CSV and XML), generic CSV/JSON
with every bad row reported, and the packaged default (built by scripts/build_default_gateways.py)."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from refdata import ref_file

from leonet.errors import DataNotFoundError, InputError
from leonet.ground import gateways as gw

ROOT = Path(__file__).resolve().parents[2]
VIZ_REL = "gateways/starlinkviz_ground-stations_20260320.csv"
PERF_GS_REL = "gateways/starperf_Starlink_GS_202401.csv"
PERF_POP_REL = "gateways/starperf_Starlink_POPs_202401.xml"


def test_starlinkviz_counts(data_dir: Path) -> None:
    path = ref_file(VIZ_REL)
    allsites = gw.load_gateways(path, include_planned=True)
    assert len(allsites) == 357 and allsites.report.accepted == 357 and not allsites.report.rejected
    assert allsites.counts() == {("gateway", "operational"): 214, ("gateway", "planned"): 93,
                                 ("pop", "operational"): 35, ("pop", "planned"): 15}
    assert len(allsites.gateways) == 307 and len(allsites.pops) == 50
    assert np.all(allsites.alt_km == 0.0) and np.all(allsites.country_a2 != "")
    op = gw.load_gateways(path)
    assert len(op.gateways) == 214 and len(op.pops) == 35
    assert op.report.filtered == {"planned; pass include_planned=True to keep": 108}
    assert op.report.read == op.report.accepted + 108
    country = dict(zip(allsites.name.tolist(), allsites.country_a2.tolist()))
    # Suffixes that name both a US state and a country, settled by position.
    assert country["Pine Valley, CA"] == "US" and country["Saguenay, QC"] == "CA"
    assert country["Hoofddorf, NL"] == "NL" and country["St. John's, NL"] == "CA" and country["Iqaluit, NU"] == "CA"
    assert country["London, UK"] == "GB" and country["Willemstad, Curaçao"] == "CW" and country["Loring, ME"] == "US"


def test_starperf_gateways_merge_band_rows(data_dir: Path) -> None:
    path = ref_file(PERF_GS_REL)
    with path.open(encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    sites = gw.load_gateways(path)
    rep = sites.report
    assert rep.read == len(raw) == 261 and not rep.rejected
    assert len(sites) + len(rep.merged) + len(rep.duplicates) == 261
    assert len(rep.merged) == 39 and len(sites) == 222
    assert sites.antennas.sum() == sum(int(r["Antenna_Count"]) for r in raw)  # merged, not lost
    assert set(sites.kind.tolist()) == {"gateway"} and set(sites.status.tolist()) == {"unknown"}
    i = int(np.flatnonzero(sites.name == "Savanna, OK | Mega")[0])
    assert sites.band[i] == "Ka+E" and sites.antennas[i] == 72 and sites.country_a2[i] == "US"
    assert "starperf_Starlink_GS_202401.csv:31: merged into" in rep.merged[0]


def test_starperf_pops_xml(data_dir: Path) -> None:
    sites = gw.load_gateways(ref_file(PERF_POP_REL))
    assert len(sites) == 23 and set(sites.kind.tolist()) == {"pop"}
    sea = int(np.flatnonzero(sites.name == "SEA - STTLWAX1")[0])
    assert sites.country_a2[sea] == "US" and sites.source[sea].endswith(":2")
    assert np.all(sites.country_a2 != "")


def test_default_gateways_without_shared_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEONET_DATA_DIR", str(tmp_path))
    assert gw.default_gateways_path() == gw.packaged_gateways_path()
    assert gw.packaged_gateways_path().stat().st_size < 30_000
    sites = gw.load_gateways()
    assert len(sites.gateways) == 214 and len(sites.pops) == 35
    assert "gateways_default.csv" in sites.report.notes[0]
    every = gw.load_gateways(include_planned=True)
    assert len(every.gateways) == 307 and len(every.pops) == 50 and not every.report.rejected


def test_packaged_default_matches_reference_file(data_dir: Path) -> None:
    path = ref_file(VIZ_REL)
    spec = importlib.util.spec_from_file_location("build_default_gateways", ROOT / "scripts" / "build_default_gateways.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    expected = mod.render(gw.load_gateways(path, include_planned=True), path.name)
    assert gw.packaged_gateways_path().read_text(encoding="utf-8") == expected, (
        "src/leonet/data/gateways_default.csv is stale: run scripts/build_default_gateways.py"
    )
    a = gw.load_gateways(path, include_planned=True)
    b = gw.load_gateways(gw.packaged_gateways_path(), include_planned=True)
    assert np.array_equal(a.name, b.name) and np.array_equal(a.country_a2, b.country_a2)
    assert np.allclose(a.lat_deg, b.lat_deg, atol=1e-6) and np.allclose(a.lon_deg, b.lon_deg, atol=1e-6)


GENERIC = """\
# my sites
name,lat_deg,lon_deg,kind,status,antennas,country,extra
"Alpha, TX",31.0,-97.0,gateway,operational,8,US,x
Beta,95.0,10.0,gateway,operational,,,x
Gamma,10.0,20.0,satellite,operational,,,x
"Alpha, TX",31.0,-97.0,gateway,operational,8,US,x
Delta,10.0,20.0,pop,planned,,XX,x
Epsilon,10.0,20.0,pop,operational,,Taiwan,x
Zeta,10.0,abc,pop,operational,,,x
Eta,10.0
Theta,-10,200,gateway,active,2.5,,x
Iota,-10,100,gateway,soon,,,x
Kappa,-10,100,gateway,planned,,,x
"""


def test_generic_csv_reports_every_bad_row(tmp_path: Path) -> None:
    p = tmp_path / "sites.csv"
    p.write_text(GENERIC, encoding="utf-8")
    sites = gw.load_gateways(p)
    rep = sites.report
    why = {r.line: r.reason for r in rep.rejected}
    assert "latitude 95 is outside" in why[4]
    assert "kind 'satellite'" in why[5]
    assert "country 'XX'" in why[7]
    assert "lon_deg 'abc' is not a number" in why[9]
    assert "2 fields, the header has 8" in why[10]
    assert "longitude 200 is outside" in why[11]
    assert "status 'soon'" in why[12]
    assert all(r.source == str(p) for r in rep.rejected)
    assert [str(d).split(": ")[0] for d in rep.duplicates] == [f"{p}:6"]
    assert rep.filtered == {"planned; pass include_planned=True to keep": 1}
    assert "ignored unknown columns extra" in rep.notes[0]
    assert sites.name.tolist() == ["Alpha, TX", "Epsilon"]
    assert sites.country_a2.tolist() == ["US", "TW"] and sites.antennas.tolist() == [8, 0]
    assert rep.read == 11 == rep.accepted + len(rep.rejected) + len(rep.duplicates) + 1
    assert f"{p}:4: latitude 95" in rep.details()


def test_generic_json_and_bad_files(tmp_path: Path) -> None:
    p = tmp_path / "sites.json"
    p.write_text(json.dumps({"sites": [
        {"name": "A", "lat_deg": 1, "lon_deg": 2, "kind": "pop", "status": "operational", "alt_km": 0.2},
        {"name": "B", "lat_deg": "x", "lon_deg": 2, "kind": "pop"},
        [1, 2],
    ]}))
    sites = gw.load_gateways(p)
    assert len(sites) == 1 and sites.alt_km[0] == 0.2 and sites.status[0] == "operational"
    assert [(r.line, r.reason.split(":")[0]) for r in sites.report.rejected] == [(2, "record 2"), (3, "record 3 is a list, not an object")]
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[{"name": "A",\n "lat_deg": }]')
    with pytest.raises(InputError, match=r"bad\.json:2: not valid JSON"):
        gw.load_gateways(bad_json)
    bad_xml = tmp_path / "bad.xml"
    bad_xml.write_text("<POPs>\n<POP1><Latitude>1</Latitude>\n</POPs>\n")
    with pytest.raises(InputError, match=r"bad\.xml:3: not well-formed XML"):
        gw.load_gateways(bad_xml)
    no_cols = tmp_path / "cols.csv"
    no_cols.write_text("site,latitude,longitude\nA,1,2\n")
    with pytest.raises(InputError, match=r"cols\.csv:1: header .* lacks name, kind"):
        gw.load_gateways(no_cols)
    with pytest.raises(DataNotFoundError, match="not found"):
        gw.load_gateways(tmp_path / "nope.csv")
