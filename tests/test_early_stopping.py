"""Early stopping, replayed over hand-written histories (as Keras' tests replay a fixed loss)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from reglab._validation import InputError
from reglab.training.early_stopping import (MONITORS, EarlyStopping, ReplayResult, ReplayRow, replay,
                                   replay_grid, replay_history)
from reglab.training.loop import History

NAN = math.nan
# dev cost: best 0.50 at step 300, a later and better 0.49 at step 700
STEPS = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]
COSTS = [0.90, 0.70, 0.55, 0.50, 0.52, 0.51, 0.53, 0.49, 0.50, 0.56]
# dev accuracy: best 0.75 at step 200 (tied at 300), then 0.80 at step 500
ACCS = [0.60, 0.70, 0.75, 0.75, 0.74, 0.80, 0.79, 0.78]


def feed(es, steps, values):
    """Drive an EarlyStopping by hand, as the trainer does; return per-step states."""
    states = []
    for step, value in zip(steps, values):
        stop = es.update(step, value)
        states.append((step, es.improved, es.wait, stop))
        if stop:
            break
    return states


# --- stopping point, best step and value ---------------------------------------------

@pytest.mark.parametrize("patience, stopped_at, used, best_step, best_value", [
    (1, 400, 5, 300, 0.50),
    (3, 600, 7, 300, 0.50),
    (4, None, 10, 700, 0.49),   # the patience-4 window reaches the late 0.49
])
def test_replay_stops_at_the_right_evaluation(patience, stopped_at, used, best_step, best_value):
    r = replay(STEPS, COSTS, patience=patience)
    assert isinstance(r, ReplayResult)
    assert (r.stopped_at, r.evaluations_used, r.best_step, r.best_value) == (
        stopped_at, used, best_step, best_value)


def test_update_reports_improved_wait_and_stop_each_evaluation():
    es = EarlyStopping(patience=3)
    assert feed(es, STEPS, COSTS) == [
        (0, True, 0, False), (100, True, 0, False), (200, True, 0, False), (300, True, 0, False),
        (400, False, 1, False), (500, False, 2, False), (600, False, 3, True)]
    assert (es.best_step, es.best_value, es.stopped_step) == (300, 0.50, 600)


def test_reason_sentence():
    es = EarlyStopping(patience=5)
    assert es.reason() == "not stopped"
    feed(es, [1100, 1200, 1300, 1400, 1500, 1600, 1700], [0.30, 0.2341, 0.25, 0.26, 0.24, 0.2341, 0.3])
    assert es.reason() == ("dev_cost did not improve by more than 0 for 5 evaluations after its "
                           "best 0.2341 at step 1200; stopped at step 1700")
    r = replay([0, 1], [0.7, 0.8], monitor="dev_accuracy", patience=1, min_delta=0.25)
    assert r.reason == ("dev_accuracy did not improve by more than 0.25 for 1 evaluation after "
                        "its best 0.7 at step 0; stopped at step 1")


def test_replay_matches_an_independent_oracle():
    # with min_delta 0 the best is the first occurrence of the running min (max)
    rng = np.random.default_rng(0)
    for _ in range(200):
        values = rng.integers(0, 6, size=12).astype(float)  # small ints: many ties
        patience = int(rng.integers(1, 5))
        for monitor, arg in (("dev_cost", np.argmin), ("dev_accuracy", np.argmax)):
            expected = next((i for i in range(12) if i - arg(values[:i + 1]) >= patience), None)
            r = replay(list(range(12)), values, monitor=monitor, patience=patience)
            assert r.stopped_at == expected
            last = 11 if expected is None else expected
            assert r.best_step == arg(values[:last + 1])


# --- min_delta -------------------------------------------------------------------------

def test_min_delta_small_improvements_do_not_count():
    values = [0.500, 0.499, 0.498, 0.497]
    r = replay([0, 1, 2, 3], values, patience=3, min_delta=0.01)
    assert (r.stopped_at, r.best_step, r.best_value) == (3, 0, 0.5)
    r = replay([0, 1, 2, 3], values, patience=3, min_delta=0.0)
    assert (r.stopped_at, r.best_step, r.best_value) == (None, 3, 0.497)


def test_equal_values_and_exactly_min_delta_do_not_improve():
    assert replay([0, 1, 2], [0.5, 0.5, 0.5], patience=2).stopped_at == 2
    # 0.75 == 1.0 - 0.25 exactly in binary: not strictly better by more than min_delta
    es = EarlyStopping(patience=2, min_delta=0.25)
    assert feed(es, [0, 1, 2], [1.0, 0.75, 0.5]) == [
        (0, True, 0, False), (1, False, 1, False), (2, True, 0, False)]
    es = EarlyStopping("dev_accuracy", patience=1, min_delta=0.25)
    assert feed(es, [0, 1], [0.5, 0.75])[-1] == (1, False, 1, True)


# --- start_from ------------------------------------------------------------------------

def test_start_from_ignores_an_early_best():
    steps, values = [0, 100, 200, 300, 400, 500], [0.1, 0.9, 0.8, 0.85, 0.86, 0.87]
    r = replay(steps, values, patience=3)
    assert (r.stopped_at, r.best_step, r.best_value) == (300, 0, 0.1)
    r = replay(steps, values, patience=3, start_from=100)
    assert (r.stopped_at, r.best_step, r.best_value) == (500, 200, 0.8)
    # between two evaluations: the first one at or after it becomes the best, however bad
    r = replay(steps, [0.1, 0.05, 0.9, 0.95, 0.97, 0.99], patience=3, start_from=150)
    assert (r.stopped_at, r.best_step, r.best_value) == (500, 200, 0.9)


def test_evaluations_before_start_from_use_no_patience():
    es = EarlyStopping(patience=1, start_from=300)
    for step in (0, 100, 200):
        assert es.update(step, NAN) is False
        assert (es.improved, es.wait, es.best_step) == (False, 0, None)
    assert es.update(300, 2.0) is False and es.improved and es.best_step == 300


# --- direction -------------------------------------------------------------------------

def test_monitor_directions_come_from_the_table():
    assert MONITORS == {"dev_cost": "min", "dev_accuracy": "max",
                        "train_cost": "min", "train_accuracy": "max"}
    assert EarlyStopping("train_accuracy").mode == "max"
    assert EarlyStopping("train_cost").mode == "min"


def test_max_direction_for_accuracy():
    steps = list(range(0, 800, 100))
    r = replay(steps, ACCS, monitor="dev_accuracy", patience=2)
    assert (r.stopped_at, r.best_step, r.best_value) == (400, 200, 0.75)  # tie at 300 is no gain
    r = replay(steps, ACCS, monitor="dev_accuracy", patience=3)
    assert (r.stopped_at, r.best_step, r.best_value) == (None, 500, 0.80)
    # the same numbers read as a cost: rising from the start, so it stops at once
    r = replay(steps, ACCS, monitor="train_cost", patience=2)
    assert (r.stopped_at, r.best_step, r.best_value) == (200, 0, 0.60)


# --- NaN -------------------------------------------------------------------------------

def test_nan_never_improves():
    r = replay([0, 1, 2, 3, 4], [0.5, NAN, 0.4, NAN, NAN], patience=2)
    assert (r.stopped_at, r.best_step, r.best_value) == (4, 2, 0.4)
    r = replay([0, 1], [0.5, NAN], monitor="dev_accuracy", patience=1)
    assert (r.stopped_at, r.best_step) == (1, 0)


def test_leading_nan_counts_against_patience_and_the_first_number_becomes_best():
    r = replay([0, 1, 2], [NAN, NAN, 0.3], patience=3)
    assert (r.stopped_at, r.best_step, r.best_value) == (None, 2, 0.3)
    r = replay([0, 1, 2], [NAN, NAN, 0.3], patience=2)
    assert (r.stopped_at, r.best_step, r.best_value) == (1, None, None)
    assert r.reason == "dev_cost had no usable (non-NaN) value in 2 evaluations; stopped at step 1"


def test_json_null_reads_as_nan():
    r = replay([0, 1, 2], json.loads("[0.5, null, null]"), patience=2)
    assert (r.stopped_at, r.best_step) == (2, 0)


# --- grid ------------------------------------------------------------------------------

def test_replay_grid_table():
    rows = replay_grid(STEPS, COSTS, monitor="dev_cost", patiences=[1, 3, 4], min_deltas=[0.0, 0.02])
    assert all(isinstance(r, ReplayRow) for r in rows)
    table = [(r.patience, r.min_delta, r.stopped_at, r.best_step, r.best_value) for r in rows]
    assert table == [
        (1, 0.0, 400, 300, 0.50), (1, 0.02, 400, 300, 0.50),
        (3, 0.0, 600, 300, 0.50), (3, 0.02, 600, 300, 0.50),
        (4, 0.0, None, 700, 0.49), (4, 0.02, 700, 300, 0.50),  # 0.49 is not 0.02 better
    ]
    for row in rows:  # each row is exactly the single replay with its setting
        single = replay(STEPS, COSTS, patience=row.patience, min_delta=row.min_delta)
        assert single.reason == row.reason and single.evaluations_used == row.evaluations_used


# --- histories -------------------------------------------------------------------------

def test_replay_history_from_history_and_from_json_dict():
    h = History(costs=np.zeros(900), eval_steps=list(STEPS), train_cost=[0.1] * 10,
                train_accuracy=[0.9] * 10, dev_cost=list(COSTS), dev_accuracy=[0.8] * 10)
    expected = replay(STEPS, COSTS, patience=3)
    assert replay_history(h, patience=3) == expected
    d = json.loads(json.dumps({k: getattr(h, k) for k in
                               ("eval_steps", "train_cost", "train_accuracy", "dev_cost", "dev_accuracy")}))
    assert replay_history(d, patience=3) == expected
    r = replay_history(d, monitor="train_accuracy", patience=2)
    assert (r.stopped_at, r.best_step) == (200, 0)


def test_replay_history_without_dev_values():
    h = History(costs=np.zeros(2), eval_steps=[0, 1], train_cost=[0.7, 0.6], train_accuracy=[0.5, 0.6])
    with pytest.raises(InputError, match=r"^monitor 'dev_cost' needs a dev set: "
                                         r"the history has no dev_cost values$"):
        replay_history(h)
    with pytest.raises(InputError, match="monitor 'dev_accuracy' needs a dev set"):
        replay_history({"eval_steps": [0, 1], "train_cost": [0.7, 0.6]}, monitor="dev_accuracy")
    assert replay_history(h, monitor="train_cost", patience=1).stopped_at is None
    with pytest.raises(InputError, match="history must have an 'eval_steps' list"):
        replay_history({"dev_cost": [0.5]})
    with pytest.raises(TypeError, match="history must be a reglab History or a dict"):
        replay_history([0.5, 0.4])


# --- configuration ---------------------------------------------------------------------

def test_get_config_round_trip():
    es = EarlyStopping("dev_accuracy", patience=3, min_delta=0.01, start_from=200, restore_best=False)
    config = es.get_config()
    assert config == {"monitor": "dev_accuracy", "patience": 3, "min_delta": 0.01,
                      "start_from": 200, "restore_best": False}
    twin = EarlyStopping(**json.loads(json.dumps(config)))
    assert twin.get_config() == config and repr(twin) == repr(es)
    assert repr(es) == ("EarlyStopping(monitor='dev_accuracy', patience=3, min_delta=0.01, "
                        "start_from=200, restore_best=False)")
    steps = list(range(0, 800, 100))
    assert feed(es, steps, ACCS) == feed(twin, steps, ACCS)


def test_reset_and_misuse():
    es = EarlyStopping(patience=1)
    feed(es, STEPS, COSTS)
    assert es.stopped_step == 400
    with pytest.raises(InputError, match="update\\(\\) called after stopping at step 400; call reset"):
        es.update(500, 0.1)
    es.reset()
    assert (es.best_step, es.best_value, es.wait, es.stopped_step, es.improved) == (None, None, 0, None, False)
    assert feed(es, STEPS, COSTS)[-1] == (400, False, 1, True)  # same run again after reset
    es.reset()
    es.update(np.int64(100), np.float64(0.5))
    with pytest.raises(InputError, match="step must be greater than the previous step 100, got 100"):
        es.update(100, 0.4)
    with pytest.raises(TypeError, match="value must be a real number, got '0.4'"):
        es.update(200, "0.4")


# --- error messages --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"patience": 0}, InputError, r"patience must be an integer >= 1, got 0"),
    ({"patience": 2.5}, TypeError, r"patience must be an integer, got 2.5"),
    ({"min_delta": -0.1}, InputError, r"min_delta must be a finite number >= 0, got -0.1"),
    ({"start_from": -1}, InputError, r"start_from must be an integer >= 0, got -1"),
    ({"restore_best": "yes"}, TypeError, r"restore_best must be True or False, got 'yes'"),
    ({"monitor": "val_loss"}, InputError,
     r"monitor must be one of 'dev_cost', 'dev_accuracy', 'train_cost', 'train_accuracy', "
     r"got 'val_loss'"),
])
def test_constructor_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping(**kwargs)


@pytest.mark.parametrize("steps, values, message", [
    ([0, 100, 200], [0.5, 0.4], r"steps and values must have the same length, got 3 steps and 2 values"),
    ([], [], r"values must hold at least one evaluation, got none"),
    ([0, 200, 100], [0.5, 0.4, 0.3], r"steps must be strictly increasing, got 100 after 200 at position 2"),
    ([0, 100, 100], [0.5, 0.4, 0.3], r"steps must be strictly increasing, got 100 after 100"),
    ([0, 100], [[0.5], [0.4]], r"values must be a 1-D sequence of numbers, got shape \(2, 1\)"),
    ([0, 100], ["a", "b"], r"values must be a 1-D sequence of numbers"),
])
def test_replay_errors(steps, values, message):
    with pytest.raises(InputError, match=message):
        replay(steps, values)


def test_replay_argument_errors():
    with pytest.raises(InputError, match="monitor must be one of"):
        replay([0], [0.5], monitor="loss")
    with pytest.raises(InputError, match="monitor must be one of"):
        replay_history({"eval_steps": [0]}, monitor="dev_loss")
    with pytest.raises(InputError, match=r"steps\[1\] must be an integer >= 0, got -5"):
        replay([0, -5], [0.5, 0.4])
    with pytest.raises(InputError, match=r"patiences\[1\] must be an integer >= 1, got 0"):
        replay_grid([0], [0.5], monitor="dev_cost", patiences=[2, 0], min_deltas=[0.0])
    with pytest.raises(InputError, match=r"min_deltas\[0\] must be a finite number >= 0, got -1"):
        replay_grid([0], [0.5], monitor="dev_cost", patiences=[2], min_deltas=[-1.0])
    with pytest.raises(InputError, match=r"patiences must be a non-empty sequence, got \[\]"):
        replay_grid([0], [0.5], monitor="dev_cost", patiences=[], min_deltas=[0.0])
