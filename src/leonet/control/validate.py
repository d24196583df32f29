"""Input checks shared by the service, the REST API's models and the CLI: one validator per idea.

Names (users, regions) are plain keys; free text refuses control, invisible and direction-
changing characters (an approver must see what they approve); instants are ISO-8601 within
1900..2200; validity intervals may not start in the past unless the caller says so.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from leonet.control.errors import ConflictError
from leonet.errors import InputError
from leonet.times import format_time, parse_time

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")  # used with fullmatch: no "$"-before-newline loophole
KEY_HELP = "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
# Instants are int64 ns; keep them well inside that range (and numpy's datetime64[ns]).
MIN_NS = parse_time("1900-01-01T00:00:00Z")
MAX_NS = parse_time("2200-01-01T00:00:00Z")
# A start this close to "now" is not a backdating (clocks and round trips differ a little).
BACKDATE_GRACE_NS = 120 * 10**9


class BackdateError(ConflictError, InputError):
    """A start in the past without the backdating flag: conflicts with the clock (HTTP 409)."""


def check_key(value: Any, field: str = "name") -> str:
    """A user name or region key: :data:`KEY_HELP`; anything else raises :class:`InputError`."""
    if not isinstance(value, str) or not _KEY_RE.fullmatch(value):
        raise InputError(f"{field} {value!r} is not valid: use {KEY_HELP}")
    return value


def _bad_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Cc: control (newline and tab allowed); Cs: lone surrogates; Cf: format characters, i.e.
    # zero-width (U+200B..U+200D, U+2060, U+FEFF) and bidirectional overrides (U+202A..U+202E,
    # U+2066..U+2069, U+200E/F) that make text read differently from what is stored.
    return (cat == "Cc" and ch not in "\n\t") or cat in ("Cs", "Cf")


@functools.cache
def text_pattern() -> str:
    """The same rule as a JSON-schema pattern (literal characters: valid in Python and Rust regex)."""
    bad = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and _bad_char(chr(c))]
    runs: list[tuple[str, str]] = []
    for ch in bad:
        if runs and ord(ch) == ord(runs[-1][1]) + 1:
            runs[-1] = (runs[-1][0], ch)
        else:
            runs.append((ch, ch))
    cls = "".join(re.escape(a) if a == b else f"{re.escape(a)}-{re.escape(b)}" for a, b in runs)
    return f"^[^{cls}]*$"



def check_text(value: Any, field: str, max_len: int, required: bool = True) -> str | None:
    """Free text: a string of at most ``max_len`` characters without control, invisible,
    direction-changing, private-use or unassigned characters (newline and tab allowed)."""
    if value is None:
        if required:
            raise InputError(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise InputError(f"{field} must not be empty")
    if len(value) > max_len:
        raise InputError(f"{field} is {len(value)} characters long; at most {max_len} are allowed")
    for ch in value:
        if _bad_char(ch):
            raise InputError(f"{field} contains the control, invisible or direction-changing character U+{ord(ch):04X}; remove it")
    return value


def check_time(value: Any, field: str) -> int | None:
    """An ISO-8601 instant (or None) as ns since 1970 UTC, between 1900 and 2200."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{field} must be an ISO-8601 time string such as '2025-01-01T00:00:00Z'")
    check_text(value, field, 64)
    t = parse_time(value)
    if not MIN_NS <= t < MAX_NS:
        raise InputError(f"{field} {value!r} is outside 1900-01-01 .. 2200-01-01; give a time in that range")
    return t


def check_interval(start: Any, end: Any, now_ns: int, backdate: bool = False) -> tuple[int | None, int | None]:
    """A validity interval ``[start, end)`` in ns; an open end is None.

    No ``start`` means "from now". A start in the past (beyond a small clock grace) rewrites
    what the policy was, so it is refused unless ``backdate`` is true (the caller's explicit,
    audited choice).
    """
    if not isinstance(backdate, bool):
        raise InputError("backdate must be true or false")
    a, b = check_time(start, "valid_from"), check_time(end, "valid_to")
    if a is None:
        a = now_ns
    elif a < now_ns - BACKDATE_GRACE_NS and not backdate:
        raise BackdateError(f"valid_from {start!r} is in the past (now is {format_time(now_ns)}); a change that rewrites past policy "
                         "must say so: add --backdate (API: \"backdate\": true), which is recorded in the audit log")
    if b is not None and b <= a:
        raise InputError(f"valid_to {end!r} must be after valid_from ({format_time(a)})")
    return a, b


__all__ = ["text_pattern", "BackdateError", "KEY_PATTERN", "KEY_HELP", "check_key", "check_text", "check_time", "check_interval", "MIN_NS", "MAX_NS"]
