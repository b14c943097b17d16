"""Training: dropout statistics, mini-batches, reproducibility, errors."""

from __future__ import annotations

import numpy as np
import pytest

from reglab import DeadNetworkWarning, InputError, TrainConfig, TrainingError, train
from reglab.nn.dropout import CourseMasks, FreshMasks, check_keep_probs
from reglab.data import make_moons, make_circles_course
from reglab.nn.initializers import initialize
from reglab.nn.network import Network


@pytest.fixture(scope="module")
def moons():
    return make_moons(n_samples=200, noise=0.2, seed=0)


# --- dropout -----------------------------------------------------------------

def test_kept_fraction_is_close_to_keep_prob():
    masks = FreshMasks((0.8, 0.5), np.random.default_rng(0))(2000, (50, 40))
    for mask, p in zip(masks, (0.8, 0.5)):
        n = mask.size
        assert abs(mask.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_inverted_dropout_preserves_the_expected_activation():
    rng = np.random.default_rng(1)
    H = np.abs(rng.standard_normal((1, 30)))
    sampler = FreshMasks((0.6,), rng)
    dropped = np.mean([(H * sampler(1, (30,))[0]) / 0.6 for _ in range(20000)], axis=0)
    np.testing.assert_allclose(dropped, H, rtol=0.05)


def test_fresh_masks_differ_between_steps_and_seeds():
    a = FreshMasks((0.5,), np.random.default_rng(0))
    first, second = a(100, (20,))[0], a(100, (20,))[0]
    other_seed = FreshMasks((0.5,), np.random.default_rng(1))(100, (20,))[0]
    same_seed = FreshMasks((0.5,), np.random.default_rng(0))(100, (20,))[0]
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, other_seed)
    assert np.array_equal(first, same_seed)


def test_course_masks_repeat_every_pass_in_the_course_order():
    masks = CourseMasks((0.7, 0.7))(5, (2, 3))
    legacy = np.random.RandomState(1)
    np.testing.assert_array_equal(masks[0], (legacy.rand(2, 5) < 0.7).T)
    np.testing.assert_array_equal(masks[1], (legacy.rand(3, 5) < 0.7).T)
    again = CourseMasks((0.7, 0.7))(5, (2, 3))
    assert all(np.array_equal(a, b) for a, b in zip(masks, again))


def test_keep_prob_layout():
    assert check_keep_probs(0.8, 3) == (0.8, 0.8, 0.8)
    assert check_keep_probs((0.9, 0.5), 2) == (0.9, 0.5)
    with pytest.raises(InputError, match=r"one value per hidden layer \(2\), got 3"):
        check_keep_probs((0.9, 0.5, 0.5), 2)


def test_prediction_never_drops_units(moons):
    result = train(moons.X_train, moons.y_train, TrainConfig(layers=(30, 30), keep_prob=0.5,
                                                              iterations=200))
    net = result.network
    first = net.predict_proba(moons.X_test)
    np.testing.assert_array_equal(first, net.predict_proba(moons.X_test))
    # a hand-written forward pass without any mask gives the same probabilities
    A = moons.X_test
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        A = np.maximum(A @ W.T + b, 0)
    p = 1 / (1 + np.exp(-(A @ net.weights[-1].T + net.biases[-1])[:, 0]))
    np.testing.assert_allclose(first[:, 1], p, rtol=1e-12, atol=1e-15)


def test_dropout_training_is_seeded(moons):
    config = dict(layers=(10,), keep_prob=0.7, iterations=50)
    a = train(moons.X_train, moons.y_train, TrainConfig(**config, seed=3)).history.costs
    b = train(moons.X_train, moons.y_train, TrainConfig(**config, seed=3)).history.costs
    c = train(moons.X_train, moons.y_train, TrainConfig(**config, seed=4)).history.costs
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# --- initialization ------------------------------------------------------------

def test_course_init_matches_the_course_draws():
    W, b = initialize((2, 20, 3, 1), "course", np.random.RandomState(3))
    legacy = np.random.RandomState(3)
    for l, (n_in, n_out) in enumerate([(2, 20), (20, 3), (3, 1)]):
        np.testing.assert_array_equal(W[l], legacy.randn(n_out, n_in) / np.sqrt(n_in))
        assert b[l].shape == (n_out,) and not b[l].any()


@pytest.mark.parametrize("init, std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 600)),
                                       ("course", np.sqrt(1 / 400)), ("random", 10.0)])
def test_initializer_scales(init, std):
    (W,), _ = initialize((400, 200), init, np.random.default_rng(0))
    assert W.shape == (200, 400)
    assert W.std() == pytest.approx(std, rel=0.02)


