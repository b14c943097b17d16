"""The gradient checker (issue 3): the course's two cases, a grid of random
architectures with every penalty and frozen dropout, attribution of a wrong
tensor, sampling, the L1 kink, and the ``gradcheck`` command."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import as_array

from reglab._validation import InputError
from reglab.cli.gradcheck import gradcheck
from reglab.nn.dropout import FreshMasks
from reglab.gradcheck.core import GradCheckReport, band, check_gradients
from reglab.gradcheck.course import (COURSE_KEYS, check_1d, course_bug_backward, course_case_nd,
                                     course_nd_inputs)
from reglab.nn.initializers import initialize
from reglab.nn.network import Network, backward, cost, forward
from reglab.nn.outputs import get_output
from reglab.nn.regularizers import L2

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")
PENALTIES = ({}, {"l2": 0.7}, {"l1": 0.5}, {"keep_prob": 0.7},
             {"l2": 0.3, "l1": 0.2, "keep_prob": (0.8, 0.6, 0.9, 0.7)})


def random_network(depth, hidden, output, seed, m=12, n_in=4, n_classes=3):
    """A random network (He weights, small random biases) with data to check it on."""
    rng = np.random.default_rng(seed)
    widths = tuple(int(w) for w in rng.integers(2, 7, size=depth))
    n_out = 1 if output == "sigmoid" else n_classes
    weights, biases = initialize((n_in, *widths, n_out), "he", rng)
    biases = [0.1 * rng.standard_normal(b.shape) for b in biases]
    X = rng.standard_normal((m, n_in))
    y = rng.integers(0, 2 if output == "sigmoid" else n_classes, size=m)
    return Network(weights, biases, (hidden,) * depth, output), X, y


def course_network():
    """The course's n-D case as a reglab Network, with X and y in reglab's layout."""
    X, Y, p = course_nd_inputs()
    net = Network([p["W1"], p["W2"], p["W3"]], [p["b1"].ravel(), p["b2"].ravel(), p["b3"].ravel()],
                  ("relu", "relu"), "sigmoid")
    return net, X.T, Y.ravel()


# --- the course's cases ---------------------------------------------------------------

def test_course_inputs_are_the_reference_inputs(reference):
    inputs = reference["cases"]["gradcheck_nd"]["inputs"]
    X, Y, params = course_nd_inputs()
    np.testing.assert_array_equal(X, as_array(inputs["X"]))
    np.testing.assert_array_equal(Y, as_array(inputs["Y"]))
    for key in COURSE_KEYS:
        np.testing.assert_array_equal(params[key], as_array(inputs["parameters"][key]))
    assert inputs["epsilon"] == 1e-7


def test_course_1d(reference):
    case = reference["cases"]["gradcheck_1d"]
    report = check_1d(**case["inputs"])
    assert report.difference == pytest.approx(case["expected"]["difference"], abs=case["tolerance"], rel=0)
    assert report.status == "pass" and report.per_parameter["theta"].checked == 1


def test_course_nd_planted_bug_names_exactly_W2_and_b1(reference):
    case = reference["cases"]["gradcheck_nd"]
    report = course_case_nd(planted_bug=True, epsilon=case["inputs"]["epsilon"])
    assert report.difference == pytest.approx(case["expected"]["difference_buggy"],
                                              abs=case["tolerance"]["difference_buggy"], rel=0)
    assert report.status == "fail"
    assert sorted(report.failing) == ["W2", "b1"]
    assert {w.name for w in report.worst} <= {"W2", "b1"}
    # dW2 doubled: |2g - g| / (|2g| + |g|) = 1/3; db1 four times: 3/5.
    assert report.per_parameter["W2"].difference == pytest.approx(1 / 3, rel=1e-6)
    assert report.per_parameter["b1"].difference == pytest.approx(3 / 5, rel=1e-6)
    # No bug in layer 3; its combined difference passes but b3 warns (round-off), so the layer warns.
    assert report.per_parameter["b3"].status == "warn" and report.per_layer[3][0] < 1e-7
    assert [report.per_layer[l][1] for l in (1, 2, 3)] == ["fail", "fail", "warn"]
    assert "W2" in str(report) and "failing tensors: b1, W2" in str(report)


def test_course_nd_corrected(reference):
    case = reference["cases"]["gradcheck_nd"]
    report = course_case_nd(planted_bug=False, epsilon=case["inputs"]["epsilon"])
    assert report.difference == pytest.approx(case["expected"]["difference_correct"],
                                              abs=case["tolerance"]["difference_correct"], rel=0)
    # 1.19e-7 is round-off in the course's -log(1 - A3): the warn band, explained, nothing failing.
    assert report.status == "warn" and report.failing == []
    assert any("round-off" in note for note in report.notes)
    assert report.checked == 47


def test_reglab_checker_on_the_course_network():
    """reglab's logits-based cost has ~100x less round-off than the course's, and its
    per-tensor report points at the same two tensors when the course's bug is planted."""
    net, X, y = course_network()
    clean = check_gradients(net, X, y)
    assert clean.difference < 1e-8 and clean.status == "pass"
    buggy = check_gradients(net, X, y, gradient_fn=course_bug_backward)
    assert sorted(buggy.failing) == ["W2", "b1"]
    assert buggy.difference == pytest.approx(0.2850931567, abs=1e-6)


