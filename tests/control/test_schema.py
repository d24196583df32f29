"""schemathesis against the served OpenAPI spec: generated valid and invalid requests to every
operation (bounded examples) never get a 5xx, and the audit chain stays intact."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import schemathesis
from control_support import auth, live_server, new_store, seed
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

EXAMPLES = 20


def _token_for(path: str, tokens: dict[str, str]) -> str:
    """A role allowed to reach the operation's input handling."""
    if path.startswith("/users"):
        return tokens["admin"]
    if path.startswith("/audit"):
        return tokens["au"]
    return tokens["op1"]


@pytest.mark.parametrize("backend,mode", [("sqlite", GenerationMode.POSITIVE), ("sqlite", GenerationMode.NEGATIVE), ("postgresql", GenerationMode.POSITIVE)])
def test_no_server_errors(tmp_path: Path, backend: str, mode: GenerationMode) -> None:
    with new_store(backend, tmp_path) as url:
        tokens = seed(url)
        with live_server(url) as base:
            schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
            failures: list[str] = []
            ran = 0
            with httpx.Client(base_url=base, timeout=30) as http:
                for result in schema.get_all_operations():
                    op = result.ok()
                    headers = auth(_token_for(op.path, tokens))

                    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                              suppress_health_check=list(HealthCheck))
                    @given(case=op.as_strategy(generation_mode=mode))
                    def check(case) -> None:
                        nonlocal ran
                        ran += 1
                        r = case.call(base_url=base, headers=headers)  # noqa: B023 (run before the loop moves on)
                        if r.status_code >= 500:
                            failures.append(f"{case.method} {case.formatted_path} -> {r.status_code}: {r.text[:300]}")

                    check()
                verify = http.get("/audit/verify", headers=auth(tokens["au"])).json()
            assert ran >= 100
            assert failures == []
            assert verify["ok"], verify
