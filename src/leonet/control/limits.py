"""Abuse resistance for the REST server: token-bucket rate limits and failed-login summaries.

Both are in memory, per server process, and bounded: at most ``max_keys`` buckets (the least
recently used are forgotten) and one audit entry per summary window however many logins fail.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rate:
    """``per_s`` requests a second on average, bursts of up to ``burst``."""

    per_s: float
    burst: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """'20/s', '600/min' or '20/s:50' (burst after the colon; default twice the rate a second, at least 1)."""
        from leonet.errors import InputError

        try:
            main, _, burst = text.partition(":")
            n, _, unit = main.partition("/")
            per = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}[unit.strip() or "s"]
            rate = float(n) / per
            b = float(burst) if burst else max(2 * rate, 1.0)
        except (KeyError, ValueError):
            raise InputError(f"rate {text!r} is not like '20/s', '600/min' or '20/s:50' (burst after the colon)") from None
        if rate <= 0 or b < 1:
            raise InputError(f"rate {text!r} must be positive with a burst of at least 1")
        return cls(rate, b)


class Buckets:
    """Token buckets by key; :meth:`take` answers 0 (allowed) or the seconds to wait."""

    def __init__(self, rate: Rate, max_keys: int = 100_000) -> None:
        self.rate, self.max_keys = rate, max_keys
        self._b: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        level, last = self._b.get(key, (self.rate.burst, now))
        return min(self.rate.burst, level + (now - last) * self.rate.per_s)

    def take(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            level = self._level(key, now)
            if level >= cost:
                self._b[key] = (level - cost, now)
                wait = 0.0
            else:
                self._b[key] = (level, now)
                wait = (cost - level) / self.rate.per_s
            self._b.move_to_end(key)
            while len(self._b) > self.max_keys:
                self._b.popitem(last=False)
            return wait

    def empty_for(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` has a whole token again (0: it has one now); takes nothing."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if key not in self._b:
                return 0.0
            level = self._level(key, now)
            return 0.0 if level >= 1 else (1 - level) / self.rate.per_s


class FailedLogins:
    """Failed logins counted per window and summarised into one audit entry per window."""

    TOP = 20  # clients and reasons named in a summary; the rest are counted together

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._lock = threading.Lock()
        self._start: float | None = None
        self._wall_start = ""
        self._clients: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._refused = 0

    def add(self, client: str, reason: str, refused: bool = False) -> None:
        """Count one failure (``refused``: answered 429 without checking, the client being locked out)."""
        from leonet.control.audit import utc_now

        with self._lock:
            if self._start is None:
                self._start, self._wall_start = time.monotonic(), utc_now()
            self._clients[client[:100]] += 1
            self._reasons["locked out (429)" if refused else reason[:100]] += 1
            self._refused += refused

    def due(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._start is not None and now - self._start >= self.window_s

    def pending(self) -> int:
        with self._lock:
            return sum(self._clients.values())

    def drain(self) -> dict[str, Any] | None:
        """The summary of the failures counted so far (None if none), and a new window."""
        from leonet.control.audit import utc_now

        with self._lock:
            if self._start is None:
                return None
            total = sum(self._clients.values())
            top = dict(self._clients.most_common(self.TOP))
            out = {"from": self._wall_start, "to": utc_now(), "failures": total, "clients": len(self._clients), "by_client": top,
                   "other_clients_failures": total - sum(top.values()), "by_reason": dict(self._reasons.most_common(self.TOP)),
                   "refused_while_locked_out": self._refused}
            self._start, self._clients, self._reasons, self._refused = None, Counter(), Counter(), 0
            return out
