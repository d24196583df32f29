"""CSV text from columns of numbers and text in compiled code, byte for byte what Python writes:
integers as ``str(int)``, fixed-decimal floats as ``f"{v:.{d}f}"`` (exact: the binary value
rounded half to even at the last decimal, computed in integers), text as it is, nulls empty.

Why: ``leonet route`` writes ~10,000 rows per time step; Python's formatting cost 3x the
router's own step. Callers (:mod:`leonet.export.files`, and the route writer
:func:`leonet.export.results.write_routes`, also for node ids of 10**8 or more) fall back to
Python where a value is outside what is done here (a float of ``|v| * 10**d >= 2**63``, more than
:data:`MAX_DECIMALS` decimals, text that needs quoting).
"""

from __future__ import annotations

import math
import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

#: Most decimals formatted here (10**d must stay below 2**32 for the exact product).
MAX_DECIMALS = 9
INT, FLOAT, TEXT = 0, 1, 2
_COMMA, _NL, _MINUS, _DOT, _ZERO, _DASH = 44, 10, 45, 46, 48, 45


_POW10 = np.array([10**i for i in range(20)], dtype=np.uint64)
_POW10F = np.array([10.0**i for i in range(20)])  # exact up to 10**22
_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8).copy()


_LITTLE_ENDIAN = sys.byteorder == "little"


@intrinsic
def _store8(typingctx, buf, pos, word):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The uint64 ``word`` stored at byte ``pos`` of the uint8 array ``buf`` (unaligned; no
    bounds check: the caller leaves 8 bytes of room)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        b, p, w = args
        ptr = builder.gep(context.make_array(signature.args[0])(context, builder, b).data, [p])
        builder.store(w, builder.bitcast(ptr, ir.IntType(64).as_pointer()), align=1)
        return context.get_dummy_value()
    return types.none(buf, pos, word), codegen


@njit(cache=True, inline="always")
def _put_uint(buf, pos, x, min_digits):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Decimal digits of the unsigned ``x`` (at least ``min_digits``, zero-padded) at ``pos``,
    written from the right two at a time."""
    n = max(min_digits, 1)
    while n < 20 and x >= _POW10[n]:
        n += 1
    i = pos + n
    while i - pos >= 2:
        t = x % np.uint64(100)
        x //= np.uint64(100)
        buf[i - 1] = _PAIRS[2 * t + 1]
        buf[i - 2] = _PAIRS[2 * t]
        i -= 2
    if i > pos:
        buf[pos] = _ZERO + np.uint8(x % np.uint64(10))
    return pos + n


@njit(cache=True)
def _put_int(buf, pos, v):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    if v < 0:
        buf[pos] = _MINUS
        return _put_uint(buf, pos + 1, np.uint64(0) - np.uint64(v), 1)
    return _put_uint(buf, pos, np.uint64(v), 1)


@njit(cache=True)
def _round_exact(a, scale):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``a * scale`` rounded half to even, exactly (``0 < a``, ``a * scale < 2**63``, ``scale <
    2**32``): ``a = m * 2**-k`` in integers, the product in 128 bits, the rest against half."""
    f, e = math.frexp(a)  # a = f * 2**e exactly, 0.5 <= f < 1
    m = np.uint64(math.ldexp(f, 53))  # a = m * 2**(e - 53), m < 2**53
    k = 53 - e
    if k <= 0:  # an integer: no fraction to round
        return (m << np.uint64(-k)) * scale
    # m * scale as hi * 2**64 + lo (m < 2**53, scale < 2**32: below 2**85).
    lo_m, hi_m = m & np.uint64(0xFFFFFFFF), m >> np.uint64(32)
    p_lo = lo_m * scale  # < 2**64
    p_hi = hi_m * scale  # < 2**53: the product is p_hi * 2**32 + p_lo
    lo = p_lo + (p_hi << np.uint64(32))
    hi = (p_hi >> np.uint64(32)) + (np.uint64(1) if lo < p_lo else np.uint64(0))
    if k >= 96:  # below 2**-11: rounds to 0
        return np.uint64(0)
    # q = floor(product / 2**k); the rest compared with half of 2**k
    if k >= 64:
        q = hi >> np.uint64(k - 64)
        rest_hi = hi & ((np.uint64(1) << np.uint64(k - 64)) - np.uint64(1))
        rest_lo = lo
        half_hi = np.uint64(1) << np.uint64(k - 65) if k > 64 else np.uint64(0)
        half_lo = np.uint64(0) if k > 64 else np.uint64(1) << np.uint64(63)
    else:
        q = (lo >> np.uint64(k)) | (hi << np.uint64(64 - k))
        rest_hi = np.uint64(0)
        rest_lo = lo & ((np.uint64(1) << np.uint64(k)) - np.uint64(1))
        half_hi = np.uint64(0)
        half_lo = np.uint64(1) << np.uint64(k - 1)
    above = rest_hi > half_hi or (rest_hi == half_hi and rest_lo > half_lo)
    tie = rest_hi == half_hi and rest_lo == half_lo
    if above or (tie and (q & np.uint64(1)) == np.uint64(1)):
        q += np.uint64(1)
    return q


