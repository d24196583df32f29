"""Bit and vector primitives for the pairs writer (:mod:`leonet.coverage.scan`), as numba
intrinsics: LLVM's own operations, which numba does not expose.

- :func:`popcount`: set bits of a uint64 (``ctpop``; one instruction where the CPU has it).
- :func:`compress16`: 16 int32 entries, the ones a 16-bit mask selects packed to the front and
  stored as a whole vector (``llvm.experimental.vector.compress``; one ``vpcompressd`` with
  AVX-512, a generic expansion elsewhere, so it is correct on every target and fast on some).
- :data:`VECTOR_COMPRESS`: whether this CPU compresses in one instruction (AVX-512), i.e.
  whether the writer should prefer :func:`compress16` to its scalar loop.
- :func:`prefetch`: asks the CPU to bring an array element's cache line in ahead of use
  (``llvm.prefetch``; a hint, nothing where the CPU has no such instruction).
- :func:`pdep`: the low bits of ``x`` deposited, in order, at the set bits of ``mask`` (BMI2's
  ``pdep`` where it is fast, :func:`pdep_loop` elsewhere: Zen 1 and 2 microcode it, and other
  architectures lack it).

Numba's on-disk cache is keyed by the CPU name and features, so code compiled with one choice
is never loaded on a CPU that would make the other. Where numba compiles for a named CPU
(``NUMBA_CPU_NAME``, e.g. ``generic`` for a portable cache), the host's features are not
used: the portable paths are.
"""

from __future__ import annotations

import llvmlite.binding as llvm
import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

SLOW_PDEP_CPUS = frozenset({"bdver4", "znver1", "znver2"})  # BMI2's pdep microcoded: hundreds of cycles

try:
    _FEATURES = llvm.get_host_cpu_features()
    _CPU = llvm.get_host_cpu_name()
except Exception:  # pragma: no cover - a host whose features LLVM cannot read
    _FEATURES, _CPU = {}, ""
if numba.config.CPU_NAME:  # pragma: no cover - compiled for a named CPU (e.g. a portable cache): not the host's features
    _FEATURES, _CPU = {}, str(numba.config.CPU_NAME)
VECTOR_COMPRESS = bool(_FEATURES.get("avx512f", False))
FAST_PDEP = bool(_FEATURES.get("bmi2", False)) and _CPU not in SLOW_PDEP_CPUS

_V16 = ir.VectorType(ir.IntType(32), 16)
_M16 = ir.VectorType(ir.IntType(1), 16)


@intrinsic
def popcount(typingctx, x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Set bits of the uint64 ``x``."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])
    return types.uint64(types.uint64), codegen


@intrinsic
def compress16(typingctx, src, e, mask, dst, w):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``dst[w:w + 16]`` = the entries of ``src[e:e + 16]`` (int32 arrays) whose bit of ``mask``
    (its low 16 bits) is set, in order, then garbage: the caller owns all 16 slots and reads
    ``popcount(mask & 0xFFFF)`` of them. No bounds checks; ``e`` and ``w`` unsigned."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        s_arr, e_i, m, d_arr, w_i = args
        sp = builder.gep(context.make_array(signature.args[0])(context, builder, s_arr).data, [e_i])
        dp = builder.gep(context.make_array(signature.args[3])(context, builder, d_arr).data, [w_i])
        v = builder.load(builder.bitcast(sp, _V16.as_pointer()), align=4)
        mv = builder.bitcast(builder.trunc(m, ir.IntType(16)), _M16)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V16, [_V16, _M16, _V16]),
                                            "llvm.experimental.vector.compress.v16i32")
        builder.store(builder.call(fn, [v, mv, ir.Constant(_V16, None)]), builder.bitcast(dp, _V16.as_pointer()), align=4)
        return context.get_dummy_value()
    return types.none(src, e, mask, dst, w), codegen


@intrinsic
def prefetch(typingctx, arr, i):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Hint that element ``i`` (unsigned, a flat index into the C-contiguous ``arr``) will be
    read soon. No bounds check is needed: a prefetch never faults."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        ptr = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])  # read, keep, data
        return context.get_dummy_value()
    return types.none(arr, i), codegen


@intrinsic
def pdep_bmi2(typingctx, x, mask):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """BMI2's ``pdep`` on uint64: compile only where the CPU has it (:data:`FAST_PDEP`)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        fnty = ir.FunctionType(ir.IntType(64), [ir.IntType(64), ir.IntType(64)])
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.bmi.pdep.64"), list(args))
    return types.uint64(types.uint64, types.uint64), codegen


@njit(cache=True, inline="always")
def pdep_loop(x: np.uint64, mask: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """``pdep`` one set bit of ``mask`` at a time (branch-free in the bit's value)."""
    one = np.uint64(1)
    out = np.uint64(0)
    while mask:
        low = mask & (~mask + one)
        out |= low & (np.uint64(0) - (x & one))
        x >>= one
        mask &= mask - one
    return out


pdep = pdep_bmi2 if FAST_PDEP else pdep_loop
