"""Which regularization helps, by how much: settings x seeds, summarized honestly.

:func:`compare` trains the same network under several :class:`Setting` s over
several seeds (the seeds change the initial weights, the dropout masks and the
mini-batch order; the data stay fixed), or with ``cv=K`` over K folds x the seeds
(:mod:`.cv`: the data split varies too), and :func:`summarize` gives, per
setting, the mean and 95% Student-t interval of every figure over its runs. :func:`tune`
chooses each technique's strength on the dev set first, as the lecture
recommends, so that the test set is only used for the final figures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validation import InputError, check_float
from ..data import Dataset
from ..nn.dropout import check_keep_probs
from .cv import check_cv, fold_data
from .results import Runs
from .runner import RunSpec, run_all
from .stats import Interval, mean_ci
from ..training.loop import TrainConfig

#: Candidate strengths tried by ``tune`` (each on the dev set).
GRIDS = {
    "l2": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "l1": (0.003, 0.01, 0.03, 0.1, 0.3),
    "keep_prob": (0.95, 0.9, 0.8, 0.7, 0.6),
}


@dataclass(frozen=True)
class Setting:
    """A named regularization setting: the penalty strengths and keep probability."""

    name: str
    l2: float = 0.0
    l1: float = 0.0
    keep_prob: float | tuple = 1.0
    early_stopping: int | None = None
    augment: str | None = None

    @property
    def params(self) -> dict:
        """The TrainConfig overrides of this setting (early stopping and augmentation when set)."""
        keep = list(self.keep_prob) if isinstance(self.keep_prob, tuple) else self.keep_prob
        params = {"l2": self.l2, "l1": self.l1, "keep_prob": keep}
        if self.early_stopping is not None:
            params["early_stopping"] = self.early_stopping
        if self.augment is not None:
            params["augment"] = self.augment
        return params

    def describe(self) -> str:
        """``"L2 0.7 + dropout keep 0.8"``; ``"none"`` without regularization."""
        parts = []
        if self.l2:
            parts.append(f"L2 {self.l2:g}")
        if self.l1:
            parts.append(f"L1 {self.l1:g}")
        keep = self.keep_prob if isinstance(self.keep_prob, tuple) else (self.keep_prob,)
        if any(p < 1 for p in keep):
            parts.append("dropout keep " + ",".join(f"{p:g}" for p in keep))
        if self.early_stopping is not None:
            parts.append(f"early stopping, patience {self.early_stopping}")
        if self.augment is not None:
            parts.append(f"augment {self.augment}")
        return " + ".join(parts) or "none"


def default_augment(data: Dataset) -> str:
    """A sensible augmentation for ``data``: small shifts and rotations of images,
    Gaussian jitter of a tenth of the features' spread otherwise."""
    if data.image_shape is not None:
        return "shift:1,rotate:10"
    return f"jitter:{0.1 * float(np.mean(data.X_train.std(axis=0))):.2g}"


def default_settings(l2: float = 0.7, l1: float = 0.1, keep_prob=0.8, patience: int | None = 10,
                     augment: str | None = None) -> list[Setting]:
    """None, L2, L1, dropout, L2 + dropout, early stopping (with ``patience``) and
    augmentation (with ``augment``; left out when None)."""
    l2 = check_float(l2, "l2", low=0, low_open=True)
    l1 = check_float(l1, "l1", low=0, low_open=True)
    if isinstance(keep_prob, (list, tuple)) and not keep_prob:
        raise InputError("keep_prob must be one number or one per hidden layer, got none")
    if isinstance(keep_prob, (list, tuple)):
        keep_prob = tuple(keep_prob) if len(keep_prob) > 1 else keep_prob[0]
    if not isinstance(keep_prob, tuple):
        check_keep_probs(keep_prob, 1)
    settings = [Setting("none"), Setting("l2", l2=l2), Setting("l1", l1=l1),
                Setting("dropout", keep_prob=keep_prob),
                Setting("l2+dropout", l2=l2, keep_prob=keep_prob)]
    if patience is not None:
        settings.append(Setting("early-stopping", early_stopping=patience))
    if augment is not None:
        settings.append(Setting("augment", augment=augment))
    return settings


def specs_for(settings, seeds, folds: int | None = None) -> list[RunSpec]:
    """One run per setting and seed (and fold of ``folds``), settings outermost."""
    if folds is None:
        return [RunSpec(s.name, s.params, seed) for s in settings for seed in seeds]
    return [RunSpec(s.name, s.params, seed, fold, folds) for s in settings for fold in range(folds)
            for seed in seeds]


def check_fits(data: Dataset, config: TrainConfig, what: str) -> None:
    """Refuse, before any training, a configuration that cannot run on ``data``:
    early stopping without a dev set, an augmentation the data do not allow."""
    if config.early_stopping is not None and config.monitor.startswith("dev_") and not data.has_dev:
        raise InputError(f"{what} uses early stopping, which needs a dev set")
    if config.augment is not None:
        from ..training.augment import make_augmenter
        make_augmenter(config.augment, image_shape=data.image_shape, symmetries=data.symmetries,
                       dataset_name=data.name, allow_flips=config.allow_flips)


