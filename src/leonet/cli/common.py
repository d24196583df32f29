"""Shared CLI plumbing: consoles, progress bars, source options and error reporting."""

from __future__ import annotations

import functools
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from leonet.errors import InputError, LeonetError
from leonet.sources.constellation import STALE_MAX_DAYS, STALE_WARN_DAYS, Constellation
from leonet.times import TimeGrid, parse_duration, parse_time

# Off a terminal (pipes, logs, tests) tables get room instead of truncated cells, and messages
# are not hard-wrapped so that they can be searched.
_WIDE = None if sys.stdout.isatty() else 200
# markup=False: user text (file names, element-set lines, region names) is printed as it is.
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200, soft_wrap=True, markup=False)
out_console = Console(width=_WIDE, markup=False)


def source_options(f: Callable) -> Callable:
    """FILE... arguments (files, URLs, celestrak:GROUP) or --preset NAME, plus load options."""
    f = click.option("--cache-dir", type=click.Path(file_okay=False), help="Download cache (default $LEONET_CACHE_DIR or ~/.cache/leonet).")(f)
    f = click.option("--repair-checksums", is_flag=True, help="Fix wrong TLE checksums (reported) instead of rejecting the record.")(f)
    f = click.option("--allow-stale-elements", is_flag=True, expose_value=False, callback=_remember_stale,
                     help=f"Go on with element sets more than {STALE_MAX_DAYS:g} days from the time asked for (warned past {STALE_WARN_DAYS:g}).")(f)
    f = click.option("--preset", help="A filed constellation instead of files: starlink-gen1, starlink-gen2, kuiper, oneweb.")(f)
    f = click.argument("sources", nargs=-1, metavar="FILE...")(f)
    return f


