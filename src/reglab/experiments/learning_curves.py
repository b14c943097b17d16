"""Learning curves: train and dev error against the number of training examples.

The lecture's first remedy for high variance is more data; a learning curve
shows whether it would help. For each size, a stratified subset of the training
set is drawn (seeded by the run's seed) and the same configuration is trained on
it; the dev set stays whole. A high-variance network keeps a small training
error while its dev error falls as the subset grows; a high-bias one has both
errors high and close together, and more data does not help it.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from .._validation import InputError, check_int, describe
from ..data import Dataset
from .runner import RunSpec, _prepare_engine, execute, worker_init
from ..training.loop import TrainConfig, resolve_engine


@dataclass(frozen=True)
class LearningCurve:
    """Errors of ``config`` trained on growing subsets of a training set.

    Attributes
    ----------
    sizes : int array ``(n_sizes,)``, training examples used, increasing
    seeds : tuple of int, one column each
    train_error, dev_error : arrays ``(n_sizes, n_seeds)``; the train error is
        measured on the subset the run was trained on
    config : TrainConfig, trained with ``seed`` replaced by each seed
    """

    sizes: np.ndarray
    seeds: tuple[int, ...]
    train_error: np.ndarray
    dev_error: np.ndarray
    config: TrainConfig

    def to_dict(self) -> dict:
        return {"sizes": self.sizes.tolist(), "seeds": list(self.seeds),
                "train_error": self.train_error.tolist(), "dev_error": self.dev_error.tolist(),
                "config": self.config.to_dict()}


def check_train_sizes(sizes, n_train: int) -> np.ndarray:
    """Turn ``sizes`` into increasing example counts in ``1..n_train``.

    A float is a fraction of the training set in (0, 1] (rounded, at least one
    example); an integer is a count in ``1..n_train``. So ``1.0`` is the whole
    set and ``1`` a single example.
    """
    expect = (f"fractions in (0, 1] (floats) or counts in 1..{n_train} (integers) of the training "
              "set, strictly increasing")
    values = list(sizes) if isinstance(sizes, (list, tuple, np.ndarray)) else None
    if not values:
        raise InputError(f"sizes must be a non-empty list of {expect}, got {describe(sizes)}")
    counts = []
    for i, v in enumerate(values):
        if isinstance(v, numbers.Integral) and not isinstance(v, bool):
            if not 1 <= v <= n_train:
                raise InputError(f"sizes[{i}] must be a count in 1..{n_train} (the training set "
                                 f"size), got {v}")
            counts.append(int(v))
        elif isinstance(v, numbers.Real) and not isinstance(v, bool):
            if not 0 < v <= 1:
                raise InputError(f"sizes[{i}] must be a fraction in (0, 1] when given as a float "
                                 f"(use an integer for a count), got {v:g}")
            counts.append(max(1, int(np.floor(v * n_train + 0.5))))
        else:
            raise InputError(f"sizes[{i}] must be a number, got {describe(v)}")
    out = np.array(counts, dtype=np.int64)
    if (np.diff(out) <= 0).any():
        raise InputError(f"sizes must be {expect}; they give the counts {out.tolist()}")
    return out


def stratified_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order of ``range(len(y))`` whose every prefix is stratified.

    Within each class the members are shuffled and member ``i`` of ``n_c`` gets
    the key ``(i + 0.5) / n_c``; sorting by key interleaves the classes so that
    any prefix of length ``n`` holds ``n * n_c / len(y)`` of class ``c``, within
    one. Prefixes are nested: a larger subset contains every smaller one.
    """
    keys = np.empty(len(y))
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        keys[members] = (np.arange(len(members)) + 0.5) / len(members)
    return np.lexsort((rng.random(len(y)), keys))  # random tie-break between classes


def _subset(data: Dataset, n: int, seed: int) -> Dataset:
    idx = stratified_order(data.y_train, np.random.default_rng(seed))[:n]
    return dataclasses.replace(data, X_train=data.X_train[idx], y_train=data.y_train[idx])


def _errors(data: Dataset, n: int, seeds, config: TrainConfig) -> list[tuple[float, float]]:
    """Train and dev errors of every seed at size ``n``: with the fast engine the seeds' runs
    (same size and network, each on its own subset) are stepped together."""
    def one(seed):
        record = execute(RunSpec(f"n={n}", {}, seed), _subset(data, n, seed), config)
        return 1.0 - record.train_accuracy, 1.0 - record.dev_accuracy
    if len(seeds) == 1 or resolve_engine(config.engine) != "fast":
        return [one(s) for s in seeds]
    from ..training.batch import run_together
    from ..training.health import DeadNetworkWarning
    with warnings.catch_warnings():  # execute's own filter is not thread-safe: hold it for all
        warnings.simplefilter("ignore", DeadNetworkWarning)
        outcomes = run_together([lambda s=s: one(s) for s in seeds])
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return [outcome.value for outcome in outcomes]


def learning_curve(data: Dataset, config: TrainConfig, sizes, seeds, *, jobs: int = 1) -> LearningCurve:
    """Train ``config`` on growing stratified subsets of ``data``'s training set.

    Parameters
    ----------
    data : Dataset with a dev set (the dev error is measured on all of it)
    config : TrainConfig; its ``seed`` is replaced by each of ``seeds``
    sizes : list of fractions in (0, 1] (floats) or counts (integers), increasing
    seeds : list of int >= 0; seed ``s`` draws the subsets (``default_rng(s)``, the
        subsets of one seed are nested) and seeds the training
    jobs : int >= 1, worker processes (1: in this process)

    Returns
    -------
    LearningCurve
        ``train_error`` and ``dev_error`` of shape ``(len(sizes), len(seeds))``.

    Raises
    ------
    InputError
        No dev set, bad sizes or seeds; TrainingError when a run diverges.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a Dataset, got {type(data).__name__}")
    if not data.has_dev:
        raise InputError("learning_curve needs a dev set, and data has none; load it with "
                         "dev=True or carve one from the training set")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    counts = check_train_sizes(sizes, len(data.y_train))
    seed_list = list(seeds) if isinstance(seeds, (list, tuple, range, np.ndarray)) else None
    if not seed_list:
        raise InputError(f"seeds must be a non-empty list of integers >= 0, got {describe(seeds)}")
    seed_list = [check_int(s, f"seeds[{i}]", low=0) for i, s in enumerate(seed_list)]
    jobs = check_int(jobs, "jobs", low=1)
    sizes = counts.tolist()
    # Tasks: each size's seeds (stepped together), cut into as many pieces as it takes for
    # every one of the jobs to have work when there are fewer sizes than jobs.
    pieces = min(len(seed_list), -(-jobs // len(sizes)))
    tasks = [(n, seed_list[k::pieces]) for n in sizes for k in range(pieces)]
    if jobs == 1 or len(tasks) == 1:
        done = [_errors(data, n, part, config) for n, part in tasks]
    else:  # the runner's initializer: one BLAS thread each, workers that die with this process
        _prepare_engine(config)
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), initializer=worker_init,
                                 initargs=(False,)) as pool:
            done = list(pool.map(_errors, [data] * len(tasks), *zip(*tasks), [config] * len(tasks)))
    by_seed = {(n, s): e for (n, part), errs in zip(tasks, done) for s, e in zip(part, errs)}
    results = [[by_seed[n, s] for s in seed_list] for n in sizes]
    errors = np.array(results, dtype=np.float64).reshape(len(counts), len(seed_list), 2)
    return LearningCurve(counts, tuple(seed_list), errors[..., 0], errors[..., 1], config)
