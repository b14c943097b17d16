"""reglab's one split rule (docs/data.md): the test set first, then a quarter of the rest
as dev; the same in every verb and in the Python API."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from reglab.cli.common import load_data
from reglab.cli.main import main
from reglab.data import (default_ratios, load_dataset, load_file, train_dev_test_split,
                         with_dev_split)
from reglab.data.split import dev_size

SPLIT_BY_REGLAB = ["field", "moons", "spiral", "xor", "gaussian", "circles", "digits", "breast_cancer"]


def rows(X) -> set[bytes]:
    return {r.tobytes() for r in X}


@pytest.mark.parametrize("name", SPLIT_BY_REGLAB)
def test_adding_a_dev_set_keeps_the_test_set_and_carves_the_training_set(name):
    plain, with_dev = load_dataset(name, seed=2, dev=False), load_dataset(name, seed=2, dev=True)
    np.testing.assert_array_equal(with_dev.y_test, plain.y_test)
    if name != "breast_cancer":  # standardized with its training split's mean and std: values move
        assert rows(with_dev.X_train) | rows(with_dev.X_dev) == rows(plain.X_train)
        assert not rows(with_dev.X_train) & rows(with_dev.X_dev)
    n_rest = len(plain.y_train)
    assert len(with_dev.y_dev) == int(np.floor(n_rest / 4 + 0.5))  # a quarter of the rest


@pytest.mark.parametrize("name", SPLIT_BY_REGLAB + ["circles_course"])
def test_dev_true_is_with_dev_split_of_the_plain_data(name):
    """``load_dataset(name, dev=True)`` is the plain data with ``with_dev_split``: one rule, whatever
    the data set (breast_cancer is compared before its standardization, through sizes)."""
    a = load_dataset(name, seed=1, dev=True)
    b = with_dev_split(load_dataset(name, seed=1, dev=False), seed=1)
    if name == "breast_cancer":
        assert (len(a.y_train), len(a.y_dev), len(a.y_test)) == (len(b.y_train), len(b.y_dev), len(b.y_test))
        np.testing.assert_array_equal(a.y_dev, b.y_dev)
    else:
        for split in ("X_train", "y_train", "X_dev", "y_dev", "X_test", "y_test"):
            np.testing.assert_array_equal(getattr(a, split), getattr(b, split), err_msg=split)


def test_field_is_150_50_200_everywhere():
    ds = load_dataset("field", dev=True)
    assert (len(ds.y_train), len(ds.y_dev), len(ds.y_test)) == (150, 50, 200)


@pytest.mark.parametrize("verb, need_dev", [("train", False), ("compare", True), ("sweep", True),
                                             ("diagnose", True)])
@pytest.mark.parametrize("name", ["field", "moons", "digits"])
def test_every_verb_loads_the_api_split(verb, need_dev, name):
    """What each verb trains on, with no --dev/--no-dev, is ``load_dataset(name, dev=True)``."""
    cli = load_data(None, name, None, None, None, 3, None, need_dev=need_dev, verb=verb)
    api = load_dataset(name, seed=3, dev=True)
    for split in ("X_train", "y_train", "X_dev", "y_dev", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(cli, split), getattr(api, split), err_msg=split)


def test_the_verbs_print_the_same_split(tmp_path):
    expected = load_dataset("field", seed=0, dev=True).summary()
    runs = {
        "train": ["train", "--dataset", "field", "--iterations", "20"],
        "compare": ["compare", "--seeds", "1", "--iterations", "20", "--jobs", "1", "--no-augment",
                    "--no-early-stopping", "--out", str(tmp_path / "c")],
        "sweep": ["sweep", "--l2", "0,1", "--seeds", "1", "--iterations", "20", "--jobs", "1",
                  "--out", str(tmp_path / "s")],
        "diagnose": ["diagnose", "--dataset", "field", "--seeds", "1", "--iterations", "20", "--jobs", "1"],
    }
    for verb, args in runs.items():
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (verb, result.output)
        assert expected in result.output, (verb, result.output[:300])


def test_a_fixed_split_gets_a_dev_set_only_when_asked_or_needed(football_path):
    as_published = load_data(str(football_path), None, None, None, None, 0, None)
    assert (len(as_published.y_train), as_published.has_dev) == (211, False)
    for data in (load_data(str(football_path), None, None, None, None, 0, True),
                 load_data(str(football_path), None, None, None, None, 0, None, need_dev=True)):
        expected = with_dev_split(load_file(football_path), seed=0)
        np.testing.assert_array_equal(data.X_dev, expected.X_dev)
        assert (len(data.y_train), len(data.y_dev), len(data.y_test)) == (158, 53, 200)


def test_no_dev_trains_on_the_dev_examples_and_is_refused_where_a_dev_set_is_needed():
    data = load_data(None, "field", None, None, None, 0, False)
    assert (len(data.y_train), data.has_dev, len(data.y_test)) == (200, False, 200)
    for verb, args in (("compare", []), ("sweep", ["--l2", "0,1"])):
        result = CliRunner().invoke(main, [verb, "--no-dev", *args])
        assert result.exit_code == 2 and f"Error: {verb} needs a dev set; drop --no-dev" in result.output
    result = CliRunner().invoke(main, ["train", "--no-dev", "--early-stopping", "3"])
    assert result.exit_code == 2 and "Error: early stopping needs a dev set; drop --no-dev" in result.output


def test_large_data_follow_the_lecture_counts():
    """Beyond 10,000 examples the dev set is the lecture's count, as large as the test set."""
    n = 20_000
    assert dev_size(18_000, n) == 2_000 and dev_size(750, 1_000) == 188
    X = np.arange(2.0 * n).reshape(n, 2)
    y = np.arange(n) % 2
    ds = train_dev_test_split(X, y, seed=0)
    sizes = (len(ds.y_train), len(ds.y_dev), len(ds.y_test))
    assert sizes == tuple(round(r * n) for r in default_ratios(n)) == (16_000, 2_000, 2_000)
    plain = train_dev_test_split(X, y, dev=False, seed=0)
    np.testing.assert_array_equal(plain.X_test, ds.X_test)
