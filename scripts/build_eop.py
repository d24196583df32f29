"""Regenerate ``src/leonet/data/eop_dut1.csv`` from the IERS table that Skyfield bundles.

leonet rotates TEME to ITRF with GMST-1982 evaluated at UT1, so it needs UT1-UTC. The PyPI
package ``skyfield`` ships the IERS finals series (observed values plus about a year of
predictions) as ``skyfield/data/iers.npz``; this script turns it into a small daily table of
UT1-UTC and TAI-UTC at 00:00 UTC. Run it after upgrading Skyfield:

    .venv/bin/python scripts/build_eop.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import skyfield
import skyfield.data

OUT = Path(__file__).resolve().parents[1] / "src" / "leonet" / "data" / "eop_dut1.csv"
FIRST_MJD = 47892  # 1990-01-01: older than any element set leonet is meant for
TT_MINUS_TAI_S = 32.184


def main() -> None:
    arrays = np.load(os.path.join(os.path.dirname(skyfield.data.__file__), "iers.npz"))
    tt_jd = arrays["tt_jd_minus_arange"] + np.arange(len(arrays["tt_jd_minus_arange"]))
    delta_t_s = (arrays["delta_t_1e7"] / 1e7).round(7)  # TT - UT1
    leap_dates_jd = arrays["leap_dates"]  # UTC JD at which TAI-UTC takes the new value
    leap_offsets_s = arrays["leap_offsets"]

    # Sample at 00:00 UTC of each whole day the table spans.
    mjd = np.arange(int(np.ceil(tt_jd[0] - 2400000.5)) + 1, int(tt_jd[-1] - 2400000.5) - 1)
    mjd = mjd[mjd >= FIRST_MJD]
    utc_jd = mjd + 2400000.5
    idx = np.searchsorted(leap_dates_jd, utc_jd, side="right") - 1
    tai_minus_utc = leap_offsets_s[idx]
    tt_jd_at = utc_jd + (tai_minus_utc + TT_MINUS_TAI_S) / 86400.0
    delta_t_at = np.interp(tt_jd_at, tt_jd, delta_t_s)
    ut1_minus_utc = tai_minus_utc + TT_MINUS_TAI_S - delta_t_at

    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="\n") as f:
        f.write(f"# UT1-UTC and TAI-UTC at 00:00 UTC, from the IERS series bundled with skyfield {skyfield.__version__}\n")
        f.write("# regenerate with scripts/build_eop.py\n")
        f.write("mjd_utc,ut1_minus_utc_s,tai_minus_utc_s\n")
        for m, d, l in zip(mjd, ut1_minus_utc, tai_minus_utc):
            f.write(f"{m},{d:.7f},{l:.0f}\n")
    print(f"wrote {OUT} ({len(mjd)} days, MJD {mjd[0]}..{mjd[-1]})")


if __name__ == "__main__":
    main()
