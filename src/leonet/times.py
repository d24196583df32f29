"""Time at the edges: ISO-8601 instants and durations in, integer nanoseconds inside.

Inside leonet an instant is an ``int64`` count of nanoseconds since 1970-01-01T00:00:00 UTC
(POSIX style: leap seconds are not counted, as in ``numpy.datetime64``), and kernels that need
Julian dates get the exact two-part form ``(jd, fr)`` from :func:`ns_to_jd2`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from leonet.errors import InputError

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
JD_UNIX_EPOCH = 2440587.5  # Julian date of 1970-01-01T00:00:00 UTC

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_S,
    "sec": NS_PER_S,
    "m": 60 * NS_PER_S,
    "min": 60 * NS_PER_S,
    "h": 3_600 * NS_PER_S,
    "hr": 3_600 * NS_PER_S,
    "d": NS_PER_DAY,
    "day": NS_PER_DAY,
    "days": NS_PER_DAY,
    "w": 7 * NS_PER_DAY,
}
_SIMPLE_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)")
_ISO_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_DURATION_HELP = "write it like '90s', '15min', '1h30m', '2d', 'P1D' or 'PT1H30M'"
_TIME_HELP = "write it as ISO-8601, e.g. '2024-10-23T12:00:00Z', '2024-10-23 12:00' (UTC) or 'now'"


def parse_duration(text: str | int | float) -> int:
    """Parse a duration to integer nanoseconds.

    Accepts '90s', '1.5h', '15min', '1h30m', '2d', ISO-8601 ('P1D', 'PT1H30M', 'P1DT12H') and
    bare numbers, read as seconds. Negative or zero durations are rejected.
    """
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, (bool, np.bool_)):
        ns = _seconds_to_ns(float(text), text)
    else:
        s = str(text).strip()
        if s.startswith("-"):
            raise InputError(f"duration {text!r} must be positive; {_DURATION_HELP}")
        ns = _parse_duration_str(s)
    if ns <= 0:
        raise InputError(f"duration {text!r} must be positive; {_DURATION_HELP}")
    return ns


def _seconds_to_ns(seconds: float, text: object) -> int:
    if not math.isfinite(seconds):
        raise InputError(f"duration {text!r} is not a finite number of seconds; {_DURATION_HELP}")
    return int(round(seconds * NS_PER_S))


def _parse_duration_str(s: str) -> int:
    if not s:
        raise InputError(f"empty duration; {_DURATION_HELP}")
    try:
        seconds = float(s)
    except ValueError:
        pass
    else:
        return _seconds_to_ns(seconds, s)
    m = _ISO_DURATION.match(s.upper())
    if m and any(m.groupdict().values()):
        g = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
        seconds = (((g["w"] * 7 + g["d"]) * 24 + g["h"]) * 60 + g["m"]) * 60 + g["s"]
        return _seconds_to_ns(seconds, s)
    low = s.lower().replace(" ", "")
    pos, total = 0, 0.0
    for part in _SIMPLE_PART.finditer(low):
        if part.start() != pos or part.group(2) not in _UNITS_NS:
            break
        total += float(part.group(1)) * _UNITS_NS[part.group(2)]
        pos = part.end()
    else:
        if pos == len(low) and pos > 0:
            return int(round(total))
    raise InputError(f"cannot read duration {s!r}; {_DURATION_HELP}")


def _parse_time(text: str | datetime | int | np.datetime64) -> int:
    """:func:`parse_time` without the range check."""
    if isinstance(text, bool):
        raise InputError(f"time {text!r} is not a time; {_TIME_HELP}")
    if isinstance(text, (int, np.integer)):
        return int(text)
    if isinstance(text, np.datetime64):
        if np.isnat(text):
            raise InputError(f"time {text!r} is not a time (NaT); {_TIME_HELP}")
        return int(text.astype("datetime64[ns]").astype(np.int64))
    if isinstance(text, datetime):
        dt = text if text.tzinfo else text.replace(tzinfo=UTC)
        return _datetime_to_ns(dt)
    s = str(text).strip()
    if s.lower() == "now":
        return _datetime_to_ns(datetime.now(UTC))
    iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
    # Keep sub-microsecond digits that datetime cannot hold.
    frac_ns = 0
    m = re.search(r"\.(\d{7,9})", iso)
    if m:
        digits = m.group(1).ljust(9, "0")
        frac_ns = int(digits[6:])
        iso = iso[: m.start()] + "." + digits[:6] + iso[m.end() :]
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        raise InputError(f"cannot read time {s!r}; {_TIME_HELP}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return _datetime_to_ns(dt) + frac_ns


_NS_MIN, _NS_MAX = np.iinfo(np.int64).min + 1, np.iinfo(np.int64).max  # NaT is int64 min


def parse_time(text: str | datetime | int | np.datetime64) -> int:
    """Parse an instant to integer nanoseconds since 1970 (UTC).

    Strings are ISO-8601; a trailing 'Z' or an offset such as '+08:00' is honoured and a time
    without a zone is read as UTC. ``'now'`` is the current time. An ``int`` is taken as
    nanoseconds already. Instants must lie within int64 nanoseconds (years 1678-2262).
    """
    ns = _parse_time(text)
    if not _NS_MIN <= ns <= _NS_MAX:
        raise InputError(f"time {text!r} is outside what int64 nanoseconds hold (1678-09-22 .. 2262-04-11 UTC)")
    return ns


def _datetime_to_ns(dt: datetime) -> int:
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def format_time(t_ns: int | np.ndarray, unit: str | None = None) -> str | np.ndarray:
    """ISO-8601 strings with 'Z' for instants in ns. ``unit`` defaults to the coarsest of
    s/ms/us/ns that shows every value exactly."""
    if unit is None and isinstance(t_ns, int | np.integer) and _NS_MIN <= t_ns <= _NS_MAX:
        return _format_one(int(t_ns))
    arr = np.asarray(t_ns, dtype=np.int64)
    if unit is None:
        unit = "s"
        for u, q in (("s", NS_PER_S), ("ms", 1_000_000), ("us", 1_000), ("ns", 1)):
            unit = u
            if not np.any(arr % q):
                break
    out = np.char.add(np.datetime_as_string(arr.astype("datetime64[ns]"), unit=unit), "Z")
    return str(out) if out.ndim == 0 else out


_EPOCH_NAIVE = datetime(1970, 1, 1)


def _format_one(t_ns: int) -> str:
    """:func:`format_time` of one instant, without numpy (a server formats a few per request)."""
    s, frac = divmod(t_ns, NS_PER_S)
    text = (_EPOCH_NAIVE + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S")
    if frac == 0:
        return text + "Z"
    for digits, q in ((3, 1_000_000), (6, 1_000), (9, 1)):
        if frac % q == 0:
            return f"{text}.{frac // q:0{digits}d}Z"
    raise AssertionError("unreachable")


def ns_to_jd2(t_ns: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact two-part Julian date ``(jd, fr)`` of UTC instants: ``jd`` ends in .5, ``0 <= fr < 1``."""
    arr = np.asarray(t_ns, dtype=np.int64)
    days, rem = np.divmod(arr, NS_PER_DAY)
    return days.astype(np.float64) + JD_UNIX_EPOCH, rem.astype(np.float64) / NS_PER_DAY


