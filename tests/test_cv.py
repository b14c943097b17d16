"""Cross-validation of compare and sweep (``--cv K``, ``cv=K``) and ``to_frame()``."""

from __future__ import annotations

import csv
import dataclasses
import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.model_selection import StratifiedKFold

from reglab._validation import InputError
from reglab.cli.main import main
from reglab.data import Dataset, load_dataset
from reglab.experiments.compare import compare, default_settings, summarize
from reglab.experiments.cv import CV_SEED, check_cv, fold_data, pooled, sample_phrase
from reglab.experiments.results import Runs
from reglab.experiments.runner import RunLog, RunRecord, RunSpec, execute, execute_many
from reglab.experiments.sweep import Grid, run_sweep
from reglab.experiments.takeaways import compare_takeaways, sweep_takeaways
from reglab.experiments.stats import mean_ci
from reglab.training.loop import TrainConfig

FIELD = load_dataset("field", seed=0, dev=True)  # train 150, dev 50, test 200
BASE = TrainConfig(layers=(8,), iterations=60, record_every=20, engine="reference")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# --- the folds ------------------------------------------------------------------------------

def test_folds_partition_train_and_dev_pooled_stratified_and_leave_test_alone():
    X, y = pooled(FIELD)
    assert len(y) == 200 and np.array_equal(X[:150], FIELD.X_train) and np.array_equal(X[150:], FIELD.X_dev)
    held = []
    for k in range(5):
        fold = fold_data(FIELD, k, 5)
        assert (len(fold.y_train), len(fold.y_dev)) == (160, 40)
        # stratified: each held-out part has the pool's class share within one example
        share = np.bincount(y) / len(y) * 40
        assert np.all(np.abs(np.bincount(fold.y_dev, minlength=2) - share) <= 1)
        assert fold.X_test is FIELD.X_test or np.array_equal(fold.X_test, FIELD.X_test)
        assert np.array_equal(fold.y_test, FIELD.y_test)
        rows = {tuple(r) for r in fold.X_dev}
        assert not rows & {tuple(r) for r in fold.X_train}  # held out means not trained on
        held.append(rows)
    assert len(set().union(*held)) == 200 and sum(map(len, held)) == 200  # each example held out once
    assert fold.name == FIELD.name and fold.bayes_error == FIELD.bayes_error


def test_folds_are_scikit_learns_stratified_k_fold_with_the_recorded_seed():
    X, y = pooled(FIELD)
    expected = list(StratifiedKFold(4, shuffle=True, random_state=CV_SEED).split(X, y))[2]
    fold = fold_data(FIELD, 2, 4)
    assert np.array_equal(fold.X_train, X[expected[0]]) and np.array_equal(fold.X_dev, X[expected[1]])
    assert np.array_equal(fold_data(FIELD, 2, 4).X_dev, fold.X_dev)  # the same every time


def test_without_a_dev_set_the_training_set_alone_is_folded():
    data = dataclasses.replace(FIELD, X_dev=None, y_dev=None)
    fold = fold_data(data, 0, 3)
    assert len(fold.y_train) + len(fold.y_dev) == 150


@pytest.mark.parametrize("cv, message", [
    (1, "cv must be an integer >= 2 (the number of folds), got 1"),
    (0, "cv must be an integer >= 2 (the number of folds), got 0"),
    (True, "cv must be an integer >= 2 (the number of folds), got True"),
    (2.0, "cv must be an integer >= 2 (the number of folds), got 2.0"),
    ("5", "cv must be an integer >= 2 (the number of folds), got '5'"),
])
def test_cv_must_be_an_integer_of_at_least_two(cv, message):
    with pytest.raises(InputError) as info:
        check_cv(cv, FIELD)
    assert str(info.value) == message


def test_cv_cannot_exceed_the_smallest_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.array([0] * 36 + [1] * 4)
    data = Dataset("tiny", X[:30], y[np.r_[0:27, 36:39]], X[30:], y[np.r_[27:36, 39:40]])
    assert check_cv(3, data) == 3
    with pytest.raises(InputError) as info:
        check_cv(4, data)
    assert str(info.value) == ("cv=4 asks for more folds than the smallest class of the training data "
                               "has examples (class 1: 3 of 30, the training set); every fold needs one "
                               "of each class: use cv=3 or fewer")
    assert check_cv(np.int64(2), data) == 2


# --- runs: keys, execute, records -----------------------------------------------------------

