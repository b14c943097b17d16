"""Every course experiment reproduced, through the library and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from reglab.experiments import course
from reglab.cli.main import main
from reglab.training.loop import TrainConfig, train


@pytest.fixture(scope="module")
def reproduced(football_path, tmp_path_factory):
    """One ``reglab reproduce`` run shared by the tests below (it trains six networks)."""
    out = tmp_path_factory.mktemp("reproduce") / "checks.json"
    result = CliRunner().invoke(main, ["reproduce", "--data", str(football_path), "--json", str(out)])
    return result, json.loads(out.read_text())


def test_embedded_figures_are_the_reference_figures(reference):
    """The figures reglab checks against are exactly those of the shared reference."""
    runs = reference["experiments"]["football"]["runs"]
    for run, figures in course.FOOTBALL.items():
        assert {int(k): v for k, v in runs[run]["cost"].items()} == figures["cost"]
        assert runs[run]["lambd"] == figures["settings"]["l2"]
        assert runs[run]["keep_prob"] == figures["settings"]["keep_prob"]
        for key in ("train_accuracy", "test_accuracy"):
            assert runs[run][key] == figures[key]
    circles = reference["experiments"]["circles_initialization"]["runs"]
    for run, figures in course.CIRCLES.items():
        numeric = {int(k): v for k, v in circles[run]["cost"].items() if not isinstance(v, str)}
        assert numeric == figures["cost"]
        for key in ("train_accuracy", "test_accuracy"):
            assert circles[run][key] == figures[key]


def test_reproduce_passes_every_published_figure(reproduced):
    result, payload = reproduced
    assert result.exit_code == 0, result.output
    assert payload["failed"] == 0
    # 6 runs: 3 football x (3 costs + 2 accuracies) + zeros (2 + 2) + random (2) + he (1 + 2)
    assert payload["passed"] == 24
    assert "24 passed, 0 failed" in result.output
    by_key = {(c["run"], c["quantity"]): c for c in payload["checks"]}
    assert by_key[("dropout", "test_accuracy")]["computed"] == 0.95
    assert by_key[("l2", "cost@20000")]["computed"] == pytest.approx(0.2680916337127301, rel=1e-9)


def test_random_init_cost_is_finite_where_the_course_prints_inf():
    data = course.make_circles_course()
    config = TrainConfig.from_dict({**course.circles_config("random").to_dict(), "iterations": 1})
    result = train(data.X_train, data.y_train, config)
    assert 100 < result.history.costs[0] < 1e4


def test_train_cli_is_the_same_code_path_as_reproduce(football_path, tmp_path):
    """``reglab train --course-compat --l2`` gives the course's figures (no table lookup)."""
    out = tmp_path / "run.json"
    args = ["train", "--data", str(football_path), "--init", "course", "--learning-rate", "0.3",
            "--iterations", "30000", "--l2", "0.7", "--course-compat", "--print-every",
            "10000", "--json", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    published = course.FOOTBALL["l2"]
    assert payload["train_accuracy"] == published["train_accuracy"]
    assert payload["test_accuracy"] == published["test_accuracy"]
    for t, cost in published["cost"].items():
        assert payload["costs"][str(t)] == pytest.approx(cost, rel=1e-9)
    assert "Cost after iteration 10000: 0.2684918873" in result.output


def test_reproduce_reports_a_missing_file(tmp_path):
    result = CliRunner().invoke(main, ["reproduce", "--data", str(tmp_path / "nope.mat")])
    assert result.exit_code == 2
    assert "football file not found" in result.output
    assert "Traceback" not in result.output
