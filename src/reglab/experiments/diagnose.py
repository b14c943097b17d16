"""Bias / variance diagnosis from train, dev and (optionally) test errors.

The lecture's recipe ("Bias/Variance", "Basic recipe for machine learning"):
compare the training error with the best achievable error (the *baseline*:
human-level or Bayes error, about 0 for tasks people do well), then the dev
error with the training error, then the test error with the dev error.

==================  ==========================  ==============================
quantity            formula                     high means
==================  ==========================  ==============================
avoidable bias      ``train - baseline``        underfitting: high bias
variance            ``dev - train``             overfitting: high variance
mismatch            ``test - dev``              dev set overfitted or drawn
                                                from another distribution
==================  ==========================  ==============================

A gap counts as high when it exceeds a threshold. Given plain numbers, the
threshold is ``threshold`` (absolute, in error fraction; default 0.02, 2 points,
between the lecture's examples: its "high" gaps are 10 to 15 points, its "fine"
ones 0.5 and 1 point). Given measurements (:func:`noise_thresholds`), each gap's
threshold is the noise of that gap: an error measured on ``n`` examples has a
binomial standard error ``sqrt(p (1 - p) / n)`` (one example of a 50-example dev
set is 2 points), and a mean over seeds carries their spread; a gap within about
two standard errors of zero is *within noise*, not high.

The baseline comes, in this order, from the caller (``--baseline``), from the
data set when it knows its own noise (:attr:`reglab.data.Dataset.bayes_error`,
e.g. ``field``'s flipped labels), else 0, and every report says which
(:func:`choose_baseline`).

The remedies fit the setting: a network that is already regularized and shows
avoidable bias is over-regularized, and the remedy is to weaken the
regularization, not to grow the network (``regularization=``).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

from .._validation import InputError, check_float, check_int, describe

HIGH_BIAS, HIGH_VARIANCE, MISMATCH, FINE = "high bias", "high variance", "dev/test mismatch", "fine"
#: The lecture's remedies for each case, in the order it gives them.
REMEDIES: dict[str, tuple[str, ...]] = {
    HIGH_BIAS: ("bigger network (more hidden units or layers)", "train longer",
                "a better optimization algorithm", "another architecture"),
    HIGH_VARIANCE: ("more data", "regularization: L2, dropout, data augmentation, early stopping",
                    "another architecture"),
    MISMATCH: ("a bigger dev set (the dev set may have been overfitted by tuning on it)",
               "make the dev and test sets come from the same distribution"),
    FINE: ("nothing to do: maybe ship it",),
}
#: What to do about a case when the network is already regularized (``{reg}`` names how).
REGULARIZED_REMEDIES: dict[str, tuple[str, ...]] = {
    HIGH_BIAS: ("over-regularized: weaken the regularization ({weaken})",),
    HIGH_VARIANCE: ("more data", "stronger or additional regularization ({strengthen})"),
}
#: Smallest threshold from noise: half a point, the lecture's smallest "fine" gap.
NOISE_FLOOR = 0.005
# Float round-off must not decide a verdict: 0.16 - 0.15 is 0.010000000000000009.
_EPS = 1e-9


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} points"


def _limit(x: float) -> str:
    return f"{x * 100:.1f} points"


@dataclass(frozen=True)
class Noise:
    """Per-gap thresholds measured from the noise of the figures (:func:`noise_thresholds`).

    Attributes
    ----------
    bias, variance, mismatch : float, about two standard errors of each gap
        (``mismatch`` None without a test error), at least :data:`NOISE_FLOOR`.
    """

    bias: float
    variance: float
    mismatch: float | None = None


def binomial_se(error: float, n: int) -> float:
    """Standard error of an error rate measured on ``n`` examples, ``sqrt(p (1 - p) / n)``,
    with ``p`` pulled a little from 0 and 1 (``(k + 1) / (n + 2)``, Laplace) so that a
    perfect score on 50 examples is not taken as exact.

    >>> round(binomial_se(0.16, 50), 4)
    0.0514
    """
    p = (error * n + 1) / (n + 2)
    return math.sqrt(p * (1 - p) / n)


def _seed_half_width(gaps) -> float:
    from .stats import mean_ci
    return mean_ci(gaps).half_width if len(gaps) > 1 else 0.0


def noise_thresholds(train_errors, dev_errors, test_errors=None, *, n_train: int, n_dev: int,
                     n_test: int | None = None, baseline: float = 0.0, z: float = 1.96) -> Noise:
    """How large each gap must be to stand out of the noise of its figures.

    Parameters
    ----------
    train_errors, dev_errors, test_errors : sequences of error fractions, one per seed
        (``test_errors`` optional).
    n_train, n_dev, n_test : int, examples each error was measured on.
    baseline : float, the best achievable error; the training set's own sample of
        it is binomial too.
    z : float, how many standard errors count (1.96: 95%).

    Returns
    -------
    Noise
        For each gap ``sqrt((z * se_sampling)**2 + h**2)``, at least :data:`NOISE_FLOOR`:
        ``se_sampling`` combines the binomial standard errors of the two errors
        (the baseline's on ``n_train`` for the bias), ``h`` is the 95% Student-t
        half-width of the gap's mean over seeds (0 for one seed).
    """
    tr, dv = (np.asarray(e, dtype=float).ravel() for e in (train_errors, dev_errors))
    te = None if test_errors is None else np.asarray(test_errors, dtype=float).ravel()
    for name, a in (("train_errors", tr), ("dev_errors", dv), ("test_errors", te)):
        if a is not None and (not a.size or not np.isfinite(a).all() or (a < 0).any() or (a > 1).any()):
            raise InputError(f"{name} must be a non-empty sequence of error fractions in [0, 1], "
                             f"got {describe(a)}")
    if len(tr) != len(dv) or (te is not None and len(te) != len(tr)):
        raise InputError(f"train_errors, dev_errors and test_errors must have one value per seed each, "
                         f"got {len(tr)}, {len(dv)} and {None if te is None else len(te)}")
    n_train, n_dev = check_int(n_train, "n_train", low=1), check_int(n_dev, "n_dev", low=1)
    if te is not None:
        n_test = check_int(n_test, "n_test", low=1)
    baseline = check_float(baseline, "baseline", low=0, high=1)

    def limit(sampling, gaps):
        return max(NOISE_FLOOR, math.hypot(z * sampling, _seed_half_width(gaps)))

    se_tr, se_dv = binomial_se(tr.mean(), n_train), binomial_se(dv.mean(), n_dev)
    bias = limit(binomial_se(max(tr.mean(), baseline), n_train), tr - baseline)
    variance = limit(math.hypot(se_tr, se_dv), dv - tr)
    mismatch = None if te is None else limit(math.hypot(se_dv, binomial_se(te.mean(), n_test)), te - dv)
    return Noise(bias, variance, mismatch)


def choose_baseline(given=None, data=None, *, given_as: str = "given") -> tuple[float, str]:
    """The baseline (human / Bayes error) of a diagnosis and where it comes from.

    ``given`` (a fraction) wins, then the data set's own ``bayes_error``, else 0.

    Returns
    -------
    (float, str)
        The baseline and a phrase for the report, e.g. ``"the field generator flips 10%
        of the labels ..."`` or ``"assumed 0: <name> does not know its own noise"``.
    """
    if given is not None:
        return check_float(given, "baseline", low=0, high=1), given_as
    if data is not None and getattr(data, "bayes_error", None) is not None:
        return float(data.bayes_error), data.bayes_error_source
    name = getattr(data, "name", "the data set")
    return 0.0, f"assumed 0: {name} does not know its own noise; give --baseline to set it"


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on one set of errors (fractions in [0, 1]); build it with :func:`diagnose`.

    Attributes
    ----------
    train_error, dev_error, test_error : float (test_error None when not given)
    baseline : float, human-level / Bayes error
    threshold : float, the gap above which a gap counts as high (the largest of
        ``thresholds`` when they come from the noise)
    thresholds : (bias, variance, mismatch) thresholds, mismatch None without a test error
    from_noise : bool, whether the thresholds measure the noise of the figures
    baseline_source : str, where the baseline comes from ("" when not said)
    regularization : str or None, how the network was regularized
    avoidable_bias : ``train_error - baseline``
    variance : ``dev_error - train_error``
    mismatch : ``test_error - dev_error``, None without a test error
    cases : tuple of str, among ``"high bias"``, ``"high variance"``,
        ``"dev/test mismatch"`` (in that order), or ``("fine",)``
    verdict : str, one headline, e.g. ``"high bias and high variance"``
    remedies : tuple of str, the remedies of every case in ``cases``, in order,
        each listed once (:data:`REMEDIES`; :data:`REGULARIZED_REMEDIES` when regularized)
    """

    train_error: float
    dev_error: float
    test_error: float | None
    baseline: float
    threshold: float
    avoidable_bias: float
    variance: float
    mismatch: float | None
    cases: tuple[str, ...]
    verdict: str
    remedies: tuple[str, ...]
    thresholds: tuple = ()
    from_noise: bool = False
    baseline_source: str = ""
    regularization: str | None = None

    def _within(self, i: int) -> str:
        t = _limit(self.thresholds[i])
        return f"within the noise of the figures (±{t})" if self.from_noise else f"within the threshold of {t}"

    def _above(self, i: int) -> str:
        t = _limit(self.thresholds[i])
        return f"beyond the noise of the figures (±{t})" if self.from_noise else f"more than the threshold of {t}"

    def explanation(self) -> str:
        """A few plain sentences with the numbers in %."""
        high_bias, high_var = HIGH_BIAS in self.cases, HIGH_VARIANCE in self.cases
        source = f" ({self.baseline_source})" if self.baseline_source else ""
        out = [f"Training error is {_pct(self.train_error)} against a baseline (human / Bayes "
               f"error) of {_pct(self.baseline)}{source}, an avoidable bias of {_pts(self.avoidable_bias)}."]
        if high_bias and self.regularization:
            out.append(f"That is {self._above(0)}: the regularization ({self.regularization}) keeps the "
                       "network from fitting the training set (over-regularized: high bias).")
        elif high_bias:
            out.append(f"That is {self._above(0)}: the network does not even fit the "
                       "training set well (high bias).")
        elif self.avoidable_bias < -self.thresholds[0] - _EPS:
            out.append("The network beats the baseline on the training set, so it fits noise there: "
                       "expect a gap on the dev set.")
        else:
            out.append(f"That is {self._within(0)}: the network fits the training set.")
        if high_var:
            verdict = (f"{self._above(1)}, so the network does not generalize from the training set to "
                       "the dev set (high variance).")
        elif self.variance < -self.thresholds[1] - _EPS:
            verdict = ("the dev set looks easier than the training set: not a problem in itself, but a "
                       "sign that the dev set is small (noisy) or that the two sets come from "
                       "different distributions.")
        else:
            verdict = f"{self._within(1)}, so it generalizes to the dev set."
        out.append(f"Dev error is {_pct(self.dev_error)}, {_pts(self.variance)} from the training "
                   f"error: {verdict}")
        if self.test_error is not None:
            if MISMATCH in self.cases:
                verdict = f"{self._above(2)}, so the dev set no longer predicts the test error (dev/test mismatch)."
            elif self.mismatch < -self.thresholds[2] - _EPS:
                verdict = ("the test set looks easier than the dev set: not a problem, but a sign "
                           "that the two sets are small (noisy) or differ.")
            else:
                verdict = "the dev set predicts it well."
            out.append(f"Test error is {_pct(self.test_error)}, {_pts(self.mismatch)} from the dev "
                       f"error: {verdict}")
        if high_bias and high_var:
            out.append("Following the basic recipe, reduce the bias first, then the variance.")
        elif self.cases == (FINE,):
            out.append("Nothing stands out" + (" of the noise" if self.from_noise else "")
                       + ": maybe ship it.")
        return " ".join(out)

    def flag(self, case: str) -> str:
        """``"HIGH (> 2.0 points)"``, ``"within noise (±5.6 points)"`` or ``"ok"`` for one case."""
        i = (HIGH_BIAS, HIGH_VARIANCE, MISMATCH).index(case)
        if case in self.cases:
            return f"HIGH (> {_limit(self.thresholds[i])})"
        return f"within noise (±{_limit(self.thresholds[i])})" if self.from_noise else "ok"

    def to_dict(self) -> dict:
        """Plain JSON-ready values, with the explanation."""
        return {"train_error": self.train_error, "dev_error": self.dev_error,
                "test_error": self.test_error, "baseline": self.baseline,
                "baseline_source": self.baseline_source, "threshold": self.threshold,
                "thresholds": dict(zip(("bias", "variance", "mismatch"), self.thresholds)),
                "thresholds_from_noise": self.from_noise, "regularization": self.regularization,
                "avoidable_bias": self.avoidable_bias,
                "variance": self.variance, "mismatch": self.mismatch, "cases": list(self.cases),
                "verdict": self.verdict, "remedies": list(self.remedies),
                "explanation": self.explanation()}

    def format(self, width: int = 88) -> str:
        """A small text block: the verdict, a table of the numbers, the remedies."""
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Diagnosis: {self.verdict}", title_justify="left", box=None,
                      pad_edge=False, padding=(0, 2, 0, 0))
        for col, justify in (("", "left"), ("error", "right"), ("gap", "right"), ("", "left")):
            table.add_column(col, justify=justify)
        table.add_row("baseline (human / Bayes)", _pct(self.baseline), "", "")
        table.add_row("train", _pct(self.train_error), "", "")
        table.add_row("  avoidable bias (train - baseline)", "", _pts(self.avoidable_bias), self.flag(HIGH_BIAS))
        table.add_row("dev", _pct(self.dev_error), "", "")
        table.add_row("  variance (dev - train)", "", _pts(self.variance), self.flag(HIGH_VARIANCE))
        if self.test_error is not None:
            table.add_row("test", _pct(self.test_error), "", "")
            table.add_row("  mismatch (test - dev)", "", _pts(self.mismatch), self.flag(MISMATCH))
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None, highlight=False)
        console.print(table)
        lines = buffer.getvalue().rstrip().splitlines()
        if self.baseline_source:
            lines.append(f"baseline: {self.baseline_source}")
        lines += ["", "Remedies:"] + [f"  - {r}" for r in self.remedies]
        return "\n".join(line.rstrip() for line in lines) + "\n"