def test_the_run_key_is_unchanged_without_a_fold_and_names_it_otherwise():
    old = '{"group": "l2", "params": {"l2": 0.7}, "seed": 3}'  # as logs written before folds hold it
    assert RunSpec("l2", {"l2": 0.7}, 3).key == old
    assert RunSpec("l2", {"l2": 0.7}, 3, 1, 5).key == (
        '{"fold": 1, "folds": 5, "group": "l2", "params": {"l2": 0.7}, "seed": 3}')
    line = {"group": "l2", "params": {"l2": 0.7}, "seed": 3, "train_accuracy": 0.9, "test_accuracy": 0.8,
            "dev_accuracy": 0.85, "weight_norm": 1.0, "near_zero": 0.0, "seconds": 0.1, "steps": 10,
            "stop_reason": "completed", "history": {}, "error": None}
    record = RunRecord.from_json(line)  # a record of an old log: no fold
    assert record.fold is None and record.key == old
    assert RunRecord.from_json(dict(line, fold=1, folds=5)).key == RunSpec("l2", {"l2": 0.7}, 3, 1, 5).key


def test_execute_trains_on_the_fold_and_execute_many_too():
    specs = [RunSpec("l2", {"l2": 0.7}, 0, fold, 3) for fold in range(3)]
    records = [execute(s, FIELD, BASE) for s in specs]
    for record, spec in zip(records, specs):
        fold = fold_data(FIELD, spec.fold, 3)
        assert (record.fold, record.folds) == (spec.fold, 3) and record.key == spec.key
        assert record.dev_accuracy == record.network.accuracy(fold.X_dev, fold.y_dev)
        assert record.train_accuracy == record.network.accuracy(fold.X_train, fold.y_train)
        assert record.test_accuracy == record.network.accuracy(FIELD.X_test, FIELD.y_test)
        assert record.to_json()["fold"] == spec.fold
    assert len({r.dev_accuracy for r in records} | {r.weight_norm for r in records}) > 3  # folds differ
    # the unit of work a worker (local or remote) runs: the same runs, from spec and data alone
    many = execute_many(specs, FIELD, BASE)
    assert [(r.fold, r.weight_norm, r.dev_accuracy) for r in many] == \
        [(r.fold, r.weight_norm, r.dev_accuracy) for r in records]


def test_a_failed_fold_run_keeps_its_fold(monkeypatch):
    from reglab.experiments import runner
    spec = RunSpec("l2", {"l2": 0.7}, 0, 2, 3)
    record = RunRecord.failed(spec, "diverged")
    assert (record.fold, record.folds, record.error, record.key) == (2, 3, "diverged", spec.key)

    def fail(spec, data, base):
        raise runner.ReglabError("diverged")
    monkeypatch.setattr(runner, "execute", fail)
    out = runner.run_all([spec, dataclasses.replace(spec, fold=1)], FIELD, BASE)
    assert [(r.fold, r.error) for r in out] == [(2, "diverged"), (1, "diverged")]


def test_the_run_log_refuses_a_fold_that_is_not_a_count(tmp_path):
    log = RunLog(tmp_path / "runs.jsonl")
    good = {"group": "l2", "params": {}, "seed": 0, "train_accuracy": 0.9, "test_accuracy": 0.8,
            "dev_accuracy": 0.8, "weight_norm": 1.0, "near_zero": 0.0, "seconds": 0.1, "steps": 1,
            "stop_reason": "completed", "history": {}, "error": None}
    log.path.write_text("\n".join(json.dumps(dict(good, fold=f, folds=3)) for f in (0, -1, "1", 1)) + "\n")
    assert [r.fold for r in log.read()] == [0, 1]
    assert "dropped 2 line(s)" in log.notes[0]


# --- compare and sweep with folds -----------------------------------------------------------

def test_compare_runs_every_setting_on_every_fold_and_seed():
    settings = default_settings()[:2]
    records = compare(FIELD, BASE, settings, [0, 1], cv=3)
    assert isinstance(records, Runs) and isinstance(records, list)
    assert sorted((r.group, r.fold, r.seed) for r in records) == sorted(
        (s.name, f, seed) for s in settings for f in range(3) for seed in (0, 1))
    rows = summarize(records, settings)
    assert [r.n_runs for r in rows] == [6, 6]
    none = [r for r in records if r.group == "none"]
    assert rows[0].dev == mean_ci([r.dev_accuracy for r in none])  # over folds x seeds
    with pytest.raises(InputError, match=r"^cv must be an integer >= 2 \(the number of folds\), got 1$"):
        compare(FIELD, BASE, settings, [0], cv=1)


