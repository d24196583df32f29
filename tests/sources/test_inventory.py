"""What ``leonet info`` reports: the summary, shell bands sized to the catalogue, and every
rejected and duplicated record."""

from __future__ import annotations

from leonet.sources.constellation import Constellation
from leonet.sources.inventory import inventory, shell_band_min_count
from leonet.sources.tle import parse_tle_text

SNAP = "tle/starlink_20241023_celestrak_gp.tle"


def test_inventory_lists_bands_rejections_and_duplicates(tle_snapshot) -> None:
    first = "".join(tle_snapshot(SNAP).path.read_text().splitlines(keepends=True)[:3])
    text = first + first + "1 bad line\n"
    records, report = parse_tle_text(text, "t.tle")
    c = Constellation.from_records(records, report, label="t")
    inv = inventory(c)
    assert inv["satellites"] == 1 and inv["label"] == "t" and inv["sources"] == report.sources
    assert len(inv["duplicates"]) == 1 and inv["duplicates"][0]["norad_id"] == int(c.norad_id[0])
    assert len(inv["rejections"]) == len(report.rejected) >= 1
    assert sum(b["satellites"] for b in inv["shells"]) == 1


def test_shell_band_minimum_grows_with_the_catalogue() -> None:
    assert [shell_band_min_count(n) for n in (10, 499, 500, 6000)] == [1, 1, 5, 12]