def weaken_hint(l2: float = 0.0, l1: float = 0.0, keep_prob=1.0, early_stopping: int | None = None,
                augment: str | None = None, *, stronger: bool = False) -> str:
    """How to weaken (or, ``stronger=True``, strengthen) a regularization, in words.

    >>> weaken_hint(l2=0.7, keep_prob=0.8)
    'a smaller L2 strength than 0.7, a keep_prob above 0.8'
    """
    keep = keep_prob if isinstance(keep_prob, (list, tuple)) else (keep_prob,)
    keep_text = ",".join(f"{p:g}" for p in keep)
    more, less = ("larger", "below") if stronger else ("smaller", "above")
    parts = [f"a {more} L2 strength than {l2:g}"] if l2 else []
    parts += [f"a {more} L1 strength than {l1:g}"] if l1 else []
    parts += [f"a keep_prob {less} {keep_text}"] if any(p < 1 for p in keep) else []
    if early_stopping is not None:
        parts.append(f"{'less' if stronger else 'more'} patience than {early_stopping}")
    if augment is not None:
        parts.append(f"{'stronger' if stronger else 'milder'} augmentation than {augment}")
    if not parts:
        return "L2, dropout, data augmentation or early stopping" if stronger else "none to weaken"
    return ", ".join(parts)


