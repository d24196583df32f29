"""Shared CLI plumbing: consoles, progress bars, source options and error reporting."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from leonet.errors import InputError, LeonetError
from leonet.sources.constellation import Constellation

# Off a terminal (pipes, logs, tests) tables get room instead of truncated cells, and messages
# are not hard-wrapped so that they can be searched.
_WIDE = None if sys.stdout.isatty() else 200
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200, soft_wrap=True)
out_console = Console(width=_WIDE)


def source_options(f: Callable) -> Callable:
    """FILE... arguments (files, URLs, celestrak:GROUP) or --preset NAME, plus load options."""
    f = click.option("--cache-dir", type=click.Path(file_okay=False), help="Download cache (default $LEONET_CACHE_DIR or ~/.cache/leonet).")(f)
    f = click.option("--repair-checksums", is_flag=True, help="Fix wrong TLE checksums (reported) instead of rejecting the record.")(f)
    f = click.option("--preset", help="A filed constellation instead of files: starlink-gen1, starlink-gen2, kuiper, oneweb.")(f)
    f = click.argument("sources", nargs=-1, metavar="FILE...")(f)
    return f


def load_sources(sources: tuple[str, ...], preset: str | None, repair: bool, cache_dir: str | None, epoch: str | int | None = None, quiet: bool = False) -> Constellation:
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
    return c


def report_load(c: Constellation, max_rejections: int = 10) -> None:
    r = c.report
    err_console.print(f"[bold]{c.label or 'constellation'}[/]: {r.summary()}")
    for rej in r.rejected[:max_rejections]:
        err_console.print(f"  [yellow]rejected[/] {rej}", highlight=False, markup=False)
    if len(r.rejected) > max_rejections:
        err_console.print(f"  ... and {len(r.rejected) - max_rejections} more rejections (leonet info lists them all)")
    if r.duplicates:
        err_console.print(f"  {len(r.duplicates)} duplicate catalogue numbers: newest epoch kept (leonet info lists them)")
    for rep in r.repaired[:max_rejections]:
        err_console.print(f"  [cyan]repaired[/] {rep}", highlight=False)


@contextmanager
def progress_bar(description: str, total: int | None, unit: str = "states") -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr; yields ``advance(n)``. Hidden when stderr is no terminal."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=False, disable=not err_console.is_terminal) as prog:
        task = prog.add_task(description, total=total)
        yield lambda n: prog.advance(task, n)


def handle_errors(f: Callable) -> Callable:
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except LeonetError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            sys.exit(2)
        except OSError as exc:  # a file that cannot be written or read, named by the OS
            err_console.print(f"[bold red]error:[/] {exc.strerror or exc}: {exc.filename or ''}", highlight=False)
            sys.exit(2)

    return wrapper


def output_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for ``-o``: the folder must exist, checked before any work is done."""
    if value and value != "-":
        folder = Path(value).expanduser().resolve().parent
        if not folder.is_dir():
            raise click.BadParameter(f"folder {folder} does not exist; create it first")
    return value


LAT_DEG = click.FloatRange(-90.0, 90.0)
LON_DEG = click.FloatRange(-180.0, 360.0)
ELEVATION_DEG = click.FloatRange(0.0, 90.0)


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
