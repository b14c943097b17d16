"""Sweeps on a real Dask cluster: a scheduler and two worker processes on localhost.

The cluster is ``dask scheduler`` and ``dask worker --nthreads 1`` subprocesses (each
worker under its nanny, as on a real cluster); every test compares with the same sweep
run locally, run for run. Faults are real: a worker SIGKILLed mid-sweep, the client
interrupted with SIGINT, the scheduler SIGKILLed. Nothing is timed here
(``benchmarks/distributed.py`` measures).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import missing
from reglab.cli.main import main
from reglab.data import load_dataset, with_dev_split
from reglab.experiments.runner import RunSpec
from reglab.experiments.sweep import Grid, run_sweep, specs_for
from reglab.training.loop import TrainConfig

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals and process groups are POSIX")

SEEDS = 4
#: 3 points x 4 seeds; the reference engine makes a run last a few tenths of a second,
#: long enough for a kill to land while workers are busy (record_every: iterations // 100, as
#: the CLI takes it).
ARGS = ["--dataset", "moons", "--n-samples", "80", "--layers", "8", "--iterations", "2500",
        "--engine", "reference", "--l2", "0,0.1,1", "--seeds", str(SEEDS)]
EXPECTED = sorted(s.key for s in specs_for(Grid.build(l2=[0, 0.1, 1]), range(SEEDS)))


NO_DASK = ("dask.distributed is not installed: pip install 'reglab[distributed]' (the test extra "
           "includes it) to run the cluster tests")


@pytest.fixture(scope="module", autouse=True)
def _needs_dask():
    try:
        import distributed  # noqa: F401
    except ImportError:
        missing(NO_DASK)


def _start(args, log: Path) -> subprocess.Popen:
    # a session of its own: the finalizer ends the process with what it started (a nanny's worker)
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_for(condition, timeout=60.0, what="") -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.05)


def start_cluster(folder: Path, workers: int, request) -> Path:
    """A scheduler and ``workers`` single-threaded workers; returns the scheduler file."""
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "scheduler.json"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                     "127.0.0.1:0", "--scheduler-file", str(file)], folder / "scheduler.log")]
    request.addfinalizer(lambda: _stop(procs[::-1]))
    _wait_for(lambda: file.exists() and file.stat().st_size > 0, what="the scheduler file")
    procs += [_start(["worker", "--scheduler-file", str(file), "--nthreads", "1", "--host", "127.0.0.1",
                      "--name", f"w{i}"], folder / f"worker{i}.log") for i in range(workers)]
    with client_of(file) as client:
        client.wait_for_workers(workers, timeout=60)
    return file


def client_of(file: Path):
    from distributed import Client

    return Client(scheduler_file=str(file), timeout=30, set_as_default=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request) -> Path:
    return start_cluster(tmp_path_factory.mktemp("cluster"), 2, request)


def _sweep_api(out, scheduler=None):
    data = with_dev_split(load_dataset("moons", n_samples=80))
    base = TrainConfig(layers=(8,), iterations=2500, engine="reference", record_every=25)  # as the CLI
    return run_sweep(out, data, base, Grid.build(l2=[0, 0.1, 1]), list(range(SEEDS)),
                     scheduler=scheduler)[0]


def figures(records) -> dict:
    return {r.key: (r.train_accuracy, r.test_accuracy, r.dev_accuracy, r.weight_norm, r.near_zero,
                    r.steps) for r in records}


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> dict:
    """The same sweep through the local runner (this process): the numbers to match."""
    records = _sweep_api(tmp_path_factory.mktemp("local") / "sweep")
    assert sorted(r.key for r in records) == EXPECTED
    return figures(records)


def cli_figures(out: Path) -> dict:
    """Each run of ``out/runs.jsonl`` (asserted exactly once) with the figures of :func:`figures`."""
    lines = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert sorted(d["key"] for d in lines) == EXPECTED, "runs.jsonl must hold every run exactly once"
    results = json.loads((out / "results.json").read_text())
    assert sorted(r["key"] for r in results["runs"]) == EXPECTED and results["interrupted"] is False
    return {d["key"]: (d["train_accuracy"], d["test_accuracy"], d["dev_accuracy"], d["weight_norm"],
                       d["near_zero"], d["steps"]) for d in lines}


def logged(out: Path) -> int:
    path = out / "runs.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def cli(*args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reglab", "sweep", *args], capture_output=True,
                          text=True, timeout=timeout)


@contextlib.contextmanager
def running_sweep(*args):
    """A ``reglab sweep`` subprocess, killed if the test leaves it running, after a first
    run is logged in its ``--out`` (the folder after ``--out`` in ``args``)."""
    out = Path(args[args.index("--out") + 1])
    proc = subprocess.Popen([sys.executable, "-m", "reglab", "sweep", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: logged(out) >= 1 or proc.poll() is not None, 120, "a first logged run")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- results ---------------------------------------------------------------------------------

def test_a_sweep_on_the_cluster_equals_the_local_sweep_run_for_run(cluster, local, tmp_path):
    out = tmp_path / "sweep"
    records = _sweep_api(out, scheduler=str(cluster))
    assert sorted(r.key for r in records) == EXPECTED
    assert figures(records) == local
    # the networks saved for the figures came back from the workers too
    assert len(list((out / "models").glob("*_seed0.npz"))) == 3


def test_the_cli_names_the_cluster_and_its_dashboard_and_refuses_jobs(cluster, local, tmp_path):
    address = json.loads(cluster.read_text())["address"]
    out = tmp_path / "sweep"
    done = cli(*ARGS, "--scheduler", address, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"on the Dask cluster {address}: 2 worker(s), 2 thread(s); dashboard http://127.0.0.1:" \
        in done.stdout
    assert "sweep" in done.stdout and "12/12" in done.stdout  # the progress bar, as locally
    assert cli_figures(out) == local
    refused = CliRunner().invoke(main, ["sweep", *ARGS, "--scheduler", address, "--jobs", "2",
                                        "--out", str(tmp_path / "other")])
    assert refused.exit_code == 2
    assert "Error: --jobs sets this machine's worker processes; with --scheduler the cluster's " \
           "workers run the runs" in refused.output
    assert not (tmp_path / "other" / "runs.jsonl").exists()


def test_compare_on_the_cluster_equals_compare_here(cluster, tmp_path):
    args = ["compare", "--dataset", "moons", "--n-samples", "80", "--layers", "8", "--iterations", "300",
            "--seeds", "2", "--no-augment"]
    runs = {}
    for where, extra in (("local", ["--jobs", "1"]), ("cluster", ["--scheduler", str(cluster)])):
        result = CliRunner().invoke(main, [*args, *extra, "--out", str(tmp_path / where)])
        assert result.exit_code == 0, result.output
        runs[where] = {r["key"]: (r["train_accuracy"], r["test_accuracy"], r["weight_norm"], r["steps"])
                       for r in json.loads((tmp_path / where / "results.json").read_text())["runs"]}
    assert len(runs["local"]) == 12 and runs["cluster"] == runs["local"]  # 6 settings x 2 seeds


# --- faults ----------------------------------------------------------------------------------

def test_a_worker_killed_mid_sweep_has_its_runs_retried_each_logged_once(cluster, local, tmp_path):
    out = tmp_path / "sweep"
    with running_sweep(*ARGS, "--scheduler", str(cluster), "--out", str(out)) as proc:
        with client_of(cluster) as client:
            busy = [w for w, keys in client.processing().items() if keys]
            assert busy and proc.poll() is None, "a worker must be running runs when it is killed"
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)  # the worker process; its nanny starts a new one
        output = proc.communicate(timeout=180)[0]
    assert proc.returncode == 0, output
    assert logged(out) == len(EXPECTED)
    assert cli_figures(out) == local
    with client_of(cluster) as client:  # the next tests find two workers again
        client.wait_for_workers(2, timeout=60)


def test_an_interrupted_client_resumes_through_the_cluster_every_run_once(cluster, local, tmp_path):
    out = tmp_path / "sweep"
    with running_sweep(*ARGS, "--scheduler", str(cluster), "--out", str(out)) as proc:
        assert proc.poll() is None, "the sweep must still be running when it is interrupted"
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, output
    assert "Traceback" not in output and "rerun with --resume to finish" in output
    finished = logged(out)
    assert 1 <= finished < len(EXPECTED)
    done = cli(*ARGS, "--scheduler", str(cluster), "--out", str(out), "--resume")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resumed: {finished} run(s) already done, {len(EXPECTED) - finished} to run" in done.stdout
    assert cli_figures(out) == local


def test_a_lost_scheduler_ends_with_an_error_keeping_what_finished(cluster, local, tmp_path, request):
    own = start_cluster(tmp_path / "doomed", 1, request)
    out = tmp_path / "sweep"
    with running_sweep(*ARGS, "--scheduler", str(own), "--out", str(out)) as proc:
        assert proc.poll() is None, "the sweep must still be running when its scheduler dies"
        scheduler_pid = json.loads(own.read_text()).get("pid") or _scheduler_pid(own)
        os.kill(scheduler_pid, signal.SIGKILL)
        output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 2, output
    assert "Error: lost the connection to the Dask scheduler" in output
    assert "run(s) that finished are kept (reglab sweep --resume runs the rest)" in output
    assert "Traceback" not in output
    finished = logged(out)
    assert 1 <= finished < len(EXPECTED)
    done = cli(*ARGS, "--scheduler", str(cluster), "--out", str(out), "--resume")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resumed: {finished} run(s) already done" in done.stdout
    assert cli_figures(out) == local


def _scheduler_pid(file: Path) -> int:
    with client_of(file) as client:
        return client.run_on_scheduler(os.getpid)


def test_a_worker_with_other_versions_is_refused_before_any_run(cluster, tmp_path, monkeypatch):
    from reglab.experiments import distributed

    real = distributed._worker_versions

    def reported(client):  # what a worker with another NumPy would answer
        return {address: dict(v, NumPy="1.0.0") for address, v in real(client).items()}

    monkeypatch.setattr(distributed, "_worker_versions", reported)
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", *ARGS, "--scheduler", str(cluster), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"has NumPy 1.0.0, this client has NumPy {np.__version__}; install the same versions on " \
           f"the workers" in result.output
    assert "nothing was run" in result.output
    assert not (out / "runs.jsonl").exists()


def test_chunks_keep_every_worker_busy_within_groups():
    from reglab.experiments import distributed
    from reglab.experiments.runner import group_key

    base = TrainConfig(layers=(8,))
    specs = specs_for(Grid.build(keep_prob=[1, 0.8], layers=[(8,), (4, 4)]), range(10))  # 2 groups of 20
    # at most MAX_TOGETHER (8) runs a chunk, so runs reach the log as they do locally
    for threads, sizes in ((1, [7, 7, 6] * 2), (2, [7, 7, 6] * 2), (4, [5] * 8), (50, [1] * 40)):
        found = distributed.chunks(specs, base, threads)
        assert [len(c) for c in found] == sizes
        assert sorted(s.key for c in found for s in c) == sorted(s.key for s in specs)
        assert all(len({group_key(s, base) for s in c}) == 1 for c in found)


def test_a_worker_that_joins_later_with_other_versions_refuses_its_task():
    from reglab.experiments import distributed

    theirs = dict(distributed.versions(), reglab="0.0.0")
    spec = RunSpec("l2=0", {"l2": 0.0}, 0)
    assert distributed._work([spec], None, None, theirs) == ("versions", distributed.versions())


def test_without_dask_the_cluster_tests_skip_saying_why_and_fail_under_ci(tmp_path):
    shadow = tmp_path / "shadow" / "distributed"  # an import of distributed that fails, as uninstalled
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('simulated: not installed')\n")
    env = {k: v for k, v in os.environ.items() if k != "REGLAB_REQUIRE_ALL"}
    env["PYTHONPATH"] = os.pathsep.join([str(shadow.parent), env.get("PYTHONPATH", "")])
    node = "tests/test_distributed.py::test_a_worker_that_joins_later_with_other_versions_refuses_its_task"
    repo = Path(__file__).resolve().parents[1]

    def run(**extra):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
                              cwd=repo, env={**env, **extra}, capture_output=True, text=True, timeout=300)

    skipped = run()
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout, skipped.stdout
    assert NO_DASK in " ".join(skipped.stdout.split())
    failed = run(REGLAB_REQUIRE_ALL="1")
    assert failed.returncode == 1 and "1 error" in failed.stdout
    assert "(REGLAB_REQUIRE_ALL is set, so this is a failure, not a skip)" in failed.stdout


@pytest.mark.parametrize("address, message", [
    ("tcp://127.0.0.1:{port}", "Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} "
                               "([Errno 111] Connection refused); is `dask scheduler` running there?"),
    ("{file}", "Error: {file} is not a Dask scheduler file (JSON with an \"address\", as "
               "`dask scheduler --scheduler-file` writes; JSONDecodeError"),
    ("no-such-place", "Error: scheduler 'no-such-place' is neither an address (tcp://host:8786) nor "
                      "an existing scheduler file"),
])
def test_a_bad_scheduler_address_is_a_clear_error(address, message, tmp_path):
    import socket

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    file = tmp_path / "notes.txt"
    file.write_text("not a scheduler file")
    address = address.format(port=port, file=file)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["sweep", *ARGS, "--scheduler", address, "--out",
                                       str(tmp_path / "sweep")])
    assert result.exit_code == 2
    assert message.format(port=port, file=file) in " ".join(result.output.split())
    assert time.monotonic() - started < 60  # an error, not a hang (not a timing: a bound)