def test_zeros_init_never_breaks_symmetry():
    data = make_circles_course()
    with pytest.warns(DeadNetworkWarning) as caught:
        result = train(data.X_train, data.y_train, TrainConfig(layers=(10, 5), init="zeros",
                                                               learning_rate=0.01, iterations=100))
    assert [str(w.message) for w in caught] == result.history.warnings
    assert result.history.warnings[0].startswith("every unit of hidden layer 1 (10 units) outputs 0")
    assert result.history.warnings[1].endswith("init 'zeros' gives every unit the same weights, so they "
                                               "never differ; use init 'he' (ReLU) or 'xavier'")
    assert not any(W.any() for W in result.network.weights)
    assert result.network.accuracy(data.X_train, data.y_train) == 0.5


# --- training --------------------------------------------------------------------

def test_history_records_costs_norms_and_dev(moons):
    config = TrainConfig(layers=(8,), iterations=250, record_every=100, l2=0.1)
    result = train(moons.X_train, moons.y_train, config, X_dev=moons.X_test, y_dev=moons.y_test)
    h = result.history
    assert h.costs.shape == (250,) and h.stopped_at == 250 and h.stop_reason == "completed"
    assert h.eval_steps == [0, 100, 200, 250]
    assert len(h.dev_accuracy) == len(h.train_accuracy) == len(h.weight_norms) == 4
    assert h.weight_norms[-1][0] == pytest.approx(np.linalg.norm(result.network.weights[0]))
    assert h.costs[-1] < h.costs[0]
    assert h.train_accuracy[-1] == result.network.accuracy(moons.X_train, moons.y_train)
    assert list(h.costs_every(100)) == [0, 100, 200]


def test_mini_batch_training_reshuffles_and_learns(moons):
    config = TrainConfig(layers=(16,), epochs=30, batch_size=32, learning_rate=0.1, seed=1)
    a = train(moons.X_train, moons.y_train, config)
    n_batches = int(np.ceil(len(moons.X_train) / 32))
    assert a.history.costs.shape == (30 * n_batches,)
    # it learns: from chance (0.5) to above 0.8 on its 160 training points
    assert a.network.accuracy(moons.X_train, moons.y_train) > 0.8
    b = train(moons.X_train, moons.y_train, config)
    np.testing.assert_array_equal(a.history.costs, b.history.costs)
    # the batch order changes every epoch: the first batch costs of two epochs differ
    assert a.history.costs[0] != a.history.costs[n_batches]


def test_softmax_for_more_than_two_classes():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 3], [3, 0], [-3, -3]])
    y = rng.integers(0, 3, 300)
    X = centers[y] + rng.standard_normal((300, 2)) * 0.5
    result = train(X, y, TrainConfig(layers=(8,), iterations=500, learning_rate=0.1))
    assert result.network.output == "softmax"
    assert result.network.weights[-1].shape == (3, 8)
    assert result.network.predict_proba(X).shape == (300, 3)
    assert result.network.accuracy(X, y) > 0.95


def test_l1_makes_weights_sparser_and_l2_smaller(moons):
    base = dict(layers=(30,), iterations=2000, learning_rate=0.1, seed=0)
    plain = train(moons.X_train, moons.y_train, TrainConfig(**base)).network
    l2 = train(moons.X_train, moons.y_train, TrainConfig(**base, l2=2.0)).network
    l1 = train(moons.X_train, moons.y_train, TrainConfig(**base, l1=1.0)).network
    norm = lambda net: np.sqrt(sum(np.sum(W ** 2) for W in net.weights))  # noqa: E731
    near_zero = lambda net: np.mean(np.abs(net.weights[0]) < 1e-2)  # noqa: E731
    assert norm(l2) < 0.8 * norm(plain)
    assert near_zero(l1) > near_zero(plain) + 0.1


def test_saturated_outputs_give_a_finite_cost_without_warnings():
    X = np.array([[1000.0], [-1000.0]])
    net = Network([np.array([[1.0]])], [np.zeros(1)], (), "sigmoid")
    assert net.cost(X, [0, 1]) == pytest.approx(1000.0)
    assert np.isfinite(net.cost(X, [1, 0]))


def test_divergence_names_the_tensor_and_the_step(moons):
    config = TrainConfig(layers=(20, 20), init="random", init_scale=100, learning_rate=1e8,
                         iterations=500, record_every=10)
    with pytest.raises(TrainingError, match=r"training diverged at step \d+: (W\d|b\d|Z\d \(the pre-activations of layer \d, which overflowed\)) contains NaN or inf") as info:
        train(moons.X_train * 1e3, moons.y_train, config)
    assert info.value.history.stop_reason == "non-finite"
    assert len(info.value.history.eval_steps) >= 1


# --- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"keep_prob": 1.5}, r"keep_prob must be in \(0, 1\], got 1.5"),
    ({"keep_prob": 0}, r"keep_prob must be in \(0, 1\], got 0"),
    ({"l2": -0.1}, r"l2 must be a finite number >= 0, got -0.1"),
    ({"l1": -1}, r"l1 must be a finite number >= 0, got -1"),
    ({"init": "glorious"}, r"init must be one of .*'he'.*got 'glorious'"),
    ({"hidden": "swish"}, r"hidden activation must be one of .*'relu'.*got 'swish'"),
    ({"output": "linear"}, r"output must be one of 'sigmoid', 'softmax', got 'linear'"),
    ({"learning_rate": 0}, r"learning_rate must be a finite number > 0, got 0"),
    ({"layers": (20, 0)}, r"layers\[1\] must be an integer >= 1, got 0"),
    ({"epochs": 5}, r"epochs and batch_size go together"),
    ({"iterations": 2.5}, r"iterations must be an integer, got 2.5"),
])
def test_bad_configuration(kwargs, message):
    with pytest.raises((InputError, TypeError), match=message):
        TrainConfig(**kwargs)


