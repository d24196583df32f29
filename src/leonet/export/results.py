"""The tables of ``leonet coverage``, ``leonet route`` and ``leonet passes``, built once: the CLI
writes them and the front door's ``to_pandas()`` returns them, so both always agree.

``*_table`` builds an Arrow table (columns as the CLI contracts name them); ``write_*`` writes
it with :func:`leonet.export.files.write_table`, except the routes, which compiled code formats
step by step into the same bytes (:func:`write_routes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from leonet.coverage.passes import Passes
from leonet.coverage.regional import RegionalResult
from leonet.export.files import timestamps, write_chunks, write_table
from leonet.export.text import id_words, joined_ints, route_step_bound, route_step_rows

if TYPE_CHECKING:  # routing (and scipy) load only when routes are written
    from leonet.network.run import RouteRun

COVERAGE_COLUMNS = ("time_utc", "region", "cells", "cells_covered", "sats_in_view_min", "sats_in_view_mean", "sats_in_view_max", "sats_overhead")
ROUTE_COLUMNS = ("t_ns", "src", "dst", "hops", "path", "length_m", "rtt_ms")
NODE_COLUMNS = ("id", "kind", "name", "norad_id")
PASS_COLUMNS = ("norad_id", "rise_utc", "culminate_utc", "set_utc", "max_elevation_deg")


def coverage_table(res: RegionalResult, served_only: bool = False) -> pa.Table:
    """One row per (time, region) of :data:`COVERAGE_COLUMNS`. With ``served_only`` (a policy
    applied), ``cells_covered`` counts only cells whose region is active at that time."""
    ts = res.timeseries()
    covered = ts["cells_served"] if served_only else ts["cells_covered"]
    cols = {"time_utc": timestamps(ts["t_ns"]), "region": ts["region"], "cells": ts["cells"], "cells_covered": covered}
    cols |= {k: ts[k] for k in COVERAGE_COLUMNS[4:]}
    return pa.table({k: v if isinstance(v, pa.Array) else overhead_column(v) if k == "sats_overhead" else np.asarray(v) for k, v in cols.items()})


def overhead_column(values: np.ndarray) -> pa.Array:
    """``sats_overhead``: null for regions that are not targets (it is counted for targets only)."""
    v = np.asarray(values)
    return pa.array(v, mask=v < 0)


def routes_table(run: RouteRun) -> pa.Table:
    """One row per (instant, pair) of :data:`ROUTE_COLUMNS`, instants in order. ``t_ns`` counts
    from the grid's start; ``path`` is node ids joined by '-'; an unreachable pair keeps its row
    with ``hops``, ``path``, ``length_m`` and ``rtt_ms`` null."""
    r = run.routes
    tn, p = r.hops.shape
    hops = r.hops.reshape(-1)
    ok = hops >= 0
    # Paths are right-aligned with -1 before them, so the non-negative entries of the rows, in
    # order, are every path one after another: joined by '-' in compiled code.
    nodes = np.concatenate([rows[rows >= 0] for rows in r.paths]) if tn else np.zeros(0, np.int64)
    offsets = np.zeros(tn * p + 1, dtype=np.int64)
    np.cumsum(np.where(ok, hops + 1, 0), out=offsets[1:])
    text_offsets, text = joined_ints(nodes.astype(np.int64, copy=False), offsets, ord("-"))
    validity = pa.array(ok).buffers()[1] if not ok.all() else None
    if text.size < 2**31:
        paths = pa.StringArray.from_buffers(tn * p, pa.py_buffer(text_offsets.astype(np.int32)), pa.py_buffer(text), validity)
    else:
        paths = pa.LargeStringArray.from_buffers(tn * p, pa.py_buffer(text_offsets), pa.py_buffer(text), validity)
    return pa.table({
        "t_ns": pa.array(np.repeat(r.t_ns - run.start_ns, p)),
        "src": pa.array(np.tile(r.src_id, tn)),
        "dst": pa.array(np.tile(r.dst_id, tn)),
        "hops": pa.array(hops, mask=~ok),
        "path": paths,
        "length_m": pa.array(r.length_m.reshape(-1), mask=~ok),
        "rtt_ms": pa.array(r.rtt_ms.reshape(-1), mask=~ok),
    })


def nodes_table(run: RouteRun) -> pa.Table:
    """The route's node ids and names (:data:`NODE_COLUMNS`): satellites, endpoints, gateways, PoPs."""
    cols = run.node_columns()
    return pa.table({"id": pa.array(cols["id"], pa.int64()), "kind": cols["kind"], "name": cols["name"],
                     "norad_id": pa.array(cols["norad_id"], pa.int64())})


