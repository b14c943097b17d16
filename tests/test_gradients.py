"""Backprop against centred differences in float64 (relative difference < 1e-7)."""

from __future__ import annotations

import numpy as np
import pytest

from reglab.nn.activations import ACTIVATIONS, get_activation
from reglab.nn.dropout import FreshMasks
from reglab.nn.initializers import initialize
from reglab.nn.network import backward, cost, forward
from reglab.nn.outputs import get_output
from reglab.nn.regularizers import L1, L2

EPS = 1e-6


def relative_difference(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def check(hidden, output, regs=(), keep=None, layers=(5, 4), seed=0):
    rng = np.random.default_rng(seed)
    m, n0 = 7, 3
    X = rng.standard_normal((m, n0))
    n_out = 1 if output == "sigmoid" else 3
    y = rng.integers(0, 2 if output == "sigmoid" else 3, m)
    W, b = initialize((n0, *layers, n_out), "xavier", rng)
    b = [rng.standard_normal(v.shape) * 0.1 for v in b]
    acts = [get_activation(hidden)] * len(layers)
    out = get_output(output)
    keep_probs = None if keep is None else (keep,) * len(layers)
    masks = None if keep is None else FreshMasks(keep_probs, rng)(m, layers)

    def J():
        logits = forward(W, b, X, acts, masks, keep_probs)[0]
        return cost(logits, y, out, W, regs)

    logits, cache = forward(W, b, X, acts, masks, keep_probs)
    dW, db = backward(W, cache, out.dlogits(logits, y), acts, masks, keep_probs, regs)
    analytic, numeric = [], []
    for params, grads in ((W, dW), (b, db)):
        for P, G in zip(params, grads):
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + EPS
                plus = J()
                P[idx] = old - EPS
                minus = J()
                P[idx] = old
                numeric.append((plus - minus) / (2 * EPS))
                analytic.append(G[idx])
    return relative_difference(np.array(analytic), np.array(numeric))


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_every_activation_and_output(hidden, output):
    assert check(hidden, output) < 1e-7


@pytest.mark.parametrize("regs", [[L2(0.7)], [L1(0.3)], [L2(0.5), L1(0.2)]], ids=["l2", "l1", "l2+l1"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_penalties(regs, output):
    assert check("tanh", output, regs) < 1e-7


@pytest.mark.parametrize("hidden", ["relu", "tanh"])
def test_dropout_with_frozen_masks(hidden):
    assert check(hidden, "sigmoid", keep=0.6, layers=(6, 5, 4)) < 1e-7


def test_the_check_catches_a_wrong_gradient():
    """A gradient check that cannot fail would prove nothing: scale one term."""
    assert check("tanh", "sigmoid", [L2(0.7)]) < 1e-7
    doubled = L2(0.7)
    doubled.gradient = lambda W, m: 2 * 0.7 * W / m
    assert check("tanh", "sigmoid", [doubled]) > 1e-3