def test_early_stopping_watches_the_held_out_fold():
    records = compare(FIELD, BASE, [default_settings(patience=2)[-1]], [0], cv=2)
    for r in records:
        fold = fold_data(FIELD, r.fold, 2)
        assert r.history["dev_accuracy"][-1] is not None
        assert r.dev_accuracy == r.network.accuracy(fold.X_dev, fold.y_dev)


def test_a_cv_sweep_resumes_and_refuses_other_folds(tmp_path):
    grid = Grid.build(l2=[0.0, 1.0])
    records, n_new = run_sweep(tmp_path, FIELD, BASE, grid, [0], cv=2)
    assert n_new == 4 and sorted((r.group, r.fold) for r in records) == [
        ("l2=0", 0), ("l2=0", 1), ("l2=1", 0), ("l2=1", 1)]
    assert json.loads((tmp_path / "sweep.json").read_text())["cv"] == {
        "folds": 2, "seed": CV_SEED, "stratified": True, "n_pooled": 200, "pooled": "train and dev"}
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["l2=0_seed0.npz", "l2=1_seed0.npz"]
    log = tmp_path / "runs.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:2]) + "\n")  # as if killed after two runs
    again, n_new = run_sweep(tmp_path, FIELD, BASE, grid, [0], cv=2, resume=True)
    assert n_new == 2 and sorted(r.key for r in again) == sorted(r.key for r in records)
    for other, said in ((3, "3 folds (--cv 3)"), (None, "no folds (no --cv)")):
        with pytest.raises(InputError) as info:
            run_sweep(tmp_path, FIELD, BASE, grid, [0], cv=other, resume=True)
        assert str(info.value) == (f"{tmp_path} holds a sweep run with 2 folds (--cv 2); this one asks "
                                   f"for {said}: resume with the same --cv, or use another --out")


# --- what the intervals are over ------------------------------------------------------------

def test_takeaways_say_the_intervals_cover_folds_and_seeds():
    assert sample_phrase(5, 5) == "5 folds x 5 seeds (25 runs)" and sample_phrase(3, None) == "3 seeds"
    records = compare(FIELD, BASE, default_settings()[:2], [0, 1], cv=2)
    rows = summarize(records, default_settings()[:2])
    text = " ".join(compare_takeaways(rows, sample=sample_phrase(2, 2)))
    assert "95% intervals over 2 folds x 2 seeds (4 runs)" in text
    assert "seeds." not in text.replace("(4 runs).", "")
    point = {"label": "l2=0", "point": {"l2": 0.0}, "train": rows[0].train, "held_out": rows[0].dev,
             "gap": rows[0].gap}
    assert sweep_takeaways([point], "l2", [0.0], sample="2 folds x 2 seeds (4 runs)")[0].endswith(
        "(mean over 2 folds x 2 seeds (4 runs)).")


# --- to_frame -------------------------------------------------------------------------------

def test_to_frame_has_one_row_per_run_with_its_figures(tmp_path):
    records = compare(FIELD, BASE, default_settings(keep_prob=[0.8])[:4], [0], cv=2)
    frame = records.to_frame()
    assert list(frame.columns) == ["setting", "l2", "l1", "keep_prob", "fold", "seed", "train_accuracy",
                                   "dev_accuracy", "test_accuracy", "gap", "weight_norm", "near_zero",
                                   "steps", "stop_reason", "seconds", "engine", "error"]
    assert len(frame) == 8
    for (_, row), r in zip(frame.iterrows(), records):
        assert (row.setting, row.fold, row.seed, row.test_accuracy, row.steps) == \
            (r.group, r.fold, r.seed, r.test_accuracy, r.steps)
        assert row.gap == pytest.approx(r.train_accuracy - r.test_accuracy)
        assert row.engine == "reference" and row.error is None
    assert frame.groupby("setting").size().to_dict() == {"none": 2, "l2": 2, "l1": 2, "dropout": 2}
    assert frame.groupby("fold").dev_accuracy.mean().shape == (2,)
    sweep, _ = run_sweep(tmp_path, FIELD, BASE, Grid.build(keep_prob=[1.0, 0.8]), [0, 1])
    frame = sweep.to_frame()
    assert frame["keep_prob"].tolist() == [1.0, 1.0, 0.8, 0.8] and frame["fold"].isna().all()


