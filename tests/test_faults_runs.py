"""Fault injection on sweeps and compares: kill -9 at random points, SIGTERM and Ctrl-C,
concurrent runs into one folder, damaged run logs, full and read-only outputs.

Every test asserts the same three things: nothing finished is lost, no run is
counted twice, and every message names the problem. Processes are real (the
``reglab`` command in a subprocess), so kills and locks are the operating
system's, not simulated.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reglab.cli.main import main
from reglab.experiments.runner import FolderBusy, RunLog, folder_lock
from reglab.experiments.sweep import Grid, specs_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals and flock are POSIX")

SEEDS = 3
L2 = "0,0.1,1"
#: A small sweep: 3 points x 3 seeds. FAST finishes in a moment; SLOW runs long enough
#: (a few seconds) for a kill to land in the middle of it.
FAST = ["sweep", "--dataset", "moons", "--n-samples", "80", "--layers", "8", "--iterations", "300",
        "--l2", L2, "--seeds", str(SEEDS)]
#: SLOW uses the reference engine: what is tested is the run log, not the engine, and the
#: compiled engine would finish before the kill lands.
SLOW = [("6000" if a == "300" else a) for a in FAST] + ["--engine", "reference"]
EXPECTED_KEYS = {s.key for s in specs_for(Grid.build(l2=[0, 0.1, 1]), range(SEEDS))}


def cli(*args, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reglab", *args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def inproc(*args) -> subprocess.CompletedProcess:
    """The command run in this process (faster than a subprocess where no signal or lock
    between processes is involved), with the same fields as :func:`cli`'s result."""
    result = CliRunner().invoke(main, [*args, "--jobs", "1"] if args[0] == "sweep" else list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def start(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reglab", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc), empty elsewhere."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found |= {int(c) for c in task.read_text().split()}
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; it only waits to be reaped


def wait_until(condition, timeout=60.0, step=0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return condition()


def log_keys(out: Path) -> list[str]:
    """The run key of every line of ``runs.jsonl`` as written on disk (not de-duplicated)."""
    return [json.loads(line)["key"] for line in (out / "runs.jsonl").read_text().splitlines()]


def assert_every_run_once(out: Path, reference: dict | None = None) -> None:
    """runs.jsonl and results.json hold each of the 9 runs exactly once, every point n = 3,
    and (given ``reference``: key -> figures) the numbers of an uninterrupted sweep."""
    keys = log_keys(out)
    assert sorted(keys) == sorted(EXPECTED_KEYS), "runs.jsonl must hold every run exactly once"
    results = json.loads((out / "results.json").read_text())
    assert sorted(r["key"] for r in results["runs"]) == sorted(EXPECTED_KEYS)
    assert [row["n"] for row in results["summary"]] == [SEEDS] * 3
    assert results["interrupted"] is False
    if reference is not None:
        got = {r["key"]: (r["train_accuracy"], r["test_accuracy"], r["dev_accuracy"], r["weight_norm"])
               for r in results["runs"]}
        assert got == reference


def figures(out: Path) -> dict:
    return {r["key"]: (r["train_accuracy"], r["test_accuracy"], r["dev_accuracy"], r["weight_norm"])
            for r in json.loads((out / "results.json").read_text())["runs"]}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """One uninterrupted FAST sweep: the reference every damaged copy must come back to."""
    out = tmp_path_factory.mktemp("reference") / "sweep"
    done = inproc(*FAST, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert_every_run_once(out)
    return out


@pytest.fixture(scope="module")
def slow_reference(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("slow") / "sweep"
    done = cli(*SLOW, "--jobs", "2", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert_every_run_once(out)
    return figures(out)


def copy_of(finished: Path, tmp_path: Path) -> Path:
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    (out / ".reglab.lock").unlink(missing_ok=True)
    return out


# --- concurrent runs into one folder ----------------------------------------------------------

HOLDER = ("import sys, time\n"
          "from reglab.experiments.runner import folder_lock\n"
          "with folder_lock(sys.argv[1]):\n"
          "    print('held', flush=True)\n"
          "    time.sleep(120)\n")


def test_a_locked_folder_is_refused_naming_the_holder_and_the_lock_dies_with_it(tmp_path):
    out = tmp_path / "busy"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for verb in (FAST, ["compare", "--dataset", "moons", "--n-samples", "80", "--iterations", "20",
                            "--seeds", "1"]):
            refused = cli(*verb, "--out", str(out))
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert f"is in use by another reglab run (pid {holder.pid} on " in refused.stderr
            assert "Traceback" not in refused.stderr
        assert not (out / "runs.jsonl").exists()  # refused before anything was written or trained
        with pytest.raises(FolderBusy, match=f"pid {holder.pid}"):
            with folder_lock(out):
                pass
    finally:
        holder.kill()  # kill -9: no clean-up runs, and still no stale lock may remain
        holder.wait()
        holder.stdout.close()
    done = cli(*FAST, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert_every_run_once(out)


@pytest.mark.parametrize("resume", [False, True], ids=["two-sweeps", "two-resumes"])
def test_two_runs_started_together_never_count_a_run_twice(resume, finished, tmp_path, slow_reference):
    out = tmp_path / "sweep"
    extra = []
    if resume:  # a crashed sweep with 4 of its 9 runs done, resumed twice at once
        first = cli(*SLOW, "--out", str(out), "--jobs", "1")
        assert first.returncode == 0
        lines = (out / "runs.jsonl").read_text().splitlines()
        (out / "runs.jsonl").write_text("\n".join(lines[:4]) + "\n")
        extra = ["--resume"]
    a = start(*SLOW, "--jobs", "1", "--out", str(out), *extra)
    b = start(*SLOW, "--jobs", "1", "--out", str(out), *extra)
    outputs = [p.communicate(timeout=300)[0] for p in (a, b)]
    codes = sorted(p.returncode for p in (a, b))
    assert codes[0] == 0, outputs
    if codes[1] != 0:  # the usual case: they overlapped, and the second was refused
        assert codes[1] == 2
        assert any("is in use by another reglab run (pid" in o for o in outputs), outputs
    assert_every_run_once(out, slow_reference)


# --- damaged run logs -------------------------------------------------------------------------

def _damage(kind: str, lines: list[str]) -> tuple[bytes, str]:
    """runs.jsonl damaged one way, and the note the resume must print."""
    dropped = "line(s) that are not complete run records"
    body = {
        "each-line-twice": ("".join(line + "\n" + line + "\n" for line in lines), "recorded more than once"),
        "twice-appended": ("".join(line + "\n" for line in lines * 2), "recorded more than once"),
        "cut-short-last-line": ("".join(line + "\n" for line in lines[:-1]) + lines[-1][:50], dropped),
        "no-final-newline": ("\n".join(lines), None),
        "garbage-text": ("".join(line + "\n" for line in lines[:4]) + "#!garbage here\n"
                         + "".join(line + "\n" for line in lines[4:]), dropped),
        "json-array": ("[1, 2, 3]\n" + "".join(line + "\n" for line in lines), dropped),
        "json-number": ("".join(line + "\n" for line in lines) + "42\n", dropped),
        "json-string-and-null": ('"run"\nnull\n' + "".join(line + "\n" for line in lines), dropped),
        "object-missing-fields": ('{"group": "l2=0", "seed": 0}\n' + "".join(line + "\n" for line in lines), dropped),
        "wrong-types": ("".join(line + "\n" for line in lines[1:])
                        + lines[0].replace('"train_accuracy": ', '"train_accuracy": "high", "x": '), dropped),
        "blank-lines": ("\n\n" + "\n\n".join(lines) + "\n\n", None),
    }[kind]
    text, note = body
    return text.encode(), note


KINDS = ["each-line-twice", "twice-appended", "cut-short-last-line", "no-final-newline", "garbage-text",
         "json-array", "json-number", "json-string-and-null", "object-missing-fields", "wrong-types",
         "blank-lines"]


@pytest.mark.parametrize("kind", KINDS)
def test_resume_reads_a_damaged_log_with_every_run_once(kind, finished, tmp_path):
    out = copy_of(finished, tmp_path)
    reference = figures(finished)
    lines = (out / "runs.jsonl").read_text().splitlines()
    raw, note = _damage(kind, lines)
    (out / "runs.jsonl").write_bytes(raw)
    done = inproc(*FAST, "--out", str(out), "--resume")
    assert done.returncode == 0, done.stdout + done.stderr
    if note is not None:
        assert note in done.stdout and "runs.jsonl" in done.stdout
    assert "Traceback" not in done.stderr
    assert_every_run_once(out, reference)


def test_binary_junk_in_the_log_is_dropped_and_named(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    lines = (out / "runs.jsonl").read_text().splitlines()
    (out / "runs.jsonl").write_bytes(b"\xff\xfe\x00junk\n" + "".join(l + "\n" for l in lines[2:]).encode())
    log = RunLog(out / "runs.jsonl")
    assert len(log.read()) == len(lines) - 2
    assert log.notes == [f"{out / 'runs.jsonl'}: dropped 1 line(s) that are not complete run records "
                         f"(line 1: cut short or damaged)"]
    assert RunLog(out / "runs.jsonl").read() and (out / "runs.jsonl").read_bytes()[:1] == b"{"
    done = inproc(*FAST, "--out", str(out), "--resume")
    assert done.returncode == 0
    assert_every_run_once(out, figures(finished))


@pytest.mark.parametrize("content, what", [
    ('{"grid": [["l2", [0, 0.1', "is damaged (not complete JSON"),
    ("", "is damaged (not complete JSON"),
    ("[1, 2]", "holds a different sweep"),
])
def test_a_damaged_sweep_json_is_named(content, what, finished, tmp_path):
    out = copy_of(finished, tmp_path)
    (out / "sweep.json").write_text(content)
    done = inproc(*FAST, "--out", str(out), "--resume")
    assert done.returncode == 2
    assert f"Error: {out / 'sweep.json'} {what}" in done.stderr or (
        what == "holds a different sweep" and f"Error: {out} holds a different sweep" in done.stderr)
    assert "Traceback" not in done.stderr


# --- kill -9, SIGTERM, Ctrl-C ------------------------------------------------------------------

def _kill_and_check_workers(proc: subprocess.Popen, sig: int) -> set[int]:
    workers = children(proc.pid)
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    if workers:  # /proc is there: every worker must be gone within seconds
        assert wait_until(lambda: not any(alive(w) for w in workers), timeout=10), \
            f"workers {sorted(w for w in workers if alive(w))} outlived their parent"
    return workers


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finding child processes needs Linux /proc")
@pytest.mark.parametrize("attempt", range(3))
def test_kill_9_at_a_random_point_then_resume_gives_every_run_once(attempt, slow_reference, tmp_path):
    rng = random.Random(1000 + attempt)
    out = tmp_path / "sweep"
    proc = start(*SLOW, "--jobs", "2", "--out", str(out))
    # a random moment while runs are going: after k of the 9 runs are logged, then a
    # random fraction of a run later (before, between or during appends and model saves)
    k = rng.randrange(0, 8)
    log = out / "runs.jsonl"
    assert wait_until(lambda: (log.exists() and log.read_bytes().count(b"\n") >= k
                               and len(children(proc.pid)) >= 2) or proc.poll() is not None, timeout=120)
    time.sleep(rng.uniform(0.0, 0.3))
    assert proc.poll() is None, "the sweep must still be running when it is killed"
    workers = _kill_and_check_workers(proc, signal.SIGKILL)
    proc.communicate()
    if sys.platform.startswith("linux"):
        assert len(workers) >= 2
    for _ in range(5):  # resume until done; each resume may only add the missing runs
        done = cli(*SLOW, "--jobs", "2", "--out", str(out), "--resume")
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stdout + done.stderr
    assert_every_run_once(out, slow_reference)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "Ctrl-C"])
def test_sigterm_and_ctrl_c_end_workers_write_what_finished_and_exit_non_zero(sig, code, slow_reference,
                                                                           tmp_path):
    out = tmp_path / "sweep"
    proc = start(*SLOW, "--jobs", "2", "--out", str(out))
    assert wait_until(lambda: (out / "runs.jsonl").exists() and (out / "runs.jsonl").read_text().count("\n") >= 1
                      or proc.poll() is not None, timeout=120)
    if proc.poll() is not None:
        pytest.fail(f"the sweep ended before it could be interrupted: {proc.communicate()[0]}")
    _kill_and_check_workers(proc, sig)
    output = proc.communicate()[0]
    assert proc.returncode == code, output
    assert "Traceback" not in output
    results = json.loads((out / "results.json").read_text())
    finished = log_keys(out)
    assert results["interrupted"] is True
    assert sorted(r["key"] for r in results["runs"]) == sorted(finished)
    assert len(set(finished)) == len(finished) and 1 <= len(finished) < len(EXPECTED_KEYS)
    assert "rerun with --resume to finish" in output
    done = cli(*SLOW, "--jobs", "2", "--out", str(out), "--resume")
    assert done.returncode == 0
    assert f"resumed: {len(finished)} run(s) already done, {9 - len(finished)} to run" in done.stdout
    assert_every_run_once(out, slow_reference)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_while_a_run_is_recorded_leaves_it_both_returned_and_logged(sig):
    """The signal lands inside on_done (between the model file and the log line, say): the
    run is still both in the records and in the log, and the batch stops after it."""
    from reglab.data import load_dataset
    from reglab.experiments.runner import RunSpec, interrupted_by, run_all
    from reglab.training.loop import TrainConfig

    data = load_dataset("moons", n_samples=80)
    base = TrainConfig(layers=(4,), iterations=20, engine="reference")
    specs = [RunSpec("l2=0", {"l2": 0.0}, seed) for seed in range(3)]
    logged = []

    def on_done(record):
        os.kill(os.getpid(), sig)  # Python runs the handler before the next line
        logged.append(record.key)

    records = run_all(specs, data, base, jobs=1, on_done=on_done)
    assert [r.key for r in records] == logged == [specs[0].key]
    assert interrupted_by() == sig


# --- full and read-only outputs -----------------------------------------------------------------

def _limit_file_size(limit: int):
    def preexec():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


@pytest.mark.skipif(not hasattr(os, "fork"), reason="RLIMIT_FSIZE needs a POSIX child process")
def test_a_disk_that_fills_during_a_sweep_loses_nothing_it_wrote(finished, tmp_path):
    out = tmp_path / "sweep"
    # no file may grow past 50 kB: about two run lines; the third append is cut short
    full = cli(*FAST, "--jobs", "1", "--out", str(out), preexec_fn=_limit_file_size(50_000))
    assert full.returncode == 2, full.stdout + full.stderr
    assert f"Error: {out / 'runs.jsonl'}: File too large (the runs logged before this one are kept" \
        in full.stderr
    assert "Traceback" not in full.stderr
    kept = (out / "runs.jsonl").read_bytes()
    whole = kept.count(b"\n")
    assert whole >= 1 and not kept.endswith(b"\n")  # whole lines, then one cut short
    done = cli(*FAST, "--jobs", "1", "--out", str(out), "--resume")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resumed: {whole} run(s) already done" in done.stdout
    assert "dropped 1 line(s) that are not complete run records" in done.stdout
    assert_every_run_once(out, figures(finished))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this platform")
def test_train_json_to_a_full_device_names_the_problem(tmp_path):
    done = cli("train", "--dataset", "moons", "--n-samples", "60", "--iterations", "20",
               "--json", "/dev/full")
    assert done.returncode == 2
    assert "Error: /dev/full: No space left on device" in done.stderr


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in, or skip saying why."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    if Path("/sys/kernel").is_dir():  # root ignores permission bits; sysfs refuses new files
        try:
            (Path("/sys/kernel") / "reglab-probe").write_text("x")
        except OSError:
            return Path("/sys/kernel")
    pytest.skip("running as root without a read-only file system to write to")


@pytest.mark.parametrize("args", [
    ["train", "--dataset", "moons", "--iterations", "20", "--json", "{ro}/out.json"],
    ["train", "--dataset", "moons", "--iterations", "20", "--save", "{ro}/sub/model"],
    FAST + ["--out", "{ro}/sweep"],
    ["compare", "--dataset", "moons", "--iterations", "20", "--seeds", "1", "--out", "{ro}/cmp"],
], ids=["train-json", "train-save", "sweep-out", "compare-out"])
def test_read_only_outputs_are_refused_before_any_work(args, tmp_path):
    ro = _read_only_folder(tmp_path)
    args = [a.replace("{ro}", str(ro)) for a in args]
    started = time.perf_counter()
    done = inproc(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot write in {ro}" in done.stderr
    assert "Cost after iteration" not in done.stdout and "sweeping" not in done.stdout
    assert time.perf_counter() - started < 60


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "Ctrl-C"])
def test_an_interrupted_train_writes_what_it_has_and_exits_non_zero(sig, code, tmp_path):
    out, model = tmp_path / "run.json", tmp_path / "model.npz"
    proc = start("train", "--dataset", "moons", "--iterations", "5000000", "--print-every", "1000",
                 "--json", str(out), "--save", str(model))
    # the first printed cost says training has started
    assert proc.stdout.readline().startswith("moons:")
    lines = iter(proc.stdout.readline, "")  # the summary may wrap onto a second line
    assert any(line.startswith("Cost after iteration 0") for line in lines)
    os.kill(proc.pid, sig)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == code, output
    assert "interrupted at step" in output and "Traceback" not in output
    payload = json.loads(out.read_text())
    assert payload["stop_reason"] == "interrupted" and 0 < payload["steps"] < 5_000_000
    assert model.exists()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finding child processes needs Linux /proc")
def test_kill_9_of_a_compare_leaves_no_worker_behind(tmp_path):
    out = tmp_path / "cmp"
    proc = start("compare", "--dataset", "moons", "--n-samples", "80", "--layers", "8", "--iterations",
                 "20000", "--seeds", "2", "--jobs", "2", "--engine", "reference", "--out", str(out))
    assert wait_until(lambda: len(children(proc.pid)) >= 2 or proc.poll() is not None, timeout=120)
    assert proc.poll() is None, proc.communicate()[0]
    workers = _kill_and_check_workers(proc, signal.SIGKILL)
    proc.communicate()
    assert len(workers) >= 2
    # the folder is free again at once: the lock died with its holder
    with folder_lock(out):
        pass


# --- the pieces, through the API -----------------------------------------------------------------

def _record(key_seed: int, error=None, acc=0.9):
    from reglab.experiments.runner import RunRecord
    return RunRecord("l2=0", {"l2": 0.0}, key_seed, None if error else acc, None if error else acc,
                     None, None if error else 1.0, None if error else 0.0, 0.1, 10,
                     "error" if error else "completed", {}, error=error)


def test_runlog_keeps_one_record_per_run_and_prefers_a_success(tmp_path):
    log = RunLog(tmp_path / "runs.jsonl")
    for record in (_record(0, error="diverged"), _record(0, acc=0.8), _record(0, acc=0.7),
                   _record(1, error="diverged"), _record(1, error="diverged again")):
        log.append(record)
    records = log.read()
    assert [(r.seed, r.train_accuracy, r.error) for r in records] == [(0, 0.8, None), (1, None, "diverged again")]
    # one success counted twice is reported; failures retried and superseded are not duplicates
    assert log.notes == [f"{log.path}: 1 run(s) were recorded more than once; each is counted once"]
    assert len(log.path.read_text().splitlines()) == 2  # rewritten: the file now says the same
    assert RunLog(log.path).read() == records and RunLog(log.path).notes == []


def test_folder_lock_is_reentrant_in_one_process_and_released_after(tmp_path):
    with folder_lock(tmp_path / "out"):
        with folder_lock(tmp_path / "out"):  # run_sweep inside the sweep command
            pass
        holder = (tmp_path / "out" / ".reglab.lock").read_text()
        assert holder.startswith(f"pid {os.getpid()} on ")
    probe = subprocess.run([sys.executable, "-c", HOLDER.replace("time.sleep(120)", "pass"),
                            str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "held"  # another process gets it once this one let go


def test_the_memory_check_gives_the_estimate_and_what_is_available():
    from reglab import InputError, TrainConfig
    from reglab.training.resources import check_memory, estimate_bytes
    parts = estimate_bytes(TrainConfig(layers=(1000, 1000), iterations=100), 1000, 2, 1)
    # 1,005,001 parameters x 4 copies x 8 bytes; 2001 units x (6 x 1000 batch rows + 2 x 1000 evaluated) x 8
    assert parts["weights"] == 4 * (1000 * 2 + 1000 + 1000 * 1000 + 1000 + 1000 + 1) * 8 == 32_160_032
    assert parts["activations"] == 8 * 1000 * 2001 * 8 == 128_064_000
    assert parts["total"] == sum(v for k, v in parts.items() if k != "total")
    check_memory(parts, available=parts["total"])  # exactly enough is enough
    with pytest.raises(InputError, match=r"this configuration needs about 305.6 MiB of memory \(per run: "
                                         r"weights 30.7 MiB, activations 122.1 MiB, .*; times 2 runs at once "
                                         r"\(--jobs\)\), more than the 1.0 MiB this machine has available; "
                                         r".* or fewer --jobs"):
        check_memory(parts, available=2**20, runs_at_once=2)
