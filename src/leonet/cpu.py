"""How many cores a parallel kernel should use now: the usable cores less those other
processes keep busy.

Kernels share work by its size, not by the load: small calls stay on one thread (there a
sibling that other processes deschedule holds the others up longer than the work), large ones
keep every core, handing out small blocks as threads or processes free up
(:func:`share_blocks`, :func:`share_range`, :func:`fork_share`), so each takes its share of a
busy machine. Where this process already shares the cores with copies of itself
(:func:`cores_shared`: a :func:`fork_share`, a daemonic worker such as Dask's) kernels start no
threads. Only the ground links' threads count the cores other processes keep busy
(:func:`cores_free`).

Memory for that work: :func:`anonymous_array` (shared with forked workers, small pages) and
:class:`Scratch` (buffers kept between calls).
"""

from __future__ import annotations

import functools
import gc
import mmap
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def busy_elsewhere(count_own: bool = False) -> float:
    """Runnable tasks other than this thread, now: ``/proc/loadavg``'s running count less
    this process's own running threads (Linux; the reader itself, and e.g. numba's OpenMP
    workers, which spin for a while after a parallel region and then do the next region's
    work), else the 1-minute load average less one; 0 when neither is known. ``count_own``:
    leave only the reader out, for work done by other threads than those that are spinning
    (OpenBLAS's spin after a product and compete with a Python thread pool)."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        return float(max(0, running - (1 if count_own else max(1, _own_running()))))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(0.0, os.getloadavg()[0] - 1.0)
    except (OSError, AttributeError):  # pragma: no cover
        return 0.0


def _own_running() -> int:
    """This process's threads in state R (running or runnable), from ``/proc/self/task``."""
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                n += f.read().rpartition(")")[2].split()[0] == "R"
        except (OSError, IndexError):  # a thread that ended meanwhile
            continue
    return n


def cores_free(limit: int | None = None, samples: int = 1, count_own: bool = False) -> int:
    """Usable cores not busy with other processes (at least one, at most ``limit``).

    ``samples`` > 1: the least busy of that many looks ~0.5 ms apart, so that a kernel thread
    caught runnable for an instant does not take a core from a call of many milliseconds (a
    competing CPU-bound process is runnable in every look). ``count_own``: see
    :func:`busy_elsewhere`."""
    busy = busy_elsewhere(count_own)
    for _ in range(samples - 1):
        if busy < 0.5:
            break
        time.sleep(0.0005)
        busy = min(busy, busy_elsewhere(count_own))
    free = usable_cores() - int(round(busy))
    return max(1, min(limit or usable_cores(), free))


def can_fork() -> bool:
    """Whether forking copies of this process is safe here: Linux's ``fork``, called from the
    main thread of a process that may have children. A server's request thread or a Dask
    worker's task thread must not fork (other threads may hold locks the copy would inherit
    held), and a daemonic process (Dask's workers, pool children) may not have children."""
    return ("fork" in mp.get_all_start_methods() and threading.current_thread() is threading.main_thread()
            and not mp.current_process().daemon)


def fork_share(work: Callable[[int], Any], n: int, processes: int) -> Iterator[tuple[int, Any]]:
    """``(k, work(k))`` for every ``k`` in ``range(n)``, in the order they finish, computed by
    this process and ``processes - 1`` forked copies of it taking the next ``k`` as each frees
    up: no process waits for a slower one (the rule for a busy machine), and this process
    works too rather than waiting. Results travel back pickled, so they should be small next
    to the work. With one process, or where :func:`can_fork` says no, everything runs here, in order.
    The children must not start threads that the parent has started before (numba's OpenMP
    pool): give them single-threaded, compute-only work (no new libraries to import, no files
    of the parent's to write); the parent's objects are frozen for the garbage collector while
    it forks, so the children never collect what they inherit. A child's exception is raised here (the same
    exception where it can be pickled, else a RuntimeError with its traceback)."""
    processes = max(1, min(int(processes), n))
    if processes == 1 or not can_fork():
        for k in range(n):
            yield k, work(k)
        return
    global _SHARING
    outer, _SHARING = _SHARING, True  # the children inherit it
    try:
        yield from _fork_share(work, n, processes)
    finally:
        _SHARING = outer


#: Whether this process takes part in a :func:`fork_share` (its parent or a copy) right now.
_SHARING = False


def in_fork_share() -> bool:
    """Whether this process shares work with forked copies right now (:func:`fork_share`): the
    cores are taken, so kernels here should not start threads of their own."""
    return _SHARING


def cores_shared() -> bool:
    """Whether this process's siblings already use the cores: it shares work with forked copies
    (:func:`in_fork_share`) or is a daemonic worker process (Dask's, a pool's). Kernels then run
    on one thread."""
    return _SHARING or mp.current_process().daemon


