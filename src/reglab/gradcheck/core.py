"""Gradient checking by centred differences: *where* is backprop wrong?

For every checked coordinate ``theta_i`` of every parameter tensor::

    numeric_i = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
    difference = ||g - numeric||_2 / (||g||_2 + ||numeric||_2)

overall (the course's number), per layer and per tensor (``W1``, ``b1``, ...),
with the entries that contribute most to the numerator. Bands: ``pass`` below
``1e-7``, ``warn`` up to ``1e-5``, ``fail`` above. ``J`` is the cost training
minimises: mean cross-entropy from logits plus the L2/L1 penalties, with
dropout masks drawn once and frozen for the analytic gradient and both sides of
every difference.

:mod:`reglab.gradcheck.course` reproduces the course's two checks in the course's
own layout and arithmetic; its published n-D differences are dominated by
float64 round-off, so only the same arithmetic reproduces them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from .._validation import InputError, check_binary_labels, check_float, check_int, check_labels, check_X, describe
from ..nn.dropout import FreshMasks, check_keep_probs
from ..nn.network import Network, backward, cost, forward
from ..nn.regularizers import L1, L2

PASS_BELOW = 1e-7
WARN_UP_TO = 1e-5
ROUNDOFF = 16  # measured errors stay below 1.5 * machine-eps * |J| / epsilon for reglab's cost

NOTE_WARN = ("warn band (1e-7 to 1e-5): float64 round-off in J(theta+eps) - J(theta-eps), about "
             "machine-eps * |J| / eps per coordinate, and kinks of ReLU at 0 (a perturbation that moves "
             "some Z across 0) can land here; a wrong backward pass usually gives 1e-3 or more. Round-off "
             "shrinks as eps grows: re-run with epsilon 1e-6 or 1e-5 to tell them apart.")
NOTE_L1 = ("L1: |w| has a kink at 0 where the gradient is undefined (reglab uses sign(0) = 0); a centred "
           "difference straddles it when |w| < epsilon, so those weights are unreliable and were skipped: {}.")


def band(difference: float) -> str:
    """``"pass"`` below 1e-7, ``"warn"`` up to 1e-5, ``"fail"`` above (and for NaN)."""
    if difference < PASS_BELOW:
        return "pass"
    return "warn" if difference <= WARN_UP_TO else "fail"


STATUS_RANK = {"skipped": 0, "pass": 1, "warn": 2, "fail": 3}


def worst_status(statuses) -> str:
    """The worst of ``statuses`` (``fail`` > ``warn`` > ``pass`` > ``skipped``); ``skipped`` if none."""
    return max(statuses, key=STATUS_RANK.__getitem__, default="skipped")


def relative_difference(g: np.ndarray, n: np.ndarray) -> float:
    """The course's ``||g - n|| / (||g|| + ||n||)``, defined as 0 when both are 0."""
    den = np.linalg.norm(g) + np.linalg.norm(n)
    return float(np.linalg.norm(g - n) / den) if den > 0 else 0.0


@dataclass(frozen=True)
class WorstEntry:
    """One checked coordinate: tensor name, index in it, both gradients, relative error."""

    name: str
    index: tuple
    analytic: float
    numeric: float
    relative_error: float

    def to_dict(self) -> dict:
        return {"parameter": self.name, "index": list(self.index), "analytic": self.analytic,
                "numeric": self.numeric, "relative_error": self.relative_error}


@dataclass(frozen=True)
class TensorCheck:
    """The check of one tensor.

    Attributes
    ----------
    name, layer, shape : ``"W2"``, 2, the tensor's shape
    difference, status : its own relative difference and band; a tensor with no entry
        checked (all skipped at the L1 kink) has difference NaN and status ``"skipped"``
    checked, total, skipped : entries checked, entries in the tensor, entries skipped (L1 kink)
    indices : int array, flat indices of the checked entries (sorted)
    analytic, numeric : float arrays, the two gradients at ``indices``
    """

    name: str
    layer: int
    shape: tuple
    difference: float
    checked: int
    total: int
    skipped: int
    status: str
    indices: np.ndarray = field(repr=False)
    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        difference = None if self.status == "skipped" else self.difference  # JSON has no NaN
        return {"difference": difference, "checked": self.checked, "total": self.total,
                "skipped": self.skipped, "status": self.status, "layer": self.layer}


