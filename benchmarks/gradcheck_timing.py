"""Timings of the gradient checker (issue 3); run with ``PYTHONPATH=src python benchmarks/gradcheck_timing.py``.

Prints the median wall time of: the course's 1-D and n-D cases, reglab's checker on
the course network, and a [64, 128, 64, 10] softmax network checked with 50 sampled
coordinates per tensor (through the API and through ``reglab gradcheck``) and in full.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from click.testing import CliRunner

from reglab.cli.gradcheck import gradcheck, random_problem
from reglab.gradcheck.core import check_gradients
from reglab.gradcheck.course import check_1d, course_case_nd, course_nd_inputs
from reglab.nn.network import Network, forward


def median_seconds(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    X, Y, p = course_nd_inputs()
    course_net = Network([p["W1"], p["W2"], p["W3"]], [p[k].ravel() for k in ("b1", "b2", "b3")],
                         ("relu", "relu"), "sigmoid")
    big = dict(layers=(128, 64), hidden="relu", output="softmax", classes=10, features=64, init="he", seed=0)
    rows = [
        ("course 1-D", lambda: check_1d(), 20),
        ("course n-D, planted bug", lambda: course_case_nd(True), 20),
        ("course n-D, corrected", lambda: course_case_nd(False), 20),
        ("reglab checker, course network", lambda: check_gradients(course_net, X.T, Y.ravel()), 20),
    ]
    for m in (8, 64):
        net, Xb, yb = random_problem(examples=m, **big)
        rows.append((f"[64,128,64,10], m={m}, sample 50", lambda: check_gradients(net, Xb, yb, sample=50), 5))
        rows.append((f"[64,128,64,10], m={m}, sample 50, l2+l1+dropout",
                     lambda: check_gradients(net, Xb, yb, sample=50, l2=0.5, l1=0.1, keep_prob=0.8), 5))
    cli = ["--features", "64", "--layers", "128,64", "--output", "softmax", "--classes", "10", "--sample", "50"]
    rows.append(("reglab gradcheck " + " ".join(cli), lambda: CliRunner().invoke(gradcheck, cli), 5))
    net, Xb, yb = random_problem(examples=8, **big)
    rows.append(("[64,128,64,10], m=8, every coordinate (17226)", lambda: check_gradients(net, Xb, yb), 1))
    one_pass = median_seconds(lambda: forward(net.weights, net.biases, Xb, net._activations), 200)

    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  seconds")
    for name, fn, repeat in rows:
        print(f"{name:<{width}}  {median_seconds(fn, repeat):.4f}")
    print(f"(one forward pass of [64,128,64,10] on 8 examples: {one_pass * 1e6:.1f} us)")


if __name__ == "__main__":
    main()