def passes_table(found: Passes, norad_id: np.ndarray) -> pa.Table:
    """One row per pass (:data:`PASS_COLUMNS`) sorted by rise time, ties by catalogue number;
    times to the millisecond."""
    norad = np.asarray(norad_id)[found.sat_index]
    order = np.lexsort((norad, found.rise_ns))
    return pa.table({"norad_id": norad[order], "rise_utc": timestamps(found.rise_ns[order], "ms"),
                     "culminate_utc": timestamps(found.culminate_ns[order], "ms"), "set_utc": timestamps(found.set_ns[order], "ms"),
                     "max_elevation_deg": found.max_elevation_deg[order]})


def write_routes(run: RouteRun, path: str | Path) -> tuple[int, Path]:
    """The routes as CSV at ``path`` and the node names at ``path.nodes.csv``; returns
    (rows, nodes path). Lengths to the mm, RTTs to the ns: the bytes of :func:`routes_table`
    written by :func:`~leonet.export.files.write_table` (minimal quoting, those decimals),
    formatted step by step in compiled code (:func:`leonet.export.text.route_step_rows`)."""
    decimals = {"length_m": 3, "rtt_ms": 6}
    chunks = _route_csv(run, decimals["length_m"], decimals["rtt_ms"])
    if chunks is not None:
        try:
            write_chunks(chunks, path)
            rows = run.routes.hops.size
        except _Unformattable:  # the partial file is removed; the table goes through Python
            chunks = None
    if chunks is None:  # a value outside the compiled formatter
        rows = write_table(routes_table(run), path, "csv", quoting="minimal", decimals=decimals)
    nodes = Path(str(path) + ".nodes.csv")
    write_table(nodes_table(run), nodes, "csv", quoting="minimal")
    return rows, nodes


class _Unformattable(Exception):
    """A step holds a value the compiled route formatter does not write."""


def _route_csv(run: RouteRun, length_digits: int, rtt_digits: int) -> Iterator[bytes | np.ndarray] | None:
    """The route CSV's header and rows (:data:`ROUTE_COLUMNS`) as byte chunks, one step at a
    time in one reused buffer (written as they come, so memory stays one step's); None when the
    node ids are too wide, :class:`_Unformattable` raised from the step that cannot be written."""
    r = run.routes
    tn, p = r.hops.shape
    n_ids = int(max(r.src_id.max(initial=0), r.dst_id.max(initial=0), *(x.max(initial=0) for x in r.paths))) + 1
    if n_ids > 10**8:
        return None

    def steps() -> Iterator[bytes | np.ndarray]:
        words, chars = id_words(n_ids)
        id_chars = len(str(n_ids))
        t_rel = r.t_ns - run.start_ns
        src, dst = r.src_id.astype(np.int64), r.dst_id.astype(np.int64)
        yield (",".join(ROUTE_COLUMNS) + "\n").encode()
        buf = np.empty(0, dtype=np.uint8)
        for k in range(tn):
            t_text = np.frombuffer(str(int(t_rel[k])).encode(), np.uint8)
            path = np.ascontiguousarray(r.paths[k])  # int32 from the routers; int64 accepted
            need = route_step_bound(p, path.shape[1], t_text.size, id_chars, length_digits, rtt_digits)
            if buf.size < need:
                buf = np.empty(need, dtype=np.uint8)
            end = route_step_rows(buf, 0, t_text, src, dst, r.hops[k], path, r.length_m[k], r.rtt_ms[k], length_digits, rtt_digits, words, chars)
            if end < 0:
                raise _Unformattable
            yield buf[:end]

    return steps()


def write_passes(found: Passes, norad_id: np.ndarray, path: str | Path) -> int:
    return write_table(passes_table(found, norad_id), path, "csv", quoting="minimal", decimals={"max_elevation_deg": 4})


__all__ = [
    "COVERAGE_COLUMNS", "NODE_COLUMNS", "PASS_COLUMNS", "ROUTE_COLUMNS",
    "coverage_table", "nodes_table", "passes_table", "routes_table", "write_passes", "write_routes",
]
