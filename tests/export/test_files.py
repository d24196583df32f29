"""Writing tables and JSON: both CSV dialects, fixed decimals, Parquet, streams, atomic files and
clear errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from leonet.errors import InputError
from leonet.export.files import write_json, write_table

TABLE = pa.table({"name": ["plain", "a,b", 'say "hi"'], "n": [1, 2, 3], "x": [0.5, float("nan"), 12.34567]})


def test_arrow_csv_quotes_header_and_text_and_reads_back(tmp_path) -> None:
    out = tmp_path / "t.csv"
    assert write_table(TABLE, out, "csv") == 3
    assert out.read_text().splitlines()[0] == '"name","n","x"'
    back = pacsv.read_csv(out)
    assert back.column("name").to_pylist() == TABLE.column("name").to_pylist()
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary file left


def test_minimal_csv_quotes_only_what_needs_it(tmp_path) -> None:
    out = tmp_path / "t.csv"
    write_table(TABLE, out, "csv", quoting="minimal", decimals={"x": 2})
    assert out.read_text() == 'name,n,x\nplain,1,0.50\n"a,b",2,\n"say ""hi""",3,12.35\n'
    buf = io.StringIO()
    write_table(TABLE.select(["n", "x"]), buf, "csv", quoting="minimal")
    assert buf.getvalue() == "n,x\n1,0.5\n2,nan\n3,12.34567\n"  # floats as Python writes them
    empty = io.StringIO()
    write_table(TABLE.slice(0, 0), empty, "csv", quoting="minimal")
    assert empty.getvalue() == "name,n,x\n"


@pytest.mark.parametrize("names", [["plain", "a-b", None, "x"], ["plain", "a,b", None, "x"], [None, None, None, None]])
def test_minimal_csv_written_by_arrow_equals_pythons_csv(names, tmp_path) -> None:
    """Tables of integers, text and fixed-decimal floats go through Arrow when nothing needs
    quotes; the bytes equal Python's csv module (the writer used otherwise)."""
    import csv

    t = pa.table({"id": pa.array([1, None, -30, 2**40], pa.int64()), "name": pa.array(names, pa.string()),
                  "len_m": [0.0005, float("nan"), None, 1234.5675], "k": pa.array([0, 1, 2, 3], pa.int32())})
    out = tmp_path / "t.csv"
    write_table(t, out, "csv", quoting="minimal", decimals={"len_m": 3})
    ref = io.StringIO()
    w = csv.writer(ref, lineterminator="\n")
    w.writerow(t.column_names)
    fmt = ["" if v is None or v != v else f"{v:.3f}" for v in t.column("len_m").to_pylist()]
    w.writerows(zip(t.column("id").to_pylist(), t.column("name").to_pylist(), fmt, t.column("k").to_pylist()))
    assert out.read_text() == ref.getvalue()


def test_parquet_round_trip(tmp_path) -> None:
    out = tmp_path / "t.parquet"
    assert write_table(TABLE, out, "parquet") == 3
    back = pq.read_table(out)
    assert back.schema.equals(TABLE.schema) and back.column("name").equals(TABLE.column("name"))
    np.testing.assert_array_equal(back.column("x").to_numpy(), TABLE.column("x").to_numpy())  # NaN kept


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fmt": "xlsx"}, "is not one of csv, parquet"),
    ({"fmt": "csv", "quoting": "some"}, "quoting 'some'"),
    ({"fmt": "csv", "quoting": "minimal", "decimals": {"y": 2}}, "does not have"),
    ({"fmt": "csv", "decimals": {"x": 2}}, "quoting='minimal'"),
])
def test_bad_options_are_named(tmp_path, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        write_table(TABLE, tmp_path / "t", **kwargs)


def test_missing_folder_and_parquet_stream_are_errors(tmp_path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_table(TABLE, tmp_path / "no" / "t.csv", "csv")
    with pytest.raises(InputError, match="needs a file name"):
        write_table(TABLE, io.StringIO(), "parquet")


def test_json_to_file_and_stream(tmp_path) -> None:
    out = tmp_path / "d.json"
    write_json({"a": [1, 2]}, out)
    assert out.read_text() == json.dumps({"a": [1, 2]}, indent=2)
    buf = io.StringIO()
    write_json({"p": tmp_path}, buf, default=str)
    assert json.loads(buf.getvalue()) == {"p": str(tmp_path)} and buf.getvalue().endswith("}\n")
    with pytest.raises(InputError, match="does not exist"):
        write_json({}, tmp_path / "no" / "d.json")
