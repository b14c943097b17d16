"""K-fold cross-validation of compare and sweep: folds x seeds.

With ``cv=K`` every run of a compare or a sweep trains on one of K folds. The
folds are scikit-learn's :class:`~sklearn.model_selection.StratifiedKFold` over
the *training data*: the data set's training set and its dev set pooled (the
dev set joins the folds, so no example is left out), shuffled with the fixed
seed :data:`CV_SEED`. The fold's held-out part is the run's dev set (early
stopping watches it, the dev column reports it); the test set is never folded:
every run is tested on the same, untouched test set.

A run is then ``(setting, fold, seed)``; :func:`fold_data` gives the data of one
fold from the data set and ``(fold, folds)`` alone, so that a worker (a local
process or a cluster's) needs nothing but the spec and the data set.

The intervals over K folds x S seeds describe how the figures move when the data
split moves as well as the initial weights. They are Student-t intervals over the
K x S runs taken as if independent, which they are not: two folds' training sets
share (K-2)/(K-1) of their examples, runs of one fold share all their data, and
every run is tested on the same test set. No unbiased estimate of the variance of
K-fold cross-validation exists (Bengio and Grandvalet, 2004); read the interval as
the spread of these runs, narrower than the uncertainty about a fresh data set.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from .._validation import InputError, describe

#: The seed of the fold shuffle: fixed, so that every run of a compare or sweep (and a
#: resumed one) sees the same folds; recorded in results.json and sweep.json.
CV_SEED = 0


def pooled(data):
    """``(X, y)``: the training data the folds are cut from (train, then dev when present)."""
    if not data.has_dev:
        return data.X_train, data.y_train
    return np.concatenate([data.X_train, data.X_dev]), np.concatenate([data.y_train, data.y_dev])


def check_cv(cv, data, name: str = "cv") -> int:
    """``cv`` as a number of folds for ``data``: an integer >= 2, at most the size of the
    smallest class of the training data (train and dev pooled). ``name`` is the argument's
    name in the message (``"--cv"`` from the command line)."""
    if isinstance(cv, (bool, np.bool_)) or not isinstance(cv, numbers.Integral):
        raise InputError(f"{name} must be an integer >= 2 (the number of folds), got {describe(cv)}")
    cv = int(cv)
    if cv < 2:
        raise InputError(f"{name} must be an integer >= 2 (the number of folds), got {cv}")
    y = pooled(data)[1]
    classes, counts = np.unique(y, return_counts=True)
    smallest = int(np.argmin(counts))
    if cv > counts[smallest]:
        given = (lambda k: f"{name} {k}") if name.startswith("--") else (lambda k: f"{name}={k}")
        where = "train and dev pooled" if data.has_dev else "the training set"
        raise InputError(f"{given(cv)} asks for more folds than the smallest class of the training "
                         f"data has examples (class {classes[smallest]}: {counts[smallest]} of "
                         f"{len(y)}, {where}); every fold needs one of each class: use "
                         f"{given(int(counts[smallest]))} or fewer")
    return cv


def fold_indices(y, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(train_index, held_out_index)]`` of the stratified ``folds``-fold split of ``y``."""
    from sklearn.model_selection import StratifiedKFold  # on first use: `import reglab` stays fast

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=CV_SEED)
    return list(splitter.split(np.zeros((len(y), 1)), y))


def fold_data(data, fold: int, folds: int):
    """The Dataset of fold ``fold`` (0-based) of ``folds``: trained on the other folds of
    the pooled training data, its held-out part as the dev set, the test set unchanged."""
    X, y = pooled(data)
    train, held = fold_indices(y, folds)[fold]
    return dataclasses.replace(data, X_train=X[train], y_train=y[train], X_dev=X[held], y_dev=y[held])


def cv_record(data, folds: int | None) -> dict | None:
    """What results.json and sweep.json record of the folds (None without cv)."""
    if folds is None:
        return None
    return {"folds": folds, "seed": CV_SEED, "stratified": True, "n_pooled": int(len(pooled(data)[1])),
            "pooled": "train and dev" if data.has_dev else "train"}


#: What an interval over folds x seeds is, and is not, in a sentence (reports, results.json).
CV_CAVEAT = ("the runs are not independent draws: two folds' training sets share most of their "
             "examples, runs of one fold share all their data and every run is tested on the same "
             "test set, so the interval (computed as if they were independent) describes the spread of "
             "these runs and is narrower than the uncertainty about a fresh data set")


def sample_phrase(seeds: int, folds: int | None) -> str:
    """``"5 seeds"``, or ``"5 folds x 5 seeds (25 runs)"``: what an interval is over."""
    if folds is None:
        return f"{seeds} seed{'s' * (seeds != 1)}"
    return f"{folds} folds x {seeds} seed{'s' * (seeds != 1)} ({folds * seeds} runs)"
