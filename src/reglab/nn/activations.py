"""Hidden-layer activations, each forward written beside its derivative.

Every activation maps pre-activations ``Z`` of shape ``(m, n[l])`` to
activations ``A`` of the same shape; its ``backward`` turns ``dA`` into
``dZ = dA * g'(Z)``, reusing ``A`` where that is cheaper than ``Z``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._validation import check_choice


def _special(name: str):
    """``scipy.special.<name>``, imported on first use: ``import reglab`` and ``reglab --help``
    stay fast (scipy.special takes about 0.3 s to import; benchmarks/import_time.py)."""
    import scipy.special

    return getattr(scipy.special, name)


def expit(z):
    """``scipy.special.expit``; the first call replaces this wrapper by the function itself."""
    global expit
    expit = _special("expit")
    return expit(z)


LEAKY_SLOPE = 0.01


def relu(Z: np.ndarray) -> np.ndarray:
    """``max(Z, 0)``."""
    return np.maximum(Z, 0.0)


def relu_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``dZ = dA * 1[Z > 0]`` (the course's ``np.int64(A > 0)``; 0 at the kink)."""
    return dA * (Z > 0)


def leaky_relu(Z: np.ndarray) -> np.ndarray:
    """``Z`` where positive, ``0.01 * Z`` elsewhere."""
    return np.where(Z > 0, Z, LEAKY_SLOPE * Z)


def leaky_relu_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``dZ = dA * (1 if Z > 0 else 0.01)``."""
    return dA * np.where(Z > 0, 1.0, LEAKY_SLOPE)


def tanh(Z: np.ndarray) -> np.ndarray:
    """``tanh(Z)``."""
    return np.tanh(Z)


def tanh_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``dZ = dA * (1 - A**2)``."""
    return dA * (1.0 - A * A)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-Z))`` computed without overflow (``scipy.special.expit``)."""
    return expit(Z)


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``dZ = dA * A * (1 - A)``."""
    return dA * A * (1.0 - A)


@dataclass(frozen=True)
class Activation:
    """A named activation: ``forward(Z) -> A`` and ``backward(dA, Z, A) -> dZ``."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", relu, relu_backward),
        Activation("leaky_relu", leaky_relu, leaky_relu_backward),
        Activation("tanh", tanh, tanh_backward),
        Activation("sigmoid", sigmoid, sigmoid_backward),
    )
}


def get_activation(name: str) -> Activation:
    """Look up a hidden activation by name; unknown names list the known ones."""
    return ACTIVATIONS[check_choice(name, "hidden activation", ACTIVATIONS)]
