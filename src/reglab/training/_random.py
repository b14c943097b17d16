"""Dropout masks from NumPy's PCG64 stream inside the compiled kernels, vectorized.

The fast engine must draw exactly the reference's dropout masks,
``rng.random((m, n)) < keep`` from the run's mask generator, and leave the
generator where the reference leaves it. PCG64 is a linear congruential
generator on 128 bits, ``s[q+1] = a * s[q] + c mod 2**128``, whose number ``q``
(``random()``: the top 53 bits of the XSL-RR output, times ``2**-53``) is a
function of ``s[q+1]`` alone. Any state of the stream is an affine map of any
earlier one (``a**k`` and the matching increment, by repeated squaring), so the
numbers can be computed in any order, many at once.

:func:`draw_mask` draws the ``(m, n)`` numbers in blocks of ``GROUP``
consecutive examples (rows of the reference's array): one lane per example,
starting at that example's first number, all lanes stepped together along the
row's ``n`` numbers. Each lane's number ``j`` is then mask element
``(j, i0 + r)`` of the kernel's ``(n, m)`` layout, so the lanes write
``GROUP`` consecutive bytes: no transposition and no array of floats. The lanes
are LLVM vectors (:func:`_rows`) on 64-bit halves, the high half of
``lo * a_lo`` from 32-bit pieces: ``vpmullq``, ``vpmuludq`` and ``vprorvq`` on
eight AVX-512 registers with AVX-512; AVX2 or scalar code elsewhere, slower,
the same numbers. The comparison needs no floating point: with ``k = x >> 11``,
``k * 2**-53 < keep`` exactly when ``k < ceil(keep * 2**53)`` (scaling by a
power of two is exact).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: PCG64's 128-bit multiplier (NumPy's PCG_DEFAULT_MULTIPLIER_128).
MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341
#: Examples drawn together (lanes): four AVX-512 vectors of eight 64-bit lanes.
GROUP = 32
#: Length of :func:`lanes_from`'s array: the state, the lanes' constants, the lanes.
STREAM = 6 + 8 + 2 * GROUP
_M64 = (1 << 64) - 1


def lanes_from(bit_generator) -> np.ndarray:
    """The stream state a kernel draws from, uint64 ``(STREAM,)``: ``[s_hi, s_lo, a_hi,
    a_lo, c_hi, c_lo]``, the PCG64 state ``s`` (the next number comes from
    ``a * s + c``), its multiplier ``a`` and increment ``c``; then room for
    :func:`draw_mask`'s lanes (so that it allocates nothing). The generator itself
    is not moved."""
    if type(bit_generator).__name__ != "PCG64":
        raise TypeError(f"the fast engine draws dropout masks from PCG64 generators, got "
                        f"{type(bit_generator).__name__}")
    state = bit_generator.state["state"]
    s, inc = state["state"], state["inc"]
    out = np.zeros(STREAM, np.uint64)
    out[:6] = [s >> 64, s & _M64, MULTIPLIER >> 64, MULTIPLIER & _M64, inc >> 64, inc & _M64]
    return out


@intrinsic
def _mulhi(typingctx, a, b):
    """The high 64 bits of the 128-bit product of two uint64 (one native multiply)."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))
    return sig, codegen


@njit(cache=True, error_model="numpy", inline="always")
def _affine(sh, sl, ah, al, ch, cl):
    """``a * s + c mod 2**128`` on ``(hi, lo)`` halves (scalar: a native 64x64->128 multiply)."""
    low = sl * al
    lo = low + cl
    carry = np.uint64(1) if lo < low else np.uint64(0)
    return _mulhi(sl, al) + sh * al + sl * ah + ch + carry, lo


