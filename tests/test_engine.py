"""The fast engine held to the reference engine (the specification).

For the same seed both engines must give costs equal to a relative 1e-9 at every
step, the same evaluations, identical predictions and identical early-stopping
steps; course-compatible mode reproduces the published football figures.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reglab import load_dataset
from reglab._validation import InputError, TrainingError
from reglab.experiments import course
from reglab.nn.dropout import FreshMasks
from reglab.training.loop import TrainConfig, train

RTOL = 1e-9


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_samples=240, noise=0.25, seed=1, dev=True)


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", seed=0, dev=True)
    return data.X_train[:300], data.y_train[:300], data.X_dev[:120], data.y_dev[:120], data.image_shape


def run_both(X, y, config, **kwargs):
    fast = train(X, y, dataclasses.replace(config, engine="fast"), **kwargs)
    ref = train(X, y, dataclasses.replace(config, engine="reference"), **kwargs)
    assert fast.history.engine == "fast" and ref.history.engine == "reference"
    return fast, ref


def assert_same_run(fast, ref, X_check):
    hf, hr = fast.history, ref.history
    assert hf.stopped_at == hr.stopped_at
    assert hf.stop_reason == hr.stop_reason
    assert hf.best_step == hr.best_step
    assert hf.eval_steps == hr.eval_steps
    assert len(hf.costs) == len(hr.costs) == hr.stopped_at
    np.testing.assert_allclose(hf.costs, hr.costs, rtol=RTOL, atol=0)
    for name in ("train_cost", "dev_cost", "weight_norms"):
        np.testing.assert_allclose(getattr(hf, name), getattr(hr, name), rtol=RTOL, atol=0)
    assert hf.train_accuracy == hr.train_accuracy
    assert hf.dev_accuracy == hr.dev_accuracy
    for Wf, Wr in zip(fast.network.weights + fast.network.biases,
                      ref.network.weights + ref.network.biases):
        np.testing.assert_allclose(Wf, Wr, rtol=1e-7, atol=1e-12)
    np.testing.assert_array_equal(fast.network.predict(X_check), ref.network.predict(X_check))


GRID = [
    dict(layers=(8, 4), hidden="relu"),
    dict(layers=(8, 4), hidden="leaky_relu", l2=0.5),
    dict(layers=(6,), hidden="tanh", l1=0.05),
    dict(layers=(10, 6, 4), hidden=("relu", "tanh", "sigmoid"), l2=0.3, l1=0.02),
    dict(layers=(12, 5), hidden="relu", keep_prob=(0.8, 1.0)),
    dict(layers=(12, 5), hidden="tanh", keep_prob=(0.7, 0.9), l2=0.2),
    dict(layers=(12, 5), hidden="relu", keep_prob=0.86, course_compat=True, init="course"),
    dict(layers=(8, 4), hidden="sigmoid", output="softmax", learning_rate=1.0),
    dict(layers=(8, 4), epochs=12, batch_size=50, keep_prob=0.9, l2=0.1),  # last batch of 30
    dict(layers=(8, 4), epochs=10, batch_size=32, record_per_epoch=True, course_compat=True,
         keep_prob=(0.8, 0.9)),
]


@pytest.mark.parametrize("settings", GRID, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_fast_engine_matches_the_reference(moons, settings):
    config = TrainConfig(**{"iterations": 600, "record_every": 50, "seed": 3, **settings})
    fast, ref = run_both(moons.X_train, moons.y_train, config, X_dev=moons.X_dev, y_dev=moons.y_dev)
    assert_same_run(fast, ref, moons.X_test)


def test_fast_engine_matches_on_digits_with_softmax_and_blas_layers(digits):
    """Ten classes, a 64x80 and an 80x64 layer (BLAS products), mini-batches, dropout, L2."""
    X, y, X_dev, y_dev, _ = digits
    config = TrainConfig(layers=(80, 64), epochs=3, batch_size=64, keep_prob=(0.8, 0.9), l2=1.0,
                         learning_rate=0.1, record_every=4, seed=5)
    fast, ref = run_both(X, y, config, X_dev=X_dev, y_dev=y_dev)
    assert_same_run(fast, ref, X_dev)


@pytest.mark.parametrize("monitor", ["dev_cost", "dev_accuracy"])
def test_early_stopping_stops_at_the_same_step_and_restores_the_same_weights(moons, monitor):
    config = TrainConfig(layers=(30, 10), iterations=4000, learning_rate=0.5, record_every=20,
                         early_stopping=5, monitor=monitor, seed=2, keep_prob=0.9)
    fast, ref = run_both(moons.X_train, moons.y_train, config, X_dev=moons.X_dev, y_dev=moons.y_dev)
    assert ref.history.stop_reason.startswith("early stopping")  # the test exercises stopping
    assert ref.history.stopped_at < 4000
    assert_same_run(fast, ref, moons.X_test)


@pytest.mark.parametrize("augment,mode", [("jitter:0.05", "online"), ("jitter:0.1", "offline")])
def test_augmentation_feeds_the_same_batches(moons, augment, mode):
    config = TrainConfig(layers=(8, 4), iterations=150, record_every=25, augment=augment,
                         augment_mode=mode, seed=4, keep_prob=0.9)
    fast, ref = run_both(moons.X_train, moons.y_train, config, X_dev=moons.X_dev, y_dev=moons.y_dev,
                         symmetries=moons.symmetries, dataset_name=moons.name)
    assert_same_run(fast, ref, moons.X_test)


def test_augmented_chunks_cut_by_their_size_feed_the_same_batches(moons, monkeypatch):
    # 200 numbers per chunk: 240 examples of 2 features hold one step, mini-batches of 32
    # three steps, so chunks end between evaluations and inside epochs (the short last batch).
    from reglab.training import fast as fast_module
    monkeypatch.setattr(fast_module, "_AUGMENTED_ELEMENTS", 200)
    for extra in ({"iterations": 40}, {"epochs": 3, "batch_size": 32}):
        config = TrainConfig(layers=(8, 4), record_every=10, augment="jitter:0.05",
                             seed=2, keep_prob=0.9, **extra)
        fast, ref = run_both(moons.X_train, moons.y_train, config, X_dev=moons.X_dev,
                             y_dev=moons.y_dev, symmetries=moons.symmetries, dataset_name=moons.name)
        assert_same_run(fast, ref, moons.X_test)


def test_image_augmentation_with_mini_batches(digits):
    X, y, X_dev, y_dev, shape = digits
    config = TrainConfig(layers=(32,), epochs=2, batch_size=64, augment="shift:1", seed=1,
                         learning_rate=0.1, record_every=3)
    fast, ref = run_both(X, y, config, X_dev=X_dev, y_dev=y_dev, image_shape=shape)
    assert_same_run(fast, ref, X_dev)


def test_callback_stop_is_honoured_at_the_same_step(moons):
    stop_at_200 = lambda step, history: step >= 200  # noqa: E731
    config = TrainConfig(layers=(8,), iterations=1000, record_every=50)
    fast, ref = run_both(moons.X_train, moons.y_train, config, callback=stop_at_200)
    assert fast.history.stopped_at == ref.history.stopped_at == 200
    assert fast.history.stop_reason == ref.history.stop_reason == "callback"
    assert_same_run(fast, ref, moons.X_test)


@pytest.mark.parametrize("run", list(course.FOOTBALL))
def test_published_football_figures_through_the_fast_engine(football_path, run):
    from reglab.data import load_football
    data = load_football(str(football_path))
    figures = course.FOOTBALL[run]
    config = dataclasses.replace(course.football_config(**figures["settings"]), engine="fast")
    result = train(data.X_train, data.y_train, config)
    assert result.history.engine == "fast"
    for t, published in figures["cost"].items():
        assert result.history.costs[t] == pytest.approx(published, rel=course.COST_RTOL)
    assert result.network.accuracy(data.X_train, data.y_train) == figures["train_accuracy"]
    assert result.network.accuracy(data.X_test, data.y_test) == figures["test_accuracy"]


def test_divergence_is_reported_at_the_same_step_naming_the_same_tensor():
    moons = load_dataset("moons", n_samples=200, noise=0.2, seed=0)
    config = TrainConfig(layers=(20, 20), init="random", init_scale=100, learning_rate=1e8,
                         iterations=500, record_every=10)
    messages = {}
    for engine in ("fast", "reference"):
        with pytest.raises(TrainingError, match="training diverged at step") as caught:
            train(moons.X_train * 1e3, moons.y_train, dataclasses.replace(config, engine=engine))
        messages[engine] = (str(caught.value), caught.value.history.stopped_at,
                            len(caught.value.history.costs))
    assert messages["fast"] == messages["reference"]


def test_masks_drawn_in_the_kernel_leave_the_generator_where_the_reference_does():
    """The kernel draws the run's stream itself: the generator, moved on by the count it
    reports, is where the reference's draws leave it."""
    from reglab.training import _kernels as k
    from reglab.training._blas import gemm_address
    from reglab.training._random import lanes_from
    from reglab.training.fast import prepare
    prepare("float64")
    W = [np.full((5, 2), 0.1), np.full((4, 5), 0.1), np.full((1, 4), 0.1)]
    b = [np.zeros(5), np.zeros(4), np.zeros(1)]
    X = np.random.default_rng(0).standard_normal((6, 2))
    keep = np.array([0.7, 0.5])
    ours, theirs = np.random.default_rng(9), FreshMasks((0.7, 0.5), np.random.default_rng(9))
    one = np.ones(1, np.int64)
    progress = np.zeros(2, np.int64)
    k.run_steps(*k.pack(W, b), X, X.T.copy(), np.array([0, 1, 0, 1, 1, 0]), one, one * 0, one * 6, False,
                np.zeros(2, np.int64), keep, keep, lanes_from(ours.bit_generator), True,
                np.zeros(1, np.bool_), one * 0, np.zeros(1, np.bool_), np.array([0.1, 0, 0, 0.01, 1]),
                False, np.empty(1), 0, progress, gemm_address("float64"))
    theirs(6, (5, 4))
    assert progress[1] == 6 * 9
    ours.bit_generator.advance(int(progress[1]))
    assert ours.bit_generator.state == theirs.rng.bit_generator.state
    assert ours.random() == theirs.rng.random()


