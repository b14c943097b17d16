"""Weight penalties: L2 (weight decay) and L1, biases never penalized.

With ``m`` training examples (the mini-batch size in mini-batch training):

* L2: cost ``+ lambd/(2m) * sum_l ||W[l]||_F^2``, gradient ``+ lambd/m * W[l]``.
  scikit-learn ``alpha = lambd``; Keras ``l2 = lambd/(2m)``; PyTorch SGD
  ``weight_decay = lambd/m``.
* L1: cost ``+ lambd/m * sum_l |W[l]|``, gradient ``+ lambd/m * sign(W[l])``
  (sign(0) = 0, the subgradient that leaves zero weights at zero).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_float


class Regularizer:
    """Base class: ``penalty(weights, m)``, ``gradient(W, m)``, ``get_config()``."""

    name = ""

    def __init__(self, lambd: float):
        self.lambd = check_float(lambd, f"{self.name} lambda", low=0)

    def penalty(self, weights, m: int) -> float:
        raise NotImplementedError

    def gradient(self, W: np.ndarray, m: int) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "lambd": self.lambd}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lambd={self.lambd!r})"


class L2(Regularizer):
    """Weight decay: ``lambd/(2m) * sum ||W||_F^2``."""

    name = "l2"

    def penalty(self, weights, m):
        return self.lambd / (2 * m) * sum(float(np.sum(np.square(W))) for W in weights)

    def gradient(self, W, m):
        return (self.lambd * W) / m  # the course's (lambd * W) / m, same rounding


class L1(Regularizer):
    """Sparsity: ``lambd/m * sum |W|``."""

    name = "l1"

    def penalty(self, weights, m):
        return self.lambd / m * sum(float(np.sum(np.abs(W))) for W in weights)

    def gradient(self, W, m):
        return self.lambd / m * np.sign(W)


REGULARIZERS: dict[str, type[Regularizer]] = {"l2": L2, "l1": L1}


def get_regularizer(name: str, lambd: float) -> Regularizer:
    """Build a regularizer from its name (``"l2"``, ``"l1"``) and strength."""
    return REGULARIZERS[check_choice(name, "regularizer", REGULARIZERS)](lambd)
