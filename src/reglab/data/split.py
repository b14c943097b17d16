"""Train/dev/test splits, sized as in the lecture and stratified exactly."""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from .._validation import InputError, check_int, check_labels, check_X, describe
from .dataset import Dataset

_SPLITS = ("train", "dev", "test")


def check_bool(value, name: str) -> bool:
    """Return ``value`` if it is a bool (``numpy.bool_`` included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def make_rng(seed, name: str = "seed") -> np.random.Generator:
    """Return a Generator from an int seed >= 0, or ``seed`` itself if it is one."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int(seed, name, low=0))


def default_ratios(n_samples: int, dev: bool = True) -> tuple[float, float, float]:
    """Return the ``(train, dev, test)`` fractions the lecture recommends for ``n_samples``.

    The rule (Andrew Ng, "Train/dev/test sets"): dev and test only need to be
    big enough to compare models reliably, so their share shrinks as data grow.

    ==========================  ==============================  ==================
    n_samples                   dev and test each get           with ``dev=False``
    ==========================  ==============================  ==================
    <= 10,000                   20% (60/20/20)                  70/0/30
    10,001 .. 1,000,000         max(2,000, 1% of n) examples    test as with dev,
    > 1,000,000                 max(10,000, 0.25% of n)         dev 0
    ==========================  ==============================  ==================

    So 1,000,000 examples give 98/1/1 and very large sets 99.5/0.25/0.25. With a
    dev set the fractions are continuous in ``n`` (10,000 -> 20%, 10,001 ->
    2,000/10,001); without one the test share drops from 30% to 20% above 10,000.

    Parameters
    ----------
    n_samples : int
        Number of examples, at least 1.
    dev : bool
        Whether a dev set is wanted.

    Returns
    -------
    (train, dev, test) : tuple of float
        Non-negative fractions summing to 1.
    """
    n = check_int(n_samples, "n_samples", low=1)
    dev = check_bool(dev, "dev")
    if n <= 10_000:
        return (0.6, 0.2, 0.2) if dev else (0.7, 0.0, 0.3)
    count = max(2_000, 0.01 * n) if n <= 1_000_000 else max(10_000, 0.0025 * n)
    share = count / n
    return (1.0 - 2 * share, share, share) if dev else (1.0 - share, 0.0, share)


def check_ratios(ratios) -> tuple[float, float, float]:
    """Return ``ratios`` as three non-negative floats summing to 1, train and test > 0."""
    expect = "three non-negative fractions (train, dev, test) summing to 1 with train > 0 and test > 0"
    try:
        values = tuple(ratios)
    except TypeError:
        raise InputError(f"ratios must be {expect}, got {describe(ratios)}") from None
    if len(values) != 3 or not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                   for v in values):
        raise InputError(f"ratios must be {expect}, got {describe(ratios)}")
    values = tuple(float(v) for v in values)
    if (not all(np.isfinite(v) and v >= 0 for v in values) or abs(sum(values) - 1) > 1e-9
            or values[0] == 0 or values[2] == 0):
        raise InputError(f"ratios must be {expect}, got {values!r}")
    return values


def _split_sizes(n: int, ratios) -> np.ndarray:
    # a split with a positive ratio gets at least one example; train takes the rest
    sizes = [0, 0, 0]
    for j in (1, 2):
        if ratios[j] > 0:
            sizes[j] = max(1, int(np.floor(ratios[j] * n + 0.5)))
    sizes[0] = n - sizes[1] - sizes[2]
    if sizes[0] < 1:
        raise InputError(f"ratios {ratios!r} leave no training example out of {n} samples; "
                         f"use more samples or smaller dev/test fractions")
    return np.array(sizes, dtype=np.int64)