@pytest.mark.parametrize("keep_prob, rtol", [(1.0, 1e-6), (0.9, 1e-3)])
def test_float32_runs_in_float32_and_stays_close_to_float64(moons, keep_prob, rtol):
    """Stated tolerance over 500 steps: 1e-6 relative without dropout (measured 1.7e-7),
    1e-3 with it (measured 2.5e-4: float32's rounding moves some ReLU units across 0,
    and the noise of the masks amplifies it); both engines agree to 1e-6 in float32."""
    base = TrainConfig(layers=(16, 8), iterations=500, l2=0.3, keep_prob=keep_prob, seed=1)
    r64 = train(moons.X_train, moons.y_train, base)
    costs32 = {}
    for engine in ("fast", "reference"):
        r32 = train(moons.X_train, moons.y_train, dataclasses.replace(base, dtype="float32", engine=engine))
        assert all(W.dtype == np.float32 for W in r32.network.weights + r32.network.biases)
        np.testing.assert_allclose(r32.history.costs, r64.history.costs, rtol=rtol)
        np.testing.assert_array_equal(r32.network.predict(moons.X_test), r64.network.predict(moons.X_test))
        costs32[engine] = r32.history.costs
    np.testing.assert_allclose(costs32["fast"], costs32["reference"], rtol=1e-6)
    assert np.max(np.abs(costs32["fast"] / r64.history.costs - 1)) > 1e-9  # really float32


