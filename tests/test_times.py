"""Times at the edges: ISO instants and durations, the time grid, two-part Julian dates."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import jday

from leonet.errors import InputError
from leonet.times import (
    JD_UNIX_EPOCH,
    NS_PER_DAY,
    NS_PER_S,
    TimeGrid,
    format_time,
    jd2_to_ns,
    ns_to_jd2,
    parse_duration,
    parse_time,
)

T0 = 1_729_684_800 * NS_PER_S  # 2024-10-23T12:00:00Z

# ---------------------------------------------------------------------------------------------
# parse_time


@pytest.mark.parametrize(
    "text",
    [
        "2024-10-23T12:00:00Z",
        "2024-10-23T12:00:00z",
        "2024-10-23T12:00:00",
        "2024-10-23 12:00",
        "2024-10-23T12:00:00+00:00",
        "2024-10-23T20:00:00+08:00",
        "2024-10-23T06:30:00-05:30",
        "2024-10-23T12:00:00.000Z",
        "  2024-10-23T12:00:00Z  ",
        "2024-10-23T13:00:00+01:00",
    ],
)
def test_parse_time_zones_and_naive_utc(text):
    assert parse_time(text) == T0


@pytest.mark.parametrize(
    "frac,ns",
    [(".1", 100_000_000), (".123456", 123_456_000), (".1234567", 123_456_700), (".12345678", 123_456_780),
     (".123456789", 123_456_789), (".000000001", 1), (".999999999", 999_999_999)],
)
def test_parse_time_keeps_nanoseconds(frac, ns):
    assert parse_time(f"2024-10-23T12:00:00{frac}Z") - T0 == ns
    assert parse_time(f"2024-10-23T20:00:00{frac}+08:00") - T0 == ns


def test_parse_time_other_inputs():
    assert parse_time(T0) == T0 and parse_time(np.int64(T0)) == T0  # integers are ns already
    assert parse_time(datetime(2024, 10, 23, 12, tzinfo=UTC)) == T0
    assert parse_time(datetime(2024, 10, 23, 12)) == T0  # naive datetime: UTC
    assert parse_time(datetime(2024, 10, 23, 14, tzinfo=timezone(timedelta(hours=2)))) == T0
    assert parse_time(np.datetime64("2024-10-23T12:00:00.000000001")) == T0 + 1
    assert parse_time("1969-12-31T23:59:59Z") == -NS_PER_S
    assert parse_time("2000-02-29T00:00:00Z") == 951_782_400 * NS_PER_S


def test_parse_time_now():
    before = time.time_ns()
    got = parse_time("now")
    assert before - 1_000_000 <= got <= time.time_ns() + 1_000_000
    assert abs(parse_time(" NOW ") - got) < 10 * NS_PER_S


@pytest.mark.parametrize(
    "bad",
    ["", "yesterday", "2024-13-01", "2024-10-32T00:00:00Z", "2024-10-23T25:00:00", "2024-10-23T12:00:60Z", "12:00",
     "2024/10/23", "1.5", True, np.datetime64("NaT")],
)
def test_parse_time_bad_input_says_what_and_how(bad):
    with pytest.raises(InputError) as err:
        parse_time(bad)
    msg = str(err.value)
    assert "ISO-8601" in msg and "2024-10-23T12:00:00Z" in msg
    if isinstance(bad, str) and bad:
        assert repr(bad.strip()) in msg


# ---------------------------------------------------------------------------------------------
# parse_duration


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("90s", 90), ("15min", 900), ("15 min", 900), ("1h30m", 5400), ("1h 30m", 5400), ("2d", 172_800), ("1.5h", 5400),
        ("500ms", 0.5), ("250us", 250e-6), ("10ns", 1e-8), ("1w", 604_800), ("3days", 259_200), ("2hr", 7200),
        ("90S", 90), ("1H30M", 5400), ("1m30s", 90),
        ("P1D", 86_400), ("PT1H30M", 5400), ("P1DT12H", 129_600), ("PT90S", 90), ("PT0.5S", 0.5), ("P1W", 604_800),
        ("pt15m", 900), ("PT1.5H", 5400),
        ("60", 60), ("0.25", 0.25), ("1e3", 1000), (60, 60), (0.5, 0.5), (np.int64(7), 7), (np.float64(1.5), 1.5),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == round(seconds * NS_PER_S)


@pytest.mark.parametrize(
    "bad,words",
    [
        ("", "empty duration"), ("  ", "empty duration"), ("abc", "cannot read duration 'abc'"),
        ("1h 30", "cannot read duration"), ("5 parsecs", "cannot read duration"), ("P", "cannot read"),
        ("PT", "cannot read"), ("1D2", "cannot read"), ("h", "cannot read"), ("nan", "not a finite number"),
        ("inf", "not a finite number"), (float("nan"), "not a finite number"), (float("inf"), "not a finite"),
        (True, "cannot read"), (None, "cannot read"),
        ("0s", "must be positive"), ("0", "must be positive"), (0, "must be positive"), (-5, "must be positive"),
        ("-5s", "must be positive"), ("-PT1H", "must be positive"), ("PT0S", "must be positive"),
        (1e-12, "must be positive"),
    ],
)
def test_parse_duration_rejects_bad_and_non_positive(bad, words):
    with pytest.raises(InputError) as err:
        parse_duration(bad)
    assert words in str(err.value)
    assert "'90s'" in str(err.value) and "'PT1H30M'" in str(err.value)


# ---------------------------------------------------------------------------------------------
# TimeGrid


@pytest.mark.parametrize(
    "duration,step,count",
    [("1d", "60s", 1440), ("P1D", "PT1M", 1440), ("90min", "60s", 90), ("61s", "60s", 2), ("59s", "60s", 1),
     ("30s", "60s", 1), ("1h", "7s", 515), ("2d", "1h", 48), (86_400 * NS_PER_S, 60 * NS_PER_S, 1440), ("1d", 60 * NS_PER_S, 1440)],
)
def test_grid_counts_cover_start_to_end_excluded(duration, step, count):
    g = TimeGrid.from_span("2024-10-23T00:00:00Z", duration, step)
    assert g.count == len(g) == count
    t = g.t_ns
    assert t.dtype == np.int64 and t.shape == (count,)
    assert t[0] == parse_time("2024-10-23T00:00:00Z")
    end = t[0] + (parse_duration(duration) if isinstance(duration, str) else duration)
    assert t[-1] < end or count == 1
    assert np.all(np.diff(t) == g.step_ns)


def test_one_day_at_60_s_ends_one_step_before_midnight():
    g = TimeGrid.from_span("2024-10-23", "1d", "60s")
    assert format_time(int(g.t_ns[-1])) == "2024-10-23T23:59:00Z"


@pytest.mark.parametrize(
    "duration,step,words",
    [
        ("1d", 60.0, "a bare float could mean seconds or nanoseconds"),
        (86400.0, "60s", "a bare float"),
        ("1d", 0, "step 0 ns must be positive"),
        (-5, "60s", "duration -5 ns must be positive"),
        ("1d", True, "is not a duration"),
        ("-1d", "60s", "must be positive"),
        ("1d", "soon", "cannot read duration 'soon'"),
    ],
)
def test_grid_rejects_bad_spans(duration, step, words):
    with pytest.raises(InputError, match=words):
        TimeGrid.from_span("2024-10-23T00:00:00Z", duration, step)


def test_grid_checks_its_own_fields():
    with pytest.raises(InputError, match="time step must be positive"):
        TimeGrid.from_count(0, 0, 5)
    with pytest.raises(InputError, match="at least one instant"):
        TimeGrid.from_count(0, 1, 0)
    g = TimeGrid.from_count(5, 10, 3)
    assert g.t_ns.tolist() == [5, 15, 25]


# ---------------------------------------------------------------------------------------------
# Two-part Julian dates


def test_known_julian_dates():
    jd, fr = ns_to_jd2(parse_time("2000-01-01T12:00:00Z"))
    assert (float(jd), float(fr)) == (2451544.5, 0.5)
    jd, fr = ns_to_jd2(0)
    assert (float(jd), float(fr)) == (JD_UNIX_EPOCH, 0.0)
    # sgp4's own jday agrees
    want = jday(2024, 10, 23, 12, 0, 0)
    jd, fr = ns_to_jd2(T0)
    assert float(jd) + float(fr) == pytest.approx(sum(want), abs=1e-12)
    assert int(jd2_to_ns(*want)) == T0
    # a split not on midnight reads the same
    assert int(jd2_to_ns(2451545.0, 0.0)) == parse_time("2000-01-01T12:00:00Z")
    assert int(jd2_to_ns(2451544.0, 1.5)) == parse_time("2000-01-02T00:00:00Z")
    assert int(jd2_to_ns(2451545.5, -0.25)) == parse_time("2000-01-01T18:00:00Z")


def test_jd2_arrays():
    t = T0 + np.array([-NS_PER_DAY, -1, 0, 1, NS_PER_DAY - 1, NS_PER_DAY], dtype=np.int64)
    jd, fr = ns_to_jd2(t)
    assert jd.shape == fr.shape == (6,)
    assert np.all(jd % 1.0 == 0.5) and np.all((fr >= 0.0) & (fr < 1.0))
    assert np.array_equal(jd2_to_ns(jd, fr), t)


@settings(max_examples=500, deadline=None)
@given(st.integers(-(2**63) + NS_PER_DAY, 2**63 - NS_PER_DAY))
def test_ns_jd2_round_trip_is_exact(t):
    jd, fr = ns_to_jd2(t)
    assert float(jd) % 1.0 == 0.5 and 0.0 <= float(fr) < 1.0
    assert int(jd2_to_ns(jd, fr)) == t


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(10**18), 10**18), min_size=1, max_size=20))
def test_ns_jd2_round_trip_is_exact_for_arrays(ts):
    t = np.array(ts, dtype=np.int64)
    assert np.array_equal(jd2_to_ns(*ns_to_jd2(t)), t)


# ---------------------------------------------------------------------------------------------
# format_time


@pytest.mark.parametrize(
    "t,text",
    [
        (T0, "2024-10-23T12:00:00Z"),
        (T0 + 500_000_000, "2024-10-23T12:00:00.500Z"),
        (T0 + 1_000, "2024-10-23T12:00:00.000001Z"),
        (T0 + 1, "2024-10-23T12:00:00.000000001Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (0, "1970-01-01T00:00:00Z"),
    ],
)
def test_format_time_picks_the_coarsest_exact_unit(t, text):
    assert format_time(t) == text
    assert parse_time(text) == t


def test_format_time_units_and_arrays():
    assert format_time(T0 + 1, "s") == "2024-10-23T12:00:00Z"
    assert format_time(T0, "ms") == "2024-10-23T12:00:00.000Z"
    out = format_time(np.array([T0, T0 + 1_000_000]))
    assert isinstance(out, np.ndarray) and out.tolist() == ["2024-10-23T12:00:00.000Z", "2024-10-23T12:00:00.001Z"]
    assert isinstance(format_time(np.int64(T0)), str)


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**62), 2**62))
def test_format_then_parse_round_trips(t):
    assert parse_time(str(format_time(t))) == t


@settings(max_examples=300, deadline=None)
@given(st.integers(-(2**62), 2**62), st.sampled_from([1, 1_000, 1_000_000, 1_000_000_000]))
def test_format_time_of_one_instant_matches_the_array_path(t, q):
    # A scalar is formatted without numpy (the server formats a few per request); an array of
    # one goes through numpy: both must give the same text.
    t = t // q * q
    assert format_time(t) == format_time(np.array([t]))[0]