def _base(base: TrainConfig) -> TrainConfig:
    return dataclasses.replace(base, l2=0.0, l1=0.0, keep_prob=1.0, early_stopping=None, augment=None)


def check_settings(data: Dataset, base: TrainConfig, settings) -> None:
    """Validate every setting against the network and the data, before any training."""
    if not settings:
        raise InputError("settings must name at least one setting, got none")
    for s in settings:
        check_keep_probs(s.keep_prob, len(base.layers))
        check_fits(data, dataclasses.replace(_base(base), **s.params), f"setting {s.name!r}")


def compare(data: Dataset, base: TrainConfig, settings, seeds, *, cv=None, jobs=1, on_done=None,
            scheduler=None):
    """Train ``base`` under every setting for every seed; returns the records.

    Parameters
    ----------
    cv : int >= 2 or None
        Stratified K-fold cross-validation over the training data (train and dev
        pooled, :mod:`reglab.experiments.cv`): one run per setting, fold and seed, the
        fold's held-out part as its dev set, the test set untouched. None: every run on
        ``data``'s own split.
    jobs : int
        Local worker processes.
    scheduler : distributed.Client, str or None
        Run on this Dask cluster instead (a ``Client``, ``tcp://host:port`` or a
        scheduler file; see :mod:`reglab.experiments.distributed`).

    Returns
    -------
    Runs
        A list of :class:`~reglab.experiments.runner.RunRecord` (failed runs carry
        ``error``); ``.to_frame()`` gives a pandas DataFrame of them.
    """
    if cv is not None:
        cv = check_cv(cv, data)
    check_settings(fold_data(data, 0, cv) if cv else data, base, settings)
    return Runs(run_all(specs_for(settings, seeds, cv), data, _base(base), jobs=jobs, on_done=on_done,
                        scheduler=scheduler))


@dataclass(frozen=True)
class SummaryRow:
    """Per setting: mean and 95% interval over seeds of every figure."""

    setting: str
    description: str
    n_runs: int
    n_failed: int
    train: Interval
    dev: Interval | None
    test: Interval
    gap: Interval
    weight_norm: Interval
    near_zero: Interval
    seconds: Interval

    def to_dict(self) -> dict:
        out = {"setting": self.setting, "description": self.description,
               "n_runs": self.n_runs, "n_failed": self.n_failed}
        for name in ("train", "dev", "test", "gap", "weight_norm", "near_zero", "seconds"):
            value = getattr(self, name)
            out[name] = None if value is None else value.to_dict()
        return out


def summarize(records, settings) -> list[SummaryRow]:
    """One :class:`SummaryRow` per setting that has at least one finished run."""
    rows = []
    for s in settings:
        runs = [r for r in records if r.group == s.name]
        ok = [r for r in runs if r.error is None]
        if not ok:
            continue
        figure = lambda f: mean_ci([f(r) for r in ok])  # noqa: E731
        has_dev = ok[0].dev_accuracy is not None
        rows.append(SummaryRow(
            s.name, s.describe(), len(runs), len(runs) - len(ok),
            figure(lambda r: r.train_accuracy), figure(lambda r: r.dev_accuracy) if has_dev else None,
            figure(lambda r: r.test_accuracy), figure(lambda r: r.gap),
            figure(lambda r: r.weight_norm), figure(lambda r: r.near_zero),
            figure(lambda r: r.seconds)))
    return rows


def tune(data: Dataset, base: TrainConfig, seeds, *, grids=None, jobs=1, on_done=None, scheduler=None):
    """Choose the L2, L1 and dropout strengths with the best mean dev accuracy.

    Ties go to the smaller train-dev gap. Returns ``(chosen, records)`` where
    ``chosen`` maps ``"l2"``, ``"l1"``, ``"keep_prob"`` to the chosen values and
    ``records`` is a :class:`~reglab.experiments.results.Runs`. ``scheduler``: a Dask
    cluster to run on, as in :func:`compare`.
    """
    if not data.has_dev:
        raise InputError("tune needs a dev set: use reglab.data.with_dev_split(data) or a data set with dev")
    grids = GRIDS if grids is None else grids
    base = _base(base)
    specs = [RunSpec(f"{name}={value:g}", {name: value}, seed)
             for name, values in grids.items() for value in values for seed in seeds]
    records = Runs(run_all(specs, data, base, jobs=jobs, on_done=on_done, scheduler=scheduler))
    chosen = {}
    for name, values in grids.items():
        def score(value):
            ok = [r for r in records if r.group == f"{name}={value:g}" and r.error is None]
            if not ok:
                return (-np.inf, 0.0)
            return (np.mean([r.dev_accuracy for r in ok]),
                    -np.mean([r.train_accuracy - r.dev_accuracy for r in ok]))
        chosen[name] = max(values, key=score)
    return chosen, records
