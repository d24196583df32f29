"""Scenario files (TOML): every run of the coverage job is one; the demo is examples/taiwan.toml.

Schema (all keys; unknown keys are errors so that typos do not pass silently)::

    [scenario]      name (str), description (str)
    [constellation] source (file path relative to the data folder, or absolute; URL;
                    celestrak:GROUP) or preset (starlink-gen1 | starlink-gen2 | kuiper | oneweb);
                    fallback_preset (used when source is a file that is not there);
                    allow_stale_elements (bool: go on with element sets > 90 days from the window);
                    states (which operational states serve, default ["operational"]; see
                    leonet.sources.fleet; ["all"] for every satellite)
    [time]          start (ISO-8601 text or a TOML date-time; no offset means UTC),
                    duration ('24h'), step ('60s')
    [coverage]      regions (ISO codes, e.g. ["TWN"], or GeoJSON files relative to the scenario
                    file, e.g. ["my_area.geojson"]), neighbours_within_km (float >= 0),
                    h3_res (0..15, default 5), min_elevation_deg (0..90, default 25),
                    max_range_km (optional), beam_radius_km (default 15)
    [policy]        default ("active" | "inactive" | "licensed"), and [[policy.rules]] with
                    region (ISO code or GeoJSON file), active (bool), optional start / end (ISO-8601)
    [capacity]      optional: bandwidth per cell over the first ``steps`` scheduling intervals
                    (leonet.capacity): steps (int >= 1, default 4), step ('15s'), fairness
                    ("maxmin" | "proportional"), method ("approx" | "flow" | "lp" | "auto", default
                    "approx"), take_rate (0..1], busy_hour_mbps (> 0), cells_per_beam (>= 1),
                    backhaul (bool, default true). The policy's effect (each rule left out) is
                    computed too: for the demo, what Taiwan dark frees for its neighbours.
    [output]        dir (default "out/<scenario file stem>", relative to the current folder)
    [[launches]]    launch batches joining during the run (leonet.deployment.batch.LaunchBatch):
                    name, satellites, release (ISO-8601), shell_altitude_km, inclination_deg,
                    optional plane_raan_deg, plane_epoch, insertion_altitude_km (280),
                    raise_rate_km_per_day (5), hold_days, first_arg_latitude_deg,
                    arg_latitude_spacing_deg, first_id. Raising satellites serve no one until
                    they reach their shell.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leonet.errors import InputError
from leonet.sources.walker import PRESETS
from leonet.times import parse_duration, parse_time

_SCHEMA: dict[str, set[str]] = {
    "scenario": {"name", "description"},
    "constellation": {"source", "preset", "fallback_preset", "allow_stale_elements", "states"},
    "time": {"start", "duration", "step"},
    "coverage": {"regions", "neighbours_within_km", "h3_res", "min_elevation_deg", "max_range_km", "beam_radius_km"},
    "policy": {"default", "rules"},
    "capacity": {"steps", "step", "fairness", "method", "take_rate", "busy_hour_mbps", "cells_per_beam", "backhaul"},
    "output": {"dir"},
}
_RULE_KEYS = {"region", "active", "start", "end"}
POLICY_DEFAULTS = ("active", "inactive", "licensed")


@dataclass(frozen=True)
class PolicyRuleSpec:
    region: str
    active: bool
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class CapacitySpec:
    """A scenario's ``[capacity]`` section (see the module doc)."""

    steps: int = 4
    step: str = "15s"
    fairness: str = "maxmin"
    method: str = "approx"
    take_rate: float = 0.02
    busy_hour_mbps: float = 3.0
    cells_per_beam: int = 1
    backhaul: bool = True


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str | None
    preset: str | None
    fallback_preset: str | None
    start: str
    duration: str
    step: str
    regions: tuple[str, ...]
    neighbours_within_km: float = 300.0
    h3_res: int = 5
    min_elevation_deg: float = 25.0
    max_range_km: float | None = None
    beam_radius_km: float = 15.0
    policy_default: str = "active"
    policy_rules: tuple[PolicyRuleSpec, ...] = ()
    output_dir: str = "out"
    launches: tuple[dict, ...] = ()
    allow_stale_elements: bool = False
    states: tuple[str, ...] | None = ("operational",)
    capacity: CapacitySpec | None = None
    path: Path | None = field(default=None, compare=False)


