"""Division by a constant at the speed of multiplication, rounded as the division is.

Dropout's ``(H * D) / p`` divides thousands of numbers a step by one keep
probability. A vectorized division is several times slower than a multiply
(measured: a quarter of a football step with dropout went to it), but the
quotient may not change: the kernels round as the reference does. Markstein's
theorem gives both: with ``q = 1 / p`` rounded to nearest, ``x = h * q``
(within one ulp of ``h / p``) and the exact residual ``r = h - x * p`` (one
fused multiply-add, exact by construction), ``x + r * q`` rounded to nearest is
``h / p`` rounded to nearest (P. Markstein, IBM J. Res. Dev. 34(1), 1990; J.-M.
Muller et al., *Handbook of Floating-Point Arithmetic*, 2nd ed., Theorem 4.10).
The exceptions are quotients that underflow into the subnormals, where the
result may be one ulp off: activations and gradients that small do not move
a cost at 1e-9.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (LLVM's ``llvm.fma``; a single instruction with FMA3)."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None
    sig = a(a, b, c)

    def codegen(context, builder, signature, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [t], ir.FunctionType(t, [t, t, t]))
        return builder.call(fn, args)
    return sig, codegen


@njit(cache=True, error_model="numpy", inline="always")
def divide(h, p, q):
    """``h / p`` correctly rounded, given ``q = 1 / p`` rounded (see the module's note)."""
    x = h * q
    return fma(fma(-x, p, h), q, x)
