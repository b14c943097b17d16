"""The playground's step-wise trainer gives exactly what ``reglab.train`` gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reglab import TrainConfig, train
from reglab._validation import InputError, TrainingError
from reglab.data import load_dataset
from reglab.nn.regularizers import L2
from reglab.playground.trainer import SteppedTrainer


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_samples=200, noise=0.25, seed=3, dev=True)


def run_both(data, config, n_steps, chunks=(7, 1, 13)):
    """``train`` for ``config`` and the trainer advanced ``n_steps`` in uneven chunks."""
    kw = dict(X_dev=data.X_dev, y_dev=data.y_dev, symmetries=data.symmetries, dataset_name=data.name)
    config = dataclasses.replace(config, engine="reference")  # bit-equal to the reference loop
    reference = train(data.X_train, data.y_train, config, **kw)
    trainer = SteppedTrainer(data.X_train, data.y_train, config, **kw)
    i = 0
    while trainer.step < n_steps and trainer.stop_reason is None:
        trainer.advance(min(chunks[i % len(chunks)], n_steps - trainer.step))
        i += 1
    return reference, trainer


def assert_same_network(a, b):
    for Wa, Wb in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(Wa, Wb)


@pytest.mark.parametrize("settings", [
    dict(l2=0.3, l1=0.02, keep_prob=(0.8, 0.9)),
    dict(hidden="tanh", init="xavier", keep_prob=0.7),
    dict(init="random", init_scale=2.0, learning_rate=0.05),
    dict(course_compat=True, init="course", keep_prob=0.86, l2=0.1),
    dict(augment="jitter:0.05"),
    dict(augment="jitter:0.05", augment_mode="offline", augment_factor=3),
], ids=["l2-l1-dropout", "tanh-xavier", "random", "course", "augment-online", "augment-offline"])
def test_full_batch_steps_equal_train(moons, settings):
    config = TrainConfig(layers=(8, 5), iterations=60, record_every=10, **settings)
    reference, trainer = run_both(moons, config, 60)
    assert trainer.step == 60
    assert_same_network(reference.network, trainer.result_network())
    np.testing.assert_array_equal(reference.history.costs, trainer.costs)
    assert trainer.history.eval_steps == reference.history.eval_steps
    np.testing.assert_array_equal(trainer.history.dev_cost, reference.history.dev_cost)


def test_mini_batches_and_online_augmentation_equal_train(moons):
    config = TrainConfig(layers=(6,), epochs=4, batch_size=16, keep_prob=0.8, augment="jitter:0.03",
                         learning_rate=0.1, record_every=5)
    reference, trainer = run_both(moons, config, 4 * 8)  # 120 examples: 8 batches per epoch
    assert trainer.n_batches == 8 and trainer.epochs_done() == 4
    assert_same_network(reference.network, trainer.result_network())
    np.testing.assert_array_equal(reference.history.costs, trainer.costs)


def test_early_stopping_stops_and_restores_like_train(moons):
    config = TrainConfig(layers=(30, 30), iterations=3000, learning_rate=0.5, record_every=20,
                         early_stopping=3, monitor="dev_accuracy")
    reference, trainer = run_both(moons, config, 3000, chunks=(50,))
    assert reference.history.stop_reason.startswith("early stopping")
    assert trainer.stop_reason == reference.history.stop_reason
    assert trainer.step == reference.history.stopped_at < 3000
    assert trainer.history.best_step == reference.history.best_step
    assert_same_network(reference.network, trainer.network())
    assert trainer.advance(10) == 0  # stopped: no more steps


def test_restore_best_without_stopping_matches_train(moons):
    """``train`` evaluates its last step and restores the best weights even when not stopped."""
    config = TrainConfig(layers=(8,), iterations=55, record_every=10, early_stopping=50)
    reference, trainer = run_both(moons, config, 55)
    assert reference.history.stop_reason == "completed"
    assert_same_network(reference.network, trainer.result_network())
    assert trainer.history.eval_steps[-1] == 50  # result_network left the trainer as it was
    trainer.advance(5)
    assert trainer.history.eval_steps[-1] == 60


def test_l2_changed_mid_run_takes_effect_from_the_next_step(moons):
    config = TrainConfig(layers=(8,), iterations=20)
    trainer = SteppedTrainer(moons.X_train, moons.y_train, config)
    plain = SteppedTrainer(moons.X_train, moons.y_train, config)
    trainer.advance(10)
    plain.advance(10)
    trainer.update(l2=2.0)
    before = [W.copy() for W in trainer.weights]
    trainer.advance(1)
    plain.advance(1)
    m = len(moons.X_train)
    # the step's cost carries the new penalty, computed on the weights before the step
    assert trainer.costs[10] == pytest.approx(plain.costs[10] + L2(2.0).penalty(before, m), rel=1e-12)
    # and the update shrank every weight by lr * lambd / m * W more than without it
    lr = config.learning_rate
    for W0, W1, Wp in zip(before, trainer.weights, plain.weights):
        np.testing.assert_allclose(W1, Wp - lr * 2.0 / m * W0, rtol=0, atol=1e-12)
    assert trainer.config.l2 == 2.0


def test_reset_restores_the_same_initial_weights_and_streams(moons):
    config = TrainConfig(layers=(8, 4), keep_prob=0.8, iterations=30)
    trainer = SteppedTrainer(moons.X_train, moons.y_train, config)
    first = trainer.network()
    trainer.advance(30)
    trained = trainer.network()
    trainer.reset()
    assert trainer.step == 0 and trainer.costs == []
    assert_same_network(first, trainer.network())
    trainer.advance(30)
    assert_same_network(trained, trainer.network())


def test_update_refuses_what_defines_a_new_run(moons):
    trainer = SteppedTrainer(moons.X_train, moons.y_train, TrainConfig(layers=(4,)))
    with pytest.raises(InputError, match="only learning_rate, l2, l1, keep_prob can change while "
                                         "training, got layers"):
        trainer.update(layers=(5,))
    with pytest.raises(InputError, match="keep_prob must be in"):
        trainer.update(keep_prob=1.5)
    with pytest.raises(TypeError, match="config must be a TrainConfig, got dict"):
        SteppedTrainer(moons.X_train, moons.y_train, {})


def test_divergence_stops_with_a_clear_message(moons):
    config = TrainConfig(layers=(8,), init="random", learning_rate=1e300, iterations=50)
    trainer = SteppedTrainer(moons.X_train, moons.y_train, config)
    with pytest.raises(TrainingError) as caught:
        train(moons.X_train, moons.y_train, config)
    with pytest.raises(TrainingError, match="training diverged at step"):
        trainer.advance(50)
    assert trainer.stop_reason == str(caught.value)
    assert trainer.advance(1) == 0
