"""Early stopping and augmentation inside the training loop."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reglab import InputError, TrainConfig, train
from reglab.data import with_dev_split
from reglab.data import load_dataset
from reglab.training.early_stopping import replay_history


@pytest.fixture(scope="module")
def field():
    return with_dev_split(load_dataset("field"), seed=0)


@pytest.fixture(scope="module")
def full_run(field):
    config = TrainConfig(layers=(40, 20), iterations=6000, record_every=100, seed=1)
    return config, train(field.X_train, field.y_train, config, X_dev=field.X_dev, y_dev=field.y_dev)


@pytest.mark.parametrize("patience, min_delta", [(3, 0.0), (5, 0.0), (5, 0.002)])
def test_replay_predicts_real_stopping(field, full_run, patience, min_delta):
    """Replaying the logged history says exactly where training really stops."""
    config, full = full_run
    predicted = replay_history(full.history, monitor="dev_cost", patience=patience, min_delta=min_delta)
    assert predicted.stopped_at is not None and predicted.stopped_at < 6000
    stopped = train(field.X_train, field.y_train,
                    dataclasses.replace(config, early_stopping=patience, min_delta=min_delta),
                    X_dev=field.X_dev, y_dev=field.y_dev)
    h = stopped.history
    assert h.stopped_at == predicted.stopped_at
    assert h.best_step == predicted.best_step
    assert h.stop_reason.startswith("early stopping: dev_cost did not improve")
    # the restored network is the best one: its dev cost is the best logged value
    best = h.eval_steps.index(h.best_step)
    assert stopped.network.cost(field.X_dev, field.y_dev) == pytest.approx(h.dev_cost[best], rel=1e-12)
    assert h.dev_cost[best] == pytest.approx(predicted.best_value, rel=1e-12)


def test_without_restore_the_last_weights_stay(field, full_run):
    config, _ = full_run
    run = train(field.X_train, field.y_train,
                dataclasses.replace(config, early_stopping=3, restore_best=False),
                X_dev=field.X_dev, y_dev=field.y_dev)
    last = run.history.dev_cost[-1]
    assert run.network.cost(field.X_dev, field.y_dev) == pytest.approx(last, rel=1e-12)
    assert last > min(run.history.dev_cost)


def test_early_stopping_needs_a_dev_set(field):
    with pytest.raises(InputError, match=r"early stopping on dev_cost needs a dev set"):
        train(field.X_train, field.y_train, TrainConfig(early_stopping=3, iterations=10))
    with pytest.raises(InputError, match=r"patience must be an integer >= 1, got 0"):
        TrainConfig(early_stopping=0)


def test_evaluation_every_epoch(field):
    config = TrainConfig(layers=(8,), epochs=6, batch_size=32, record_per_epoch=True,
                         early_stopping=50)
    h = train(field.X_train, field.y_train, config, X_dev=field.X_dev, y_dev=field.y_dev).history
    n_batches = int(np.ceil(len(field.X_train) / 32))
    assert h.eval_steps == [k * n_batches for k in range(7)]


def test_online_augmentation_changes_every_batch_and_never_the_data(field):
    X, y, Xd = field.X_train.copy(), field.y_train.copy(), field.X_dev.copy()
    base = TrainConfig(layers=(8,), iterations=30, record_every=10)
    plain = train(field.X_train, field.y_train, base, X_dev=field.X_dev, y_dev=field.y_dev)
    aug = dataclasses.replace(base, augment="jitter:0.05")
    a = train(field.X_train, field.y_train, aug, X_dev=field.X_dev, y_dev=field.y_dev)
    b = train(field.X_train, field.y_train, aug, X_dev=field.X_dev, y_dev=field.y_dev)
    np.testing.assert_array_equal(a.history.costs, b.history.costs)  # seeded
    assert a.history.costs[0] != plain.history.costs[0]  # the first batch is already jittered
    # dev figures are computed on the untouched dev set, and no array was modified
    assert a.history.dev_cost[0] == plain.history.dev_cost[0]
    np.testing.assert_array_equal(field.X_train, X)
    np.testing.assert_array_equal(field.X_dev, Xd)
    np.testing.assert_array_equal(field.y_train, y)


def test_offline_augmentation_expands_the_training_set_once(field):
    config = TrainConfig(layers=(8,), epochs=2, batch_size=50, augment="jitter:0.05",
                         augment_mode="offline", augment_factor=3)
    run = train(field.X_train, field.y_train, config)
    assert len(run.history.costs) == 2 * int(np.ceil(3 * len(field.X_train) / 50))
    # train accuracy is measured on the original examples, not the augmented copies
    assert run.history.train_accuracy[-1] == run.network.accuracy(field.X_train, field.y_train)


def test_augmentation_that_does_not_fit_the_data_is_refused(field):
    with pytest.raises(InputError, match="shift works on images"):
        train(field.X_train, field.y_train, TrainConfig(augment="shift:1", iterations=5))
