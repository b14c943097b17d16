"""Many runs at once: the runs of a group stepped together give the records they give alone."""

import dataclasses

import numpy as np
import pytest

from reglab.data import load_dataset
from reglab.experiments import runner
from reglab.experiments.runner import RunSpec, execute, execute_many, group_specs, run_all, work_units
from reglab.training.batch import run_together
from reglab.training.loop import TrainConfig, train

pytest.importorskip("numba")

# Figures that must match exactly (timings aside).
SAME = ("group", "params", "seed", "train_accuracy", "test_accuracy", "dev_accuracy", "weight_norm",
        "near_zero", "steps", "stop_reason", "error")


@pytest.fixture(scope="module")
def field():
    return load_dataset("field", n_samples=120, seed=3, dev=True)


def _same(a, b):
    for name in SAME:
        assert getattr(a, name) == getattr(b, name), name
    for key in ("eval_steps", "best_step", "warnings", "engine"):
        assert a.history[key] == b.history[key], key
    for key in ("train_cost", "dev_cost", "train_accuracy", "dev_accuracy", "weight_norms"):
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-12, atol=0)
    # every step's cost: stepped together, the same arithmetic as alone, so bit for bit
    assert np.array_equal(a.costs, b.costs)
    for Wa, Wb in zip(a.network.weights, b.network.weights):
        assert np.array_equal(Wa, Wb)


def _mixed_specs():
    """Runs of one group that stop at different points: early stopping with a short
    patience, a run that diverges, dropout (fresh masks), L1, L2, several seeds."""
    specs = [RunSpec("none", {}, s) for s in (0, 1)]
    specs += [RunSpec("l2", {"l2": 0.5}, 2), RunSpec("l1", {"l1": 0.05}, 3),
              RunSpec("dropout", {"keep_prob": 0.7}, 4), RunSpec("both", {"l2": 0.3, "keep_prob": 0.8}, 5)]
    return specs


def test_execute_many_steps_a_group_together_and_gives_each_runs_own_record(field):
    base = TrainConfig(layers=(8, 4), learning_rate=0.5, iterations=700, record_every=50,
                       early_stopping=2, min_delta=1e-3, engine="fast")
    specs = _mixed_specs()
    assert len(group_specs(specs, base)) == 1  # strengths and seeds only: one group
    alone = [execute(s, field, base) for s in specs]
    together = execute_many(specs, field, base)
    assert [r.steps for r in alone] == [r.steps for r in together]
    assert len({r.steps for r in alone}) > 1, "the runs must stop at different steps"
    assert any(r.stop_reason.startswith("early stopping") for r in alone)
    for a, b in zip(alone, together):
        _same(a, b)


def test_a_run_that_diverges_in_a_group_fails_alone_and_the_others_go_on(field):
    base = TrainConfig(layers=(8,), learning_rate=0.5, iterations=300, record_every=25, engine="fast")
    specs = [RunSpec("ok", {}, 0), RunSpec("hot", {"l2": 1e9}, 1), RunSpec("ok", {"l1": 0.01}, 2)]
    out = execute_many(specs, field, base)
    assert out[1][0] == specs[1] and "training diverged at step" in out[1][1]
    assert isinstance(out[0], runner.RunRecord) and isinstance(out[2], runner.RunRecord)
    _same(out[0], execute(specs[0], field, base))
    _same(out[2], execute(specs[2], field, base))


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_all_with_groups_in_worker_processes_equals_one_by_one(field, jobs):
    base = TrainConfig(layers=(6, 3), learning_rate=0.4, iterations=300, record_every=100, engine="fast")
    specs = [RunSpec("l2", {"l2": l2}, seed) for l2 in (0.0, 0.4) for seed in (0, 1)]
    specs += [RunSpec("wide", {"layers": (10,)}, 0), RunSpec("wide", {"layers": (10,), "keep_prob": 0.8}, 1)]
    units = work_units(specs, base, jobs)
    assert sorted(len(u) for u in units) == ([2, 4] if jobs == 1 else [2, 2, 2])
    seen = []
    records = run_all(specs, field, base, jobs=jobs, on_done=seen.append)
    assert len(records) == len(seen) == len(specs)
    by_key = {r.key: r for r in records}
    for spec in specs:
        alone = execute(spec, field, base)
        got = by_key[spec.key]
        for name in SAME:
            assert getattr(got, name) == getattr(alone, name), name
        assert got.history["costs"] == alone.history["costs"]
        assert got.history["train_cost"] == alone.history["train_cost"]


def test_work_units_deal_a_large_group_round_robin_over_the_jobs():
    base = TrainConfig(layers=(4,))
    specs = [RunSpec(name, {"l2": v}, s) for name, v in (("a", 0.0), ("b", 0.1), ("c", 0.2)) for s in range(4)]
    units = work_units(specs, base, 2)
    assert [[(s.group, s.seed) for s in u] for u in units] == [
        [("a", 0), ("a", 2), ("b", 0), ("b", 2), ("c", 0), ("c", 2)],
        [("a", 1), ("a", 3), ("b", 1), ("b", 3), ("c", 1), ("c", 3)]]
    # at most MAX_TOGETHER (8) runs in a unit, so that progress and the log keep moving
    assert work_units(specs, base, 1) == [specs[0::2], specs[1::2]]
    many = [RunSpec("a", {"l2": 0.0}, s) for s in range(64)]
    assert [len(u) for u in work_units(many, base, 2)] == [8] * 8


