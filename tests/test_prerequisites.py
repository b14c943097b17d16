"""What the suite does without the course's files or a browser: skip, saying where to put
them, or fail under REGLAB_REQUIRE_ALL=1 (CI). Each case runs pytest in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_run(node: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("REGLAB_REQUIRE_ALL", "REGLAB_COURSE_DIR", "REGLAB_CHROMIUM",
                                "REGLAB_CHROMEDRIVER")}  # each case sets what it tests
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
                          cwd=REPO, env=environment, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("node, reason", [
    ("tests/test_course_cases.py::test_l2_cost",
     "the course's course_reference.json not found at {empty}/reference/course_reference.json: put it "
     "there, or set REGLAB_COURSE_DIR to the folder holding reference/course_reference.json"),
    ("tests/test_data.py::test_football_from_shared_file",
     "the course's football.mat not found at {empty}/data/football.mat: put it there, or set "
     "REGLAB_COURSE_DIR to the folder holding data/football.mat"),
])
def test_missing_course_files_skip_with_where_to_put_them_and_fail_under_ci(node, reason, tmp_path):
    reason = reason.format(empty=tmp_path)
    skipped = pytest_run(node, tmp_path, REGLAB_COURSE_DIR=str(tmp_path))
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout and reason in " ".join(skipped.stdout.split())
    failed = pytest_run(node, tmp_path, REGLAB_COURSE_DIR=str(tmp_path), REGLAB_REQUIRE_ALL="1")
    assert failed.returncode == 1 and "1 error" in failed.stdout
    assert "(REGLAB_REQUIRE_ALL is set, so this is a failure, not a skip)" in failed.stdout


def test_a_missing_browser_skips_and_fails_under_ci(tmp_path):
    node = "tests/test_report_browser.py::test_report_renders_offline_in_chromium"
    absent = str(tmp_path / "no-chromium")
    skipped = pytest_run(node, tmp_path, REGLAB_CHROMIUM=absent)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout
    assert "no chromium found (on PATH or in REGLAB_CHROMIUM / REGLAB_CHROMEDRIVER)" in skipped.stdout
    failed = pytest_run(node, tmp_path, REGLAB_CHROMIUM=absent, REGLAB_REQUIRE_ALL="1")
    assert failed.returncode == 1 and "1 error" in failed.stdout


def test_ci_installs_the_browser_only_when_missing_and_requires_everything():
    script = (REPO / ".ci" / "run").read_text()
    assert "command -v chromium" in script and "apt-get install -y chromium chromium-driver" in script
    assert "export REGLAB_REQUIRE_ALL=1" in script
    readme = (REPO / "README.md").read_text()
    command = 'python -m pip install -e ".[test]" && python -m pytest'
    assert command in readme and script.rstrip().endswith(command)
