"""Takeaways: sentences computed from hand-made summaries (means and 95% intervals)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from reglab._validation import InputError
from reglab.experiments.compare import SummaryRow
from reglab.experiments.stats import Interval
from reglab.experiments.takeaways import (above, compare_takeaways, course_takeaways,
                                          learning_curve_takeaways, sweep_takeaways, tune_takeaways)


def iv(mean, half, n=5):
    return Interval(mean, mean - half, mean + half, n)


def row(setting, description, train, test, n=5):
    return SummaryRow(setting, description, n, 0, iv(*train, n), None, iv(*test, n),
                      iv(train[0] - test[0], 0.01, n), iv(1, 0, n), iv(0, 0, n), iv(1, 0, n))


# the default compare's figures (README): none 83.9 +- 1.1, L2 87.1 +- 0.3, ...
ROWS = [row("none", "none", (0.983, 0.005), (0.839, 0.011)),
        row("l2", "L2 0.7", (0.923, 0.005), (0.871, 0.003)),
        row("l1", "L1 0.1", (0.957, 0.02), (0.859, 0.017)),
        row("early-stopping", "early stopping, patience 10", (0.913, 0.006), (0.862, 0.007)),
        row("augment", "augment jitter:0.045", (0.953, 0.017), (0.834, 0.008))]


def test_above_needs_disjoint_intervals():
    assert above(iv(0.87, 0.003), iv(0.839, 0.011))
    assert not above(iv(0.859, 0.017), iv(0.839, 0.011))  # 0.842 < 0.850: they overlap
    assert not above(iv(0.9, 0, n=1), iv(0.8, 0, n=1))  # one seed: no interval, nothing established


def test_compare_names_the_settings_beyond_the_intervals_and_by_how_much():
    text = compare_takeaways(ROWS)
    assert text[0] == ("On the test set, L2 0.7 (87.1 ± 0.3%, +3.2 points) and early stopping, patience 10 "
                       "(86.2 ± 0.7%, +2.3 points) beat none (83.9 ± 1.1%) beyond the 95% intervals "
                       "over 5 seeds.")
    assert text[1] == ("L1 0.1 (+2.0 points) is ahead of none, but within the intervals: not a gain "
                       "these 5 seeds establish.")
    assert text[2] == "augment jitter:0.045 (0.5 points behind) does no better than none, within the intervals."
    assert text[3] == ("none overfits by 14.4 points (train 98.3 ± 0.5% against test 83.9 ± 1.1%); "
                       "early stopping, patience 10 cuts that train-test gap to 5.1 points.")


def test_compare_when_nothing_wins_or_something_loses():
    rows = [row("none", "none", (0.95, 0.01), (0.90, 0.01)),
            row("l2", "L2 9", (0.70, 0.01), (0.70, 0.01)),
            row("l1", "L1 0.1", (0.96, 0.01), (0.905, 0.02))]
    text = compare_takeaways(rows)
    assert text[0] == "No setting beats none (90.0 ± 1.0%) on the test set beyond the 95% intervals over 5 seeds."
    assert "L2 9 (70.0 ± 1.0%) is worse than none beyond the intervals." in text
    # one seed: nothing is established, and the sentence says so
    one = [row("none", "none", (0.95, 0), (0.90, 0), n=1), row("l2", "L2 1", (0.9, 0), (0.93, 0), n=1)]
    assert compare_takeaways(one) == ["With one seed there are no intervals, so no difference is "
                                      "established: L2 1 has the best test accuracy, 93.0%, +3.0 "
                                      "points against none."]
    with pytest.raises(InputError, match=r"^rows must be a non-empty list of summary rows, got \[\]"):
        compare_takeaways([])


PUBLISHED = {"none": 0.915, "l2": 0.93, "dropout": 0.95}
LABELS = {"none": "no regularization", "l2": "L2 0.7", "dropout": "dropout 0.86"}
# the multi-seed figures: none 93.3 +- 1.5, L2 93.0 +- 0.4, dropout 92.3 +- 1.1
SEEDS = {"none": iv(0.933, 0.015), "l2": iv(0.930, 0.004), "dropout": iv(0.923, 0.011)}


def test_course_states_each_published_accuracy_against_the_seeds():
    text = course_takeaways(PUBLISHED, SEEDS, LABELS, course_costs={"none": 0.1385, "dropout": 0.0606},
                            seed_costs={"none": 0.15, "dropout": 0.31})
    assert text[0] == ("The course's single runs rank dropout 0.86 95.0% > L2 0.7 93.0% > no regularization "
                       "91.5% on the test set; over 5 seeds with a fresh dropout mask every step the means "
                       "rank no regularization 93.3 ± 1.5% > L2 0.7 93.0 ± 0.4% > dropout 0.86 92.3 ± 1.1%.")
    assert text[1] == ("dropout 0.86: the course's 95.0% ranks 1st there and lies above the multi-seed "
                       "interval [91.2%, 93.4%]; over seeds it ranks 3rd.")
    assert text[2] == ("L2 0.7: the course's 93.0% ranks 2nd there and lies inside the multi-seed interval "
                       "[92.6%, 93.4%]; its rank holds.")
    assert text[3] == ("no regularization: the course's 91.5% ranks 3rd there and lies below the multi-seed "
                       "interval [91.8%, 94.8%]; over seeds it ranks 1st.")
    assert text[4] == ("Of the course's conclusions, dropout 0.86 > L2 0.7, dropout 0.86 > no regularization "
                       "and L2 0.7 > no regularization are reversed by the multi-seed means, within the "
                       "intervals.")
    assert text[5].startswith("The course's dropout run ends at a training cost of 0.0606, below its "
                              "unregularized run's 0.139")
    assert "with a fresh mask every step it ends at 0.31 (mean over 5 seeds)" in text[5]
    assert "np.random.seed(1) before every forward pass" in text[5]


def test_course_conclusion_that_survives():
    seeds = {"none": iv(0.90, 0.005), "l2": iv(0.93, 0.004), "dropout": iv(0.925, 0.01)}
    text = course_takeaways(PUBLISHED, seeds, LABELS)
    assert text[-1] == ("Of the course's conclusions, dropout 0.86 > no regularization and L2 0.7 > no "
                        "regularization survive seeds beyond the intervals; dropout 0.86 > L2 0.7 is "
                        "reversed by the multi-seed means, within the intervals.")
    seeds = {"none": iv(0.90, 0.005), "l2": iv(0.95, 0.004), "dropout": iv(0.925, 0.01)}
    assert course_takeaways(PUBLISHED, seeds, LABELS)[-1] == (
        "Of the course's conclusions, dropout 0.86 > no regularization and L2 0.7 > no regularization "
        "survive seeds beyond the intervals; dropout 0.86 > L2 0.7 is reversed beyond the intervals.")
    # no cost figures: no cost sentence, and no claim about masks
    assert not any("mask every step it ends" in t for t in text)
    # a fresh-mask dropout cost below the course's says nothing about reused masks
    text = course_takeaways(PUBLISHED, seeds, LABELS, course_costs={"dropout": 0.3}, seed_costs={"dropout": 0.2})
    assert "np.random.seed" not in text[-1]
    with pytest.raises(InputError, match="^published and seeds must be dicts over the same settings"):
        course_takeaways(PUBLISHED, {"none": iv(0.9, 0.01)}, LABELS)


def test_tune_shows_the_scores_and_warns_at_the_edge():
    scores = {"l1": [(0.003, iv(0.78, 0.01, 3)), (0.03, iv(0.80, 0.01, 3)), (0.3, iv(0.84, 0.005, 3))],
              "l2": [(0.1, iv(0.80, 0.02, 3)), (0.3, iv(0.84, 0.01, 3)), (1.0, iv(0.83, 0.02, 3))]}
    text = tune_takeaways(scores, {"l1": 0.3, "l2": 0.3}, labels={"l1": "L1"})
    assert text[0] == "L1 on dev: 0.003: 78.0%, 0.03: 80.0%, 0.3: 84.0%; chosen 0.3."
    assert text[1] == ("Warning: L1 0.3 is the last value of its grid (0.003 to 0.3); the best may lie "
                       "beyond it: extend the grid before trusting the choice.")
    assert text[2] == ("l2 on dev: 0.1: 80.0%, 0.3: 84.0%, 1: 83.0%; chosen 0.3. 1 of the other 2 values "
                       "score within its 95% interval: the dev set barely tells them apart.")
    assert len(text) == 3  # 0.3 is inside the l2 grid: no warning
    with pytest.raises(InputError, match="^chosen must give a value for 'l2'"):
        tune_takeaways(scores, {"l1": 0.3})


def test_sweep_and_learning_curve():
    rows = [{"label": f"l2={v:g}", "point": {"l2": v}, "held_out": iv(acc, 0.01), "gap": iv(g, 0.01),
             "train": iv(acc + g, 0.01)} for v, acc, g in ((0, 0.75, 0.22), (0.3, 0.82, 0.1), (5, 0.84, 0.0))]
    text = sweep_takeaways(rows, "l2", [0, 0.3, 5], unregularized="l2=0")
    assert text == ["The best dev accuracy is 84.0 ± 1.0%, at l2=5 (mean over 5 seeds).",
                    "That is 9.0 points above l2=0 (75.0 ± 1.0%), beyond the intervals; the train-dev gap "
                    "goes from 22.0 points to 0.0 points.",
                    "Warning: the best l2 is at the last value of the sweep; the optimum may lie beyond it."]
    text = learning_curve_takeaways([20, 80, 341], np.array([[0, 0], [0.01, 0.01], [0.02, 0.02]]),
                                    np.array([[0.2, 0.2], [0.1, 0.1], [0.06, 0.06]]), 0.0, "assumed 0")
    assert text[0] == ("With 341 training examples the dev error is 6.0% and the training error 2.0%, a gap "
                       "of 4.0 points; the baseline is 0.0% (assumed 0).")
    assert text[1] == "From 20 to 341 examples the dev error went from 20.0% to 6.0% and the training error rose from 0.0%."
    assert re.match(r"The last step \(80 to 341 examples\) still lowered the dev error by 4\.0 points", text[2])
    flat = learning_curve_takeaways([34, 239, 341], np.zeros((3, 1)), np.array([[0.076], [0.041], [0.044]]),
                                    0.0, "assumed 0")
    assert flat[2] == ("The last step (239 to 341 examples) moved the dev error from 4.1% to 4.4%: the curve "
                       "has flattened, and more data alone would help little.")
