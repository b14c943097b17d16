"""Bias / variance diagnosis: the lecture's cases, validation, learning curves, ``reglab diagnose``.

The training demonstrations use ``breast_cancer`` with ``--data-seed 3`` (train 341,
dev 114, test 114). On that split, a network trained to fit shows a clear train-dev
gap only when it is large and unregularized; the default split (data seed 0) puts a
handful of hard examples in the dev set, so that every model, even a one-unit one,
has a dev error of about 5% there and the gap says little about the network.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from reglab._validation import InputError
from reglab.cli.diagnose import diagnose as diagnose_command
from reglab.data import load_dataset
from reglab.experiments.diagnose import FINE, HIGH_BIAS, HIGH_VARIANCE, MISMATCH, REMEDIES, Diagnosis, diagnose
from reglab.experiments.learning_curves import check_train_sizes, learning_curve, stratified_order
from reglab.report.plots import learning_curve as plot_learning_curve
from reglab.training.loop import TrainConfig

BIAS_REMEDIES = REMEDIES[HIGH_BIAS]
VARIANCE_REMEDIES = REMEDIES[HIGH_VARIANCE]

# The demonstrations on breast_cancer (see the module docstring).
TINY = ["--layers", "1", "--hidden", "sigmoid", "--learning-rate", "0.001", "--iterations", "50"]
LARGE = ["--layers", "100,100", "--learning-rate", "0.3", "--iterations", "1000"]


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Train on one BLAS thread, as the runner's workers do: on a busy machine OpenBLAS threads
    make these small products (341 x 100) ten times slower, not faster."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        yield


def run(*args):
    result = CliRunner().invoke(diagnose_command, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def assert_png(path):
    assert path.is_file(), f"{path} was not written"
    with Image.open(path) as im:
        assert im.format == "PNG" and min(im.size) >= 300, im.size
        assert np.asarray(im.convert("RGB"), dtype=float).std() > 15, "the PNG looks blank"


# --- the lecture's examples -------------------------------------------------------------------

@pytest.mark.parametrize("train, dev, verdict, cases, remedies", [
    (0.01, 0.11, "high variance", (HIGH_VARIANCE,), VARIANCE_REMEDIES),
    (0.15, 0.16, "high bias", (HIGH_BIAS,), BIAS_REMEDIES),
    (0.15, 0.30, "high bias and high variance", (HIGH_BIAS, HIGH_VARIANCE),
     BIAS_REMEDIES + ("more data", "regularization: L2, dropout, data augmentation, early stopping")),
    (0.005, 0.01, "fine", (FINE,), ("nothing to do: maybe ship it",)),
])
def test_lecture_examples(train, dev, verdict, cases, remedies):
    d = diagnose(train, dev)
    assert (d.verdict, d.cases, d.remedies) == (verdict, cases, remedies)
    assert d.avoidable_bias == pytest.approx(train) and d.variance == pytest.approx(dev - train)
    assert d.test_error is None and d.mismatch is None


def test_remedies_are_the_lectures():
    assert "bigger network (more hidden units or layers)" in BIAS_REMEDIES and "train longer" in BIAS_REMEDIES
    assert VARIANCE_REMEDIES[0] == "more data"
    assert all(w in VARIANCE_REMEDIES[1] for w in ("L2", "dropout", "data augmentation", "early stopping"))
    # "another architecture" serves both; a combined diagnosis lists it once
    assert diagnose(0.15, 0.30).remedies.count("another architecture") == 1


def test_mismatch_alone_and_with_variance():
    d = diagnose(0.005, 0.01, 0.05)
    assert (d.verdict, d.cases) == ("dev/test mismatch", (MISMATCH,))
    assert d.mismatch == pytest.approx(0.04)
    assert d.remedies == ("a bigger dev set (the dev set may have been overfitted by tuning on it)",
                          "make the dev and test sets come from the same distribution")
    d = diagnose(0.01, 0.11, 0.20)
    assert d.verdict == "high variance and dev/test mismatch"
    assert d.remedies == VARIANCE_REMEDIES + REMEDIES[MISMATCH]
    d = diagnose(0.15, 0.30, 0.40)
    assert d.verdict == "high bias, high variance and dev/test mismatch"
    # a test error close to, or below, the dev error is no mismatch
    assert diagnose(0.01, 0.11, 0.12).cases == (HIGH_VARIANCE,)
    assert diagnose(0.005, 0.05, 0.01).cases == (HIGH_VARIANCE,)


def test_threshold_and_baseline():
    # baseline 15%: train 15% has no avoidable bias and the 1-point variance is fine
    d = diagnose(0.15, 0.16, baseline=0.15)
    assert d.verdict == "fine" and d.avoidable_bias == 0.0
    # baseline 10%: 5 points of avoidable bias are still high
    assert diagnose(0.15, 0.16, baseline=0.10).verdict == "high bias"
    # a gap must exceed the threshold; float round-off (0.16 - 0.15 = 0.01000...09) does not count
    assert diagnose(0.15, 0.16, baseline=0.15, threshold=0.01).verdict == "fine"
    assert diagnose(0.15, 0.161, baseline=0.15, threshold=0.01).verdict == "high variance"
    assert diagnose(0.01, 0.03).verdict == "fine"  # exactly the default 2 points
    assert diagnose(0.01, 0.11, threshold=0.15).verdict == "fine"
    assert diagnose(0.005, 0.01, threshold=0.0).verdict == "high bias and high variance"
    # a training error below the baseline is no bias, and the explanation says why
    d = diagnose(0.0, 0.01, baseline=0.05)
    assert d.cases == (FINE,) and d.avoidable_bias == pytest.approx(-0.05)
    assert "fits noise" in d.explanation()


def test_dev_error_well_below_train_error_is_explained():
    # dev 3 points below train: no variance problem, but not "it generalizes" either
    d = diagnose(0.10, 0.07)
    assert d.cases == (HIGH_BIAS,) and d.variance == pytest.approx(-0.03)
    text = d.explanation()
    assert "Dev error is 7.0%, -3.0 points from the training error: the dev set looks easier than the " \
           "training set" in text
    assert "small (noisy)" in text and "different distributions" in text
    assert "so it generalizes" not in text
    # exactly the threshold below, or less, still generalizes
    assert "so it generalizes to the dev set" in diagnose(0.10, 0.08).explanation()
    assert "looks easier" not in diagnose(0.10, 0.08).explanation()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(train_error=1.5, dev_error=0.1), InputError, "train_error must be in [0, 1], got 1.5"),
    (dict(train_error=0.1, dev_error=-0.01), InputError, "dev_error must be in [0, 1], got -0.01"),
    (dict(train_error=0.1, dev_error=0.1, test_error=float("nan")), InputError,
     "test_error must be in [0, 1], got nan"),
    (dict(train_error=0.1, dev_error=0.1, baseline=2), InputError, "baseline must be in [0, 1], got 2"),
    (dict(train_error=0.1, dev_error=0.1, threshold=-0.1), InputError,
     "threshold must be in [0, 1], got -0.1"),
    (dict(train_error="1%", dev_error=0.1), TypeError, "train_error must be a real number, got '1%'"),
    (dict(train_error=0.1, dev_error=True), TypeError, "dev_error must be a real number, got True"),
])
def test_validation(kwargs, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        diagnose(**kwargs)


def test_diagnosis_reports():
    d = diagnose(0.01, 0.11, 0.12)
    assert isinstance(d, Diagnosis)
    with pytest.raises(AttributeError):
        d.verdict = "fine"  # frozen
    text = d.explanation()
    assert "1.0%" in text and "11.0%" in text and "12.0%" in text and "+10.0 points" in text
    assert "high variance" in text
    assert "reduce the bias first" in diagnose(0.15, 0.30).explanation()
    assert "maybe ship it" in diagnose(0.005, 0.01).explanation()
    block = d.format()
    assert block.startswith("Diagnosis: high variance\n")
    for line in ("train", "dev", "test", "variance (dev - train)", "+10.0 points  HIGH (> 2.0 points)",
                 "Remedies:", "  - more data"):
        assert line in block
    assert all(line == line.rstrip() for line in block.splitlines())
    payload = json.loads(json.dumps(d.to_dict()))
    assert payload["verdict"] == "high variance" and payload["cases"] == ["high variance"]
    assert payload["remedies"] == list(VARIANCE_REMEDIES)
    assert payload["mismatch"] == pytest.approx(0.01) and payload["explanation"] == text


# --- the command with numbers -------------------------------------------------------------------

def test_cli_numbers(tmp_path):
    out = tmp_path / "d.json"
    result = run("--train-error", 0.01, "--dev-error", 0.11, "--test-error", 0.12, "--json", out)
    assert result.exit_code == 0, result.output
    assert "Diagnosis: high variance" in result.output and "- more data" in result.output
    assert json.loads(out.read_text())["diagnosis"]["verdict"] == "high variance"
    result = run("--train-error", 0.15, "--dev-error", 0.16, "--baseline", 0.15)
    assert result.exit_code == 0 and "Diagnosis: fine" in result.output
    result = run("--train-error", 0.15, "--dev-error", 0.30, "--threshold", 0.2)
    assert result.exit_code == 0 and "Diagnosis: fine" in result.output


@pytest.mark.parametrize("args, message", [
    (["--train-error", 1.5, "--dev-error", 0.1], "Error: --train-error must be in [0, 1], got 1.5"),
    (["--train-error", 0.1, "--dev-error", 0.1, "--test-error", -1],
     "Error: --test-error must be in [0, 1], got -1"),
    (["--train-error", 0.1], "Error: diagnosing numbers needs both --train-error and --dev-error"),
    (["--train-error", 0.1, "--dev-error", 0.2, "--baseline", 2],
     "Error: --baseline must be in [0, 1], got 2"),
    (["--train-error", 0.1, "--dev-error", 0.2, "--layers", 3],
     "Error: give measured errors (--train-error, --dev-error) or training options, not both; "
     "got --layers with --train-error"),
    (["--no-dev"], "Error: diagnose needs a dev set to measure variance; drop --no-dev"),
    (["--seeds", 0], "Error: --seeds must be >= 1, got 0"),
    (["--learning-curve", "--sizes", "0.5,2.0"],
     "Error: sizes[1] must be a fraction in (0, 1] when given as a float (use an integer for a count), "
     "got 2"),
])
def test_cli_bad_input(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.strip() == message


@pytest.mark.parametrize("args, message", [
    (["--json", ""], "Error: --json needs a file name, got an empty string"),
    (["--train-error", 0.1, "--dev-error", 0.2, "--json", " "],
     "Error: --json needs a file name, got an empty string"),
    (["--learning-curve", "--out", ""], "Error: --out needs a folder name, got an empty string"),
])
def test_cli_unusable_destinations_are_refused_before_training(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # were one accepted, its files would land here
    result = run(*args)
    assert result.exit_code == 2 and result.output.strip() == message


def test_cli_destination_below_a_file_is_refused_before_training(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = run("--json", blocker / "d.json")
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: --json {blocker / 'd.json'}: cannot write there, "
                                     f"{blocker} is a file, not a folder")
    assert "training" not in result.output


def test_cli_npz_with_its_own_test_set_gets_a_dev_set_carved(tmp_path):
    """An .npz holding X/y and X_test/y_test but no dev set: diagnose carves a quarter of the
    training set as dev instead of refusing the file with a message about dev=True."""
    rng = np.random.default_rng(0)
    X, X_test = rng.standard_normal((200, 3)), rng.standard_normal((80, 3))
    path = tmp_path / "own_test.npz"
    np.savez(path, X=X, y=(X[:, 0] > 0).astype(int), X_test=X_test, y_test=(X_test[:, 0] > 0).astype(int))
    out = tmp_path / "d.json"
    result = run("--data", path, "--layers", 3, "--iterations", 200, "--seeds", 1, "--jobs", 1, "--json", out)
    assert result.exit_code == 0, result.output
    assert "dev=True" not in result.output
    payload = json.loads(out.read_text())
    summary = payload["dataset"]
    assert "train 150 [" in summary and "dev 50 [" in summary and "test 80 [" in summary, summary
    assert payload["diagnosis"]["test_error"] == payload["measured"]["test_error"]["mean"]


# --- the command training on breast_cancer ------------------------------------------------------

def test_cli_tiny_network_has_high_bias(tmp_path):
    out = tmp_path / "bias.json"
    result = run("--dataset", "breast_cancer", "--data-seed", 3, *TINY, "--seeds", 3, "--jobs", 1,
                 "--json", out)
    assert result.exit_code == 0, result.output
    assert "Diagnosis: high bias\n" in result.output and "- train longer" in result.output
    payload = json.loads(out.read_text())
    d, measured = payload["diagnosis"], payload["measured"]
    assert d["cases"] == ["high bias"]
    # it barely moved from the initial guess: it predicts the majority class, ~37% error
    assert all(e > 0.30 for e in measured["train_error"]["per_seed"])
    assert d["avoidable_bias"] > 0.30 and abs(d["variance"]) < 0.02
    assert measured["train_error"]["mean"] == d["train_error"] and len(payload["seeds"]) == 3
    # the first remedy, training longer, removes the bias of the same one-unit network
    result = run("--dataset", "breast_cancer", "--data-seed", 3, "--layers", 1, "--hidden", "sigmoid",
                 "--learning-rate", 0.3, "--iterations", 1000, "--seeds", 3, "--jobs", 1, "--json", out)
    assert result.exit_code == 0, result.output
    d = json.loads(out.read_text())["diagnosis"]
    assert "high bias" not in d["cases"] and d["train_error"] < 0.01


def test_cli_large_network_has_high_variance(tmp_path):
    out = tmp_path / "variance.json"
    # data seed 0: the README's example (the split under docs/data.md's rule)
    result = run("--dataset", "breast_cancer", "--data-seed", 0, *LARGE, "--seeds", 3, "--jobs", 1,
                 "--json", out)
    assert result.exit_code == 0, result.output
    assert "Diagnosis: high variance\n" in result.output and "- more data" in result.output
    payload = json.loads(out.read_text())
    d, measured = payload["diagnosis"], payload["measured"]
    assert d["cases"] == ["high variance"]
    assert measured["train_error"]["per_seed"] == [0.0, 0.0, 0.0]  # it memorizes the training set
    # every seed, not only the mean, is more than one dev example (0.9 points) past the threshold
    assert all(e > 0.02 + 0.009 for e in measured["dev_error"]["per_seed"])


def test_cli_learning_curve(tmp_path):
    out = tmp_path / "lc.json"
    result = run("--dataset", "breast_cancer", "--data-seed", 3, "--layers", 100, "--iterations", 500,
                 "--seeds", 2, "--jobs", 1, "--learning-curve", "--sizes", "20,80,1.0",
                 "--out", tmp_path / "figs", "--json", out)
    assert result.exit_code == 0, result.output
    assert_png(tmp_path / "figs" / "learning_curve.png")
    report = (tmp_path / "figs" / "report.html").read_text()
    assert "Learning curve" in report and report.count('src="data:image/png;base64,') == 1
    curve = json.loads(out.read_text())["learning_curve"]
    assert curve["sizes"] == [20, 80, 341] and curve["seeds"] == [0, 1]
    assert np.array(curve["dev_error"]).shape == (3, 2)


# --- learning curves ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def breast_cancer():
    return load_dataset("breast_cancer", seed=3, dev=True)


def test_learning_curve_of_an_overfitting_network(tmp_path, breast_cancer):
    config = TrainConfig(layers=(100,), iterations=500, record_every=500)
    lc = learning_curve(breast_cancer, config, [10, 20, 40, 80, 160, 1.0], [0, 1, 2])
    assert lc.sizes.tolist() == [10, 20, 40, 80, 160, 341] and lc.seeds == (0, 1, 2)
    assert lc.train_error.shape == lc.dev_error.shape == (6, 3)
    train, dev = lc.train_error.mean(axis=1), lc.dev_error.mean(axis=1)
    # the training error does not shrink with more data (here it stays at 0: memorized) ...
    assert train[-1] >= train[0] and train.max() < 0.01
    # ... while the dev error falls: by more than 3 points overall, and with log(size) on average
    assert dev[0] - dev[-1] > 0.03
    assert np.polyfit(np.log(lc.sizes), dev, 1)[0] < 0
    path = plot_learning_curve(lc.sizes, lc.train_error, lc.dev_error, tmp_path / "lc.png", baseline=0.01)
    assert path == tmp_path / "lc.png"
    assert_png(path)
    assert json.loads(json.dumps(lc.to_dict()))["sizes"] == lc.sizes.tolist()


def test_learning_curve_subsets(breast_cancer):
    y = breast_cancer.y_train
    order = stratified_order(y, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(len(y)))
    share = y.mean()
    for n in (2, 10, 33, 100, 341):  # every prefix is stratified within one example
        assert abs(y[order[:n]].sum() - n * share) <= 1
    assert not np.array_equal(order, stratified_order(y, np.random.default_rng(1)))
    assert np.array_equal(order, stratified_order(y, np.random.default_rng(0)))


def test_learning_curve_is_reproducible_and_parallel(breast_cancer):
    config = TrainConfig(layers=(5,), iterations=50, record_every=50)
    a = learning_curve(breast_cancer, config, [0.1, 0.5], [0, 1])
    b = learning_curve(breast_cancer, config, (0.1, 0.5), range(2), jobs=2)
    assert a.sizes.tolist() == [34, 171]  # 0.5 * 341 rounds half up
    np.testing.assert_array_equal(a.train_error, b.train_error)
    np.testing.assert_array_equal(a.dev_error, b.dev_error)


def test_learning_curve_validation(breast_cancer):
    config = TrainConfig(layers=(2,), iterations=10)
    no_dev = load_dataset("breast_cancer", seed=0, dev=False)
    with pytest.raises(InputError, match="^learning_curve needs a dev set, and data has none"):
        learning_curve(no_dev, config, [0.5, 1.0], [0])
    with pytest.raises(InputError, match=r"^sizes\[0\] must be a count in 1\.\.341 \(the training set "
                                         r"size\), got 500$"):
        check_train_sizes([500], 341)
    with pytest.raises(InputError, match=r"^sizes\[1\] must be a fraction in \(0, 1\]"):
        check_train_sizes([0.5, 1.5], 341)
    with pytest.raises(InputError, match=r"they give the counts \[171, 100\]$"):
        check_train_sizes([0.5, 100], 341)
    with pytest.raises(InputError, match="^sizes must be a non-empty list"):
        check_train_sizes([], 341)
    with pytest.raises(InputError, match=r"^seeds\[0\] must be an integer >= 0, got -1$"):
        learning_curve(breast_cancer, config, [1.0], [-1])
    with pytest.raises(TypeError, match="^config must be a TrainConfig, got dict$"):
        learning_curve(breast_cancer, {}, [1.0], [0])
    assert check_train_sizes([1, 1.0], 341).tolist() == [1, 341]


def test_plot_validation(tmp_path):
    with pytest.raises(InputError, match="^sizes must be a non-empty increasing"):
        plot_learning_curve([10, 5], [0.1, 0.1], [0.2, 0.2], tmp_path / "x.png")
    with pytest.raises(InputError, match=r"^dev_error must be a finite array \(n_sizes=2, n_seeds\)"):
        plot_learning_curve([5, 10], [0.1, 0.1], [0.2], tmp_path / "x.png")
    with pytest.raises(InputError, match=r"^baseline must be in \[0, 1\], got 5$"):
        plot_learning_curve([5, 10], [0.1, 0.1], [0.2, 0.1], tmp_path / "x.png", baseline=5)


# --- the noise of the figures, the baseline, regularized settings ----------------------------------

def test_binomial_se_and_noise_thresholds():
    from reglab.experiments.diagnose import NOISE_FLOOR, Noise, binomial_se, noise_thresholds
    # Laplace's (k + 1) / (n + 2): 8 errors of 50 -> p = 9/52
    assert binomial_se(0.16, 50) == pytest.approx(np.sqrt(9 / 52 * 43 / 52 / 50))
    assert binomial_se(0.0, 50) > 0.01  # a perfect score on 50 examples is not exact
    # the default compare's L2 row: identical seeds, so only the sampling noise counts
    noise = noise_thresholds([0.077] * 5, [0.16] * 5, [0.129] * 5, n_train=150, n_dev=50, n_test=200,
                             baseline=0.116)
    se_tr, se_dv = binomial_se(0.077, 150), binomial_se(0.16, 50)
    assert noise.variance == pytest.approx(1.96 * np.hypot(se_tr, se_dv))
    assert noise.bias == pytest.approx(1.96 * binomial_se(0.116, 150))  # the baseline's own sample
    assert noise.mismatch == pytest.approx(1.96 * np.hypot(se_dv, binomial_se(0.129, 200)))
    assert 0.11 < noise.variance < 0.12  # 50 dev examples: an 8-point gap is within noise
    # the spread over seeds adds to it: gaps of 0.10 and 0.20 over two seeds
    wide = noise_thresholds([0.0, 0.0], [0.10, 0.20], n_train=1000, n_dev=1000)
    half = 12.706 * 0.05  # t(0.975, 1) * sd / sqrt(2), with sd = 0.0707
    assert wide.variance == pytest.approx(np.hypot(1.96 * np.hypot(binomial_se(0, 1000), binomial_se(0.15, 1000)),
                                                   half), rel=1e-3)
    # huge sets and agreeing seeds: never below the floor
    assert noise_thresholds([0.01] * 3, [0.01] * 3, n_train=10**7, n_dev=10**7) == Noise(NOISE_FLOOR, NOISE_FLOOR)
    with pytest.raises(InputError, match=r"^train_errors, dev_errors and test_errors must have one value per "
                                         r"seed each, got 2, 1 and None$"):
        noise_thresholds([0.1, 0.1], [0.1], n_train=10, n_dev=10)
    with pytest.raises(InputError, match=r"^dev_errors must be a non-empty sequence of error fractions"):
        noise_thresholds([0.1], [1.5], n_train=10, n_dev=10)


def test_within_noise_is_said_and_not_called_high():
    from reglab.experiments.diagnose import Noise
    d = diagnose(0.077, 0.16, baseline=0.116, threshold=Noise(0.05, 0.114))
    assert d.cases == (FINE,) and d.from_noise and d.thresholds == (0.05, 0.114, None)
    assert d.flag(HIGH_VARIANCE) == "within noise (±11.4 points)"
    assert "within the noise of the figures (±11.4 points), so it generalizes" in d.explanation()
    assert "Nothing stands out of the noise" in d.explanation()
    d = diagnose(0.017, 0.268, baseline=0.116, threshold=Noise(0.05, 0.127))
    assert d.cases == (HIGH_VARIANCE,) and d.flag(HIGH_VARIANCE) == "HIGH (> 12.7 points)"
    assert "beyond the noise of the figures (±12.7 points)" in d.explanation()
    with pytest.raises(InputError, match="^threshold must give a mismatch threshold when test_error is given$"):
        diagnose(0.1, 0.1, 0.1, threshold=Noise(0.05, 0.05))


def test_a_regularized_setting_with_bias_is_told_to_weaken_its_penalty():
    from reglab.experiments.diagnose import weaken_hint
    hint = weaken_hint(l2=3.0, keep_prob=0.5)
    assert hint == "a smaller L2 strength than 3, a keep_prob above 0.5"
    d = diagnose(0.25, 0.27, baseline=0.116, regularization="L2 3 + dropout keep 0.5", weaken=hint)
    assert d.cases == (HIGH_BIAS,)
    assert d.remedies == ("over-regularized: weaken the regularization (a smaller L2 strength than 3, "
                          "a keep_prob above 0.5)",)
    assert not any("bigger network" in r for r in d.remedies)
    assert "over-regularized" in d.explanation()
    # unregularized, the same numbers get the lecture's remedies for bias
    assert diagnose(0.25, 0.27, baseline=0.116).remedies == BIAS_REMEDIES
    assert weaken_hint(early_stopping=10, stronger=True) == "less patience than 10"
    with pytest.raises(InputError, match="^regularization must name how the network is regularized"):
        diagnose(0.1, 0.1, regularization="none")


def test_the_baseline_comes_from_the_option_then_the_data_set_then_zero():
    from reglab.data.generators import FIELD_JITTER_CROSSING
    from reglab.experiments.diagnose import choose_baseline
    field = load_dataset("field")
    assert field.bayes_error == pytest.approx(0.1 + 0.8 * FIELD_JITTER_CROSSING)
    assert load_dataset("field", noise=0.2).bayes_error == pytest.approx(0.2 + 0.6 * FIELD_JITTER_CROSSING)
    assert choose_baseline(0.05, field, given_as="given with --baseline") == (0.05, "given with --baseline")
    value, source = choose_baseline(None, field)
    assert value == field.bayes_error and source.startswith("the field generator flips 10% of the labels")
    value, source = choose_baseline(None, load_dataset("moons"))
    assert value == 0.0 and source == "assumed 0: moons does not know its own noise; give --baseline to set it"
    with pytest.raises(InputError, match=r"^bayes_error_source must say where bayes_error comes from"):
        import dataclasses
        dataclasses.replace(load_dataset("moons"), bayes_error=0.1)


def test_field_flip_rate_is_its_bayes_error():
    """The side-of-the-frontier rule, which knows the frontier, errs at the declared rate."""
    data = load_dataset("field", n_samples=40000, seed=5)
    X = np.vstack([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    side = (X[:, 1] > 0.25 * np.sin(3.5 * X[:, 0] + 0.5) - 0.05).astype(int)
    error = np.mean(side != y)
    assert abs(error - data.bayes_error) < 3 * np.sqrt(data.bayes_error * (1 - data.bayes_error) / len(y))


def test_compare_reading_on_field_labels_no_regularized_setting_high_bias():
    """The default compare's mean errors (README table) read with field's baseline and the noise
    of a 150/50/200 split: only variance is high, and never for L2."""
    from reglab.cli.compare_report import diagnoses
    from reglab.experiments.compare import Setting, summarize
    from reglab.experiments.runner import RunRecord
    data = load_dataset("field", dev=False)
    from reglab.data import with_dev_split
    data = with_dev_split(data)
    figures = {"none": (0.983, 0.732, 0.839), "l2": (0.923, 0.84, 0.871), "dropout": (0.956, 0.784, 0.864)}
    settings = [Setting("none"), Setting("l2", l2=0.7), Setting("dropout", keep_prob=0.8)]
    records = [RunRecord(name, {}, seed, tr + d, te, dv, 1.0, 0.0, 1.0, 10, "completed", {})
               for name, (tr, dv, te) in figures.items() for seed, d in enumerate((-0.004, 0, 0.004))]
    found = diagnoses(summarize(records, settings), records, data, settings, data.bayes_error, "field")
    assert found["none"].cases == (HIGH_VARIANCE,)
    assert found["l2"].cases == (FINE,)  # 8 points on 50 dev examples: within noise
    assert all(HIGH_BIAS not in d.cases for d in found.values())
    assert found["dropout"].regularization == "dropout keep 0.8"
    assert "a keep_prob below 0.8" in found["dropout"].remedies[1]


def test_compare_report_states_its_baseline_and_takeaways(tmp_path):
    from reglab.cli.main import main
    result = CliRunner().invoke(main, ["compare", "--seeds", "2", "--iterations", "300", "--jobs", "1",
                                       "--no-augment", "--no-early-stopping", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert ("Baseline (the best achievable error): 11.6%; the field generator flips 10% of the labels"
            in page)
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["baseline"]["value"] == pytest.approx(load_dataset("field").bayes_error)
    for key, d in payload["diagnosis"].items():
        assert d["thresholds_from_noise"] and d["baseline"] == payload["baseline"]["value"]
        assert (d["regularization"] is None) == (key == "none")
    takeaways = payload["takeaways"]
    assert takeaways[0].startswith(("On the test set,", "No setting beats none"))
    assert any(t.startswith("The baseline is 11.6% (the field generator") for t in takeaways)
    assert page.index("Takeaways") < page.index("Results") and takeaways[0] in result.output.replace("\n", " ")
    # --baseline wins over the data set's own
    result = CliRunner().invoke(main, ["compare", "--seeds", "1", "--iterations", "50", "--jobs", "1",
                                       "--no-augment", "--no-early-stopping", "--baseline", "0.05",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "results.json").read_text())["baseline"] == {
        "value": 0.05, "source": "given with --baseline"}
    result = CliRunner().invoke(main, ["compare", "--baseline", "2", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Error: --baseline must be in [0, 1], got 2" in result.output


def test_cli_an_option_the_run_would_ignore_is_refused_before_training():
    result = run("--epochs", 2, "--batch-size", 32, "--iterations", 100, "--seeds", 1)
    assert result.exit_code == 2 and "--iterations" in result.output and "would be ignored" in result.output
    assert "training" not in result.output


def test_cli_interrupted_runs_end_with_the_signal_s_exit_code_not_a_diagnosis(monkeypatch):
    import signal

    from reglab.experiments import runner
    monkeypatch.setattr(runner, "run_all", lambda *a, **k: [])  # Ctrl-C before any run finished
    monkeypatch.setattr(runner, "interrupted_by", lambda: signal.SIGTERM)
    result = run("--seeds", 2, "--iterations", 10)
    assert result.exit_code == 143
    assert "interrupted after 0 of 2 run(s); nothing written; exit code 143 (interrupted)" in result.output
