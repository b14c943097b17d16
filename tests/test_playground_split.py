"""Free train/dev/test ratios: ``reglab.data.resplit``, ``reglab train --split`` and the page's ratio control."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from click.testing import CliRunner

from reglab.cli.main import main
from reglab.data import load_dataset, resplit
from reglab.io import load_network
from reglab.playground.config import DataSource, command_line
from reglab.playground.session import PageSession

COLUMN = {"learning_rate": 0.1, "init": "he", "l2": 0.0, "l1": 0.0, "keep_prob": [1.0],
          "early_stopping": None, "augment": None}
PAGE = {"dataset": "moons", "n_samples": 300, "noise": 0.2, "data_seed": 1, "dev": True, "split": None,
        "train_size": None, "layers": [6], "hidden": "relu", "batch_size": None, "seed": 2, "record_every": 10,
        "course_compat": False, "columns": [COLUMN]}


def page(column=None, **changes):
    cfg = copy.deepcopy(PAGE)
    cfg.update(changes)
    cfg["columns"] = [{**COLUMN, **(column or {})}]
    return cfg


def rows(*arrays):
    return sorted(map(tuple, np.concatenate(arrays).tolist()))


def test_resplit_pools_every_example_and_splits_by_the_ratios_stratified():
    data = load_dataset("spiral", n_samples=303, seed=3, dev=True)
    out = resplit(data, (0.5, 0.2, 0.3), seed=4)
    assert (len(out.y_train), len(out.y_dev), len(out.y_test)) == (151, 61, 91)  # dev, test rounded; train the rest
    classes = np.bincount(np.concatenate([data.y_train, data.y_dev, data.y_test]))
    for y, size in ((out.y_train, 151), (out.y_dev, 61), (out.y_test, 91)):
        assert np.all(np.abs(np.bincount(y, minlength=len(classes)) - classes * size / 303) < 1)  # stratified
    assert rows(out.X_train, out.X_dev, out.X_test) == rows(data.X_train, data.X_dev, data.X_test)
    assert out.name == data.name and out.symmetries == data.symmetries
    again = resplit(data, (0.5, 0.2, 0.3), seed=4)
    np.testing.assert_array_equal(again.X_test, out.X_test)
    assert not np.array_equal(resplit(data, (0.5, 0.2, 0.3), seed=5).X_test, out.X_test)
    no_dev = resplit(data, [0.75, 0, 0.25], seed=4)
    assert not no_dev.has_dev and (len(no_dev.y_train), len(no_dev.y_test)) == (227, 76)
    with pytest.raises(ValueError, match=r"ratios must be three non-negative fractions .* got \(0\.5, 0\.6, -0\.1\)"):
        resplit(data, (0.5, 0.6, -0.1))


def train(*argv):
    return CliRunner().invoke(main, ["train", "--iterations", "5", "--print-every", "100", *argv])


def test_train_split_sizes_the_sets_and_subsamples_after_it():
    result = train("--dataset", "moons", "--n-samples", "200", "--split", "0.5,0.2,0.3")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("moons: 2 features, 2 classes; train 100 [50 50], dev 40 [20 20], "
                                    "test 60 [30 30]")
    result = train("--dataset", "moons", "--n-samples", "200", "--split", "0.9,0,0.1", "--train-size", "50")
    assert result.output.startswith("moons: 2 features, 2 classes; train 50 [25 25], test 20 [10 10]")


@pytest.mark.parametrize("argv, error", [
    (["--split", "0.5,0.5"], "Error: --split must be three fractions TRAIN,DEV,TEST, each >= 0, summing to 1, "
                             "TRAIN and TEST above 0; got 0.5,0.5"),
    (["--split", "0.6,0.3,0.3"], "got 0.6,0.3,0.3"),
    (["--split", "0.8,0.2,0"], "got 0.8,0.2,0.0"),
    (["--split", "0.5,x,0.5"], "Error: Invalid value for '--split': expected comma-separated numbers"),
    (["--split", "0.6,0.2,0.2", "--dev"], "Error: give --split or --dev/--no-dev, not both"),
    (["--split", "0.6,0.2,0.2", "--no-dev"], "Error: give --split or --dev/--no-dev, not both"),
    (["--dataset", "circles_course", "--split", "0.6,0.2,0.2"],
     "Error: --split applies to data reglab splits itself; circles_course has its own train/test split"),
    (["--split", "0.8,0,0.2", "--early-stopping", "3"],
     "Error: early stopping needs a dev set; give --split a DEV fraction above 0"),
    (["--n-samples", "20", "--split", "0.02,0.49,0.49"],
     r"Error: ratios (0.02, 0.49, 0.49) leave no training example out of 20 samples"),
])
def test_train_split_refuses_bad_values_by_name(argv, error):
    result = train(*argv)
    assert result.exit_code != 0 and error in result.output, result.output
    assert "Traceback" not in result.output


def test_train_split_refuses_a_file_with_its_own_test_set(tmp_path):
    path = tmp_path / "fixed.npz"
    X = np.random.default_rng(0).normal(size=(40, 2))
    np.savez(path, X=X[:30], y=(X[:30, 0] > 0).astype(int), X_test=X[30:], y_test=(X[30:, 0] > 0).astype(int))
    result = train("--data", str(path), "--split", "0.6,0.2,0.2")
    assert result.exit_code != 0
    assert f"Error: --split applies to data reglab splits itself; {path} has its own train/test split" in result.output


@pytest.mark.parametrize("cfg, error", [
    (page(split=[0.5, 0.5]), r"split must be three fractions \[train, dev, test\], each >= 0, summing to 1, "
                             r"train and test above 0; got \[0\.5, 0\.5\]"),
    (page(split="60/20/20"), "split must be three fractions .*got '60/20/20'"),
    (page(split=[0.7, 0.3, 0]), "split must be three fractions"),
    (page(dataset="circles_course", n_samples=None, noise=None, split=[0.6, 0.2, 0.2]),
     "split applies to data reglab splits itself; circles_course has its own train/test split"),
    (page(split=[0.7, 0, 0.3], column={"early_stopping": 2}),
     "early stopping needs a dev set; give the split a dev fraction above 0"),
])
def test_the_page_refuses_a_bad_split(cfg, error):
    with pytest.raises(ValueError, match=error):
        PageSession(cfg, {})


def test_the_page_split_sets_dev_and_is_exported_as_split():
    session = PageSession(page(split=[0.7, 0.0, 0.3], dev=True), {})
    assert session.cfg["dev"] is False and not session.data.has_dev  # the split's dev fraction decides
    assert (len(session.data.y_train), len(session.data.y_test)) == (210, 90)
    args = command_line(session.cfg, session.cfg["columns"][0], 10, 1, {})
    assert "--dev" not in args and args[args.index("--split") + 1] == "0.7,0.0,0.3"


@pytest.mark.parametrize("cfg, steps", [
    (page(split=[0.5, 0.2, 0.3], train_size=100, column={"early_stopping": 2}, record_every=5), 90),
    (page(split=[0.85, 0.0, 0.15], batch_size=64, column={"keep_prob": [0.8]}), 4 * 4),
], ids=["split-dev-train-size-early-stopping", "split-no-dev-mini-batch"])
def test_exported_split_command_reproduces_the_page(cfg, steps, tmp_path):
    session = PageSession(cfg, {})
    session.advance(steps)
    exported = session.export(0)
    assert exported["notes"] == [] and "--split" in exported["argv"]
    page_model, cli_model = tmp_path / "page.npz", tmp_path / "cli.npz"
    page_model.write_bytes(session.model_file(0))
    result = CliRunner().invoke(main, [str(cli_model) if a == "model.npz" else a for a in exported["argv"]])
    assert result.exit_code == 0, result.output
    a, b = load_network(page_model)[0], load_network(cli_model)[0]
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(x, y)


def test_an_uploaded_csv_takes_a_split_as_the_cli_does(tmp_path):
    path = tmp_path / "blobs.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2)) + np.repeat([[0, 0], [3, 0], [0, 3]], 30, axis=0)
    path.write_text("a,b,label\n" + "".join(f"{x:.5f},{z:.5f},{k}\n" for (x, z), k in zip(X, np.repeat([0, 1, 2], 30))))
    session = PageSession(page(dataset="upload:1", n_samples=None, noise=None, split=[0.6, 0.1, 0.3]),
                          {"upload:1": DataSource(path, "blobs.csv")})
    assert session.data.summary() == "blobs: 2 features, 3 classes; train 54 [18 18 18], dev 9 [3 3 3], test 27 [9 9 9]"
    result = train("--data", str(path), "--split", "0.6,0.1,0.3", "--data-seed", "1")
    assert result.output.startswith(session.data.summary())
