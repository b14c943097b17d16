"""NumPy's PCG64 stream inside the compiled kernels, four draws at a time.

The fast engine must draw exactly the reference's dropout masks: the numbers of
``rng.random((m, n))`` from the run's mask generator, in order. Calling the
generator through numba costs one indirect call and one serial 128-bit
multiply-add per number (about 3 ns). PCG64 is a linear congruential
generator, ``s[n+1] = a * s[n] + c mod 2**128``, whose output ``n`` depends on
``s[n+1]`` alone; so four lanes holding ``s[n+1..n+4]`` and advanced by
``a**4`` and the matching increment produce the same numbers in the same order,
with four independent multiply chains in flight instead of one. The numbers
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
LANES = 4
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
    """The lane state of a PCG64 bit generator: ``s[1..4]`` and the four-step ``(a, c)``, as
    ``[hi, lo]`` pairs (12 uint64). The generator itself is not moved."""
    if type(bit_generator).__name__ != "PCG64":
        raise TypeError(f"the fast engine draws dropout masks from PCG64 generators, got "
                        f"{type(bit_generator).__name__}")
    state = bit_generator.state["state"]
    s, inc = state["state"], state["inc"]
    out = np.empty(2 * LANES + 4, np.uint64)
    a, c = 1, 0
    for r in range(LANES):
        s = (s * MULTIPLIER + inc) & _M128
        out[2 * r], out[2 * r + 1] = s >> 64, s & _M64
        a, c = (a * MULTIPLIER) & _M128, (c * MULTIPLIER + inc) & _M128
    out[2 * LANES:] = [a >> 64, a & _M64, c >> 64, c & _M64]
    return out


@njit(cache=True, error_model="numpy", inline="always")
def _double(sh, sl):
    """``random()`` from the state ``(sh, sl)``: XSL-RR output, its top 53 bits."""
    x = sh ^ sl
    rot = sh >> np.uint64(58)
    x = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy", inline="always")
def _advance(sh, sl, ah, al, ch, cl):
    """``a * s + c mod 2**128`` on ``[hi, lo]`` halves."""
    lo = sl * al
    hi = _mulhi(sl, al) + sh * al + sl * ah
    lo2 = lo + cl
    return hi + ch + (np.uint64(1) if lo2 < lo else np.uint64(0)), lo2


@njit(cache=True, error_model="numpy")
def uniforms(lanes, spare, used, out, count):
    """``out[:count]`` = the stream's next ``count`` numbers.

    ``spare`` holds the last block's numbers not yet handed out, ``used[0]`` how
    many of it are gone (``LANES`` at first), ``used[1]`` counts every number
    handed out (what the generator is advanced by afterwards).
    """
    ah = lanes[8]
    al = lanes[9]
    ch = lanes[10]
    cl = lanes[11]
    t = 0
    p = used[0]
    while p < 4 and t < count:
        out[t] = spare[p]
        p += 1
        t += 1
    h0, l0, h1, l1 = lanes[0], lanes[1], lanes[2], lanes[3]
    h2, l2, h3, l3 = lanes[4], lanes[5], lanes[6], lanes[7]
    while t + 4 <= count:
        out[t] = _double(h0, l0)
        out[t + 1] = _double(h1, l1)
        out[t + 2] = _double(h2, l2)
        out[t + 3] = _double(h3, l3)
        h0, l0 = _advance(h0, l0, ah, al, ch, cl)
        h1, l1 = _advance(h1, l1, ah, al, ch, cl)
        h2, l2 = _advance(h2, l2, ah, al, ch, cl)
        h3, l3 = _advance(h3, l3, ah, al, ch, cl)
        t += 4
    if t < count:
        spare[0] = _double(h0, l0)
        spare[1] = _double(h1, l1)
        spare[2] = _double(h2, l2)
        spare[3] = _double(h3, l3)
        h0, l0 = _advance(h0, l0, ah, al, ch, cl)
        h1, l1 = _advance(h1, l1, ah, al, ch, cl)
        h2, l2 = _advance(h2, l2, ah, al, ch, cl)
        h3, l3 = _advance(h3, l3, ah, al, ch, cl)
        p = 0
        while t < count:
            out[t] = spare[p]
            p += 1
            t += 1
    lanes[0], lanes[1], lanes[2], lanes[3] = h0, l0, h1, l1
    lanes[4], lanes[5], lanes[6], lanes[7] = h2, l2, h3, l3
    used[0] = p
    used[1] += count
