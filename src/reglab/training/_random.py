"""NumPy's PCG64 stream inside the compiled kernels, eight draws at a time.

The fast engine must draw exactly the reference's dropout masks: the numbers of
``rng.random((m, n))`` from the run's mask generator, in order. Calling the
generator through numba costs one indirect call and one serial 128-bit
multiply-add per number (about 3 ns). PCG64 is a linear congruential
generator, ``s[n+1] = a * s[n] + c mod 2**128``, whose output ``n`` depends on
``s[n+1]`` alone; so eight lanes holding ``s[n+1..n+8]`` and advanced by
``a**8`` and the matching increment produce the same numbers in the same order,
with eight independent multiply chains in flight instead of one. The numbers
are NumPy's ``random()`` bit for bit (``(x >> 11) * 2**-53`` of the XSL-RR
output); after a chunk the caller moves the generator itself on by the count
drawn (``PCG64.advance``), so its state is what the reference leaves.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

#: PCG64's 128-bit multiplier (NumPy's PCG_DEFAULT_MULTIPLIER_128).
MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341
#: Independent lanes: eight multiply chains in flight (measured 1.8x faster than four).
LANES = 8
_M128 = (1 << 128) - 1
_M64 = (1 << 64) - 1


@intrinsic
def _mulhi(typingctx, a, b):
    """The high 64 bits of the 128-bit product of two uint64 (one native multiply)."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))
    return sig, codegen


def lanes_from(bit_generator) -> np.ndarray:
    """The lane state of a PCG64 bit generator (``4 + 2 * LANES`` uint64): the high halves
    of ``s[1..LANES]``, their low halves, then ``a**LANES`` and the matching increment as
    ``hi, lo`` pairs. The generator itself is not moved."""
    if type(bit_generator).__name__ != "PCG64":
        raise TypeError(f"the fast engine draws dropout masks from PCG64 generators, got "
                        f"{type(bit_generator).__name__}")
    state = bit_generator.state["state"]
    s, inc = state["state"], state["inc"]
    out = np.empty(2 * LANES + 4, np.uint64)
    a, c = 1, 0
    for r in range(LANES):
        s = (s * MULTIPLIER + inc) & _M128
        out[r], out[LANES + r] = s >> 64, s & _M64
        a, c = (a * MULTIPLIER) & _M128, (c * MULTIPLIER + inc) & _M128
    out[2 * LANES:] = [a >> 64, a & _M64, c >> 64, c & _M64]
    return out


@njit(cache=True, error_model="numpy", inline="always")
def _double(sh, sl):
    """``random()`` from the state ``(sh, sl)``: XSL-RR output, its top 53 bits."""
    x = sh ^ sl
    rot = sh >> np.uint64(58)
    x = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy", inline="always")
def _advance(sh, sl, ah, al, ch, cl):
    """``a * s + c mod 2**128`` on ``[hi, lo]`` halves: one 64x64->128 multiply, two 64-bit."""
    low = sl * al
    low2 = low + cl
    return _mulhi(sl, al) + sh * al + sl * ah + ch + (np.uint64(1) if low2 < low else np.uint64(0)), low2


@njit(cache=True, error_model="numpy")
def _block(lanes, out, t):
    """``out[t:t + LANES]`` = the lanes' numbers; every lane moves on by ``LANES`` steps.

    The lanes live in local variables for the whole block (through memory, each
    store to ``out`` would have to be ordered before the next lane's load).
    """
    ah, al, ch, cl = lanes[16], lanes[17], lanes[18], lanes[19]
    h0, h1, h2, h3, h4, h5, h6, h7 = (lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5],
                                      lanes[6], lanes[7])
    l0, l1, l2, l3, l4, l5, l6, l7 = (lanes[8], lanes[9], lanes[10], lanes[11], lanes[12], lanes[13],
                                      lanes[14], lanes[15])
    out[t] = _double(h0, l0)
    out[t + 1] = _double(h1, l1)
    out[t + 2] = _double(h2, l2)
    out[t + 3] = _double(h3, l3)
    out[t + 4] = _double(h4, l4)
    out[t + 5] = _double(h5, l5)
    out[t + 6] = _double(h6, l6)
    out[t + 7] = _double(h7, l7)
    lanes[0], lanes[8] = _advance(h0, l0, ah, al, ch, cl)
    lanes[1], lanes[9] = _advance(h1, l1, ah, al, ch, cl)
    lanes[2], lanes[10] = _advance(h2, l2, ah, al, ch, cl)
    lanes[3], lanes[11] = _advance(h3, l3, ah, al, ch, cl)
    lanes[4], lanes[12] = _advance(h4, l4, ah, al, ch, cl)
    lanes[5], lanes[13] = _advance(h5, l5, ah, al, ch, cl)
    lanes[6], lanes[14] = _advance(h6, l6, ah, al, ch, cl)
    lanes[7], lanes[15] = _advance(h7, l7, ah, al, ch, cl)


@njit(cache=True, error_model="numpy")
def uniforms(lanes, spare, used, out, count):
    """``out[:count]`` = the stream's next ``count`` numbers.

    ``spare`` (``LANES`` numbers) holds the last block's numbers not yet handed
    out, ``used[0]`` how many of it are gone (``LANES`` at first), ``used[1]``
    counts every number handed out (what the generator is advanced by afterwards).
    """
    n = LANES
    t = 0
    p = used[0]
    while p < n and t < count:
        out[t] = spare[p]
        p += 1
        t += 1
    while t + n <= count:
        _block(lanes, out, t)
        t += n
    if t < count:
        _block(lanes, spare, 0)
        p = 0
        while t < count:
            out[t] = spare[p]
            p += 1
            t += 1
    used[0] = p
    used[1] += count
