"""A step-wise trainer: :func:`reglab.train`, advanced a few steps at a time.

The playground trains while the page watches, pauses, changes the learning
rate or a penalty and goes on. :class:`SteppedTrainer` holds what
:func:`reglab.training.loop.train` keeps in its local variables (the weights,
the four random streams, the mini-batch order, the early-stopping state) and
composes the same public pieces in the same order, so that ``n`` steps here
give the weights that ``train`` gives for ``iterations=n`` (or whole epochs)
with the same configuration and seed: ``tests/test_playground_trainer.py``
holds it to that, bit for bit.

The streams are drawn exactly as the loop draws them:
``np.random.default_rng(seed).spawn(4)`` gives the initial weights, the
dropout masks, the mini-batch shuffles and the augmentation, in that order.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np

from .._validation import InputError, TrainingError, check_labels, check_X
from ..nn.activations import get_activation
from ..nn.dropout import make_sampler
from ..nn.network import Network
from ..nn.outputs import get_output
from ..training.early_stopping import EarlyStopping
# The loop's own helpers, so that labels, outputs and divergence are judged as train() judges them.
from ..training.loop import (History, TrainConfig, _nonfinite_where, _resolve_output, descend, initial_network,
                             record_evaluation)

#: What may change between two steps without starting again.
LIVE = ("learning_rate", "l2", "l1", "keep_prob")


class SteppedTrainer:
    """Gradient descent that advances on demand.

    Parameters
    ----------
    X, y : training data, ``(m, n_features)`` and ``(m,)``
    config : TrainConfig
        ``iterations`` and ``epochs`` are ignored: the trainer runs as long as it
        is asked to (``epochs`` must still accompany ``batch_size``).
    X_dev, y_dev : optional dev set (early stopping on a dev metric needs it)
    image_shape, symmetries, dataset_name : as for :func:`reglab.train` (augmentation)

    Attributes
    ----------
    step : int, steps taken since the start (or the last :meth:`reset`)
    history : :class:`reglab.training.loop.History`, as ``train`` records it
    stop_reason : None while training may go on; ``"early stopping: ..."`` or the
        divergence message once it may not
    """

    def __init__(self, X, y, config: TrainConfig, *, X_dev=None, y_dev=None, image_shape=None,
                 symmetries=(), dataset_name=None):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        dtype = np.dtype(config.dtype)
        self.X = check_X(X).astype(dtype, copy=False)
        self.y = check_labels(y, n_samples=len(self.X))
        if (X_dev is None) != (y_dev is None):
            raise InputError("X_dev and y_dev go together, got only one of them")
        if X_dev is not None:
            X_dev = check_X(X_dev, "X_dev", n_features=self.X.shape[1]).astype(dtype, copy=False)
            y_dev = check_labels(y_dev, "y_dev", n_samples=len(X_dev))
        if (config.early_stopping is not None and config.monitor.startswith("dev_")
                and X_dev is None):
            raise InputError(f"early stopping on {config.monitor} needs a dev set (X_dev, y_dev)")
        self.X_dev, self.y_dev = X_dev, y_dev
        self.config = config
        self.output_name, self.n_classes = _resolve_output(config, self.y, y_dev)
        self.output = get_output(self.output_name)
        self.acts = [get_activation(h) for h in config.hidden_activations]
        self.sizes = (self.X.shape[1], *config.layers, self.output.n_units(self.n_classes))
        self._augment_args = dict(image_shape=image_shape, symmetries=symmetries,
                                  dataset_name=dataset_name, allow_flips=config.allow_flips)
        self.reset()

    # -- the loop's state, drawn as train() draws it --------------------------------------
    def reset(self) -> None:
        """Start again from the same initial weights and the same random streams."""
        config, dtype = self.config, np.dtype(self.config.dtype)
        _, self.mask_rng, self.shuffle_rng, self.augment_rng = np.random.default_rng(config.seed).spawn(4)
        start = initial_network(config, self.sizes[0], self.n_classes, self.output_name)
        self.weights, self.biases = start.weights, start.biases
        self.augmenter = None
        self.X_fit, self.y_fit = self.X, self.y
        if config.augment is not None:
            from ..training.augment import make_augmenter
            self.augmenter = make_augmenter(config.augment, mode=config.augment_mode,
                                            factor=config.augment_factor, **self._augment_args)
            if config.augment_mode == "offline":
                X_fit, self.y_fit = self.augmenter.expand(self.X, self.y, self.augment_rng)
                self.X_fit = X_fit.astype(dtype, copy=False)
                self.augmenter = None
        m = len(self.X_fit)
        self.n_batches = 1 if config.batch_size is None else math.ceil(m / min(config.batch_size, m))
        self.record_every = self.n_batches if config.record_per_epoch else config.record_every
        self.stopper = (EarlyStopping(**config.early_stopping_options())
                        if config.early_stopping is not None else None)
        self.best = None
        self.step = 0
        self.batch = 0  # index of the next mini-batch in the current epoch
        self.order = None
        self.costs: list[float] = []
        self.history = History(costs=np.empty(0))
        self.stop_reason = None
        self._apply_live()
        self.stop_reason = self._evaluate(0)

    def _apply_live(self) -> None:
        self.keep = self.config.keep_probs
        self.sampler = make_sampler(self.keep, course_compat=self.config.course_compat,
                                    rng=self.mask_rng)
        self.regs = self.config.regularizers()

    def update(self, **changes) -> None:
        """Change ``learning_rate``, ``l2``, ``l1`` or ``keep_prob`` from the next step on.

        Anything else (architecture, seed, data, batch size...) defines a new run:
        build a new trainer. The masks keep coming from the same stream.
        """
        unknown = sorted(set(changes) - set(LIVE))
        if unknown:
            raise InputError(f"only {', '.join(LIVE)} can change while training, got {', '.join(unknown)}")
        self.config = dataclasses.replace(self.config, **changes)  # validates
        self._apply_live()

    # -- one step, as in train() ------------------------------------------------------------
    def _evaluate(self, step: int) -> str | None:
        h = self.history
        h.eval_steps.append(step)
        record_evaluation(h, self.weights, self.biases, self.X, self.y, self.X_dev, self.y_dev,
                          self.acts, self.output, self.regs)
        if self.stopper is None:
            return None
        stop = self.stopper.update(step, getattr(h, self.config.monitor)[-1])
        if self.stopper.improved:
            h.best_step = step
            if self.config.restore_best:
                self.best = ([W.copy() for W in self.weights], [b.copy() for b in self.biases])
        return "early stopping: " + self.stopper.reason() if stop else None

    def _fail(self, what: str):
        self.stop_reason = (f"training diverged at step {self.step}: {what} contains NaN or inf "
                            f"(learning_rate={self.config.learning_rate:g}; try a smaller learning "
                            f"rate or another init)")
        raise TrainingError(self.stop_reason)

    def advance(self, n: int = 1) -> int:
        """Take up to ``n`` steps; returns how many were taken (fewer once stopped).

        Raises
        ------
        TrainingError
            When the cost or the parameters become non-finite (``stop_reason`` says where).
        """
        taken = 0
        config = self.config
        with np.errstate(over="ignore", invalid="ignore"):
            while taken < n and self.stop_reason is None:
                if self.batch == 0:
                    self.order = self.shuffle_rng.permutation(len(self.X_fit)) if self.n_batches > 1 else None
                if self.order is None:
                    Xb, yb = self.X_fit, self.y_fit
                else:
                    idx = self.order[self.batch * config.batch_size:(self.batch + 1) * config.batch_size]
                    Xb, yb = self.X_fit[idx], self.y_fit[idx]
                if self.augmenter is not None:
                    Xb, yb = self.augmenter.transform(Xb, yb, self.augment_rng)
                masks = self.sampler(len(Xb), config.layers) if self.sampler is not None else None
                c, cache = descend(self.weights, self.biases, Xb, yb, self.acts, self.output, self.regs,
                                   config.learning_rate, masks, self.keep)
                if not math.isfinite(c):
                    self._fail(_nonfinite_where(self.weights, self.biases, cache) or "the cost")
                self.costs.append(c)
                self.step += 1
                taken += 1
                self.batch = (self.batch + 1) % self.n_batches
                if self.step % self.record_every == 0:
                    where = _nonfinite_where(self.weights, self.biases)
                    if where is not None:
                        self._fail(where)
                    self.stop_reason = self._evaluate(self.step)
        if self.stop_reason is not None and self.stop_reason.startswith("early") and self.best is not None:
            for l in range(len(self.weights)):
                self.weights[l][...] = self.best[0][l]
                self.biases[l][...] = self.best[1][l]
            self.best = None
        return taken

    # -- what the page and the exports read --------------------------------------------------
    def network(self) -> Network:
        """The current weights (a copy), as a :class:`Network`."""
        return Network([W.copy() for W in self.weights], [b.copy() for b in self.biases],
                       self.config.hidden_activations, self.output_name)

    def result_network(self) -> Network:
        """What ``train`` returns after ``self.step`` steps: like :meth:`network`, plus its
        last evaluation at the final step and, with early stopping, the best weights restored.
        The trainer itself is left as it was."""
        net = self.network()
        if self.stopper is None or self.stop_reason is not None or not self.step:
            return net
        state = copy.deepcopy((self.stopper, self.best, self.history))
        if self.history.eval_steps[-1] != self.step:
            self._evaluate(self.step)
        if self.best is not None:
            net.weights, net.biases = [W.copy() for W in self.best[0]], [b.copy() for b in self.best[1]]
        self.stopper, self.best, self.history = state
        return net

    def epochs_done(self) -> float:
        """Steps as epochs (``step / n_batches``)."""
        return self.step / self.n_batches
