"""The course's gradient checks, in the course's own layout and arithmetic.

The published n-D differences (0.285093156781 with the planted bugs,
1.1890913023330276e-07 without) are dominated by float64 round-off in the
course's cost (``-log(1 - A3)`` with ``A3 = 0.9989`` loses three digits), so
only the same operations reproduce them. :func:`course_bug_backward` plants the
same two mistakes in reglab's own backward pass, for any network.
"""

from __future__ import annotations

import numpy as np

from .._validation import InputError, check_float
from .core import GradCheckReport, _build_report, _check_common
from ..nn.network import backward


def course_bug_backward(weights, cache, dlogits, activations, masks=None, keep_probs=None,
                        regularizers=(), m=None):
    """reglab's :func:`~reglab.nn.network.backward` with the course's two planted mistakes:
    ``dW2`` doubled and ``db1`` computed with ``4/m`` instead of ``1/m``."""
    if len(weights) < 2:
        raise InputError("the course's planted bug needs W2: the network must have at least one hidden layer")
    dW, db = backward(weights, cache, dlogits, activations, masks, keep_probs, regularizers, m)
    dW[1] = dW[1] * 2
    db[0] = db[0] * 4
    return dW, db


def check_1d(x=2.0, theta=4.0, epsilon=1e-7) -> GradCheckReport:
    """The course's 1-D check of ``J(theta) = theta * x`` (analytic ``dJ/dtheta = x``)."""
    x = check_float(x, "x")
    theta = check_float(theta, "theta")
    epsilon, _ = _check_common(epsilon, 0)
    gradapprox = ((theta + epsilon) * x - (theta - epsilon) * x) / (2 * epsilon)
    g, n = np.array([x]), np.array([gradapprox])
    return _build_report([("theta", 1, (), 1, 0, np.array([0]), g, n)], epsilon, 1,
                         ["course 1-D case: J(theta) = theta * x, dJ/dtheta = x."], abs(theta * x))


COURSE_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
COURSE_SHAPES = ((5, 4), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1))


def course_nd_inputs():
    """The course's ``gradient_check_n_test_case``: ``X (4, 3)``, ``Y (1, 3)`` and the parameters,
    drawn from ``numpy.random.RandomState(1)`` exactly as the course's ``np.random.seed(1)``."""
    rs = np.random.RandomState(1)
    X = rs.randn(4, 3)
    params = {k: rs.randn(*s) for k, s in zip(COURSE_KEYS, COURSE_SHAPES)}
    return X, np.array([[1, 1, 0]]), params


def _course_forward(X, Y, p):
    # The course's forward_propagation_n, operation for operation (see the module docstring).
    m = X.shape[1]
    Z1 = np.dot(p["W1"], X) + p["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(p["W2"], A1) + p["b2"]
    A2 = np.maximum(0, Z2)
    Z3 = np.dot(p["W3"], A2) + p["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    return 1. / m * np.sum(logprobs), (A1, A2, A3)


def _course_backward(X, Y, p, cache, planted_bug):
    # The course's backward_propagation_n; planted_bug restores its two deliberate mistakes.
    m = X.shape[1]
    A1, A2, A3 = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(p["W3"].T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T) * (2 if planted_bug else 1)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(p["W2"].T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = (4. if planted_bug else 1.) / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}


def course_case_nd(planted_bug=False, *, epsilon=1e-7, n_worst=5) -> GradCheckReport:
    """The course's n-D check of its 3-layer net (ReLU, ReLU, sigmoid) on :func:`course_nd_inputs`.

    Course layout (``X`` is features x examples, biases are columns) and the course's
    arithmetic: the cost of ``forward_propagation_n``, its ``backward_propagation_n``
    (with ``dW2`` doubled and ``db1 = 4/m * ...`` when ``planted_bug``), parameters
    flattened as ``W1, b1, W2, b2, W3, b3`` and each perturbed by ``+-epsilon``. The
    overall difference is the course's; the per-tensor ones use the same vectors.
    """
    if not isinstance(planted_bug, bool):
        raise TypeError(f"planted_bug must be True or False, got {planted_bug!r}")
    epsilon, n_worst = _check_common(epsilon, n_worst)
    X, Y, params = course_nd_inputs()
    j0, cache = _course_forward(X, Y, params)
    grads = _course_backward(X, Y, params, cache, planted_bug)
    theta = np.concatenate([np.reshape(params[k], (-1, 1)) for k in COURSE_KEYS])
    bounds = np.cumsum([0] + [int(np.prod(s)) for s in COURSE_SHAPES])

    def as_dict(vec):
        return {k: vec[bounds[i]:bounds[i + 1]].reshape(s)
                for i, (k, s) in enumerate(zip(COURSE_KEYS, COURSE_SHAPES))}

    gradapprox = np.zeros((theta.shape[0], 1))
    for i in range(theta.shape[0]):
        thetaplus = np.copy(theta)
        thetaplus[i][0] = thetaplus[i][0] + epsilon
        j_plus, _ = _course_forward(X, Y, as_dict(thetaplus))
        thetaminus = np.copy(theta)
        thetaminus[i][0] = thetaminus[i][0] - epsilon
        j_minus, _ = _course_forward(X, Y, as_dict(thetaminus))
        gradapprox[i] = (j_plus - j_minus) / (2 * epsilon)
    tensors = []
    for i, (k, s) in enumerate(zip(COURSE_KEYS, COURSE_SHAPES)):
        lo, hi = bounds[i], bounds[i + 1]
        tensors.append((k, int(k[1]), s, hi - lo, 0, np.arange(hi - lo), grads[k].reshape(-1),
                        gradapprox[lo:hi, 0]))
    notes = ["course n-D case, in the course's own layout and arithmetic: its difference is dominated by "
             "round-off in the course's cost (-log(1 - A3) with A3 = 0.9989 loses three digits), which "
             "only the same operations reproduce; reglab's logits-based cost gives about 1e-9 on the same "
             "network (check_gradients)."]
    if planted_bug:
        notes.append("planted bug: the course's two deliberate mistakes, dW2 doubled and db1 computed with 4/m.")
    return _build_report(tensors, epsilon, n_worst, notes, abs(float(j0)))
