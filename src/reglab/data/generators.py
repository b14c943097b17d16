"""2-D toy data sets: the four of the TensorFlow Playground and the course's circles.

Each generator returns a :class:`Dataset` of points ``X`` of shape
``(n_samples, 2)`` and labels ``y`` in {0, 1}, split by
:func:`train_dev_test_split` (80/20 by default; with ``dev=True`` a quarter of
the training set is held out as dev, 60/20/20, and the test set stays the same:
``docs/data.md``).
``symmetries`` lists only the symmetries that keep every label of the
noise-free recipe; a symmetry that swaps the classes (the spiral's and the
Gaussians' 180-degree turn) is not one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_float, check_int
from .dataset import Dataset
from .split import check_bool, train_dev_test_split, with_dev_split

_ROUND = ("reflect_x", "reflect_y", "rotate")


def _check(n_samples, noise, seed, dev):
    return (check_int(n_samples, "n_samples", low=10), check_float(noise, "noise", low=0),
            check_int(seed, "seed", low=0), check_bool(dev, "dev"))


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    # independent streams for drawing points and for splitting them, so that
    # which points land in the test set is not tied to how they were drawn
    data, split = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(data), np.random.default_rng(split)


def _sklearn_datasets():
    # imported on first use: sklearn.datasets alone takes about a second to import
    import sklearn.datasets

    return sklearn.datasets


def _finish(X, y, *, name, seed, dev, split_rng=None, description="", symmetries=(),
            ratios=None) -> Dataset:
    """Split by reglab's rule: test first, then (``dev``) a quarter of the rest as dev."""
    ds = train_dev_test_split(X, y, ratios=ratios, dev=False,
                              seed=_rngs(seed)[1] if split_rng is None else split_rng, name=name)
    if dev:
        ds = with_dev_split(ds, seed=seed)
    return dataclasses.replace(ds, description=description, symmetries=symmetries)


def make_moons(n_samples: int = 400, noise: float = 0.2, seed: int = 0, dev: bool = False) -> Dataset:
    """Two interleaving half circles (``sklearn.datasets.make_moons``).

    Parameters
    ----------
    n_samples : int >= 10
        Total number of points before splitting.
    noise : float >= 0
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : int >= 0
        Seed of the points (``random_state``) and of the split.
    dev : bool
        Hold out a quarter of the training set as dev (60/20/20 instead of
        80/20; the test set is the same either way).
    """
    n_samples, noise, seed, dev = _check(n_samples, noise, seed, dev)
    X, y = _sklearn_datasets().make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return _finish(X, y, name="moons", seed=seed, dev=dev,
                   description=f"sklearn make_moons, {n_samples} points, noise {noise:g}")


def make_spiral(n_samples: int = 400, noise: float = 0.2, seed: int = 0, dev: bool = False) -> Dataset:
    """Two interleaved spirals, the TensorFlow Playground recipe.

    For class 1 (``delta = 0``) and class 0 (``delta = pi``), with
    ``n = n_samples / 2`` points each and ``i = 0..n-1``::

        r = i / n * 5,    t = 1.75 * i / n * 2 * pi + delta
        x = (r sin t, r cos t) + noise * U(-1, 1)^2

    A half turn maps one spiral onto the other, so it swaps labels:
    no symmetry is declared. Parameters as :func:`make_moons`, except that the
    noise is uniform in ``[-noise, noise]`` per coordinate.
    """
    n_samples, noise, seed, dev = _check(n_samples, noise, seed, dev)
    data_rng, split_rng = _rngs(seed)
    X, y = [], []
    for label, delta, n in ((1, 0.0, n_samples // 2), (0, np.pi, n_samples - n_samples // 2)):
        i = np.arange(n)
        r = i / n * 5
        t = 1.75 * i / n * 2 * np.pi + delta
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)])
                 + noise * data_rng.uniform(-1, 1, size=(n, 2)))
        y.append(np.full(n, label))
    return _finish(np.concatenate(X), np.concatenate(y), name="spiral", seed=seed, dev=dev,
                   split_rng=split_rng,
                   description=f"two spirals (TF Playground), {n_samples} points, noise {noise:g}")