@dataclass
class GradCheckReport:
    """Outcome of a gradient check.

    Attributes
    ----------
    difference : float, overall over every checked coordinate
    status : ``"pass"``, ``"warn"`` or ``"fail"``: the band of ``difference``, ``"fail"``
        whenever a tensor fails (``"skipped"`` only if no coordinate at all was checked)
    per_parameter : dict name -> :class:`TensorCheck`, in network order
    per_layer : dict layer -> (difference, status) over ``W[l]`` and ``b[l]`` together; the
        status is the band of that difference (downgraded to ``warn`` at the round-off floor,
        as for a tensor) but never better than the layer's worst tensor
    worst : list of :class:`WorstEntry`, largest ``|analytic - numeric|`` first
    skipped : dict name -> number of entries not checked because of a kink (L1)
    notes : list of str, what the numbers mean and what was frozen or skipped
    epsilon : float
    """

    difference: float
    status: str
    per_parameter: dict
    per_layer: dict
    worst: list
    skipped: dict
    notes: list
    epsilon: float

    @property
    def failing(self) -> list[str]:
        """Names of the tensors whose own difference is in the fail band."""
        return [t.name for t in self.per_parameter.values() if t.status == "fail"]

    @property
    def checked(self) -> int:
        return sum(t.checked for t in self.per_parameter.values())

    def to_dict(self) -> dict:
        """Plain JSON-ready data (no arrays)."""
        return {"difference": _json_float(self.difference), "status": self.status, "epsilon": self.epsilon,
                "checked": self.checked, "total": sum(t.total for t in self.per_parameter.values()),
                "per_parameter": {k: t.to_dict() for k, t in self.per_parameter.items()},
                "per_layer": {str(l): {"difference": _json_float(d), "status": s}
                              for l, (d, s) in self.per_layer.items()},
                "worst": [w.to_dict() for w in self.worst], "skipped": dict(self.skipped),
                "failing": self.failing, "notes": list(self.notes)}

    def format(self, width: int = 100) -> str:
        """The report as text tables (rich, no colour)."""
        from rich.console import Console
        from rich.table import Table

        out = io.StringIO()
        console = Console(file=out, width=width, color_system=None, highlight=False)
        console.print(f"gradient check: difference = {_text_float(self.difference, '.6e')}  ->  "
                      f"{self.status.upper()}  "
                      f"(epsilon {self.epsilon:g}, {self.checked} coordinate{'s' * (self.checked != 1)} checked)")
        table = Table("tensor", "layer", "checked", "total", "skipped", "difference", "status")
        for t in self.per_parameter.values():
            table.add_row(t.name, str(t.layer), str(t.checked), str(t.total), str(t.skipped),
                          _text_float(t.difference, ".3e"), t.status)
        for l, (d, s) in self.per_layer.items():
            table.add_row(f"layer {l}", str(l), "", "", "", _text_float(d, ".3e"), s, style="dim")
        console.print(table)
        if self.worst:
            table = Table("tensor", "index", "analytic", "numeric", "relative error",
                          title="largest |analytic - numeric|")
            for w in self.worst:
                table.add_row(w.name, str(w.index), f"{w.analytic:.10e}", f"{w.numeric:.10e}",
                              f"{w.relative_error:.3e}")
            console.print(table)
        for note in self.notes:
            console.print(f"- {note}")
        return out.getvalue().rstrip("\n")

    def __str__(self) -> str:
        return self.format()


def _json_float(x: float):
    return None if np.isnan(x) else x


def _text_float(x: float, spec: str) -> str:
    return "-" if np.isnan(x) else format(x, spec)


