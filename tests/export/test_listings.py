"""The CLI's listings as tables: columns and types, empty listings keep their header, access rows
follow the windows."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa

from leonet.export.listings import ACCESS_COLUMNS, OVERHEAD_COLUMNS, access_table, overhead_table, write_access_csv, write_overhead_csv
from leonet.imaging.access import AccessWindows, Sensor
from leonet.times import parse_time


def test_overhead_rows_and_empty_listing() -> None:
    rows = [{"norad_id": 44714, "name": "STARLINK-1008", "azimuth_deg": 12.5, "elevation_deg": 80.25, "range_km": 560.123, "altitude_km": 550.0, "state": "operational"}]
    t = overhead_table(rows)
    assert tuple(t.column_names) == OVERHEAD_COLUMNS and t.schema.field("norad_id").type == pa.int64()
    buf = io.StringIO()
    assert write_overhead_csv(rows, buf) == 1
    assert buf.getvalue() == "norad_id,name,azimuth_deg,elevation_deg,range_km,altitude_km,state\n44714,STARLINK-1008,12.5,80.25,560.123,550.0,operational\n"
    empty = io.StringIO()
    write_overhead_csv([], empty)
    assert empty.getvalue() == ",".join(OVERHEAD_COLUMNS) + "\n"


def test_access_rows_follow_the_windows(tmp_path) -> None:
    t0 = parse_time("2024-10-23T00:00:00Z")
    s = t0 + np.array([1_999_999, 60_000_000_000])
    w = AccessWindows(np.array([1, 0]), np.array([0, 2]), s, s + 90_123_000_000, s, np.array([45.123456, 10.0]), np.zeros(2, bool), np.zeros(2, bool),
                      t0, t0 + 3_600_000_000_000, Sensor())
    t = access_table(w, np.array([100, 200, 300]), np.array(["north", "25.03,121.56"], dtype=object))
    assert tuple(t.column_names) == ACCESS_COLUMNS
    assert t.column("target").to_pylist() == ["25.03,121.56", "north"] and t.column("norad_id").to_pylist() == [100, 300]
    assert t.column("start_utc")[0].as_py() == "2024-10-23T00:00:00.001Z"  # cut to the ms, as format_time does
    out = tmp_path / "a.csv"
    assert write_access_csv(w, np.array([100, 200, 300]), np.array(["north", "25.03,121.56"], dtype=object), out) == 2
    lines = out.read_text().splitlines()
    assert lines[0] == "target,norad_id,start_utc,end_utc,max_elevation_deg"
    assert lines[1] == '"25.03,121.56",100,2024-10-23T00:00:00.001Z,2024-10-23T00:01:30.124Z,45.1235'
    assert lines[2].startswith("north,300,") and lines[2].endswith(",10.0000")
