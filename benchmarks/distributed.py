"""A 64-run sweep on the local process pool and on a local Dask cluster (issue 12).

Contenders, alternated over ``--repeats`` rounds (the order rotates each round):
  local-1  run_all(jobs=1): the runs one after another in this process
  dask-1   run_all(scheduler=...) on a Dask cluster of 1 single-threaded worker
  local-2  run_all(jobs=2): the local pool of 2 worker processes
  dask-2   the same on a Dask cluster of 2 single-threaded workers

Both clusters (``dask scheduler`` + ``dask worker --nthreads 1`` subprocesses on
localhost) are started once and warmed up (one untimed batch each, so the workers
have reglab imported and the numba kernels loaded); each timed batch reuses a
connected Client, so connecting (about a second) is not in the figures, the
scattering of the data and every task round-trip are. Reported: median wall-clock
seconds with min and max, trainings per second, the per-run overhead Dask adds
((dask-N - local-N) / 64) and the speed-up from 1 to 2 Dask workers. The load
average is printed before and after: on a shared machine the figures move with it.

Run: python benchmarks/distributed.py [--repeats 3] [--iterations 2000] [--samples 400]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is named distributed.py: its folder (sys.path[0]) must not shadow the dask package
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

from reglab.data import load_dataset, with_dev_split  # noqa: E402
from reglab.experiments.runner import run_all  # noqa: E402
from reglab.experiments.sweep import Grid, specs_for  # noqa: E402
from reglab.training.loop import TrainConfig  # noqa: E402

STRENGTHS = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
SEEDS = range(8)


def start_cluster(folder: Path, workers: int) -> tuple[Path, list]:
    file = folder / "scheduler.json"
    log = (folder / "cluster.log").open("w")
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--dashboard-address", "127.0.0.1:0",
                               "--scheduler-file", str(file)], stdout=log, stderr=subprocess.STDOUT)]
    while not (file.exists() and file.stat().st_size):
        time.sleep(0.1)
    procs += [subprocess.Popen([sys.executable, "-m", "dask", "worker", "--scheduler-file", str(file),
                                "--nthreads", "1", "--host", "127.0.0.1"], stdout=log,
                               stderr=subprocess.STDOUT) for _ in range(workers)]
    log.close()
    return file, procs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()

    from distributed import Client

    data = with_dev_split(load_dataset("moons", n_samples=args.samples))
    base = TrainConfig(layers=(20, 3), iterations=args.iterations, record_every=args.iterations // 20)
    specs = specs_for(Grid.build(l2=STRENGTHS), SEEDS)
    n = len(specs)
    print(f"{n} runs: moons, {data.summary()}; layers [20, 3], {args.iterations} full-batch "
          f"iterations, engine {base.engine}; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    procs, clients = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for workers in (1, 2):
                folder = Path(tmp) / f"cluster{workers}"
                folder.mkdir()
                file, started = start_cluster(folder, workers)
                procs += started
                client = Client(scheduler_file=str(file), set_as_default=False, timeout=60)
                client.wait_for_workers(workers, timeout=120)
                clients[workers] = client
                run_all(specs[:2 * workers], data, base, scheduler=client)  # warm-up, untimed
            run_all(specs[:2], data, base, jobs=2)  # this process's numba kernels loaded too
            contenders = {"local-1": lambda: run_all(specs, data, base, jobs=1),
                          "dask-1": lambda: run_all(specs, data, base, scheduler=clients[1]),
                          "local-2": lambda: run_all(specs, data, base, jobs=2),
                          "dask-2": lambda: run_all(specs, data, base, scheduler=clients[2])}
            names = list(contenders)
            times = {name: [] for name in names}
            for round_ in range(args.repeats):
                order = names[round_ % len(names):] + names[:round_ % len(names)]
                for name in order:
                    started = time.perf_counter()
                    records = contenders[name]()
                    times[name].append(time.perf_counter() - started)
                    assert len(records) == n and not any(r.error for r in records), name
                print(f"round {round_ + 1}: " + ", ".join(f"{k} {times[k][-1]:.2f} s" for k in names),
                      flush=True)
        finally:
            for client in clients.values():
                client.close()
            for proc in procs[::-1]:
                proc.terminate()
            for proc in procs:
                proc.wait()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{'contender':<9} {'median s':>9} {'min s':>7} {'max s':>7} {'runs/s':>7}")
    for k in names:
        print(f"{k:<9} {med[k]:>9.2f} {min(times[k]):>7.2f} {max(times[k]):>7.2f} {n / med[k]:>7.2f}")
    for w in (1, 2):
        print(f"Dask overhead per run with {w} worker(s): "
              f"{1000 * (med[f'dask-{w}'] - med[f'local-{w}']) / n:+.1f} ms "
              f"(median dask-{w} minus median local-{w}, over {n} runs)")
    print(f"speed-up from 1 to 2 Dask workers: {med['dask-1'] / med['dask-2']:.2f}x "
          f"(local pool, 1 to 2 processes: {med['local-1'] / med['local-2']:.2f}x)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
