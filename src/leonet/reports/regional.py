"""The HTML report of a regional run: maps of cells (mean satellites in view; served or not,
with borders drawn), time series, and the summary tables. Self-contained (images inline)."""

from __future__ import annotations

import base64
import functools
import html
import io
from pathlib import Path

import numpy as np

from leonet.coverage.regional import RegionalResult
from leonet.times import format_time


def warm_report() -> None:
    """Import matplotlib and draw a small figure with text (its fonts load on first use), so
    that a process that will draw a report later pays this while it has nothing else to do
    (see :func:`leonet.api.run_scenario`)."""
    from matplotlib.collections import LineCollection, PolyCollection  # noqa: F401 - imported for later
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_title("warm")
    _fig_to_data_uri(fig)


def _fig_to_data_uri(fig) -> str:  # type: ignore[no-untyped-def]
    """PNG of a :class:`matplotlib.figure.Figure` as a data: URI (the figure needs no backend)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@functools.lru_cache(maxsize=8)
def _border_rings(box) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """Every ring of the country borders inside ``box`` (a shapely box; both maps share it),
    as ``(points, 2)`` lon/lat arrays: one collection to draw, not one line per ring."""
    import shapely

    from leonet.ground.borders import load_countries

    geoms = np.asarray(load_countries().geometries, dtype=object)
    clip = shapely.intersection(geoms[shapely.intersects(geoms, box)], box)
    polys = [p for p in shapely.get_parts(clip) if p.geom_type == "Polygon"]
    return [np.asarray(ring.coords) for p in polys for ring in (p.exterior, *p.interiors)]


def _cell_map(res: RegionalResult, polys: np.ndarray, values: np.ndarray, title: str, cmap: str, label: str, vmin=None, vmax=None):  # type: ignore[no-untyped-def]
    import shapely
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure

    a = res.area
    # A cell crossing the antimeridian comes back as two polygons: draw both with its value.
    parts, owner = shapely.get_parts(polys, return_index=True)
    verts = [np.asarray(p.exterior.coords) for p in parts]
    fig = Figure(figsize=(7.5, 6.5))
    ax = fig.subplots()
    coll = PolyCollection(verts, array=np.asarray(values, dtype=float)[owner], cmap=cmap, edgecolors="none")
    if vmin is not None or vmax is not None:
        coll.set_clim(vmin, vmax)
    ax.add_collection(coll)
    pad = 0.5
    x0, x1 = float(a.lon_deg.min()) - pad, float(a.lon_deg.max()) + pad
    y0, y1 = float(a.lat_deg.min()) - pad, float(a.lat_deg.max()) + pad
    ax.add_collection(LineCollection(_border_rings(shapely.box(x0, y0, x1, y1)), colors="0.15", linewidths=0.6,
                                     capstyle="projecting", joinstyle="round"))  # as ax.plot draws each ring
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / np.cos(np.radians((y0 + y1) / 2)))
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(title, fontsize=10)
    fig.colorbar(coll, ax=ax, shrink=0.8, label=label)
    return _fig_to_data_uri(fig)


def _timeseries_plot(res: RegionalResult, baseline: RegionalResult | None) -> str:
    from matplotlib.figure import Figure

    key = res.area.targets[0].key
    m = res.area.members(key)
    hours = (res.t_ns - res.t_ns[0]) / 3.6e12
    c = res.counts[m]
    fig = Figure(figsize=(9, 6))
    axes = fig.subplots(2, 1, sharex=True)
    ax = axes[0]
    ax.fill_between(hours, c.min(0), c.max(0), alpha=0.25, label="min..max over cells")
    ax.plot(hours, c.mean(0), lw=1.2, label="mean over cells")
    ax.plot(hours, res.overhead[0], lw=0.8, color="k", label="sub-satellite point inside")
    ax.set_ylabel(f"satellites in view ({key})")
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[1]
    if baseline is not None:
        ax.plot(hours, baseline.served[m].sum(0), lw=1.2, label="cells served, all active")
    ax.plot(hours, res.served[m].sum(0), lw=1.2, label=f"cells served, {res.policy.name}")
    ax.set_ylabel(f"{key} cells served")
    ax.set_xlabel(f"hours since {format_time(int(res.t_ns[0]))}")
    ax.legend(fontsize=8, loc="center right")
    return _fig_to_data_uri(fig)


def _table(rows: list[dict]) -> str:
    if not rows:
        return "<p>(none)</p>"
    keys = list(rows[0])

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 1e6 else f"{v:,.0f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{fmt(r[k])}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(path: Path, title: str, description: str, res: RegionalResult, baseline: RegionalResult | None,
                 beam_radius_km: float, facts: dict[str, str]) -> Path:
    """Write the self-contained HTML report; returns its path. Figures are drawn on bare
    :class:`matplotlib.figure.Figure` objects: pyplot and the user's backend are left alone."""
    from leonet.ground.cells import cell_boundaries

    polys = cell_boundaries(res.area.cells)
    mean_map = _cell_map(res, polys, res.coverage_fom.sats_in_view_mean, "Mean satellites in view per cell", "viridis", "satellites")
    served_map = _cell_map(res, polys, res.service_fom.percent_covered_by_at_least[:, 0], f"Served time under policy: {res.policy.name}",
                           "RdYlGn", "% of time served", 0, 100)
    series = _timeseries_plot(res, baseline)
    border = [{k: v for k, v in b.items() if k != "cells"} for b in res.border_effect(beam_radius_km)]
    rows = res.region_summary()
    base_rows = baseline.region_summary() if baseline else []
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts.items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
th{{background:#f3f3f3}}img{{max-width:100%}}.maps{{display:flex;gap:1em;flex-wrap:wrap}}.maps img{{width:520px}}</style></head><body>
<h1>{html.escape(title)}</h1><p>{html.escape(description)}</p>
<table>{fact_rows}</table>
<h2>Maps</h2><div class="maps"><img alt="mean satellites in view" src="{mean_map}"><img alt="served time" src="{served_map}"></div>
<h2>Over time</h2><img alt="time series" src="{series}">
<h2>Regions under the policy</h2>{_table(rows)}
<h2>Regions with service active everywhere</h2>{_table(base_rows)}
<h2>Border effect</h2><p>Cells of active regions whose centres lie within {beam_radius_km:g} km (one user-beam footprint
radius) of an inactive region's cells: a beam serving them would spill over the inactive region.</p>{_table(border)}
<h2>Policy</h2><ul>{''.join(f'<li>{html.escape(d)}</li>' for d in res.policy.describe())}</ul>
<p style="color:#777">Generated by leonet. Borders: Natural Earth (disputed areas as Natural Earth draws them).</p>
</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
