#!/usr/bin/env bash
# Regenerate tests/data/hypatia/ with Hypatia's own satgenpy (see scripts/hypatia_reference.py).
# satgenpy and ephem go into a separate virtual environment (default .venv-hypatia, ignored by
# git), never into the project's. Usage: scripts/hypatia_reference.sh [extra options of the .py]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="${HYPATIA_VENV:-$here/.venv-hypatia}"
data="${LEONET_DATA_DIR:-$here/../shared/data}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "satgenpy==0.4.*" "ephem>=4.1,<5"
fi
exec nice -n 10 "$venv/bin/python" "$here/scripts/hypatia_reference.py" --data-dir "$data" --out "$here/tests/data/hypatia" "$@"