def jd2_to_ns(jd: float | np.ndarray, fr: float | np.ndarray) -> np.ndarray:
    """Integer nanoseconds of a two-part Julian date (rounded to the nearest ns)."""
    jd = np.asarray(jd, dtype=np.float64)
    fr = np.asarray(fr, dtype=np.float64)
    whole = np.floor(jd - JD_UNIX_EPOCH)
    frac = (jd - JD_UNIX_EPOCH - whole) + fr
    extra = np.floor(frac)
    days = (whole + extra).astype(np.int64)
    return days * NS_PER_DAY + np.round((frac - extra) * NS_PER_DAY).astype(np.int64)


def _span_ns(value: str | int | timedelta | np.timedelta64, what: str) -> int:
    """A grid's duration or step: text via :func:`parse_duration`, ``timedelta`` /
    ``numpy.timedelta64``, or integers as nanoseconds. A bare float is refused."""
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"time {what} {value!r} is not a duration; {_DURATION_HELP}")
    if isinstance(value, timedelta):
        ns = (value.days * 86_400 + value.seconds) * NS_PER_S + value.microseconds * 1_000
        ns += int(getattr(value, "nanoseconds", 0))  # pandas.Timedelta keeps nanoseconds
    elif isinstance(value, np.timedelta64):
        if np.isnat(value):
            raise InputError(f"time {what} {value!r} is not a duration (NaT); {_DURATION_HELP}")
        ns = int(value.astype("timedelta64[ns]").astype(np.int64))
    elif isinstance(value, (int, np.integer)):
        ns = int(value)
    elif isinstance(value, (float, np.floating)):
        raise InputError(
            f"time {what} {value!r}: give text such as '60s' or '1d', a timedelta, or integer nanoseconds "
            "(a bare float could mean seconds or nanoseconds)"
        )
    else:
        return parse_duration(value)
    if ns <= 0:
        shown = f"{value} ns" if isinstance(value, (int, np.integer)) else repr(value)
        raise InputError(f"time {what} {shown} must be positive; {_DURATION_HELP}")
    return ns


