"""The course's experiments and the figures it publishes.

``reglab reproduce`` runs them through the ordinary training engine with
``course_compat=True`` and compares every published figure with the computed
one. The figures are facts from the course ("Improving Deep Neural Networks",
week 1: the Regularization and Initialization exercises).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from ..data import load_football, make_circles_course
from ..training.health import DeadNetworkWarning
from ..training.loop import TrainConfig, train

COST_RTOL = 1e-9  # different BLAS summation orders move the last digits
RECOMPUTED_COST_RTOL = 1e-8

#: Football field, [2, 20, 3, 1] ReLU network, learning rate 0.3, 30000 iterations.
FOOTBALL = {
    "no_regularization": {
        "settings": {"l2": 0.0, "keep_prob": 1.0},
        "cost": {0: 0.6557412523481002, 10000: 0.16329987525724218, 20000: 0.13851642423267105},
        "train_accuracy": 0.9478672985781991, "test_accuracy": 0.915},
    "l2": {
        "settings": {"l2": 0.7, "keep_prob": 1.0},
        "cost": {0: 0.6974484493131264, 10000: 0.26849188732822393, 20000: 0.2680916337127301},
        "train_accuracy": 0.9383886255924171, "test_accuracy": 0.93},
    "dropout": {
        "settings": {"l2": 0.0, "keep_prob": 0.86},
        "cost": {0: 0.6543912405149825, 10000: 0.061016986574905584, 20000: 0.060582435798513114},
        "train_accuracy": 0.9289099526066351, "test_accuracy": 0.95},
}

#: Circles, [2, 10, 5, 1] ReLU network, learning rate 0.01, 15000 iterations.
#: The course prints ``inf`` as the first cost of ``random`` (its loss takes
#: log(0)); reglab's loss from logits reports a large finite value instead.
CIRCLES = {
    "zeros": {"cost": {0: 0.6931471805599453, 14000: 0.6931471805599453},
              "train_accuracy": 0.5, "test_accuracy": 0.5},
    "random": {"cost": {}, "train_accuracy": 0.83, "test_accuracy": 0.86},
    "he": {"cost": {14000: 0.07357895962677363},  # re-computed, published as "99%" train
           "train_accuracy": 0.9933333333333333, "test_accuracy": 0.96},
}


def football_config(**settings) -> TrainConfig:
    """The football experiment's configuration, with ``settings`` (l2, keep_prob...) on top."""
    base = dict(layers=(20, 3), hidden="relu", output="sigmoid", init="course",
                learning_rate=0.3, iterations=30000, course_compat=True, record_every=1000)
    return TrainConfig(**{**base, **settings})


def circles_config(init: str) -> TrainConfig:
    """The initialization study's configuration for ``init``."""
    return TrainConfig(layers=(10, 5), hidden="relu", output="sigmoid", init=init,
                       learning_rate=0.01, iterations=15000, course_compat=True,
                       record_every=1000)


@dataclass(frozen=True)
class Check:
    """One published figure beside the computed one."""

    experiment: str
    run: str
    quantity: str
    published: float
    computed: float
    rtol: float

    @property
    def passed(self) -> bool:
        if self.rtol == 0:
            return self.computed == self.published
        return math.isclose(self.computed, self.published, rel_tol=self.rtol, abs_tol=0.0)

    def to_dict(self) -> dict:
        return {"experiment": self.experiment, "run": self.run, "quantity": self.quantity,
                "published": self.published, "computed": self.computed,
                "rtol": self.rtol, "passed": self.passed}


def _checks(experiment, run, figures, result, data, cost_rtol) -> list[Check]:
    net = result.network
    out = [Check(experiment, run, f"cost@{t}", published, float(result.history.costs[t]), cost_rtol)
           for t, published in figures["cost"].items()]
    out.append(Check(experiment, run, "train_accuracy", figures["train_accuracy"],
                     net.accuracy(data.X_train, data.y_train), 0.0))
    out.append(Check(experiment, run, "test_accuracy", figures["test_accuracy"],
                     net.accuracy(data.X_test, data.y_test), 0.0))
    return out


def reproduce(football_path, progress=None) -> list[Check]:
    """Run every course experiment and compare with the published figures.

    Parameters
    ----------
    football_path : path of the course's ``football.mat``
    progress : callable ``(experiment, run) -> None``, called before each run
    """
    checks = []
    football = load_football(football_path)
    for run, figures in FOOTBALL.items():
        if progress:
            progress("football", run)
        result = train(football.X_train, football.y_train, football_config(**figures["settings"]))
        checks += _checks("football", run, figures, result, football, COST_RTOL)
    circles = make_circles_course()
    for run, figures in CIRCLES.items():
        if progress:
            progress("circles", run)
        with warnings.catch_warnings():
            # the course's zeros initialization is dead on purpose (that is its lesson); the
            # warning stays in result.history.warnings
            warnings.simplefilter("ignore", DeadNetworkWarning)
            result = train(circles.X_train, circles.y_train, circles_config(run))
        rtol = RECOMPUTED_COST_RTOL if run == "he" else COST_RTOL
        checks += _checks("circles", run, figures, result, circles, rtol)
    return checks
