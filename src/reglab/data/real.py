"""Small real data sets that ship with scikit-learn (no download)."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_int
from .dataset import Dataset
from .split import check_bool, train_dev_test_split, with_dev_split


def _split(X, y, *, seed: int, dev: bool, name: str) -> Dataset:
    """reglab's split rule (``docs/data.md``): a 20% test set, then a quarter of the rest as dev."""
    ds = train_dev_test_split(X, y, dev=False, seed=seed, name=name)
    return with_dev_split(ds, seed=seed) if dev else ds


def load_digits(seed: int = 0, dev: bool = True) -> Dataset:
    """The 1,797 8x8 handwritten digits, 10 classes, pixels scaled to [0, 1].

    Parameters
    ----------
    seed : int >= 0
        Seed of the stratified split.
    dev : bool
        60/20/20 train/dev/test when True (a quarter of the training set held out
        as dev), 80/20 train/test otherwise; the test set is the same.

    Returns
    -------
    Dataset
        ``X_*`` of shape ``(n, 64)`` (rows of the 8x8 image, ``image_shape=(8, 8)``),
        ``y_*`` in 0..9.
    """
    seed, dev = check_int(seed, "seed", low=0), check_bool(dev, "dev")
    from sklearn.datasets import load_digits as sklearn_digits  # slow to import: only when used

    bunch = sklearn_digits()
    X = bunch.data / 16.0  # pixel intensities are 0..16
    ds = _split(X, bunch.target, dev=dev, seed=seed, name="digits")
    return dataclasses.replace(ds, image_shape=(8, 8),
                               description="sklearn digits (UCI optical digits), 8x8, /16")


def load_breast_cancer(seed: int = 0, dev: bool = True) -> Dataset:
    """Wisconsin breast cancer: 569 samples, 30 features, labels 0 malignant / 1 benign.

    Features are standardized, ``(X - mean) / std``, with ``mean`` and ``std``
    computed on the training split only and applied to every split, so that
    nothing about the dev and test sets leaks into training.

    Parameters
    ----------
    seed : int >= 0
        Seed of the stratified split.
    dev : bool
        60/20/20 train/dev/test when True (a quarter of the training set held out
        as dev), 80/20 train/test otherwise; the test set is the same.

    Returns
    -------
    Dataset
        ``X_*`` of shape ``(n, 30)``, ``y_*`` in {0, 1}.
    """
    seed, dev = check_int(seed, "seed", low=0), check_bool(dev, "dev")
    from sklearn.datasets import load_breast_cancer as sklearn_cancer  # slow to import: only when used

    bunch = sklearn_cancer()
    ds = _split(bunch.data, bunch.target, dev=dev, seed=seed, name="breast_cancer")
    mean = ds.X_train.mean(axis=0)
    std = ds.X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant feature stays 0 instead of dividing by 0
    scaled = {f"X_{s}": (getattr(ds, f"X_{s}") - mean) / std
              for s in ("train", "dev", "test") if getattr(ds, f"X_{s}") is not None}
    return dataclasses.replace(ds, **scaled,
                               description="sklearn breast cancer (Wisconsin diagnostic), "
                                           "standardized on the training split")
