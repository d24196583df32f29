"""``leonet serve``: the control plane's REST API plus the dashboard at ``/``.

The page and its bundle (``/``, ``/static/...``) load without a token, as a browser must load
them; every data endpoint under ``/dash/`` goes through the control plane's guard (bearer token,
rate limits, body limit) and its roles, exactly like the REST API the console calls. The
endpoints are thin: each calls one function of :mod:`leonet.web.twin` or
:mod:`leonet.web.results` (the library underneath).
"""

# No "from __future__ import annotations": FastAPI reads the Annotated parameters at definition time.

import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from leonet.control.api import ServerSettings, build_app
from leonet.control.principal import Principal, require
from leonet.control.service import ControlService
from leonet.errors import InputError
from leonet.web.results import NotFound, Results
from leonet.web.twin import Twin, countries_geojson

STATIC = Path(__file__).parent / "static"
PUBLIC_PATHS = ("/", "/static/", "/favicon.ico")
ISO = Annotated[str, Query(min_length=1, max_length=64, description="ISO-8601 instant, e.g. 2026-08-22T12:00:00Z")]


def static_ready() -> bool:
    """Whether the page's bundle was built (``make`` builds it with npm and esbuild)."""
    return (STATIC / "index.html").is_file() and (STATIC / "app.js").is_file()


def create_dashboard_app(db_url: str, settings: ServerSettings | None = None, signing_key: Any = None, elements: tuple[str, ...] = (),
                         results_root: str | None = None, checkpoint_file: str | None = None, twin: Twin | None = None) -> FastAPI:
    """The control-plane app over ``db_url`` with the dashboard; ``elements`` are loaded once."""
    from leonet.control.db import check_initialised, make_engine
    from leonet.control.service import writers_key

    if not static_ready():
        raise InputError(f"the dashboard's files are not built ({STATIC} has no index.html/app.js): run `make venv` (it runs npm ci and esbuild)")
    results = Results(results_root)
    engine = make_engine(db_url)
    check_initialised(engine)
    tw = twin if twin is not None else Twin.load(elements)
    tw.index()  # infer the fleet (states, shells) now, not on the first page load
    s = settings or ServerSettings()
    s.public_paths = tuple(dict.fromkeys(s.public_paths + PUBLIC_PATHS))
    app = build_app(ControlService(engine, signing_key if signing_key is not None else writers_key()), s)
    add_dashboard(app, tw, results, checkpoint_file)
    return app


def _who(request: Request, permission: str = "whoami") -> Principal:
    who = request.scope.get("state", {}).get("principal")
    if who is None:  # the guard authenticates every /dash/ path; never serve without it
        raise InputError("no token")
    require(who, permission)
    return who


