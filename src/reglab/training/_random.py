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
from numba import njit

#: PCG64's 128-bit multiplier (NumPy's PCG_DEFAULT_MULTIPLIER_128).
MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341
#: Independent lanes: eight multiply chains in flight (measured 1.8x faster than four).
LANES = 8
_M128 = (1 << 128) - 1
_M64 = (1 << 64) - 1


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


@njit(cache=True, error_model="numpy")
def _block(lanes, out, t):
    """``out[t:t + LANES]`` = the lanes' numbers; every lane moves on by ``LANES`` steps.

    A number is the top 53 bits of the XSL-RR output of its state; a step is
    ``a * s + c mod 2**128`` on 64-bit halves, the high half of ``lo * a_lo``
    from 32-bit pieces (plain 64-bit multiplies the compiler can schedule freely).
    """
    n = LANES
    ah = lanes[2 * n]
    al = lanes[2 * n + 1]
    ch = lanes[2 * n + 2]
    cl = lanes[2 * n + 3]
    m32 = np.uint64(0xFFFFFFFF)
    s32 = np.uint64(32)
    b0 = al & m32
    b1 = al >> s32
    for r in range(n):
        sh = lanes[r]
        sl = lanes[n + r]
        x = sh ^ sl
        rot = sh >> np.uint64(58)
        x = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
        out[t + r] = np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        a0 = sl & m32
        a1 = sl >> s32
        p00 = a0 * b0
        p01 = a0 * b1
        p10 = a1 * b0
        mid = (p00 >> s32) + (p01 & m32) + (p10 & m32)
        high = a1 * b1 + (p01 >> s32) + (p10 >> s32) + (mid >> s32)
        low = sl * al
        low2 = low + cl
        lanes[r] = high + sh * al + sl * ah + ch + (np.uint64(1) if low2 < low else np.uint64(0))
        lanes[n + r] = low2


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
