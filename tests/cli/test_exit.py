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