def _fork_share(work: Callable[[int], Any], n: int, processes: int) -> Iterator[tuple[int, Any]]:
    ctx = mp.get_context("fork")
    nxt = ctx.Value("i", 0)
    results = ctx.Queue()

    def take() -> int:
        with nxt.get_lock():
            k = nxt.value
            nxt.value += 1
        return k

    def child() -> None:
        try:
            while (k := take()) < n:
                results.put((k, work(k), None))
            results.put((-1, None, None))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            results.put((-1, _picklable(exc), traceback.format_exc()))

    kids = [ctx.Process(target=child, daemon=True) for _ in range(processes - 1)]
    _start_frozen(kids)
    try:
        running = len(kids)
        while (k := take()) < n:
            yield k, work(k)
            while running:  # hand on what the children finished meanwhile
                try:
                    item = results.get_nowait()
                except queue.Empty:
                    break
                running -= _received(item)
                if item[0] >= 0:
                    yield item[0], item[1]
        while running:
            try:
                item = results.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in kids):
                    raise RuntimeError("a worker process died before finishing its share") from None
                continue
            running -= _received(item)
            if item[0] >= 0:
                yield item[0], item[1]
    finally:
        for p in kids:
            p.join(timeout=5.0)
            if p.is_alive():  # pragma: no cover - only when the caller stopped early
                p.terminate()
                p.join()


def _start_frozen(procs: list[Any]) -> None:
    """Start forked ``procs`` with this process's objects frozen for the garbage collector: the
    copies must never collect objects they inherit (the parent's threads may own them, e.g. a
    database's or Arrow's), and frozen objects are out of the collector's reach."""
    gc.freeze()
    try:
        for p in procs:
            p.start()
    finally:
        gc.unfreeze()


class ForkWorker:
    """A forked copy of this process that runs one call while this one goes on.

    ``ForkWorker(fn)`` starts ``fn()`` in the copy at once (:func:`fork_call`).
    ``ForkWorker(warm=w)`` forks now and runs ``w()`` there (e.g. imports, while this process
    is busy with serial work and a core is idle); :meth:`submit` later sends it ``fn(*args)``
    (pickled: ``fn`` a module-level function). :meth:`result` waits for the value. Where
    :func:`can_fork` says no, the call runs in :meth:`result`, here, and ``warm`` not at all."""

    def __init__(self, fn: Callable[[], Any] | None = None, warm: Callable[[], Any] | None = None) -> None:
        self._local: Callable[[], Any] | None = fn
        self._proc: Any = None
        self._conn: Any = None
        self._sent = fn is not None
        if not can_fork():
            return
        ctx = mp.get_context("fork")
        here, there = ctx.Pipe()

        def child() -> None:
            # Ctrl-C reaches the whole process group: the parent decides (cancel), the copy
            # never prints a traceback of its own.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                if warm is not None:
                    warm()
                f, args = (fn, ()) if fn is not None else there.recv()
                out = (f(*args), None, None)
            except EOFError:  # the parent went away without a call: nothing to report
                return
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
                out = (None, _picklable(exc), traceback.format_exc())
            try:
                there.send(out)
            except OSError:  # the parent went away meanwhile: nobody to tell
                pass

        self._proc = ctx.Process(target=child, daemon=True)
        _start_frozen([self._proc])
        there.close()
        self._conn = here

    def submit(self, fn: Callable[..., Any], *args: Any) -> ForkWorker:
        """Send ``fn(*args)`` to the copy (once); returns this worker."""
        if self._sent:
            raise RuntimeError("this worker already has its call")
        self._sent = True
        if self._proc is None:
            self._local = functools.partial(fn, *args)
        else:
            self._conn.send((fn, args))
        return self

    def result(self) -> Any:
        """The call's value; its exception (the child's own where it could be sent, with the
        child's traceback as a note) if it failed."""
        if self._proc is None:
            fn, self._local = self._local, None
            if fn is None:
                raise RuntimeError("no call to wait for (none submitted, or its result was already taken)")
            return fn()
        if not self._sent:
            raise RuntimeError("no call submitted")
        try:
            value, exc, error = self._conn.recv()
        except EOFError:
            raise RuntimeError("a worker process died before finishing its work") from None
        finally:
            self._conn.close()
            self._proc.join()
            self._proc = self._local = None
            self._sent = True
        if error is not None:
            _received((0, exc, error))
        return value

    def cancel(self) -> None:
        """Stop the copy (a caller that fails, or will not submit, does not leave it behind)."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join()
            self._conn.close()
        self._proc = self._local = None
        self._sent = True


def fork_call(fn: Callable[[], Any]) -> ForkWorker:
    """Start ``fn()`` in a forked copy of this process, so that this one goes on with other
    work meanwhile (e.g. drawing a report while tables are written); ``.result()`` waits for
    it. Same rules as :func:`fork_share`: ``fn`` should return something small, must not
    write files this process writes too, and runs here instead where forking is not safe."""
    return ForkWorker(fn)


_POOL: tuple[int, Any] | None = None  # (pid that made it, ThreadPoolExecutor): a forked copy makes its own


def thread_pool(threads: int) -> Any:
    """This process's pool of at least ``threads`` worker threads for compiled kernels that
    release the GIL (named ``leonet-pool-*``: idle between calls, see
    :func:`leonet.cli.main.leave`); idle threads sleep rather than spin."""
    from concurrent.futures import ThreadPoolExecutor

    global _POOL
    if _POOL is None or _POOL[0] != os.getpid() or _POOL[1]._max_workers < threads:
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="leonet-pool"))
    return _POOL[1]


def share_range(work: Callable[[int, int], Any], count: int, threads: int, per_thread: int) -> list[Any]:
    """``work(a, b)`` over ``range(count)`` cut into ~``per_thread`` blocks a thread, which the
    threads take as they free up (:func:`share_blocks`): a thread that other processes slow
    down holds up the call by one small block at most. One thread: one block."""
    if threads <= 1:
        return [work(0, count)]
    size = max(1, -(-count // (per_thread * threads)))
    return share_blocks(lambda k: work(k * size, min((k + 1) * size, count)), -(-count // size), threads)


def share_blocks(work: Callable[[int], Any], n: int, threads: int) -> list[Any]:
    """``[work(0), ..., work(n - 1)]``, computed by this thread and ``threads - 1`` of
    :func:`thread_pool`'s, each taking the next ``k`` as it frees up (a thread that the machine
    slows down holds up no other). ``work`` should spend its time in code that releases the GIL."""
    out: list[Any] = [None] * n
    if threads <= 1 or n <= 1:
        for k in range(n):
            out[k] = work(k)
        return out
    nxt = iter(range(n))
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                k = next(nxt, None)
            if k is None:
                return
            out[k] = work(k)

    helpers = [thread_pool(threads - 1).submit(run) for _ in range(min(threads, n) - 1)]
    try:
        run()
    finally:
        for h in helpers:
            h.result()
    return out


def _picklable(exc: BaseException) -> BaseException | None:
    """``exc`` if it survives pickling (most do), else None."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any failure means "send the text only"
        return None
    return exc


