"""Fixtures shared by the test suite.

The course's data set and reference figures are not part of the repository.
They are read from ``$REGLAB_COURSE_DIR`` when it is set, else from ``../shared``
beside the repository, as ``data/football.mat`` and
``reference/course_reference.json``; never copied in. A test that needs one of
them is skipped, with a reason saying where to put it, when it is absent;
``REGLAB_REQUIRE_ALL=1`` (set by ``.ci/run``) turns every such skip into a
failure, so CI cannot pass by skipping.
"""

from __future__ import annotations

import contextlib
import os

# scikit-learn's estimator checks include an array-API check that skips itself
# unless SciPy was imported with this set; set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
COURSE_DIR = Path(os.environ.get("REGLAB_COURSE_DIR") or REPO.parent / "shared")
FOOTBALL = COURSE_DIR / "data" / "football.mat"
REFERENCE = COURSE_DIR / "reference" / "course_reference.json"


def require_all() -> bool:
    """Whether missing prerequisites must fail the run instead of skipping (CI)."""
    return os.environ.get("REGLAB_REQUIRE_ALL", "") not in ("", "0")


def missing(reason: str):
    """Skip the current test with ``reason``, or fail with it under ``REGLAB_REQUIRE_ALL=1``."""
    if require_all():
        pytest.fail(f"{reason} (REGLAB_REQUIRE_ALL is set, so this is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(reason)


def _find(variable: str, names: tuple[str, ...]) -> Path | None:
    """The binary named by ``$variable``, else the first of ``names`` on PATH."""
    if os.environ.get(variable):
        path = Path(os.environ[variable])
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def find_browser() -> tuple[Path | None, Path | None, str | None]:
    """``(chromium, chromedriver, why not)``: found through ``REGLAB_CHROMIUM`` /
    ``REGLAB_CHROMEDRIVER`` or on PATH, never installed; ``why not`` is None when both are."""
    browser = _find("REGLAB_CHROMIUM", ("chromium", "chromium-browser", "google-chrome"))
    driver = _find("REGLAB_CHROMEDRIVER", ("chromedriver",))
    if browser is None or driver is None:
        absent = " and ".join(n for n, p in (("chromium", browser), ("chromedriver", driver)) if p is None)
        return browser, driver, (f"no {absent} found (on PATH or in REGLAB_CHROMIUM / REGLAB_CHROMEDRIVER); "
                                 f"install them, e.g. apt-get install chromium chromium-driver, to run "
                                 f"the browser tests")
    return browser, driver, None


def chrome_options(binary: Path, profile: Path, width: int, height: int):
    """Headless Chromium that reaches for nothing on the network, with its own profile."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(arg)
    return options


@contextlib.contextmanager
def headless_chrome(binary: Path, driver: Path, options):
    """A Selenium driver of ``binary`` through ``driver`` with ``options`` (see
    :func:`chrome_options`), quit however the block ends."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chrome = webdriver.Chrome(service=Service(executable_path=str(driver)), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def _where(path: Path, what: str) -> str:
    return (f"{what} not found at {path}: put it there, or set REGLAB_COURSE_DIR to the folder "
            f"holding {path.relative_to(COURSE_DIR)}")


@pytest.fixture(scope="session")
def football_path() -> Path:
    if not FOOTBALL.is_file():
        missing(_where(FOOTBALL, "the course's football.mat"))
    return FOOTBALL


@pytest.fixture(scope="session")
def reference() -> dict:
    if not REFERENCE.is_file():
        missing(_where(REFERENCE, "the course's course_reference.json"))
    return json.loads(REFERENCE.read_text())


def as_array(entry):
    """Turn a reference entry ``{"dtype": ..., "data": ...}`` (or a list) into an array."""
    if isinstance(entry, dict) and "data" in entry:
        return np.asarray(entry["data"], dtype=entry["dtype"])
    return np.asarray(entry, dtype=np.float64)
