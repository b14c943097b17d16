"""Fault injection on model files and networks: every damaged or mismatched model is
refused on load with a message naming the file and what is wrong; ``Network(...)``
refuses parameters that cannot form a network; a sweep's ``models/`` holds only
networks of that sweep."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from reglab import InputError, Network, TrainConfig, load_network, save_network, train
from reglab.data import make_moons
from reglab.experiments.sweep import Grid, first_seed_networks, model_path, specs_for


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A trained [2, 6, 4, 1] network's arrays and metadata, as save_network writes them."""
    data = make_moons(n_samples=80, seed=0)
    result = train(data.X_train, data.y_train, TrainConfig(layers=(6, 4), iterations=30))
    path = save_network(tmp_path_factory.mktemp("good") / "m.npz", result.network, config=result.config)
    with np.load(path) as npz:
        arrays = dict(npz)
    return arrays, json.loads(str(arrays["metadata"]))


def write(tmp_path, arrays: dict, meta: dict | None = None, name="bad.npz"):
    arrays = dict(arrays)
    if meta is not None:
        arrays["metadata"] = np.array(json.dumps(meta))
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def changed(good, **changes):
    arrays, meta = good
    arrays = {k: v.copy() for k, v in arrays.items()}
    meta = json.loads(json.dumps(meta))
    for key, value in changes.items():
        if key.startswith("meta_"):
            meta[key[5:]] = value
        elif value is None:
            arrays.pop(key)
        else:
            arrays[key] = value(arrays[key]) if callable(value) else value
    return arrays, meta


def nan_at(W):
    W = W.copy()
    W[0, 0] = np.nan
    return W


def inf_at(b):
    b = b.copy()
    b[-1] = np.inf
    return b


# (case, changes, the message the error must hold besides the file's name)
DAMAGED = [
    ("nan-weights", {"W1": nan_at}, r"W1 holds a non-finite value \(nan\)"),
    ("inf-bias", {"b2": inf_at}, r"b2 holds a non-finite value \(inf\)"),
    ("softmax-with-1-unit", {"meta_output": "softmax"}, "a softmax output needs 2 or more units"),
    ("sigmoid-with-2-units", {"W3": lambda W: np.vstack([W, W]), "b3": lambda b: np.r_[b, b],
                              "meta_layer_sizes": [2, 6, 4, 2]}, "a sigmoid output has 1 unit, but the last layer has 2"),
    ("one-activation-for-two-hidden-layers", {"meta_hidden": ["relu"]},
     r"hidden must name one activation per hidden layer \(2 for layer_sizes \[2, 6, 4, 1\]\), got \['relu'\]"),
    ("unknown-activation", {"meta_hidden": ["relu", "swish"]}, "swish"),
    ("string-weights", {"W2": lambda W: W.astype(str)}, "W2 must hold floating-point numbers, got dtype <U"),
    ("integer-weights", {"W1": lambda W: W.astype(np.int64)}, "W1 must hold floating-point numbers, got dtype int64"),
    ("complex-weights", {"W1": lambda W: W.astype(complex)}, "W1 must hold floating-point numbers, got dtype complex128"),
    ("layer-sizes-[2]", {"meta_layer_sizes": [2], "meta_hidden": []},
     r"layer_sizes must list the input size and at least the output layer's .* got \[2\]"),
    ("layer-sizes-not-matching", {"meta_layer_sizes": [2, 5, 4, 1]},
     r"W1/b1 have shapes \(6, 2\)/\(6,\), expected \(5, 2\)/\(5,\)"),
    ("layer-sizes-zero", {"meta_layer_sizes": [2, 0, 4, 1]}, "layer_sizes must list"),
    ("layer-sizes-strings", {"meta_layer_sizes": ["2", "6", "4", "1"]}, "layer_sizes must list"),
    ("shapes-not-chaining", {"W2": lambda W: W[:, :3]}, r"W2/b2 have shapes \(4, 3\)/\(4,\), expected \(4, 6\)"),
    ("bias-2-d", {"b1": lambda b: b[None, :]}, r"W1/b1 have shapes \(6, 2\)/\(1, 6\)"),
    ("missing-b2", {"b2": None}, "missing 'b2'"),
    ("extra-array", {"W4": np.zeros((1, 1))}, "arrays W4 are not part of the 3-layer network"),
    ("output-unknown", {"meta_output": "relu"}, "output must be 'sigmoid' or 'softmax', got 'relu'"),
    ("hidden-not-a-list", {"meta_hidden": "relu"}, "hidden must name one activation per hidden layer"),
    ("wrong-format", {"meta_format": "keras"}, "format is 'keras', expected 'reglab-network'"),
    ("format-version-string", {"meta_format_version": "1"}, "format_version must be an integer, got '1'"),
    ("newer-format", {"meta_format_version": 99}, "format_version 99 is newer than this reglab reads"),
]