def test_engine_choice_is_validated_and_recorded(moons):
    with pytest.raises(InputError, match="engine must be one of 'auto', 'reference', 'fast', got 'numba'"):
        TrainConfig(engine="numba")
    result = train(moons.X_train, moons.y_train, TrainConfig(layers=(4,), iterations=5))
    assert result.history.engine == "fast"  # auto: numba is installed here
    assert TrainConfig().to_dict()["engine"] == "auto"


# --- choosing the engine, the CLI, the compilation cache ------------------------------

def test_cli_engine_option_is_recorded_in_the_json_outputs(tmp_path):
    import json
    from click.testing import CliRunner
    from reglab.cli.main import main
    for engine in ("reference", "fast"):
        out = tmp_path / f"{engine}.json"
        result = CliRunner().invoke(main, ["train", "--iterations", "300", "--print-every", "100",
                                           "--engine", engine, "--json", str(out)])
        assert result.exit_code == 0, result.output
        payload = json.loads(out.read_text())
        assert payload["engine"] == engine and payload["config"]["engine"] == engine
    costs = [json.loads((tmp_path / f"{e}.json").read_text())["costs"] for e in ("reference", "fast")]
    assert costs[0].keys() == costs[1].keys()
    for t in costs[0]:
        assert costs[1][t] == pytest.approx(costs[0][t], rel=RTOL)
    result = CliRunner().invoke(main, ["compare", "--iterations", "40", "--seeds", "1", "--jobs", "1",
                                       "--engine", "reference", "--no-augment", "--out",
                                       str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    runs = json.loads((tmp_path / "cmp" / "results.json").read_text())["runs"]
    assert {r["history"]["engine"] for r in runs} == {"reference"}
    result = CliRunner().invoke(main, ["train", "--engine", "turbo"])
    assert result.exit_code == 2 and "Invalid value for '--engine'" in result.output


def test_numba_is_imported_only_by_a_fast_run_and_caches_in_the_user_cache_dir(tmp_path):
    """A read-only copy of the package, a fresh cache: the first process compiles into
    $XDG_CACHE_HOME/reglab/numba, the second loads from there."""
    import os
    import shutil
    import stat
    import subprocess
    import sys
    from pathlib import Path
    import reglab
    package = tmp_path / "site" / "reglab"
    shutil.copytree(Path(reglab.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for path in [package, *package.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    script = (
        "import sys, reglab\n"
        "assert 'numba' not in sys.modules\n"
        "from reglab.training.loop import TrainConfig, train\n"
        "r = train([[0., 1.], [1., 0.], [1., 1.], [0., 0.]], [0, 1, 1, 0],"
        " TrainConfig(layers=(3,), iterations=20, engine='fast'))\n"
        "from reglab.training import _kernels as k\n"
        "s = k.run_steps.stats\n"
        "print(r.history.engine, k.__file__, sum(s.cache_hits.values()), sum(s.cache_misses.values()))\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(tmp_path / "site"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PYTHONDONTWRITEBYTECODE="1")
    try:
        runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                               text=True, cwd=tmp_path) for _ in range(2)]
    finally:
        for path in [package, *package.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (run.stdout.split() for run in runs)
    assert first[0] == "fast" and first[1].startswith(str(package))
    assert (first[2], first[3]) == ("0", "1")  # compiled...
    assert (second[2], second[3]) == ("1", "0")  # ...then loaded from the user's cache
    assert any((tmp_path / "cache" / "reglab" / "numba").rglob("*.nbi"))


def test_the_cache_directory_changes_with_any_kernel_module(tmp_path, monkeypatch):
    """numba checks a cached function against its own file only; reglab keys its cache
    directory by every module the kernel holds, so editing a callee's module moves it."""
    import shutil
    from pathlib import Path
    from reglab.training import fast
    copy = tmp_path / "training"
    copy.mkdir()
    for name in fast.KERNEL_MODULES:
        shutil.copy(Path(fast.__file__).parent / name, copy / name)
    monkeypatch.setattr(fast, "__file__", str(copy / "fast.py"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = fast.kernel_cache_dir()
    assert before.parent == fast.user_cache_dir()
    assert before.name.startswith("kernels-")
    assert fast.kernel_cache_dir() == before  # the same sources, the same directory
    with open(copy / "_exact.py", "a") as f:
        f.write("\n# a change in a module the kernel calls\n")
    assert fast.kernel_cache_dir() != before


def test_ctrl_c_returns_the_same_partial_result(moons):
    """A KeyboardInterrupt (here raised by the callback at step 150) ends both engines alike."""
    def interrupt(step, history):
        if step == 150:
            raise KeyboardInterrupt
    config = TrainConfig(layers=(8,), iterations=1000, record_every=50, keep_prob=0.9)
    fast, ref = run_both(moons.X_train, moons.y_train, config, callback=interrupt)
    assert fast.history.stop_reason == ref.history.stop_reason == "interrupted"
    assert fast.history.stopped_at == ref.history.stopped_at == 150
    assert_same_run(fast, ref, moons.X_test)


def test_runs_in_worker_processes_match_the_reference(moons):
    """compare/sweep's runner: fast runs in two worker processes, reference runs in this one."""
    from reglab.experiments.runner import RunSpec, run_all
    specs = [RunSpec("l2", {"l2": l2, "keep_prob": 0.8}, seed) for l2 in (0.0, 0.5) for seed in (0, 1)]
    base = TrainConfig(layers=(8, 4), iterations=300, record_every=50)
    fast = run_all(specs, moons, dataclasses.replace(base, engine="fast"), jobs=2)
    ref = run_all(specs, moons, dataclasses.replace(base, engine="reference"), jobs=1)
    by_key = {r.key: r for r in ref}
    assert len(fast) == len(ref) == 4
    for r in fast:
        other = by_key[r.key]
        assert r.history["engine"] == "fast" and other.history["engine"] == "reference"
        np.testing.assert_allclose(r.costs, other.costs, rtol=RTOL, atol=0)
        assert (r.train_accuracy, r.test_accuracy, r.dev_accuracy) == (
            other.train_accuracy, other.test_accuracy, other.dev_accuracy)
