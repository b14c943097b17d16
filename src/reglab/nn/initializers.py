"""Weight initializers: zeros, random (large), he, xavier and the course's.

Each initializer turns a matrix of standard normal draws of shape
``(n[l], n[l-1])`` into ``W[l]``; biases always start at zero. The draws come
from an explicit source: a ``numpy.random.Generator`` made from the run's seed,
or, for course compatibility, ``numpy.random.RandomState(3)`` (bit-identical to
the course's ``np.random.seed(3); np.random.randn(...)`` without global state).
The arithmetic of each formula follows the course (``randn / sqrt(n)``, not
``randn * (1 / sqrt(n))``) so that course-compatible weights match bit for bit.
"""

from __future__ import annotations

import numpy as np

from .._validation import InputError, check_choice, check_float


class Initializer:
    """Base class: ``__call__(draws, n_in, n_out) -> W`` and ``get_config()``."""

    name = ""
    draws_normals = True

    def __call__(self, draws: np.ndarray, n_in: int, n_out: int) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """``W = 0``: every unit of a layer stays identical (symmetry is never broken)."""

    name = "zeros"
    draws_normals = False

    def __call__(self, draws, n_in, n_out):
        return np.zeros((n_out, n_in))


class RandomNormal(Initializer):
    """``W = randn * scale`` (the course's ``* 10``): saturates sigmoids, slow start."""

    name = "random"

    def __init__(self, scale: float = 10.0):
        self.scale = check_float(scale, "init scale", low=0, low_open=True)

    def __call__(self, draws, n_in, n_out):
        return draws * self.scale

    def get_config(self):
        return {"name": self.name, "scale": self.scale}


class He(Initializer):
    """``W = randn * sqrt(2 / n[l-1])`` (He et al. 2015), for ReLU layers."""

    name = "he"

    def __call__(self, draws, n_in, n_out):
        return draws * np.sqrt(2.0 / n_in)


class Xavier(Initializer):
    """``W = randn * sqrt(2 / (n[l-1] + n[l]))`` (Glorot normal), for tanh/sigmoid."""

    name = "xavier"

    def __call__(self, draws, n_in, n_out):
        return draws * np.sqrt(2.0 / (n_in + n_out))


class Course(Initializer):
    """``W = randn / sqrt(n[l-1])``, the regularization exercise's initializer."""

    name = "course"

    def __call__(self, draws, n_in, n_out):
        return draws / np.sqrt(n_in)


INITIALIZERS: dict[str, type[Initializer]] = {
    cls.name: cls for cls in (Zeros, RandomNormal, He, Xavier, Course)
}
INITIALIZERS["glorot"] = Xavier


def get_initializer(init) -> Initializer:
    """Turn a name (``"he"``) or an :class:`Initializer` into an initializer."""
    if isinstance(init, Initializer):
        return init
    return INITIALIZERS[check_choice(init, "init", INITIALIZERS)]()


def initialize(layer_sizes, init, source) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Draw the weights and biases of a network, layer by layer.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n[0], n[1], ..., n[L])``: input width, hidden widths, output width.
    init : str or Initializer
    source : numpy.random.Generator or numpy.random.RandomState
        Where the standard normal draws come from; W1 is drawn first, then W2...

    Returns
    -------
    weights : list of arrays, ``W[l]`` of shape ``(n[l], n[l-1])``
    biases : list of arrays, ``b[l]`` of shape ``(n[l],)``, zeros
    """
    initializer = get_initializer(init)
    if isinstance(source, np.random.Generator):
        draw = source.standard_normal
    elif isinstance(source, np.random.RandomState):
        draw = lambda shape: source.randn(*shape)  # noqa: E731 - the course's call
    else:
        raise InputError(f"source must be a numpy Generator or RandomState, got {type(source).__name__}")
    weights, biases = [], []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        draws = draw((n_out, n_in)) if initializer.draws_normals else None
        weights.append(initializer(draws, n_in, n_out))
        biases.append(np.zeros(n_out))
    return weights, biases
