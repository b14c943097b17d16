"""RegularizedMLPClassifier never oversubscribes the cores when scikit-learn runs it in
parallel: in a joblib worker process its fit and predictions run with one BLAS thread,
outside one nothing is limited.

What is observed is the thread limit in force inside ``fit`` (threadpoolctl), never a
timing. Each worker records it itself (loky's workers are fresh processes that do not
inherit a test's monkeypatch).
"""

import warnings

import numpy as np
import pytest
from joblib import Parallel, delayed, parallel_config
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info, threadpool_limits

import reglab.estimator as estimator_module
from reglab import RegularizedMLPClassifier


def blas_threads() -> int:
    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def model(**params):
    return RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                                    engine="reference", **params)


class Recorder:
    """``train`` and the network's ``predict_proba`` wrapped to note the BLAS threads."""

    def __init__(self):
        self.seen = {"fit": [], "predict": []}
        self.real_train = estimator_module.train

    def train(self, *args, **kwargs):
        self.seen["fit"].append(blas_threads())
        result = self.real_train(*args, **kwargs)
        real = result.network.predict
        result.network.predict = lambda X: (self.seen["predict"].append(blas_threads()), real(X))[1]
        return result


def fit_predict_and_observe(i):
    """Fit and predict where this runs; return the threads seen inside, and the threads
    outside afterwards."""
    recorder = Recorder()
    estimator_module.train = recorder.train
    try:
        X, y = data()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model().fit(X, y).predict(X)
    finally:
        estimator_module.train = recorder.real_train
    return recorder.seen, blas_threads()


def test_outside_a_worker_nothing_is_limited():
    with threadpool_limits(2, user_api="blas"):
        seen, after = fit_predict_and_observe(0)
    assert seen == {"fit": [2], "predict": [2]} and after == 2
    assert not estimator_module.in_joblib_worker()


@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_worker_processes_fit_and_predict_with_one_blas_thread(backend):
    # loky is told to give its workers 2 threads each and multiprocessing gives them all
    # the cores: without the estimator's limit, 2 workers would run 4 BLAS threads
    with threadpool_limits(2, user_api="blas"):
        with parallel_config(backend, n_jobs=2, inner_max_num_threads=2 if backend == "loky" else None):
            results = Parallel()(delayed(fit_predict_and_observe)(i) for i in range(2))
    assert [seen for seen, _ in results] == [{"fit": [1], "predict": [1]}] * 2
    if backend == "multiprocessing":  # inherited the parent's 2; the limit ended with the fit
        assert [after for _, after in results] == [2, 2]


class Noting(RegularizedMLPClassifier):
    """Notes the BLAS threads in force when it trains (``threads_``)."""

    def _fit(self, *args, **kwargs):
        self.threads_ = blas_threads()
        return super()._fit(*args, **kwargs)


def threads_in_fit(estimator, X, y):
    """A "score": the BLAS threads the fit of this (cross-validation) worker ran with."""
    return float(estimator.threads_)


def test_grid_search_n_jobs_fits_with_one_thread_per_worker():
    X, y = data()
    search = GridSearchCV(Noting(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                                 engine="reference"),
                          {"l2": [0.0, 1.0]}, cv=2, n_jobs=2, scoring=threads_in_fit)
    # loky gives each of the 2 workers 2 threads: the estimator must bring them to 1
    with parallel_config("loky", inner_max_num_threads=2), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
        unlimited = Parallel(n_jobs=2)(delayed(blas_threads)() for _ in range(2))
    assert unlimited == [2, 2]  # what those workers have outside a fit
    assert search.cv_results_["split0_test_score"].tolist() == [1.0, 1.0]
    assert search.cv_results_["split1_test_score"].tolist() == [1.0, 1.0]
