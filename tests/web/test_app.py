"""The dashboard's server side without a browser: what is public, what each role gets, the
binary positions against the library's states, the service map against the policy, and the
results browser's refusal of paths outside its root."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from control_support import auth, seed
from fastapi.testclient import TestClient
from refdata import ref_file

import leonet
from leonet.errors import InputError
from leonet.orbits.frames import geodetic_to_itrf
from leonet.web.results import Results
from leonet.web.twin import Twin

T0 = "2026-08-22T12:00:00Z"


@pytest.fixture(scope="module")
def constellation():
    return leonet.load(str(ref_file("tle/starlink_20260822_celestrak_gp.tle")))


@pytest.fixture(scope="module")
def app(constellation, tmp_path_factory):
    from leonet.web.app import create_dashboard_app, static_ready

    if not static_ready():
        pytest.fail("the dashboard bundle is not built: run `make venv` (npm ci + esbuild)")
    d = tmp_path_factory.mktemp("app")
    url = f"sqlite:///{d / 'control.db'}"
    tokens = seed(url)
    results = d / "results"
    (results / "run1").mkdir(parents=True)
    pq.write_table(pa.table({"h3_cell": ["85283473fffffff", "85283447fffffff"], "region": ["X", "X"], "coverage_sats_in_view_mean": [3.0, 5.0]}),
                   results / "run1" / "cells.parquet")
    (results / "run1" / "run.parquet").write_bytes((results / "run1" / "cells.parquet").read_bytes())
    (d / "secret.png").write_bytes(b"\x89PNG secret")
    os.symlink(d / "secret.png", results / "run1" / "escape.png")
    a = create_dashboard_app(url, elements=(), results_root=str(results), twin=Twin(constellation.take(np.arange(500)), ["first 500"]))
    with TestClient(a, client=("127.0.0.1", 50000)) as client:
        yield client, tokens, results


def test_page_and_bundle_are_public_data_is_not(app) -> None:
    client, tokens, _ = app
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "http" not in page.text  # nothing from elsewhere
    assert client.get("/static/app.js").status_code == 200
    # "/" being public must not make the rest public.
    for path in ("/dash/index", "/dash/positions?t=" + T0, "/regions", "/dash/results"):
        assert client.get(path).status_code == 401, path
    assert client.get("/dash/index", headers=auth(tokens["p1"])).json()["count"] == 500


def test_positions_are_float32_geodetic_of_the_library_states(app, constellation) -> None:
    client, tokens, _ = app
    r = client.get("/dash/positions", params={"t": T0}, headers=auth(tokens["op1"]))
    assert r.headers["content-type"] == "application/octet-stream" and len(r.content) == 500 * 12
    lla = np.frombuffer(r.content, "<f4").reshape(-1, 3).astype(float)
    st = constellation.take(np.arange(500)).at(np.array([leonet.times.parse_time(T0)]))
    ok = st.error[:, 0] == 0
    # Back to ITRF through the library's inverse: within float32 rounding (metres).
    back = geodetic_to_itrf(lla[ok, 1], lla[ok, 0], lla[ok, 2])
    assert np.abs(back - st.itrf_km[ok, 0]).max() < 0.01
    assert np.isnan(lla[~ok]).all()
    # 10,744 satellites fit the 300 KB budget for one instant.
    assert 10_744 * 12 <= 300_000


def test_service_map_follows_the_policy_and_the_role(app) -> None:
    client, tokens, _ = app
    q = {"countries": "TWN", "t": T0}
    geom = client.get("/dash/cells", params={"countries": "TWN"}, headers=auth(tokens["op1"])).json()
    s = client.get("/dash/service", params=q, headers=auth(tokens["op1"])).json()
    assert len(s["sats_in_view"]) == len(geom["cells"]) > 100 and all(s["active"])  # no state set: active
    # Served = at least one satellite in view and active, cell by cell.
    assert s["served"] == [n > 0 and a for n, a in zip(s["sats_in_view"], s["active"])]
    admin = client.get("/dash/service", params=q, headers=auth(tokens["admin"])).json()
    assert admin["served"] is None and admin["sats_in_view"] == s["sats_in_view"]  # admins do not read the policy
    bad = client.get("/dash/service", params={"countries": "XXQ", "t": T0}, headers=auth(tokens["op1"]))
    assert bad.status_code in (400, 422) and "XXQ" in bad.json()["detail"]


def test_partner_cannot_approve_through_the_same_app(app) -> None:
    client, tokens, _ = app
    r = client.post("/requests", json={"region": "box", "action": "deactivate", "justification": "test"}, headers=auth(tokens["p1"]))
    assert r.status_code == 201
    refused = client.post(f"/requests/{r.json()['id']}/approve", json={"reason": "mine"}, headers=auth(tokens["p1"]))
    assert refused.status_code == 403


def test_results_stay_inside_their_root(app, tmp_path) -> None:
    client, tokens, results = app
    h = auth(tokens["op1"])
    assert [x["run"] for x in client.get("/dash/results", headers=h).json()["runs"]] == ["run1"]
    cells = client.get("/dash/results/cells", params={"run": "run1"}, headers=h).json()
    assert cells["values"] == [3.0, 5.0] and len(cells["rings"]) == 2
    for run in ("..", "../..", "/etc", "run1/../..", "run1/../../secret.png", ".hidden", "run1\\..\\.."):
        r = client.get("/dash/results/files", params={"run": run}, headers=h)
        assert r.status_code in (400, 404, 422), run
    r = client.get("/dash/results/file", params={"run": "run1", "name": "escape.png"}, headers=h)  # a link leading outside
    assert r.status_code in (400, 404, 422) and b"secret" not in r.content
    assert client.get("/dash/results/file", params={"run": "run1", "name": "../../secret.png"}, headers=h).status_code in (400, 422)
    with pytest.raises(InputError, match="results-root"):
        Results(tmp_path / "missing")


def test_serve_has_the_checked_options_and_refuses_bad_input(tmp_path) -> None:
    from leonet.cli.main import cli as main

    out = CliRunner().invoke(main, ["serve", "--help"])
    for opt in ("--db", "--elements", "--host", "--port", "--results-root"):
        assert opt in out.output
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    r = CliRunner().invoke(main, ["serve", "--db", url, "--elements", str(tmp_path / "nope.tle"), "--port", "1"])
    assert r.exit_code == 1 and "nope.tle" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["serve", "--db", url, "--results-root", str(tmp_path / "none"), "--port", "1"])
    assert r.exit_code == 1 and "--results-root" in r.output


def test_twin_without_satellites_says_how_to_load_them() -> None:
    t = Twin(None)
    assert t.index()["count"] == 0
    with pytest.raises(InputError, match="--elements"):
        t.positions(T0)


def test_countries_are_packaged_borders() -> None:
    import gzip
    import json

    from leonet.web.twin import countries_geojson

    fc = json.loads(gzip.decompress(countries_geojson()))
    codes = {f["properties"]["iso_a3"] for f in fc["features"]}
    assert {"TWN", "DEU", "USA", "FJI"} <= codes and len(fc["features"]) > 200
    assert Path(leonet.__file__).parent.joinpath("data", "countries-50m.geojson.gz").is_file()


def test_border_effect_cells_against_brute_force(app) -> None:
    """Taiwan switched off (a sensitive region: a partner files, two operators approve): the
    service map names as border-effect cells the active cells of other countries (within 300 km)
    whose centre lies within the beam radius plus the mean H3 edge of an inactive Taiwan cell's
    centre (Kinmen and Matsu beside Xiamen and Fuzhou); checked against all pairs of great-circle distances."""
    import h3

    from leonet.control.db import make_engine
    from leonet.control.service import ControlService
    from leonet.geometry import great_circle_km
    from leonet.web.twin import BEAM_RADIUS_KM

    client, tokens, _ = app
    engine = make_engine(str(client.app.state.service.engine.url))
    try:
        svc = ControlService(engine)
        r = svc.file_request(svc.authenticate(tokens["p1"]), "TWN", "deactivate", "test outage", valid_from="2026-08-01T00:00:00Z", backdate=True)
        for op in ("op1", "op2"):
            svc.decide(svc.authenticate(tokens[op]), r["id"], "approve", "checked")
    finally:
        engine.dispose()
    q = {"countries": "TWN", "neighbours_km": 300, "t": T0}
    geom = client.get("/dash/cells", params={k: v for k, v in q.items() if k != "t"}, headers=auth(tokens["op1"])).json()
    s = client.get("/dash/service", params=q, headers=auth(tokens["op1"])).json()
    active, region = np.array(s["active"]), np.array(geom["region"])
    assert not active[region == "TWN"].any() and active[region != "TWN"].all()
    lat, lon = np.array([h3.cell_to_latlng(c) for c in geom["cells"]]).T
    reach = BEAM_RADIUS_KM + h3.average_hexagon_edge_length(5, unit="km")
    off = np.flatnonzero(region == "TWN")
    d = great_circle_km(lat[:, None], lon[:, None], lat[off][None, :], lon[off][None, :]).min(axis=1)
    expect = (region != "TWN") & (d <= reach)
    assert np.array_equal(np.array(s["border"]), expect) and expect.sum() > 0
    assert s["summary"]["border_cells"] == int(expect.sum())
    assert s["summary"]["cells_served"] == 0
    assert s["summary"]["population_not_served"] == pytest.approx(sum(p for p, g in zip(geom["population"], region) if g == "TWN"), rel=1e-6, abs=2)
    # A partner sees the states of its entitled regions only: p1 (entitled to TWN) sees Taiwan off,
    # p2 (no entitlements) sees the default, as the control plane's own /policy tells each of them.
    p1 = client.get("/dash/service", params=q, headers=auth(tokens["p1"])).json()
    p2 = client.get("/dash/service", params=q, headers=auth(tokens["p2"])).json()
    assert p1["active"] == s["active"]
    assert all(p2["active"]) and client.get("/policy", headers=auth(tokens["p2"])).json()["regions"] == []