def _err(where: str, msg: str) -> InputError:
    return InputError(f"{where}: {msg}")


def _get(table: dict, key: str, where: str, kind: type | tuple, default: Any = ..., allowed: str = "") -> Any:
    if key not in table:
        if default is ...:
            raise _err(where, f"missing key '{key}'" + (f" ({allowed})" if allowed else ""))
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _err(where, f"key '{key}' must be a {want}, got {value!r}" + (f" ({allowed})" if allowed else ""))
    return value


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; errors name the file, the key and the allowed values."""
    p = Path(path)
    doc = read_toml(p, "scenario file", "examples/taiwan.toml")
    return parse_scenario(doc, str(p), default_output=f"out/{p.stem}", path=p)


def read_toml(p: Path, what: str, example: str) -> dict[str, Any]:
    """A TOML document, or an error naming the file (missing, or where it is not TOML)."""
    if not p.is_file():
        raise InputError(f"{what} {p} not found (see {example} for one)")
    try:
        return tomllib.loads(p.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not a TOML text file (byte {exc.object[exc.start]:#04x} at offset {exc.start} is not UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: not valid TOML: {exc}") from None


def parse_scenario(doc: dict[str, Any], where: str = "scenario", default_output: str = "out/scenario", path: Path | None = None) -> Scenario:
    doc = dict(doc)  # the caller's document is not changed
    launches = _launches(doc.pop("launches"), where) if "launches" in doc else ()
    for section, value in doc.items():
        if section not in _SCHEMA:
            raise _err(where, f"unknown section [{section}]; sections are {', '.join('[' + s + ']' for s in _SCHEMA)} and [[launches]]")
        if not isinstance(value, dict):
            raise _err(where, f"[{section}] must be a table")
        unknown = set(value) - _SCHEMA[section]
        if unknown:
            raise _err(f"{where} [{section}]", f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_SCHEMA[section]))}")
    sc = doc.get("scenario", {})
    con = doc.get("constellation", {})
    tm = doc.get("time")
    cov = doc.get("coverage")
    pol = doc.get("policy", {})
    out = doc.get("output", {})
    if tm is None:
        raise _err(where, "missing section [time] with start, duration and step")
    if cov is None:
        raise _err(where, "missing section [coverage] with at least regions = [\"ISO3\", ...]")

    presets = ", ".join(PRESETS)
    source = _get(con, "source", f"{where} [constellation]", str, None)
    preset = _get(con, "preset", f"{where} [constellation]", str, None, allowed=presets)
    fallback = _get(con, "fallback_preset", f"{where} [constellation]", str, None, allowed=presets)
    allow_stale = _get(con, "allow_stale_elements", f"{where} [constellation]", bool, False, allowed="true or false")
    states_raw = _get(con, "states", f"{where} [constellation]", list, ["operational"], allowed='e.g. ["operational", "raising"] or ["all"]')
    states = _scenario_states(states_raw, f"{where} [constellation] states")
    if bool(source) == bool(preset):
        raise _err(f"{where} [constellation]", f"give exactly one of 'source' (an element-set file, URL or celestrak:GROUP) or 'preset' ({presets})")
    for key, value in (("preset", preset), ("fallback_preset", fallback)):
        if value is not None and value not in PRESETS:
            raise _err(f"{where} [constellation]", f"'{key}' = {value!r} is not one of {presets}")

    if isinstance(tm.get("start"), datetime):  # a TOML date-time; without an offset it is UTC
        st = tm["start"]
        tm = {**tm, "start": (st if st.tzinfo else st.replace(tzinfo=UTC)).isoformat()}
    start = _get(tm, "start", f"{where} [time]", str, allowed="ISO-8601, e.g. 2024-10-23T00:00:00Z")
    duration = _get(tm, "duration", f"{where} [time]", str, allowed="e.g. '24h'")
    step = _get(tm, "step", f"{where} [time]", str, allowed="e.g. '60s'")
    for key, value, fn in (("start", start, parse_time), ("duration", duration, parse_duration), ("step", step, parse_duration)):
        try:
            fn(value)
        except InputError as exc:
            raise _err(f"{where} [time] {key}", str(exc)) from None

    regions = _get(cov, "regions", f"{where} [coverage]", list, allowed='ISO codes, e.g. ["TWN"]')
    if not regions or not all(isinstance(r, str) and r.strip() for r in regions):
        raise _err(f"{where} [coverage]", "'regions' must be a non-empty list of country codes such as [\"TWN\"]")
    h3_res = _get(cov, "h3_res", f"{where} [coverage]", int, 5)
    if not 0 <= h3_res <= 15:
        raise _err(f"{where} [coverage]", f"'h3_res' = {h3_res} must be in 0..15 (Starlink's service cells are 5)")
    mask = _get(cov, "min_elevation_deg", f"{where} [coverage]", float, 25.0)
    if not 0.0 <= mask <= 90.0:
        raise _err(f"{where} [coverage]", f"'min_elevation_deg' = {mask} must be in 0..90")
    neighbours = _get(cov, "neighbours_within_km", f"{where} [coverage]", float, 300.0)
    if neighbours < 0 or neighbours > 3000:
        raise _err(f"{where} [coverage]", f"'neighbours_within_km' = {neighbours} must be in 0..3000")
    max_range = _get(cov, "max_range_km", f"{where} [coverage]", float, None)
    if max_range is not None and max_range <= 0:
        raise _err(f"{where} [coverage]", f"'max_range_km' = {max_range} must be positive")
    beam = _get(cov, "beam_radius_km", f"{where} [coverage]", float, 15.0)
    if not 0 < beam <= 500:
        raise _err(f"{where} [coverage]", f"'beam_radius_km' = {beam} must be in (0, 500]")

    default = _get(pol, "default", f"{where} [policy]", str, "active", allowed=" | ".join(POLICY_DEFAULTS))
    if default not in POLICY_DEFAULTS:
        raise _err(f"{where} [policy]", f"'default' = {default!r} must be one of {', '.join(POLICY_DEFAULTS)}")
    rules_raw = _get(pol, "rules", f"{where} [policy]", list, [])
    rules = []
    for k, r in enumerate(rules_raw, 1):
        rw = f"{where} [[policy.rules]] #{k}"
        if not isinstance(r, dict):
            raise _err(rw, "each rule must be a table with region and active")
        unknown = set(r) - _RULE_KEYS
        if unknown:
            raise _err(rw, f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_RULE_KEYS))}")
        region = _get(r, "region", rw, str, allowed="an ISO country code")
        active = _get(r, "active", rw, bool, allowed="true or false")
        rs, re_ = _get(r, "start", rw, str, None), _get(r, "end", rw, str, None)
        for key, value in (("start", rs), ("end", re_)):
            if value is not None:
                try:
                    parse_time(value)
                except InputError as exc:
                    raise _err(f"{rw} {key}", str(exc)) from None
        rules.append(PolicyRuleSpec(region, active, rs, re_))

    capacity = _capacity(doc["capacity"], f"{where} [capacity]") if "capacity" in doc else None

    return Scenario(
        name=_get(sc, "name", f"{where} [scenario]", str, Path(where).stem),
        description=_get(sc, "description", f"{where} [scenario]", str, ""),
        source=source,
        preset=preset,
        fallback_preset=fallback,
        start=start,
        duration=duration,
        step=step,
        regions=tuple(regions),
        neighbours_within_km=neighbours,
        h3_res=h3_res,
        min_elevation_deg=mask,
        max_range_km=max_range,
        beam_radius_km=beam,
        policy_default=default,
        policy_rules=tuple(rules),
        output_dir=_get(out, "dir", f"{where} [output]", str, default_output),
        launches=launches,
        allow_stale_elements=allow_stale,
        states=states,
        capacity=capacity,
        path=path,
    )


def _capacity(cap: dict, where: str) -> CapacitySpec:
    """Check ``[capacity]``; errors name the key and the allowed values."""
    d = CapacitySpec()
    steps = _get(cap, "steps", where, int, d.steps)
    if not 1 <= steps <= 100_000:
        raise _err(where, f"'steps' = {steps} must be in 1..100000")
    step = _get(cap, "step", where, str, d.step, allowed="e.g. '15s'")
    try:
        parse_duration(step)
    except InputError as exc:
        raise _err(f"{where} step", str(exc)) from None
    fairness = _get(cap, "fairness", where, str, d.fairness, allowed="maxmin | proportional")
    if fairness not in ("maxmin", "proportional"):
        raise _err(where, f"'fairness' = {fairness!r} must be maxmin or proportional")
    method = _get(cap, "method", where, str, d.method, allowed="approx | flow | lp | auto")
    if method not in ("approx", "flow", "lp", "auto"):
        raise _err(where, f"'method' = {method!r} must be approx, flow, lp or auto")
    if method == "flow" and fairness != "maxmin":
        raise _err(where, f"'method' = 'flow' gives max-min fairness only; use 'lp' or 'auto' with fairness = {fairness!r}")
    take = _get(cap, "take_rate", where, float, d.take_rate)
    if not 0.0 < take <= 1.0:
        raise _err(where, f"'take_rate' = {take} must be in (0, 1]")
    busy = _get(cap, "busy_hour_mbps", where, float, d.busy_hour_mbps)
    if not 0.0 < busy < 1e6:
        raise _err(where, f"'busy_hour_mbps' = {busy} must be a positive rate per subscriber, Mbps")
    cpb = _get(cap, "cells_per_beam", where, int, d.cells_per_beam)
    if cpb < 1:
        raise _err(where, f"'cells_per_beam' = {cpb} must be at least 1")
    backhaul = _get(cap, "backhaul", where, bool, d.backhaul, allowed="true or false")
    return CapacitySpec(steps, step, fairness, method, take, busy, cpb, backhaul)


def _launches(raw: Any, where: str) -> tuple[dict, ...]:
    """Check ``[[launches]]`` entries by building each batch (its own checks name the field)."""
    from leonet.deployment.batch import LaunchBatch

    if not isinstance(raw, list):
        raise _err(where, "'launches' must be an array of tables: [[launches]] name = ..., satellites = ...")
    fields = set(LaunchBatch.__dataclass_fields__)
    out = []
    for k, entry in enumerate(raw, 1):
        lw = f"{where} [[launches]] #{k}"
        if not isinstance(entry, dict):
            raise _err(lw, "each launch must be a table")
        unknown = set(entry) - fields
        if unknown:
            raise _err(lw, f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(fields))}")
        try:
            LaunchBatch(**entry)
        except TypeError as exc:
            raise _err(lw, f"{exc}; required: name, satellites, release, shell_altitude_km, inclination_deg") from None
        except InputError as exc:
            raise _err(lw, str(exc)) from None
        out.append(dict(entry))
    return tuple(out)


def _scenario_states(raw: list, where: str) -> tuple[str, ...] | None:
    """The ``states`` key: operational states that serve, or ``["all"]`` (no filter)."""
    from leonet.sources.fleet import parse_states

    if not raw or not all(isinstance(x, str) for x in raw):
        raise _err(where, 'must be a non-empty list of state names, e.g. ["operational"] or ["all"]')
    if [x.strip().lower() for x in raw] == ["all"]:
        return None
    try:
        return parse_states(raw)
    except InputError as exc:
        raise _err(where, str(exc)) from None

