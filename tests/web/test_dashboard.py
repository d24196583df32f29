"""The dashboard in a real browser: Debian's Chromium driven by Playwright (software WebGL).

Each view loads and draws what the library computed; the slider moves satellites to the
positions the server gives for that instant; a partner files a request it cannot approve (no
button, and the API refuses), an operator approves it and the service map changes; every
request the pages make goes to 127.0.0.1. Screenshots go to tests/web/artifacts (or
$LEONET_WEB_ARTIFACTS).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from web_support import CHROMIUM, CHROMIUM_ARGS, artifacts_dir

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) to run the browser tests")

REQUESTS: list[str] = []  # every URL any page of this module asked for


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def open_page(browser, base: str, token: str | None, view: str = "constellation"):
    ctx = browser.new_context(viewport={"width": 1280, "height": 760})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("request", lambda r: REQUESTS.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    if token:
        page.add_init_script(f"sessionStorage.setItem('leonet.token', {json.dumps(token)})")
    page.goto(f"{base}/#view={view}")
    page.evaluate("window.leonet.ready")
    page.errors = errors
    return page


def wait_for(page, expression: str, timeout_s: float = 30.0) -> None:
    """Poll ``expression`` in the page until truthy (the page's CSP forbids Playwright's eval-based wait_for_function)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def state(page) -> dict:
    return page.evaluate("window.leonet.state()")


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"))