# --- every architecture, penalty and frozen dropout -----------------------------------

@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_grid_of_architectures_passes(depth, hidden, output):
    net, X, y = random_network(depth, hidden, output, seed=100 * depth + ACTIVATIONS.index(hidden))
    for penalties in PENALTIES:
        if isinstance(penalties.get("keep_prob"), tuple):
            penalties = {**penalties, "keep_prob": penalties["keep_prob"][:depth]}
        report = check_gradients(net, X, y, seed=depth, **penalties)
        assert report.difference < 1e-7, (penalties, str(report))
        assert report.status == "pass" and report.failing == [], (penalties, str(report))
        assert report.checked + sum(report.skipped.values()) == sum(W.size + b.size for W, b in
                                                                    zip(net.weights, net.biases))


def test_check_leaves_the_network_untouched():
    net, X, y = random_network(2, "tanh", "softmax", seed=3)
    before = [a.copy() for a in net.params().values()]
    check_gradients(net, X, y, l2=0.5, l1=0.5, keep_prob=0.5)
    for a, b in zip(before, net.params().values()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_a_wrong_tensor_is_caught_and_named(output):
    net, X, y = random_network(3, "tanh", output, seed=11)
    names = list(net.params())
    for k, name in enumerate(names):
        def scaled(*args, k=k):
            dW, db = backward(*args)
            grads = [g for pair in zip(dW, db) for g in pair]
            grads[k] = grads[k] * 1.5
            return grads[0::2], grads[1::2]

        def one_entry(*args, k=k):
            dW, db = backward(*args)
            grads = [g.copy() for pair in zip(dW, db) for g in pair]
            grads[k].flat[-1] += 1e-3
            return grads[0::2], grads[1::2]

        report = check_gradients(net, X, y, l2=0.2, keep_prob=0.8, gradient_fn=scaled)
        assert report.failing == [name] and report.status == "fail", str(report)
        assert report.worst[0].name == name
        report = check_gradients(net, X, y, l2=0.2, keep_prob=0.8, gradient_fn=one_entry)
        assert report.failing == [name], str(report)
        shape = net.params()[name].shape
        assert (report.worst[0].name, report.worst[0].index) == (name, tuple(s - 1 for s in shape))


def test_planted_course_bug_in_a_random_network():
    net, X, y = random_network(2, "relu", "softmax", seed=5)
    report = check_gradients(net, X, y, l2=0.1, gradient_fn=course_bug_backward)
    assert sorted(report.failing) == ["W2", "b1"]
    logistic, X, y = random_network(0, "relu", "sigmoid", seed=1)
    with pytest.raises(InputError, match="needs W2"):
        check_gradients(logistic, X, y, gradient_fn=course_bug_backward)


def test_vanishing_gradients_warn_instead_of_failing():
    """A saturated first layer has gradients ~1e-13, below round-off: its relative
    difference means nothing, so it is flagged 'warn' with a note, never 'fail'."""
    net, X, y = random_network(2, "sigmoid", "sigmoid", seed=2)
    net.biases[0] = net.biases[0] + 30.0
    report = check_gradients(net, X, y)
    assert report.per_parameter["b1"].difference > 1e-5
    assert report.per_parameter["b1"].status == "warn" and report.status == "pass"
    assert report.per_parameter["W1"].status == "warn"
    assert any("round-off level" in note for note in report.notes)
    # Layer 1's combined difference is just as meaningless: warn like its tensors, not fail.
    assert report.per_layer[1][0] > 1e-5 and report.per_layer[1][1] == "warn"
    assert report.per_layer[2][1] == "pass" and report.per_layer[3][1] == "pass"
    assert report.to_dict()["per_layer"]["1"]["status"] == "warn"


def test_a_layer_is_never_better_than_its_worst_tensor():
    """db1 off by 1e-4 relative fails on its own; W1's gradient is ten times larger, so the
    combined layer-1 difference lands in the warn band, but the layer must still fail."""
    net, X, y = random_network(1, "relu", "sigmoid", seed=4)

    def wrong_db1(*args):
        dW, db = backward(*args)
        return dW, [db[0] * (1 + 1e-4), *db[1:]]

    report = check_gradients(net, X * 10, y, gradient_fn=wrong_db1)
    assert report.failing == ["b1"] and report.per_parameter["W1"].status == "pass"
    assert 1e-7 < report.per_layer[1][0] < 1e-5  # the bare band would say warn
    assert report.per_layer[1][1] == "fail" and report.per_layer[2][1] == "pass"
    assert report.status == "fail"


# --- dropout, L1, sampling ------------------------------------------------------------

def test_frozen_dropout_passes_where_resampled_masks_give_garbage():
    net, X, y = random_network(2, "relu", "sigmoid", seed=7)
    keep, eps = (0.6, 0.6), 1e-7
    frozen = check_gradients(net, X, y, keep_prob=0.6, seed=4)
    assert frozen.status == "pass" and frozen.difference < 1e-7
    assert any("frozen" in note for note in frozen.notes)

    # The classic mistake: a fresh mask on each side of the difference.
    output, acts = get_output("sigmoid"), net._activations
    sampler = FreshMasks(keep, np.random.default_rng(4))
    widths = [W.shape[0] for W in net.weights[:-1]]
    weights = [W.copy() for W in net.weights]

    def J():
        return cost(forward(weights, net.biases, X, acts, sampler(len(X), widths), keep)[0], y, output, weights)

    numeric = []
    for i in range(weights[0].size):
        old = weights[0].flat[i]
        weights[0].flat[i] = old + eps
        j_plus = J()
        weights[0].flat[i] = old - eps
        j_minus = J()
        weights[0].flat[i] = old
        numeric.append((j_plus - j_minus) / (2 * eps))
    analytic = frozen.per_parameter["W1"].analytic
    garbage = np.linalg.norm(analytic - numeric) / (np.linalg.norm(analytic) + np.linalg.norm(numeric))
    assert garbage > 0.5 and band(garbage) == "fail"
    assert np.abs(numeric).max() > 1e4  # O(delta J / eps): nonsense


def test_dropout_masks_are_seeded():
    net, X, y = random_network(2, "tanh", "sigmoid", seed=8)
    a, b = (check_gradients(net, X, y, keep_prob=0.5, seed=s) for s in (1, 1))
    c = check_gradients(net, X, y, keep_prob=0.5, seed=2)
    np.testing.assert_array_equal(a.per_parameter["W1"].analytic, b.per_parameter["W1"].analytic)
    assert not np.array_equal(a.per_parameter["W1"].analytic, c.per_parameter["W1"].analytic)


def test_l1_kink_is_skipped_and_reported():
    net, X, y = random_network(2, "tanh", "sigmoid", seed=9)
    eps = 1e-7
    net.weights[0][0, :3] = (0.0, 0.3 * eps, -0.9 * eps)  # exactly 0 and straddling the kink
    net.weights[1][1, 1] = 0.0
    report = check_gradients(net, X, y, l1=2.0, epsilon=eps)
    assert report.skipped == {"W1": 3, "W2": 1}
    assert report.per_parameter["W1"].checked == net.weights[0].size - 3
    assert report.status == "pass" and report.difference < 1e-7
    assert any("kink" in note and "W1: 3" in note for note in report.notes)
    # Checking 0.3 * eps anyway: the centred difference straddles 0 and disagrees with sign(w).
    W = net.weights[0]
    penalty = lambda: 2.0 / len(X) * np.abs(W).sum()  # noqa: E731
    W[0, 1] += eps
    j_plus = penalty()
    W[0, 1] -= 2 * eps
    j_minus = penalty()
    numeric = (j_plus - j_minus) / (2 * eps)
    assert numeric == pytest.approx(0.3 * 2.0 / len(X), rel=1e-3)  # not the analytic 1.0 * 2.0 / m
    # Without L1 nothing is skipped.
    assert check_gradients(net, X, y, l2=1.0, epsilon=eps).skipped == {}


def test_a_tensor_with_every_entry_skipped_is_not_a_pass():
    net, X, y = random_network(2, "tanh", "sigmoid", seed=9)
    net.weights[1][:] = 0.0  # every W2 entry sits on the L1 kink
    report = check_gradients(net, X, y, l1=1.0)
    w2 = report.per_parameter["W2"]
    assert (w2.checked, w2.skipped, w2.total) == (0, net.weights[1].size, net.weights[1].size)
    assert w2.status == "skipped" and np.isnan(w2.difference)
    assert report.per_parameter["b2"].status == "pass" and report.per_layer[2][1] == "pass"
    assert report.status == "pass" and report.failing == [] and report.checked > 0
    assert any("W2: every entry was skipped" in note for note in report.notes)
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert d["per_parameter"]["W2"]["status"] == "skipped" and d["per_parameter"]["W2"]["difference"] is None
    assert d["skipped"]["W2"] == net.weights[1].size
    row = next(line for line in str(report).splitlines() if line.startswith("│ W2 "))
    assert "skipped" in row and "nan" not in row.lower()


def test_sampling_checks_k_coordinates_per_tensor_reproducibly():
    net, X, y = random_network(2, "relu", "softmax", seed=10, n_in=9)
    sizes = {k: v.size for k, v in net.params().items()}
    a = check_gradients(net, X, y, sample=4, seed=3)
    for name, t in a.per_parameter.items():
        assert t.checked == min(4, sizes[name]) and t.total == sizes[name]
    assert a.to_dict()["per_parameter"]["W1"]["checked"] == 4
    b = check_gradients(net, X, y, sample=4, seed=3)
    c = check_gradients(net, X, y, sample=4, seed=4)
    np.testing.assert_array_equal(a.per_parameter["W1"].indices, b.per_parameter["W1"].indices)
    np.testing.assert_array_equal(a.per_parameter["W1"].numeric, b.per_parameter["W1"].numeric)
    assert not np.array_equal(a.per_parameter["W1"].indices, c.per_parameter["W1"].indices)
    assert any("4 coordinates per tensor" in note for note in a.notes)
    assert a.status == "pass"
    # The sampled entries agree with the full check.
    full = check_gradients(net, X, y)
    t = a.per_parameter["W1"]
    np.testing.assert_array_equal(full.per_parameter["W1"].numeric[t.indices], t.numeric)


# --- the report and input validation --------------------------------------------------

def test_report_to_dict_and_text():
    net, X, y = random_network(1, "relu", "sigmoid", seed=12)
    report = check_gradients(net, X, y, n_worst=3)
    assert isinstance(report, GradCheckReport)
    d = json.loads(json.dumps(report.to_dict()))
    assert d["status"] == "pass" and d["difference"] == report.difference
    assert set(d["per_parameter"]) == {"W1", "b1", "W2", "b2"}
    assert {"difference", "checked", "total", "status"} <= set(d["per_parameter"]["W1"])
    assert len(d["worst"]) == 3 and {"parameter", "index", "analytic", "numeric", "relative_error"} == set(d["worst"][0])
    text = str(report)
    assert "tensor" in text and "W1" in text and "layer 2" in text and "PASS" in text


def test_bands():
    assert (band(9.99e-8), band(1e-7), band(1e-5), band(1.01e-5), band(float("nan"))) == \
        ("pass", "warn", "warn", "fail", "fail")


def test_bad_inputs_are_refused():
    net, X, y = random_network(1, "relu", "sigmoid", seed=13)
    with pytest.raises(TypeError, match="network must be a reglab.nn.network.Network, got dict"):
        check_gradients(net.params(), X, y)
    with pytest.raises(InputError, match=r"epsilon must be a finite number > 0, got 0"):
        check_gradients(net, X, y, epsilon=0)
    with pytest.raises(InputError, match="sample must be an integer >= 1, got 0"):
        check_gradients(net, X, y, sample=0)
    with pytest.raises(TypeError, match="sample must be an integer, got 2.5"):
        check_gradients(net, X, y, sample=2.5)
    with pytest.raises(InputError, match=r"keep_prob must be in \(0, 1\], got 0"):
        check_gradients(net, X, y, keep_prob=0.0)
    with pytest.raises(InputError, match="l2 lambda must be a finite number >= 0"):
        check_gradients(net, X, y, l2=-1)
    with pytest.raises(InputError, match="only 0 and 1"):
        check_gradients(net, X, y + 1)
    with pytest.raises(InputError, match="features"):
        check_gradients(net, X[:, :2], y)
    with pytest.raises(InputError, match="gradient_fn returned W1 of shape"):
        check_gradients(net, X, y, gradient_fn=lambda *a: ([g.T for g in backward(*a)[0]], backward(*a)[1]))
    for bad in (lambda *a: None, lambda *a: backward(*a)[0], lambda *a: np.zeros(2),
                lambda *a: (backward(*a)[0], np.zeros(2)), lambda *a: (*backward(*a), 0)):
        with pytest.raises(InputError, match=r"gradient_fn must return a pair \(dW, db\) of lists of arrays"):
            check_gradients(net, X, y, gradient_fn=bad)
    with pytest.raises(InputError, match="gradient_fn must return a pair .* its b2 is not a numeric array"):
        check_gradients(net, X, y, gradient_fn=lambda *a: (backward(*a)[0], [backward(*a)[1][0], "x"]))
    with pytest.raises(TypeError, match="gradient_fn must be callable"):
        check_gradients(net, X, y, gradient_fn="backward")
    with pytest.raises(InputError, match="epsilon"):
        check_1d(epsilon=-1.0)
    with pytest.raises(TypeError, match="planted_bug must be True or False"):
        course_case_nd("yes")


def test_custom_regularizer_is_checked():
    class HalfL2(L2):  # a new component: the penalty of L2 but a wrong gradient
        name = "half_l2"

        def gradient(self, W, m):
            return 0.5 * super().gradient(W, m)

    net, X, y = random_network(2, "tanh", "softmax", seed=14)
    assert check_gradients(net, X, y, regularizers=[L2(5.0)]).status == "pass"
    report = check_gradients(net, X, y, regularizers=[HalfL2(5.0)])
    assert report.status == "fail" and set(report.failing) == {"W1", "W2", "W3"}


# --- the command ----------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(gradcheck, [str(a) for a in args])


def test_cli_default_passes():
    result = run()
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "W1" in result.output and "layer 3" in result.output


def test_cli_course_cases_and_json(tmp_path, reference):
    expected = reference["cases"]["gradcheck_nd"]["expected"]
    out = tmp_path / "nd.json"
    result = run("--course-case", "nd", "--plant-bug", "course", "--json", out)
    assert result.exit_code == 1, result.output
    d = json.loads(out.read_text())
    assert d["status"] == "fail" and d["difference"] == pytest.approx(expected["difference_buggy"], abs=1e-9)
    failing = {k for k, v in d["per_parameter"].items() if v["status"] == "fail"}
    assert failing == {"W2", "b1"} and set(d["failing"]) == {"W2", "b1"}
    assert d["per_parameter"]["W1"]["checked"] == 20 and d["worst"]
    result = run("--course-case", "nd", "--json", out)
    assert result.exit_code == 0 and "WARN" in result.output  # warn exits 0
    assert json.loads(out.read_text())["difference"] == pytest.approx(expected["difference_correct"], abs=1e-12)
    result = run("--course-case", "1d")
    assert result.exit_code == 0 and "PASS" in result.output


def test_cli_random_network_options(tmp_path):
    out = tmp_path / "r.json"
    result = run("--layers", "6,4,3", "--hidden", "tanh,relu,sigmoid", "--output", "softmax", "--l2", 0.5,
                 "--l1", 0.3, "--keep-prob", "0.8,0.7,0.9", "--sample", 5, "--seed", 2, "--json", out)
    assert result.exit_code == 0, result.output
    d = json.loads(out.read_text())
    assert d["status"] == "pass" and d["per_parameter"]["W2"]["checked"] == 5
    assert d["per_parameter"]["b4"]["checked"] == 3 and d["per_parameter"]["b4"]["total"] == 3
    result = run("--plant-bug", "course", "--json", out)
    assert result.exit_code == 1 and set(json.loads(out.read_text())["failing"]) == {"W2", "b1"}


@pytest.mark.parametrize("args, message", [
    (("--epsilon", -1), r"epsilon must be a finite number > 0, got -1"),
    (("--sample", 0), "sample must be an integer >= 1, got 0"),
    (("--keep-prob", 1.5), r"keep_prob must be in \(0, 1\], got 1.5"),
    (("--hidden", "swish"), "hidden activation must be one of"),
    (("--hidden", "relu,tanh,relu"), "one per hidden layer"),
    (("--course-case", "nd", "--l2", 1), "--l2 cannot be combined"),
    (("--course-case", "1d", "--plant-bug", "course"), "--plant-bug course needs"),
    (("--layers", "", "--plant-bug", "course"), "needs W2"),
    (("--examples", 0), "--examples must be an integer >= 1"),
    (("--seed", -1), "--seed must be an integer >= 0, got -1"),
    (("--worst", -1), "--worst must be an integer >= 0, got -1"),
    (("--output", "tanh"), "Invalid value for '--output'"),
])
def test_cli_bad_options(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert re.search(message, result.output), result.output
