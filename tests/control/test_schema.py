"""schemathesis against the served OpenAPI spec: generated valid and invalid requests to every
operation (bounded examples) pass all of schemathesis's checks (no 5xx, every status and body
documented, invalid input refused, authentication enforced), and the audit chain stays intact."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import schemathesis
from control_support import auth, live_server, new_store, seed
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from leonet.control.api import ServerSettings
from leonet.control.limits import Rate

EXAMPLES = 20
# Operations whose bodies are checked beyond the schema: a polygon must be valid, a country
# must exist, valid_to must follow valid_from, a start in the past needs backdate, a code must
# belong to the name.
SEMANTIC = {"/regions", "/policy/states", "/requests", "/enrol"}


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
        # Generous limits: schemathesis sends everything from one address, bad tokens included.
        generous = ServerSettings(client_rate=Rate(1e6, 1e6), token_rate=Rate(1e6, 1e6), failure_rate=Rate(1e6, 1e6))
        with live_server(url, generous) as base:
            schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
            failures: list[str] = []
            ran = 0
            with httpx.Client(base_url=base, timeout=30) as http:
                for result in schema.get_all_operations():
                    op = result.ok()
                    headers = auth(_token_for(op.path, tokens))
                    # Where validity depends on more than the schema can say (geography, one field
                    # against another), a schema-valid body may be answered 422: all other checks run.
                    excluded = [positive_data_acceptance] if op.path in SEMANTIC else []

                    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                              suppress_health_check=list(HealthCheck))
                    @given(case=op.as_strategy(generation_mode=mode))
                    def check(case) -> None:
                        nonlocal ran
                        ran += 1
                        try:
                            case.call_and_validate(base_url=base, headers=headers, excluded_checks=excluded)  # noqa: B023 (run before the loop moves on)
                        except Exception as exc:  # schemathesis raises a group of failed checks, each named
                            failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:400]}")

                    check()
                verify = http.get("/audit/verify", headers=auth(tokens["au"])).json()
            assert ran >= 100
            assert failures == [], "\n".join(sorted(set(f[:200] for f in failures)))
            assert verify["ok"], verify
