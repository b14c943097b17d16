"""``sweep``: grids, outputs, the course's lambdas, and resuming a killed sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from reglab import InputError
from reglab.cli.main import main
from reglab.experiments.course import FOOTBALL
from reglab.experiments.sweep import Grid, label


def test_grid_keeps_swept_parameters_only():
    grid = Grid.build(l2=[0, 0.1, 1], keep_prob=[1, 0.8], l1=[0.5], layers=None)
    assert grid.names == ["l2", "keep_prob"]
    assert len(grid.points()) == 6
    assert grid.points()[1] == {"l2": 0.0, "keep_prob": 0.8}
    assert label({"l2": 0.1, "layers": (20, 3)}) == "l2=0.1, layers=20,3"
    with pytest.raises(InputError, match="one or two parameters, got 3: l2, l1, keep_prob"):
        Grid.build(l2=[0, 1], l1=[0, 1], keep_prob=[1, 0.5])
    with pytest.raises(InputError, match="needs one or two parameters with two or more values"):
        Grid.build(l2=[0.7])
    with pytest.raises(InputError, match=r"keep_prob must be in \(0, 1\], got 1.5"):
        Grid.build(keep_prob=[1, 1.5])
    with pytest.raises(InputError, match="keep_prob lists a value more than once: keep_prob=0.5"):
        Grid.build(keep_prob=[0.5, 0.5])
    with pytest.raises(InputError, match=r"layers\[0\] must be an integer >= 1, got 0"):
        Grid.build(layers=[(5,), (0,)])


def test_sweep_two_parameters_writes_curves_heatmap_and_boundaries(tmp_path):
    result = CliRunner().invoke(main, ["sweep", "--l2", "0,1", "--keep-prob", "1,0.8", "--seeds", "2",
                                       "--iterations", "200", "--layers", "8", "--jobs", "2",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("report.html", "results.json", "results.csv", "runs.jsonl", "sweep.json",
                 "validation_curve.png", "heatmap.png", "boundaries.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    payload = json.loads((tmp_path / "results.json").read_text())
    assert len(payload["runs"]) == 8 and payload["held_out"] == "dev"
    assert len(payload["summary"]) == 4
    assert "l2=1, keep_prob=0.8" in result.output


def test_sweep_layers(tmp_path):
    result = CliRunner().invoke(main, ["sweep", "--layers", "4/8,4", "--seeds", "1", "--iterations",
                                       "100", "--jobs", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["grid"] == {"layers": [[4], [8, 4]]}


def test_sweep_course_compat_is_the_course(football_path, tmp_path):
    """The course's lambda through sweep gives the published accuracies (same code path as train)."""
    result = CliRunner().invoke(main, ["sweep", "--l2", "0.7,5", "--data", str(football_path),
                                       "--course-compat", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    runs = {r["params"]["l2"]: r for r in json.loads((tmp_path / "results.json").read_text())["runs"]}
    assert runs[0.7]["train_accuracy"] == FOOTBALL["l2"]["train_accuracy"]
    assert runs[0.7]["test_accuracy"] == FOOTBALL["l2"]["test_accuracy"]
    assert runs[5.0]["train_accuracy"] < runs[0.7]["train_accuracy"]  # oversmoothed


def test_resume_refuses_another_sweep(tmp_path):
    args = ["sweep", "--seeds", "1", "--iterations", "50", "--layers", "4", "--jobs", "1",
            "--out", str(tmp_path)]
    assert CliRunner().invoke(main, args + ["--l2", "0,1"]).exit_code == 0
    result = CliRunner().invoke(main, args + ["--l2", "0,2", "--resume"])
    assert result.exit_code == 2 and "holds a different sweep" in result.output
    # same sizes, other points: the data's fingerprint tells them apart
    result = CliRunner().invoke(main, args + ["--l2", "0,1", "--noise", "0.3", "--resume"])
    assert result.exit_code == 2 and "holds a different sweep" in result.output


def test_a_killed_sweep_resumes_with_every_run_exactly_once(tmp_path):
    args = [sys.executable, "-m", "reglab", "sweep", "--l2", "0,0.01,0.1,1", "--keep-prob", "1,0.8",
            "--seeds", "3", "--iterations", "1500", "--layers", "30,10", "--jobs", "2",
            "--out", str(tmp_path)]
    log = tmp_path / "runs.jsonl"
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 4):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = 0
    for line in log.read_text().splitlines():  # a line cut by the kill does not count
        try:
            json.loads(line)
            before += 1
        except json.JSONDecodeError:
            pass
    assert 4 <= before < 24, "the sweep should have been killed midway"
    done = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resumed: {before} run(s) already done, {24 - before} to run" in done.stdout
    keys = [json.loads(line)["key"] for line in log.read_text().splitlines()]
    assert len(keys) == 24 and len(set(keys)) == 24
    assert len(json.loads((tmp_path / "results.json").read_text())["runs"]) == 24


def test_an_interrupted_run_is_not_logged_as_finished(monkeypatch, tmp_path):
    """Ctrl-C reaches train() in the workers, which returns a truncated run: it must not count."""
    import reglab.experiments.runner as runner
    from reglab import TrainConfig
    from reglab.data import load_dataset

    real_train = runner.train
    calls = []

    def interrupted_second_time(*args, **kwargs):
        result = real_train(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            result.history.stop_reason = "interrupted"
        return result

    monkeypatch.setattr(runner, "train", interrupted_second_time)
    log = runner.RunLog(tmp_path / "runs.jsonl")
    specs = [runner.RunSpec("l2", {"l2": v}, 0) for v in (0.0, 0.1, 1.0)]
    # one run at a time (the reference engine): the batch stops at the interrupted run;
    # tests/test_engine_many.py has the runs stepped together
    records = runner.run_all(specs, load_dataset("field", n_samples=60),
                             TrainConfig(layers=(4,), iterations=20, engine="reference"),
                             jobs=1, on_done=log.append)
    assert [r.params["l2"] for r in records] == [0.0]
    assert [r.params["l2"] for r in log.read()] == [0.0]