class TimeGrid:
    """Evenly spaced instants ``start_ns + step_ns * k`` for ``k = 0 .. count-1``, covering
    ``[start, start + duration)``: ``TimeGrid("2024-10-23T00:00:00Z", "1d", "60s")`` has 1,440.

    ``start``: ISO-8601 text, ``datetime`` (naive means UTC), ``numpy.datetime64`` or integer
    ns since 1970 UTC. ``duration`` and ``step``: text ('90s', '1h30m', 'P1D'), ``timedelta``,
    ``numpy.timedelta64`` or integer ns. A bare float is refused because it is unclear whether
    it means seconds or nanoseconds. A duration shorter than one step gives the single instant
    ``start``.
    """

    __slots__ = ("start_ns", "step_ns", "count")

    def __init__(self, start: str | int | datetime | np.datetime64, duration: str | int | timedelta, step: str | int | timedelta) -> None:
        if isinstance(start, (float, np.floating)):
            raise InputError(f"time grid start {start!r}: give ISO-8601 text, a datetime or integer nanoseconds, not a float")
        start_ns = parse_time(start)
        duration_ns = _span_ns(duration, "duration")
        step_ns = _span_ns(step, "step")
        self._set(start_ns, step_ns, max(1, -(-duration_ns // step_ns)))

    def _set(self, start_ns: int, step_ns: int, count: int) -> None:
        if step_ns <= 0:
            raise InputError(f"time step must be positive, got {step_ns} ns")
        if count <= 0:
            raise InputError(f"a time grid needs at least one instant, got count={count}")
        object.__setattr__(self, "start_ns", int(start_ns))
        object.__setattr__(self, "step_ns", int(step_ns))
        object.__setattr__(self, "count", int(count))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a TimeGrid is immutable; make a new one")

    @classmethod
    def from_span(cls, start: str | int | datetime | np.datetime64, duration: str | int | timedelta, step: str | int | timedelta) -> TimeGrid:
        """The same as ``TimeGrid(start, duration, step)``."""
        return cls(start, duration, step)

    @classmethod
    def from_count(cls, start_ns: int, step_ns: int, count: int) -> TimeGrid:
        """``count`` instants from ``start_ns`` every ``step_ns`` (integers, ns)."""
        grid = cls.__new__(cls)
        grid._set(start_ns, step_ns, count)
        return grid

    @property
    def t_ns(self) -> np.ndarray:
        """Instants, shape ``(count,)``, int64 ns since 1970 UTC."""
        return self.start_ns + self.step_ns * np.arange(self.count, dtype=np.int64)

    @property
    def end_ns(self) -> int:
        """The end of the span the grid samples, ``start + count * step`` (not an instant of it)."""
        return self.start_ns + self.step_ns * self.count

    @property
    def step_s(self) -> float:
        return self.step_ns / NS_PER_S

    def __len__(self) -> int:
        return self.count

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeGrid) and (self.start_ns, self.step_ns, self.count) == (other.start_ns, other.step_ns, other.count)

    def __hash__(self) -> int:
        return hash((self.start_ns, self.step_ns, self.count))

    def __repr__(self) -> str:
        return f"TimeGrid({format_time(self.start_ns)!r}, {self.count} x {self.step_ns / NS_PER_S:g} s)"


def as_t_ns(times: TimeGrid | np.ndarray | Sequence | int | str | datetime | np.datetime64) -> np.ndarray:
    """Instants as a ``(times,)`` int64 array of UTC ns: from a :class:`TimeGrid`, an integer
    array of ns, a ``datetime64`` array, or one instant / a list of instants (ISO text,
    datetimes, integer ns). Floats are refused: seconds given where nanoseconds are expected
    would silently be read a billion times too small."""
    if isinstance(times, TimeGrid):
        return times.t_ns
    if isinstance(times, (str, datetime, np.datetime64, int, np.integer)) and not isinstance(times, (bool, np.bool_)):
        return np.array([parse_time(times)], dtype=np.int64)
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        if np.isnat(arr).any():
            raise InputError("times contain NaT (not a time)")
        return np.atleast_1d(arr.astype("datetime64[ns]").astype(np.int64))
    if arr.dtype.kind in "iu":
        return np.atleast_1d(arr.astype(np.int64))
    if arr.dtype.kind == "f":
        raise InputError(
            "times are floats: leonet takes instants as integer nanoseconds since 1970 UTC (or a TimeGrid, "
            "datetime64 values or ISO-8601 text); convert seconds with (seconds * 1e9).astype('int64')"
        )
    if arr.dtype.kind == "b":
        raise InputError("times are booleans, not instants; give a TimeGrid, integer ns or ISO-8601 text")
    return np.array([parse_time(x) for x in arr.ravel().tolist()], dtype=np.int64)
