"""Tests of reglab.report.plots: every figure is a real, non-blank PNG of the expected shape."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reglab import InputError, TrainConfig, train
from reglab.report import plots
from reglab.data import Dataset, make_moons, train_dev_test_split

SRC = Path(__file__).resolve().parents[1] / "src"


def open_png(path: Path) -> tuple[int, int, float]:
    """``(width, height, pixel std)`` of a PNG, checking it is one."""
    assert path.is_file(), f"{path} was not written"
    with Image.open(path) as im:
        assert im.format == "PNG"
        pixels = np.asarray(im.convert("RGB"), dtype=float)
        return im.width, im.height, float(pixels.std())


def assert_png(path: Path, *, wide: bool | None = None, min_side: int = 300):
    width, height, std = open_png(path)
    assert min(width, height) >= min_side, (width, height)
    assert std > 15, f"{path.name} looks blank (pixel std {std:.1f})"
    if wide is not None:
        assert (width > height) == wide, (width, height)


@pytest.fixture(scope="module")
def moons():
    return make_moons(n_samples=100, seed=0)


@pytest.fixture(scope="module")
def runs(moons):
    """Two settings, two seeds each, trained for real."""
    out = {}
    for label, extra in (("none", {}), ("l2", {"l2": 0.7})):
        out[label] = [train(moons.X_train, moons.y_train,
                            TrainConfig(layers=(8,), iterations=200, seed=seed, record_every=20, **extra))
                      for seed in (0, 1)]
    return out


def test_decision_boundaries_sigmoid(tmp_path, moons, runs):
    panels = [(label, r[0].network, f"train {r[0].network.accuracy(moons.X_train, moons.y_train):.1%}")
              for label, r in runs.items()]
    panels.append(("no subtitle", runs["none"][1].network))
    path = plots.decision_boundaries(panels, moons, tmp_path / "deep" / "db.png", grid=80)
    assert path == tmp_path / "deep" / "db.png"
    assert_png(path, wide=True)


def test_decision_boundaries_wraps_after_five_panels(tmp_path, moons, runs):
    net = runs["none"][0].network
    one_row = plots.decision_boundaries([(str(i), net) for i in range(5)], moons, tmp_path / "a.png", grid=40)
    wrapped = plots.decision_boundaries([(str(i), net) for i in range(6)], moons, tmp_path / "b.png", grid=40)
    (w5, h5, _), (w6, h6, _) = open_png(one_row), open_png(wrapped)
    assert w6 < w5 and h6 > h5  # 6 panels: 3 x 2 instead of 6 in a row


def test_decision_boundaries_softmax(tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [3, 0], [1.5, 2.5]])
    y = np.repeat([0, 1, 2], 30)
    X = centres[y] + rng.normal(scale=0.6, size=(90, 2))
    data = train_dev_test_split(X, y, seed=0, name="three blobs")
    net = train(data.X_train, data.y_train, TrainConfig(layers=(8,), iterations=200)).network
    assert net.output == "softmax"
    assert_png(plots.decision_boundaries([("softmax", net)], data, tmp_path / "soft.png", grid=60))


def test_decision_boundaries_refuse_3d_data(tmp_path, runs):
    rng = np.random.default_rng(0)
    data = Dataset("cube", rng.normal(size=(20, 3)), np.arange(20) % 2,
                   rng.normal(size=(10, 3)), np.arange(10) % 2)
    with pytest.raises(InputError, match=re.escape("decision boundaries need 2-D data, got 3 features")):
        plots.decision_boundaries([("none", runs["none"][0].network)], data, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_decision_boundaries_refuse_bad_panels(tmp_path, moons):
    with pytest.raises(InputError, match=r"panels\[0\] must be \(label, network\)"):
        plots.decision_boundaries([("none", "not a network")], moons, tmp_path / "x.png")
    with pytest.raises(InputError, match="panels must be a non-empty list"):
        plots.decision_boundaries([], moons, tmp_path / "x.png")


def test_cost_curves_truncate_to_shortest_seed(tmp_path, runs):
    curves = {label: [r.history.costs for r in rs] for label, rs in runs.items()}
    curves["l2"][1] = curves["l2"][1][:150]
    assert_png(plots.cost_curves(curves, tmp_path / "cost.png"), wide=True)
    assert_png(plots.cost_curves(curves, tmp_path / "smooth.png", smooth=20, logy=False), wide=True)


def test_cost_curves_subsample_long_runs(tmp_path):
    rng = np.random.default_rng(0)
    long = [np.exp(-np.linspace(0, 5, 50_000)) + 0.01 * rng.random(50_000) for _ in range(3)]
    assert_png(plots.cost_curves({"dropout": long}, tmp_path / "long.png"), wide=True)


def test_cost_curves_refuse_bad_input(tmp_path):
    with pytest.raises(InputError, match="curves must be a non-empty dict"):
        plots.cost_curves({}, tmp_path / "x.png")
    with pytest.raises(InputError, match=r"curves\['l2'\] must be a non-empty list over seeds"):
        plots.cost_curves({"l2": [np.array([1.0, np.nan])]}, tmp_path / "x.png")


def test_weight_norms(tmp_path, runs):
    norms = {label: [(r.history.eval_steps, r.history.weight_norms) for r in rs]
             for label, rs in runs.items()}
    assert np.asarray(norms["none"][0][1]).shape == (11, 2)  # 11 evaluations, 2 layers
    assert_png(plots.weight_norms(norms, tmp_path / "norms.png"), wide=True)
    with pytest.raises(InputError, match=r"norms\['l2'\] must be a non-empty list over seeds"):
        plots.weight_norms({"l2": [(np.arange(3), np.ones(3))]}, tmp_path / "x.png")


def test_weight_histograms(tmp_path, runs):
    weights = {label: np.concatenate([W.ravel() for r in rs for W in r.network.weights])
               for label, rs in runs.items()}
    rng = np.random.default_rng(0)
    weights["l1"] = np.where(rng.random(400) < 0.6, 0.0, rng.laplace(size=400))
    three = plots.weight_histograms(weights, tmp_path / "hist.png", threshold=1e-3)
    one = plots.weight_histograms({"l1": weights["l1"]}, tmp_path / "one.png")
    assert_png(three)
    assert_png(one, min_side=200)
    assert open_png(three)[1] > open_png(one)[1] + 200  # one stacked panel per setting
    with pytest.raises(InputError, match="threshold must be a finite number > 0"):
        plots.weight_histograms(weights, tmp_path / "x.png", threshold=0)


@pytest.mark.parametrize("values", [[0, 0.01, 0.1, 1, 10], [0.5, 0.7, 0.9, 1.0], ["he", "xavier", "random"]])
def test_validation_curve(tmp_path, values):
    rng = np.random.default_rng(1)
    n = len(values)
    train_acc = np.clip(0.95 - 0.02 * np.arange(n)[:, None] + 0.01 * rng.random((n, 3)), 0, 1)
    dev_acc = train_acc - 0.05 * rng.random((len(values), 3))
    assert_png(plots.validation_curve("l2", values, train_acc, dev_acc, tmp_path / "v.png"), wide=True)


def test_validation_curve_refuses_mismatch_and_log_of_negatives(tmp_path):
    with pytest.raises(InputError, match=r"dev must be a finite array \(n_values=3, n_seeds\)"):
        plots.validation_curve("l2", [1, 2, 3], np.ones((3, 2)), np.ones((2, 2)), tmp_path / "x.png")
    with pytest.raises(InputError, match="a log x axis needs values >= 0"):
        plots.validation_curve("shift", [-1, 1, 10], np.ones((3, 1)), np.ones((3, 1)), tmp_path / "x.png",
                               log_x=True)


def test_heatmap(tmp_path):
    rng = np.random.default_rng(2)
    dev = 0.8 + 0.15 * rng.random((4, 6))
    dev[0, 0] = np.nan  # a run that failed shows as a dash, not a crash
    gap = 0.1 * rng.standard_normal((4, 6))
    path = plots.heatmap("l2", [0, 0.01, 0.1, 0.3, 1, 3], "keep_prob", [0.5, 0.7, 0.85, 1.0], dev, gap,
                         tmp_path / "heat.png")
    assert_png(path, wide=True)
    with pytest.raises(InputError, match=r"gap must have shape \(len\(ys\), len\(xs\)\) = \(4, 6\)"):
        plots.heatmap("l2", range(6), "keep_prob", range(4), dev, gap.T, tmp_path / "x.png")


def test_setting_colors_are_stable_and_distinct():
    labels = ["none", "l2", "l1", "dropout", "l2+dropout", "lambda=0.1", "lambda=1"]
    colors = plots.setting_colors(labels)
    assert list(colors) == labels
    assert len(set(colors.values())) == len(labels)
    assert plots.setting_colors(labels) == colors
    # a known setting keeps its colour whatever it is shown with, and in any order
    assert plots.setting_colors(["dropout"])["dropout"] == colors["dropout"]
    assert plots.setting_colors(["L2 + dropout", "none"])["L2 + dropout"] == colors["l2+dropout"]
    reordered = plots.setting_colors(list(reversed(labels)))
    assert all(reordered[k] == colors[k] for k in labels[:5])


def _run_python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_reglab_does_not_import_matplotlib():
    assert _run_python("import reglab, sys; print('matplotlib' in sys.modules)") == "False"


def test_plots_never_use_pyplot(tmp_path):
    code = ("import sys, numpy as np; from reglab.report import plots; "
            f"plots.cost_curves({{'l2': [np.linspace(1, 0.1, 50)]}}, {str(tmp_path / 'c.png')!r}); "
            "print('matplotlib.pyplot' in sys.modules, 'matplotlib' in sys.modules)")
    assert _run_python(code) == "False True"
    assert_png(tmp_path / "c.png")


# --- figures as drawn: capture the figure before it is freed ----------------------------------------

@pytest.fixture
def drawn(monkeypatch):
    """The figures the plotting functions save, drawn and kept for inspection."""
    figures = []
    save = plots._save

    def keep(fig, path, title):
        fig.canvas.draw()
        figures.append((fig, [ax for ax in fig.axes if ax.get_visible()],
                        [leg.get_window_extent() for leg in fig.legends],
                        [[t.get_text() for t in ax.get_yticklabels()] for ax in fig.axes],
                        [(line.get_label(), line.get_linestyle(), line.get_marker()) for ax in fig.axes
                         for line in ax.get_lines()],
                        [ax.get_title() for ax in fig.axes if ax.get_visible()],
                        [ax.get_yscale() for ax in fig.axes if ax.get_visible()],
                        [ax.get_window_extent() for ax in fig.axes if ax.get_visible()], title))
        return save(fig, path, title)

    from reglab.report import curves
    for module in (plots, curves):  # each module holds its own reference to _save
        monkeypatch.setattr(module, "_save", keep)
    return figures


def test_percent_ticks_are_distinct_and_where_they_say():
    f = plots._percent_formatter()
    f.set_locs([0.92, 0.925, 0.93, 0.935])
    assert [f(v) for v in (0.92, 0.925, 0.93, 0.935)] == ["92.0%", "92.5%", "93.0%", "93.5%"]
    f.set_locs([0.8, 0.9, 1.0])
    assert [f(v) for v in (0.8, 0.9, 1.0)] == ["80%", "90%", "100%"]
    f.set_locs([0.9401, 0.9402])
    assert len({f(0.9401), f(0.9402)}) == 2


def test_validation_curve_ticks_and_held_out_name(tmp_path, drawn):
    # accuracies between 92% and 96%: whole-number labels used to repeat ("94%, 94%, 94%")
    train_acc = np.array([[0.95, 0.955], [0.945, 0.95], [0.94, 0.945]])
    plots.validation_curve("l2", [0.1, 0.7, 1], train_acc, train_acc - 0.02, tmp_path / "v.png", held="test")
    fig, axes, legends, ticks, lines, titles, scales, extents, title = drawn[-1]
    labels = [t for t in ticks[0] if t]
    assert len(labels) == len(set(labels)) and all(t.endswith("%") for t in labels)
    names = [name for name, *_ in lines]
    assert "test" in names and "dev" not in names and any(n.startswith("best test:") for n in names)
    assert title == "Train and test accuracy against l2"


def test_cost_curves_legend_beside_the_curves_and_course_runs_dashed(tmp_path, runs, drawn):
    curves = {label: [r.history.costs for r in rs] for label, rs in runs.items()}
    curves["course l2"] = [runs["l2"][0].history.costs]  # exactly under "l2"
    plots.cost_curves(curves, tmp_path / "cost.png", colors={"none": "#000000", "l2": "#0072B2",
                                                               "course l2": "#D55E00"})
    fig, axes, legends, ticks, lines, *_, extents, title = drawn[-1]
    assert len(legends) == 1 and not legends[0].overlaps(extents[0])
    styles = {name: (ls, marker) for name, ls, marker in lines}
    assert styles["l2"] == ("-", "None") and styles["course l2"][0] == "--" and styles["course l2"][1] == "o"
    with pytest.raises(InputError, match="colors must map every label to a colour, missing course l2"):
        plots.cost_curves(curves, tmp_path / "x.png", colors={"none": "k", "l2": "b"})


def test_training_curves(tmp_path, runs, moons, drawn):
    from reglab.report.curves import training_curves
    histories = {}
    for label, extra in (("L2 0.7", {"l2": 0.7}), ("early stopping, patience 2", {"early_stopping": 2})):
        histories[label] = []
        for seed in (0, 1):
            h = train(moons.X_train, moons.y_train, TrainConfig(layers=(8,), iterations=300, seed=seed,
                                                               record_every=10, **extra),
                      X_dev=moons.X_test, y_dev=moons.y_test).history
            histories[label].append({"eval_steps": h.eval_steps, "train_loss": h.train_loss,
                                     "train_cost": h.train_cost, "dev_cost": h.dev_cost,
                                     "train_accuracy": h.train_accuracy, "dev_accuracy": h.dev_accuracy,
                                     "best_step": h.best_step})
    # the data term is recorded apart from the penalty: with L2 the cost exceeds it
    h = histories["L2 0.7"][0]
    assert all(c > l for c, l in zip(h["train_cost"], h["train_loss"]))
    assert histories["early stopping, patience 2"][0]["best_step"] is not None
    assert_png(training_curves(histories, tmp_path / "cost.png"), wide=True)
    fig, axes, legends, ticks, lines, titles, scales, extents, title = drawn[-1]
    assert titles == ["L2 0.7", "early stopping, patience 2"] and scales[0] == "log"
    names = [name for name, *_ in lines]
    assert {"train", "dev", "lowest dev cost", "early-stopping point"} <= set(names)
    assert_png(training_curves(histories, tmp_path / "acc.png", metric="accuracy"), wide=True)
    labels = [t for t in drawn[-1][3][0] if t]
    assert labels and all(t.endswith("%") for t in labels) and len(labels) == len(set(labels))
    with pytest.raises(InputError, match=r"runs\['x'\] must be a non-empty list over seeds of histories"):
        training_curves({"x": [{"eval_steps": [0]}]}, tmp_path / "x.png")
    with pytest.raises(InputError, match="metric must be one of"):
        training_curves(histories, tmp_path / "x.png", metric="loss")
