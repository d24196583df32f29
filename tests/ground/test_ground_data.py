"""Ground data: cities and place names, the population grid (per point, H3 cell, polygon), and
gateway / PoP lists (reference files, generic formats, the packaged default)."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import h3.api.numpy_int as h3n
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from leonet.errors import DataNotFoundError, InputError
from leonet.ground import gateways as gw
from leonet.ground.cities import find_city, load_cities, normalize_name, parse_lat_lon, resolve_place, top_cities
from leonet.ground.population import (
    PopulationGrid,
    cell_population_table,
    h3_parent,
    load_population_grid,
    parse_esri_ascii,
    population_at,
    population_for_cells,
    population_in_polygon,
)

ROOT = Path(__file__).resolve().parents[2]
GRID_REL = "population/gpw_v4_population_count_rev11_2020_1_deg.asc"
VIZ_REL = "gateways/starlinkviz_ground-stations_20260320.csv"
PERF_GS_REL = "gateways/starperf_Starlink_GS_202401.csv"
PERF_POP_REL = "gateways/starperf_Starlink_POPs_202401.xml"


def need(data_dir: Path, rel: str) -> Path:
    p = data_dir / rel
    if not p.is_file():
        pytest.skip(f"reference file {p} not found")
    return p


@pytest.fixture(scope="module")
def grid(data_dir: Path) -> PopulationGrid:
    return load_population_grid(need(data_dir, GRID_REL))


# --- cities ------------------------------------------------------------------------------------


def test_taipei_is_in_taiwan_with_millions() -> None:
    c = find_city("Taipei")
    assert c.country_a2 == "TW" and c.population > 2_000_000
    assert abs(c.lat_deg - 25.05) < 0.2 and abs(c.lon_deg - 121.5) < 0.2
    assert c.note == ""


def test_spellings_resolve_to_one_city() -> None:
    assert find_city("New York").geonameid == find_city("New York City").geonameid == find_city("new york city").geonameid
    sp = {find_city(n).geonameid for n in ("São Paulo", "Sao Paulo", "SAO PAULO", "sao-paulo")}
    assert len(sp) == 1 and find_city("Sao Paulo").country_a2 == "BR"
    assert normalize_name("St. John's") == normalize_name("St Johns") == "st johns"
    assert find_city("Bombay").name == "Mumbai"  # alternate name, said so in the note
    assert "alternate name" in find_city("Bombay").note


def test_ambiguous_name_picks_most_populous_and_says_so() -> None:
    london = find_city("London")
    assert london.country_a2 == "GB"
    assert "CA" in london.note and "country=" in london.note  # names the other country and how to choose it
    on = find_city("London", country="CA")
    assert on.country_a2 == "CA" and 42 < on.lat_deg < 44 and on.note == ""
    assert find_city("London", country="Canada").geonameid == on.geonameid
    assert resolve_place("London, CA").label == "London, CA"
    notes: list[str] = []
    assert resolve_place("London", notes=notes).label == "London, GB" and len(notes) == 1


def test_qualified_names() -> None:
    assert resolve_place("Portland, OR").lat_deg == pytest.approx(45.52, abs=0.1)
    assert resolve_place("Portland, Maine").lat_deg == pytest.approx(43.66, abs=0.1)
    assert resolve_place("Paris, TX").label == "Paris, US" and resolve_place("Paris, FR").label == "Paris, FR"
    with pytest.raises(InputError, match=r"no city 'Portland' in the US state AK.*US \(OR\)"):
        resolve_place("Portland, AK")
    with pytest.raises(InputError, match="unknown city '6th of Octobre'"):  # not taken for coordinates
        resolve_place("6th of Octobre")


def test_unknown_or_misplaced_city_names_close_matches() -> None:
    with pytest.raises(InputError, match=r"unknown city 'Taipie'.*Taipei \(TW\)"):
        find_city("Taipie")
    with pytest.raises(InputError, match=r"no city 'Taipei' in GB.*TW"):
        find_city("Taipei", country="GB")
    with pytest.raises(InputError, match="unknown country"):
        find_city("Taipei", country="Atlantis")
    with pytest.raises(InputError, match="empty city name"):
        find_city("  ")


def test_top_and_min_population() -> None:
    top = top_cities(10)
    assert len(top) == 10 and np.all(np.diff(top.population) <= 0)
    assert top.population[0] == load_cities().population.max()
    big = load_cities(min_population=1_000_000)
    assert 300 < len(big) < 1000 and big.population.min() >= 1_000_000
    assert len(load_cities()) > 30_000
    with pytest.raises(InputError):
        load_cities(min_population=-1)


@pytest.mark.parametrize(
    "text, lat, lon",
    [("25.03,121.56", 25.03, 121.56), (" -33.87 , 151.21 ", -33.87, 151.21), ("25.03 121.56", 25.03, 121.56),
     ("90,-180", 90.0, -180.0), ("+1.5e1,-.5", 15.0, -0.5)],
)
def test_lat_lon_parsing(text: str, lat: float, lon: float) -> None:
    p = resolve_place(text)
    assert (p.lat_deg, p.lon_deg) == (lat, lon)
    label, la, lo = p  # a (label, lat_deg, lon_deg) tuple
    assert la == lat and lo == lon and "," in label


@pytest.mark.parametrize(
    "text, message",
    [("91,0", "latitude 91 .* outside"), ("0,181", "longitude 181 .* outside"), ("-90.5,10", "latitude"),
     ("1,2,3", "cannot read"), ("25.0,x", "cannot read"), ("25.0", "cannot read"), ("", "empty place"),
     ("Xyzzyqville", "unknown city")],
)
def test_lat_lon_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        resolve_place(text)


def test_parse_lat_lon_direct() -> None:
    assert parse_lat_lon("0,0") == (0.0, 0.0)
    with pytest.raises(InputError, match="latitude first"):
        parse_lat_lon("121.56,25.03")


# --- population grid ---------------------------------------------------------------------------


def test_grid_total_and_shape(grid: PopulationGrid) -> None:
    assert grid.count.shape == (180, 360) and grid.count.dtype == np.float64
    assert grid.total == pytest.approx(7.97e9, rel=0.005)
    assert grid.count.min() >= 0.0 and grid.nodata_cells > 20_000  # oceans are NODATA -> 0
    assert (grid.lon_west_deg, grid.lat_south_deg, grid.cell_deg) == (-180.0, -90.0, 1.0)


def test_taiwan_cells_population(grid: PopulationGrid) -> None:
    # The 1-degree cells over Taiwan: lat 21..26 N (rows 64..68), lon 120..122 E (cols 300, 301).
    lat = np.arange(21.5, 26.0, 1.0)
    lon = np.array([120.5, 121.5])
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    total = population_at(la, lo, grid).sum()
    assert 22e6 < total < 26e6  # Taiwan: ~23.5 million
    assert total == pytest.approx(grid.count[64:69, 300:302].sum())
    assert population_at(25.03, 121.56, grid) == grid.count[64, 301]
    assert population_in_polygon(box(120, 21, 122, 26), grid) == pytest.approx(total, rel=1e-12)


def test_population_at_edges_and_errors(grid: PopulationGrid) -> None:
    v = population_at(np.array([[0.5, 0.5], [-90.0, 90.0]]), np.array([[179.5, -180.5], [0.0, 180.0]]), grid)
    assert v.shape == (2, 2)
    assert v[0, 1] == v[0, 0] == grid.count[89, 359]  # -180.5 wraps to 179.5
    assert v[1, 0] == grid.count[179, 180] and v[1, 1] == grid.count[0, 0]  # 180 wraps to -180
    with pytest.raises(InputError, match="latitude"):
        population_at(91.0, 0.0, grid)


def test_cells_at_res3_sum_to_grid_total(grid: PopulationGrid) -> None:
    table = cell_population_table(3, grid)
    assert table.cells.size == 41_162
    pop = population_for_cells(table.cells[::-1].copy(), grid)
    assert pop.sum() == pytest.approx(grid.total, rel=1e-3)
    assert pop.sum() == pytest.approx(grid.total, rel=1e-9)  # nothing lost, by construction
    assert np.all(pop >= 0)
    # At res 3 H3 cells are as large as 1-degree cells: some populated cells hold no centre.
    assert 0 < table.empty_grid_cells < 6_000 and table.population_moved < 0.2 * grid.total
    assert cell_population_table(4, grid).empty_grid_cells < 200


def test_cell_region_sum_is_consistent_with_grid(grid: PopulationGrid) -> None:
    table = cell_population_table(5, grid)
    assert table.empty_grid_cells == 0  # at res 5 every populated 1-degree cell holds H3 centres
    rows, cols = np.meshgrid(np.arange(64, 69), np.arange(300, 302), indexing="ij")
    region = np.isin(table.grid_cell, (rows * 360 + cols).ravel())
    cells = table.cells[region]
    assert population_for_cells(cells, grid).sum() == pytest.approx(grid.count[64:69, 300:302].sum(), rel=1e-12)


def test_fine_cells_share_their_ancestor(grid: PopulationGrid) -> None:
    rng = np.random.default_rng(7)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    lon = rng.uniform(-180, 180, 500)
    fine = np.array([h3n.latlng_to_cell(a, b, 8) for a, b in zip(lat, lon)], dtype=np.uint64)
    assert np.array_equal(h3_parent(fine, 5), np.array([h3n.cell_to_parent(c, 5) for c in fine], dtype=np.uint64))
    taipei = h3n.latlng_to_cell(25.03, 121.56, 5)
    children = np.asarray(h3n.cell_to_children(taipei, 7), dtype=np.uint64)
    assert children.size == 49
    parent_pop = population_for_cells(np.array([taipei], dtype=np.uint64), grid)[0]
    assert parent_pop > 0
    assert population_for_cells(children, grid).sum() == pytest.approx(parent_pop, rel=1e-12)
    pent = np.uint64(h3n.get_pentagons(5)[0])
    pent_children = np.asarray(h3n.cell_to_children(pent, 7), dtype=np.uint64)  # 1 + 5*48/6 = 41
    assert pent_children.size == 41
    assert population_for_cells(pent_children, grid).sum() == pytest.approx(
        population_for_cells(np.array([pent]), grid)[0], rel=1e-12, abs=1e-9)
    # hex strings and mixed resolutions are accepted
    as_str = np.array([f"{int(c):x}" for c in children[:3]] + [f"{int(taipei):x}"])
    assert population_for_cells(as_str, grid)[-1] == parent_pop


def test_invalid_cells_are_named(grid: PopulationGrid) -> None:
    good = np.array([h3n.latlng_to_cell(25.03, 121.56, 6)], dtype=np.uint64)
    bad = good ^ np.uint64(1 << 2)  # digit 15 of a res-6 cell must be 7
    with pytest.raises(InputError, match=r"1 of 2 values are not valid H3 cell indices.*position 1"):
        population_for_cells(np.concatenate([good, bad]), grid)
    with pytest.raises(InputError, match="not valid H3"):
        population_for_cells(np.array([12345], dtype=np.int64), grid)
    with pytest.raises(InputError, match="resolution"):
        cell_population_table(6, grid)


def test_polygon_area_weighting(grid: PopulationGrid) -> None:
    cell = grid.count[64, 301]  # lat 25..26, lon 121..122
    half = (math.sin(math.radians(25.5)) - math.sin(math.radians(25))) / (math.sin(math.radians(26)) - math.sin(math.radians(25)))
    assert population_in_polygon(box(121, 25, 122, 25.5), grid) == pytest.approx(cell * half, rel=1e-9)
    world = population_in_polygon(box(-180, -90, 180, 90), grid)
    assert world == pytest.approx(grid.total, rel=1e-9)
    assert population_in_polygon(box(-30, -40, -20, -30), grid) == 0.0  # South Atlantic
    with pytest.raises(InputError, match="invalid polygon"):
        population_in_polygon(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), grid)
    with pytest.raises(InputError, match="180th meridian"):
        population_in_polygon(box(170, 0, 190, 10), grid)
    with pytest.raises(InputError, match="Polygon"):
        population_in_polygon(shapely.Point(0, 0), grid)


HEADER = "ncols 4\nnrows 3\nxllcorner -180\nyllcorner -90\ncellsize 90\nNODATA_value -9999\n"


@pytest.mark.parametrize(
    "body, message",
    [
        (HEADER + "1 2 3 4\n1 2 3\n1 2 3 4\n", r"bad\.asc:8: data row 2 has 3 values, the header says ncols = 4"),
        (HEADER + "1 2 3 4\n1 2 x 4\n1 2 3 4\n", r"bad\.asc:8: value 'x' \(column 3\) is not a number"),
        (HEADER + "1 2 3 4\n1 2 3 4\n", r"nrows = 3 but the file has 2 data rows"),
        (HEADER + "1 2 3 4\n1 2 3 4\n1 2 3 4\n1 2 3 4\n", r"bad\.asc:10: more data rows than nrows = 3"),
        (HEADER + "1 2 3 4\n1 -2 3 4\n1 2 3 4\n", r"bad\.asc:8: value -2 \(column 2\) is not a population count"),
        (HEADER.replace("ncols 4", "ncols four") + "1\n", r"bad\.asc:1: header entry 'ncols four'"),
        (HEADER.replace("nrows 3\n", "") + "1 2 3 4\n", r"header lacks 'nrows'"),
        (HEADER.replace("cellsize", "cellsise") + "1 2 3 4\n", r"bad\.asc:5: unknown header entry 'cellsise'"),
    ],
)
def test_malformed_grid_errors(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "bad.asc"
    p.write_text(body)
    with pytest.raises(InputError, match=message):
        load_population_grid(p)


def test_small_grid_parses() -> None:
    head = "NCOLS 4\r\nNROWS 2\r\nXLLCENTER -135\r\nYLLCENTER -45\r\nCELLSIZE 90\r\nNODATA_VALUE -1\r\n"
    g = parse_esri_ascii(head + "1 2 3 4\r\n-1 0 5 6\r\n\r\n", "x.asc")  # CRLF, centre form, blank tail
    assert g.count.shape == (2, 4) and g.nodata_cells == 1 and g.total == 21.0
    assert (g.lon_west_deg, g.lat_south_deg, g.lat_north_deg) == (-180.0, -90.0, 90.0)
    assert g.population_at(-89.0, 179.0) == 6.0 and g.population_at(89.0, -179.0) == 1.0
    assert isinstance(g.population_at(0.0, 0.0), float)  # scalar in, scalar out


def test_missing_default_grid_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEONET_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="LEONET_DATA_DIR"):
        population_at(0.0, 0.0)


# --- gateways ----------------------------------------------------------------------------------


def test_starlinkviz_counts(data_dir: Path) -> None:
    path = need(data_dir, VIZ_REL)
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
    path = need(data_dir, PERF_GS_REL)
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
    sites = gw.load_gateways(need(data_dir, PERF_POP_REL))
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
    path = need(data_dir, VIZ_REL)
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
