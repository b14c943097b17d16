"""RegularizedMLPClassifier: scikit-learn's own estimator checks, the same run as
reglab's API, and the places practitioners use it (pipelines, grid search,
cross-validation, decision-boundary displays, pickle, reglab's model file)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_blobs, make_moons
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from reglab import RegularizedMLPClassifier, TrainConfig, train
from reglab.training.loop import initial_network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def small(**params):
    """A classifier small enough for many fits."""
    return RegularizedMLPClassifier(**{"hidden_layer_sizes": (16,), "max_iter": 300,
                                       "random_state": 0, **params})


@parametrize_with_checks([RegularizedMLPClassifier(), RegularizedMLPClassifier(
    hidden_layer_sizes=(12, 6), l2=0.5, l1=0.01, keep_prob=(0.9, 0.8), batch_size=16,
    early_stopping=True, validation_fraction=0.2, max_iter=60)])
@pytest.mark.filterwarnings("ignore::reglab.DeadNetworkWarning")
def test_scikit_learn_estimator_checks(estimator, check):
    # Some checks fit unscaled inputs around 100 with random labels: the first step
    # kills every ReLU, and reglab rightly says so; only that warning is let through.
    check(estimator)


def test_no_estimator_check_is_skipped_or_expected_to_fail():
    """parametrize_with_checks marks skips and expected failures; we have none. Its
    array-API check skips itself unless SCIPY_ARRAY_API=1 was set before SciPy was
    imported, which conftest.py does."""
    import os

    assert os.environ.get("SCIPY_ARRAY_API") == "1"
    marks = []
    for param in parametrize_with_checks([RegularizedMLPClassifier()]).args[1]:
        marks += [m.name for m in getattr(param, "marks", ())]
    assert marks == []


def test_same_run_as_reglabs_api():
    """An int random_state is reglab's seed: same data, same seed, same network."""
    X, y = make_moons(300, noise=0.25, random_state=1)
    est = RegularizedMLPClassifier(hidden_layer_sizes=(20, 3), l2=0.3, keep_prob=0.8, max_iter=400,
                                   learning_rate=0.3, random_state=7).fit(X, y)
    result = train(X, y, TrainConfig(layers=(20, 3), l2=0.3, keep_prob=0.8, iterations=400,
                                     learning_rate=0.3, seed=7, record_every=400))
    for a, b in zip(est.coefs_, result.network.weights):
        np.testing.assert_array_equal(a, b)
    X_new = np.random.default_rng(0).uniform(-2, 3, size=(500, 2))
    np.testing.assert_array_equal(est.predict(X_new), result.network.predict(X_new))
    np.testing.assert_array_equal(est.predict_proba(X_new), result.network.predict_proba(X_new))
    np.testing.assert_array_equal(est.loss_curve_, result.history.costs)


def test_labels_of_any_type_map_back():
    X, y = make_blobs(150, centers=3, cluster_std=0.6, random_state=0)
    names = np.array(["cat", "dog", "eel"])[y]
    est = small().fit(X, names)
    assert est.classes_.tolist() == ["cat", "dog", "eel"]
    assert est.predict(X).dtype == names.dtype
    assert est.score(X, names) > 0.95
    assert est.predict_proba(X).shape == (150, 3)
    flags = y == 1
    est = small().fit(X, flags)
    assert est.classes_.tolist() == [False, True] and est.predict(X).dtype == bool
    shifted = np.where(y == 1, 5, -3)  # non-contiguous integers
    est = small().fit(X, shifted)
    assert set(est.predict(X)) <= {-3, 5} and est.score(X, shifted) > 0.95


def test_fitted_attributes():
    X, y = make_moons(200, noise=0.2, random_state=0)
    est = small(hidden_layer_sizes=(8, 4), early_stopping=True, max_iter=500, patience=5).fit(X, y)
    assert [W.shape for W in est.coefs_] == [(8, 2), (4, 8), (1, 4)]  # reglab's orientation
    assert [b.shape for b in est.intercepts_] == [(8,), (4,), (1,)]
    assert est.n_features_in_ == 2 and est.n_iter_ == len(est.loss_curve_)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.n_iter_ < 500, "patience 5 stops before max_iter on moons"
    no_es = small(max_iter=50).fit(X, y)
    assert no_es.validation_scores_ is None and no_es.best_validation_score_ is None
    assert no_es.n_iter_ == 50


def test_mini_batch_loss_curve_is_per_epoch():
    X, y = make_moons(100, noise=0.2, random_state=0)
    est = small(batch_size=32, max_iter=7).fit(X, y)  # 4 batches per epoch
    assert est.n_iter_ == 7 and len(est.loss_curve_) == 7
    np.testing.assert_allclose(est.loss_curve_, est.history_.costs.reshape(7, 4).mean(axis=1))


def test_convergence_warning_without_early_stopping():
    X, y = make_moons(100, noise=0.2, random_state=0)
    with pytest.warns(ConvergenceWarning, match="reached max_iter=20 epochs without early stopping"):
        small(max_iter=20).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        small(max_iter=2000, early_stopping=True, patience=3).fit(X, y)  # stops: no warning


