"""On real data (scikit-learn's digits), each regularizer does what it is for.

A reduced budget of the README's experiment: 500 training examples, a
[64, 256, 128, 10] network trained by full-batch gradient descent until it fits
the training set perfectly, three seeds. On the split of docs/data.md the
unregularized network already reaches about 97.5% on the 360 dev digits, and no
regularizer changes that by more than the noise of the figures (one to three dev
examples); the README reports it. What must hold whatever the split: the
unregularized network memorizes, L2 shrinks the weights, early stopping stops at
its best dev accuracy, and no regularizer costs dev accuracy beyond the intervals.
"""

from __future__ import annotations

import numpy as np

from reglab import TrainConfig
from reglab.experiments.compare import Setting, compare, summarize
from reglab.data import load_dataset, subsample_train


def test_l2_dropout_early_stopping_and_augmentation_on_digits():
    data = subsample_train(load_dataset("digits", dev=True), 500, seed=0)
    assert data.has_dev and len(data.X_dev) == 360
    # engine="reference": at learning rate 0.5 the L2 runs oscillate, and from about step 500
    # on a change in the last bit of a product (another summation order, another engine)
    # moves the weights of step 1000; the figures below are the reference's trajectory.
    config = TrainConfig(layers=(256, 128), iterations=1000, learning_rate=0.5, record_every=10,
                         monitor="dev_accuracy", engine="reference")
    settings = [Setting("none"), Setting("l2", l2=4.0), Setting("dropout", keep_prob=0.7),
                Setting("early-stopping", early_stopping=10), Setting("augment", augment="noise:0.2")]
    records = compare(data, config, settings, seeds=range(3), jobs=2)
    rows = {r.setting: r for r in summarize(records, settings)}
    none = rows["none"]
    assert none.train.mean == 1.0  # the unregularized network fits every training example
    assert rows["l2"].weight_norm.mean < 0.5 * none.weight_norm.low
    for name in ("l2", "dropout", "early-stopping", "augment"):
        assert rows[name].dev.high >= none.dev.low, (name, rows[name].dev, none.dev)
    # early stopping ended every run before the budget, at the best dev accuracy
    stopped = [r for r in records if r.group == "early-stopping"]
    assert all(r.steps < 1000 and r.stop_reason.startswith("early stopping") for r in stopped)
    assert all(np.isclose(r.dev_accuracy, max(r.history["dev_accuracy"])) for r in stopped)
