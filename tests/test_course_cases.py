"""The graded-function cases of the course, from ../shared/reference."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import as_array
from scipy.special import expit, logit

from reglab.nn.activations import get_activation
from reglab.nn.dropout import CourseMasks
from reglab.nn.network import backward, cost, forward
from reglab.nn.outputs import get_output
from reglab.nn.regularizers import L2

RELU = [get_activation("relu")] * 2


def course_params(entries):
    """Course-layout parameters -> reglab lists (W unchanged, b flattened)."""
    W = [as_array(entries[f"W{l}"]) for l in (1, 2, 3)]
    b = [as_array(entries[f"b{l}"]).ravel() for l in (1, 2, 3)]
    return W, b


def test_l2_cost(reference):
    case = reference["cases"]["l2_cost"]
    inputs = case["inputs"]
    A3, Y = as_array(inputs["A3"]), as_array(inputs["Y"]).ravel()
    W, _ = course_params(inputs["parameters"])
    got = cost(logit(A3).T, Y, get_output("sigmoid"), W, [L2(inputs["lambd"])])
    assert got == pytest.approx(case["expected"]["cost"], abs=case["tolerance"])


def test_l2_backward(reference):
    case = reference["cases"]["l2_backward"]
    inputs, c = case["inputs"], case["inputs"]["cache"]
    X, Y = as_array(inputs["X"]).T, as_array(inputs["Y"]).ravel()
    W = [as_array(c[f"W{l}"]) for l in (1, 2, 3)]
    cache = [(X, as_array(c["Z1"]).T, as_array(c["A1"]).T),
             (as_array(c["A1"]).T, as_array(c["Z2"]).T, as_array(c["A2"]).T),
             (as_array(c["A2"]).T, as_array(c["Z3"]).T, None)]
    dlogits = as_array(c["A3"]).T - Y[:, None]
    dW, _ = backward(W, cache, dlogits, RELU, regularizers=[L2(inputs["lambd"])])
    for l in (1, 2, 3):
        np.testing.assert_allclose(dW[l - 1], as_array(case["expected"][f"dW{l}"]),
                                   rtol=0, atol=case["tolerance"])


def test_dropout_forward_with_course_masks(reference):
    case = reference["cases"]["dropout_forward"]
    inputs = case["inputs"]
    X = as_array(inputs["X"]).T
    W, b = course_params(inputs["parameters"])
    keep = (inputs["keep_prob"],) * 2
    masks = CourseMasks(keep)(len(X), (2, 3))
    logits, _ = forward(W, b, X, RELU, masks, keep)
    np.testing.assert_allclose(expit(logits).T, as_array(case["expected"]["A3"]),
                               rtol=0, atol=case["tolerance"])


def test_dropout_backward_applies_the_forward_masks(reference):
    """Gradients from the stored masks equal those implied by the published dA1, dA2."""
    case = reference["cases"]["dropout_backward"]
    inputs, c = case["inputs"], case["inputs"]["cache"]
    keep = (inputs["keep_prob"],) * 2
    X, Y = as_array(inputs["X"]).T, as_array(inputs["Y"]).ravel()
    W = [as_array(c[f"W{l}"]) for l in (1, 2, 3)]
    Z1, A1, Z2, A2 = (as_array(c[k]).T for k in ("Z1", "A1", "Z2", "A2"))
    masks = [as_array(c["D1"]).T, as_array(c["D2"]).T]
    # The cache stores activations after dropout; reglab keeps them before it.
    cache = [(X, Z1, np.maximum(Z1, 0)), (A1, Z2, np.maximum(Z2, 0)), (A2, as_array(c["Z3"]).T, None)]
    dlogits = as_array(c["A3"]).T - Y[:, None]
    dW, db = backward(W, cache, dlogits, RELU, masks, keep)
    m = len(X)
    dA1, dA2 = (as_array(case["expected"][k]).T for k in ("dA1", "dA2"))
    dZ2, dZ1 = dA2 * (Z2 > 0), dA1 * (Z1 > 0)
    tol = case["tolerance"]
    np.testing.assert_allclose(dW[1], dZ2.T @ A1 / m, rtol=0, atol=tol)
    np.testing.assert_allclose(db[1], dZ2.sum(0) / m, rtol=0, atol=tol)
    np.testing.assert_allclose(dW[0], dZ1.T @ X / m, rtol=0, atol=tol)
    np.testing.assert_allclose(db[0], dZ1.sum(0) / m, rtol=0, atol=tol)
