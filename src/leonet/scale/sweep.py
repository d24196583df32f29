"""Sweep files (TOML): one scenario and axes to vary; every combination is one variant.

Schema (unknown keys are errors)::

    [sweep]   scenario (a scenario file, relative to the sweep file), name (optional)
    [axes]    any of, each a non-empty list:
              min_elevation_deg = [25, 40]                          -> [coverage] min_elevation_deg
              elements = ["tle/starlink_20241023_celestrak_gp.tle"]  -> [constellation] source (data folder)
              shells = ["starlink-gen1", "starlink-gen2"]            -> [constellation] preset (filed shells)
              policy = ["active", "inactive", "licensed"]            -> [policy] default
              h3_res = [4, 5], step = ["60s"], duration = ["24h"], start = ["..."], max_range_km = [...]
              a linked axis: any other name whose values are tables of the axes above that change
              together, e.g. snapshot = [{ elements = "tle/a.tle", start = "2024-10-23T00:00:00Z" }, ...]
              (its keys become the columns)
    [output]  dir (default "out/<sweep file stem>")

The variants are the Cartesian product of the axes in the order written (the last axis varies
fastest) and are numbered from 0; each is checked as a scenario before any work, so an axis
value that makes a bad scenario is named with the value at fault.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leonet.errors import InputError
from leonet.jobs.scenario import Scenario, parse_scenario, read_toml

# axis -> (section, key, keys of that section it replaces)
AXES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "min_elevation_deg": ("coverage", "min_elevation_deg", ()),
    "max_range_km": ("coverage", "max_range_km", ()),
    "h3_res": ("coverage", "h3_res", ()),
    "elements": ("constellation", "source", ("preset",)),
    "shells": ("constellation", "preset", ("source", "fallback_preset")),
    "policy": ("policy", "default", ()),
    "start": ("time", "start", ()),
    "duration": ("time", "duration", ()),
    "step": ("time", "step", ()),
}
_SECTIONS = {"sweep": {"scenario", "name"}, "axes": None, "output": {"dir"}}
MAX_VARIANTS = 10_000


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep: the base scenario document and its path, the axes ``(name, values)`` in
    order, a name and the output folder."""

    name: str
    scenario_path: Path
    scenario_doc: dict[str, Any]
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    output_dir: str
    path: Path | None = None

    def __len__(self) -> int:
        n = 1
        for _, values in self.axes:
            n *= len(values)
        return n

    def variants(self) -> Iterator[tuple[tuple[tuple[str, Any], ...], Scenario]]:
        """``(axes values, scenario)`` for every combination, in variant order. A linked axis
        (values are tables) contributes each of its keys as a column."""
        names = [a for a, _ in self.axes]
        for combo in itertools.product(*(v for _, v in self.axes)):
            doc = copy.deepcopy(self.scenario_doc)
            pairs: list[tuple[str, Any]] = []
            for axis, value in zip(names, combo):
                pairs.extend(value.items() if isinstance(value, dict) else [(axis, value)])
            for axis, value in pairs:
                section, key, drop = AXES[axis]
                table = doc.setdefault(section, {})
                for d in drop:
                    table.pop(d, None)
                table[key] = value
            where = f"{self.scenario_path} with " + ", ".join(f"{a} = {v!r}" for a, v in pairs)
            sc = parse_scenario(doc, where, default_output=self.output_dir, path=self.scenario_path)
            yield tuple(pairs), sc


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file (and every variant it makes); errors name the key."""
    p = Path(path)
    doc = read_toml(p, "sweep file", "examples/taiwan_sweep.toml")
    for section, value in doc.items():
        if section not in _SECTIONS:
            raise InputError(f"{p}: unknown section [{section}]; sections are [sweep], [axes], [output]")
        if not isinstance(value, dict):
            raise InputError(f"{p}: [{section}] must be a table")
        allowed = _SECTIONS[section]
        unknown = set(value) - allowed if allowed is not None else set()
        if unknown and allowed is not None:
            raise InputError(f"{p} [{section}]: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
    raw_axes = doc.get("axes", {})
    sw = doc.get("sweep", {})
    if "scenario" not in sw or not isinstance(sw["scenario"], str):
        raise InputError(f"{p} [sweep]: missing key 'scenario' (the scenario file to vary, relative to {p.parent})")
    sp = Path(sw["scenario"])
    sp = sp if sp.is_absolute() else p.parent / sp
    base = read_toml(sp, f"{p} [sweep]: scenario file", "examples/taiwan.toml")
    axes = []
    for name, values in raw_axes.items():
        if not isinstance(values, list) or not values:
            raise InputError(f"{p} [axes]: '{name}' must be a non-empty list, e.g. {name} = [{'25, 40' if name == 'min_elevation_deg' else '...'}]")
        if name not in AXES:
            # A linked axis: every value a table of axes that change together.
            bad = [v for v in values if not isinstance(v, dict) or not v or set(v) - set(AXES)]
            if bad:
                raise InputError(f"{p} [axes]: unknown axis '{name}'; axes are {', '.join(AXES)}, or a linked axis whose values are tables "
                                 f"of them, e.g. {name} = [{{ elements = \"tle/....tle\", start = \"2024-10-23T00:00:00Z\" }}]")
            if len({tuple(sorted(v)) for v in values}) != 1:
                raise InputError(f"{p} [axes]: every table of '{name}' must give the same keys")
        if len(set(map(repr, values))) != len(values):
            raise InputError(f"{p} [axes]: '{name}' lists a value twice")
        axes.append((name, tuple(values)))
    if not axes:
        raise InputError(f"{p}: [axes] is empty; give at least one axis, e.g. min_elevation_deg = [25, 40]")
    out = doc.get("output", {}).get("dir", f"out/{p.stem}")
    if not isinstance(out, str):
        raise InputError(f"{p} [output]: 'dir' must be a string")
    spec = SweepSpec(str(sw.get("name", p.stem)), sp, base, tuple(axes), out, p)
    if len(spec) > MAX_VARIANTS:
        raise InputError(f"{p}: {len(spec):,} variants; at most {MAX_VARIANTS:,} in one sweep")
    for _ in spec.variants():  # every variant parses before any work
        pass
    return spec
