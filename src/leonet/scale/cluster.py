"""A real Dask cluster of separate processes on this machine: ``dask scheduler`` and ``dask
worker`` s on 127.0.0.1, started as the commands a user would type, stopped by PID.

For the tests and ``bench/scale.py`` (and to try ``--scheduler tcp://...`` on one machine)::

    with DaskProcesses(workers=2) as cluster:
        execute(plan, cluster.address)
        cluster.kill_worker(0)          # SIGKILL one worker mid-run

Every wait is bounded (``timeout_s``); on exit every process still running is terminated, then
killed, by the PID this object started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from leonet.errors import LeonetError


class ClusterError(LeonetError):
    """The scheduler or a worker did not start in time."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_command() -> list[str]:
    exe = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    return [exe] if exe else [sys.executable, "-m", "dask"]


class DaskProcesses:
    """``workers`` single-threaded ``dask worker`` processes and their ``dask scheduler``."""

    def __init__(self, workers: int = 2, timeout_s: float = 90.0, env: dict[str, str] | None = None, dashboard: bool = False):
        self.n_workers, self.timeout_s = workers, timeout_s
        self.env = os.environ | (env or {})
        self.dashboard = dashboard
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self._dir = tempfile.mkdtemp(prefix="leonet-dask-")
        self._logs: list = []

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(Path(self._dir) / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return subprocess.Popen([*_dask_command(), *args], stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self._dir)

    def start(self) -> DaskProcesses:
        dash = ["--dashboard-address", f"127.0.0.1:{free_port()}"] if self.dashboard else ["--no-dashboard"]
        self.scheduler = self._spawn(["scheduler", "--host", "127.0.0.1", "--port", str(self.port), *dash], "scheduler")
        self._wait_port()
        for k in range(self.n_workers):
            self.add_worker(k)
        self.wait_workers(self.n_workers)
        return self

    def add_worker(self, k: int | None = None) -> subprocess.Popen:
        k = len(self.workers) if k is None else k
        w = self._spawn(["worker", self.address, "--nthreads", "1", "--nworkers", "1", "--no-nanny", "--no-dashboard",
                         "--host", "127.0.0.1", "--memory-limit", "0", "--local-directory", self._dir, "--name", f"w{k}-{len(self.workers)}"], f"worker{len(self.workers)}")
        self.workers.append(w)
        return w

    def _wait_port(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.scheduler is not None and self.scheduler.poll() is not None:
                raise ClusterError(f"dask scheduler exited ({self.scheduler.returncode}): {self.log('scheduler')[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise ClusterError(f"dask scheduler did not listen on {self.address} within {self.timeout_s:.0f} s")

    def wait_workers(self, n: int) -> None:
        """Until ``n`` workers are connected (bounded)."""
        from distributed import Client

        with Client(self.address, timeout=self.timeout_s) as c:
            c.wait_for_workers(n, timeout=self.timeout_s)

    def kill_worker(self, k: int) -> None:
        """SIGKILL worker ``k`` (as a machine lost mid-run)."""
        w = self.workers[k]
        if w.poll() is None:
            os.kill(w.pid, signal.SIGKILL)
            w.wait(timeout=self.timeout_s)

    def log(self, name: str) -> str:
        p = Path(self._dir) / f"{name}.log"
        return p.read_text(errors="replace") if p.is_file() else ""

    def stop(self) -> None:
        procs = [*self.workers, *([self.scheduler] if self.scheduler else [])]
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 10.0
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=10.0)
        for log in self._logs:
            log.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> DaskProcesses:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
