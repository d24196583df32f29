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
from leonet.export import files
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


def _python_minimal_csv(t: pa.Table, decimals: dict) -> str:
    """The reference: Python's csv module and f-strings, value by value."""
    import csv

    ref = io.StringIO()
    w = csv.writer(ref, lineterminator="\n")
    w.writerow(t.column_names)
    cols = []
    for name in t.column_names:
        values = t.column(name).to_pylist()
        if name in decimals:
            values = ["" if v is None or v != v else f"{v:.{decimals[name]}f}" for v in values]
        cols.append(values)
    w.writerows(zip(*cols))
    return ref.getvalue()


def _boundary_values() -> np.ndarray:
    """Floats where fixed-decimal rounding is decided: decimal halves (and one ulp either side),
    binary halves that round to even, signed zeros and what rounds to them, the extremes."""
    rng = np.random.default_rng(7)
    halves = np.r_[(np.arange(-3000, 3000) + 0.5) / 1e3, (np.arange(-3000, 3000) + 0.5) / 1e6, (np.arange(0, 2000) + 0.5) / 10]
    return np.r_[
        rng.uniform(-2e8, 2e8, 3000), rng.uniform(0, 500, 3000), rng.lognormal(0, 12, 3000), halves, np.nextafter(halves, -np.inf),
        np.nextafter(halves, np.inf), [0.125, 0.375, 2.5, 1.5, -2.5, 0.0005, 1234.5675, 2.675, 0.0, -0.0, -0.0004, -1e-9, 1e-300, 5e-324],
        [2.0**52 + 0.5, 2.0**53, 9.0e12, 9.3e12, 1e15, 1e19, 1e300, np.inf, -np.inf, np.nan],
    ]


@pytest.mark.parametrize("digits", [0, 1, 2, 3, 5, 6, 8, 9, 12])
def test_fixed_decimals_equal_pythons_at_rounding_boundaries(digits: int, tmp_path) -> None:
    """Fixed decimals formatted in compiled code (export/text.py) equal ``f"{v:.{d}f}"`` byte
    for byte, including round-half-to-even on the exact binary value; values whose scaled size
    is past the compiled range (and 12 decimals) leave the table to Python, with the same bytes."""
    v = _boundary_values()
    t = pa.table({"x": pa.array(v, mask=np.arange(v.size) % 97 == 0), "k": np.arange(v.size)})
    out = tmp_path / "t.csv"
    write_table(t, out, "csv", quoting="minimal", decimals={"x": digits})
    assert out.read_text() == _python_minimal_csv(t, {"x": digits})
    small = t.filter(pa.array(np.abs(v) < 9e18 / 10.0**digits))
    plain = files._plain_csv(small, {"x": digits})
    if digits <= 9:  # the compiled writer did it, and alike
        assert plain is not None and plain[1].tobytes().decode() == _python_minimal_csv(small, {"x": digits}).partition("\n")[2]
    else:
        assert plain is None


def test_eight_digit_words_equal_str() -> None:
    """The word-at-a-time digits (export/text.py's ``_put_digits8``, whole parts of fixed
    decimals below 10**8): every value below 10**5, each power of ten and its predecessor,
    and random values up to 10**8 - 1 equal ``str``; the lane quotients are exact over their
    whole ranges."""
    from numba import njit

    from leonet.export.text import _put_digits8

    x = np.arange(10**4, dtype=np.uint64)
    assert np.array_equal((x * np.uint64(5243)) >> np.uint64(19), x // np.uint64(100))
    assert np.array_equal((x[:100] * np.uint64(103)) >> np.uint64(10), x[:100] // np.uint64(10))

    @njit
    def lines(values):  # type: ignore[no-untyped-def]
        buf = np.zeros(values.size * 9 + 8, dtype=np.uint8)
        pos = 0
        for v in values:
            pos = _put_digits8(buf, pos, v)
            buf[pos] = 10
            pos += 1
        return buf[:pos]

    edges = [10**k + d for k in range(1, 8) for d in (-1, 0, 1)] + [10**8 - 1]
    values = np.r_[np.arange(10**5), edges, np.random.default_rng(10).integers(0, 10**8, 200_000)].astype(np.uint64)
    assert lines(values).tobytes().decode().split("\n")[:-1] == [str(int(v)) for v in values]


def test_integers_and_text_in_compiled_code_equal_pythons(tmp_path) -> None:
    """Integer columns of every width (int64's extremes, nulls), text with non-ASCII and nulls,
    and a route-like path column: the compiled writer's bytes equal Python's; a uint64 past
    int64 and text needing quotes go to Python."""
    rng = np.random.default_rng(8)
    ints = np.r_[rng.integers(-2**63, 2**63 - 1, 500, dtype=np.int64), [0, -1, 9, 10, 99, 100, -2**63, 2**63 - 1]]
    n = ints.size
    text = [None if k % 11 == 0 else "-".join(str(x) for x in rng.integers(0, 3000, k % 9)) + "é" * (k % 3) for k in range(n)]
    t = pa.table({"i64": pa.array(ints, mask=np.arange(n) % 13 == 0), "i8": pa.array(np.arange(n) % 256 - 128, pa.int8()),
                  "u64": pa.array(np.arange(n, dtype=np.uint64) * 2**40, pa.uint64()), "path": pa.array(text, pa.large_string())})
    assert files._plain_csv(t, {}) is not None
    buf = io.StringIO()
    write_table(t, buf, "csv", quoting="minimal")
    assert buf.getvalue() == _python_minimal_csv(t, {})
    big = pa.table({"u": pa.array([2**64 - 1, 1], pa.uint64())})
    assert files._plain_csv(big, {}) is None and files._plain_csv(t.append_column("q", pa.array(['a"b'] * n)), {}) is None
    out = io.StringIO()
    write_table(big, out, "csv", quoting="minimal")
    assert out.getvalue() == "u\n18446744073709551615\n1\n"


def test_joined_ints_equal_pythons_join() -> None:
    from leonet.export.text import joined_ints

    rng = np.random.default_rng(9)
    lengths = rng.integers(0, 12, 300)
    values = rng.integers(0, 10**12, lengths.sum())
    offsets = np.r_[0, np.cumsum(lengths)]
    text_offsets, data = joined_ints(values, offsets, ord("-"))
    got = [data[text_offsets[k] : text_offsets[k + 1]].tobytes().decode() for k in range(lengths.size)]
    assert got == ["-".join(str(x) for x in values[offsets[k] : offsets[k + 1]]) for k in range(lengths.size)]