def make_xor(n_samples: int = 400, noise: float = 0.2, seed: int = 0, dev: bool = False,
             ) -> Dataset:
    """Points in the four quadrants, labelled by the sign of ``x * y``.

    Each coordinate is uniform in ``[-1, 1]`` and pushed away from the axes
    (``|x|`` lies in ``[0.05, 1]``, as the Playground pads its points) so the
    noise-free classes are separable; the label, 1 where ``x * y > 0`` and 0
    otherwise, is taken before the noise ``noise * U(-1, 1)`` is added per
    coordinate. A half turn keeps ``x * y``, so ``symmetries = ("rotate180",)``;
    a single reflection flips the label. Parameters as :func:`make_moons`.
    """
    n_samples, noise, seed, dev = _check(n_samples, noise, seed, dev)
    data_rng, split_rng = _rngs(seed)
    margin = 0.05
    u = data_rng.uniform(-1, 1, size=(n_samples, 2))
    X = np.sign(u) * (margin + (1 - margin) * np.abs(u))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    X = X + noise * data_rng.uniform(-1, 1, size=X.shape)
    return _finish(X, y, name="xor", seed=seed, dev=dev, split_rng=split_rng,
                   symmetries=("rotate180",),
                   description=f"xor quadrants, {n_samples} points, noise {noise:g}")


def make_gaussian(n_samples: int = 400, noise: float = 0.2, seed: int = 0, dev: bool = False,
                  ) -> Dataset:
    """Two isotropic Gaussian blobs, class 1 around (2, 2) and class 0 around (-2, -2).

    The standard deviation of each coordinate is ``0.5 + 2 * noise``. A half
    turn swaps the blobs, so no symmetry is declared. Parameters as
    :func:`make_moons`.
    """
    n_samples, noise, seed, dev = _check(n_samples, noise, seed, dev)
    data_rng, split_rng = _rngs(seed)
    std = 0.5 + 2 * noise
    n1 = n_samples // 2
    centers = np.where(np.arange(n_samples)[:, None] < n1, 2.0, -2.0)
    X = centers + std * data_rng.standard_normal((n_samples, 2))
    y = (np.arange(n_samples) < n1).astype(np.int64)
    return _finish(X, y, name="gaussian", seed=seed, dev=dev, split_rng=split_rng,
                   description=f"two Gaussian blobs, {n_samples} points, std {std:g}")


def make_circles_course(seed: int = 0, dev: bool = False) -> Dataset:
    """The course's circles, exactly: 300 training and 100 test points.

    The course runs ``np.random.seed(1)`` then
    ``sklearn.datasets.make_circles(n_samples=300, noise=.05)``, and seed 2 for
    the 100 test points. Passing ``np.random.RandomState(1)`` / ``(2)`` draws
    the same numbers without touching numpy's global state. Rings of radius 1
    (label 0) and 0.8 (label 1); ``X_*`` of shape ``(n, 2)``.

    Parameters
    ----------
    seed : int >= 0
        Seed of the dev set, which ``dev=True`` carves from the 300 training
        points (a quarter, as for every fixed split); the points never change.
    dev : bool
        Hold out a dev set (225/75/100) instead of training on all 300.
    """
    seed, dev = check_int(seed, "seed", low=0), check_bool(dev, "dev")
    X_train, y_train = _sklearn_datasets().make_circles(
        n_samples=300, noise=0.05, random_state=np.random.RandomState(1))
    X_test, y_test = _sklearn_datasets().make_circles(
        n_samples=100, noise=0.05, random_state=np.random.RandomState(2))
    ds = Dataset(name="circles", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
                 symmetries=_ROUND,
                 description="the course's circles: make_circles(300 / 100, noise=0.05), "
                             "legacy seeds 1 / 2")
    return with_dev_split(ds, seed=seed) if dev else ds


