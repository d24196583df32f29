"""Download element sets over HTTP(S) into an on-disk cache, with the standard library only.

``fetch("celestrak:starlink")`` gets CelesTrak's current GP element sets for a group; any
http(s) URL works too. Each download has a timeout, transient failures (timeouts, connection
errors, HTTP 5xx and 429) are retried with exponential backoff, and the result lands in a cache
folder through an atomic rename, so a crash never leaves a half-written file that a later run
would trust. CelesTrak asks clients not to fetch the same data more often than every two hours,
hence the default ``max_age_s``; a copy older than that is revalidated with a conditional GET.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import math
import os
import re
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

from leonet.errors import DataNotFoundError, FetchError, InputError
from leonet.paths import user_cache_dir

_DEFAULT_BASE = "https://celestrak.org"
# leonet's format name -> CelesTrak's FORMAT value; '3le' is what CelesTrak calls FORMAT=tle.
_FORMATS = {"tle": "tle", "3le": "tle", "2le": "2le", "json": "json", "xml": "xml", "csv": "csv"}
_EXTENSIONS = {"tle": ".tle", "2le": ".tle", "json": ".json", "xml": ".xml", "csv": ".csv"}
_KNOWN_SUFFIXES = (".tle", ".3le", ".2le", ".txt", ".json", ".xml", ".csv")
_GROUP_RE = re.compile(r"[A-Za-z0-9._-]+")
# Plain-text answers CelesTrak gives with HTTP 200 instead of data (lower case, as prefixes).
_ERROR_ANSWERS = ("no gp data found", "invalid query", "gp data has not updated")
_MAX_DELAY_S = 60.0  # cap on backoff and on a server's Retry-After, seconds
_SOURCE_FORMS = (
    "use 'celestrak:GROUP' (e.g. 'celestrak:starlink'), 'celestrak:GROUP?format=FMT' "
    f"(FMT one of {', '.join(_FORMATS)}) or an http(s):// URL"
)


class StaleDataWarning(UserWarning):
    """A download failed, so the cached copy is returned instead (``stale`` says if it is too old)."""


@dataclass(frozen=True)
class FetchedFile:
    """A downloaded or cached file.

    Attributes:
        url: The URL the content came from.
        path: The cached file on disk.
        from_cache: True when no new body was downloaded (cache hit, HTTP 304, offline, stale fallback).
        stale: True when the copy is older than ``max_age_s`` and could not be revalidated.
        fetched_at_ns: When the server last confirmed the content, ns since 1970-01-01 UTC.
        bytes: Size of the file, bytes.
    """

    url: str
    path: Path
    from_cache: bool
    stale: bool
    fetched_at_ns: int
    bytes: int


def celestrak_url(group: str, fmt: str = "tle", base: str | None = None) -> str:
    """CelesTrak GP query URL for a group, e.g. ``.../NORAD/elements/gp.php?GROUP=starlink&FORMAT=tle``.

    ``base`` defaults to env ``LEONET_CELESTRAK_BASE``, else ``https://celestrak.org``.
    """
    if not isinstance(group, str) or not _GROUP_RE.fullmatch(group):
        raise InputError(
            f"invalid CelesTrak group {group!r}: use only letters, digits, '-', '_' and '.' "
            "(e.g. 'starlink', 'oneweb', 'gps-ops')"
        )
    key = fmt.lower() if isinstance(fmt, str) else ""
    if key not in _FORMATS:
        raise InputError(f"unknown CelesTrak format {fmt!r}: use one of {', '.join(_FORMATS)}")
    if base is None:
        base = os.environ.get("LEONET_CELESTRAK_BASE") or _DEFAULT_BASE
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"CelesTrak base {base!r} is not an http(s) URL: use e.g. {_DEFAULT_BASE!r}")
    query = urllib.parse.urlencode({"GROUP": group, "FORMAT": _FORMATS[key]})
    return f"{base.rstrip('/')}/NORAD/elements/gp.php?{query}"


def resolve_source(source: str) -> str:
    """Turn ``celestrak:GROUP[?format=FMT]`` or an http(s) URL into the URL to download."""
    text = source.strip() if isinstance(source, str) else ""
    if text[:10].lower() == "celestrak:":
        group, _, query = text[10:].partition("?")
        fmt = "tle"
        if query:
            params = urllib.parse.parse_qs(query, keep_blank_values=True)
            if set(params) != {"format"} or len(params["format"]) != 1:
                raise InputError(f"unsupported options in source {source!r}: {_SOURCE_FORMS}")
            fmt = params["format"][0]
        return celestrak_url(group, fmt)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        return text
    raise InputError(f"unrecognised source {source!r}: {_SOURCE_FORMS}")


def default_cache_dir() -> Path:
    """Env ``LEONET_CACHE_DIR``, else ``$XDG_CACHE_HOME/leonet``, else ``~/.cache/leonet``."""
    return user_cache_dir()


def fetch(
    source: str,
    *,
    cache_dir: Path | str | None = None,
    timeout_s: float = 30.0,
    retries: int = 3,
    backoff_s: float = 1.0,
    max_age_s: float = 2 * 3600,
    refresh: bool = False,
    offline: bool = False,
) -> FetchedFile:
    """Download ``source`` (see :func:`resolve_source`) into the cache, or reuse a cached copy.

    A cached copy younger than ``max_age_s`` (seconds) is returned without network access unless
    ``refresh``. Otherwise the URL is requested (conditionally, when the cached copy has an ETag or
    Last-Modified) with ``timeout_s`` seconds per socket operation and up to ``retries`` retries
    after the first attempt, waiting ``backoff_s * 2**n`` seconds (or the server's Retry-After),
    at most 60 s. If every attempt fails and a cached copy exists, it is returned with a
    :class:`StaleDataWarning` (``stale=True`` unless it is younger than ``max_age_s``, as with a
    failed ``refresh``); otherwise :class:`FetchError` lists each attempt. ``offline=True`` never
    touches the network and raises :class:`DataNotFoundError` when nothing is cached.
    ``cache_dir`` defaults to :func:`default_cache_dir`.
    """
    url = resolve_source(source)
    if not 0 < timeout_s < math.inf:
        raise InputError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if not isinstance(retries, int) or retries < 0:
        raise InputError(f"retries must be an integer >= 0, got {retries!r}")
    if not 0 <= backoff_s < math.inf or not max_age_s >= 0:
        raise InputError(f"backoff_s and max_age_s must be >= 0 seconds, got {backoff_s!r}, {max_age_s!r}")
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    data_path, meta_path = _cache_paths(url, folder)
    meta = _read_meta(url, data_path, meta_path)
    age_s = (time.time_ns() - meta["fetched_at_ns"]) / 1e9 if meta else math.inf
    fresh = 0 <= age_s < max_age_s  # a negative age means the clock moved back: revalidate
    if meta and (offline or (fresh and not refresh)):
        return _cached(url, data_path, meta, stale=not fresh)
    if offline:
        raise DataNotFoundError(
            f"offline and no cached copy of {url} in {folder}: run once with network access "
            f"(e.g. leonet.sources.fetch.fetch({source!r})), or point cache_dir / LEONET_CACHE_DIR "
            "at a folder that has it"
        )

    headers = {"User-Agent": _user_agent()}
    if meta and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if meta and meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    errors: list[str] = []
    hint = "check the network connection, or raise timeout_s / retries"
    for attempt in range(1, retries + 2):
        delay = min(backoff_s * 2 ** (attempt - 1), _MAX_DELAY_S)
        try:
            status, body, reply = _get(url, headers, timeout_s)
        except urllib.error.HTTPError as err:
            errors.append(f"attempt {attempt}: HTTP {err.code} {err.reason}{_snippet(err)}")
            if err.code != 429 and err.code < 500:  # the request itself is wrong: retrying won't help
                hint = "the server refused the request, so it was not retried: check the URL or group name"
                break
            delay = _retry_after(err.headers, delay)
        except (OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)  # URLError wraps the socket error, or a text
            name = type(reason).__name__ if isinstance(reason, BaseException) else type(err).__name__
            errors.append(f"attempt {attempt}: {name}: {reason}")
            if isinstance(reason, ssl.SSLCertVerificationError):
                hint = "the server's TLS certificate was rejected, so it was not retried"
                break
        else:
            if status == 304 and meta:
                meta = {**meta, **_stamp(), **_validators(reply, meta)}
                _write_atomic(meta_path, json.dumps(meta, indent=1).encode(), url)
                return _cached(url, data_path, meta, stale=False)
            problem = _bad_answer(body, status)
            if problem is None:
                meta = _store(url, body, reply, data_path, meta_path)
                return FetchedFile(url, data_path, False, False, meta["fetched_at_ns"], len(body))
            errors.append(f"attempt {attempt}: {problem}")
            hint = "the server answered without data, so it was not retried: check the group name or URL"
            break
        if attempt <= retries:
            time.sleep(delay)

    failure = f"could not download {url}: " + "; ".join(errors)
    if meta:
        when = _iso(meta["fetched_at_ns"])
        state = "still within max_age_s" if fresh else f"stale: older than max_age_s={max_age_s:g} s"
        warnings.warn(
            f"{failure}. Using the cached copy {data_path} fetched at {when}, {_format_age(age_s)} old ({state})",
            StaleDataWarning,
            stacklevel=2,
        )
        return _cached(url, data_path, meta, stale=not fresh)
    raise FetchError(f"{failure} ({hint})")


def _get(url: str, headers: dict[str, str], timeout_s: float) -> tuple[int, bytes, Message]:
    """One GET; returns (status, body, headers). A 304 is returned, other HTTP errors raise."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as err:
        if err.code != 304:
            raise
        err.close()
        return 304, b"", err.headers


def _snippet(err: urllib.error.HTTPError) -> str:
    """The start of an error response's body, which often says why, as ``': "..."'``."""
    try:
        text = " ".join(err.read(200).decode("utf-8", "replace").split())
    except (OSError, http.client.HTTPException):
        text = ""
    finally:
        err.close()
    return f': "{text}"' if text else ""


def _retry_after(headers: Message, default_s: float) -> float:
    """Seconds to wait from a Retry-After header (seconds form only), capped; else ``default_s``."""
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return default_s
    return min(max(seconds, 0.0), _MAX_DELAY_S) if math.isfinite(seconds) else default_s


def _bad_answer(body: bytes, status: int) -> str | None:
    """Why a 2xx body is not usable data, or None when it is."""
    if status != 200:
        return f"HTTP {status} instead of 200 with data"
    head = " ".join(body[:200].decode("utf-8", "replace").split())
    if not head:
        return "an empty body"
    if len(body) < 1024 and head.lower().startswith(_ERROR_ANSWERS):
        return f'a text answer instead of data: "{head}"'
    return None


def _cache_paths(url: str, folder: Path) -> tuple[Path, Path]:
    """(data file, JSON sidecar) for a URL: a readable slug, the URL's sha256 and an extension."""
    parts = urllib.parse.urlsplit(url)
    query = {k.upper(): v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
    fmt = query.get("FORMAT", "").lower()
    suffix = Path(parts.path).suffix.lower()
    ext = _EXTENSIONS.get(fmt) or (suffix if suffix in _KNOWN_SUFFIXES else ".dat")
    what = f"{query['GROUP']}-{fmt}" if "GROUP" in query else str(Path(parts.path).with_suffix(""))
    slug = re.sub(r"[^a-z0-9]+", "-", f"{parts.netloc}-{what}".lower()).strip("-")[:48]
    path = folder / f"{slug}.{hashlib.sha256(url.encode()).hexdigest()}{ext}"
    return path, path.with_name(path.name + ".meta.json")


def _read_meta(url: str, data_path: Path, meta_path: Path) -> dict[str, Any] | None:
    """The sidecar of a usable cached copy, or None when absent or not matching the data file."""
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        size = data_path.stat().st_size
    except (OSError, ValueError):
        return None
    ok = isinstance(meta, dict) and meta.get("url") == url and meta.get("bytes") == size
    return meta if ok and isinstance(meta.get("fetched_at_ns"), int) else None


def _stamp() -> dict[str, Any]:
    """Sidecar fields recording that the server confirmed the content now (UTC)."""
    now_ns = time.time_ns()
    return {"fetched_at": _iso(now_ns), "fetched_at_ns": now_ns}


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds")


def _validators(reply: Message, old: dict[str, Any]) -> dict[str, Any]:
    """ETag and Last-Modified from a reply, keeping the old ones the reply does not repeat."""
    return {
        "etag": reply.get("ETag") or old.get("etag"),
        "last_modified": reply.get("Last-Modified") or old.get("last_modified"),
    }


def _store(url: str, body: bytes, reply: Message, data_path: Path, meta_path: Path) -> dict[str, Any]:
    """Write body then sidecar atomically; returns the sidecar's content."""
    meta = {"url": url, **_stamp(), **_validators(reply, {}), "bytes": len(body)}
    _write_atomic(data_path, body, url)
    _write_atomic(meta_path, json.dumps(meta, indent=1).encode(), url)
    return meta


def _write_atomic(path: Path, data: bytes, url: str) -> None:
    """Write via a temp file in the same folder and os.replace, so readers never see a partial file."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise FetchError(
            f"could not write the cache file {path} for {url}: {err} "
            "(pass cache_dir= or set LEONET_CACHE_DIR to a writable folder)"
        ) from err
    finally:
        if tmp is not None:  # failed or interrupted: leave no temp file behind
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _cached(url: str, data_path: Path, meta: dict[str, Any], *, stale: bool) -> FetchedFile:
    return FetchedFile(url, data_path, True, stale, meta["fetched_at_ns"], meta["bytes"])


def _user_agent() -> str:
    from leonet.version import __version__  # imported here so the package root may import this module

    return f"leonet/{__version__}"


def _format_age(age_s: float) -> str:
    """A human-readable age, e.g. '45 s', '12 min', '5.2 h', '3.1 days'."""
    if age_s < 120:
        return f"{max(age_s, 0):.0f} s"
    if age_s < 7200:
        return f"{age_s / 60:.0f} min"
    if age_s < 172800:
        return f"{age_s / 3600:.1f} h"
    return f"{age_s / 86400:.1f} days"