def _entry_errors(g, n):
    num, den = np.abs(g - n), np.abs(g) + np.abs(n)
    return num, np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _build_report(tensors, epsilon, n_worst, notes, cost_scale) -> GradCheckReport:
    """``tensors``: list of (name, layer, shape, total, skipped, flat indices, analytic, numeric).

    ``cost_scale`` is ``|J|`` at the checked point: below ``ROUNDOFF * |J| / epsilon`` an
    ``|analytic - numeric|`` cannot be told from round-off, so a tensor whose every
    error is that small (vanishing gradients) is at worst ``warn``, never ``fail``.
    """
    floor = ROUNDOFF * np.finfo(np.float64).eps * cost_scale / epsilon

    def judge(g, n, name):
        # The band of the relative difference, but a "fail" made only of round-off is a "warn".
        if g.size == 0:
            return float("nan"), "skipped"  # nothing checked: neither pass nor fail
        d = relative_difference(g, n)
        status = band(d)
        if status == "fail" and np.abs(g - n).max() <= floor:
            status = "warn"
            at_floor.append(name)
        return d, status

    per, worst, skipped, notes, at_floor = {}, [], {}, list(notes), []
    for name, layer, shape, total, n_skip, idx, g, n in tensors:
        d, status = judge(g, n, name)
        abs_err, rel = _entry_errors(g, n)
        per[name] = TensorCheck(name, layer, tuple(shape), d, len(idx), int(total), int(n_skip), status,
                                idx, g, n)
        if n_skip:
            skipped[name] = n_skip
        for k in np.argsort(-abs_err, kind="stable")[:n_worst]:
            index = tuple(int(i) for i in np.unravel_index(idx[k], shape))
            worst.append((abs_err[k], WorstEntry(name, index, float(g[k]), float(n[k]), float(rel[k]))))
    per_layer = {}
    for layer in sorted({t.layer for t in per.values()}):
        ts = [t for t in per.values() if t.layer == layer]
        d, status = judge(np.concatenate([t.analytic for t in ts]), np.concatenate([t.numeric for t in ts]),
                          f"layer {layer}")
        # A layer is never better than its worst tensor: a wrong b must not hide behind a large W.
        per_layer[layer] = (d, worst_status([status] + [t.status for t in ts]))
    difference, status = judge(np.concatenate([t.analytic for t in per.values()]),
                               np.concatenate([t.numeric for t in per.values()]), "overall")
    failing = [t.name for t in per.values() if t.status == "fail"]
    if failing:
        status = "fail"  # a wrong tensor must not hide behind a good overall norm
    none_checked = [t.name for t in per.values() if t.status == "skipped"]
    if none_checked:
        notes.append(f"{', '.join(none_checked)}: every entry was skipped, so nothing was checked "
                     f"(status 'skipped', no difference).")
    worst.sort(key=lambda pair: -pair[0])
    if at_floor:
        notes.append(f"{', '.join(at_floor)}: every |analytic - numeric| is below {floor:.1e}, the "
                     f"round-off level of J at this epsilon (the gradients are that small), so the "
                     f"relative difference means nothing: warn, not fail; re-run with a larger epsilon.")
    if status == "warn" or any(t.status == "warn" for t in per.values()) or \
            any(st == "warn" for _, st in per_layer.values()):
        notes.append(NOTE_WARN)
    if status == "fail":
        notes.append(f"fail band (> 1e-5): the backward pass is wrong; failing tensors: "
                     f"{', '.join(failing) or '(overall only)'}.")
    return GradCheckReport(difference, status, per, per_layer, [w for _, w in worst[:n_worst]],
                           skipped, notes, epsilon)


def _check_common(epsilon, n_worst):
    epsilon = check_float(epsilon, "epsilon", low=0, low_open=True)
    return epsilon, check_int(n_worst, "n_worst", low=0)


