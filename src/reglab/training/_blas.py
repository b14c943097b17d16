"""Matrix products in the compiled kernels: BLAS ``gemm`` called by its address.

numba's own ``np.dot`` reaches the same BLAS (SciPy's ``cython_blas``, the
OpenBLAS that ``threadpoolctl`` limits) but compiles a generic implementation
per layout (shape checks, contiguity dispatch, error messages), about a second
of the cold start, and costs 40-100 ns more per call on football's sizes. Here
one small intrinsic calls ``dgemm``/``sgemm`` directly. The address is an
argument of the kernel, not a constant in its code: compiled code is cached on
disk and the library sits at another address in every process.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic


def gemm_address(dtype) -> int:
    """The address of SciPy's BLAS ``dgemm`` (float64) or ``sgemm`` (float32)."""
    name = "sgemm" if np.dtype(dtype) == np.float32 else "dgemm"
    return get_cython_function_address("scipy.linalg.cython_blas", name)


@intrinsic
def _gemm(typingctx, addr, ta, tb, M, N, K, A, lda, B, ldb, C, ldc):
    """Fortran's ``C = op(A) @ op(B)`` (alpha 1, beta 0) through the gemm at ``addr``:
    ``ta``/``tb`` are ``ord("N")`` or ``ord("T")``, the sizes and leading dimensions
    int64 (passed as 32-bit ints, SciPy's LP64 BLAS), the arrays contiguous."""
    sig = types.void(addr, ta, tb, M, N, K, A, lda, B, ldb, C, ldc)
    single = C.dtype == types.float32

    def codegen(context, builder, signature, args):
        addr, ta, tb, M, N, K, A, lda, B, ldb, C, ldc = args
        i8, i32 = ir.IntType(8), ir.IntType(32)
        fl = ir.FloatType() if single else ir.DoubleType()
        flp, i8p, i32p = fl.as_pointer(), i8.as_pointer(), i32.as_pointer()

        def cell(value):
            return cgutils.alloca_once_value(builder, value)

        def data(ty, value):
            return builder.bitcast(context.make_array(ty)(context, builder, value).data, flp)

        tA, tB, tC = signature.args[6], signature.args[8], signature.args[10]
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i8p, i32p, i32p, i32p, flp, flp, i32p, flp, i32p,
                                               flp, flp, i32p])
        fn = builder.inttoptr(addr, fnty.as_pointer())
        builder.call(fn, [cell(builder.trunc(ta, i8)), cell(builder.trunc(tb, i8)),
                          cell(builder.trunc(M, i32)), cell(builder.trunc(N, i32)),
                          cell(builder.trunc(K, i32)), cell(ir.Constant(fl, 1.0)), data(tA, A),
                          cell(builder.trunc(lda, i32)), data(tB, B), cell(builder.trunc(ldb, i32)),
                          cell(ir.Constant(fl, 0.0)), data(tC, C), cell(builder.trunc(ldc, i32))])
        return context.get_dummy_value()
    return sig, codegen


# Row-major arrays are Fortran's transposes: C = A @ B is, to BLAS, C.T = B.T @ A.T.
_N, _T = 78, 84  # ord("N"), ord("T")


@njit(cache=True, error_model="numpy")
def forward_product(g, W, A, Z):
    """``Z = W @ A``: ``W`` ``(n_out, n_in)``, ``A`` ``(n_in, m)``, ``Z`` ``(n_out, m)``."""
    m = A.shape[1]
    _gemm(g, _N, _N, m, W.shape[0], W.shape[1], A, m, W, W.shape[1], Z, m)


@njit(cache=True, error_model="numpy")
def weight_product(g, dZ, A, G):
    """``G = dZ @ A.T``: ``dZ`` ``(n_out, m)``, ``A`` ``(n_in, m)``, ``G`` ``(n_out, n_in)``."""
    m = A.shape[1]
    _gemm(g, _T, _N, A.shape[0], dZ.shape[0], m, A, m, dZ, m, G, A.shape[0])


@njit(cache=True, error_model="numpy")
def input_product(g, W, dZ, dA):
    """``dA = W.T @ dZ``: ``W`` ``(n_out, n_in)``, ``dZ`` ``(n_out, m)``, ``dA`` ``(n_in, m)``."""
    m = dZ.shape[1]
    _gemm(g, _N, _T, m, W.shape[1], W.shape[0], dZ, m, W, W.shape[1], dA, m)
