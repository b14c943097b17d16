"""The ``reglab`` command line: outputs, files, and errors without tracebacks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from reglab import load_network
from reglab.cli.main import main


def run(*args):
    """Invoke the CLI; an exception other than a clean exit would be a traceback for the user."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_train_writes_json_and_a_model(tmp_path):
    out, model = tmp_path / "run.json", tmp_path / "net.npz"
    result = run("train", "--dataset", "moons", "--n-samples", 200, "--layers", "8,4",
                 "--iterations", 300, "--print-every", 100, "--keep-prob", "0.9,0.8",
                 "--l2", 0.1, "--dev", "--json", out, "--save", model)
    assert result.exit_code == 0, result.output
    assert "Cost after iteration 200:" in result.output
    payload = json.loads(out.read_text())
    assert set(payload) >= {"config", "costs", "train_accuracy", "test_accuracy", "dev_accuracy",
                            "seconds"}
    assert list(payload["costs"]) == ["0", "100", "200"]
    assert payload["config"]["keep_prob"] == [0.9, 0.8]
    assert payload["config"]["layers"] == [8, 4]
    net, meta = load_network(model)
    assert net.layer_sizes == (2, 8, 4, 1)
    assert meta["extra"]["test_accuracy"] == payload["test_accuracy"]


def test_train_mini_batch_and_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,target,c\n" + "\n".join(f"{x[0]},{x[1]},{t},{x[2]}" for x, t in zip(X, labels)))
    out = tmp_path / "r.json"
    result = run("train", "--data", csv, "--label", "target", "--layers", "8", "--epochs", 20,
                 "--batch-size", 16, "--learning-rate", 0.1, "--print-every", 50, "--json", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["test_accuracy"] > 0.85


@pytest.mark.parametrize("args, message", [
    (["--keep-prob", "1.5"], "keep_prob must be in (0, 1], got 1.5"),
    (["--l2", "-1"], "l2 must be a finite number >= 0, got -1"),
    (["--keep-prob", "0.5,0.5,0.5"], "keep_prob must have one value per hidden layer (2), got 3"),
    (["--epochs", "3"], "epochs and batch_size go together"),
    (["--layers", "a,b"], "expected comma-separated integers such as 20,3, got 'a,b'"),
    (["--data", "missing.csv"], "CSV file not found: missing.csv"),
    (["--data", "x.csv", "--dataset", "moons"], "give --data FILE or --dataset NAME, not both"),
    (["--dataset", "imagenet"], "'imagenet' is not one of"),
    (["--print-every", "0"], "--print-every must be >= 1, got 0"),
])
def test_bad_input_exits_2_with_a_message(args, message):
    result = run("train", "--iterations", "5", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_malformed_files(tmp_path):
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    result = run("train", "--data", bad_csv)
    assert result.exit_code == 2 and "oops" in result.output
    bad_mat = tmp_path / "bad.mat"
    bad_mat.write_bytes(b"MATLAB? no")
    result = run("train", "--data", bad_mat)
    assert result.exit_code == 2 and "must be a MATLAB file with arrays X" in result.output
    nan_npz = tmp_path / "nan.npz"
    np.savez(nan_npz, X=np.array([[1.0, np.nan]] * 10), y=np.array([0, 1] * 5))
    result = run("train", "--data", nan_npz)
    assert result.exit_code == 2 and "must contain only finite values, got nan" in result.output


def test_version_and_help():
    assert run("--version").output.startswith("reglab, version")
    result = run("--help")
    assert result.exit_code == 0
    for verb in ("train", "reproduce", "gradcheck"):
        assert verb in result.output


def test_replay_reads_a_logged_history_and_agrees_with_real_stopping(tmp_path):
    common = ["train", "--dataset", "field", "--dev", "--layers", "40,20", "--iterations", "2000",
              "--print-every", "100"]
    full, stopped = tmp_path / "full.json", tmp_path / "stopped.json"
    assert run(*common, "--json", full).exit_code == 0
    result = run("replay", full, "--patience", "3,5", "--min-delta", "0")
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.strip().startswith("│        3"))
    replayed_stop = int(line.split("│")[3])
    assert run(*common, "--early-stopping", 3, "--json", stopped).exit_code == 0
    payload = json.loads(stopped.read_text())
    assert payload["steps"] == replayed_stop
    assert payload["stop_reason"].startswith("early stopping: dev_cost did not improve")
    no_dev = tmp_path / "nodev.json"
    assert run("train", "--dataset", "field", "--no-dev", "--iterations", "200", "--json",
               no_dev).exit_code == 0
    result = run("replay", no_dev)
    assert result.exit_code == 2 and "needs a run trained with a dev set" in result.output


def test_single_class_data_is_refused(tmp_path):
    csv = tmp_path / "one.csv"
    csv.write_text("a,b,label\n" + "\n".join(f"{i},{i % 3},0" for i in range(30)))
    result = run("train", "--data", csv, "--iterations", 5)
    assert result.exit_code == 2 and "y must hold at least two classes, got only class 0" in result.output


def test_replay_refuses_files_without_a_history(tmp_path):
    for content, message in [("[1, 2]", "holds no training history"),
                             ('{"history": {"dev_cost": [1, 2]}}', "has no 'eval_steps'"),
                             ("not json", "is not a JSON file"),
                             ('{"runs": [{"group": "l2", "seed": 0, "error": "diverged"}]}',
                              "failed, it has no history: diverged")]:
        path = tmp_path / "r.json"
        path.write_text(content)
        result = run("replay", path)
        assert result.exit_code == 2 and message in result.output, result.output


def test_train_size_keeps_the_dev_set_whole():
    result = run("train", "--dataset", "field", "--train-size", 100, "--early-stopping", 3,
                 "--iterations", 50, "--print-every", 10)
    assert result.exit_code == 0, result.output
    assert "train 100 " in result.output and "dev 50 " in result.output


def test_a_test_class_missing_from_training_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "split.npz"
    np.savez(path, X=rng.standard_normal((20, 2)), y=np.array([0, 1] * 10),
             X_test=rng.standard_normal((6, 2)), y_test=np.array([0, 1, 2, 0, 1, 2]))
    result = run("train", "--data", path, "--iterations", 5)
    assert result.exit_code == 2
    assert "the test set holds class 2, which the training set does not have" in result.output


def test_dev_on_a_course_file_holds_out_part_of_its_training_set(football_path):
    result = run("train", "--data", football_path, "--dev", "--iterations", 5, "--print-every", 5)
    assert result.exit_code == 0, result.output
    assert "train 158 [79 79], dev 53 [26 27], test 200" in result.output


@pytest.mark.parametrize("verb, args", [
    ("compare", ["--no-early-stopping", "--no-augment"]),
    ("sweep", ["--l2", "0,0.1,1"]),
])
def test_ctrl_c_of_compare_and_sweep_writes_what_finished_and_exits_130(verb, args, tmp_path, monkeypatch):
    """Scripts can tell an interrupted run (130, as a shell reports SIGINT) from a finished one (0)."""
    import reglab.experiments.runner as runner

    calls = {"n": 0}
    real = runner._execute_safely

    def interrupted_third(spec, data, base):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(spec, data, base)

    monkeypatch.setattr(runner, "_execute_safely", interrupted_third)
    out = tmp_path / verb
    # one run after another (the reference engine): the third run's Ctrl-C leaves two finished;
    # runs stepped together are interrupted together (tests/test_engine_many.py)
    result = run(verb, *args, "--seeds", 2, "--iterations", 50, "--jobs", 1, "--engine", "reference",
                 "--out", out)
    assert result.exit_code == 130, result.output
    assert "exit code 130 (interrupted)" in result.output
    payload = json.loads((out / "results.json").read_text())
    assert payload["interrupted"] is True and len(payload["runs"]) == 2
    assert (out / "report.html").is_file()


def test_train_early_stopping_states_its_interval_and_stops_within_the_run(tmp_path):
    """Patience counts evaluations every 1% of the run, not --print-every's 1000 steps."""
    out = tmp_path / "es.json"
    result = run("train", "--dataset", "field", "--layers", "40,20", "--iterations", 10000,
                 "--early-stopping", 5, "--json", out)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the console wraps long lines
    assert ("Early stopping: dev_cost on the dev set is evaluated every 100 steps (1% of the run; "
            "--eval-every changes it); training stops after 5 evaluations, 500 steps,") in text
    payload = json.loads(out.read_text())
    steps = payload["history"]["eval_steps"]
    assert steps[:3] == [0, 100, 200] and payload["stop_reason"].startswith("early stopping")
    assert payload["steps"] == payload["best_step"] + 500 < 10000
    assert f"restored the weights of step {payload['best_step']}" in text


def test_train_says_when_it_restores_weights_without_stopping(tmp_path):
    out = tmp_path / "kept.json"
    result = run("train", "--dataset", "moons", "--iterations", 3000, "--early-stopping", 100,
                 "--eval-every", 30, "--json", out)
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert payload["stop_reason"] == "completed" and payload["best_step"] < 3000
    text = " ".join(result.output.split())
    assert "evaluated every 30 steps (1% of the run)" in text
    assert (f"Early stopping did not stop: dev_cost never went 100 evaluations without improving. The "
            f"network keeps the weights of its best evaluation, step {payload['best_step']} of 3000"
            ) in text


@pytest.mark.parametrize("args, message", [
    (["--iterations", "5", "--eval-every", "0"], "Error: --eval-every must be >= 1, got 0"),
    (["--eval-every", "10", "--eval-every-epoch", "--epochs", "2", "--batch-size", "8"],
     "Error: give --eval-every N or --eval-every-epoch, not both"),
])
def test_eval_every_is_checked(args, message):
    result = run("train", *args)
    assert result.exit_code == 2 and message in result.output


def test_predict_uses_a_saved_network(tmp_path):
    model = tmp_path / "m.npz"
    assert run("train", "--dataset", "moons", "--iterations", 300, "--save", model).exit_code == 0
    from reglab.data import load_dataset

    data = load_dataset("moons", dev=True)
    net, _ = load_network(model)
    csv_in = tmp_path / "points.csv"
    csv_in.write_text("x1,x2,truth\n" + "".join(f"{float(a)!r},{float(b)!r},{c}\n" for (a, b), c in zip(data.X_test,
                                                                                          data.y_test)))
    out = tmp_path / "pred.csv"
    result = run("predict", model, csv_in, "--label", "truth", "--out", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "row,prediction,p0,p1" and len(lines) == 1 + len(data.y_test)
    predicted = np.array([int(line.split(",")[1]) for line in lines[1:]])
    np.testing.assert_array_equal(predicted, net.predict(data.X_test))
    correct = int(np.sum(predicted == data.y_test))
    assert f"Accuracy: {correct / len(predicted):.4f} ({correct} of {len(predicted)})" in result.output
    npz = tmp_path / "points.npz"
    np.savez(npz, X=data.X_test)
    result = run("predict", model, npz)
    assert result.exit_code == 0 and result.output.splitlines()[1].startswith("0,")
    result = run("predict", model, csv_in)
    assert result.exit_code == 2 and ("has 3 feature column(s); the network was trained on 2 (name the "
                                      "label column with --label)") in result.output


def test_replay_lists_the_runs_of_a_results_file(tmp_path):
    out = tmp_path / "cmp"
    assert run("compare", "--seeds", 2, "--iterations", 50, "--jobs", 1, "--no-augment",
               "--no-early-stopping", "--out", out).exit_code == 0
    result = run("replay", out / "results.json", "--list")
    assert result.exit_code == 0
    rows = [l for l in result.output.splitlines() if l.startswith("│")]
    assert len(rows) == 10  # 5 settings x 2 seeds
    assert [cell.strip() for cell in rows[0].split("│")[1:5]] == ["0", "none", "0", "50"]
    payload = json.loads((out / "results.json").read_text())
    k = next(i for i, r in enumerate(payload["runs"]) if r["group"] == "l2" and r["seed"] == 1)
    assert f"│ {k:>5} │ l2" in result.output
    listed = run("replay", tmp_path / "cmp" / "results.json", "--run", k)
    assert listed.exit_code == 0 and "(l2, seed 1)" in listed.output


def test_replay_lists_the_fold_of_each_run_of_a_cv_compare(tmp_path):
    out = tmp_path / "cmp"
    assert run("compare", "--seeds", 1, "--cv", 2, "--iterations", 30, "--jobs", 1, "--no-augment",
               "--no-early-stopping", "--out", out).exit_code == 0
    result = run("replay", out / "results.json", "--list")
    assert result.exit_code == 0
    header = next(l for l in result.output.splitlines() if "setting" in l)
    assert [c.strip() for c in header.split("┃")[1:5]] == ["--run", "setting", "fold", "seed"]
    rows = [[c.strip() for c in l.split("│")[1:5]] for l in result.output.splitlines() if l.startswith("│")]
    assert len(rows) == 10  # 5 settings x 2 folds x 1 seed
    assert sorted(r[2] for r in rows if r[1] == "l2") == ["0", "1"]
    k = next(int(r[0]) for r in rows if r[1] == "l2" and r[2] == "1")
    replayed = run("replay", out / "results.json", "--run", k)
    assert replayed.exit_code == 0 and "(l2, fold 1, seed 0)" in replayed.output


def test_sweep_saves_models_under_readable_names(tmp_path):
    out = tmp_path / "sw"
    assert run("sweep", "--l2", "0,0.1", "--seeds", 2, "--iterations", 50, "--jobs", 1,
               "--out", out).exit_code == 0
    assert sorted(p.name for p in (out / "models").iterdir()) == ["l2=0.1_seed0.npz", "l2=0_seed0.npz"]
    _, metadata = load_network(out / "models" / "l2=0.1_seed0.npz")
    assert metadata["extra"] == {"sweep_point": {"l2": 0.1}, "seed": 0}


def test_predict_answers_in_the_files_own_labels(tmp_path):
    """Labels {2, 5} are encoded to 0/1 for training; predict maps them back."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 2))
    y = np.where(X[:, 0] + X[:, 1] > 0, 5, 2)
    train_csv, model, out = tmp_path / "two_five.csv", tmp_path / "m.npz", tmp_path / "p.csv"
    train_csv.write_text("a,b,label\n" + "".join(f"{a:.5f},{b:.5f},{c}\n" for (a, b), c in zip(X, y)))
    assert run("train", "--data", train_csv, "--layers", "4", "--iterations", 300, "--save", model).exit_code == 0
    result = run("predict", model, train_csv, "--label", "label", "--out", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "row,prediction,p2,p5"
    predicted = {line.split(",")[1] for line in lines[1:]}
    assert predicted == {"2", "5"}
    accuracy = float(result.output.split("Accuracy: ")[1].split()[0])
    assert accuracy > 0.9
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b,label\n0.1,0.2,3\n")
    result = run("predict", model, wrong, "--label", "label")
    assert result.exit_code == 2
    assert "the labels of" in result.output and "must be among the network's classes (2, 5), got 3" in result.output


def test_predict_refuses_a_model_whose_recorded_classes_do_not_fit_its_network(tmp_path):
    from reglab import save_network

    model = tmp_path / "m.npz"
    assert run("train", "--dataset", "moons", "--iterations", 20, "--save", model).exit_code == 0
    net, _ = load_network(model)
    bad = tmp_path / "bad.npz"
    save_network(bad, net, extra={"classes": ["cat"]})  # one name for two classes
    points = tmp_path / "points.npz"
    np.savez(points, X=np.zeros((3, 2)))
    result = run("predict", bad, points)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"Error: {bad} records the classes ['cat'], but its network has 2" in result.output
