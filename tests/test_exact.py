"""The kernels' division by a keep probability is the division, bit for bit."""

from __future__ import annotations

import numba
import numpy as np
import pytest


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_divide_by_a_constant_rounds_as_the_division(dtype):
    from reglab.training._exact import divide

    @numba.njit
    def divide_all(h, p, q, out):
        for i in range(len(h)):
            out[i] = divide(h[i], p, q)

    rng = np.random.default_rng(0)
    # Mantissas over the whole range, exponents from tiny to huge activations and gradients.
    h = (rng.uniform(1, 2, 400_000) * 2.0 ** rng.integers(-60, 60, 400_000)
         * rng.choice([-1, 1], 400_000)).astype(dtype)
    h[:4] = [0.0, -0.0, 1.0, 3.0]
    # Keep probabilities of the course and of the default compare, a power of two, a
    # mantissa of all ones, and random ones.
    keeps = [0.86, 0.8, 0.5, 0.7, 0.9, 0.999, float(np.nextafter(dtype(1), dtype(0)))]
    keeps += list(rng.uniform(0.05, 1, 20))
    for p in np.array(keeps, dtype):
        out = np.empty_like(h)
        divide_all(h, p, dtype(1) / p, out)  # q = 1 / p rounded, in the compute dtype
        np.testing.assert_array_equal(out, h / p, err_msg=f"keep {p!r}")
