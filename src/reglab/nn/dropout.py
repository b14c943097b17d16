"""Inverted dropout masks for the hidden layers.

A mask ``D[l]`` has the shape of the hidden activations ``(m, n[l])``; a unit is
kept where a uniform draw is ``< keep_prob[l]`` and the kept activations are
divided by ``keep_prob[l]`` so that their expectation is unchanged. Masks are
used only while training; prediction never drops a unit.

Two samplers:

* :class:`FreshMasks` draws a new mask every step from the run's
  ``numpy.random.Generator`` (what the lecture describes);
* :class:`CourseMasks` reproduces the course: ``np.random.seed(1)`` at the start
  of every forward pass, then ``rand(n[l], m)`` per hidden layer, so every
  iteration reuses the same masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import InputError, check_float


def check_keep_probs(keep_prob, n_hidden: int) -> tuple[float, ...]:
    """Expand ``keep_prob`` (one number, or one per hidden layer) to a tuple.

    Each value must be in ``(0, 1]``; a sequence must have one entry per hidden
    layer.
    """
    if isinstance(keep_prob, Sequence) and not isinstance(keep_prob, str):
        if len(keep_prob) != n_hidden:
            raise InputError(f"keep_prob must have one value per hidden layer ({n_hidden}), "
                             f"got {len(keep_prob)}: {tuple(keep_prob)!r}")
        values = keep_prob
    else:
        values = [keep_prob] * n_hidden
    return tuple(check_float(p, "keep_prob", low=0, high=1, low_open=True) for p in values)


class FreshMasks:
    """A fresh Bernoulli(keep_prob) mask per hidden layer at every call."""

    def __init__(self, keep_probs: Sequence[float], rng: np.random.Generator):
        self.keep_probs = tuple(keep_probs)
        self.rng = rng

    def __call__(self, m: int, widths: Sequence[int]) -> list[np.ndarray | None]:
        return [None if p == 1.0 else self.rng.random((m, n)) < p
                for p, n in zip(self.keep_probs, widths)]


class CourseMasks:
    """The course's masks: re-seeded with 1 every pass, drawn in ``(n[l], m)`` order."""

    def __init__(self, keep_probs: Sequence[float], seed: int = 1):
        self.keep_probs = tuple(keep_probs)
        self.seed = seed
        self._cache: dict = {}

    def __call__(self, m: int, widths: Sequence[int]) -> list[np.ndarray | None]:
        # Re-seeding makes every pass draw the same masks: compute them once per shape.
        key = (m, tuple(widths))
        if key not in self._cache:
            legacy = np.random.RandomState(self.seed)
            self._cache[key] = [(legacy.rand(n, m) < p).T for p, n in zip(self.keep_probs, widths)]
        return self._cache[key]


def make_sampler(keep_probs, *, course_compat: bool, rng: np.random.Generator):
    """The mask sampler for a run, or ``None`` when every ``keep_prob`` is 1."""
    if all(p == 1.0 for p in keep_probs):
        return None
    if course_compat:
        return CourseMasks(keep_probs)
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return FreshMasks(keep_probs, rng)
