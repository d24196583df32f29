"""Shared pieces of the dashboard tests and benchmark: the browser, its flags, artefacts."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless, software WebGL (SwiftShader), no background traffic.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def artifacts_dir() -> Path:
    """Where screenshots go: $LEONET_WEB_ARTIFACTS or tests/web/artifacts (gitignored)."""
    p = Path(os.environ.get("LEONET_WEB_ARTIFACTS", Path(__file__).parent.parent / "web" / "artifacts"))
    p.mkdir(parents=True, exist_ok=True)
    return p
