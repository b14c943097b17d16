"""Fault injection on the command line: options that cannot apply, empty list fields,
configurations too large for memory, output paths that cannot be written, user text
that looks like console markup, labels and arrays that would be taken with the wrong
meaning. Each ends in ``Error: ...`` naming the problem and a non-zero exit before any
work, or in the right result; never in a traceback."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner

from reglab.cli.main import main
from reglab.data import load_file

TRAIN = ["train", "--dataset", "moons", "--n-samples", "60", "--iterations", "20"]
SWEEP = ["sweep", "--dataset", "moons", "--n-samples", "60", "--iterations", "20", "--layers", "4",
         "--seeds", "1", "--jobs", "1"]
COMPARE = ["compare", "--dataset", "moons", "--n-samples", "60", "--iterations", "20", "--seeds", "1",
           "--jobs", "1"]


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def refused(result, message: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert message in result.output, result.output


# --- options that would be ignored or repaired --------------------------------------------------

IGNORED = [
    (TRAIN + ["--epochs", "2", "--batch-size", "8"],
     "--iterations sets full-batch steps; with --epochs/--batch-size a run takes epochs x batches steps"),
    (TRAIN + ["--label", "y"], "--label names the label column of a CSV file; a built-in data set"),
    (TRAIN + ["--min-delta", "0.1"], "--min-delta only applies to early stopping, which is off"),
    (TRAIN + ["--monitor", "dev_accuracy"], "--monitor only applies to early stopping, which is off"),
    (TRAIN + ["--augment", "jitter:0.1", "--augment-factor", "3"],
     "--augment-factor sets how much larger the offline training set becomes; it needs --augment with "
     "--augment-mode offline"),
    (TRAIN + ["--augment-mode", "offline"], "--augment-mode only applies with --augment"),
    (TRAIN + ["--allow-flips"], "--allow-flips only applies with --augment"),
    (TRAIN + ["--eval-every-epoch"], "--eval-every-epoch needs mini-batch training (--epochs and --batch-size)"),
    (SWEEP + ["--l2", "0,1", "--min-delta", "0.1"], "--min-delta only applies to early stopping, which is off"),
    (SWEEP + ["--l2", "0,1", "--epochs", "2", "--batch-size", "8"], "--iterations sets full-batch steps"),
    (COMPARE + ["--no-early-stopping", "--monitor", "dev_accuracy"],
     "--monitor only applies to early stopping, which is off"),
    (COMPARE + ["--no-augment", "--augment-mode", "offline"], "--augment-mode only applies with --augment"),
    (COMPARE + ["--no-early-stopping", "--early-stopping", "5"],
     "--early-stopping sets the early-stopping setting, which --no-early-stopping leaves out"),
]


@pytest.mark.parametrize("args, message", IGNORED, ids=[" ".join(a[len(TRAIN) - 5:])[:40] for a, _ in IGNORED])
def test_an_option_that_cannot_apply_is_an_error(args, message, tmp_path):
    if args[0] in ("sweep", "compare"):
        args = args + ["--out", str(tmp_path / "out")]
    refused(invoke(*args), message)
    assert not (tmp_path / "out" / "runs.jsonl").exists()


def test_label_on_a_npz_file_is_an_error(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.random.default_rng(0).normal(size=(30, 2)), y=np.arange(30) % 2)
    refused(invoke("train", "--data", str(path), "--label", "y"),
            f"--label names the label column of a CSV file; --data {path} has its labels in a fixed place")


EMPTY_FIELDS = [
    (TRAIN + ["--layers", "20,,3"], "'20,,3', which has an empty field"),
    (TRAIN + ["--layers", "20,"], "'20,', which has an empty field"),
    (TRAIN + ["--layers", ",3"], "',3', which has an empty field"),
    (TRAIN + ["--keep-prob", "0.9,,0.8"], "'0.9,,0.8', which has an empty field"),
    (SWEEP + ["--layers", "20,3/"], "'20,3/', which has an empty one"),
    (SWEEP + ["--layers", "/20,3"], "'/20,3', which has an empty one"),
    (SWEEP + ["--layers", "20//3"], "'20//3', which has an empty one"),
    (SWEEP + ["--l2", "0,,1"], "'0,,1', which has an empty field"),
    (SWEEP + ["--keep-prob", "1,0.8,"], "'1,0.8,', which has an empty field"),
    (["replay", "x.json", "--patience", "3,,5"], "'3,,5', which has an empty field"),
    (["diagnose", "--sizes", "0.1,,1"], "'0.1,,1', which has an empty field"),
    (["gradcheck", "--layers", "5,,3"], "'5,,3', which has an empty field"),
]


@pytest.mark.parametrize("args, message", EMPTY_FIELDS, ids=[a[-1] for a, _ in EMPTY_FIELDS])
def test_list_options_reject_empty_fields(args, message, tmp_path):
    if args[0] == "sweep":
        args = args + ["--out", str(tmp_path / "out")]
    result = invoke(*args)
    refused(result, message)
    assert "Invalid value for" in result.output


def test_an_empty_layers_value_still_means_no_hidden_layer():
    result = invoke(*TRAIN[:-2], "--iterations", "5", "--layers", "")
    assert result.exit_code == 0, result.output


# --- memory ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, part", [
    (TRAIN[:-2] + ["--iterations", "1000000000000"], "history"),
    (TRAIN + ["--layers", "100000,100000"], "weights"),
    (SWEEP + ["--l2", "0,1", "--layers", "100000,100000"], "weights"),
    (COMPARE + ["--layers", "100000,100000"], "weights"),
], ids=["train-iterations", "train-layers", "sweep-layers", "compare-layers"])
def test_a_configuration_too_large_for_memory_is_refused_with_the_estimate(args, part, tmp_path):
    if args[0] in ("sweep", "compare"):
        args = args + ["--out", str(tmp_path / "out")]
    result = invoke(*args)
    refused(result, "of memory (")
    text = " ".join(result.output.split())
    assert f"{part} " in text and "more than the " in text and "this machine has available" in text
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "runs.jsonl").exists()


def test_a_522_byte_npz_claiming_a_huge_array_is_refused(tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (10**6, 10**6)})
    buf.write(b"\0" * 64)
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", buf.getvalue())
        z.writestr("y.npy", buf.getvalue())
    assert path.stat().st_size < 1000
    refused(invoke("train", "--data", str(path)),
            f"{path} is not a valid .npz data file: the header of array 'X' claims shape "
            f"(1000000, 1000000) of float64 (8,000,000,000,000 bytes), but the file holds 64 bytes")


# --- outputs ---------------------------------------------------------------------------------------

def test_outputs_are_checked_before_training(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    cases = [
        (["--json", str(tmp_path)], "is a directory"),  # click's own check
        (["--json", str(a_file / "out.json")], f"--json {a_file / 'out.json'}: {a_file} is a file, not a folder"),
        (["--save", str(a_file / "sub" / "m")], f"--save {a_file / 'sub' / 'm.npz'}: {a_file} is a file"),
        (["--save", str(tmp_path)], "is a directory"),
    ]
    for extra, message in cases:
        result = invoke(*TRAIN, "--print-every", "1", *extra)
        refused(result, message)
        assert "Cost after iteration" not in result.output  # refused before any training
    (tmp_path / "m.npz").mkdir()
    refused(invoke(*TRAIN, "--save", str(tmp_path / "m")), f"--save {tmp_path / 'm.npz'} is a folder")
    for verb in (SWEEP + ["--l2", "0,1"], COMPARE):
        refused(invoke(*verb, "--out", str(a_file)), "is a file")


def test_train_json_on_divergence_writes_the_history_with_the_error(tmp_path):
    out = tmp_path / "deep" / "run.json"
    result = invoke("train", "--dataset", "moons", "--n-samples", "60", "--init", "random",
                    "--learning-rate", "1e200", "--iterations", "50", "--print-every", "1",
                    "--json", str(out))
    refused(result, f"training diverged at step 1: Z2", code=1)
    assert f"the history up to it is in {out}" in result.output
    payload = json.loads(out.read_text())
    assert payload["error"].startswith("training diverged at step 1")
    assert payload["stop_reason"] == "non-finite" and payload["steps"] == 1
    # evaluated at steps 0 and 1; step 1's forward pass then overflowed
    assert payload["history"]["eval_steps"] == [0, 1] and len(payload["history"]["train_cost"]) == 2
    assert list(payload["costs"]) == ["0"]
    assert payload["config"]["learning_rate"] == 1e200


# --- console markup ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a[/]b", "[bold]x[/]", "[red", ":smile:"])
def test_user_text_is_never_read_as_console_markup(name, tmp_path):
    save = tmp_path / name
    result = invoke(*TRAIN, "--save", str(save), "--json", str(tmp_path / (name + ".json")))
    assert result.exit_code == 0, result.output
    assert f"Saved the network to {save}.npz" in result.output
    assert (tmp_path / (name + ".npz")).exists() and (tmp_path / (name + ".json")).exists()
    csv = tmp_path / f"{name}.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    csv.write_text("a,b,label\n" + "".join(f"{a},{b},{int(a > 0)}\n" for a, b in X))
    out = tmp_path / f"sweep {name}"
    result = invoke("sweep", "--data", str(csv), "--iterations", "10", "--layers", "3", "--l2", "0,1",
                    "--seeds", "1", "--jobs", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"{csv.stem}: 2 features, 2 classes" in result.output  # "a[/]b.csv" is "]b.csv" in "a["
    assert f"to {out}/" in " ".join(result.output.split()) or str(out) in result.output


# --- labels and arrays ------------------------------------------------------------------------------

def _label_files(tmp_path, y_values=(2, 5)):
    rng = np.random.default_rng(0)
    X, Xv = rng.normal(size=(60, 2)), rng.normal(size=(30, 2))
    y = np.where(X[:, 0] > 0, *y_values[::-1])
    yv = np.where(Xv[:, 0] > 0, *y_values[::-1])
    scipy.io.savemat(tmp_path / "l.mat", {"X": X, "y": y[:, None], "Xval": Xv, "yval": yv[:, None]})
    np.savez(tmp_path / "l.npz", X=X, y=y, X_test=Xv, y_test=yv)
    rows = [*zip(X, y), *zip(Xv, yv)]
    (tmp_path / "l.csv").write_text("a,b,label\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in rows))
    return X, y


@pytest.mark.parametrize("values", [(2, 5), (-1, 1), (1, 2)])
def test_labels_are_encoded_the_same_from_mat_csv_and_npz(values, tmp_path):
    X, y = _label_files(tmp_path, values)
    expected = (y == max(values)).astype(int)
    mapping = f"labels encoded {min(values)} -> 0, {max(values)} -> 1"
    for name in ("l.mat", "l.npz"):
        data = load_file(tmp_path / name)
        np.testing.assert_array_equal(data.y_train, expected)
        assert data.n_classes == 2 and data.classes == (str(min(values)), str(max(values)))
        assert data.summary().endswith(mapping)
    csv = load_file(tmp_path / "l.csv")
    assert csv.n_classes == 2 and csv.summary().endswith(mapping)
    result = invoke("train", "--data", str(tmp_path / "l.mat"), "--iterations", "5")
    assert result.exit_code == 0 and mapping in result.output
    assert "2 classes" in result.output  # not a 6-class softmax with four empty classes


@pytest.mark.parametrize("kind", ["mat", "npz"])
def test_complex_and_object_arrays_are_refused(kind, tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)) + 1j, (np.arange(40) % 2)
    path = tmp_path / f"c.{kind}"
    if kind == "mat":
        scipy.io.savemat(path, {"X": X, "y": y[:, None], "Xval": X.real, "yval": y[:, None]})
        message = "X must hold real numbers, got complex values"
    else:
        np.savez(path, X=X, y=y)
        message = "X holds complex numbers (dtype complex128), which would lose their imaginary parts"
    refused(invoke("train", "--data", str(path)), message)
    if kind == "mat":
        cell = np.empty((40, 1), dtype=object)
        cell[:, 0] = [np.array([1.0, 2.0])] * 40
        scipy.io.savemat(path, {"X": cell, "y": y[:, None], "Xval": X.real, "yval": y[:, None]})
        refused(invoke("train", "--data", str(path)), "X must be a numeric array, got an object array")
