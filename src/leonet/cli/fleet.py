"""``leonet fleet``: the operational state of every satellite of a snapshot."""

from __future__ import annotations

import click
from rich.table import Table

from leonet.cli.common import handle_errors, out_console, output_file, output_format, say
from leonet.errors import InputError


def fleet_counts_table(counts: dict[str, int], title: str) -> Table:
    """Satellites per state (``Fleet.counts()``, every state listed) as a rich table."""
    t = Table(title=title, title_justify="left")
    t.add_column("state")
    t.add_column("satellites", justify="right")
    for s, n in counts.items():
        t.add_row(s, f"{n:,}")
    return t


def shells_table(fleet) -> Table:
    t = Table(title="Inferred shells (satellites holding station; mean altitude above 6378.135 km)", title_justify="left")
    for col in ("shell", "inclination deg", "mean altitude km", "satellites", "payload"):
        t.add_column(col, justify="right" if col != "payload" else "left")
    for s in fleet.shells:
        t.add_row(str(s["shell"]), f"{s['inclination_deg']:.2f}", f"{s['altitude_km']:.1f}", f"{s['satellites']:,}", "direct-to-cell" if s["dtc"] else "broadband")
    return t


@click.command()
@click.argument("source", metavar="FILE")
@click.option("--history", "history", multiple=True, metavar="OLDER",
              help="An older snapshot of the same constellation (repeatable): the altitude trend since it separates raising, lowering and steady satellites.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), help="Table format (default: from the extension of -o).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file.")
@handle_errors
def fleet(source: str, history: tuple[str, ...], fmt: str, output: str) -> None:
    """Operational state of every satellite of the snapshot FILE, one row per satellite:
    norad_id,name,intl_designator,shell,state,alt_km,inclination_deg,reason.

    States: operational (holding station in an inferred shell), raising, lowering (toward a
    lower shell), deorbiting (descending below every shell of its inclination), dtc
    (direct-to-cell payload) and unassigned (with the reason). alt_km is the mean altitude (mean
    semi-major axis minus 6378.135 km); shell is the shell held, or the one a moving satellite
    heads for (-1 none). The rules are in the README ("Who serves")."""
    from leonet.export.files import write_table
    from leonet.sources.fleet import infer_fleet
    from leonet.sources.load import load

    fmt = output_format(fmt, output)
    c = load([source])
    if not len(c):
        raise InputError(f"no satellites were loaded from {source}; check it with leonet info")
    older = [load([h]) for h in history]
    for h, name in zip(older, history):
        if not len(h):
            raise InputError(f"no satellites were loaded from the --history file {name}; check it with leonet info")
    f = infer_fleet(c, older)
    rows = write_table(f.table(), output, fmt, quoting="minimal")  # the header exactly as documented
    out_console.print(fleet_counts_table(f.counts(), f"{c.label}: {len(f):,} satellites" + (f" (history: {', '.join(f.history)})" if older else "")))
    out_console.print(shells_table(f))
    say(f"wrote {rows:,} rows to {output}")
