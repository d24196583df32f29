"""Browsing scenario outputs (what ``leonet run`` / ``leonet demo`` write) under one results root.

A run is a folder holding ``run.parquet`` or ``leonet.duckdb``. Every path a client names is
relative to the root, made of plain names (no ``..``, no absolute paths, no hidden parts) and
must resolve, symbolic links followed, inside the root: nothing else on the server is readable.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from leonet.errors import InputError


def cell_rings(cells: np.ndarray) -> list[list[list[float]]]:
    """Outline of each H3 cell ``(cells,)`` as ``[[lon_deg, lat_deg], ...]`` rounded to 1e-4 deg,
    for drawing: a cell cut at the antimeridian is drawn by its larger piece."""
    from leonet.ground.cells import cell_boundaries

    rings = []
    for poly in cell_boundaries(cells):
        g = poly if poly.geom_type == "Polygon" else max(poly.geoms, key=lambda q: q.area)
        rings.append(np.round(np.asarray(g.exterior.coords)[:, :2], 4).tolist())
    return rings

RUN_MARKERS = ("run.parquet", "leonet.duckdb")
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,127}$")
MAX_ROWS = 2000
MAX_DEPTH = 3
FILE_TYPES = {".parquet": "table", ".csv": "table", ".png": "image", ".svg": "image", ".html": "report", ".duckdb": "database", ".json": "text"}


class NotFound(InputError):
    """A path that is not there (404)."""


class Results:
    """The runs under ``root`` (None: browsing is off)."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root).resolve() if root is not None else None
        if self.root is not None and not self.root.is_dir():
            raise InputError(f"--results-root {root}: not a folder; give the folder that holds your runs' output folders")

    def _need_root(self) -> Path:
        if self.root is None:
            raise NotFound("no results root: start the server with `leonet serve --results-root FOLDER` to browse scenario outputs")
        return self.root

    def resolve(self, rel: str, what: str = "path") -> Path:
        """``rel`` (e.g. 'taiwan' or 'sweeps/a/timeseries.parquet') inside the root, or an error."""
        root = self._need_root()
        if not isinstance(rel, str) or not rel or len(rel) > 512:
            raise InputError(f"{what}: give a path relative to the results root, e.g. 'taiwan'")
        parts = rel.replace("\\", "/").split("/")
        if rel.startswith("/") or any(not _PART.match(p) or p in (".", "..") for p in parts):
            raise InputError(f"{what} {rel!r}: use plain folder and file names below the results root (letters, digits, '_', '-', '.', no '..')")
        p = (root / Path(*parts)).resolve()
        if not p.is_relative_to(root):
            raise InputError(f"{what} {rel!r} leads outside the results root")
        if not p.exists():
            raise NotFound(f"{what} {rel!r} does not exist under the results root")
        return p

    def runs(self) -> list[dict]:
        """Run folders under the root (up to three levels deep), newest first."""
        root = self._need_root()
        found = []
        for depth in range(MAX_DEPTH):
            for d in root.glob("/".join(["*"] * (depth + 1))):
                if d.is_dir() and not any(part.startswith(".") for part in d.relative_to(root).parts) and any((d / m).is_file() for m in RUN_MARKERS):
                    if d.resolve().is_relative_to(root):
                        found.append(d)
        found.sort(key=lambda d: d.stat().st_mtime, reverse=True)
        return [{"run": d.relative_to(root).as_posix(), "modified": d.stat().st_mtime, "files": len(self.files(d.relative_to(root).as_posix()))} for d in found]

    def files(self, run: str) -> list[dict]:
        d = self.resolve(run, "run")
        if not d.is_dir():
            raise InputError(f"run {run!r} is a file; give its folder")
        out = []
        for f in sorted(d.iterdir()):
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in FILE_TYPES and f.resolve().is_relative_to(self._need_root()):
                out.append({"name": f.name, "kind": FILE_TYPES[f.suffix.lower()], "bytes": f.stat().st_size})
        return out

    def table(self, run: str, name: str, limit: int = 200, offset: int = 0) -> dict:
        """Rows ``offset .. offset+limit`` of a Parquet or CSV table, with its row count and columns."""
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        if not 1 <= int(limit) <= MAX_ROWS or int(offset) < 0:
            raise InputError(f"limit must be in 1..{MAX_ROWS} and offset at least 0")
        f = self._file(run, name, (".parquet", ".csv"))
        t = pq.read_table(f) if f.suffix.lower() == ".parquet" else pcsv.read_csv(f)
        part = t.slice(int(offset), int(limit))
        return {"run": run, "name": name, "rows": t.num_rows, "offset": int(offset), "columns": [
            {"name": c, "type": str(part.schema.field(c).type)} for c in part.column_names], "data": [[_cell(v) for v in row.values()] for row in part.to_pylist()],
            "metadata": {k.decode(): v.decode()[:2000] for k, v in (t.schema.metadata or {}).items() if not k.startswith(b"ARROW")}}

    def series(self, run: str, name: str = "timeseries.parquet", y: str = "sats_in_view_mean", x: str = "time_utc", group: str | None = "region") -> dict:
        """One column against another (time), split by ``group``: the time-series chart."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        f = self._file(run, name, (".parquet",))
        schema = pq.read_schema(f)
        cols = schema.names
        for c, what in ((x, "x"), (y, "y")):
            if c not in cols:
                raise InputError(f"{what} column {c!r} is not in {name}; it has {', '.join(cols)}")
        use = [x, y] + ([group] if group and group in cols else [])
        t = pq.read_table(f, columns=use).to_pandas()
        out = {}
        keys = t[group].astype(str) if len(use) == 3 else np.full(len(t), "all")
        for k in dict.fromkeys(keys):
            m = keys == k
            xs = t.loc[m, x]
            xs = [v.isoformat().replace("+00:00", "Z") if hasattr(v, "isoformat") else _cell(v) for v in xs]
            out[str(k)] = {"x": xs, "y": [_cell(v) for v in t.loc[m, y]]}
        numeric = [c for c in cols if c != x and (pa.types.is_integer(schema.field(c).type) or pa.types.is_floating(schema.field(c).type))]
        return {"run": run, "name": name, "x": x, "y": y, "series": out, "columns": numeric}

    def cells(self, run: str, column: str, name: str = "cells.parquet") -> dict:
        """A per-cell figure of merit with each cell's outline: the run's map, drawn on the globe."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from leonet.ground.cells import as_cells

        f = self._file(run, name, (".parquet",))
        schema = pq.read_schema(f)
        cell_col = next((c for c in ("h3_cell", "cell") if c in schema.names), None)
        if cell_col is None:
            raise InputError(f"{name} has no 'h3_cell' column; choose the run's cells.parquet")
        cols = [c for c in schema.names if c != cell_col and (pa.types.is_integer(schema.field(c).type) or pa.types.is_floating(schema.field(c).type))]
        if column not in cols:
            raise InputError(f"column {column!r} is not a numeric column of {name}; it has {', '.join(cols)}")
        t = pq.read_table(f, columns=[cell_col, column]).to_pandas()
        rings = cell_rings(as_cells(t[cell_col].tolist(), allow_strings=True))
        vals = [_cell(v) for v in t[column]]
        return {"run": run, "column": column, "columns": cols, "rings": rings, "values": vals}

    def file(self, run: str, name: str) -> Path:
        """An image or report of the run, to send as it is."""
        return self._file(run, name, (".png", ".svg", ".html"))

    def _file(self, run: str, name: str, suffixes: tuple[str, ...]) -> Path:
        d = self.resolve(run, "run")
        if "/" in name or "\\" in name:
            raise InputError(f"name {name!r}: give a file name inside the run folder")
        f = self.resolve(f"{d.relative_to(self._need_root()).as_posix()}/{name}", "name")
        if f.suffix.lower() not in suffixes or not f.is_file():
            raise InputError(f"name {name!r}: give a {'/'.join(suffixes)} file of the run")
        return f


def _cell(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (np.floating,)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if hasattr(v, "isoformat"):
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, (list, tuple, dict, str, int, float, bool)) or v is None:
        return v
    return str(v)