def test_warm_start_and_partial_fit_continue_from_the_weights():
    X, y = make_moons(200, noise=0.2, random_state=0)
    est = small(max_iter=30, warm_start=True).fit(X, y)
    first = [W.copy() for W in est.coefs_]
    cost_before = est.loss_curve_[-1]
    est.fit(X, y)
    assert len(est.loss_curve_) == 60 and est.t_ == 60
    assert est.loss_curve_[30] == pytest.approx(cost_before, rel=0.05)  # no jump back to the start
    assert not np.array_equal(first[0], est.coefs_[0])
    cold = small(max_iter=30).fit(X, y)
    np.testing.assert_array_equal(cold.coefs_[0], first[0])  # a cold fit starts again

    part = small()
    part.partial_fit(X, y, classes=[0, 1])
    start = initial_network(part._config(0, 1, False), 2, 2, "sigmoid")
    assert not np.array_equal(start.weights[0], part.coefs_[0])  # one step was taken
    for _ in range(20):
        part.partial_fit(X, y)
    assert part.t_ == 21 and len(part.loss_curve_) == 21
    assert part.loss_curve_[-1] < part.loss_curve_[0]


def test_partial_fit_errors_name_the_problem():
    X, y = make_moons(50, noise=0.2, random_state=0)
    with pytest.raises(ValueError, match="classes must be given on the first call to partial_fit"):
        small().partial_fit(X, y)
    est = small().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"y must hold only the classes \[0, 1\], got \[2\]"):
        est.partial_fit(X, np.full(50, 2))
    with pytest.raises(ValueError, match="X has 3 features, but RegularizedMLPClassifier is expecting 2"):
        est.partial_fit(np.zeros((5, 3)), np.zeros(5, int))


def test_parameters_are_validated_at_fit_with_clear_messages():
    X, y = make_moons(50, noise=0.2, random_state=0)
    est = RegularizedMLPClassifier(keep_prob=1.5)  # __init__ only stores
    assert est.keep_prob == 1.5
    with pytest.raises(ValueError, match=r"The 'keep_prob' parameter of RegularizedMLPClassifier must be"):
        est.fit(X, y)
    with pytest.raises(ValueError, match="'activation' parameter .* must be a str among"):
        RegularizedMLPClassifier(activation="softplus").fit(X, y)
    with pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\], got 0"):
        RegularizedMLPClassifier(keep_prob=[0.5, 0.0], hidden_layer_sizes=(4, 4)).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be positive integers"):
        RegularizedMLPClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes, got 1 class"):
        RegularizedMLPClassifier().fit(X, np.zeros(50))
    with pytest.raises(NotFittedError):
        RegularizedMLPClassifier().predict(X)


def test_pipeline_grid_search_and_cross_validation():
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[::3], y[::3]  # 190 examples: quick
    pipe = make_pipeline(StandardScaler(), small(max_iter=150))
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=folds)
    assert scores.shape == (3,) and scores.min() > 0.85
    search = GridSearchCV(pipe, {"regularizedmlpclassifier__l2": [0.0, 1.0],
                                 "regularizedmlpclassifier__keep_prob": [1.0, 0.8]}, cv=folds, n_jobs=2)
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert search.best_score_ > 0.9
    assert search.best_params_["regularizedmlpclassifier__l2"] in (0.0, 1.0)


def test_decision_boundary_display(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from sklearn.inspection import DecisionBoundaryDisplay

    X, y = make_moons(200, noise=0.2, random_state=0)
    est = small(hidden_layer_sizes=(20,), max_iter=500).fit(X, y)
    display = DecisionBoundaryDisplay.from_estimator(est, X, response_method="predict_proba",
                                                     grid_resolution=50)
    levels = display.response.ravel()
    assert display.response.shape == (50, 50) and 0 <= levels.min() < 0.1 and 0.9 < levels.max() <= 1
    display.figure_.savefig(tmp_path / "boundary.png")
    assert (tmp_path / "boundary.png").stat().st_size > 1000


def test_pickle_and_reglab_model_file_give_the_same_predictions(tmp_path):
    X, y = make_blobs(120, centers=3, random_state=2)
    labels = np.array(["a", "b", "c"])[y]
    est = small(keep_prob=0.9).fit(X, labels)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    path = est.save(tmp_path / "model")
    assert path.suffix == ".npz"
    with np.load(path, allow_pickle=False) as npz:  # no pickle inside
        assert sorted(npz.files) == ["W1", "W2", "b1", "b2", "metadata"]
    loaded = RegularizedMLPClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert loaded.get_params() == est.get_params()
    assert loaded.classes_.tolist() == ["a", "b", "c"]


def test_loading_a_plain_network_file_is_refused(tmp_path):
    from reglab import save_network

    X, y = make_moons(50, noise=0.2, random_state=0)
    net = train(X, y, TrainConfig(layers=(4,), iterations=5)).network
    path = save_network(tmp_path / "plain.npz", net)
    with pytest.raises(ValueError, match="not a saved RegularizedMLPClassifier"):
        RegularizedMLPClassifier.load(path)


def test_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas", reason="pandas is in the test extra")
    X, y = make_moons(80, noise=0.2, random_state=0)
    frame = pd.DataFrame(X, columns=["x", "y"])
    est = small(max_iter=20).fit(frame, y)
    assert est.feature_names_in_.tolist() == ["x", "y"]
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        est.predict(X)
