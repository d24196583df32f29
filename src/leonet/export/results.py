"""The tables of ``leonet coverage``, ``leonet route`` and ``leonet passes``, built once: the CLI
writes them and the front door's ``to_pandas()`` returns them, so both always agree.

``*_table`` builds an Arrow table (columns as the CLI contracts name them); ``write_*`` writes
it with :func:`leonet.export.files.write_table`, except the routes, which compiled code formats
step by step into the same bytes (:func:`write_routes`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa

from leonet.coverage.passes import Passes
from leonet.coverage.regional import RegionalResult
from leonet.export.files import atomic_binary, timestamps, write_table
from leonet.export.text import id_words, joined_ints, route_step_bound, route_step_rows

if TYPE_CHECKING:  # routing (and scipy) load only when routes are written
    from leonet.network.routing import StepRows
    from leonet.network.run import RouteRun

COVERAGE_COLUMNS = ("time_utc", "region", "cells", "cells_covered", "sats_in_view_min", "sats_in_view_mean", "sats_in_view_max", "sats_overhead")
ROUTE_COLUMNS = ("t_ns", "src", "dst", "hops", "path", "length_m", "rtt_ms")
ROUTE_DECIMALS = {"length_m": 3, "rtt_ms": 6}  # to the mm and the ns
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
    return _routes_arrow(r.t_ns - run.start_ns, r.src_id, r.dst_id, r.hops, r.kept_paths(), r.length_m, r.rtt_ms)


def _routes_arrow(t_rel: np.ndarray, src_id: np.ndarray, dst_id: np.ndarray, hops_tp: np.ndarray, paths: list[np.ndarray],
                  length_m: np.ndarray, rtt_ms: np.ndarray) -> pa.Table:
    """:func:`routes_table` from arrays: ``t_rel`` (T,) ns; ``src_id``, ``dst_id`` (P,);
    ``hops_tp``, ``length_m``, ``rtt_ms`` (T, P); ``paths`` T arrays (P, H_t), right-aligned."""
    tn, p = hops_tp.shape
    hops = hops_tp.reshape(-1)
    ok = hops >= 0
    # Paths are right-aligned with -1 before them, so the non-negative entries of the rows, in
    # order, are every path one after another: joined by '-' in compiled code.
    nodes = np.concatenate([rows[rows >= 0] for rows in paths]) if tn else np.zeros(0, np.int64)
    offsets = np.zeros(tn * p + 1, dtype=np.int64)
    np.cumsum(np.where(ok, hops + 1, 0), out=offsets[1:])
    text_offsets, text = joined_ints(nodes.astype(np.int64, copy=False), offsets, ord("-"))
    validity = pa.array(ok).buffers()[1] if not ok.all() else None
    if text.size < 2**31:
        path_text = pa.StringArray.from_buffers(tn * p, pa.py_buffer(text_offsets.astype(np.int32)), pa.py_buffer(text), validity)
    else:
        path_text = pa.LargeStringArray.from_buffers(tn * p, pa.py_buffer(text_offsets), pa.py_buffer(text), validity)
    return pa.table({
        "t_ns": pa.array(np.repeat(np.asarray(t_rel, dtype=np.int64), p)),
        "src": pa.array(np.tile(src_id, tn)),
        "dst": pa.array(np.tile(dst_id, tn)),
        "hops": pa.array(hops, mask=~ok),
        "path": path_text,
        "length_m": pa.array(np.asarray(length_m).reshape(-1), mask=~ok),
        "rtt_ms": pa.array(np.asarray(rtt_ms).reshape(-1), mask=~ok),
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
    formatted step by step in compiled code (:class:`RouteCsvWriter`)."""
    from leonet.network.routing import StepRows

    r = run.routes
    paths = r.kept_paths()
    with atomic_binary(path) as fh:
        w = RouteCsvWriter(fh, run.start_ns)
        for k in range(r.hops.shape[0]):
            w(StepRows(int(r.t_ns[k]), r.src_id, r.dst_id, run.router.id_bound, r.hops[k], paths[k], r.length_m[k], r.rtt_ms[k]))
    return w.rows, write_route_nodes(run, path)


def write_route_nodes(run: RouteRun, path: str | Path) -> Path:
    """The node names of the route CSV at ``path``, written to ``path.nodes.csv`` (returned)."""
    nodes = Path(str(path) + ".nodes.csv")
    write_table(nodes_table(run), nodes, "csv", quoting="minimal")
    return nodes


class RouteCsvWriter:
    """``leonet route``'s CSV (:data:`ROUTE_COLUMNS`, the bytes of :func:`write_routes`) into the
    open binary file ``fh``, one instant at a time: call it with each
    :class:`~leonet.network.routing.StepRows` (it is an ``on_step`` of
    :func:`~leonet.network.run.run_routes`, so rows are written while they are in cache and
    the paths need not be kept). ``t_ns`` is written from ``start_ns``; ``rows`` counts the rows.
    Compiled code formats a step (:func:`leonet.export.text.route_step_rows`, one reused
    buffer); a step it cannot format (node ids from 10**8, a value past its range) goes through
    :func:`~leonet.export.files.write_table`, with the same bytes."""

    def __init__(self, fh: BinaryIO, start_ns: int) -> None:
        self.fh, self.start_ns, self.rows = fh, int(start_ns), 0
        self._buf = np.empty(0, dtype=np.uint8)
        self._ids: tuple[int, np.ndarray, np.ndarray] | None = None  # (id bound, id_words of it), built once
        fh.write((",".join(ROUTE_COLUMNS) + "\n").encode())

    def __call__(self, s: StepRows) -> None:
        t_rel = s.t_ns - self.start_ns
        end = self._compiled(t_rel, s) if s.id_bound <= 10**8 else -1
        if end >= 0:
            self.fh.write(self._buf[:end])
        else:
            text = io.StringIO()
            table = _routes_arrow(np.array([t_rel]), s.src_id, s.dst_id, s.hops[None], [s.path], s.length_m[None], s.rtt_ms[None])
            write_table(table, text, "csv", quoting="minimal", decimals=ROUTE_DECIMALS)
            self.fh.write(text.getvalue().partition("\n")[2].encode())
        self.rows += s.hops.size

    def _compiled(self, t_rel: int, s: StepRows) -> int:
        if self._ids is None or self._ids[0] != s.id_bound:
            self._ids = (s.id_bound, *id_words(s.id_bound))
        _, words, chars = self._ids
        t_text = np.frombuffer(str(t_rel).encode(), np.uint8)
        path = np.ascontiguousarray(s.path)  # int32 from the routers; int64 accepted
        need = route_step_bound(s.hops.size, path.shape[1], t_text.size, len(str(s.id_bound)), *ROUTE_DECIMALS.values())
        if self._buf.size < need:
            self._buf = np.empty(need, dtype=np.uint8)
        return route_step_rows(self._buf, 0, t_text, s.src_id.astype(np.int64, copy=False), s.dst_id.astype(np.int64, copy=False), s.hops, path,
                               s.length_m, s.rtt_ms, *ROUTE_DECIMALS.values(), words, chars)


def write_passes(found: Passes, norad_id: np.ndarray, path: str | Path) -> int:
    return write_table(passes_table(found, norad_id), path, "csv", quoting="minimal", decimals={"max_elevation_deg": 4})


__all__ = [
    "COVERAGE_COLUMNS", "NODE_COLUMNS", "PASS_COLUMNS", "ROUTE_COLUMNS", "ROUTE_DECIMALS", "RouteCsvWriter",
    "coverage_table", "nodes_table", "passes_table", "routes_table", "write_passes", "write_route_nodes", "write_routes",
]
