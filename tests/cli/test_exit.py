"""How the ``leonet`` process ends (:func:`leonet.cli.main.leave`): exit codes, every line of
output and the exit handlers kept, the interpreter's teardown skipped only when no other
Python thread still runs."""

from __future__ import annotations

import subprocess
import sys


def leonet(*args: str, before: str = "") -> subprocess.CompletedProcess:
    code = f"{before}\nfrom leonet.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_output_and_exit_code_of_a_finished_command() -> None:
    """Every byte a command prints arrives, as with the interpreter's own exit (forced here by a
    second thread that is still alive when the command returns)."""
    fast = leonet("shells")
    slow = leonet("shells", before="import threading, time\nthreading.Thread(target=time.sleep, args=(0.3,)).start()")
    assert fast.returncode == slow.returncode == 0
    assert fast.stdout == slow.stdout and fast.stdout.endswith("\n")
    assert "starlink" in fast.stdout.lower()


def test_usage_and_input_errors_keep_their_codes() -> None:
    p = leonet("propagate", "--no-such-option")
    assert p.returncode == 2 and "no such option" in p.stderr.lower()
    p = leonet("info", "/nonexistent/elements.tle")
    assert p.returncode in (1, 2) and "/nonexistent/elements.tle" in p.stderr
    assert "Traceback" not in p.stderr


def test_exit_handlers_still_run() -> None:
    p = leonet("--version", before="import atexit; atexit.register(lambda: print('exit handler ran', flush=True))")
    assert p.returncode == 0
    assert "exit handler ran" in p.stdout


def test_a_thread_still_working_is_let_finish() -> None:
    before = "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.5), print('thread finished', flush=True))).start()"
    p = leonet("--version", before=before)
    assert p.returncode == 0
    assert "thread finished" in p.stdout


def _processes_marked(mark: str) -> list[int]:
    """PIDs of live processes whose environment holds ``LEONET_TEST_MARK=mark`` (Linux /proc)."""
    from pathlib import Path

    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if f"LEONET_TEST_MARK={mark}".encode() in (p / "environ").read_bytes().split(b"\0"):
                    found.append(int(p.name))
            except OSError:
                pass
    return found


def test_interrupting_the_demo_stops_every_process_without_a_traceback(tmp_path) -> None:
    """Ctrl-C while the demo computes (its report's forked copy waiting, coverage chunks shared
    with another copy): exit code 130, one line, and no process of the job left behind."""
    import os
    import signal
    import time
    import uuid

    from refdata import data_dir

    mark = uuid.uuid4().hex
    env = dict(os.environ, LEONET_TEST_MARK=mark, LEONET_DATA_DIR=str(data_dir()))
    code = "from leonet.cli.main import main\nmain()"
    p = subprocess.Popen([sys.executable, "-c", code, "demo", "-o", str(tmp_path / "out")], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(_processes_marked(mark)) < 3 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # until the report's copy and a coverage copy run beside the command
    assert p.poll() is None, "the demo ended before it could be interrupted"
    for q in _processes_marked(mark):  # as a terminal does: every process of the job gets it
        try:
            os.kill(q, signal.SIGINT)
        except ProcessLookupError:
            pass
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    deadline = time.monotonic() + 10
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_marked(mark) == []


def test_the_routers_idle_thread_pool_does_not_hold_the_exit() -> None:
    """A command that used the Dijkstra threads (the library's pool, named leonet-pool-...)
    still takes the short exit: a probe thread named like them, still asleep when the command
    returns, is not waited for (an ordinary thread is: the test above; so is any other
    leonet-named thread, e.g. the control server's: the test below)."""
    before = ("import numpy as np, threading, time\nfrom leonet.network.shortest import dijkstra, csr_from_edges\n"
              "g = csr_from_edges(np.arange(999), np.arange(1, 1000), np.ones(999), 1000)\n"
              "dijkstra(g, np.arange(0, 1000, 10), threads=2)\n"
              "threading.Thread(target=lambda: (time.sleep(3), print('probe woke', flush=True)), name='leonet-pool-probe').start()\n"
              "import atexit; atexit.register(lambda: print('pool threads', sum(t.name.startswith('leonet-pool') for t in threading.enumerate()), flush=True))")
    p = leonet("--version", before=before)
    assert p.returncode == 0 and "leonet" in p.stdout
    assert "pool threads" in p.stdout and "pool threads 0" not in p.stdout  # the pool was alive at the end
    assert "probe woke" not in p.stdout


def test_other_library_threads_take_the_normal_exit() -> None:
    """Only the idle worker pool is skipped: a background thread of the library's with another
    name (the control server's checkpoints, failed-login summaries) is not, so a long command
    that leaves one running exits normally and does not cut it short."""
    before = ("import threading, time\n"
              "threading.Thread(target=lambda: (time.sleep(1), print('checkpoint done', flush=True)), name='leonet-checkpoints').start()")
    p = leonet("--version", before=before)
    assert p.returncode == 0 and "checkpoint done" in p.stdout
