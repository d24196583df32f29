"""Tests for leonet.sources.fetch against a real HTTP server on 127.0.0.1 (no other host is contacted)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from refdata import data_dir as reference_data_dir

import leonet.sources.fetch as fetch_module
from leonet.errors import DataNotFoundError, FetchError, InputError
from leonet.sources.fetch import (
    FetchedFile,
    StaleDataWarning,
    celestrak_url,
    default_cache_dir,
    fetch,
    resolve_source,
)

STARLINK_TLE = "tle/starlink_20241023_celestrak_gp.tle"
# CelesTrak GP queries the test server answers: (GROUP, FORMAT) -> file under the data folder.
GP_FILES = {("starlink", "tle"): STARLINK_TLE}
FAST = {"timeout_s": 2.0, "retries": 3, "backoff_s": 0.001}




@dataclass
class _State:
    """What the handler should do; tests change it between requests."""

    data_dir: Path
    fail_first: int = 0  # answer this many requests with fail_status first
    fail_status: int = 503
    retry_after: str | None = None
    status: int | None = None  # answer every request with this status, e.g. 404
    body: bytes | None = None  # answer every request with 200 and this body
    hang_s: float = 0.0  # wait this long, then close without answering
    conditional: bool = False  # answer 304 to a matching If-None-Match
    requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        state: _State = self.server.state  # type: ignore[attr-defined]
        with state.lock:
            state.requests.append({"path": self.path, **dict(self.headers)})
            failing = state.fail_first > 0
            if failing:
                state.fail_first -= 1
        if state.hang_s:
            state.release.wait(state.hang_s)
            self.close_connection = True
            return
        if failing:
            extra = {"Retry-After": state.retry_after} if state.retry_after is not None else {}
            return self._send(state.fail_status, b"Service Unavailable", extra)
        if state.status is not None:
            return self._send(state.status, b"forced status")
        if state.body is not None:
            return self._send(200, state.body)
        path = self._resolve(state.data_dir)
        if path is None:
            if self.path.startswith("/NORAD/elements/gp.php"):  # what CelesTrak says for unknown groups
                return self._send(200, b"No GP data found")
            return self._send(404, b"Not Found")
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        if state.conditional and self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", {"ETag": etag})
        last_modified = formatdate(path.stat().st_mtime, usegmt=True)
        self._send(200, data, {"ETag": etag, "Last-Modified": last_modified})

    def _resolve(self, data_dir: Path) -> Path | None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/NORAD/elements/gp.php":
            query = urllib.parse.parse_qs(parts.query)
            key = (query.get("GROUP", [""])[0], query.get("FORMAT", [""])[0])
            return data_dir / GP_FILES[key] if key in GP_FILES else None
        path = (data_dir / urllib.parse.unquote(parts.path).lstrip("/")).resolve()
        return path if path.is_file() and path.is_relative_to(data_dir.resolve()) else None

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


@dataclass
class _Server:
    httpd: ThreadingHTTPServer
    state: _State
    thread: threading.Thread
    base: str
    stopped: bool = False

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def count(self) -> int:
        return len(self.state.requests)

    def stop(self) -> None:
        """Shut down and close the socket, so later connections are refused."""
        self.state.release.set()
        if not self.stopped:
            self.stopped = True
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the user's settings out, and any default-cache write inside tmp_path."""
    monkeypatch.delenv("LEONET_CELESTRAK_BASE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("LEONET_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def data_dir() -> Path:
    path = reference_data_dir()
    if not (path / STARLINK_TLE).is_file():
        pytest.skip(f"shared test data not found at {path} (set LEONET_DATA_DIR to the shared/data folder)")
    return path


@pytest.fixture
def server(data_dir: Path) -> Iterator[_Server]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    state = _State(data_dir)
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv = _Server(httpd, state, thread, f"http://127.0.0.1:{httpd.server_address[1]}")
    yield srv
    srv.stop()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def starlink_url(server: _Server) -> str:
    return celestrak_url("starlink", base=server.base)


def test_download_matches_source_bytes(server: _Server, cache: Path, data_dir: Path, starlink_url: str) -> None:
    result = fetch(starlink_url, cache_dir=cache, **FAST)
    expected = (data_dir / STARLINK_TLE).read_bytes()
    assert isinstance(result, FetchedFile)
    assert (result.url, result.from_cache, result.stale) == (starlink_url, False, False)
    assert result.path.parent == cache and result.path.suffix == ".tle"
    assert hashlib.sha256(starlink_url.encode()).hexdigest() in result.path.name
    assert result.path.read_bytes() == expected and result.bytes == len(expected)
    assert abs(result.fetched_at_ns - time.time_ns()) < 60e9
    meta = json.loads(result.path.with_name(result.path.name + ".meta.json").read_text())
    assert meta["url"] == starlink_url and meta["bytes"] == len(expected) and meta["etag"].startswith('"')
    assert server.count == 1
    assert server.state.requests[0]["User-Agent"].startswith("leonet/")


def test_celestrak_source_uses_env_base(server: _Server, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEONET_CELESTRAK_BASE", server.base)
    result = fetch("celestrak:starlink", cache_dir=cache, **FAST)
    assert server.state.requests[0]["path"] == "/NORAD/elements/gp.php?GROUP=starlink&FORMAT=tle"
    assert result.path.name.startswith("127-0-0-1-") and "starlink-tle" in result.path.name


def test_plain_url_download_keeps_extension(server: _Server, cache: Path, data_dir: Path) -> None:
    result = fetch(server.url("/tle/kuiper_20260822_celestrak_gp.tle"), cache_dir=cache, **FAST)
    assert result.path.suffix == ".tle"
    assert result.path.read_bytes() == (data_dir / "tle/kuiper_20260822_celestrak_gp.tle").read_bytes()


def test_fresh_cache_hit_makes_no_request(server: _Server, cache: Path, starlink_url: str) -> None:
    first = fetch(starlink_url, cache_dir=cache, **FAST)
    second = fetch(starlink_url, cache_dir=cache, **FAST)
    assert server.count == 1
    assert second.from_cache and not second.stale
    assert (second.path, second.fetched_at_ns, second.bytes) == (first.path, first.fetched_at_ns, first.bytes)


def test_refresh_downloads_again(server: _Server, cache: Path, starlink_url: str) -> None:
    first = fetch(starlink_url, cache_dir=cache, **FAST)
    second = fetch(starlink_url, cache_dir=cache, refresh=True, **FAST)
    assert server.count == 2
    assert not second.from_cache and second.fetched_at_ns > first.fetched_at_ns


def test_stale_copy_is_revalidated_with_304(server: _Server, cache: Path, starlink_url: str) -> None:
    server.state.conditional = True
    first = fetch(starlink_url, cache_dir=cache, **FAST)
    before = first.path.stat().st_mtime_ns
    second = fetch(starlink_url, cache_dir=cache, max_age_s=0, **FAST)
    sent = server.state.requests[1]
    assert sent["If-None-Match"] == json.loads(first.path.with_name(first.path.name + ".meta.json").read_text())["etag"]
    assert "If-Modified-Since" in sent
    assert second.from_cache and not second.stale and second.fetched_at_ns > first.fetched_at_ns
    assert second.path.stat().st_mtime_ns == before  # the body was not rewritten
    third = fetch(starlink_url, cache_dir=cache, **FAST)  # the 304 made the copy fresh again
    assert server.count == 2 and third.fetched_at_ns == second.fetched_at_ns


def test_retries_after_503_then_succeeds(server: _Server, cache: Path, starlink_url: str) -> None:
    server.state.fail_first = 2
    result = fetch(starlink_url, cache_dir=cache, **FAST)
    assert server.count == 3 and not result.from_cache


def test_503_every_time_raises_listing_each_attempt(server: _Server, cache: Path, starlink_url: str) -> None:
    server.state.fail_first = 100
    with pytest.raises(FetchError) as caught:
        fetch(starlink_url, cache_dir=cache, timeout_s=2.0, retries=2, backoff_s=0.001)
    message = str(caught.value)
    assert server.count == 3
    assert starlink_url in message
    assert all(f"attempt {n}: HTTP 503" in message for n in (1, 2, 3))
    assert not cache.exists() or not any(cache.iterdir())


def test_backoff_is_exponential_and_honours_capped_retry_after(
    server: _Server, cache: Path, starlink_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(fetch_module.time, "sleep", slept.append)  # record instead of waiting
    server.state.fail_first = 3
    fetch(starlink_url, cache_dir=cache, retries=3, backoff_s=0.5, timeout_s=2.0)
    assert slept == [0.5, 1.0, 2.0]

    slept.clear()
    server.state.fail_first, server.state.fail_status, server.state.retry_after = 2, 429, "7"
    fetch(starlink_url, cache_dir=cache, refresh=True, retries=3, backoff_s=0.5, timeout_s=2.0)
    assert slept == [7.0, 7.0]

    slept.clear()
    server.state.fail_first, server.state.retry_after = 1, "86400"
    fetch(starlink_url, cache_dir=cache, refresh=True, retries=3, backoff_s=0.5, timeout_s=2.0)
    assert slept == [60.0]


def test_404_fails_at_once_without_retries(server: _Server, cache: Path) -> None:
    url = server.url("/tle/no_such_file.tle")
    with pytest.raises(FetchError, match="HTTP 404") as caught:
        fetch(url, cache_dir=cache, **FAST)
    assert server.count == 1
    assert url in str(caught.value) and "not retried" in str(caught.value)


def test_timeout_is_retried_then_raises(server: _Server, cache: Path, starlink_url: str) -> None:
    server.state.hang_s = 5.0
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as caught:
        fetch(starlink_url, cache_dir=cache, timeout_s=0.2, retries=1, backoff_s=0.001)
    assert time.monotonic() - started < 3.0
    assert server.count == 2
    assert "attempt 1:" in str(caught.value) and "attempt 2:" in str(caught.value)


@pytest.mark.parametrize("body", [b"", b"  \r\n", b"No GP data found", b"Invalid query: GROUP"])
def test_empty_or_text_answer_is_an_error_and_not_cached(
    server: _Server, cache: Path, starlink_url: str, body: bytes
) -> None:
    server.state.body = body
    with pytest.raises(FetchError) as caught:
        fetch(starlink_url, cache_dir=cache, **FAST)
    message = str(caught.value)
    assert starlink_url in message
    assert ("empty body" in message) if not body.strip() else (body.decode() in message)
    assert server.count == 1  # a deterministic answer is not retried
    assert not cache.exists() or not any(cache.iterdir())


def test_unknown_celestrak_group_says_no_gp_data(server: _Server, cache: Path) -> None:
    with pytest.raises(FetchError, match="No GP data found"):
        fetch(celestrak_url("nosuchgroup", base=server.base), cache_dir=cache, **FAST)


def test_stale_copy_used_with_warning_when_server_is_down(
    server: _Server, cache: Path, data_dir: Path, starlink_url: str
) -> None:
    first = fetch(starlink_url, cache_dir=cache, **FAST)
    server.stop()
    with pytest.warns(StaleDataWarning, match=r"\d+ s old \(stale: older than max_age_s=0 s\)") as caught:
        result = fetch(starlink_url, cache_dir=cache, max_age_s=0, timeout_s=1.0, retries=1, backoff_s=0.001)
    assert "Connection" in str(caught[0].message) and str(first.path) in str(caught[0].message)
    assert result.stale and result.from_cache and result.fetched_at_ns == first.fetched_at_ns
    assert result.path.read_bytes() == (data_dir / STARLINK_TLE).read_bytes()


def test_cached_copy_used_when_server_keeps_failing(server: _Server, cache: Path, starlink_url: str) -> None:
    fetch(starlink_url, cache_dir=cache, **FAST)
    server.state.fail_first = 100
    with pytest.warns(StaleDataWarning, match="HTTP 503.*still within max_age_s"):
        result = fetch(starlink_url, cache_dir=cache, refresh=True, **FAST)
    assert result.from_cache and not result.stale and server.count == 1 + 4
    with pytest.warns(StaleDataWarning, match="HTTP 503.*stale: older than max_age_s"):
        result = fetch(starlink_url, cache_dir=cache, max_age_s=0, **FAST)
    assert result.from_cache and result.stale


def test_offline_uses_only_the_cache(server: _Server, cache: Path, starlink_url: str) -> None:
    with pytest.raises(DataNotFoundError, match="offline and no cached copy") as caught:
        fetch(starlink_url, cache_dir=cache, offline=True)
    assert str(cache) in str(caught.value) and "run once with network access" in str(caught.value)
    assert server.count == 0

    first = fetch(starlink_url, cache_dir=cache, **FAST)
    fresh = fetch(starlink_url, cache_dir=cache, offline=True, refresh=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # offline use of an old copy is flagged, not warned about
        old = fetch(starlink_url, cache_dir=cache, offline=True, max_age_s=0)
    assert server.count == 1
    assert fresh.from_cache and not fresh.stale and fresh.path == first.path
    assert old.from_cache and old.stale


@pytest.mark.parametrize(
    "source",
    [
        "",
        "starlink",
        "celestrak:",
        "celestrak:star link",
        "celestrak:starlink/../x",
        "celestrak:starlink?format=pdf",
        "celestrak:starlink?fmt=json",
        "celestrak:starlink?format=json&format=csv",
        "ftp://celestrak.org/starlink.tle",
        "file:///etc/passwd",
        "https://",
    ],
)
def test_bad_source_strings_raise_input_error(source: str, cache: Path) -> None:
    with pytest.raises(InputError, match="celestrak|CelesTrak"):
        fetch(source, cache_dir=cache, offline=True)


def test_resolve_source_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    gp = "https://celestrak.org/NORAD/elements/gp.php"
    assert resolve_source("celestrak:starlink") == f"{gp}?GROUP=starlink&FORMAT=tle"
    assert resolve_source(" celestrak:gps-ops?format=json ") == f"{gp}?GROUP=gps-ops&FORMAT=json"
    assert resolve_source("celestrak:starlink?format=3le").endswith("FORMAT=tle")
    assert resolve_source("https://example.org/a.tle?x=1") == "https://example.org/a.tle?x=1"
    monkeypatch.setenv("LEONET_CELESTRAK_BASE", "http://127.0.0.1:9/")
    assert resolve_source("celestrak:oneweb") == "http://127.0.0.1:9/NORAD/elements/gp.php?GROUP=oneweb&FORMAT=tle"


def test_celestrak_url_formats_and_validation() -> None:
    base = "http://127.0.0.1:9"
    assert celestrak_url("starlink", "2LE", base=base).endswith("GROUP=starlink&FORMAT=2le")
    assert celestrak_url("starlink", "csv", base=base).endswith("FORMAT=csv")
    with pytest.raises(InputError, match="use one of tle, 3le"):
        celestrak_url("starlink", "kvn", base=base)
    with pytest.raises(InputError, match="letters, digits"):
        celestrak_url("star&link", base=base)
    with pytest.raises(InputError, match="not an http"):
        celestrak_url("starlink", base="celestrak.org")


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout_s": 0}, {"timeout_s": float("nan")}, {"retries": -1}, {"backoff_s": -1.0}, {"max_age_s": -5}],
)
def test_bad_numeric_arguments_raise_input_error(kwargs: dict[str, float], cache: Path) -> None:
    with pytest.raises(InputError, match=next(iter(kwargs))):
        fetch("http://127.0.0.1:9/x.tle", cache_dir=cache, **kwargs)


def test_cache_dir_from_environment(
    server: _Server, tmp_path: Path, starlink_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEONET_CACHE_DIR", str(tmp_path / "env-cache"))
    assert default_cache_dir() == tmp_path / "env-cache"
    result = fetch(starlink_url, **FAST)
    assert result.path.parent == tmp_path / "env-cache"

    monkeypatch.delenv("LEONET_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "leonet"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "leonet"


def test_write_leaves_no_temp_files_and_failed_write_keeps_old_copy(
    server: _Server, cache: Path, starlink_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fetch(starlink_url, cache_dir=cache, **FAST)
    assert sorted(p.name for p in cache.iterdir()) == [first.path.name, first.path.name + ".meta.json"]
    original = first.path.read_bytes()

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    server.state.body = b"1 new content that must not half-replace the old copy\n" * 100
    with monkeypatch.context() as patch:
        patch.setattr(fetch_module.os, "replace", failing_replace)
        with pytest.raises(FetchError, match="No space left on device.*LEONET_CACHE_DIR"):
            fetch(starlink_url, cache_dir=cache, refresh=True, **FAST)
    assert sorted(p.name for p in cache.iterdir()) == [first.path.name, first.path.name + ".meta.json"]
    assert first.path.read_bytes() == original
    assert fetch(starlink_url, cache_dir=cache, offline=True).bytes == len(original)