def test_run_together_rounds_hold_every_live_run_and_threads_give_the_same_numbers(field):
    """Lock-step: while all runs are live a round holds all of them; with two threads the
    costs are those of the runs alone, bit for bit."""
    from reglab.training import batch
    configs = [TrainConfig(layers=(8,), iterations=n, record_every=100, seed=s, keep_prob=0.9, engine="fast")
               for n, s in ((300, 0), (500, 1), (500, 2))]
    alone = [train(field.X_train, field.y_train, c).history.costs for c in configs]
    sizes = []
    original = batch._LockStep._run_round

    def spy(self):
        sizes.append(len(self.waiting))
        original(self)
    batch._LockStep._run_round = spy
    try:
        for threads in (1, 2):
            sizes.clear()
            out = run_together([lambda c=c: train(field.X_train, field.y_train, c) for c in configs],
                               threads=threads)
            assert all(o.error is None for o in out)
            for o, costs in zip(out, alone):
                assert np.array_equal(o.value.history.costs, costs)
            # 3 runs for rounds 1-3 (steps 0-300), then the two 500-step runs for 2 rounds
            assert sizes == [3, 3, 3, 2, 2]
    finally:
        batch._LockStep._run_round = original


def test_an_interrupted_run_of_a_group_is_not_kept_and_the_finished_ones_are(monkeypatch, tmp_path):
    """Ctrl-C reaching one run of a group: run_all keeps (and logs) the runs that had
    finished, not the truncated one, and reports the interruption."""
    real_train = runner.train

    def interrupted_if_l2_is_0_1(X, y, config, **kwargs):
        result = real_train(X, y, config, **kwargs)
        if config.l2 == 0.1:
            result.history.stop_reason = "interrupted"
        return result

    monkeypatch.setattr(runner, "train", interrupted_if_l2_is_0_1)
    log = runner.RunLog(tmp_path / "runs.jsonl")
    specs = [RunSpec("l2", {"l2": v}, 0) for v in (0.0, 0.1, 1.0)]
    records = run_all(specs, load_dataset("field", n_samples=60),
                      TrainConfig(layers=(4,), iterations=20, engine="fast"), jobs=1, on_done=log.append)
    assert sorted(r.params["l2"] for r in records) == [0.0, 1.0]
    assert sorted(r.params["l2"] for r in log.read()) == [0.0, 1.0]
    assert runner.interrupted_by() is not None


@pytest.mark.parametrize("jobs, sizes", [(1, (20, 40)), (2, (20, 40)), (3, (20, 40)), (2, (40,))])
def test_learning_curve_steps_the_seeds_of_a_size_together_with_the_errors_of_one_by_one(field, jobs, sizes,
                                                                                          monkeypatch):
    from reglab.experiments import learning_curves
    from reglab.experiments.learning_curves import _subset, learning_curve
    config = TrainConfig(layers=(6,), learning_rate=0.5, iterations=200, record_every=50,
                         keep_prob=0.8, engine="fast")
    tasks, pool = [], learning_curves.ProcessPoolExecutor
    # with fewer sizes than jobs a size's seeds are cut into pieces: every job has work
    monkeypatch.setattr(learning_curves, "ProcessPoolExecutor",
                        lambda max_workers, **kw: tasks.append(max_workers) or pool(max_workers, **kw))
    curve = learning_curve(field, config, list(sizes), [0, 1, 2], jobs=jobs)
    assert tasks == ([] if jobs == 1 else [jobs])
    for i, n in enumerate(sizes):
        for j, seed in enumerate((0, 1, 2)):
            record = execute(RunSpec(f"n={n}", {}, seed), _subset(field, n, seed), config)
            assert curve.train_error[i, j] == 1.0 - record.train_accuracy
            assert curve.dev_error[i, j] == 1.0 - record.dev_accuracy


@pytest.mark.parametrize("engine, jobs", [("fast", 1), ("fast", 2), ("reference", 1)])
def test_a_bug_in_one_run_keeps_the_runs_its_unit_finished(field, monkeypatch, engine, jobs):
    """Not a failed run (a ReglabError, recorded) but an unexpected exception: it ends the
    batch, and the runs of its work unit that finished are still handed to on_done."""
    base = TrainConfig(layers=(4,), iterations=60, record_every=20, engine=engine)
    specs = [RunSpec("l2", {"l2": 0.1}, seed) for seed in range(3)]
    real = runner.execute

    def execute(spec, data, cfg):
        if spec.seed == 1:
            raise RuntimeError("a bug in run 1")
        return real(spec, data, cfg)

    monkeypatch.setattr(runner, "execute", execute)
    seen = []
    with pytest.raises(RuntimeError, match="a bug in run 1"):
        run_all(specs, field, base, jobs=jobs, on_done=lambda r: seen.append(r.seed))
    if jobs == 1:  # one unit (fast) or one run after another (reference): run 0 is kept, and
        assert 0 in seen and 1 not in seen  # with the fast engine run 2 as well
        assert sorted(seen) == ([0, 2] if engine == "fast" else [0])