def add_dashboard(app: FastAPI, twin: Twin, results: Results, checkpoint_file: str | None = None) -> None:
    service: ControlService = app.state.service
    app.state.twin = twin
    policy_cache: dict[tuple, Any] = {}
    lock = threading.Lock()
    borders_gz = countries_geojson()  # made once, at start (about 0.5 s)

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    def policy_for(who: Principal) -> Any:
        """The store's policy as this user may see it (a partner: its entitled regions' states only)."""
        from leonet.control.db import audit_head, read_tx
        from leonet.control.policy import policy_from_engine

        with read_tx(service.engine) as conn:
            seq = int(conn.execute(audit_head.select()).one().seq)
        visible = sorted(who.entitlements) if who.role == "partner" else None
        key = (seq, None if visible is None else tuple(visible))
        with lock:
            hit = policy_cache.get(key)
        if hit is None:
            hit = policy_from_engine(service.engine, True, visible)
            with lock:
                policy_cache.clear()  # only the newest head matters
                policy_cache[key] = hit
        return hit

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="dashboard-static")

    tag = ["dashboard"]

    @app.get("/dash/index", tags=tag)
    def dash_index(request: Request) -> dict:
        """The loaded satellites (fetched once by the page): catalogue numbers, shells, states, default time."""
        _who(request)
        return twin.index()

    @app.get("/dash/positions", tags=tag, response_class=Response,
             responses={200: {"content": {"application/octet-stream": {}}, "description": "(n, 3) float32 little-endian lon_deg, lat_deg, alt_km; NaN where SGP4 failed."}})
    def dash_positions(request: Request, t: ISO) -> Response:
        """Every loaded satellite at ``t``, in the order of /dash/index."""
        _who(request)
        t_ns, data = twin.positions(t)
        return Response(data, media_type="application/octet-stream", headers={"x-leonet-t-ns": str(t_ns)})

    @app.get("/dash/satellite/{norad_id}", tags=tag)
    def dash_satellite(request: Request, norad_id: int, t: Annotated[str | None, Query(max_length=64)] = None) -> dict:
        """One satellite's elements, operational state and position at ``t``."""
        _who(request)
        return twin.satellite(norad_id, t)

    @app.get("/dash/passes", tags=tag)
    def dash_passes(request: Request, norad_id: Annotated[int, Query(ge=1)], place: Annotated[str, Query(min_length=1, max_length=200)], start: ISO,
                    duration: Annotated[str, Query(max_length=32)] = "24h") -> dict:
        """Passes of one satellite above 25 deg over a place ('Taipei' or 'lat,lon')."""
        _who(request)
        return twin.passes(norad_id, place, start, duration)

    @app.get("/dash/countries", tags=tag, response_class=Response)
    def dash_countries(request: Request) -> Response:
        """Natural Earth borders (the packaged 1:50m file, simplified) as GeoJSON."""
        _who(request)
        return Response(borders_gz, media_type="application/geo+json", headers={"content-encoding": "gzip"})

    def _codes(text: str) -> list[str]:
        items = [c.strip() for c in text.split(",") if c.strip()]
        if not items:
            raise InputError("countries: give ISO codes separated by commas, e.g. TWN,JPN")
        return items

    @app.get("/dash/cells", tags=tag)
    def dash_cells(request: Request, countries: Annotated[str, Query(max_length=400)], h3_res: Annotated[int, Query(ge=0, le=6)] = 5,
                   neighbours_km: Annotated[float, Query(ge=0, le=1000)] = 0.0) -> dict:
        """The H3 cells of the countries (and land within ``neighbours_km``): ids, outlines, region, population."""
        _who(request)
        return twin.cell_geometry(_codes(countries), h3_res, neighbours_km).as_json()

    @app.get("/dash/service", tags=tag)
    def dash_service(request: Request, countries: Annotated[str, Query(max_length=400)], t: ISO, h3_res: Annotated[int, Query(ge=0, le=6)] = 5,
                     neighbours_km: Annotated[float, Query(ge=0, le=1000)] = 0.0, min_elevation_deg: Annotated[float, Query(ge=0, le=90)] = 25.0) -> dict:
        """At ``t``: satellites in view of each cell (in /dash/cells order) and, for roles that read
        the policy, the state in force, served or not, border-effect cells and population not served."""
        who = _who(request)
        geom = twin.cell_geometry(_codes(countries), h3_res, neighbours_km)
        from leonet.policy.model import ServicePolicy

        reads = who.may("policy.read")
        out = twin.service(geom, t, policy_for(who) if reads else ServicePolicy.active_everywhere(), min_elevation_deg)
        if not reads:
            out |= {"policy": None, "active": None, "served": None, "border": None, "border_effect": None}
        return out

    @app.get("/dash/route", tags=tag)
    def dash_route(request: Request, src: Annotated[str, Query(min_length=1, max_length=200)], dst: Annotated[str, Query(min_length=1, max_length=200)], start: ISO,
                   duration: Annotated[str, Query(max_length=32)] = "1h", step: Annotated[str, Query(max_length=32)] = "60s",
                   mode: Annotated[str, Query(pattern="^(isl|bentpipe|gateway)$")] = "isl") -> dict:
        """``leonet route`` between two places over the loaded satellites: per instant RTT, hops, path."""
        _who(request)
        return twin.route(src, dst, start, duration, step, mode)

    @app.get("/dash/checkpoint", tags=tag)
    def dash_checkpoint(request: Request) -> dict:
        """The last signed checkpoint of the audit chain (``leonet serve --checkpoint-file``) and whether the log still matches every checkpoint (auditor)."""
        import json

        from leonet.control import checkpoint

        who = _who(request, "audit.read")
        if not checkpoint_file or not Path(checkpoint_file).is_file():
            return {"configured": bool(checkpoint_file), "last": None, "ok": None, "problem": None}
        lines = [ln for ln in Path(checkpoint_file).read_text(encoding="utf-8").splitlines() if ln.strip()]
        last = json.loads(lines[-1]) if lines else None
        head = service.audit_head(who)

        def hash_at(seq: int) -> str | None:
            got = service.audit_entries(who, seq - 1, 1, record=False)
            return got[0]["hash"] if got and got[0]["seq"] == seq else None

        res = checkpoint.check(checkpoint_file, head, hash_at) if lines else None
        return {"configured": True, "last": last, "checkpoints": len(lines), "ok": None if res is None else res.ok, "problem": None if res is None else res.problem}

    @app.get("/dash/results", tags=tag)
    def dash_runs(request: Request) -> dict:
        """Runs (folders with run.parquet or leonet.duckdb) under the results root."""
        _who(request)
        return {"root": None if results.root is None else results.root.name, "runs": results.runs() if results.root is not None else []}

    @app.get("/dash/results/files", tags=tag)
    def dash_run_files(request: Request, run: Annotated[str, Query(max_length=512)]) -> list[dict]:
        _who(request)
        return results.files(run)

    @app.get("/dash/results/table", tags=tag)
    def dash_run_table(request: Request, run: Annotated[str, Query(max_length=512)], name: Annotated[str, Query(max_length=128)],
                       limit: Annotated[int, Query(ge=1, le=2000)] = 200, offset: Annotated[int, Query(ge=0)] = 0) -> dict:
        _who(request)
        return results.table(run, name, limit, offset)

    @app.get("/dash/results/series", tags=tag)
    def dash_run_series(request: Request, run: Annotated[str, Query(max_length=512)], y: Annotated[str, Query(max_length=128)] = "sats_in_view_mean",
                        name: Annotated[str, Query(max_length=128)] = "timeseries.parquet") -> dict:
        _who(request)
        return results.series(run, name, y)

    @app.get("/dash/results/cells", tags=tag)
    def dash_run_cells(request: Request, run: Annotated[str, Query(max_length=512)], column: Annotated[str, Query(max_length=128)] = "coverage_sats_in_view_mean",
                       name: Annotated[str, Query(max_length=128)] = "cells.parquet") -> dict:
        _who(request)
        return results.cells(run, column, name)

    @app.get("/dash/results/file", tags=tag, response_class=FileResponse)
    def dash_run_file(request: Request, run: Annotated[str, Query(max_length=512)], name: Annotated[str, Query(max_length=128)]) -> FileResponse:
        """An image or the HTML report of the run."""
        _who(request)
        return FileResponse(results.file(run, name))
