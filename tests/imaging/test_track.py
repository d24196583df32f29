"""One call for an imaging study: the same windows, figures and ages as the steps run by hand,
progress adding up to the announced total, and later steps named as they start."""

from __future__ import annotations

import numpy as np

from leonet.ground.gateways import parse_gateways_text
from leonet.imaging.access import Sensor, find_access
from leonet.imaging.downlink import age_of_data
from leonet.imaging.fom import figures
from leonet.imaging.targets import make_targets
from leonet.imaging.track import access_samples, track
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import parse_time

EPOCH = "2025-01-01T00:00:00Z"


def test_track_is_the_steps_by_hand() -> None:
    c = walker_constellation([WalkerShell("w", 6, 12, 550.0, 53.0)], epoch=EPOCH)
    tg = make_targets(points=[("a", 40.0, 10.0), ("b", -20.0, 130.0)])
    gws = parse_gateways_text("name,lat_deg,lon_deg,kind\ngw,41.0,12.0,gateway\n", fmt=None)
    sensor = Sensor(15.0)
    t0, t1 = parse_time(EPOCH), parse_time("2025-01-01T03:00:00Z")
    done, stages = [], []
    res = track(c, tg, sensor, EPOCH, "2025-01-01T03:00:00Z", 90.0, gateways=gws, progress=done.append, stage=stages.append)
    acc = find_access(c, tg, sensor, t0, t1, 90.0)
    assert len(res.windows) == len(acc) > 0
    np.testing.assert_array_equal(res.windows.start_ns, acc.start_ns)
    np.testing.assert_array_equal(res.figures.coverage_time_s, figures(acc, tg).coverage_time_s)
    # Gateway contacts are searched at the access step, but never coarser than 60 s.
    want = age_of_data(acc, c, gws, 25.0, step_s=60.0)
    np.testing.assert_array_equal(res.age.downlink_ns, want.downlink_ns)
    assert sum(done) == access_samples(len(c), len(tg), t0, t1, 90.0)
    assert stages == ["age of data (next gateway contact)"]
    assert list(res.norad_id) == list(c.norad_id) and (res.start_ns, res.end_ns) == (t0, t1)
    summary = res.summary()
    assert summary["accesses"] == len(acc) and summary["age_of_data_lasers"] is False
    quiet = track(c, tg, sensor, t0, t1, 90.0, downlink=False, stage=stages.append)
    assert quiet.age is None and quiet.summary()["age_of_data"] is None and len(stages) == 1
