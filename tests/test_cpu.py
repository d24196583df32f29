"""leonet.cpu: shared work between this process and forked copies of it."""

from __future__ import annotations

import os
import time

import pytest

from leonet.cpu import can_fork, fork_share


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_fork_share_returns_every_result_once(processes: int) -> None:
    def work(k: int) -> tuple[int, int]:
        time.sleep(0.05)  # long enough for the forked copies to take their share
        return k * k, os.getpid()

    got = dict(fork_share(work, 7, processes))
    assert sorted(got) == list(range(7))
    assert all(v[0] == k * k for k, v in got.items())
    pids = {pid for _, pid in got.values()}
    assert len(pids) == 1 if processes == 1 else len(pids) >= 2  # forked copies took part


def test_fork_share_with_one_process_runs_here_in_order() -> None:
    assert [k for k, _ in fork_share(lambda k: os.getpid(), 4, 1)] == [0, 1, 2, 3]
    assert {v for _, v in fork_share(lambda k: os.getpid(), 4, 1)} == {os.getpid()}


def test_fork_share_raises_a_childs_error() -> None:
    parent = os.getpid()

    def work(k: int) -> int:
        if os.getpid() != parent:
            raise ValueError("bad chunk")
        time.sleep(0.05)  # leaves the child time to take a chunk
        return k

    with pytest.raises(ValueError, match="bad chunk"):
        list(fork_share(work, 6, 2))


def test_fork_share_never_forks_from_a_request_thread() -> None:
    """A server's or Dask worker's thread must not fork: the work runs here, in order."""
    import threading

    got: list = []
    t = threading.Thread(target=lambda: got.extend(fork_share(lambda k: os.getpid(), 4, 2)))
    t.start()
    t.join()
    assert got == [(k, os.getpid()) for k in range(4)]


def test_fork_call_runs_in_a_copy_and_returns_its_value() -> None:
    from leonet.cpu import fork_call

    call = fork_call(lambda: (os.getpid(), [1, 2, 3]))
    pid, value = call.result()
    assert value == [1, 2, 3]
    assert pid != os.getpid()  # computed by the forked copy
    with pytest.raises(RuntimeError, match="already taken"):
        call.result()


def test_fork_call_raises_the_copys_error_and_can_be_cancelled() -> None:
    from leonet.cpu import fork_call

    def bad() -> None:
        raise KeyError("no such cell")

    with pytest.raises(KeyError, match="no such cell") as info:
        fork_call(bad).result()
    assert any("in a worker process" in n for n in getattr(info.value, "__notes__", []))
    slow = fork_call(lambda: time.sleep(30))
    started = time.monotonic()
    slow.cancel()
    assert time.monotonic() - started < 10


def test_fork_call_from_a_request_thread_runs_here() -> None:
    import threading

    from leonet.cpu import fork_call

    got: list = []
    t = threading.Thread(target=lambda: got.append(fork_call(os.getpid).result()))
    t.start()
    t.join()
    assert got == [os.getpid()]


def _pid_and_double(x: int) -> tuple[int, int]:
    return os.getpid(), 2 * x


def test_fork_worker_warms_up_then_runs_the_call_it_is_sent(tmp_path) -> None:
    from leonet.cpu import ForkWorker

    mark = tmp_path / "warm"
    w = ForkWorker(warm=lambda: mark.write_text(str(os.getpid())))
    pid, value = w.submit(_pid_and_double, 21).result()
    assert value == 42 and pid != os.getpid()
    assert mark.read_text() == str(pid)  # the warm-up ran in the same copy, before the call
    with pytest.raises(RuntimeError, match="already"):
        w.submit(_pid_and_double, 1)


def test_fork_worker_without_a_call_is_cancelled_cleanly() -> None:
    from leonet.cpu import ForkWorker

    w = ForkWorker(warm=lambda: None)
    w.cancel()
    with pytest.raises(RuntimeError, match="no call"):
        w.result()


def test_fork_worker_in_a_request_thread_runs_the_call_here_without_warming() -> None:
    import threading

    from leonet.cpu import ForkWorker

    warmed: list = []
    got: list = []

    def thread() -> None:
        w = ForkWorker(warm=lambda: warmed.append(1))
        got.append(w.submit(_pid_and_double, 2).result())

    t = threading.Thread(target=thread)
    t.start()
    t.join()
    assert got == [(os.getpid(), 4)] and warmed == []