@njit(cache=True, error_model="numpy", inline="always")
def _jump(ah, al, ch, cl, k):
    """``(A, C)`` with ``s[q+k] = A * s[q] + C``: the step ``(a, c)`` composed ``k`` times."""
    Ah, Al, Ch, Cl = np.uint64(0), np.uint64(1), np.uint64(0), np.uint64(0)
    zero = np.uint64(0)
    while k > 0:
        if k & 1:
            Ah, Al = _affine(Ah, Al, ah, al, zero, zero)
            Ch, Cl = _affine(Ch, Cl, ah, al, ch, cl)
        # (a, c) composed with itself: a * a, a * c + c
        ch, cl = _affine(ch, cl, ah, al, ch, cl)
        ah, al = _affine(ah, al, ah, al, zero, zero)
        k >>= 1
    return Ah, Al, Ch, Cl


@intrinsic
def _rows(typingctx, h, l, k, limit, out, at, stride, n, width):
    """``n`` rows of a group: ``out[at + j * stride + r]`` = lane ``r``'s XSL-RR output
    ``< limit`` for ``j < n`` and ``r < width`` (a group's first ``width`` examples;
    all ``GROUP`` lanes step). Every lane steps by ``(k[0:2], k[2:4])`` (``a``, ``c``
    as hi, lo) after each row, then jumps by ``(k[4:6], k[6:8])``.

    Written as LLVM vector code on ``<GROUP x i64>``, the lanes' halves held in
    registers for the whole call (eight AVX-512 registers; LLVM splits the vectors
    for narrower targets). A loop over lanes in numba reloads and stores the lanes
    every row: 0.74 against 0.70 ns a number with AVX-512, 1.80 against 1.37 with
    AVX2 (docs/engine.md). The high half of ``lo * a_lo`` comes from four
    32x32->64 products (``vpmuludq``); ``a_lo``'s high half passes through an empty
    ``asm`` first, or LLVM recognises the idiom, folds it back into a 128-bit
    multiply and scalarizes it.
    """
    sig = types.void(h, l, k, limit, out, at, stride, n, width)

    def codegen(context, builder, signature, args):
        h_arr, l_arr, k_arr, limit, out_arr, at, stride, n, width = args
        i8, i32, i64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
        vec = ir.VectorType(i64, GROUP)
        data = [context.make_array(t)(context, builder, v).data
                for t, v in zip(signature.args[:3] + signature.args[4:5], (h_arr, l_arr, k_arr, out_arr))]
        h_ptr, l_ptr = (builder.bitcast(d, vec.as_pointer()) for d in data[:2])

        def splat(x):
            one = builder.insert_element(ir.Constant(vec, ir.Undefined), x, ir.Constant(i32, 0))
            return builder.shuffle_vector(one, ir.Constant(vec, ir.Undefined),
                                          ir.Constant(ir.VectorType(i32, GROUP), [0] * GROUP))

        def const(c):
            return splat(ir.Constant(i64, c))

        m32, s32 = const(0xFFFFFFFF), const(32)

        def constants(first):
            ah, al, ch, cl = (builder.load(builder.gep(data[2], [ir.Constant(i64, first + i)]))
                              for i in range(4))
            hidden = builder.asm(ir.FunctionType(i64, [i64]), "", "=r,0", [al], False)  # a_lo, opaque
            pieces = [builder.and_(splat(al), m32), builder.lshr(splat(hidden), s32),
                      builder.and_(splat(cl), m32), builder.lshr(splat(cl), s32)]
            return [splat(v) for v in (ah, al, ch)] + pieces

        def affine(sh, sl, c):
            # s_lo * a_lo + c_lo on 32-bit pieces (each sum below fits in 64 bits), then
            # the high half's other terms.
            ah, al, ch, b0, b1, c0, c1 = c
            a0, a1 = builder.and_(sl, m32), builder.lshr(sl, s32)
            p00 = builder.add(builder.mul(a0, b0), c0)
            t = builder.add(builder.add(builder.mul(a1, b0), builder.lshr(p00, s32)), c1)
            w = builder.add(builder.and_(t, m32), builder.mul(a0, b1))
            high = builder.add(builder.add(builder.mul(a1, b1), builder.lshr(t, s32)), builder.lshr(w, s32))
            lo = builder.or_(builder.shl(w, s32), builder.and_(p00, m32))
            hi = builder.add(builder.add(high, builder.mul(sh, al)), builder.mul(sl, ah))
            return builder.add(hi, ch), lo

        step, jump, below = constants(0), constants(4), splat(limit)
        hs = cgutils.alloca_once_value(builder, builder.load(h_ptr, align=8))
        ls = cgutils.alloca_once_value(builder, builder.load(l_ptr, align=8))
        with cgutils.for_range(builder, n) as loop:
            sh, sl = builder.load(hs), builder.load(ls)
            x = builder.xor(sh, sl)
            rot = builder.lshr(sh, const(58))
            x = builder.or_(builder.lshr(x, rot), builder.shl(x, builder.and_(builder.sub(const(64), rot),
                                                                            const(63))))
            bits = builder.zext(builder.icmp_unsigned("<", x, below), ir.VectorType(i8, GROUP))
            at_j = builder.gep(data[3], [builder.add(at, builder.mul(loop.index, stride))])
            whole = builder.icmp_signed("==", width, ir.Constant(i64, GROUP))
            with builder.if_else(whole, likely=True) as (then, otherwise):
                with then:
                    builder.store(bits, builder.bitcast(at_j, bits.type.as_pointer()), align=1)
                with otherwise:  # the last examples, one byte at a time
                    with cgutils.for_range(builder, width) as lane:
                        builder.store(builder.extract_element(bits, lane.index),
                                      builder.gep(at_j, [lane.index]))
            sh, sl = affine(sh, sl, step)
            builder.store(sh, hs)
            builder.store(sl, ls)
        sh, sl = affine(builder.load(hs), builder.load(ls), jump)
        builder.store(sh, h_ptr, align=8)
        builder.store(sl, l_ptr, align=8)
        return context.get_dummy_value()
    return sig, codegen