def _stratified_counts(class_counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per-class split counts, each within one example of ``count * size / n``.

    The exact table ``E[c, s] = class_counts[c] * sizes[s] / n`` has integer row
    and column sums; rounding each entry down and handing out the missing units
    is a bipartite flow problem (class -> split, capacity 1 where E is not
    whole), whose integral maximum flow always exists. Splitting in two
    sklearn passes instead can miss the exact proportion by two.
    """
    n = int(sizes.sum())
    prod = np.outer(class_counts, sizes)
    base, frac = prod // n, prod % n > 0
    row_need = class_counts - base.sum(axis=1)
    col_need = sizes - base.sum(axis=0)
    k, s = base.shape
    src, sink = 0, k + s + 1  # nodes: source, classes 1..k, splits k+1..k+s, sink
    rows, cols, caps = [], [], []
    for c in range(k):
        rows.append(src); cols.append(1 + c); caps.append(row_need[c])
        for j in np.flatnonzero(frac[c]):
            rows.append(1 + c); cols.append(1 + k + j); caps.append(1)
    for j in range(s):
        rows.append(1 + k + j); cols.append(sink); caps.append(col_need[j])
    graph = csr_matrix((np.array(caps, dtype=np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    flow = maximum_flow(graph, src, sink).flow.toarray()
    extra = np.clip(flow[1:k + 1, k + 1:k + 1 + s], 0, None)
    return base + extra


def train_dev_test_split(X, y, *, ratios=None, dev=True, seed=0, stratify=True,
                         name: str = "data") -> Dataset:
    """Split ``X``, ``y`` into train, dev (optional) and test sets.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Integer labels ``0..K-1``.
    ratios : (train, dev, test) or None
        Non-negative fractions summing to 1, train and test > 0; dev 0 means no
        dev set. ``None`` uses :func:`default_ratios` ``(n_samples, dev)``.
    dev : bool
        Whether to make a dev set; only read when ``ratios`` is None.
    seed : int >= 0 or numpy.random.Generator
        Source of the shuffle; the same seed gives the same split.
    stratify : bool
        Keep class proportions: each class's count in each split is within one
        example of ``class_count * split_size / n_samples``.
    name : str
        Name of the returned :class:`Dataset`.

    Returns
    -------
    Dataset
        New arrays (the inputs are never modified), each split shuffled.

    Raises
    ------
    InputError
        Bad arrays or ratios, too few samples, or (with ``stratify``) a class
        with fewer members than there are splits.
    """
    X = check_X(X, "X")
    y = check_labels(y, "y", n_samples=X.shape[0])
    ratios = check_ratios(default_ratios(X.shape[0], check_bool(dev, "dev"))
                          if ratios is None else ratios)
    stratify = check_bool(stratify, "stratify")
    rng = make_rng(seed)
    n = X.shape[0]
    sizes = _split_sizes(n, ratios)
    used = [s for s, size in zip(_SPLITS, sizes) if size > 0]

    if stratify:
        classes, class_counts = np.unique(y, return_counts=True)
        for c, count in zip(classes, class_counts):
            if count < len(used):
                raise InputError(
                    f"cannot stratify: class {c} has only {count} member(s), at least "
                    f"{len(used)} needed (one per split: {', '.join(used)}); "
                    f"pass stratify=False or collect more examples of class {c}")
        counts = _stratified_counts(class_counts, sizes)
        parts: list[list[np.ndarray]] = [[], [], []]
        for c, row in zip(classes, counts):
            members = rng.permutation(np.flatnonzero(y == c))
            for j, stop in enumerate(np.cumsum(row)):
                parts[j].append(members[stop - row[j]:stop])
        # shuffle within each split so the classes are not in blocks
        index = [rng.permutation(np.concatenate(p)) for p in parts]
    else:
        order = rng.permutation(n)
        bounds = np.cumsum(sizes)
        index = [order[:bounds[0]], order[bounds[0]:bounds[1]], order[bounds[1]:]]

    train, dev_idx, test = index
    has_dev = sizes[1] > 0
    return Dataset(name=name, X_train=X[train], y_train=y[train],
                   X_test=X[test], y_test=y[test],
                   X_dev=X[dev_idx] if has_dev else None, y_dev=y[dev_idx] if has_dev else None)


def subsample_train(data: Dataset, n_train: int, *, seed=0) -> Dataset:
    """``data`` with a stratified random subset of ``n_train`` training examples.

    Dev and test sets are kept whole, so figures stay comparable while the
    training set shrinks (the small-data regime where networks overfit).
    """
    n_train = check_int(n_train, "train_size", low=2)
    n = len(data.X_train)
    if n_train >= n:
        raise InputError(f"train_size must be smaller than the training set ({n}), got {n_train}")
    frac = n_train / n
    sub = train_dev_test_split(data.X_train, data.y_train, ratios=(frac, 0.0, 1.0 - frac),
                               seed=seed, name=data.name)
    return dataclasses.replace(data, X_train=sub.X_train, y_train=sub.y_train)


def with_dev_split(data: Dataset, seed: int = 0) -> Dataset:
    """``data`` itself if it has a dev set, else a quarter of its training set held out as dev."""
    if data.has_dev:
        return data
    carved = train_dev_test_split(data.X_train, data.y_train, ratios=(0.75, 0.0, 0.25), seed=seed,
                                  name=data.name)
    return dataclasses.replace(data, X_train=carved.X_train, y_train=carved.y_train,
                               X_dev=carved.X_test, y_dev=carved.y_test)
