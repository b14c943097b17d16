"""The fast engine against its baselines, side by side in one process and one sitting.

Each case runs every contender in turn (alternating, ``--repeats`` rounds) and
prints the median wall-clock time with min and max and the ratio of each
median to the course-style NumPy loop's. Contenders: reglab's fast and
reference engines, a plain course-style NumPy loop written below, PyTorch eager
CPU (1 thread), a JAX ``jit``-compiled loop (1 thread; compile time apart) and
scikit-learn's MLPClassifier, where installed. Everything runs on one thread
(BLAS limited to 1) except case 2, which uses the cores with worker processes.

Cases (issue 14):
  1. football [2, 20, 3, 1], 30000 full-batch iterations, lr 0.3: none, L2 0.7, dropout 0.86
  2. 64 football runs (8 L2 strengths x 8 seeds): trainings per second, effective GFLOP/s
  3. digits [64, 256, 128, 10], mini-batch 64, 50 epochs, dropout 0.8 + L2
  4. time per step as the examples (211 to 100,000) and the width (20 to 1024) grow
  compare: ``reglab compare`` with no arguments, cold (fresh numba cache) and warm,
     fast against reference engine (whole processes)
  chaos (not a timing): the football run where no second engine can follow the
     reference to 1e-9, beside the reference run on an input moved by one ulp

Run: python benchmarks/engine.py [--cases 1,2,3,4,compare] [--repeats 3] [--iterations 10000]
     [--compare-repeats 2] [--football PATH]
(all cases with the defaults: about 6-8 minutes on a quiet 2-core machine)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from reglab.data import load_digits, load_football  # noqa: E402
from reglab.training.loop import TrainConfig, train  # noqa: E402

FOOTBALL = Path(__file__).resolve().parents[2] / "shared" / "data" / "football.mat"


# --- the course-style NumPy loop (examples in columns, as the course writes it) ---------

def numpy_loop(X, y, sizes, lr, steps, *, lambd=0.0, keep_prob=1.0, batch=None, seed=0,
               course_masks=False):
    """Plain gradient descent as the course writes it, for any depth, sigmoid or softmax.

    ``course_masks``: the course's dropout, ``np.random.seed(1)`` then ``rand`` at
    every forward pass (a local RandomState here, same numbers).
    """
    rng = np.random.default_rng(seed)
    L = len(sizes) - 1
    W = [rng.standard_normal((sizes[l + 1], sizes[l])) / np.sqrt(sizes[l]) for l in range(L)]
    b = [np.zeros((sizes[l + 1], 1)) for l in range(L)]
    XT, m_all, softmax = X.T, X.shape[0], sizes[-1] > 1
    Y = np.eye(sizes[-1])[y].T if softmax else y[None, :].astype(float)
    costs = []
    order = np.arange(m_all)
    for t in range(steps):
        if batch is None:
            A, Yb = XT, Y
        else:
            k = t % -(-m_all // batch)
            if k == 0:
                order = rng.permutation(m_all)
            idx = order[k * batch:(k + 1) * batch]
            A, Yb = XT[:, idx], Y[:, idx]
        m = A.shape[1]
        cache = [A]
        Ds = []
        legacy = np.random.RandomState(1) if course_masks else None
        for l in range(L - 1):
            Z = np.dot(W[l], A) + b[l]
            A = np.maximum(0, Z)
            if keep_prob < 1:
                D = (legacy.rand(*A.shape) if course_masks else rng.random(A.shape)) < keep_prob
                A = A * D / keep_prob
                Ds.append(D)
            cache.append(A)
        Z = np.dot(W[-1], A) + b[-1]
        if softmax:
            E = np.exp(Z - Z.max(axis=0))
            AL = E / E.sum(axis=0)
            cost = -np.sum(Yb * np.log(AL)) / m
        else:
            AL = 1 / (1 + np.exp(-Z))
            with np.errstate(divide="ignore", invalid="ignore"):  # the course's log(0)
                cost = 1. / m * np.nansum(-np.log(AL) * Yb - np.log(1 - AL) * (1 - Yb))
        if lambd:
            cost += lambd / (2 * m) * sum(np.sum(np.square(w)) for w in W)
        costs.append(cost)
        dZ = AL - Yb
        for l in range(L - 1, -1, -1):
            dW = 1. / m * np.dot(dZ, cache[l].T) + (lambd * W[l]) / m
            db = 1. / m * np.sum(dZ, axis=1, keepdims=True)
            if l > 0:
                dA = np.dot(W[l].T, dZ)
                if keep_prob < 1:
                    dA = dA * Ds[l - 1] / keep_prob
                dZ = np.multiply(dA, np.int64(cache[l] > 0))
            W[l] = W[l] - lr * dW
            b[l] = b[l] - lr * db
    return costs


# --- PyTorch eager, JAX jit, scikit-learn ------------------------------------------------

def torch_loop(X, y, sizes, lr, steps, *, lambd=0.0, keep_prob=1.0, batch=None, seed=0):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    layers = []
    for l in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[l], sizes[l + 1]).double())
        if l < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
            if keep_prob < 1:
                layers.append(torch.nn.Dropout(1 - keep_prob))
    net = torch.nn.Sequential(*layers)
    Xt = torch.tensor(X, dtype=torch.float64)
    softmax = sizes[-1] > 1
    yt = torch.tensor(y, dtype=torch.long if softmax else torch.float64)
    loss_fn = torch.nn.CrossEntropyLoss() if softmax else torch.nn.BCEWithLogitsLoss()
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    gen = torch.Generator().manual_seed(seed)
    m_all = len(X)
    for t in range(steps):
        if batch is None:
            Xb, yb = Xt, yt
        else:
            k = t % -(-m_all // batch)
            if k == 0:
                order = torch.randperm(m_all, generator=gen)
            idx = order[k * batch:(k + 1) * batch]
            Xb, yb = Xt[idx], yt[idx]
        out = net(Xb)
        loss = loss_fn(out if softmax else out[:, 0], yb)
        if lambd:
            loss = loss + lambd / (2 * len(Xb)) * sum((w * w).sum() for w in weights)
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad


def jax_loop_factory(X, y, sizes, lr, steps, *, lambd=0.0, keep_prob=1.0, seed=0):
    """A jit-compiled full-batch loop (lax.scan over steps); returns (compile s, run fn)."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    Xj, yj = jnp.asarray(X), jnp.asarray(y, dtype=jnp.float64)

    def loss(params, key):
        A = Xj
        for l, (W, b) in enumerate(params[:-1]):
            A = jax.nn.relu(A @ W.T + b)
            if keep_prob < 1:
                key, sub = jax.random.split(key)
                A = jnp.where(jax.random.uniform(sub, A.shape) < keep_prob, A / keep_prob, 0.0)
        W, b = params[-1]
        z = (A @ W.T + b)[:, 0]
        c = jnp.mean(jnp.logaddexp(0.0, z) - yj * z)
        if lambd:
            c = c + lambd / (2 * len(X)) * sum(jnp.sum(W * W) for W, _ in params)
        return c

    grad = jax.value_and_grad(loss)

    def step(carry, _):
        params, key = carry
        key, sub = jax.random.split(key)
        c, g = grad(params, sub)
        params = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, g)]
        return (params, key), c

    def run(params, key):
        return jax.lax.scan(step, (params, key), None, length=steps)[1]

    rng = np.random.default_rng(seed)
    params = [(jnp.asarray(rng.standard_normal((sizes[l + 1], sizes[l])) / np.sqrt(sizes[l])),
               jnp.zeros(sizes[l + 1])) for l in range(len(sizes) - 1)]
    key = jax.random.PRNGKey(seed)
    t0 = time.perf_counter()
    compiled = jax.jit(run).lower(params, key).compile()
    compile_s = time.perf_counter() - t0
    return compile_s, lambda: compiled(params, key).block_until_ready()