def diagnose(train_error, dev_error, test_error=None, *, baseline=0.0, threshold=0.02,
             baseline_source: str = "", regularization: str | None = None,
             weaken: str | None = None, strengthen: str | None = None) -> Diagnosis:
    """Diagnose bias, variance and dev/test mismatch from measured errors.

    Parameters
    ----------
    train_error, dev_error : float in [0, 1]
        Error rates (fractions, not percent) on the training and dev sets.
    test_error : float in [0, 1], optional
        Error on the test set; enables the dev/test mismatch check.
    baseline : float in [0, 1], default 0
        Human-level / Bayes error, the best achievable error.
    threshold : float in [0, 1] or :class:`Noise`, default 0.02
        A gap counts as high when it exceeds this (absolute, in error fraction;
        see the module docstring for the choice of 0.02), or, given a
        :class:`Noise` (:func:`noise_thresholds`), when it stands out of the noise
        of its figures; smaller gaps are then "within noise".
    baseline_source : str, where the baseline comes from, repeated in the explanation.
    regularization : str or None
        How the network is regularized (``"L2 0.7"``), None when it is not. A
        regularized network with avoidable bias is told it is over-regularized.
    weaken, strengthen : str, optional
        How to weaken / strengthen that regularization (:func:`weaken_hint`), for
        the remedies.

    Returns
    -------
    Diagnosis
        ``avoidable_bias = train - baseline``, ``variance = dev - train``,
        ``mismatch = test - dev``; a case is reported for each gap above its
        threshold, ``"fine"`` when there is none.

    Examples
    --------
    The lecture's examples (baseline about 0):

    >>> diagnose(0.01, 0.11).verdict
    'high variance'
    >>> diagnose(0.15, 0.16).verdict
    'high bias'
    >>> diagnose(0.15, 0.30).verdict
    'high bias and high variance'
    >>> diagnose(0.005, 0.01).verdict
    'fine'
    """
    train = check_float(train_error, "train_error", low=0, high=1)
    dev = check_float(dev_error, "dev_error", low=0, high=1)
    test = None if test_error is None else check_float(test_error, "test_error", low=0, high=1)
    baseline = check_float(baseline, "baseline", low=0, high=1)
    if isinstance(threshold, Noise):
        if test is not None and threshold.mismatch is None:
            raise InputError("threshold must give a mismatch threshold when test_error is given")
        limits, from_noise = (threshold.bias, threshold.variance, threshold.mismatch), True
    else:
        limits, from_noise = (check_float(threshold, "threshold", low=0, high=1),) * 3, False
    if not isinstance(baseline_source, str):
        raise TypeError(f"baseline_source must be a string, got {describe(baseline_source)}")
    if regularization is not None and (not isinstance(regularization, str) or regularization == "none"):
        raise InputError(f"regularization must name how the network is regularized, or be None, "
                         f"got {describe(regularization)}")
    bias, variance = train - baseline, dev - train
    mismatch = None if test is None else test - dev
    cases = tuple(case for case, gap, limit in zip((HIGH_BIAS, HIGH_VARIANCE, MISMATCH),
                                                   (bias, variance, mismatch), limits)
                  if gap is not None and gap > limit + _EPS) or (FINE,)
    verdict = cases[0] if len(cases) == 1 else ", ".join(cases[:-1]) + " and " + cases[-1]
    table = dict(REMEDIES)
    if regularization:
        table.update({case: tuple(r.format(weaken=weaken or f"{regularization} is too strong",
                                           strengthen=strengthen or f"beyond {regularization}")
                                  for r in remedies)
                      for case, remedies in REGULARIZED_REMEDIES.items()})
    remedies = tuple(dict.fromkeys(r for case in cases for r in table[case]))
    shown = max(x for x in limits if x is not None)
    return Diagnosis(train, dev, test, baseline, shown, bias, variance, mismatch, cases,
                     verdict, remedies, limits, from_noise, baseline_source, regularization)
