"""Summaries over seeds: mean and a Student-t confidence interval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """``mean`` with the ``level`` confidence interval ``[low, high]`` over ``n`` values."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def format(self, scale: float = 1.0, digits: int = 1) -> str:
        """``"93.1 ± 1.2"`` (``scale=100`` for percentages); just the mean for one value."""
        if self.n < 2:
            return f"{self.mean * scale:.{digits}f}"
        return f"{self.mean * scale:.{digits}f} ± {self.half_width * scale:.{digits}f}"

    def to_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


def mean_ci(values, level: float = 0.95) -> Interval:
    """Mean of ``values`` and its Student-t interval (the seeds are the sample).

    With one value the interval collapses to the mean; with identical values it
    has zero width.
    """
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return Interval(mean, mean, mean, len(x))
    sem = float(x.std(ddof=1) / np.sqrt(len(x)))
    from scipy import stats  # a third of a second to import: only when an interval is computed

    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * sem)
    return Interval(mean, mean - half, mean + half, len(x))
