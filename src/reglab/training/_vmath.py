"""``exp`` and ``log1p`` in float64 that LLVM can inline and vectorize (numba).

``math.exp`` and ``math.log1p`` compile to calls into the C library, one element
at a time: a loop that calls them is never vectorized. These are the same
functions written as branch-free arithmetic (range reduction, a polynomial and
the exponent set through the bits), so that a loop over examples calling them
compiles to AVX-512/AVX2 code. Both are within 1 ulp of the C library over the
whole double range (tests in ``tests/test_vmath.py``) and give its special
values: ``exp(-inf) = 0``, ``exp(inf) = inf``, overflow to ``inf``, gradual
underflow to subnormals and ``0``; ``log1p(-1) = -inf``, ``log1p(x < -1) = nan``,
``log1p(inf) = inf``, ``log1p(-0.0) = -0.0``; NaN gives NaN.

Only ``contract`` is allowed (multiply-adds may fuse, which only removes
roundings); ``reassoc`` would let LLVM fold the correction terms
(``x - (u - 1)``) to zero.
"""

from __future__ import annotations

from numba import njit, types
from numba.extending import intrinsic

_FLAGS = {"contract"}


@intrinsic
def _reinterpret(typingctx, x):
    """The int64 with the IEEE-754 bits of a float64, or the float64 with those of an
    int64 (a bitcast, no instruction)."""
    other = {types.float64: types.int64, types.int64: types.float64}.get(x)
    if other is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(other))
    return other(x), codegen


_bits = _float = _reinterpret  # float64 -> its bits, bits -> float64


# exp: x = n ln2 + r, |r| <= ln2 / 2; ln2 split so that n * LN2_HI is exact (fdlibm's).
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: x + _SHIFT - _SHIFT rounds x to an integer
_SHIFT_BITS = 0x4338000000000000
# Past these exp is inf or 0 whatever the polynomial says; clamping keeps n in range.
_EXP_HI = 710.0
_EXP_LO = -746.0


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def exp(x):
    """``e**x`` for a float64, within 1 ulp of ``math.exp``, vectorizable.

    ``n = round(x / ln2)``, ``r = x - n ln2`` carried as ``r + lo`` (Cody-Waite),
    ``e**r`` by its Taylor series to degree 13 (truncation below 1e-17 relative
    for ``|r| <= ln2/2``), then times ``2**n`` as two factors ``2**(n//2)`` and
    ``2**(n - n//2)``, so that a subnormal result is rounded once.
    """
    # A NaN passes both tests (every comparison with it is false) and stays NaN.
    x = _EXP_HI if x > _EXP_HI else x
    x = _EXP_LO if x < _EXP_LO else x
    k = x * _INV_LN2 + _SHIFT
    dn = k - _SHIFT
    n = _bits(k) - _SHIFT_BITS  # the integer dn, read from the low bits (no float->int)
    hi = x - dn * _LN2_HI  # exact
    r = hi - dn * _LN2_LO
    lo = (hi - r) - dn * _LN2_LO  # what r lost
    q = 1.0 / 6227020800.0
    q = q * r + 1.0 / 479001600.0
    q = q * r + 1.0 / 39916800.0
    q = q * r + 1.0 / 3628800.0
    q = q * r + 1.0 / 362880.0
    q = q * r + 1.0 / 40320.0
    q = q * r + 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    p = 1.0 + (r + (r * r * q + lo))
    n1 = n >> 1
    n2 = n - n1
    return (p * _float((n1 + 1023) << 52)) * _float((n2 + 1023) << 52)


# log1p: 1 + x = 2**k * (1 + f), sqrt(2)/2 <= 1 + f < sqrt(2); fdlibm's e_log/s_log1p.
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT_HALF_HI = 0x3FE6A09E  # high word of sqrt(2)/2
_MANTISSA = 0x000FFFFFFFFFFFFF
_INF = float("inf")
_NAN = float("nan")


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def log1p(x):
    """``log(1 + x)`` for a float64, within 1 ulp of ``numpy.log1p``, vectorizable.

    fdlibm's ``log1p`` without its branches: for ``-0.2929 < x < 0.4142``,
    ``f = x`` and ``k = 0``; otherwise ``u = 1 + x`` is split into ``2**k (1 + f)``
    from its bits and ``c = (x - (u - 1)) / u`` restores what the rounding of
    ``u`` lost. Then ``log(1 + f) = f - f**2/2 + s (f**2/2 + R(s**2))`` with
    ``s = f / (2 + f)`` and fdlibm's minimax ``R``.
    """
    u = 1.0 + x
    iu = _bits(u) + ((0x3FF00000 - _SQRT_HALF_HI) << 32)
    ku = (iu >> 52) - 0x3FF
    fu = _float((iu & _MANTISSA) + (_SQRT_HALF_HI << 32)) - 1.0
    # Large k: x - (u - 1) is inexact, u - x exact (x >= u/2); small k: the converse.
    cu = (1.0 - (u - x)) if ku >= 2 else (x - (u - 1.0))
    cu = cu / u
    small = (x > -0.2928932188134524) & (x < 0.41421356237309503)
    f = x if small else fu
    dk = 0.0 if small else float(ku)
    c = 0.0 if small else cu
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    R = z * (_LG1 + z * (_LG2 + z * (_LG3 + z * (_LG4 + z * (_LG5 + z * (_LG6 + z * _LG7))))))
    y = dk * _LN2_HI - ((hfsq - (s * (hfsq + R) + (dk * _LN2_LO + c))) - f)
    # Special values, where the formula's pieces (bits of 0 or inf) mean nothing.
    y = x if x == 0.0 else y  # keeps the sign of -0.0
    y = _INF if x == _INF else y
    y = -_INF if x == -1.0 else y
    y = _NAN if x < -1.0 else y
    return x if x != x else y
