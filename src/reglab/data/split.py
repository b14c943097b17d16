"""Train/dev/test splits, sized as in the lecture and stratified exactly."""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

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
    The test set does not depend on ``dev``: without a dev set its examples are
    trained on (see :func:`train_dev_test_split` and ``docs/data.md``).

    ==========================  ==============================  ==================
    n_samples                   dev and test each get           with ``dev=False``
    ==========================  ==============================  ==================
    <= 10,000                   20% (60/20/20)                  80/0/20
    10,001 .. 1,000,000         max(2,000, 1% of n) examples    dev joins train
    > 1,000,000                 max(10,000, 0.25% of n)         dev joins train
    ==========================  ==============================  ==================

    So 1,000,000 examples give 98/1/1 and very large sets 99.5/0.25/0.25. The
    fractions are continuous in ``n`` (10,000 -> 20%, 10,001 -> 2,000/10,001).

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
        share = 0.2
    else:
        share = (max(2_000, 0.01 * n) if n <= 1_000_000 else max(10_000, 0.0025 * n)) / n
    return (1.0 - 2 * share, share, share) if dev else (1.0 - share, 0.0, share)


def dev_size(n_train: int, n_total: int) -> int:
    """How many of ``n_train`` training examples the dev set takes (reglab's one rule).

    A quarter of the training set while the whole data set (``n_total``
    examples, test included) holds at most 10,000 examples, which is the
    lecture's 60/20/20 when the test set is 20%; beyond, the lecture's dev
    count for ``n_total`` (:func:`default_ratios`), as many as a test set of
    that size.
    """
    if n_total <= 10_000:
        return max(1, int(np.floor(0.25 * n_train + 0.5)))
    return min(n_train - 1, int(np.floor(default_ratios(n_total)[1] * n_total + 0.5)))


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
    # scipy.sparse on first use: `import reglab` stays fast (see benchmarks/import_time.py)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

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

    With ``ratios=None`` this is reglab's one split rule (``docs/data.md``): the
    test set is held out first, at the lecture's share (:func:`default_ratios`),
    then the dev set is carved from what is left by :func:`dev_size` (a
    quarter of it up to 10,000 examples: 60/20/20). The test set is the same
    with ``dev=True`` and ``dev=False``; without a dev set its examples train.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Integer labels ``0..K-1``.
    ratios : (train, dev, test) or None
        Non-negative fractions summing to 1, train and test > 0; dev 0 means no
        dev set; split in one pass. ``None`` applies the rule above.
    dev : bool
        Whether to make a dev set; only read when ``ratios`` is None.
    seed : int >= 0 or numpy.random.Generator
        Source of the shuffle; the same seed gives the same split.
    stratify : bool
        Keep class proportions: in each pass, each class's count in each split
        is within one example of ``class_count * split_size / n``.
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
    dev = check_bool(dev, "dev")
    stratify = check_bool(stratify, "stratify")
    rng = make_rng(seed)
    if ratios is not None:
        return _split(X, y, check_ratios(ratios), rng, stratify, name)
    n = X.shape[0]
    if dev and n < 3:
        raise InputError(f"a train/dev/test split needs at least 3 samples, got {n}")
    if dev and stratify:  # name a class too small for three splits before splitting twice
        _check_stratifiable(y, 3)
    data = _split(X, y, default_ratios(n, dev=False), rng, stratify, name)
    return _carve_dev(data, dev_size(len(data.y_train), n), rng, stratify) if dev else data


def _check_stratifiable(y, n_splits: int) -> None:
    classes, class_counts = np.unique(y, return_counts=True)
    used = ", ".join(_SPLITS if n_splits == 3 else ("train", "test"))
    for c, count in zip(classes, class_counts):
        if count < n_splits:
            raise InputError(
                f"cannot stratify: class {c} has only {count} member(s), at least "
                f"{n_splits} needed (one per split: {used}); "
                f"pass stratify=False or collect more examples of class {c}")


def _carve_dev(data: Dataset, n_dev: int, rng, stratify: bool = True) -> Dataset:
    """``data`` with ``n_dev`` of its training examples held out as its dev set."""
    n = len(data.y_train)
    if not 1 <= n_dev < n:
        raise InputError(f"cannot hold out a dev set of {n_dev} from {n} training examples")
    carved = _split(data.X_train, data.y_train, ((n - n_dev) / n, 0.0, n_dev / n), rng, stratify,
                    data.name)
    return dataclasses.replace(data, X_train=carved.X_train, y_train=carved.y_train,
                               X_dev=carved.X_test, y_dev=carved.y_test)


def _split(X, y, ratios, rng, stratify: bool, name: str) -> Dataset:
    """One stratified (or plain) pass over checked arrays with checked ratios."""
    n = X.shape[0]
    sizes = _split_sizes(n, ratios)
    if stratify:
        _check_stratifiable(y, int(np.count_nonzero(sizes)))
        classes, class_counts = np.unique(y, return_counts=True)
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


def with_dev_split(data: Dataset, seed=0) -> Dataset:
    """``data`` itself if it has a dev set, else ``data`` with a dev set carved from its training set.

    This is how every data set gets its dev set (``docs/data.md``): a
    stratified :func:`dev_size` share of the training set (a quarter of it up
    to 10,000 examples in all), drawn with ``seed``; the test set is untouched.
    """
    if data.has_dev:
        return data
    n_total = len(data.y_train) + len(data.y_test)
    return _carve_dev(data, dev_size(len(data.y_train), n_total), make_rng(seed))


def resplit(data: Dataset, ratios, *, seed=0) -> Dataset:
    """``data``'s examples pooled (train, dev, test, in that order) and split again by ``ratios``.

    For data whose split reglab made itself (generated sets, CSV files): a
    free train/dev/test ratio instead of the lecture's rule. The pass is
    :func:`train_dev_test_split` with ``ratios`` (stratified; dev 0 means no dev
    set), so the same data, ratios and seed give the same sets.

    Parameters
    ----------
    data : Dataset
    ratios : (train, dev, test)
        Non-negative fractions summing to 1, train and test > 0.
    seed : int >= 0 or numpy.random.Generator
    """
    ratios = check_ratios(ratios)
    parts = [(data.X_train, data.y_train)] + ([(data.X_dev, data.y_dev)] if data.has_dev else [])
    parts.append((data.X_test, data.y_test))
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    split = train_dev_test_split(X, y, ratios=ratios, seed=seed, name=data.name)
    return dataclasses.replace(data, X_train=split.X_train, y_train=split.y_train, X_test=split.X_test,
                               y_test=split.y_test, X_dev=split.X_dev, y_dev=split.y_dev)
