"""A scikit-learn classifier on reglab's engine: L2, L1, dropout, early stopping
and augmentation in pipelines, grid searches and cross-validation.

At the edge of the package (beside the CLI): it imports the layers below it and
nothing imports it but ``reglab/__init__.py``, lazily, so that ``import reglab``
does not import scikit-learn.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import InputError, describe
from .io import load_network, save_network
from .nn.activations import ACTIVATIONS
from .nn.initializers import INITIALIZERS
from .nn.network import Network
from .training.loop import TrainConfig, initial_network, train

ENGINES = ("auto", "reference", "fast")


def in_joblib_worker() -> bool:
    """Whether this code runs inside a joblib worker (``Parallel(n_jobs=...)``: GridSearchCV,
    cross_val_score...): joblib raises its backend's ``nesting_level`` there."""
    from joblib.parallel import get_active_backend

    return getattr(get_active_backend()[0], "nesting_level", 0) > 0


@contextlib.contextmanager
def one_thread_in_workers():
    """Limit BLAS and OpenMP to one thread while the block runs in a joblib worker process.

    scikit-learn runs ``n_jobs`` fits at once, each worker meant to fill one core.
    joblib's default backend (loky) gives its worker processes ``cores // n_jobs``
    threads, the multiprocessing backend all the cores, so that ``n_jobs`` workers
    could run ``n_jobs x cores`` threads; here every worker process fits with one.
    Outside a worker nothing is limited. Worker *threads* (joblib's threading backend)
    are left alone: they share one process-wide BLAS pool whose limit threadpoolctl lets
    a single Python thread set, so a worker thread cannot set it (wrap the search in
    ``threadpool_limits(1)`` there).
    """
    if threading.current_thread() is not threading.main_thread() or not in_joblib_worker():
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _one_thread_in_workers(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with one_thread_in_workers():
            return method(*args, **kwargs)
    return wrapper


class RegularizedMLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier trained by gradient descent with L2, L1,
    inverted dropout, early stopping and data augmentation.

    The network and its training are reglab's (:func:`reglab.train`); this class
    adds scikit-learn's conventions: any label type, ``fit``/``predict``/
    ``predict_proba``/``score``/``partial_fit``, ``warm_start``, and fitted
    attributes ending in ``_``.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        Hidden activation.
    init : {"he", "xavier", "glorot", "course", "random", "zeros"}, default="he"
        Initial weights (see :mod:`reglab.nn.initializers`).
    l2 : float >= 0, default=0.0
        L2 strength ``lambd``: cost ``+ l2/(2m) * sum ||W||^2``. This is
        scikit-learn :class:`~sklearn.neural_network.MLPClassifier`'s ``alpha``
        (``alpha = l2``); Keras ``l2 = l2/(2m)``; PyTorch SGD
        ``weight_decay = l2/m``. Biases are not penalized.
    l1 : float >= 0, default=0.0
        L1 strength: cost ``+ l1/m * sum |W|``.
    keep_prob : float in (0, 1] or array-like of them, default=1.0
        Inverted-dropout keep probability, one for every hidden layer or one per
        hidden layer; 1 disables dropout. Dropout is active only while training.
    learning_rate : float > 0, default=0.3
        Step size of (plain) gradient descent.
    max_iter : int >= 1, default=200
        Epochs: passes over the training data (full-batch steps when
        ``batch_size`` is None).
    batch_size : int >= 1 or None, default=None
        Mini-batch size (reshuffled every epoch); None trains on the full batch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified), score
        it after every epoch, stop after ``patience`` epochs without an
        improvement of the accuracy by more than ``min_delta``, and keep the
        weights of the best epoch.
    validation_fraction : float in (0, 1), default=0.1
    patience : int >= 1, default=10
        scikit-learn's ``n_iter_no_change``.
    min_delta : float >= 0, default=0.0
    augment : str or None, default=None
        reglab's augmentation spec for the training batches, e.g.
        ``"jitter:0.05"`` (see :mod:`reglab.training.augment`).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the dropout masks, the mini-batch order, the
        augmentation and the validation split. An int gives the same run as
        ``reglab.train`` with ``TrainConfig(seed=random_state)``.
    engine : {"auto", "reference", "fast"}, default="auto"
        Which of reglab's training engines runs the fit. In a joblib worker process
        (``GridSearchCV(n_jobs=...)``, ``cross_val_score(n_jobs=...)``) ``fit``,
        ``partial_fit`` and the predictions limit BLAS and OpenMP to one thread, so
        that the workers never oversubscribe the cores; elsewhere nothing is limited
        (see :func:`one_thread_in_workers`).
    warm_start : bool, default=False
        Continue from the previous fit's weights.

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when fitted on a DataFrame with string column names
    coefs_ : list of ndarray
        ``coefs_[l]`` has shape ``(n[l+1], n[l])``: reglab's (and
        ``torch.nn.Linear``'s) orientation, the transpose of MLPClassifier's.
    intercepts_ : list of ndarray, ``intercepts_[l]`` of shape ``(n[l+1],)``
    network_ : reglab.Network, the trained network (labels encoded ``0..K-1``)
    loss_curve_ : list of float
        Training cost of every epoch (the mean over its mini-batches, with the
        penalties and dropout in force), all fits of a warm start included.
    validation_scores_ : list of float or None
        Validation accuracy after every epoch (early stopping), else None.
    best_validation_score_ : float or None
    n_iter_ : int, epochs run by the last fit
    t_ : int, gradient steps taken over all fits
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "init": [StrOptions(set(INITIALIZERS))],
        "l2": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "keep_prob": [Interval(Real, 0, 1, closed="right"), "array-like"],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "min_delta": [Interval(Real, 0, None, closed="left")],
        "augment": [str, None],
        "random_state": ["random_state"],
        "engine": [StrOptions(set(ENGINES))],
        "warm_start": ["boolean"],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", init="he", l2=0.0, l1=0.0,
                 keep_prob=1.0, learning_rate=0.3, max_iter=200, batch_size=None,
                 early_stopping=False, validation_fraction=0.1, patience=10, min_delta=0.0,
                 augment=None, random_state=None, engine="auto", warm_start=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.l2 = l2
        self.l1 = l1
        self.keep_prob = keep_prob
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.min_delta = min_delta
        self.augment = augment
        self.random_state = random_state
        self.engine = engine
        self.warm_start = warm_start

    # -- configuration ---------------------------------------------------------------------

    def _layers(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not sizes or not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
                                for s in sizes):
            raise InputError(f"hidden_layer_sizes must be positive integers, one per hidden layer, "
                             f"got {describe(self.hidden_layer_sizes)}")
        return tuple(int(s) for s in sizes)

    def _seed(self) -> int:
        if isinstance(self.random_state, Integral):
            if not 0 <= self.random_state < 2**32:
                raise InputError(f"random_state must be in [0, 2**32), got {self.random_state}")
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _config(self, seed: int, epochs: int, early: bool) -> TrainConfig:
        keep = self.keep_prob
        keep = float(keep) if isinstance(keep, Real) else tuple(float(k) for k in keep)
        layers = self._layers()
        if self.batch_size is None:
            schedule = {"iterations": epochs}
            record = {"record_every": 1 if early else epochs}
        else:
            schedule = {"epochs": epochs, "batch_size": int(self.batch_size)}
            record = {"record_per_epoch": True}
        stopping = ({"early_stopping": int(self.patience), "monitor": "dev_accuracy",
                     "min_delta": float(self.min_delta)} if early else {})
        options = dict(layers=layers, hidden=self.activation, init=self.init, l2=float(self.l2),
                       l1=float(self.l1), keep_prob=keep, learning_rate=float(self.learning_rate),
                       seed=seed, augment=self.augment, **schedule, **record, **stopping)
        return TrainConfig(**options, engine=self.engine)

    # -- fitting ---------------------------------------------------------------------------

    def _encode(self, y):
        """Labels as ``0..K-1`` indices into ``classes_``."""
        return np.searchsorted(self.classes_, y)

    @_fit_context(prefer_skip_nested_validation=True)
    @_one_thread_in_workers
    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,) of any type.

        With ``warm_start`` and a previous fit, training continues from its weights.
        """
        warm = self.warm_start and hasattr(self, "network_")
        X, y = validate_data(self, X, y, reset=not warm, dtype=np.float64)
        check_classification_targets(y)
        classes = np.unique(y)
        if warm and not np.array_equal(classes, self.classes_):
            raise InputError(f"y must hold the classes of the previous fit {self.classes_.tolist()} "
                             f"(warm_start), got {classes.tolist()}")
        if len(classes) < 2:
            raise InputError(f"y must hold at least 2 classes, got 1 class: {classes[0]!r}")
        self.classes_ = classes
        return self._fit(X, self._encode(y), self.max_iter, early=self.early_stopping,
                         initial=self.network_ if warm else None)

    @_one_thread_in_workers
    def partial_fit(self, X, y, classes=None):
        """One more pass (epoch) over ``(X, y)``; ``classes`` is required on the first call."""
        first = not hasattr(self, "network_")
        if first:
            self._validate_params()
            if classes is None:
                raise InputError("classes must be given on the first call to partial_fit "
                                 "(every label the classifier will see), got None")
            classes = np.unique(np.asarray(classes))
            if len(classes) < 2:
                raise InputError(f"classes must hold at least 2 classes, got {len(classes)}")
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise InputError(f"classes must be those of the first call {self.classes_.tolist()}, "
                             f"got {np.unique(np.asarray(classes)).tolist()}")
        X, y = validate_data(self, X, y, reset=first, dtype=np.float64)
        check_classification_targets(y)
        known = self.classes_ if not first else classes
        unknown = np.setdiff1d(np.unique(y), known)
        if unknown.size:
            raise InputError(f"y must hold only the classes {known.tolist()}, got {unknown.tolist()}")
        if first:
            self.classes_ = known
        initial = None if first else self.network_
        if first:
            config = self._config(self._seed(), 1, early=False)
            output = "sigmoid" if len(known) == 2 else "softmax"
            initial = initial_network(config, X.shape[1], len(known), output)
        return self._fit(X, self._encode(y), 1, early=False, initial=initial, partial=True)

    def _fit(self, X, y, epochs: int, *, early: bool, initial: Network | None, partial: bool = False):
        seed = self._seed()
        if initial is not None and not partial:  # a warm start: fresh masks and order, same seed source
            seed = int(np.random.SeedSequence([seed, getattr(self, "t_", 0)]).generate_state(1)[0])
        elif partial and hasattr(self, "t_"):
            seed = int(np.random.SeedSequence([seed, self.t_]).generate_state(1)[0])
        config = self._config(seed, epochs, early)
        dev = {}
        if early:
            X, X_dev, y, y_dev = train_test_split(X, y, test_size=self.validation_fraction,
                                                  stratify=y, random_state=seed)
            dev = {"X_dev": X_dev, "y_dev": y_dev}
        result = train(X, y, config, initial=initial, **dev)
        history = result.history
        self.network_ = result.network
        self.coefs_ = [W.copy() for W in result.network.weights]
        self.intercepts_ = [b.copy() for b in result.network.biases]
        per_epoch = self._epoch_losses(history.costs, len(X))
        self.loss_curve_ = (list(getattr(self, "loss_curve_", [])) if initial is not None else []) + per_epoch
        self.n_iter_ = len(per_epoch)
        self.t_ = getattr(self, "t_", 0) * (initial is not None) + history.stopped_at
        if early:
            self.validation_scores_ = list(history.dev_accuracy[1:])  # after each epoch
            self.best_validation_score_ = max(self.validation_scores_) if self.validation_scores_ else None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self.history_ = history
        if not partial and history.stop_reason == "completed":
            warnings.warn(f"{type(self).__name__} reached max_iter={epochs} epochs without early "
                          f"stopping; the training cost was still {per_epoch[-1]:.4g}. Raise max_iter, "
                          "or set early_stopping=True.", ConvergenceWarning)
        return self

    def _epoch_losses(self, costs: np.ndarray, m: int) -> list[float]:
        if self.batch_size is None:
            return [float(c) for c in costs]
        per_epoch = -(-m // min(int(self.batch_size), m))
        n = len(costs) // per_epoch * per_epoch
        return [float(c) for c in costs[:n].reshape(-1, per_epoch).mean(axis=1)]

    # -- prediction ------------------------------------------------------------------------

    @_one_thread_in_workers
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.network_.predict_proba(X)

    @_one_thread_in_workers
    def predict(self, X) -> np.ndarray:
        """Predicted labels, of the type of the training labels."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.classes_[self.network_.predict(X)]

    def predict_log_proba(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    # -- reglab's model file ---------------------------------------------------------------

    def save(self, path):
        """Write the fitted classifier to reglab's pickle-free model file (``.npz``).

        The classes and parameters go in the metadata, so :meth:`load` restores a
        classifier that predicts the same labels. Classes must be numbers, strings
        or booleans.
        """
        check_is_fitted(self)
        classes = self.classes_.tolist()
        if not all(isinstance(c, (bool, int, float, str)) for c in classes):
            raise InputError(f"save needs classes that are numbers, strings or booleans, got "
                             f"{sorted({type(c).__name__ for c in classes})}")
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None  # a RandomState object is not data
        extra = {"estimator": type(self).__name__, "params": params,
                 "classes": classes, "classes_dtype": self.classes_.dtype.str,
                 "feature_names_in": getattr(self, "feature_names_in_", np.array([])).tolist(),
                 "n_iter": self.n_iter_, "t": self.t_, "loss_curve": self.loss_curve_}
        json.dumps(extra)  # fail here, not half-way through writing
        return save_network(path, self.network_, extra=extra)

    @classmethod
    def load(cls, path) -> "RegularizedMLPClassifier":
        """Read a classifier written by :meth:`save`."""
        network, metadata = load_network(path)
        extra = metadata.get("extra") or {}
        if extra.get("estimator") != cls.__name__:
            raise InputError(f"{path} holds a reglab network, not a saved {cls.__name__} "
                             "(it was not written by RegularizedMLPClassifier.save)")
        params = dict(extra["params"])
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        model = cls(**params)
        model.classes_ = np.asarray(extra["classes"], dtype=np.dtype(extra["classes_dtype"]))
        if len(model.classes_) != network.n_classes:
            raise InputError(f"{path}: the metadata lists {len(model.classes_)} classes but the "
                             f"network has {network.n_classes}")
        model.network_ = network
        model.coefs_ = [W.copy() for W in network.weights]
        model.intercepts_ = [b.copy() for b in network.biases]
        model.n_features_in_ = network.layer_sizes[0]
        if extra.get("feature_names_in"):
            model.feature_names_in_ = np.asarray(extra["feature_names_in"], dtype=object)
        model.n_iter_, model.t_ = extra["n_iter"], extra["t"]
        model.loss_curve_ = extra["loss_curve"]
        model.validation_scores_ = model.best_validation_score_ = None
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