def sklearn_loop(X, y, sizes, lr, steps, *, lambd=0.0, seed=0):
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=sizes[1:-1], activation="relu", solver="sgd",
                        alpha=lambd, batch_size=len(X), learning_rate_init=lr, momentum=0.0,
                        nesterovs_momentum=False, max_iter=steps, tol=0.0, n_iter_no_change=steps + 1,
                        shuffle=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)


def have(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


# --- timing -----------------------------------------------------------------------------

def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def race(contenders: dict, repeats: int, baseline: str = "course-style NumPy") -> dict:
    """Alternate the contenders ``repeats`` times; print median [min, max] and ratios."""
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(timed(fn))
    base = statistics.median(times[baseline]) if baseline in times else None
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = f"  {base / med:6.2f}x the {baseline} loop" if base else ""
        print(f"    {name:24s} {med:8.3f} s  [{min(ts):.3f}, {max(ts):.3f}]{ratio}")
    return times


def reglab_run(X, y, config):
    return lambda: train(X, y, config)


def flops_per_step(sizes, m):
    """Products of one step: forward, weight gradients, input gradients except layer 1."""
    return sum(2 * m * a * b * (3 if l > 0 else 2) for l, (a, b) in enumerate(zip(sizes, sizes[1:])))


def product_peak() -> float:
    """float64 matrix-product GFLOP/s on one core (BLAS limited to 1 thread)."""
    a = np.random.default_rng(0).standard_normal((1024, 1024))
    with threadpool_limits(1):
        best = min(timed(lambda: a @ a) for _ in range(5))
    return 2 * 1024 ** 3 / best / 1e9


def load() -> str:
    return f"(load average {os.getloadavg()[0]:.1f})"


def case1(football, repeats, iterations):
    print(f"\nCase 1: football [2, 20, 3, 1], {iterations} full-batch iterations, lr 0.3 {load()}")
    X, y = football.X_train, football.y_train
    sizes = (2, 20, 3, 1)
    for label, settings in (("none", {}), ("L2 0.7", {"l2": 0.7}),
                            ("dropout 0.86, a fresh mask every step", {"keep_prob": 0.86}),
                            ("dropout 0.86, the course's masks", {"keep_prob": 0.86, "course_compat": True})):
        print(f"  {label}:")
        config = TrainConfig(layers=(20, 3), init="course", learning_rate=0.3, iterations=iterations,
                             record_every=1000, **settings)
        lambd, keep = settings.get("l2", 0.0), settings.get("keep_prob", 1.0)
        course_masks = settings.get("course_compat", False)
        contenders = {
            "reglab fast": reglab_run(X, y, dataclasses.replace(config, engine="fast")),
            "reglab reference": reglab_run(X, y, dataclasses.replace(config, engine="reference")),
            "course-style NumPy": lambda: numpy_loop(X, y, sizes, 0.3, iterations, lambd=lambd, keep_prob=keep,
                                                     course_masks=course_masks),
        }
        if course_masks:  # the other libraries draw fresh masks: timed in the setting above
            race(contenders, repeats)
            continue
        if have("torch"):
            contenders["PyTorch eager (1 thread)"] = lambda: torch_loop(X, y, sizes, 0.3, iterations,
                                                                         lambd=lambd, keep_prob=keep)
        if have("jax"):
            compile_s, run = jax_loop_factory(X, y, sizes, 0.3, iterations, lambd=lambd, keep_prob=keep)
            print(f"    (JAX compile {compile_s:.2f} s, not in the time below)")
            contenders["JAX jit loop"] = run
        if keep == 1.0:  # MLPClassifier has no dropout
            contenders["sklearn MLPClassifier"] = lambda: sklearn_loop(X, y, sizes, 0.3, iterations, lambd=lambd)
        race(contenders, repeats)


def case2(football, repeats, baseline_runs, iterations):
    from reglab.experiments.runner import RunSpec, run_all
    print(f"\nCase 2: 64 football runs (8 L2 strengths x 8 seeds), {iterations} iterations each {load()}")
    X, y = football.X_train, football.y_train
    strengths = [0.0, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0]
    specs = [RunSpec("l2", {"l2": s}, seed) for s in strengths for seed in range(8)]
    base = TrainConfig(layers=(20, 3), init="course", learning_rate=0.3, iterations=iterations,
                       record_every=1000, engine="fast")
    peak = product_peak()
    flops = flops_per_step((2, 20, 3, 1), len(X)) * iterations
    print(f"    float64 product peak (1 core, 1024x1024 @ 1024x1024): {peak:.1f} GFLOP/s; "
          f"{flops / 1e9:.2f} GFLOP of products per training")
    # Through the runner, as compare and sweep run them: run_all deals the group of 64 runs
    # into work units, and execute_many steps each unit's runs together (lock-step rounds).
    rates = {"reglab fast, 64 runs, 2 processes": [], "reglab fast, 64 runs, 1 process": [],
             f"course-style NumPy, {baseline_runs} runs": [], f"reglab reference, {baseline_runs} runs": []}
    for _ in range(repeats):
        for name in rates:
            if name.startswith("reglab fast"):
                jobs = 2 if "2 processes" in name else 1
                t = timed(lambda: run_all(specs, football, base, jobs=jobs))
                rates[name].append(len(specs) / t)
            elif name.startswith("course"):
                with threadpool_limits(1):
                    t = timed(lambda: [numpy_loop(X, y, (2, 20, 3, 1), 0.3, iterations, lambd=s, seed=i)
                                       for i, s in enumerate(strengths[:baseline_runs])])
                rates[name].append(baseline_runs / t)
            else:
                ref = dataclasses.replace(base, engine="reference")
                t = timed(lambda: run_all(specs[:baseline_runs], football, ref, jobs=1))
                rates[name].append(baseline_runs / t)
    course_rate = statistics.median(rates[f"course-style NumPy, {baseline_runs} runs"])
    for name, rs in rates.items():
        med = statistics.median(rs)
        print(f"    {name:36s} {med:7.2f} trainings/s [{min(rs):.2f}, {max(rs):.2f}]  "
              f"{med / course_rate:6.2f}x the course-style loop; "
              f"{med * flops / 1e9:6.1f} GFLOP/s = {100 * med * flops / 1e9 / (2 * peak):.1f}% of 2 cores' peak")


def case3(repeats):
    print(f"\nCase 3: digits [64, 256, 128, 10], mini-batch 64, 50 epochs, dropout 0.8 + L2 1.0 {load()}")
    d = load_digits(seed=0, dev=False)
    X, y = d.X_train, d.y_train
    sizes = (64, 256, 128, 10)
    steps = 50 * -(-len(X) // 64)
    print(f"    {len(X)} training examples, {steps} steps")
    config = TrainConfig(layers=(256, 128), epochs=50, batch_size=64, keep_prob=0.8, l2=1.0,
                         learning_rate=0.1, record_every=steps)
    contenders = {
        "reglab fast": reglab_run(X, y, dataclasses.replace(config, engine="fast")),
        "reglab reference": reglab_run(X, y, dataclasses.replace(config, engine="reference")),
        "course-style NumPy": lambda: numpy_loop(X, y, sizes, 0.1, steps, lambd=1.0, keep_prob=0.8, batch=64),
    }
    if have("torch"):
        contenders["PyTorch eager (1 thread)"] = lambda: torch_loop(X, y, sizes, 0.1, steps, lambd=1.0,
                                                                     keep_prob=0.8, batch=64)
    race(contenders, repeats)


def case4(repeats):
    print(f"\nCase 4: time per step as the data and the network grow (no regularization) {load()}")
    rng = np.random.default_rng(0)
    peak = product_peak()
    print(f"    float64 product peak: {peak:.1f} GFLOP/s (1 core)")
    print(f"    {'sizes':22s} {'m':>7s} {'fast us/step':>13s} {'ref us/step':>12s} {'NumPy us/step':>14s} "
          f"{'fast/NumPy':>10s} {'fast GFLOP/s':>12s}")
    shapes = [((2, 20, 3, 1), m) for m in (211, 1000, 10000, 100000)]
    shapes += [((2, w, w, 1), 2000) for w in (20, 64, 256, 1024)]
    for sizes, m in shapes:
        X = rng.standard_normal((m, sizes[0]))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        fl = flops_per_step(sizes, m)
        steps = int(max(5, min(3000, 2e9 / fl / 10)))
        config = TrainConfig(layers=sizes[1:-1], learning_rate=0.05, iterations=steps, record_every=steps)
        times = {"fast": [], "ref": [], "numpy": []}
        fns = {"fast": reglab_run(X, y, dataclasses.replace(config, engine="fast")),
               "ref": reglab_run(X, y, dataclasses.replace(config, engine="reference")),
               "numpy": lambda: numpy_loop(X, y, sizes, 0.05, steps)}
        for _ in range(repeats):
            for name, fn in fns.items():
                times[name].append(timed(fn) / steps * 1e6)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"    {str(list(sizes)):22s} {m:7d} {med['fast']:13.1f} {med['ref']:12.1f} {med['numpy']:14.1f} "
              f"{med['numpy'] / med['fast']:9.2f}x {fl / med['fast'] / 1e3:12.2f}")


def chaos(football):
    """Not a timing: where the reference disagrees with itself (see docs/engine.md)."""
    print("\nChaos: football, lr 0.3, init course, seed 0, fresh masks, no regularization")
    config = TrainConfig(layers=(20, 3), init="course", learning_rate=0.3, iterations=30000,
                         record_every=1000)
    X = football.X_train
    X_moved = X.copy()
    X_moved[0, 0] = np.nextafter(X_moved[0, 0], np.inf)
    ref = train(X, football.y_train, dataclasses.replace(config, engine="reference")).history.costs
    runs = {"fast engine": (X, "fast"), "reference, X[0, 0] moved one ulp": (X_moved, "reference")}
    for name, (data, engine) in runs.items():
        costs = train(data, football.y_train, dataclasses.replace(config, engine=engine)).history.costs
        rel = np.abs(costs - ref) / np.abs(ref)
        beyond = {tol: int(np.argmax(rel > tol)) if rel.max() > tol else None for tol in (1e-9, 1e-3)}
        print(f"    {name:36s} max rel. difference steps 0-10000 {rel[:10000].max():.1e}; "
              f"first step beyond 1e-9: {beyond[1e-9]}, beyond 1e-3: {beyond[1e-3]}")


def compare_cli(repeats):
    print(f"\n`reglab compare` with no arguments, whole processes (2 worker processes); cold = an empty "
          f"numba cache directory {load()}")
    times = {"fast cold": [], "fast warm": [], "reference": []}
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            cache = Path(tmp) / f"cache{r}"
            for name in times:
                env["NUMBA_CACHE_DIR"] = str(cache)
                engine = "reference" if name == "reference" else "fast"
                cmd = [sys.executable, "-m", "reglab", "compare", "--engine", engine,
                       "--out", str(Path(tmp) / f"out-{name.replace(' ', '-')}-{r}")]
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, check=True, capture_output=True)
                times[name].append(time.perf_counter() - t0)
    ref = statistics.median(times["reference"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"    {name:12s} {med:7.2f} s [{min(ts):.2f}, {max(ts):.2f}]  {ref / med:5.2f}x the reference")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="1,2,3,4,compare")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=4,
                        help="Case 2: sequential baseline runs timed (their rate is per training).")
    parser.add_argument("--football", default=str(FOOTBALL))
    parser.add_argument("--iterations", type=int, default=10000,
                        help="Cases 1 and 2: full-batch iterations per training (the issue's 30000 "
                             "is the same per-step work, three times as long).")
    parser.add_argument("--compare-repeats", type=int, default=2,
                        help="The compare case: whole processes per variant (each about 10-30 s).")
    args = parser.parse_args()
    cases = args.cases.split(",")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; Python {platform.python_version()}, "
          f"NumPy {np.__version__}")
    from reglab.training.fast import prepare
    t0 = time.perf_counter()
    prepare("float64")
    print(f"fast engine ready (numba import and cache load, or compilation) in {time.perf_counter() - t0:.2f} s")
    football = load_football(args.football) if {"1", "2", "chaos"} & set(cases) else None
    if "2" in cases:  # first: its worker processes fork, which JAX (case 1) must not see
        case2(football, args.repeats, args.baseline_runs, args.iterations)
    with threadpool_limits(1):
        if "1" in cases:
            case1(football, args.repeats, args.iterations)
    with threadpool_limits(1):
        if "3" in cases:
            case3(args.repeats)
        if "4" in cases:
            case4(args.repeats)
    if "compare" in cases:
        compare_cli(args.compare_repeats)
    if "chaos" in cases:
        chaos(football)


if __name__ == "__main__":
    main()