def _check_gradient_pair(grads, weights, biases, names):
    """``grads`` as returned by a gradient_fn: a pair ``(dW, db)`` of lists of float arrays
    shaped like ``weights`` and ``biases``."""
    expected = f"a pair (dW, db) of lists of arrays, one per layer ({len(weights)})"
    if not (isinstance(grads, (tuple, list)) and len(grads) == 2
            and all(isinstance(part, (tuple, list)) for part in grads)):
        raise InputError(f"gradient_fn must return {expected}, got {describe(grads)}")
    dW, db = grads
    if len(dW) != len(weights) or len(db) != len(biases):
        raise InputError(f"gradient_fn must return one dW and one db per layer ({len(weights)}), "
                         f"got {len(dW)} and {len(db)}")
    out = []
    for name, got, want in zip(names, [a for pair in zip(dW, db) for a in pair],
                               [a for pair in zip(weights, biases) for a in pair]):
        try:
            arr = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"gradient_fn must return {expected}; its {name} is not a numeric array: "
                             f"{describe(got)}") from None
        if arr.shape != want.shape:
            raise InputError(f"gradient_fn returned {name} of shape {arr.shape}, expected {want.shape}")
        out.append(arr)
    return out[0::2], out[1::2]


def check_gradients(network, X, y, *, l2=0.0, l1=0.0, keep_prob=1.0, regularizers=(), epsilon=1e-7,
                    sample=None, seed=0, gradient_fn=None, n_worst=5) -> GradCheckReport:
    """Check the backward pass of ``network`` on ``(X, y)`` against centred differences.

    Parameters
    ----------
    network : :class:`reglab.nn.network.Network` (not modified)
    X : array ``(m, n[0])``; y : array ``(m,)`` of labels (0/1 for a sigmoid output)
    l2, l1 : float, penalty strengths as in training (``lambd/(2m) ||W||^2``, ``lambd/m |W|``)
    keep_prob : float or one per hidden layer; masks are drawn once from
        ``numpy.random.default_rng(seed)`` and frozen for the analytic gradient and
        both sides of every difference
    regularizers : extra objects with ``penalty(weights, m)`` and ``gradient(W, m)`` to check
    epsilon : float > 0, the step of the centred difference
    sample : int or None; check ``sample`` random coordinates per tensor (all when None
        or when the tensor is smaller); drawn from the same seed
    seed : int >= 0
    gradient_fn : callable or None
        Replaces :func:`reglab.nn.network.backward` (same signature:
        ``(weights, cache, dlogits, activations, masks, keep_probs, regularizers) -> (dW, db)``)
        to check a new or deliberately broken backward pass.
    n_worst : int, how many worst entries to report

    Returns
    -------
    GradCheckReport

    Raises
    ------
    TypeError
        ``network`` is not a Network, or an argument has the wrong type.
    InputError
        A value is out of range (``epsilon <= 0``, ``sample < 1``, ``keep_prob`` outside
        ``(0, 1]``...), the data do not fit the network, or ``gradient_fn`` returns
        something other than a pair ``(dW, db)`` of lists of arrays of the right shapes.

    Notes
    -----
    With L1, weights with ``|w| < epsilon`` are skipped (the difference would straddle
    the kink of ``|w|`` at 0) and counted in ``report.skipped``. Each perturbation
    re-runs the forward pass from the perturbed layer only (2 partial passes per
    coordinate). A tensor whose every ``|analytic - numeric|`` is below round-off
    (``16 * machine-eps * |J| / epsilon``) is ``warn`` at worst, never ``fail``; a tensor
    with every entry skipped is ``skipped``. A layer's status is never better than its
    worst tensor's.

    Examples
    --------
    >>> report = check_gradients(net, X, y, l2=0.7, keep_prob=0.8)  # doctest: +SKIP
    >>> report.status, report.failing  # doctest: +SKIP
    ('pass', [])
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a reglab.nn.network.Network, got {type(network).__name__}")
    epsilon, n_worst = _check_common(epsilon, n_worst)
    X = check_X(X, n_features=network.layer_sizes[0])
    y = check_labels(y, n_samples=len(X))
    if network.output == "sigmoid":
        check_binary_labels(y)
    elif y.max() >= network.weights[-1].shape[0]:
        raise InputError(f"y must hold labels below the {network.weights[-1].shape[0]} softmax units, "
                         f"got {y.max()}")
    regs = [r for r in (L2(l2), L1(l1)) if r.lambd > 0] + list(regularizers)
    for r in regs:
        if not (callable(getattr(r, "penalty", None)) and callable(getattr(r, "gradient", None))):
            raise TypeError(f"regularizers must have penalty(weights, m) and gradient(W, m), got {r!r}")
    n_hidden = len(network.weights) - 1
    keep = check_keep_probs(keep_prob, n_hidden)
    if sample is not None:
        sample = check_int(sample, "sample", low=1)
    seed = check_int(seed, "seed", low=0)
    if gradient_fn is not None and not callable(gradient_fn):
        raise TypeError(f"gradient_fn must be callable like reglab.nn.network.backward, got {gradient_fn!r}")
    for name, arr in network.params().items():
        if not np.all(np.isfinite(arr)):
            raise InputError(f"network parameter {name} contains NaN or inf")

    weights = [np.array(W, dtype=np.float64) for W in network.weights]
    biases = [np.array(b, dtype=np.float64) for b in network.biases]
    acts, output, m = network._activations, network._output, len(X)
    mask_rng, sample_rng = np.random.default_rng(seed).spawn(2)
    widths = [W.shape[0] for W in weights[:-1]]
    masks = FreshMasks(keep, mask_rng)(m, widths) if any(p < 1 for p in keep) else None

    logits, cache = forward(weights, biases, X, acts, masks, keep)
    j0 = cost(logits, y, output, weights, regs, m)
    grads = (gradient_fn or backward)(weights, cache, output.dlogits(logits, y), acts, masks, keep, regs)
    dW, db = _check_gradient_pair(grads, weights, biases, list(network.params()))

    def cost_from(l):
        # Layers before l are unchanged by a perturbation of layer l: start from their cached output.
        out, _ = forward(weights[l:], biases[l:], cache[l][0], acts[l:],
                         None if masks is None else masks[l:], keep[l:])
        return cost(out, y, output, weights, regs, m)

    kinked = any(isinstance(r, L1) and r.lambd > 0 for r in regs)
    tensors, notes = [], []
    for l in range(len(weights)):
        for kind, arr, grad in (("W", weights[l], dW[l]), ("b", biases[l], db[l])):
            eligible = np.ones(arr.size, bool)
            if kind == "W" and kinked:
                eligible = np.abs(arr.ravel()) >= epsilon
            idx = np.flatnonzero(eligible)
            if sample is not None and sample < idx.size:
                idx = np.sort(sample_rng.choice(idx, size=sample, replace=False))
            flat = arr.reshape(-1)  # a view: perturbations write into arr
            numeric = np.empty(idx.size)
            for k, i in enumerate(idx):
                old = flat[i]
                flat[i] = old + epsilon
                j_plus = cost_from(l)
                flat[i] = old - epsilon
                j_minus = cost_from(l)
                flat[i] = old
                numeric[k] = (j_plus - j_minus) / (2 * epsilon)
            analytic = np.asarray(grad, dtype=np.float64).reshape(-1)[idx]
            tensors.append((f"{kind}{l + 1}", l + 1, arr.shape, arr.size, int((~eligible).sum()),
                            idx, analytic, numeric))
    if kinked:
        counts = ", ".join(f"{t[0]}: {t[4]}" for t in tensors if t[0][0] == "W")
        notes.append(NOTE_L1.format(counts))
    if masks is not None:
        notes.append(f"dropout (keep_prob {', '.join(f'{p:g}' for p in keep)}): one set of masks, drawn "
                     f"from seed {seed}, is frozen for the analytic gradient and both sides of every "
                     f"difference; resampling between J(theta+eps) and J(theta-eps) compares two "
                     f"different functions and gives garbage.")
    if sample is not None:
        notes.append(f"sampled at most {sample} coordinate{'s' * (sample != 1)} per tensor (seed {seed}): "
                     f"{sum(t[5].size for t in tensors)} of {sum(t[3] for t in tensors)} checked.")
    if gradient_fn is not None:
        notes.append(f"analytic gradient from gradient_fn={getattr(gradient_fn, '__name__', gradient_fn)}.")
    return _build_report(tensors, epsilon, n_worst, notes, abs(j0))
