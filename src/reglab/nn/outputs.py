"""Output layers and their losses, computed from logits.

Logits ``Z`` have shape ``(m, 1)`` for the sigmoid output (binary labels) and
``(m, K)`` for the softmax output (labels ``0..K-1``). Losses use
``logaddexp``/``logsumexp`` so that a saturated output gives a large finite
cost, never ``inf``, NaN or a warning (the course's ``-log(a3)`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._validation import check_choice
from .activations import _special


def expit(z):
    """``scipy.special.expit``; the first call replaces this wrapper by the function itself."""
    global expit
    expit = _special("expit")
    return expit(z)


def softmax(z, axis):
    """``scipy.special.softmax``, imported on first use."""
    global softmax
    softmax = _special("softmax")
    return softmax(z, axis=axis)


def log_softmax(z, axis):
    """``scipy.special.log_softmax``, imported on first use."""
    global log_softmax
    log_softmax = _special("log_softmax")
    return log_softmax(z, axis=axis)


def sigmoid_proba(Z: np.ndarray) -> np.ndarray:
    """``P(y=1) = sigmoid(Z[:, 0])``, shape ``(m,)``."""
    return expit(Z[:, 0])


def sigmoid_loss(Z: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy from logits.

    ``-[y log s(z) + (1-y) log(1-s(z))] = log(1 + e^z) - y z``, evaluated as
    ``logaddexp(0, z) - y z``.
    """
    z = Z[:, 0]
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def sigmoid_dlogits(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dL/dZ`` per example (before the ``1/m`` of the mean): ``sigmoid(Z) - y``."""
    return expit(Z) - y[:, None]


def sigmoid_predict(Z: np.ndarray) -> np.ndarray:
    """Class 1 where ``sigmoid(z) > 0.5``, as the course's ``predict``."""
    return (expit(Z[:, 0]) > 0.5).astype(np.int64)


def softmax_proba(Z: np.ndarray) -> np.ndarray:
    """Class probabilities, shape ``(m, K)``."""
    return softmax(Z, axis=1)


def softmax_loss(Z: np.ndarray, y: np.ndarray) -> float:
    """Mean categorical cross-entropy ``-log softmax(Z)[i, y_i]`` via log-softmax."""
    logp = log_softmax(Z, axis=1)
    return float(-np.mean(logp[np.arange(len(y)), y]))


def softmax_dlogits(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dL/dZ`` per example: ``softmax(Z) - onehot(y)``."""
    d = softmax(Z, axis=1)
    d[np.arange(len(y)), y] -= 1.0
    return d


def softmax_predict(Z: np.ndarray) -> np.ndarray:
    """The most probable class."""
    return np.argmax(Z, axis=1)


@dataclass(frozen=True)
class Output:
    """A named output layer: loss, its gradient w.r.t. the logits, prediction."""

    name: str
    loss: Callable[[np.ndarray, np.ndarray], float]
    dlogits: Callable[[np.ndarray, np.ndarray], np.ndarray]
    predict: Callable[[np.ndarray], np.ndarray]

    def n_units(self, n_classes: int) -> int:
        """Width of the output layer for ``n_classes`` classes."""
        return 1 if self.name == "sigmoid" else n_classes

    def proba(self, Z: np.ndarray) -> np.ndarray:
        """Class probabilities of shape ``(m, n_classes)`` (two columns for sigmoid)."""
        if self.name == "sigmoid":
            p = sigmoid_proba(Z)
            return np.column_stack([1.0 - p, p])
        return softmax_proba(Z)


OUTPUTS: dict[str, Output] = {
    "sigmoid": Output("sigmoid", sigmoid_loss, sigmoid_dlogits, sigmoid_predict),
    "softmax": Output("softmax", softmax_loss, softmax_dlogits, softmax_predict),
}


def get_output(name: str) -> Output:
    """Look up an output layer by name; unknown names list the known ones."""
    return OUTPUTS[check_choice(name, "output", OUTPUTS)]
