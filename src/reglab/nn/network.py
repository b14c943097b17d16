"""The maths of a fully-connected network, as pure functions, and the
:class:`Network` that holds trained parameters.

Layout (see DESIGN.md): ``X`` is ``(m, n[0])``; ``W[l]`` is ``(n[l], n[l-1])``;
``b[l]`` is ``(n[l],)``; ``Z[l] = A[l-1] @ W[l].T + b[l]`` is ``(m, n[l])``.
Backward, with ``dZ`` the per-example gradient of the loss w.r.t. ``Z[l]``::

    dW[l] = dZ[l].T @ A[l-1] / m      (course: dW = 1/m * dZ @ A_prev.T)
    db[l] = sum_i dZ[l] / m           (course: db = 1/m * sum(dZ, axis=1))
    dA[l-1] = dZ[l] @ W[l]            (course: dA_prev = W.T @ dZ)
    dA[l-1] *= D[l-1] / keep_prob     (inverted dropout, same mask as forward)
    dZ[l-1] = dA[l-1] * g'(Z[l-1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import InputError, check_labels, check_X, describe
from .activations import Activation, get_activation
from .outputs import Output, get_output


def forward(weights, biases, X, activations: list[Activation], masks=None, keep_probs=None):
    """Forward pass, with inverted dropout on the hidden layers when ``masks`` is given.

    Parameters
    ----------
    weights, biases : lists of arrays ``(n[l], n[l-1])`` and ``(n[l],)``
    X : array ``(m, n[0])``
    activations : one :class:`Activation` per hidden layer
    masks : list of bool arrays ``(m, n[l])`` or None per hidden layer, optional
    keep_probs : one float per hidden layer, required with ``masks``

    Returns
    -------
    logits : array ``(m, n[L])``
    cache : list of ``(A_prev, Z, A)`` per layer; ``A`` is the activation before
        dropout (``None`` for the output layer).
    """
    cache = []
    A = X
    for l, act in enumerate(activations):
        Z = A @ weights[l].T + biases[l]
        H = act.forward(Z)
        cache.append((A, Z, H))
        A = H if masks is None or masks[l] is None else (H * masks[l]) / keep_probs[l]
    logits = A @ weights[-1].T + biases[-1]
    cache.append((A, logits, None))
    return logits, cache


def backward(weights, cache, dlogits, activations, masks=None, keep_probs=None,
             regularizers=(), m=None):
    """Gradients of the mean loss (plus penalties) w.r.t. every ``W`` and ``b``.

    Parameters
    ----------
    weights : list of arrays ``(n[l], n[l-1])``
    cache : as returned by :func:`forward`
    dlogits : array ``(m, n[L])``, per-example ``dL/dZ[L]`` (e.g. ``sigmoid(Z) - y``)
    activations, masks, keep_probs : as given to :func:`forward`
    regularizers : iterable of objects with ``gradient(W, m)``
    m : int, the number of examples the loss averages over (default ``len(dlogits)``)

    Returns
    -------
    dW, db : lists of arrays shaped like ``weights`` and the biases
    """
    m = len(dlogits) if m is None else m
    L = len(weights)
    dW, db = [None] * L, [None] * L
    dZ = dlogits
    for l in range(L - 1, -1, -1):
        A_prev = cache[l][0]
        dW[l] = dZ.T @ A_prev / m
        for reg in regularizers:
            dW[l] = dW[l] + reg.gradient(weights[l], m)
        db[l] = dZ.sum(axis=0) / m
        if l == 0:
            break
        dA = dZ @ weights[l]
        if masks is not None and masks[l - 1] is not None:
            dA = (dA * masks[l - 1]) / keep_probs[l - 1]
        _, Z, H = cache[l - 1]
        dZ = activations[l - 1].backward(dA, Z, H)
    return dW, db


def cost(logits, y, output: Output, weights, regularizers=(), m=None) -> float:
    """Mean loss from logits plus every penalty (``m`` defaults to ``len(y)``)."""
    m = len(y) if m is None else m
    return output.loss(logits, y) + sum(reg.penalty(weights, m) for reg in regularizers)


def _check_layers(weights, biases) -> None:
    """Refuse parameters that cannot form a network: ``W[l]`` 2-D float ``(n[l], n[l-1])``
    chaining to the next, ``b[l]`` of shape ``(n[l],)``, one bias per weight matrix."""
    if not isinstance(weights, (list, tuple)) or not isinstance(biases, (list, tuple)):
        raise TypeError(f"weights and biases must be lists of arrays, got "
                        f"{type(weights).__name__} and {type(biases).__name__}")
    if not weights or len(weights) != len(biases):
        raise InputError(f"a network needs one bias per weight matrix and at least one layer, "
                         f"got {len(weights)} weight matrices and {len(biases)} biases")
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        for name, arr, ndim in ((f"W{l}", W, 2), (f"b{l}", b, 1)):
            if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f" or arr.ndim != ndim:
                raise InputError(f"{name} must be a {ndim}-D floating-point array, got {describe(arr)}")
            if 0 in arr.shape:
                raise InputError(f"{name} must not be empty, got shape {arr.shape}")
        if b.shape != (W.shape[0],):
            raise InputError(f"b{l} must have shape ({W.shape[0]},) to match W{l} {W.shape}, got {b.shape}")
        if l > 1 and W.shape[1] != weights[l - 2].shape[0]:
            raise InputError(f"W{l} {W.shape} must take the {weights[l - 2].shape[0]} outputs of "
                             f"W{l - 1} {weights[l - 2].shape}: shapes do not chain")


@dataclass
class Network:
    """A fully-connected network: parameters and the names of its activations.

    Attributes
    ----------
    weights : list of arrays, ``W[l]`` of shape ``(n[l], n[l-1])``
    biases : list of arrays, ``b[l]`` of shape ``(n[l],)``
    hidden : tuple of str, the activation of each hidden layer
    output : str, ``"sigmoid"`` or ``"softmax"``
    """

    weights: list
    biases: list
    hidden: tuple
    output: str

    def __post_init__(self):
        _check_layers(self.weights, self.biases)
        if isinstance(self.hidden, str):
            raise TypeError(f"hidden must be a tuple of activation names, one per hidden layer, "
                            f"got the string {self.hidden!r} (write ({self.hidden!r},))")
        self.hidden = tuple(self.hidden)
        if len(self.hidden) != len(self.weights) - 1:
            raise InputError(f"hidden must name one activation per hidden layer "
                             f"({len(self.weights) - 1} for {len(self.weights)} weight matrices), "
                             f"got {len(self.hidden)}: {describe(self.hidden)}")
        self._activations = [get_activation(h) for h in self.hidden]
        self._output = get_output(self.output)
        units = self.weights[-1].shape[0]
        if self.output == "sigmoid" and units != 1:
            raise InputError(f"a sigmoid output has 1 unit, but the last layer has {units}")
        if self.output == "softmax" and units < 2:
            raise InputError(f"a softmax output needs 2 or more units (one per class), but the last "
                             f"layer has {units}")

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n[0], n[1], ..., n[L])``."""
        return (self.weights[0].shape[1],) + tuple(W.shape[0] for W in self.weights)

    @property
    def n_classes(self) -> int:
        return 2 if self.output == "sigmoid" else self.weights[-1].shape[0]

    def logits(self, X) -> np.ndarray:
        """Output pre-activations ``(m, n[L])``, no dropout."""
        X = check_X(X, n_features=self.layer_sizes[0])
        return forward(self.weights, self.biases, X, self._activations)[0]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(m, n_classes)`` (two columns for a sigmoid output)."""
        return self._output.proba(self.logits(X))

    def predict(self, X) -> np.ndarray:
        """Predicted labels ``(m,)``."""
        return self._output.predict(self.logits(X))

    def accuracy(self, X, y) -> float:
        """Fraction of correctly predicted labels."""
        X = check_X(X, n_features=self.layer_sizes[0])
        y = check_labels(y, n_samples=len(X))
        return float(np.mean(self.predict(X) == y))

    def cost(self, X, y, regularizers=()) -> float:
        """Mean cross-entropy (plus penalties) on ``(X, y)``, no dropout."""
        X = check_X(X, n_features=self.layer_sizes[0])
        y = check_labels(y, n_samples=len(X))
        return cost(self.logits(X), y, self._output, self.weights, regularizers)

    def params(self) -> dict[str, np.ndarray]:
        """Parameters by the course's names ``W1, b1, W2, ...`` (views, not copies)."""
        out = {}
        for l, (W, b) in enumerate(zip(self.weights, self.biases), start=1):
            out[f"W{l}"], out[f"b{l}"] = W, b
        return out

    def copy(self) -> "Network":
        return Network([W.copy() for W in self.weights], [b.copy() for b in self.biases],
                       self.hidden, self.output)