def test_to_frame_without_pandas_says_how_to_install_it(monkeypatch):
    records = Runs([])
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=r"^to_frame\(\) needs pandas, which is not installed: "
                                          r"pip install pandas"):
        records.to_frame()


# --- the command line -----------------------------------------------------------------------

@pytest.mark.parametrize("verb, args, message", [
    ("compare", ["--cv", "1"], "Error: --cv must be an integer >= 2 (the number of folds), got 1"),
    ("sweep", ["--l2", "0,1", "--cv", "0"], "Error: --cv must be an integer >= 2 (the number of folds), got 0"),
    ("compare", ["--cv", "93"], "Error: --cv 93 asks for more folds than the smallest class of the "
                                "training data has examples (class 0: 92 of 200, train and dev pooled); "
                                "every fold needs one of each class: use --cv 92 or fewer"),
    ("compare", ["--cv", "2", "--tune"], "Error: --tune chooses the strengths on the data set's one dev "
                                         "split, which --cv folds into the training data: run --tune "
                                         "without --cv, then --cv with the chosen --l2, --l1 and --keep-prob"),
    ("sweep", ["--l2", "0,1", "--cv", "2", "--course-compat"],
     "Error: --course-compat runs the course's one split with its randomness; it cannot be combined "
     "with --cv"),
    ("compare", ["--cv", "x"], "Error: Invalid value for '--cv': 'x' is not a valid integer."),
])
def test_bad_cv_is_refused_by_name(tmp_path, verb, args, message):
    result = run(verb, *args, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output
    assert not (tmp_path / "out" / "runs.jsonl").exists()


def test_compare_cv_says_what_its_intervals_cover(tmp_path):
    out = tmp_path / "out"
    result = run("compare", "--cv", 2, "--seeds", 2, "--layers", 8, "--iterations", 60, "--jobs", 1,
                 "--no-augment", "--engine", "reference", "--out", out)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert ("field: mean ± 95% interval over 2 folds x 2 seeds (4 runs): the data split varies as well "
            "as the initial weights") in text
    assert "beyond the 95% intervals over 2 folds x 2 seeds (4 runs)" in text
    payload = json.loads((out / "results.json").read_text())
    assert payload["cv"] == {"folds": 2, "seed": 0, "stratified": True, "n_pooled": 200,
                             "pooled": "train and dev"}
    assert payload["intervals"].startswith("mean and 95% Student-t interval over 2 folds x 2 seeds "
                                           "(4 runs); the runs are not independent draws")
    assert all(s["train"]["n"] == 4 for s in payload["summary"])
    assert sorted({(r["fold"], r["seed"]) for r in payload["runs"]}) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 * 4 and {r["fold"] for r in rows} == {"0", "1"}
    report = " ".join((out / "report.html").read_text().split())
    assert "stratified 2-fold cross-validation over the 200 training examples" in report
    assert "the runs are not independent draws" in report
    assert "mean ± 95% interval over 2 folds x 2 seeds (4 runs)" in report
    # the mean dev error is measured on every pooled example: its noise is that of 200, not 100
    assert "the dev sets, the 2 held-out folds that together hold all 200 pooled examples, is 0.5 points" \
        in report


def test_sweep_cv_resumes_only_with_the_same_folds(tmp_path):
    args = ["sweep", "--l2", "0,1", "--seeds", 1, "--layers", 8, "--iterations", 60, "--jobs", 1,
            "--engine", "reference", "--out", tmp_path]
    first = run(*args, "--cv", 2)
    assert first.exit_code == 0, first.output
    assert "mean ± 95% interval over 2 folds x 1 seed (2 runs)" in " ".join(first.output.split())
    report = " ".join((tmp_path / "report.html").read_text().split())
    assert "Accuracies in %; mean ± 95% interval over 2 folds x 1 seed (2 runs): the data split varies" in report
    assert "the runs are not independent draws" in report
    again = run(*args, "--cv", 2, "--resume")
    assert again.exit_code == 0 and "resumed: 4 run(s) already done, 0 to run" in again.output
    other = run(*args, "--cv", 3, "--resume")
    assert other.exit_code == 2
    assert (f"Error: {tmp_path} holds a sweep run with 2 folds (--cv 2); this one asks for 3 folds "
            f"(--cv 3): resume with the same --cv, or use another --out") in " ".join(other.output.split())