def test_share_blocks_keeps_the_order_and_uses_the_pool() -> None:
    import threading

    from leonet.cpu import share_blocks

    seen: set = set()

    def work(k: int) -> int:
        seen.add(threading.current_thread().name)
        time.sleep(0.01)
        return k * k

    assert share_blocks(work, 12, 2) == [k * k for k in range(12)]
    assert any(name.startswith("leonet-pool") for name in seen) and threading.current_thread().name in seen
    assert share_blocks(work, 3, 1) == [0, 1, 4]

    def bad(k: int) -> int:
        if k == 5:
            raise ValueError("block 5")
        return k

    with pytest.raises(ValueError, match="block 5"):
        share_blocks(bad, 8, 2)



def test_own_running_threads_are_not_a_busy_machine() -> None:
    """Threads of this process that keep running (numba's OpenMP workers spin after a parallel
    region) are seen as this process's own, so busy_elsewhere leaves them out; a separate busy
    process still counts."""
    import subprocess
    import sys
    import threading

    from numba import njit

    from leonet.cpu import _own_running, busy_elsewhere

    @njit(nogil=True)
    def spin(n: int) -> float:
        x = 0.0
        for i in range(n):
            x += (i % 7) * 0.5
        return x

    spin(10)
    t = threading.Thread(target=spin, args=(3_000_000_000,), daemon=True)  # ~1-2 s without the GIL
    t.start()
    seen = [_own_running() for _ in range(200)]
    assert min(seen) >= 1 and max(seen) >= 2  # the reader, and the spinning thread seen running
    t.join()
    base = min(busy_elsewhere() for _ in range(20))
    child = subprocess.Popen([sys.executable, "-c", "import time\nend = time.monotonic() + 20\nwhile time.monotonic() < end: pass"])
    try:
        end = time.monotonic() + 5.0
        while busy_elsewhere() < base + 1 and time.monotonic() < end:
            time.sleep(0.01)
        assert busy_elsewhere() >= base + 1 or max(busy_elsewhere() for _ in range(50)) >= base + 1
    finally:
        child.kill()
        child.wait()


def test_anonymous_array_is_zeroed_shared_memory() -> None:
    import mmap

    import numpy as np

    from leonet.cpu import anonymous_array

    a = anonymous_array((3, 4), np.float32)
    assert a.shape == (3, 4) and a.dtype == np.float32 and not a.any()
    a[1, 2] = 5.0
    base = a
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    assert isinstance(base, mmap.mmap)  # what forked workers write into
    assert anonymous_array(0, np.int32).shape == (0,)


def test_scratch_keeps_one_buffer_per_name() -> None:
    import numpy as np

    from leonet.cpu import Scratch

    s = Scratch()
    a = s.get("a", 100, np.int64)
    b = s.get("b", 100, np.int64)  # same dtype, another name: another buffer
    assert not np.shares_memory(a, b)
    assert np.shares_memory(s.get("a", 80, np.int64), a)  # smaller: the same buffer
    bigger = s.get("a", 1000, np.int64)
    assert bigger.size == 1000 and not np.shares_memory(bigger, a)
    assert s.get("a", 50, np.uint8).dtype == np.uint8  # another dtype: a buffer of that dtype


def _sharing(k: int) -> tuple[int, bool]:
    import os

    from leonet.cpu import in_fork_share

    return os.getpid(), in_fork_share()


@pytest.mark.skipif(not can_fork(), reason="needs fork()")
def test_in_fork_share_while_processes_share_work() -> None:
    """The parent and its forked copies see :func:`in_fork_share` while they share work (their
    kernels then start no threads of their own); not before, not after."""
    import os
    import time

    from leonet.cpu import fork_share, in_fork_share

    assert not in_fork_share()
    got = dict(fork_share(lambda k: time.sleep(0.02) or _sharing(k), 8, 2))
    assert not in_fork_share()
    assert all(flag for _, flag in got.values())
    assert len({pid for pid, _ in got.values()}) == 2 and os.getpid() in {pid for pid, _ in got.values()}
