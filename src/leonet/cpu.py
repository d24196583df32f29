"""How many cores a parallel kernel should use now: the usable cores less those other
processes keep busy.

Threads that meet at a barrier collapse on an oversubscribed machine (each waits for a
descheduled sibling), so the threaded kernels ask :func:`cores_free` before each call and run
on fewer threads, down to one. A process pool that hands out many small blocks does not wait
for its slowest worker and keeps every usable core (:func:`usable_cores`).
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def busy_elsewhere() -> float:
    """Runnable tasks other than this one, now: ``/proc/loadavg``'s running count less this
    process's own (Linux), else the 1-minute load average; 0 when neither is known."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        return float(max(0, running - 1))  # the reader itself is running
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(0.0, os.getloadavg()[0] - 1.0)
    except (OSError, AttributeError):  # pragma: no cover
        return 0.0


def cores_free(limit: int | None = None) -> int:
    """Usable cores not busy with other processes (at least one, at most ``limit``)."""
    free = usable_cores() - int(round(busy_elsewhere()))
    return max(1, min(limit or usable_cores(), free))


__all__ = ["busy_elsewhere", "cores_free", "usable_cores"]
