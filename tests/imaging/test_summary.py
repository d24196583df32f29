"""Per-target summaries: age-of-data statistics against a per-target computation by hand, and the
summary document's rows."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.errors import InputError
from leonet.imaging.access import AccessWindows, Sensor
from leonet.imaging.downlink import ROUTES, AgeOfData
from leonet.imaging.fom import figures
from leonet.imaging.summary import AGE_DIRECT, AGE_LASERS, access_summary, age_of_data_stats, rounded
from leonet.imaging.targets import make_targets
from leonet.times import NS_PER_S


def _age(age_s: list[float], route: list[str]) -> AgeOfData:
    n = len(age_s)
    a = np.asarray(age_s, dtype=float)
    return AgeOfData(np.zeros(n, np.int64), np.where(np.isfinite(a), 1, -1), a, np.array(["gw"] * n, dtype=object),
                     np.array(route, dtype=object), np.zeros(n, np.int64))


def _windows(target: list[int], start_s: list[float], end_s: list[float]) -> AccessWindows:
    n = len(target)
    z = np.zeros(n, bool)
    s, e = (np.asarray(x) * NS_PER_S for x in (start_s, end_s))
    return AccessWindows(np.asarray(target), np.zeros(n, np.int64), s.astype(np.int64), e.astype(np.int64), s.astype(np.int64), np.full(n, 45.0), z, z,
                         0, 1000 * NS_PER_S, Sensor())


def test_age_statistics_per_target_match_a_direct_computation() -> None:
    """Targets interleaved in the access order, one without accesses, one whose accesses never
    reach a gateway: each row equals numpy on that target's finite ages."""
    rng = np.random.default_rng(3)
    target = rng.integers(0, 4, 200)
    target[target == 2] = 0  # target 2: no access
    ages = rng.exponential(600.0, 200)
    ages[target == 3] = np.nan  # target 3: nothing reached a gateway
    ages[rng.random(200) < 0.1] = np.nan
    route = rng.choice(list(ROUTES[:3]), 200).astype(object)
    route[np.isnan(ages)] = "none"
    rows = age_of_data_stats(_age(list(ages), list(route)), target, 4)
    assert len(rows) == 4
    for k, row in enumerate(rows):
        a = ages[target == k]
        ok = a[np.isfinite(a)]
        assert row["accesses_without_downlink"] == a.size - ok.size
        assert row["age_of_data_routes"] == {r: int((route[target == k] == r).sum()) for r in ROUTES}
        if ok.size:
            assert row["age_of_data_mean_s"] == pytest.approx(ok.mean(), abs=5e-4)
            assert row["age_of_data_p50_s"] == pytest.approx(np.median(ok), abs=5e-4)
            assert row["age_of_data_p90_s"] == pytest.approx(np.percentile(ok, 90), abs=5e-4)
            assert row["age_of_data_max_s"] == round(ok.max(), 3)
        else:
            assert row["age_of_data_mean_s"] is row["age_of_data_max_s"] is None
    assert rows[2]["accesses_without_downlink"] == 0 and sum(rows[2]["age_of_data_routes"].values()) == 0
    assert rows[3]["age_of_data_p90_s"] is None and rows[3]["accesses_without_downlink"] == (target == 3).sum()


def test_age_statistics_need_one_target_per_access() -> None:
    with pytest.raises(InputError, match="one target row per access"):
        age_of_data_stats(_age([1.0, 2.0], ["laser", "laser"]), np.array([0]), 1)


def test_summary_rows_hold_figures_and_ages() -> None:
    tg = make_targets(points=[("a", 0.0, 0.0), ("b", 1.0, 1.0)])
    w = _windows([0, 0, 1], [100, 400, 500], [200, 450, 700])
    fom = figures(w, tg)
    plain = access_summary(tg, w, fom, None, Sensor(10.0), 0, 1000 * NS_PER_S)
    assert plain["accesses"] == 3 and plain["age_of_data"] is None and plain["age_of_data_routes"] is None
    assert [r["target"] for r in plain["targets"]] == ["a", "b"] and "age_of_data_mean_s" not in plain["targets"][0]
    assert plain["targets"][0]["access_count"] == 2 and plain["targets"][0]["coverage_time_s"] == pytest.approx(150.0)
    assert plain["start_utc"] == "1970-01-01T00:00:00Z" and plain["sensor"]["min_elevation_deg"] == 10.0
    age = _age([0.01, 300.0, float("nan")], ["laser", "direct-later", "none"])
    for lasers, text in ((False, AGE_DIRECT), (True, AGE_LASERS)):
        doc = access_summary(tg, w, fom, age, Sensor(10.0), 0, 1000 * NS_PER_S, lasers=lasers)
        assert doc["age_of_data"] == text and doc["age_of_data_lasers"] is lasers
        assert doc["age_of_data_routes"] == {"direct-now": 0, "laser": 1, "direct-later": 1, "none": 1}
    assert doc["targets"][0]["age_of_data_mean_s"] == pytest.approx(150.005) and doc["targets"][1]["accesses_without_downlink"] == 1
    assert rounded(float("inf")) is None and rounded(None) is None and rounded(1.23456) == 1.235
