"""Gradient-descent training: full batch (the course) or mini-batch.

:func:`train` is the reference engine. It records the cost of every step
(computed on the step's forward pass, before its update, as the course does),
and every ``record_every`` steps the train (and dev) cost and accuracy without
dropout and the Frobenius norm of every weight matrix.
"""

from __future__ import annotations

import importlib.util
import math
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from .._validation import (InputError, TrainingError, check_binary_labels, check_choice,
                          check_float, check_int, check_labels, check_sizes, check_X)
from ..nn.activations import get_activation
from ..nn.dropout import check_keep_probs, make_sampler
from .early_stopping import EarlyStopping
from .health import DeadNetworkWarning, check_health
from ..nn.initializers import get_initializer, initialize
from ..nn.network import Network, backward, cost, forward
from ..nn.outputs import OUTPUTS, get_output
from ..nn.regularizers import L1, L2
from .resources import check_memory, estimate_bytes

COURSE_INIT_SEED = 3
ENGINES = ("auto", "reference", "fast")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; validated on construction.

    Parameters
    ----------
    layers : tuple of int
        Hidden layer widths, e.g. ``(20, 3)`` for the course's ``[2, 20, 3, 1]``.
    hidden : str or tuple of str
        Hidden activation(s): ``relu``, ``leaky_relu``, ``tanh``, ``sigmoid``.
    output : {"sigmoid", "softmax"} or None
        None: sigmoid when the labels are 0/1, softmax when there are more classes.
    init : str
        ``zeros``, ``random`` (``randn * init_scale``), ``he``, ``xavier``, ``course``.
    learning_rate, iterations : gradient-descent step size and full-batch steps.
    epochs, batch_size : mini-batch training (both or neither); replaces ``iterations``.
    l2, l1 : penalty strengths (``lambd``), usable together.
    keep_prob : float or tuple, one per hidden layer; 1 disables dropout.
    seed : int, seeds the run's ``numpy.random.Generator``.
    course_compat : bool
        Reproduce the course's randomness: weights from ``RandomState(3)``, dropout
        masks from ``RandomState(1)`` re-seeded every forward pass. ``seed`` then
        only drives mini-batch shuffling.
    record_every : int, steps between evaluations (norms, accuracies, early stopping).
    record_per_epoch : bool, evaluate at the end of every epoch instead.
    dtype : ``"float64"`` (default, exact) or ``"float32"`` (every array and
        product in float32; the costs are reported as Python floats).
    engine : {"auto", "reference", "fast"}
        Which engine steps the network: ``"reference"`` is this module's loop (the
        specification), ``"fast"`` the compiled engine of
        :mod:`reglab.training.fast` (same random streams, same history; costs
        agree to a relative 1e-9), ``"auto"`` the fast one when numba is
        installed. ``history.engine`` says which one ran.
    early_stopping : int or None
        Patience: stop after this many evaluations without improvement of
        ``monitor`` (``dev_cost`` or ``dev_accuracy``; direction fixed by the
        name) by more than ``min_delta``, ignoring evaluations before step
        ``start_from``; with ``restore_best`` the network ends with the weights of
        the best evaluation. See :mod:`reglab.training.early_stopping`.
    augment : str or None
        Data augmentation of the training batches, e.g. ``"jitter:0.05"`` or
        ``"shift:1,rotate:10"`` (see :mod:`reglab.training.augment`); ``augment_mode``
        ``"online"`` (fresh transforms every step) or ``"offline"`` (the
        training set expanded ``augment_factor`` times once); ``allow_flips``
        permits flips a data set does not declare.
    """

    layers: tuple = (20, 3)
    hidden: str | tuple = "relu"
    output: str | None = None
    init: str = "he"
    init_scale: float = 10.0
    learning_rate: float = 0.3
    iterations: int = 10000
    epochs: int | None = None
    batch_size: int | None = None
    l2: float = 0.0
    l1: float = 0.0
    keep_prob: float | tuple = 1.0
    seed: int = 0
    course_compat: bool = False
    record_every: int = 100
    record_per_epoch: bool = False
    dtype: str = "float64"
    early_stopping: int | None = None
    min_delta: float = 0.0
    monitor: str = "dev_cost"
    start_from: int = 0
    restore_best: bool = True
    augment: str | None = None
    augment_mode: str = "online"
    augment_factor: int = 2
    allow_flips: bool = False
    engine: str = "auto"

    def __post_init__(self):
        put = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        put("layers", check_sizes(self.layers, "layers"))
        hidden = (self.hidden,) * len(self.layers) if isinstance(self.hidden, str) else tuple(self.hidden)
        if len(hidden) != len(self.layers):
            raise InputError(f"hidden must name one activation or one per hidden layer "
                             f"({len(self.layers)}), got {len(hidden)}")
        for h in hidden:
            get_activation(h)
        put("hidden", hidden if len(set(hidden)) > 1 else (hidden[0] if hidden else "relu"))
        if self.output is not None:
            check_choice(self.output, "output", OUTPUTS)
        get_initializer(self.init)
        put("init_scale", check_float(self.init_scale, "init_scale", low=0, low_open=True))
        put("learning_rate", check_float(self.learning_rate, "learning_rate", low=0, low_open=True))
        put("iterations", check_int(self.iterations, "iterations", low=1))
        if (self.epochs is None) != (self.batch_size is None):
            raise InputError("epochs and batch_size go together (mini-batch training), "
                             f"got epochs={self.epochs!r}, batch_size={self.batch_size!r}")
        if self.epochs is not None:
            put("epochs", check_int(self.epochs, "epochs", low=1))
            put("batch_size", check_int(self.batch_size, "batch_size", low=1))
        put("l2", check_float(self.l2, "l2", low=0))
        put("l1", check_float(self.l1, "l1", low=0))
        keep = check_keep_probs(self.keep_prob, len(self.layers))
        put("keep_prob", keep if len(set(keep)) > 1 else (keep[0] if keep else 1.0))
        put("seed", check_int(self.seed, "seed", low=0))
        if not isinstance(self.course_compat, bool):
            raise TypeError(f"course_compat must be True or False, got {self.course_compat!r}")
        put("record_every", check_int(self.record_every, "record_every", low=1))
        if not isinstance(self.record_per_epoch, bool):
            raise TypeError(f"record_per_epoch must be True or False, got {self.record_per_epoch!r}")
        check_choice(self.dtype, "dtype", ("float64", "float32"))
        if self.early_stopping is not None:
            EarlyStopping(**self.early_stopping_options())  # validates patience, monitor...
        if self.augment is not None:
            from .augment import parse_augment  # scipy.ndimage only when augmenting
            parse_augment(self.augment)
        check_choice(self.augment_mode, "augment_mode", ("online", "offline"))
        put("augment_factor", check_int(self.augment_factor, "augment_factor", low=2))
        check_choice(self.engine, "engine", ENGINES)

    def early_stopping_options(self) -> dict:
        return {"monitor": self.monitor, "patience": self.early_stopping,
                "min_delta": self.min_delta, "start_from": self.start_from,
                "restore_best": self.restore_best}

    @property
    def hidden_activations(self) -> tuple[str, ...]:
        h = self.hidden
        return (h,) * len(self.layers) if isinstance(h, str) else h

    @property
    def keep_probs(self) -> tuple[float, ...]:
        return check_keep_probs(self.keep_prob, len(self.layers))

    def regularizers(self) -> list:
        return [r for r in (L2(self.l2), L1(self.l1)) if r.lambd > 0]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["layers"] = list(self.layers)
        for k in ("hidden", "keep_prob"):
            if isinstance(d[k], tuple):
                d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        for k in ("layers", "hidden", "keep_prob"):
            if isinstance(d.get(k), list):
                d[k] = tuple(d[k])
        return cls(**d)


@dataclass
class History:
    """What happened during training.

    ``costs[t]`` is the cost of step ``t`` (on its mini-batch, with dropout and
    penalties, before its update). The ``eval_*`` lists are taken every
    ``record_every`` steps, at step 0 and at the end, without dropout.
    """

    costs: np.ndarray
    eval_steps: list = field(default_factory=list)
    train_cost: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)  # the data term alone, comparable to dev_cost
    train_accuracy: list = field(default_factory=list)
    dev_cost: list = field(default_factory=list)
    dev_accuracy: list = field(default_factory=list)
    weight_norms: list = field(default_factory=list)
    stopped_at: int = 0
    stop_reason: str = "completed"
    best_step: int | None = None
    #: Plain-words warnings about the trained network (see :mod:`reglab.training.health`).
    warnings: list = field(default_factory=list)
    engine: str = "reference"

    def costs_every(self, every: int) -> dict[int, float]:
        """``{step: cost}`` for steps ``0, every, 2*every, ...`` that ran."""
        return {t: float(self.costs[t]) for t in range(0, self.stopped_at, every)}


@dataclass
class TrainResult:
    """A trained :class:`Network` with its history, configuration and time."""

    network: Network
    history: History
    config: TrainConfig
    seconds: float


def _resolve_output(config: TrainConfig, y: np.ndarray, y_dev) -> tuple[str, int]:
    if np.all(y == y[0]):
        raise InputError(f"y must hold at least two classes, got only class {y[0]}")
    n_classes = int(max(y.max(), 1 if y_dev is None else y_dev.max())) + 1
    output = config.output or ("sigmoid" if n_classes == 2 else "softmax")
    if output == "sigmoid":
        check_binary_labels(y)
        if y_dev is not None:
            check_binary_labels(y_dev, "y_dev")
    return output, n_classes


def _nonfinite_where(weights, biases, cache=()) -> str | None:
    """Name the first parameter, or else the first layer output, that is not finite."""
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        for name, arr in ((f"W{l}", W), (f"b{l}", b)):
            if not np.isfinite(arr).all():
                return name
    for l, (_, Z, _) in enumerate(cache, start=1):
        if not np.isfinite(Z).all():
            return f"Z{l} (the pre-activations of layer {l}, which overflowed)"
    return None


def initial_network(config: TrainConfig, n_features: int, n_classes: int, output: str) -> Network:
    """The network :func:`train` starts from: weights drawn from the run's seed.

    Parameters
    ----------
    config : TrainConfig (``seed``, ``init``, ``init_scale``, ``course_compat``, ``dtype``)
    n_features, n_classes : input width and number of classes
    output : ``"sigmoid"`` or ``"softmax"``
    """
    sizes = (n_features, *config.layers, get_output(output).n_units(n_classes))
    init_rng = np.random.default_rng(config.seed).spawn(4)[0]  # the first of train's streams
    source = np.random.RandomState(COURSE_INIT_SEED) if config.course_compat else init_rng
    init = config.init if config.init != "random" else get_initializer("random").__class__(config.init_scale)
    weights, biases = initialize(sizes, init, source)
    dtype = np.dtype(config.dtype)
    return Network([W.astype(dtype) for W in weights], [b.astype(dtype) for b in biases],
                   config.hidden_activations, output)


def _check_initial(initial, config: TrainConfig, n_features: int, y, y_dev) -> tuple[str, int]:
    if not isinstance(initial, Network):
        raise TypeError(f"initial must be a reglab Network, got {type(initial).__name__}")
    expected = (n_features, *config.layers)
    if initial.layer_sizes[:-1] != expected or initial.hidden != config.hidden_activations:
        raise InputError(f"initial must have layer sizes {list(expected)} + [output] and hidden "
                         f"activations {list(config.hidden_activations)} (from X and config), got "
                         f"{list(initial.layer_sizes)} and {list(initial.hidden)}")
    n_classes = initial.n_classes
    for name, labels in (("y", y), ("y_dev", y_dev)):
        if labels is not None and labels.size and labels.max() >= n_classes:
            raise InputError(f"{name} must hold labels below {n_classes} (the classes of initial), "
                             f"got label {labels.max()}")
    return initial.output, n_classes


def record_evaluation(history: History, weights, biases, X, y, X_dev, y_dev, acts, output, regs) -> None:
    """Append one evaluation to ``history``: train cost (with penalties), loss and accuracy,
    dev cost and accuracy when there is a dev set, and the norm of every ``W[l]``; no dropout."""
    logits = forward(weights, biases, X, acts)[0]
    history.train_cost.append(cost(logits, y, output, weights, regs))
    history.train_loss.append(output.loss(logits, y))
    history.train_accuracy.append(float(np.mean(output.predict(logits) == y)))
    if X_dev is not None:
        dev_logits = forward(weights, biases, X_dev, acts)[0]
        history.dev_cost.append(output.loss(dev_logits, y_dev))
        history.dev_accuracy.append(float(np.mean(output.predict(dev_logits) == y_dev)))
    history.weight_norms.append([float(np.linalg.norm(W)) for W in weights])


def descend(weights, biases, Xb, yb, acts, output, regs, lr: float, masks, keep) -> tuple[float, list]:
    """One gradient-descent step on the batch ``(Xb, yb)``, in place.

    Returns the step's cost (before its update) and the forward cache; when the cost
    is not finite nothing is updated, so the caller can say where it overflowed.
    """
    logits, cache = forward(weights, biases, Xb, acts, masks, keep)
    c = cost(logits, yb, output, weights, regs)
    if not math.isfinite(c):
        return c, cache
    # astype: integer labels would otherwise lift float32 gradients to float64
    dlogits = output.dlogits(logits, yb).astype(weights[0].dtype, copy=False)
    dW, db = backward(weights, cache, dlogits, acts, masks, keep, regs)
    for l in range(len(weights)):
        weights[l] -= lr * dW[l]
        biases[l] -= lr * db[l]
    return c, cache


def resolve_engine(engine: str) -> str:
    """The engine that runs for ``engine`` (``"auto"``: fast when numba is installed).

    Every configuration :class:`TrainConfig` accepts is supported by both
    engines, so ``"auto"`` depends only on numba being importable.
    """
    check_choice(engine, "engine", ENGINES)
    if engine == "reference":
        return engine
    available = importlib.util.find_spec("numba") is not None
    if engine == "fast" and not available:
        raise InputError("engine='fast' needs numba (pip install numba), which is not installed; "
                         "use engine='reference' or 'auto'")
    return "fast" if available else "reference"


def train(X, y, config: TrainConfig | None = None, *, X_dev=None, y_dev=None,
          callback=None, image_shape=None, symmetries=(), dataset_name=None,
          initial: Network | None = None) -> TrainResult:
    """Train a network by gradient descent.

    Parameters
    ----------
    X : array ``(m, n_features)``; y : array ``(m,)`` of labels ``0..K-1``
    config : TrainConfig, default ``TrainConfig()``
    X_dev, y_dev : optional dev set, evaluated every ``record_every`` steps
        (required by early stopping on a dev metric); never augmented.
    callback : callable ``(step, history) -> bool | None``, optional
        Called after every evaluation; returning True stops training.
    image_shape, symmetries, dataset_name : what augmentation may use: the
        ``(height, width)`` of image rows, the label-preserving symmetries of a
        2-D point set, and the data set's name for messages (see ``Dataset``).
    initial : Network, optional
        Start from (a copy of) these parameters instead of drawing them: warm
        starts and one more pass over the data. Its hidden sizes and activations
        must be the config's; its output fixes the number of classes.

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingError
        When the parameters become non-finite; names the tensor and the step and
        carries the history so far as ``error.history``.

    Notes
    -----
    Ctrl-C stops training cleanly: the result so far is returned with
    ``history.stop_reason == "interrupted"``.
    """
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    dtype = np.dtype(config.dtype)
    X = check_X(X).astype(dtype, copy=False)
    y = check_labels(y, n_samples=len(X))
    if (X_dev is None) != (y_dev is None):
        raise InputError("X_dev and y_dev go together, got only one of them")
    if X_dev is not None:
        X_dev = check_X(X_dev, "X_dev", n_features=X.shape[1]).astype(dtype, copy=False)
        y_dev = check_labels(y_dev, "y_dev", n_samples=len(X_dev))
    stopper = None
    if config.early_stopping is not None:
        stopper = EarlyStopping(**config.early_stopping_options())
        if config.monitor.startswith("dev_") and X_dev is None:
            raise InputError(f"early stopping on {config.monitor} needs a dev set (X_dev, y_dev)")
    if initial is None:
        output_name, n_classes = _resolve_output(config, y, y_dev)
    else:
        output_name, n_classes = _check_initial(initial, config, X.shape[1], y, y_dev)
    output = get_output(output_name)
    acts = [get_activation(h) for h in config.hidden_activations]
    sizes = (X.shape[1], *config.layers, output.n_units(n_classes))
    check_memory(estimate_bytes(config, len(X), X.shape[1], sizes[-1], 0 if X_dev is None else len(X_dev)))
    if initial is None:
        network = initial_network(config, X.shape[1], n_classes, output_name)
    else:
        network = Network([W.astype(dtype) for W in initial.weights],  # copies
                          [b.astype(dtype) for b in initial.biases], config.hidden_activations, output_name)
    weights, biases = network.weights, network.biases
    _, mask_rng, shuffle_rng, augment_rng = np.random.default_rng(config.seed).spawn(4)
    keep = config.keep_probs
    sampler = make_sampler(keep, course_compat=config.course_compat, rng=mask_rng)
    regs = config.regularizers()
    lr = config.learning_rate
    widths = config.layers
    engine = resolve_engine(config.engine)

    augmenter = None
    X_fit, y_fit = X, y
    if config.augment is not None:
        from .augment import make_augmenter
        augmenter = make_augmenter(config.augment, mode=config.augment_mode, factor=config.augment_factor,
                                   image_shape=image_shape, symmetries=symmetries,
                                   dataset_name=dataset_name, allow_flips=config.allow_flips)
        if config.augment_mode == "offline":
            X_fit, y_fit = augmenter.expand(X, y, augment_rng)
            X_fit = X_fit.astype(dtype, copy=False)
            augmenter = None
    m = len(X_fit)
    if config.batch_size is None:
        n_batches, n_epochs = 1, config.iterations
    else:
        n_batches, n_epochs = math.ceil(m / min(config.batch_size, m)), config.epochs
    n_steps = n_batches * n_epochs
    record_every = n_batches if config.record_per_epoch else config.record_every
    history = History(costs=np.empty(n_steps), engine=engine)
    best = None

    def evaluate(step: int) -> str | None:
        """Record the metrics of ``step``; return why training must stop, if it must."""
        nonlocal best
        history.eval_steps.append(step)
        record_evaluation(history, weights, biases, X, y, X_dev, y_dev, acts, output, regs)
        asked_to_stop = callback is not None and callback(step, history)
        if stopper is not None:
            stop = stopper.update(step, getattr(history, config.monitor)[-1])
            if stopper.improved:
                history.best_step = step
                if config.restore_best:
                    best = ([W.copy() for W in weights], [b.copy() for b in biases])
            if stop:
                return "early stopping: " + stopper.reason()
        return "callback" if asked_to_stop else None

    def fail(step: int, what: str):
        history.stopped_at, history.stop_reason = step, "non-finite"
        history.costs = history.costs[:step + 1]  # the rest was never computed
        error = TrainingError(
            f"training diverged at step {step}: {what} contains NaN or inf "
            f"(learning_rate={lr:g}; try a smaller learning rate or another init)")
        error.history = history
        raise error

    if engine == "fast":
        from .fast import prepare  # numba is imported only here
        prepare(dtype)  # load or compile before the clock starts
    start = time.perf_counter()
    step = 0
    # Overflow is detected and reported (fail), not left to NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        reason = evaluate(0)
        try:
            if engine == "fast" and reason is None:
                from .fast import run_fast
                step, reason = run_fast(
                    weights, biases, X_fit, y_fit, config, acts=config.hidden_activations,
                    output=output_name, keep=keep, sampler=sampler, n_batches=n_batches,
                    n_steps=n_steps, record_every=record_every, shuffle_rng=shuffle_rng,
                    augmenter=augmenter, augment_rng=augment_rng, history=history,
                    evaluate=evaluate, fail=fail)
            for _ in range(n_epochs if reason is None and engine == "reference" else 0):
                order = shuffle_rng.permutation(m) if n_batches > 1 else None
                for k in range(n_batches):
                    if order is None:
                        Xb, yb = X_fit, y_fit
                    else:
                        idx = order[k * config.batch_size:(k + 1) * config.batch_size]
                        Xb, yb = X_fit[idx], y_fit[idx]
                    if augmenter is not None:
                        Xb, yb = augmenter.transform(Xb, yb, augment_rng)
                    masks = sampler(len(Xb), widths) if sampler is not None else None
                    c, cache = descend(weights, biases, Xb, yb, acts, output, regs, lr, masks, keep)
                    history.costs[step] = c
                    if not math.isfinite(c):
                        fail(step, _nonfinite_where(weights, biases, cache) or "the cost")
                    step += 1
                    if step % record_every == 0 or step == n_steps:
                        where = _nonfinite_where(weights, biases)
                        if where is not None:
                            fail(step, where)
                        reason = evaluate(step)
                        if reason is not None:
                            break
                if reason is not None:
                    break
        except KeyboardInterrupt:
            reason = "interrupted"
    history.stopped_at = step
    history.stop_reason = reason or "completed"
    if best is not None:
        for l in range(len(weights)):  # in place: the network holds these arrays
            weights[l][...] = best[0][l]
            biases[l][...] = best[1][l]
    history.costs = history.costs[:step]
    seconds = time.perf_counter() - start
    # the weights the network ends with, on the whole training set, without dropout
    with np.errstate(over="ignore", invalid="ignore"):
        final, cache = forward(weights, biases, X, acts)
        final_cost = cost(final, y, output, weights, regs)
    history.warnings = check_health([h for _, _, h in cache[:-1]], history.train_cost[0], final_cost,
                                    learning_rate=lr, init=config.init)
    for message in history.warnings:
        warnings.warn(DeadNetworkWarning(message), stacklevel=2)
    return TrainResult(network, history, config, seconds)