def make_circles(n_samples: int = 400, noise: float = 0.1, seed: int = 0, dev: bool = False,
                 ) -> Dataset:
    """A ring (label 0, radius 1) around a smaller one (label 1, radius 0.5).

    ``sklearn.datasets.make_circles(factor=0.5, random_state=seed)``; Gaussian
    noise of standard deviation ``noise``. Reflections and rotations about the
    origin keep every label. Parameters as :func:`make_moons`.
    """
    n_samples, noise, seed, dev = _check(n_samples, noise, seed, dev)
    X, y = _sklearn_datasets().make_circles(n_samples=n_samples, noise=noise, factor=0.5,
                                            random_state=seed)
    return _finish(X, y, name="circles", seed=seed, dev=dev, symmetries=_ROUND,
                   description=f"two circles, {n_samples} points, noise {noise:g}")


#: Share of the field's points that the position jitter (sd 0.03) carries across the
#: frontier: 0.01984 +- 0.00004, measured by Monte Carlo over 5 x 4,000,000 points
#: (uniform on the pitch, ``side(x) != side(x + jitter)``).
FIELD_JITTER_CROSSING = 0.0198


def make_field(n_samples: int = 400, noise: float = 0.1, seed: int = 0, dev: bool = False,
               ) -> Dataset:
    """reglab's default data set: a small, noisy football field.

    In the spirit of the course's football data (where the goalkeeper's kicks
    land, and which team heads the ball), points are uniform on a pitch of
    ``[-0.8, 0.8] x [-0.7, 0.7]``; label 1 above the wavy frontier
    ``x2 = 0.25 sin(3.5 x1 + 0.5) - 0.05``; a fraction ``noise`` of the labels
    is flipped and positions get a little jitter. With few points and flipped
    labels an unregularized network visibly overfits (it draws islands around
    the flipped points), which is what regularization is for. Half the points
    are the test set, so that test figures are not too noisy; ``dev`` holds out
    a quarter of the training half (150/50/200 for 400 points).

    The data set knows its Bayes error (``bayes_error``): the best rule labels a
    point by the side of the frontier it lies on, and errs on the flipped labels
    and on the points the jitter carried across the frontier (1.98% of them,
    :data:`FIELD_JITTER_CROSSING`), so ``noise + (1 - 2 noise) * 0.0198``:
    11.6% at the default noise of 10%.

    Parameters
    ----------
    n_samples : int >= 10
    noise : float in [0, 0.5], the fraction of flipped labels
    seed : int >= 0
    dev : bool
    """
    n_samples, noise, seed, dev = _check(n_samples, noise, seed, dev)
    noise = check_float(noise, "noise", low=0, high=0.5)
    data_rng, split_rng = _rngs(seed)
    X = data_rng.uniform(-1.0, 1.0, (n_samples, 2)) * np.array([0.8, 0.7])
    y = (X[:, 1] > 0.25 * np.sin(3.5 * X[:, 0] + 0.5) - 0.05).astype(np.int64)
    flipped = data_rng.random(n_samples) < noise
    y[flipped] = 1 - y[flipped]
    X = X + data_rng.normal(0.0, 0.03, X.shape)
    ds = _finish(X, y, name="field", seed=seed, dev=dev, split_rng=split_rng, ratios=(0.5, 0.0, 0.5),
                 description=f"football field, {n_samples} points, {noise:.0%} of labels flipped")
    return dataclasses.replace(
        ds, bayes_error=noise + (1 - 2 * noise) * FIELD_JITTER_CROSSING,
        bayes_error_source=f"the field generator flips {noise:.0%} of the labels and its jitter "
                           f"carries {FIELD_JITTER_CROSSING:.1%} of the points across the frontier")