@njit(cache=True, error_model="numpy", nogil=True)
def draw_mask(stream, used, keep, out, off, m, n):
    """``out[off + j * m + i] = U[i, j] < keep`` for ``U = rng.random((m, n))``.

    Parameters
    ----------
    stream : uint64 ``(STREAM,)``, :func:`lanes_from`; its state is moved on by ``m * n``
    used : int64 ``(1,)``; ``used[0]`` counts the numbers drawn (what the generator is
        advanced by afterwards)
    keep : float, in (0, 1)
    out : bool, flat; receives the mask in the kernel's ``(n, m)`` layout from ``off``
    """
    # k < T for k = x >> 11 is x < T * 2**11 (T <= 2**53 - 1 for keep < 1: no overflow)
    limit = np.uint64(math.ceil(keep * 9007199254740992.0)) << np.uint64(11)
    sh, sl, ah, al, ch, cl = stream[0], stream[1], stream[2], stream[3], stream[4], stream[5]
    # The lanes' step, then their jump from one group to the next: after a group's n
    # numbers a lane stands at the next example, GROUP - 1 examples short of its next one.
    k, h, l = stream[6:14], stream[14:14 + GROUP], stream[14 + GROUP:14 + 2 * GROUP]
    k[0], k[1], k[2], k[3] = ah, al, ch, cl
    k[4], k[5], k[6], k[7] = _jump(ah, al, ch, cl, (GROUP - 1) * n)
    # Lane r starts at example r's first number: s[n * r + 1].
    nh, nl, nch, ncl = _jump(ah, al, ch, cl, n)
    xh, xl = _affine(sh, sl, ah, al, ch, cl)
    for r in range(GROUP):
        h[r], l[r] = xh, xl
        xh, xl = _affine(xh, xl, nh, nl, nch, ncl)
    for i0 in range(0, m, GROUP):
        _rows(h, l, k, limit, out, off + i0, m, n, min(GROUP, m - i0))
    th, tl, tch, tcl = _jump(ah, al, ch, cl, m * n)
    stream[0], stream[1] = _affine(sh, sl, th, tl, tch, tcl)
    used[0] += m * n
