"""The fast engine's vectorizable ``exp``/``log1p`` held to the C library's.

Millions of points over the whole double range: at most 1 ulp from ``math.exp``
and ``numpy.log1p`` (glibc), and the special values (infinities, NaN, signed
zeros, overflow, underflow, ``log1p(-1)``) exactly. The sigmoid output that uses
them must compile to vector code with no call left to the C library, and give
the reference's loss and gradient.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from reglab.nn.outputs import sigmoid_dlogits, sigmoid_loss
from reglab.training.fast import _kernels as load_kernels

_kernels = load_kernels()  # first, so that numba caches where the fast engine's runs do

import numba  # noqa: E402

from reglab.training._vmath import exp, log1p  # noqa: E402

INF, NAN = math.inf, math.nan
TINY = 5e-324  # the smallest subnormal
BIG = 1.7976931348623157e308


@numba.njit
def _apply_exp(x, out):
    for i in range(x.size):
        out[i] = exp(x[i])


@numba.njit
def _apply_log1p(x, out):
    for i in range(x.size):
        out[i] = log1p(x[i])


def apply(f, x):
    out = np.empty_like(x)
    (_apply_exp if f is exp else _apply_log1p)(x, out)
    return out


def ulps(a, b):
    """How many doubles lie between ``a`` and ``b`` (both finite or equal infinities)."""
    ia, ib = a.view(np.int64), b.view(np.int64)
    # Map the sign-magnitude bits onto one increasing integer line (-0.0 and 0.0 both to 0).
    ia = np.where(ia < 0, np.int64(-(2**63)) - ia, ia)
    ib = np.where(ib < 0, np.int64(-(2**63)) - ib, ib)
    return np.abs(ia - ib)


def test_ulps_counts_representable_doubles():
    x = np.array([1.0, -0.0, TINY, -TINY, 2.0])
    y = np.array([np.nextafter(1.0, 2.0), 0.0, -TINY, TINY, np.nextafter(np.nextafter(2.0, 0), 0)])
    assert ulps(x, y).tolist() == [1, 0, 2, 2, 2]


def _exp_points():
    rng = np.random.default_rng(20261124)
    return np.concatenate([
        rng.uniform(-745.2, 709.78, 1_500_000),  # every finite result, subnormals included
        rng.uniform(-40.0, 0.0, 1_000_000),  # what the sigmoid output meets, exp(-|z|)
        rng.uniform(-1.0, 1.0, 500_000),
        rng.uniform(-746.0, -708.0, 300_000),  # gradual underflow
        rng.choice([-1, 1], 200_000) * np.exp(rng.uniform(-745, 0, 200_000)),  # tiny arguments
        -np.abs(rng.standard_cauchy(500_000)),
    ])


def _log1p_points():
    rng = np.random.default_rng(20261125)
    return np.concatenate([
        rng.uniform(0.0, 1.0, 1_000_000),  # what the sigmoid output meets, log1p(exp(-|z|))
        rng.uniform(-1.0, 1.0, 1_000_000),
        np.exp(rng.uniform(-745, 709.7, 1_000_000)),  # every positive magnitude
        -np.exp(rng.uniform(-745, 0.0, 500_000)),  # (-1, 0), down to subnormals
        -1.0 + rng.integers(1, 2**20, 200_000) * 2.0**-53,  # just above -1
        rng.uniform(-0.2929, -0.2928, 200_000),  # both sides of the branch-free switch
        rng.uniform(0.4142, 0.4143, 200_000),
    ])


def test_exp_is_within_one_ulp_of_the_c_library_over_the_double_range():
    x = _exp_points()
    got = apply(exp, x)
    want = np.fromiter(map(math.exp, x.tolist()), float, len(x))
    err = ulps(got, want)
    assert err.max() <= 1, f"{err.max()} ulp at {x[err.argmax()]!r}"
    assert err.mean() < 0.15  # measured 0.10: most results are the C library's exactly


def test_log1p_is_within_one_ulp_of_numpy_over_the_double_range():
    x = _log1p_points()
    got = apply(log1p, x)
    err = ulps(got, np.log1p(x))
    assert err.max() <= 1, f"{err.max()} ulp at {x[err.argmax()]!r}"
    assert err.mean() < 0.15  # measured 0.06


EXP_SPECIAL = [0.0, -0.0, INF, -INF, NAN, 709.782712893384, np.nextafter(709.782712893384, INF), 710.0,
               1e308, BIG, -745.1332191019411, -745.1332191019412, -746.0, -1e308, -BIG, TINY, -TINY,
               1e-300, -708.3964185322641, 1.0, -1.0]
LOG1P_SPECIAL = [0.0, -0.0, -1.0, -1.0 - 2.0**-52, -2.0, -INF, INF, NAN, TINY, -TINY, 2.0**-1022, 1e-300,
                 -1e-300, BIG, 2.0**53, 2.0**54, -1.0 + 2.0**-53, 1.0, math.e - 1.0]


@pytest.mark.parametrize("f, ref, points", [(exp, np.exp, EXP_SPECIAL), (log1p, np.log1p, LOG1P_SPECIAL)],
                         ids=["exp", "log1p"])
def test_special_values_are_the_c_library_s_exactly(f, ref, points):
    x = np.array(points)
    got = apply(f, x)
    with np.errstate(all="ignore"):
        want = ref(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    same = ~np.isnan(want)
    np.testing.assert_array_equal(got[same], want[same])
    np.testing.assert_array_equal(np.signbit(got[same]), np.signbit(want[same]))  # -0.0 stays -0.0


def test_special_values_are_the_documented_ones():
    x = np.array([-1.0, -1.5, INF, -0.0, NAN])
    got = apply(log1p, x)
    assert got[0] == -INF and np.isnan(got[1]) and got[2] == INF and np.isnan(got[4])
    assert got[3] == 0.0 and np.signbit(got[3])
    got = apply(exp, np.array([-INF, INF, 710.0, -746.0, -745.0, NAN]))
    assert got[:4].tolist() == [0.0, INF, INF, 0.0]
    assert 0.0 < got[4] < 2.2250738585072014e-308  # a subnormal, not flushed to zero
    assert np.isnan(got[5])


def test_sigmoid_output_compiles_to_vector_code_without_library_calls():
    """The loop over examples is vectorized: vector types in the optimized IR and no
    call to exp/log/log1p left (the C library's or LLVM's intrinsics, which become them)."""
    f = numba.njit(error_model="numpy")(_kernels._sigmoid_output.py_func)  # not cached: inspectable
    Z = np.zeros((1, 3))
    f(Z, np.zeros(3, np.int64), np.empty_like(Z))
    ir = "\n".join(f.inspect_llvm().values())
    called = set(re.findall(r"call [^@]*@([\w.$]+)", ir))
    assert not {c for c in called if re.fullmatch(r"(llvm\.)?(exp|log|log1p|expm1)(\.f64)?", c)}, called
    assert re.search(r"<\d+ x double>", ir)


def test_sigmoid_output_gives_the_reference_loss_and_gradient():
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(scale=4.0, size=5000), [0.0, -0.0, 40.0, -40.0, 800.0, -800.0, 1e-300]])
    y = rng.integers(0, 2, z.size)
    Z = z[None, :].copy()
    dZ = np.empty_like(Z)
    loss = _kernels._output(Z, y, dZ, False, 1.0)
    assert loss == pytest.approx(sigmoid_loss(z[:, None], y), rel=1e-14, abs=0)
    np.testing.assert_allclose(dZ[0], sigmoid_dlogits(z[:, None], y)[:, 0], rtol=1e-15, atol=2e-16)
    assert np.isnan(_kernels._output(np.array([[NAN, 1.0]]), np.array([0, 1]), np.empty((1, 2)), False, 1.0))
