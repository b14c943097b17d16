"""``compare``: settings over seeds, honest summaries, and every output file."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from reglab import InputError, TrainConfig
from reglab.cli.main import main
from reglab.experiments.compare import Setting, compare, default_settings, summarize, tune
from reglab.data import with_dev_split
from reglab.data import load_dataset
from reglab.experiments.stats import mean_ci


def test_mean_ci_is_the_student_t_interval():
    x = [0.81, 0.84, 0.83, 0.86, 0.80]
    ci = mean_ci(x)
    low, high = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert ci.mean == pytest.approx(np.mean(x))
    assert (ci.low, ci.high) == (pytest.approx(low), pytest.approx(high))
    assert ci.format(100) == f"{np.mean(x) * 100:.1f} ± {(high - low) / 2 * 100:.1f}"
    one = mean_ci([0.5])
    assert (one.low, one.high, one.format(100)) == (0.5, 0.5, "50.0")


def test_settings_describe_themselves():
    names = [s.name for s in default_settings(augment="jitter:0.05")]
    assert names == ["none", "l2", "l1", "dropout", "l2+dropout", "early-stopping", "augment"]
    assert [s.name for s in default_settings(patience=None)][-1] == "l2+dropout"
    assert Setting("e", early_stopping=10).describe() == "early stopping, patience 10"
    assert Setting("e", early_stopping=10).params["early_stopping"] == 10
    assert "early_stopping" not in Setting("none").params
    assert Setting("x", l2=0.7, keep_prob=(0.9, 0.8)).describe() == "L2 0.7 + dropout keep 0.9,0.8"
    assert Setting("none").describe() == "none"
    with pytest.raises(InputError, match=r"keep_prob must be in \(0, 1\], got 1.2"):
        default_settings(keep_prob=1.2)


def test_regularization_closes_the_gap_on_the_default_data():
    """The unregularized network overfits the field more than the best regularized one, over seeds."""
    data = with_dev_split(load_dataset("field"))
    config = TrainConfig(layers=(40, 20), iterations=6000, learning_rate=0.3, record_every=100)
    settings = default_settings(patience=10, augment="jitter:0.05")
    records = compare(data, config, settings, seeds=range(3), jobs=2)
    assert len(records) == 21 and all(r.error is None for r in records)
    rows = {r.setting: r for r in summarize(records, settings)}
    best = max((rows[n] for n in rows if n != "none"), key=lambda r: r.test.mean)
    assert rows["none"].gap.mean > best.gap.mean + 0.02
    assert rows["none"].train.mean > best.train.mean
    # every seed of "none" overfits more than the mean of the best setting
    none_gaps = [r.gap for r in records if r.group == "none"]
    assert min(none_gaps) > best.gap.mean
    assert rows["l2"].weight_norm.mean < rows["none"].weight_norm.mean


def test_tune_chooses_on_the_dev_set_only():
    data = with_dev_split(load_dataset("field", n_samples=200), seed=0)
    assert data.has_dev
    grids = {"l2": (0.01, 3.0), "keep_prob": (0.9,)}
    chosen, records = tune(data, TrainConfig(layers=(8,), iterations=200), [0, 1], grids=grids)
    assert set(chosen) == {"l2", "keep_prob"} and chosen["keep_prob"] == 0.9
    assert len(records) == 6
    mean_dev = {v: np.mean([r.dev_accuracy for r in records if r.group == f"l2={v:g}"]) for v in (0.01, 3.0)}
    assert mean_dev[chosen["l2"]] == max(mean_dev.values())
    # the test set plays no part in the choice: scrambling it changes nothing
    scrambled = dataclasses.replace(data, y_test=np.zeros_like(data.y_test))
    assert tune(scrambled, TrainConfig(layers=(8,), iterations=200), [0, 1], grids=grids)[0] == chosen
    with pytest.raises(InputError, match="tune needs a dev set"):
        tune(load_dataset("field"), TrainConfig(), [0])


def test_compare_cli_writes_every_output(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", "--seeds", "2", "--iterations", "300",
                                       "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("report.html", "results.json", "results.csv", "runs.jsonl", "decision_boundaries.png",
                 "cost_curves.png", "weight_norms.png", "weight_histograms.png"):
        assert (out / name).stat().st_size > 0, name
    payload = json.loads((out / "results.json").read_text())
    names = ["none", "l2", "l1", "dropout", "l2+dropout", "early-stopping", "augment"]
    assert len(payload["runs"]) == 14 and payload["seeds"] == [0, 1]
    assert [row["setting"] for row in payload["summary"]] == names
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 14 and {r["setting"] for r in rows} == set(names)
    assert len((out / "runs.jsonl").read_text().splitlines()) == 14
    for setting in ("none", "L2 0.7 + dropout keep 0.8", "mean ± 95% interval"):
        assert setting in result.output


def test_compare_cli_tune(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--tune", "--seeds", "1", "--iterations", "100",
                                       "--layers", "8", "--jobs", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "results.json").read_text())
    assert set(payload["tuned"]) == {"l2", "l1", "keep_prob"}
    assert "chosen on dev" in result.output
    assert payload["summary"][0]["dev"] is not None


def test_compare_course_reproduces_the_published_rows(football_path, tmp_path):
    result = CliRunner().invoke(main, ["compare", "--course", "--data", str(football_path),
                                       "--seeds", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "results.json").read_text())
    checks = payload["course_checks"]
    assert len(checks) == 6 and all(c["passed"] for c in checks)
    groups = [row["setting"] for row in payload["summary"]]
    assert groups == ["course none", "course l2", "course dropout", "none", "l2", "dropout"]


@pytest.mark.parametrize("args, message", [
    (["--dataset", "moons", "--augment", "rotate:10"],
     "rotate on 2-D points needs the 'rotate' symmetry, but data set 'moons' declares none"),
    (["--augment", "shift:1"], "shift works on images"),
    (["--keep-prob", ","], "expected one or more comma-separated numbers"),
    (["--early-stopping", "0"], "patience must be an integer >= 1, got 0"),
    (["--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["--jobs", "0"], "--jobs must be >= 1, got 0"),
    (["--keep-prob", "0.5,0.5,0.5"], "keep_prob must have one value per hidden layer (2), got 3"),
    (["--course", "--tune"], "cannot be combined with --tune"),
])
def test_compare_bad_input(args, message, tmp_path):
    (tmp_path / "runs.jsonl").write_text("kept\n")
    result = CliRunner().invoke(main, ["compare", "--out", str(tmp_path), *args])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert message in result.output
    assert (tmp_path / "runs.jsonl").read_text() == "kept\n"  # refused before touching --out


def test_compare_reports_when_every_run_diverges(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--seeds", "1", "--iterations", "50", "--jobs", "1",
                                       "--init", "random", "--learning-rate", "1e300",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "no run finished; the first error: training diverged at step" in result.output
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 7  # failures are logged too


def test_mini_batch_runs_are_evaluated_every_percent(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--epochs", "20", "--batch-size", "10", "--seeds", "1",
                                       "--jobs", "1", "--no-augment", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    plain = next(r for r in runs if r["group"] == "none")
    assert plain["steps"] == 20 * 15  # 150 training examples in batches of 10
    assert len(plain["history"]["eval_steps"]) == 101


def test_compare_course_refuses_options_it_would_ignore(football_path, tmp_path):
    result = CliRunner().invoke(main, ["compare", "--course", "--data", str(football_path),
                                       "--layers", "5", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--layers cannot be combined with it" in result.output