def test_bad_arrays(moons):
    X, y = moons.X_train, moons.y_train
    with pytest.raises(InputError, match=r"X must be a 2-D array .* got shape \(160,\)"):
        train(X[:, 0], y)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match=r"X must contain only finite values, got nan at row 3, column 1"):
        train(bad, y)
    with pytest.raises(InputError, match=r"y must have one label per sample \(160\), got 159"):
        train(X, y[:-1])
    with pytest.raises(InputError, match=r"y must hold only 0 and 1 for a sigmoid output, got 2"):
        train(X, np.where(y == 1, 2, 0), TrainConfig(output="sigmoid"))
    with pytest.raises(InputError, match=r"y must hold integer class labels 0..K-1, got 0.5"):
        train(X, np.where(y == 1, 0.5, 0))
    with pytest.raises(InputError, match=r"X_dev must have 2 features \(columns\), got shape \(5, 3\)"):
        train(X, y, X_dev=np.zeros((5, 3)), y_dev=np.zeros(5))
    with pytest.raises(TypeError, match=r"config must be a TrainConfig, got dict"):
        train(X, y, {"l2": 1})


def test_inputs_are_never_modified(moons):
    X, y = moons.X_train.copy(), moons.y_train.copy()
    train(X, y, TrainConfig(layers=(4,), iterations=5))
    np.testing.assert_array_equal(X, moons.X_train)
    np.testing.assert_array_equal(y, moons.y_train)


# --- dead networks ------------------------------------------------------------------

def test_a_learning_rate_of_100_kills_every_relu_and_says_so(moons):
    """The issue's case: cost 0.91 -> 11 and 50% accuracy, named with its likely cause."""
    config = TrainConfig(learning_rate=100, iterations=300)
    with pytest.warns(DeadNetworkWarning) as caught:
        result = train(moons.X_train, moons.y_train, config)
    h = result.history
    assert [str(w.message) for w in caught] == h.warnings and len(h.warnings) == 2
    assert h.warnings[0] == ("every unit of hidden layer 2 (3 units) outputs 0 on every training example: "
                             "the layer is dead, the network cannot tell the examples apart and predicts "
                             "one class")
    assert h.warnings[1].startswith(f"the training cost rose from {h.train_cost[0]:.3g} to ")
    assert "the likely cause is the learning rate (100: " in h.warnings[1]
    assert result.network.accuracy(moons.X_train, moons.y_train) == 0.5


def test_health_check_reads_layers_and_costs():
    from reglab.training.health import check_health

    alive = np.array([[0.0, 1.0], [2.0, 0.0]])
    assert check_health([alive], 0.7, 0.3, learning_rate=0.1, init="he") == []
    # a sigmoid layer saturated at one value on every example is as dead as ReLUs at 0
    flat = np.full((5, 3), 0.731)
    found = check_health([alive, flat], 0.7, 0.69, learning_rate=0.1, init="he")
    assert found == ["every unit of hidden layer 2 (3 units) gives the same output on every training "
                     "example: the layer is dead, the network cannot tell the examples apart and predicts "
                     "one class; the likely cause is the learning rate (0.1: a step overshoots and pushes "
                     "every unit where it stays off; try one 10 to 100 times smaller) or the "
                     "initialization (init 'he')"]
    # a cost that doubles is named; one that rises a little (noise, a penalty) is not
    assert len(check_health([alive], 0.5, 1.01, learning_rate=1, init="he")) == 1
    assert check_health([alive], 0.5, 0.99, learning_rate=1, init="he") == []


def test_a_healthy_run_has_no_warning(moons):
    result = train(moons.X_train, moons.y_train, TrainConfig(iterations=200))
    assert result.history.warnings == []


def test_the_cli_names_a_dead_network_and_compare_records_it(tmp_path):
    from click.testing import CliRunner

    from reglab.cli.main import main

    result = CliRunner().invoke(main, ["train", "--dataset", "moons", "--learning-rate", "100",
                                       "--iterations", "300"])
    assert result.exit_code == 0
    assert "Warning: every unit of hidden layer 2 (3 units) outputs 0" in result.output
    assert "the likely cause is the learning rate (100" in result.output
    from reglab.data import load_dataset
    from reglab.experiments.runner import RunSpec, run_all

    data = load_dataset("moons", dev=True)
    records = run_all([RunSpec("hot", {"learning_rate": 100.0}, 0)], data,
                      TrainConfig(iterations=300), jobs=1)
    assert records[0].history["warnings"][0].startswith("every unit of hidden layer 2")