@pytest.mark.parametrize("case, changes, message", DAMAGED, ids=[c[0] for c in DAMAGED])
def test_damaged_model_files_are_refused_naming_file_and_problem(case, changes, message, good, tmp_path):
    path = write(tmp_path, *changed(good, **changes))
    with pytest.raises(InputError, match=rf"bad\.npz is not a valid reglab model file: .*{message}"):
        load_network(path)


@pytest.mark.parametrize("metadata, message", [
    (np.array("{not json"), "Expecting property name"),
    (np.array("[1, 2]"), "metadata must be a JSON object, got list"),
    (np.array(3.0), "metadata must be one JSON string, got float64"),
    (np.array(["{}", "{}"]), r"metadata must be one JSON string, got <U2 of shape \(2,\)"),
], ids=["not-json", "json-list", "a-number", "two-strings"])
def test_malformed_metadata_is_refused(metadata, message, good, tmp_path):
    arrays = dict(good[0], metadata=metadata)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(InputError, match=rf"bad\.npz is not a valid reglab model file: {message}"):
        load_network(path)


def _forged(tmp_path, good, shape=(10**6, 10**6), compress=zipfile.ZIP_STORED):
    """A small .npz whose W1 header claims ``shape``: the 522-byte file of the issue."""
    arrays, meta = good
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            if name == "W1":
                np.lib.format.write_array_header_1_0(
                    buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
                buf.write(b"\0" * 64)
            else:
                np.lib.format.write_array(buf, arr)
            z.writestr(name + ".npy", buf.getvalue())
    return path


@pytest.mark.parametrize("compress", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"])
def test_a_header_claiming_more_than_the_file_holds_is_refused_before_allocating(compress, good, tmp_path):
    path = _forged(tmp_path, good, compress=compress)
    assert path.stat().st_size < 5000
    with pytest.raises(InputError, match=r"forged\.npz is not a valid reglab model file: the header of "
                                         r"array 'W1' claims shape \(1000000, 1000000\) of float64 "
                                         r"\(8,000,000,000,000 bytes\), but the file holds 64 bytes"):
        load_network(path)


def test_a_header_off_by_a_little_is_refused_too(good, tmp_path):
    path = _forged(tmp_path, good, shape=(6, 3))  # 144 bytes claimed, 64 present
    with pytest.raises(InputError, match=r"claims shape \(6, 3\) of float64 \(144 bytes\), but the file holds 64"):
        load_network(path)


@pytest.mark.parametrize("content, message", [
    (b"", "is not a reglab model file"),
    (b"not a zip file at all", "is not a reglab model file"),
    (None, "is not a reglab model file"),  # the good file cut in half
], ids=["empty", "not-a-zip", "truncated"])
def test_unreadable_files_are_refused(content, message, good, tmp_path):
    path = tmp_path / "bad.npz"
    if content is None:
        whole = write(tmp_path, *good, name="whole.npz").read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"bad\.npz {message}"):
        load_network(path)


def test_a_single_npy_array_and_a_pickle_are_refused(good, tmp_path):
    path = tmp_path / "array.npz"
    with path.open("wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(InputError, match=r"array\.npz is not a reglab model file .*single array"):
        load_network(path)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **dict(good[0], metadata=np.array([{"format": "reglab-network"}], dtype=object)))
    with pytest.raises(InputError, match=r"pickled\.npz is not a reglab model file"):
        load_network(pickled)


def test_a_good_file_still_loads_and_saving_is_atomic(good, tmp_path):
    net, meta = load_network(write(tmp_path, *good, name="ok.npz"))
    assert net.layer_sizes == (2, 6, 4, 1) and meta["hidden"] == ["relu", "relu"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.npz"]  # no temporary file left
    save_network(tmp_path / "ok.npz", net)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.npz"]


# --- Network(...) checks its own shapes ---------------------------------------------------------

def _params(sizes=(2, 5, 3, 1)):
    rng = np.random.default_rng(0)
    return ([rng.normal(size=(sizes[l + 1], sizes[l])) for l in range(len(sizes) - 1)],
            [np.zeros(sizes[l + 1]) for l in range(len(sizes) - 1)])


@pytest.mark.parametrize("edit, message", [
    (lambda W, b, h: (W[:1] + [W[1][:, :4]] + W[2:], b, h),
     r"W2 \(3, 4\) must take the 5 outputs of W1 \(5, 2\): shapes do not chain"),
    (lambda W, b, h: (W, b[:2] + [np.zeros(2)], h), r"b3 must have shape \(1,\) to match W3 \(1, 3\), got \(2,\)"),
    (lambda W, b, h: (W, b[:2], h), "one bias per weight matrix .* got 3 weight matrices and 2 biases"),
    (lambda W, b, h: ([], [], ()), "at least one layer, got 0 weight matrices"),
    (lambda W, b, h: ([W[0].ravel()] + W[1:], b, h), "W1 must be a 2-D floating-point array, got array of shape"),
    (lambda W, b, h: ([W[0].astype(int)] + W[1:], b, h), "W1 must be a 2-D floating-point array, .* dtype int64"),
    (lambda W, b, h: (W, b, ("relu",)), r"hidden must name one activation per hidden layer \(2 for 3 weight "
                                        r"matrices\), got 1"),
    (lambda W, b, h: (W, b, ("relu", "nope")), "nope"),
], ids=["not-chaining", "bias-size", "missing-bias", "empty", "1-d-weights", "int-weights",
        "activation-count", "unknown-activation"])
def test_network_refuses_parameters_that_cannot_form_a_network(edit, message):
    W, b = _params()
    weights, biases, hidden = edit(W, b, ("relu", "tanh"))
    with pytest.raises((InputError, ValueError), match=message):
        Network(weights, biases, hidden, "sigmoid")


def test_network_refuses_outputs_that_do_not_match_the_last_layer():
    W, b = _params((2, 4, 1))
    with pytest.raises(InputError, match="a softmax output needs 2 or more units .* the last layer has 1"):
        Network(W, b, ("relu",), "softmax")
    W, b = _params((2, 4, 3))
    with pytest.raises(InputError, match="a sigmoid output has 1 unit, but the last layer has 3"):
        Network(W, b, ("relu",), "sigmoid")
    with pytest.raises(TypeError, match="hidden must be a tuple of activation names"):
        Network(W, b, "relu", "softmax")
    assert Network(W, b, ("relu",), "softmax").n_classes == 3


# --- a sweep's models/ -------------------------------------------------------------------------

SWEEP = ["sweep", "--dataset", "moons", "--n-samples", "80", "--layers", "8,4", "--iterations", "60",
         "--l2", "0,1", "--seeds", "2", "--jobs", "1"]


def test_a_foreign_network_in_a_sweeps_models_is_refused(tmp_path):
    out = tmp_path / "sweep"
    done = subprocess.run([sys.executable, "-m", "reglab", *SWEEP, "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first = specs_for(Grid.build(l2=[0, 1]), range(2))[0]
    target = model_path(out, first.group, first.seed)
    assert target.exists()
    data = make_moons(n_samples=80, seed=0)
    other = train(data.X_train, data.y_train, TrainConfig(layers=(5,), iterations=5)).network  # [2, 5, 1]
    save_network(target, other)
    message = (f"{target} is not a network of this sweep's point l2=0: it has hidden layers [5], "
               f"the sweep's are [8, 4]")
    resumed = subprocess.run([sys.executable, "-m", "reglab", *SWEEP, "--out", str(out), "--resume"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 2
    assert f"Error: {message}" in resumed.stderr and "Traceback" not in resumed.stderr
    records = __import__("reglab.experiments.runner", fromlist=["RunLog"]).RunLog(out / "runs.jsonl").read()
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        first_seed_networks(out, records, Grid.build(l2=[0, 1]))
    shutil.rmtree(out / "models")  # networks are redrawn only by a new sweep; the rest resumes
    assert first_seed_networks(out, records, Grid.build(l2=[0, 1])) == []
