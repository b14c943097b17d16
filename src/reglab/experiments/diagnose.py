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

A gap counts as high when it exceeds ``threshold`` (absolute, in error
fraction). The default, 0.02 (2 points), sits between the lecture's examples:
its "high" gaps are 10 to 15 points, its "fine" ones 0.5 and 1 point. It is also
about the sampling noise of an error measured on a dev set of a few hundred
examples (an error of 3% on 300 examples has a standard error of 1 point), so a
smaller gap is rarely worth acting on. With a dev set of thousands, lower it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .._validation import check_float

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
# Float round-off must not decide a verdict: 0.16 - 0.15 is 0.010000000000000009.
_EPS = 1e-9


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} points"


def _limit(x: float) -> str:
    return f"{x * 100:.1f} points"


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on one set of errors (fractions in [0, 1]); build it with :func:`diagnose`.

    Attributes
    ----------
    train_error, dev_error, test_error : float (test_error None when not given)
    baseline : float, human-level / Bayes error
    threshold : float, the gap above which a gap counts as high
    avoidable_bias : ``train_error - baseline``
    variance : ``dev_error - train_error``
    mismatch : ``test_error - dev_error``, None without a test error
    cases : tuple of str, among ``"high bias"``, ``"high variance"``,
        ``"dev/test mismatch"`` (in that order), or ``("fine",)``
    verdict : str, one headline, e.g. ``"high bias and high variance"``
    remedies : tuple of str, :data:`REMEDIES` of every case in ``cases``, in order,
        each listed once
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

    def explanation(self) -> str:
        """A few plain sentences with the numbers in %."""
        t = _limit(self.threshold)
        high_bias, high_var = HIGH_BIAS in self.cases, HIGH_VARIANCE in self.cases
        out = [f"Training error is {_pct(self.train_error)} against a baseline (human / Bayes "
               f"error) of {_pct(self.baseline)}, an avoidable bias of {_pts(self.avoidable_bias)}."]
        if high_bias:
            out.append(f"That is more than the threshold of {t}: the network does not even fit the "
                       "training set well (high bias).")
        elif self.avoidable_bias < -self.threshold - _EPS:
            out.append("The network beats the baseline on the training set, so it fits noise there: "
                       "expect a gap on the dev set.")
        else:
            out.append(f"That is within the threshold of {t}: the network fits the training set.")
        if high_var:
            verdict = (f"more than {t}, so the network does not generalize from the training set to "
                       "the dev set (high variance).")
        elif self.variance < -self.threshold - _EPS:
            verdict = ("the dev set looks easier than the training set: not a problem in itself, but a "
                       "sign that the dev set is small (noisy) or that the two sets come from "
                       "different distributions.")
        else:
            verdict = f"within {t}, so it generalizes to the dev set."
        out.append(f"Dev error is {_pct(self.dev_error)}, {_pts(self.variance)} from the training "
                   f"error: {verdict}")
        if self.test_error is not None:
            if MISMATCH in self.cases:
                verdict = (f"more than {t}, so the dev set no longer predicts the test error "
                           "(dev/test mismatch).")
            elif self.mismatch < -self.threshold - _EPS:
                verdict = ("the test set looks easier than the dev set: not a problem, but a sign "
                           "that the two sets are small (noisy) or differ.")
            else:
                verdict = "the dev set predicts it well."
            out.append(f"Test error is {_pct(self.test_error)}, {_pts(self.mismatch)} from the dev "
                       f"error: {verdict}")
        if high_bias and high_var:
            out.append("Following the basic recipe, reduce the bias first, then the variance.")
        elif self.cases == (FINE,):
            out.append("Nothing stands out: maybe ship it.")
        return " ".join(out)

    def to_dict(self) -> dict:
        """Plain JSON-ready values, with the explanation."""
        return {"train_error": self.train_error, "dev_error": self.dev_error,
                "test_error": self.test_error, "baseline": self.baseline,
                "threshold": self.threshold, "avoidable_bias": self.avoidable_bias,
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

        def flag(case):
            return f"HIGH (> {_limit(self.threshold)})" if case in self.cases else "ok"

        table.add_row("baseline (human / Bayes)", _pct(self.baseline), "", "")
        table.add_row("train", _pct(self.train_error), "", "")
        table.add_row("  avoidable bias (train - baseline)", "", _pts(self.avoidable_bias), flag(HIGH_BIAS))
        table.add_row("dev", _pct(self.dev_error), "", "")
        table.add_row("  variance (dev - train)", "", _pts(self.variance), flag(HIGH_VARIANCE))
        if self.test_error is not None:
            table.add_row("test", _pct(self.test_error), "", "")
            table.add_row("  mismatch (test - dev)", "", _pts(self.mismatch), flag(MISMATCH))
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None, highlight=False)
        console.print(table)
        lines = [*buffer.getvalue().rstrip().splitlines(), "", "Remedies:"]
        lines += [f"  - {r}" for r in self.remedies]
        return "\n".join(line.rstrip() for line in lines) + "\n"


def diagnose(train_error, dev_error, test_error=None, *, baseline=0.0, threshold=0.02) -> Diagnosis:
    """Diagnose bias, variance and dev/test mismatch from measured errors.

    Parameters
    ----------
    train_error, dev_error : float in [0, 1]
        Error rates (fractions, not percent) on the training and dev sets.
    test_error : float in [0, 1], optional
        Error on the test set; enables the dev/test mismatch check.
    baseline : float in [0, 1], default 0
        Human-level / Bayes error, the best achievable error.
    threshold : float in [0, 1], default 0.02
        A gap counts as high when it exceeds this (absolute, in error fraction);
        see the module docstring for the choice of 0.02.

    Returns
    -------
    Diagnosis
        ``avoidable_bias = train - baseline``, ``variance = dev - train``,
        ``mismatch = test - dev``; a case is reported for each gap above
        ``threshold``, ``"fine"`` when there is none.

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
    threshold = check_float(threshold, "threshold", low=0, high=1)
    bias, variance = train - baseline, dev - train
    mismatch = None if test is None else test - dev
    cases = tuple(case for case, gap in ((HIGH_BIAS, bias), (HIGH_VARIANCE, variance), (MISMATCH, mismatch))
                  if gap is not None and gap > threshold + _EPS) or (FINE,)
    verdict = cases[0] if len(cases) == 1 else ", ".join(cases[:-1]) + " and " + cases[-1]
    remedies = tuple(dict.fromkeys(r for case in cases for r in REMEDIES[case]))
    return Diagnosis(train, dev, test, baseline, threshold, bias, variance, mismatch, cases,
                     verdict, remedies)