def _remember_stale(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta["allow_stale_elements"] = bool(value)
    return value


def load_sources(sources: tuple[str, ...], preset: str | None, repair: bool, cache_dir: str | None, epoch: str | int | None = None,
                 quiet: bool = False, window: TimeGrid | tuple[int, int] | None = None) -> Constellation:
    """The command's satellites. With ``window`` (a grid or (start_ns, end_ns)) the element
    epochs are checked against it: a warning past 14 days, a refusal past 90 unless
    ``--allow-stale-elements``."""
    from leonet.sources.load import load

    if preset and sources:
        raise InputError("give element-set FILEs or --preset, not both")
    if not preset and not sources:
        raise InputError("no satellites: give element-set FILE(s) (TLE/OMM, URL or celestrak:GROUP) or --preset NAME (see leonet shells)")
    items = [f"preset:{preset}"] if preset else list(sources)
    c = load(items, repair_checksums=repair, cache_dir=cache_dir, epoch=epoch)
    if not quiet:
        report_load(c)
    if not len(c):
        shown = "; ".join(str(r) for r in c.report.rejected[:3])
        raise InputError(f"no usable satellites were loaded ({c.report.summary()})" + (f": {shown}" if shown else ""))
    if window is not None:
        check_stale(c, window)
    return c


def report_load(c: Constellation, max_rejections: int = 10) -> None:
    r = c.report
    say((c.label or "constellation", "bold"), f": {r.summary()}")
    for rej in r.rejected[:max_rejections]:
        say("  ", ("rejected", "yellow"), f" {rej}")
    if len(r.rejected) > max_rejections:
        err_console.print(f"  ... and {len(r.rejected) - max_rejections} more rejections (leonet info lists them all)")
    if r.duplicates:
        err_console.print(f"  {len(r.duplicates)} duplicate catalogue numbers: newest epoch kept (leonet info lists them)")
    for rep in r.repaired[:max_rejections]:
        say("  ", ("repaired", "cyan"), f" {rep}")


@contextmanager
def progress_bar(description: str, total: int | None, unit: str = "states", then: str | None = None) -> Iterator[Callable[[int], None]]:
    """Progress on stderr; yields ``advance(n)``. A rich bar on a terminal; elsewhere (pipes,
    logs, CI) a plain line at most every :data:`PLAIN_PROGRESS_S` seconds and at the end.
    ``then``: what runs once ``total`` is reached and before the block ends (e.g. writing the
    outputs): the bar takes it as its description, a plain log says it on a line of its own."""
    if err_console.is_terminal:
        columns = [TextColumn("{task.description}", style="bold"), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=err_console, transient=False) as prog:
            task = prog.add_task(description, total=total)
            done = [0]

            def bar(n: int) -> None:
                prog.advance(task, n)
                done[0] += n
                if then and total and done[0] >= total:
                    prog.update(task, description=then)

            yield bar
        return
    state = {"done": 0, "last": time.monotonic(), "start": time.monotonic(), "then": False}

    def line() -> str:
        done, took = state["done"], time.monotonic() - state["start"]
        of = f"/{total:,} {unit} ({100.0 * done / total:.0f}%)" if total else f" {unit}"
        return f"{description}: {done:,}{of}, {took:.1f} s"

    def advance(n: int) -> None:
        state["done"] += n
        now = time.monotonic()
        if then and total and state["done"] >= total and not state["then"]:
            state["then"] = True
            say(line() + " done")
            say(f"{then} ...")
        elif now - state["last"] >= PLAIN_PROGRESS_S:
            state["last"] = now
            say(line())

    yield advance
    if not state["then"]:
        say(line() + " done")


#: Seconds between plain progress lines when stderr is not a terminal.
PLAIN_PROGRESS_S = 10.0

#: Exit codes (documented in the README): 0 done; 1 the input or data is wrong (the message says
#: what and how to fix it); 2 the command line is wrong (click's usage errors); 3 a bug in
#: leonet (set LEONET_DEBUG=1 for the traceback); 130 interrupted.
EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 130


def say(*parts: str | tuple[str, str], console: Console | None = None) -> None:
    """Print a line verbatim (user text is never read as markup); ``(text, style)`` parts are styled."""
    (console or err_console).print(Text.assemble(*parts), highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    say(("error: ", "bold red"), message)
    sys.exit(code)


def handle_errors(f: Callable) -> Callable:
    """Every command's one error path: leonet's own errors and OS errors (a file that cannot be
    read or written) become one line and exit code 1; anything else is a bug, reported in one
    line with exit code 3 (the traceback with ``LEONET_DEBUG=1``)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 (reported, or re-raised under LEONET_DEBUG)
            report_exception(exc)

    return wrapper


def report_exception(exc: BaseException) -> NoReturn:
    """The one error path: leonet's own errors and OS errors (named by the OS) are one line and
    exit code 1; an interrupt is 130; anything else is a bug: one line, exit code 3, and the
    traceback only with ``LEONET_DEBUG=1``."""
    if isinstance(exc, LeonetError):
        fail(str(exc))
    if isinstance(exc, OSError):
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    if isinstance(exc, KeyboardInterrupt):
        fail("interrupted", EXIT_INTERRUPTED)
    if os.environ.get("LEONET_DEBUG") or not isinstance(exc, Exception):
        raise exc
    fail(f"internal error ({type(exc).__name__}: {exc}). This is a bug in leonet; run again with LEONET_DEBUG=1 "
         "to see the traceback and report it", EXIT_INTERNAL)


def output_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for ``-o``: the folder must exist and be writable, and the path must not
    be a folder; checked before any work is done."""
    if value and value != "-":
        p = Path(value).expanduser()
        if p.is_dir():
            raise click.BadParameter(f"{value} is a folder; give a file name")
        folder = p.resolve().parent
        if not folder.is_dir():
            raise click.BadParameter(f"folder {folder} does not exist; create it first")
        if not os.access(folder, os.W_OK):
            raise click.BadParameter(f"folder {folder} is not writable")
    return value


def output_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for an output folder: it must be a folder (or creatable) and writable."""
    if value:
        check_output_dir(Path(value), "/".join(param.opts))
    return value


def check_output_dir(folder: Path, option: str) -> None:
    """Fail now, naming ``option``, if ``folder`` cannot be created or written."""
    p = folder.expanduser()
    if p.exists() and not p.is_dir():
        raise click.BadParameter(f"{folder} exists and is not a folder", param_hint=option)
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise click.BadParameter(f"cannot create {folder}: {probe} is a file", param_hint=option)
    if not os.access(probe, os.W_OK):
        raise click.BadParameter(f"cannot write to {folder} ({probe} is not writable)", param_hint=option)


#: File extensions of the table formats.
FORMAT_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def output_format(fmt: str | None, output: str, allowed: tuple[str, ...] = ("csv", "parquet")) -> str:
    """The table format: ``--format`` if given, else from ``-o``'s extension; an error naming both
    when they disagree (Parquet bytes in a .csv file help nobody)."""
    ext = Path(output).suffix.lower()
    by_ext = FORMAT_EXTENSIONS.get(ext)
    if fmt is None:
        if by_ext is None or by_ext not in allowed:
            raise InputError(f"-o {output}: give --format {' or '.join(allowed)}, or an output file ending in "
                             + " or ".join(e for e, f in FORMAT_EXTENSIONS.items() if f in allowed))
        return by_ext
    if by_ext is not None and by_ext != fmt:
        raise InputError(f"--format {fmt} but -o {output} ends in {ext} ({by_ext}); make them agree")
    return fmt


def default_max_memory_gb() -> float:
    """Three quarters of this machine's memory."""
    import psutil

    return round(0.75 * psutil.virtual_memory().total / 2**30, 1)


def max_memory_option(f: Callable) -> Callable:
    """``--max-memory-gb``: jobs estimated to need more are refused before they start."""
    return click.option("--max-memory-gb", type=click.FloatRange(min=0, min_open=True), default=None,
                        help="Refuse jobs estimated to need more memory than this (default: 3/4 of this machine's).")(f)


def check_job(estimate: dict, max_memory_gb: float | None) -> None:
    """Print the job's estimate; refuse it, before any work, when it needs more memory than allowed."""
    limit = default_max_memory_gb() if max_memory_gb is None else max_memory_gb
    gb = estimate["bytes"] / 2**30
    say(f"job: {estimate['what']}; about {gb:,.2f} GB")
    if gb > limit:
        raise InputError(f"this job needs about {gb:,.1f} GB, more than the {limit:g} GB allowed: shorten --duration, widen --step, "
                         f"choose fewer satellites or a coarser --h3-res, or raise --max-memory-gb")


def states_option(f: Callable) -> Callable:
    """``--states``: which operational states serve (default operational; 'all' for every satellite)."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None | str:
        if value is None:
            return "default"
        if value.strip().lower() == "all":
            return None
        from leonet.sources.fleet import parse_states

        try:
            return parse_states(value)
        except InputError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option("--states", callback=parse, metavar="STATE[,STATE...]|all",
                        help="Satellites that serve, by operational state (see leonet fleet): default operational; "
                             "e.g. operational,raising; 'all' for every satellite.")(f)


def grid_options(start: str, duration: str, step: str) -> TimeGrid:
    """``--start``, ``--duration``, ``--step`` as a grid; an error names the option at fault."""
    for opt, value, fn in (("--start", start, parse_time), ("--duration", duration, parse_duration), ("--step", step, parse_duration)):
        try:
            fn(value)
        except InputError as exc:
            raise InputError(f"{opt} {value}: {exc}") from None
    return TimeGrid(start, duration, step)


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses NaN and infinities (click's own lets NaN through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


LAT_DEG = FiniteFloatRange(-90.0, 90.0)
LON_DEG = FiniteFloatRange(-180.0, 360.0)
ELEVATION_DEG = FiniteFloatRange(0.0, 90.0)


def cli_command_line() -> str:
    """The running command as the user could type it again (for run metadata): the command
    path, its arguments and every option given a non-default value."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return shlex.join(["leonet", *sys.argv[1:]])
    parts = ["leonet", *ctx.command_path.split()[1:]]
    for p in ctx.command.params:
        v = ctx.params.get(p.name)
        if v is None or v is False or v == () or (not isinstance(p, click.Argument) and v == p.default):
            continue
        if isinstance(p, click.Argument):
            parts += [str(x) for x in (v if isinstance(v, tuple) else (v,))]
        elif getattr(p, "is_flag", False):
            parts.append(p.opts[0])
        else:
            parts += [p.opts[0], str(v)]
    return shlex.join(parts)


def check_stale(c: Constellation, window: TimeGrid | tuple[int, int]) -> None:
    """Warn about element sets more than 14 days from ``window``; refuse past 90 days unless
    ``--allow-stale-elements`` was given."""
    t0, t1 = (window.start_ns, window.end_ns - window.step_ns) if isinstance(window, TimeGrid) else window
    ctx = click.get_current_context(silent=True)
    allow = bool(ctx and ctx.meta.get("allow_stale_elements"))
    for note in c.stale_elements(int(t0), int(t1), allow=allow):
        say(("warning: ", "yellow"), note)


def parse_id_list(text: str | None) -> list[int] | None:
    if text is None:
        return None
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            num = int(part)
        except ValueError:
            raise InputError(f"--sats takes catalogue numbers separated by commas, e.g. 44714,44715; {part!r} is not one") from None
        if not 1 <= num <= 339_999:
            raise InputError(f"--sats: catalogue number {num} is outside 1..339999 (the range SGP4 element sets can hold)")
        out.append(num)
    if not out:
        raise InputError("--sats is empty; give catalogue numbers separated by commas")
    return out