@njit(cache=True, inline="always")
def _put_fixed(buf, pos, v, d):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``f"{v:.{d}f}"`` at ``pos``; returns the new position, or -1 where ``|v| * 10**d`` could
    reach 2**63 (the caller formats the table in Python). Writes up to 7 bytes past the text
    (:func:`_put_digits8`): callers leave that room."""
    if math.isinf(v):
        if v < 0:
            buf[pos] = _MINUS
            pos += 1
        buf[pos], buf[pos + 1], buf[pos + 2] = 105, 110, 102  # "inf"
        return pos + 3
    if math.copysign(1.0, v) < 0:  # Python writes the sign of -0.0 and of what rounds to it
        buf[pos] = _MINUS
        pos += 1
    a = abs(v)
    x = a * _POW10F[d]  # 10**d is exact; x is within 2**-52 of the exact product
    if x >= 9.2e18:
        return -1
    q = np.uint64(x)
    frac = x - np.float64(q)
    if abs(frac - 0.5) > x * 2.0**-50 + 2.0**-1000:  # clear of a half: rounds as the exact product does
        q += np.uint64(frac > 0.5)  # no branch: a coin toss per value
    elif a != 0.0:  # near a half: decide in integers
        q = _round_exact(a, _POW10[d])
    if d == 0:
        return _put_uint(buf, pos, q, 1)
    if d > 8 or not _LITTLE_ENDIAN:  # all digits, then the point slid in before the last d
        end = _put_uint(buf, pos, q, d + 1)
        for i in range(end, end - d, -1):
            buf[i] = buf[i - 1]
        buf[end - d] = _DOT
        return end + 1
    whole = _div_pow10(q, d)
    pos = _put_digits8(buf, pos, whole) if whole < np.uint64(10**8) else _put_uint(buf, pos, whole, 1)
    buf[pos] = _DOT
    # the fraction's 8 digits with leading zeros, the first 8 - d dropped
    _store8(buf, pos + 1, _digit_word(q - whole * _POW10[d]) >> np.uint64(8 * (8 - d)))
    return pos + 1 + d


@njit(cache=True, inline="always")
def _div_pow10(q, d):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``q // 10**d``; the route table's 3 and 6 decimals by constants (a multiply, not a divide)."""
    if d == 3:
        return q // np.uint64(1000)
    if d == 6:
        return q // np.uint64(1000000)
    return q // _POW10[d]