def _received(item: tuple[int, Any, str | None]) -> int:
    """1 when ``item`` says a child is done (raises its error if it failed: the child's own
    exception where it could be sent, with the child's traceback as a note), else 0."""
    k, exc, error = item
    if error is not None:
        if isinstance(exc, BaseException):
            exc.add_note(f"in a worker process:\n{error}")
            raise exc
        raise RuntimeError(f"a worker process failed:\n{error}")
    return 1 if k < 0 else 0


def anonymous_array(shape: int | tuple[int, ...], dtype: Any) -> np.ndarray:
    """A zeroed array in its own anonymous shared memory map: forked workers write into it, and
    it is in small pages. (NumPy asks for huge pages on big arrays; where the kernel has to
    compact memory to find them, a fresh 0.4 GB array took ~0.5 s more to fault in, against
    ~0.06 s steadily in small pages.)"""
    count = int(np.prod(shape))
    flat = np.frombuffer(mmap.mmap(-1, max(1, count * np.dtype(dtype).itemsize)), dtype=dtype, count=count)
    return flat if np.ndim(shape) == 0 or len(shape) == 1 else flat.reshape(shape)  # 1-D: views of it refer to it


class Scratch:
    """Working buffers kept between calls, one per name, grown (by a quarter more) when a call
    needs more: a kernel's temporaries then cost no page faults after the first call.
    Contents are garbage. Not thread-safe: one user at a time."""

    def __init__(self) -> None:
        self._bufs: dict[str, np.ndarray] = {}

    def get(self, key: str, size: int, dtype: Any) -> np.ndarray:
        """``(size,)`` of ``dtype`` from the buffer named ``key``."""
        buf = self._bufs.get(key)
        if buf is None or buf.dtype != np.dtype(dtype) or buf.size < size:
            buf = self._bufs[key] = np.empty(size + size // 4, dtype)
        return buf[:size]


__all__ = ["ForkWorker", "Scratch", "anonymous_array", "busy_elsewhere", "can_fork", "cores_free", "cores_shared", "fork_call", "fork_share",
           "in_fork_share", "share_blocks", "share_range", "thread_pool", "usable_cores"]