def positions(base: str, token: str, t: str) -> np.ndarray:
    r = httpx.get(f"{base}/dash/positions", params={"t": t}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    r.raise_for_status()
    assert r.headers["content-type"] == "application/octet-stream"
    return np.frombuffer(r.content, dtype="<f4").reshape(-1, 3)


def test_constellation_view_slider_moves_satellites(site, browser) -> None:
    base, tokens, _ = site
    page = open_page(browser, base, tokens["op1"])
    s = state(page)
    t0 = s["time_utc"]
    server = positions(base, tokens["op1"], t0)
    assert s["view"] == "constellation" and len(server) == 10_744
    assert s["satellites_drawn"] == int(np.isfinite(server[:, 0]).sum()) > 10_000
    # What is drawn is what the server computed for that instant (alt in m on the globe).
    np.testing.assert_allclose(np.array(s["sample"]).reshape(3, 3), server[:3] * [1, 1, 1000], rtol=1e-6)
    shot(page, "constellation")

    later = np.datetime_as_string(np.datetime64(t0.replace("Z", "")) + np.timedelta64(10, "m"), unit="s") + "Z"
    page.evaluate(f"window.leonet.setTime({json.dumps(later)})")
    s2 = state(page)
    assert s2["time_utc"].startswith(later[:19])
    moved = np.array(s2["sample"]).reshape(3, 3)
    np.testing.assert_allclose(moved, positions(base, tokens["op1"], later)[:3] * [1, 1, 1000], rtol=1e-6)
    assert np.all(np.abs(moved[:, :2] - np.array(s["sample"]).reshape(3, 3)[:, :2]).max(axis=1) > 1.0)  # ~40 deg of orbit in 10 min

    # Between two fetched instants the page interpolates: half way lies between them.
    mid = later[:17] + "15Z"
    page.evaluate(f"window.leonet.setTime({json.dumps(mid)})")
    a, b = positions(base, tokens["op1"], later)[:3], positions(base, tokens["op1"], later[:17] + "30Z")[:3]
    got = np.array(state(page)["sample"]).reshape(3, 3)
    np.testing.assert_allclose(got[:, 1], (a[:, 1] + b[:, 1]) / 2, atol=1e-3)

    # The slider itself: dragged 20 minutes on, the time and the satellites follow.
    before = state(page)["sample"]
    page.eval_on_selector("#slider", "el => { el.value = String(Number(el.value) + 1200); el.dispatchEvent(new Event('input')); }")
    wait_for(page, f"window.leonet.state().sample[0] !== {before[0]}", 30)
    assert page.inner_text("#time") != s2["time_utc"][:19] + "Z"

    # Play at a chosen speed moves the time on; pause stops it. Colour by operational state.
    page.select_option("#speed", "600")
    t_before = state(page)["time_utc"]
    page.click("#play")
    wait_for(page, f"window.leonet.state().time_utc > {json.dumps(t_before)}", 30)
    page.click("#play")
    assert not state(page)["playing"] and state(page)["speed"] == 600
    page.select_option("#colour-by", "state")
    assert "operational" in page.inner_text("#legend") and "deorbiting" in page.inner_text("#legend")

    # Click one: elements, state, passes over a place (api.passes for that satellite).
    box = page.locator("#globe").bounding_box()
    xy = next(p for p in (page.evaluate(f"window.leonet.screenOf({i})") for i in range(300)) if p is not None
              and 20 < p[0] < box["width"] - 20 and 20 < p[1] < box["height"] - 20)
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    page.wait_for_selector("#pass-go")
    picked = state(page)["selected_norad_id"]
    assert picked is not None and f"NORAD {picked}" in page.inner_text("#sat-detail")
    assert "NORAD" in page.inner_text("#sat-detail") and "inclination_deg" in page.inner_text("#sat-detail")
    page.click("#pass-go")
    wait_for(page, "document.querySelector('#pass-list').innerText.includes('pass(es) over')", 30)
    n_passes = int(page.inner_text("#pass-list").split()[0])
    assert n_passes >= 1  # a LEO satellite passes above 25 deg over Taipei within a day
    shot(page, "constellation-selected")
    assert not page.errors
    page.context.close()


def test_operator_approves_partner_cannot_and_service_map_changes(site, browser) -> None:
    base, tokens, _ = site
    # The partner files a backdated deactivation of Germany from the console; it has no Approve button.
    partner = open_page(browser, base, tokens["p1"], "console")
    partner.wait_for_selector("#f-go")
    assert partner.locator("button.approve").count() == 0
    partner.select_option("#f-region", "germany")
    partner.select_option("#f-action", "deactivate")
    partner.fill("#f-just", "licence suspended")
    partner.fill("#f-from", "2026-08-01T00:00:00Z")
    partner.check("#f-backdate")
    partner.click("#f-go")
    partner.wait_for_selector(".req[data-id]")
    rid = int(partner.locator(".req").first.get_attribute("data-id"))
    assert partner.locator("button.approve").count() == 0 and partner.locator("button.withdraw").count() == 1
    shot(partner, "console-partner")
    refused = httpx.post(f"{base}/requests/{rid}/approve", json={"reason": "mine"}, headers={"Authorization": f"Bearer {tokens['p1']}"})
    assert refused.status_code == 403
    partner.context.close()

    op = open_page(browser, base, tokens["op1"], "coverage")
    op.fill("#cov-countries", "DEU")
    op.fill("#cov-neighbours", "0")
    op.click("#cov-go")
    # The view opens on its default countries, and a refresh may ask for Germany before the
    # neighbours field reads 0: wait for the service map of exactly this query.
    wait_for(op, "window.leonet.state().coverage_countries === 'DEU' && window.leonet.state().coverage_neighbours_km === '0'"
             " && window.leonet.state().cells_served !== null", 60)
    before = state(op)
    assert before["cells_served"] > 1000  # Germany served everywhere before the approval
    shot(op, "coverage-before")

    op.evaluate("window.leonet.setView('console')")
    op.wait_for_selector(f".req[data-id='{rid}'] button.approve")
    op.fill(f".req[data-id='{rid}'] .reason", "checked with the regulator")
    op.click(f".req[data-id='{rid}'] button.approve")
    op.wait_for_selector(f".req[data-id='{rid}']", state="detached", timeout=30_000)
    shot(op, "console-operator")

    op.evaluate("window.leonet.setView('coverage')")
    wait_for(op, "window.leonet.state().cells_served === 0", 60)
    after = state(op)
    assert after["cells_drawn"] == before["cells_drawn"]
    assert "0" == op.inner_text("#cells-served").strip()
    shot(op, "coverage-after")
    assert not op.errors
    op.context.close()


def test_auditor_sees_verification_and_each_role_only_its_actions(site, browser) -> None:
    base, tokens, _ = site
    au = open_page(browser, base, tokens["au"], "console")
    au.wait_for_selector("#verify")
    assert "chain intact" in au.inner_text("#verify")
    assert "log matches every checkpoint" in au.inner_text("#con-body")  # the server signs one every 2 s
    assert au.locator("button.approve").count() == 0 and au.locator("#f-go").count() == 0
    shot(au, "console-auditor")
    au.context.close()
    admin = open_page(browser, base, tokens["admin"], "console")
    wait_for(admin, "document.querySelector('#con-body').innerText.includes('Users')")
    assert admin.locator("button.approve").count() == 0 and admin.locator("#f-go").count() == 0
    admin.context.close()


def test_routes_view_draws_path_and_rtt(site, browser) -> None:
    base, tokens, _ = site
    page = open_page(browser, base, tokens["op1"], "routes")
    page.fill("#rt-dur", "10min")
    page.fill("#rt-step", "5min")
    page.click("#rt-go")
    wait_for(page, "window.leonet.state().route_steps > 0", 60)
    s = state(page)
    assert s["route_steps"] == 2 and s["route_points"] >= 3  # Taipei, satellites over lasers, London
    assert "ms" in page.inner_text("#rt-summary")
    shot(page, "routes")
    page.context.close()


def test_results_view_browses_a_run(site, browser) -> None:
    base, tokens, results = site
    page = open_page(browser, base, tokens["op1"], "results")
    page.wait_for_selector("button.run")
    page.click("button.run[data-run='taiwan']")
    wait_for(page, "window.leonet.state().cells_drawn > 0", 30)
    assert state(page)["cells_drawn"] == pq.read_metadata(results / "taiwan" / "cells.parquet").num_rows
    assert page.locator("#res-chart").count() == 1
    page.click("a[data-name='regions.parquet']")
    page.wait_for_selector("#overlay table")
    assert "TWN" in page.inner_text("#overlay")
    shot(page, "results")
    page.context.close()


def test_sign_in_needed_and_nothing_outside_127(site, browser) -> None:
    base, tokens, _ = site
    page = open_page(browser, base, None)
    assert page.is_visible("#signin") and state(page)["satellites_drawn"] == 0
    page.fill("#token", "lnt_wrong")
    page.click("#signin-btn")
    wait_for(page, "document.querySelector('#signin-msg').innerText.length > 0")
    page.context.close()
    assert httpx.get(f"{base}/dash/positions", params={"t": "2026-08-22T00:00:00Z"}).status_code == 401
    hosts = {urlsplit(u).hostname for u in REQUESTS if not u.startswith(("blob:", "data:"))}
    assert REQUESTS and hosts == {"127.0.0.1"}, hosts