@njit(cache=True, inline="always")
def _digit_word(x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The 8 decimal digits of ``x`` (``0 <= x < 10**8``, zero-padded) as one little-endian
    word of digit values 0-9, the most significant in the lowest byte; no division: the halves
    are split in parallel lanes (4 digits in 32 bits, then 2 in 16, then 1 in 8), each lane's
    quotient by 100 or 10 a multiply and shift exact over the lane's range (tested)."""
    x = np.uint64(x)
    hi = x // np.uint64(10000)
    v = hi | ((x - hi * np.uint64(10000)) << np.uint64(32))
    t = ((v * np.uint64(5243)) >> np.uint64(19)) & np.uint64(0x0000007F0000007F)  # // 100 below 10**4
    v = t | ((v - t * np.uint64(100)) << np.uint64(16))
    t = ((v * np.uint64(103)) >> np.uint64(10)) & np.uint64(0x000F000F000F000F)  # // 10 below 100
    return t | ((v - t * np.uint64(10)) << np.uint64(8)) | np.uint64(0x3030303030303030)


@njit(cache=True, inline="always")
def _put_digits8(buf, pos, x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``str(x)`` (``0 <= x < 10**8``) at ``pos`` in one 8-byte store (8 bytes of room needed);
    returns the new position. The leading zeros are the low bytes that hold '0'."""
    w = _digit_word(x)
    zeros = trailing_zeros((w ^ np.uint64(0x3030303030303030)) | np.uint64(1 << 63)) >> np.uint64(3)  # 7 for x == 0: one '0' stays
    _store8(buf, pos, w >> (np.uint64(8) * zeros))
    return pos + 8 - np.int64(zeros)


@njit(cache=True)
def _grow(buf, need):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    out = np.empty(max(need, 2 * buf.size), dtype=np.uint8)
    out[: buf.size] = buf
    return out


@njit(cache=True)
def csv_rows(n_rows, kind, index, ints, int_valid, floats, digits, text_offsets, text, text_valid):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The CSV rows (no header) as ``(bytes (B,) uint8, ok)``; ``ok`` False where a value needs
    Python (see the module docstring). Column ``c`` is ``kind[c]`` (:data:`INT`, :data:`FLOAT`,
    :data:`TEXT`) number ``index[c]`` of its kind: ``ints`` (I, R) int64 with ``int_valid``;
    ``floats`` (F, R) float64 (NaN empty) with ``digits`` (F,); text ``t`` of row ``r`` is
    ``text[text_offsets[t, r]:text_offsets[t, r + 1]]`` with ``text_valid`` (T, R)."""
    n_cols = kind.size
    special = 0
    for i in range(text.size):  # no early exit: the loop vectorises
        b = text[i]
        special += (b == 44) | (b == 34) | (b == 13) | (b == 10)  # , " CR LF: a value that needs quotes
    if special:
        return np.empty(0, dtype=np.uint8), False
    # Room for every row: the widest integer of each column, a float's sign, digits and
    # decimals (below 2**63 once scaled, else the caller's Python does it), all the text.
    width = np.zeros(n_cols, dtype=np.int64)
    for c in range(n_cols):
        j = index[c]
        if kind[c] == INT:
            width[c] = 20
        elif kind[c] == FLOAT:
            width[c] = 22 + digits[j]
    # + 8: a float's last 8-byte store may reach 7 bytes past its text (_put_fixed)
    buf = np.empty(n_rows * (width.sum() + n_cols) + text.size + 1 + 8, dtype=np.uint8)
    pos = 0
    for r in range(n_rows):
        for c in range(n_cols):
            if c > 0:
                buf[pos] = _COMMA
                pos += 1
            j = index[c]
            if kind[c] == INT:
                if int_valid[j, r]:
                    pos = _put_int(buf, pos, ints[j, r])
            elif kind[c] == FLOAT:
                v = floats[j, r]
                if v == v:
                    pos = _put_fixed(buf, pos, v, digits[j])
                    if pos < 0:
                        return buf[:0], False
            elif text_valid[j, r]:
                for i in range(text_offsets[j, r], text_offsets[j, r + 1]):
                    buf[pos] = text[i]
                    pos += 1
        buf[pos] = _NL
        pos += 1
    return buf[:pos], True


@njit(cache=True)
def joined_ints(values, offsets, sep):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Text of each list ``values[offsets[i]:offsets[i + 1]]`` (non-negative integers) joined by
    the byte ``sep``, as ``(text offsets (L + 1,) int64, bytes)`` (Arrow's string layout)."""
    n = offsets.size - 1
    out_off = np.zeros(n + 1, dtype=np.int64)
    buf = np.empty(max(16, 8 * values.size), dtype=np.uint8)
    pos = 0
    for i in range(n):
        need = pos + 21 * (offsets[i + 1] - offsets[i])
        if need > buf.size:
            buf = _grow(buf, need)
        for k in range(offsets[i], offsets[i + 1]):
            if k > offsets[i]:
                buf[pos] = sep
                pos += 1
            pos = _put_int(buf, pos, values[k])
        out_off[i + 1] = pos
    return out_off, buf[:pos]


@njit(inline="always")
def _put_word(buf, pos, word, n):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The ``n`` bytes packed little-endian in ``word`` at ``pos``: one 8-byte store on a
    little-endian CPU (the bytes past ``n`` are garbage that the next writes cover: the buffer
    needs 8 bytes of room past the end, :func:`route_step_bound`), else byte by byte."""
    if _LITTLE_ENDIAN:
        _store8(buf, pos, word)
        return pos + n
    for i in range(n):
        buf[pos + i] = np.uint8((word >> np.uint64(8 * i)) & np.uint64(0xFF))
    return pos + n


@njit(cache=True)
def route_step_rows(buf, pos, t_text, src_id, dst_id, hops, path, length, rtt, length_digits, rtt_digits, id_words, id_chars):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """One time step of the route CSV (``t,src,dst,hops,path,length,rtt`` per pair) written at
    ``pos`` into ``buf``; returns the new position (-1: a float needs Python). ``t_text``: the
    step's time as text; ``src_id``, ``dst_id`` (P,) node ids; ``hops`` (P,) (-1: unreachable,
    an empty row); ``path`` (P, H) right-aligned node ids; ``length``, ``rtt`` (P,) written
    with fixed decimals; node ``v``'s text is the ``id_chars[v]`` bytes of ``id_words[v]``
    (:func:`id_words`). The caller sizes ``buf`` (:func:`route_step_bound`)."""
    width = path.shape[1]
    t_words = np.zeros((t_text.size + 7) // 8, dtype=np.uint64)  # the time's text, 8 bytes a word
    for i in range(t_text.size):
        t_words[i >> 3] |= np.uint64(t_text[i]) << np.uint64(8 * (i & 7))
    for p in range(src_id.size):
        for w in range(t_words.size):
            _put_word(buf, pos + 8 * w, t_words[w], 8)
        pos += t_text.size
        buf[pos] = _COMMA
        pos = _put_word(buf, pos + 1, id_words[src_id[p]], id_chars[src_id[p]])
        buf[pos] = _COMMA
        pos = _put_word(buf, pos + 1, id_words[dst_id[p]], id_chars[dst_id[p]])
        buf[pos] = _COMMA
        pos += 1
        h = hops[p]
        if h >= 0:
            pos = _put_word(buf, pos, id_words[h], id_chars[h]) if h < id_words.size else _put_int(buf, pos, h)
            buf[pos] = _COMMA
            pos += 1
            for k in range(width - h - 1, width):  # each node and a dash; the last dash becomes the comma
                v = path[p, k]
                pos = _put_word(buf, pos, id_words[v], id_chars[v])
                buf[pos] = _DASH
                pos += 1
            buf[pos - 1] = _COMMA
            pos = _put_fixed(buf, pos, length[p], length_digits) if length[p] == length[p] else pos
            if pos < 0:
                return -1
            buf[pos] = _COMMA
            pos = _put_fixed(buf, pos + 1, rtt[p], rtt_digits) if rtt[p] == rtt[p] else pos + 1
            if pos < 0:
                return -1
        else:
            buf[pos], buf[pos + 1], buf[pos + 2] = _COMMA, _COMMA, _COMMA
            pos += 3
        buf[pos] = _NL
        pos += 1
    return pos


def id_words(n_ids: int) -> tuple[np.ndarray, np.ndarray]:
    """The decimal text of ``0..n_ids - 1`` packed for :func:`route_step_rows`: ``(words (n,)
    uint64, chars (n,) int64)``, at most 8 characters (ids below 10**8)."""
    if n_ids > 10**8:
        raise ValueError(f"node ids up to {n_ids - 1} do not fit 8 characters")
    ids = np.arange(n_ids, dtype=np.uint64)
    chars = np.ones(n_ids, dtype=np.int64)
    words = np.zeros(n_ids, dtype=np.uint64)
    for k in range(1, 9):
        chars += ids >= np.uint64(10**k)
    for k in range(8):  # digit k from the left sits in byte k
        shift = (chars - 1 - k).clip(0).astype(np.uint64)
        digit = (ids // (np.uint64(10) ** shift)) % np.uint64(10)
        words |= np.where(k < chars, (np.uint64(48) + digit) << np.uint64(8 * k), np.uint64(0))
    return words, chars


def route_step_bound(n_pairs: int, width: int, t_chars: int, id_chars: int, length_digits: int, rtt_digits: int) -> int:
    """Bytes :func:`route_step_rows` may write for one step (every pair with the widest path),
    and 16 more: its 8-byte stores reach past the last byte written."""
    return n_pairs * (t_chars + 2 * id_chars + 21 + width * (id_chars + 1) + 2 * 23 + length_digits + rtt_digits + 8) + 16


def warm_kernels() -> None:
    """Compile the kernels into numba's on-disk cache (``make venv`` runs it)."""
    one = np.ones((1, 1), dtype=np.bool_)
    csv_rows(1, np.array([INT, FLOAT, TEXT], np.int64), np.zeros(3, np.int64), np.ones((1, 1), np.int64), one, np.ones((1, 1)),
             np.array([3], np.int64), np.array([[0, 1]], np.int64), np.array([65], np.uint8), one)
    joined_ints(np.arange(3, dtype=np.int64), np.arange(4, dtype=np.int64), _DASH)
    buf = np.empty(route_step_bound(1, 2, 1, 1, 3, 6), dtype=np.uint8)
    for path_type in (np.int32, np.int64):  # the routers' paths, and others'
        route_step_rows(buf, 0, np.array([49], np.uint8), np.array([0]), np.array([1]), np.array([1]), np.array([[0, 1]], path_type), np.array([1.5]),
                        np.array([2.5]), 3, 6, *id_words(2))


__all__ = ["FLOAT", "INT", "MAX_DECIMALS", "TEXT", "csv_rows", "id_words", "joined_ints", "route_step_bound", "route_step_rows", "warm_kernels"]
