"""Where leonet finds the reference data folder (element-set snapshots, gateways, population)
and keeps its user cache (downloads, prepared forms of shipped data)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Reference data folder: ``$LEONET_DATA_DIR``, else ``../shared/data`` beside the checkout
    (found from the current directory or from this file)."""
    env = os.environ.get("LEONET_DATA_DIR")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        cand = base.parent / "shared" / "data"
        if cand.is_dir():
            return cand
    return Path.cwd().parent / "shared" / "data"


def user_cache_dir() -> Path:
    """Env ``LEONET_CACHE_DIR``, else ``$XDG_CACHE_HOME/leonet``, else ``~/.cache/leonet``."""
    if env := os.environ.get("LEONET_CACHE_DIR"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative paths
        return Path(xdg) / "leonet"
    return Path.home() / ".cache" / "leonet"
