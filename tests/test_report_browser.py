"""A report opened in a real headless Chromium: every image decodes, the page is not
blank, and nothing is fetched from the network.

Needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``;
``.ci/run`` installs them) and the pip package ``selenium``. The tests never
install anything: without a browser they skip, saying so (a failure under
``REGLAB_REQUIRE_ALL=1``). ``REGLAB_CHROMIUM`` and ``REGLAB_CHROMEDRIVER`` name
the binaries; otherwise they are looked up on ``PATH``. Selenium is given the
driver's path, so it never downloads one.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import chrome_options, find_browser, headless_chrome, missing
from PIL import Image

from reglab.report import plots
from reglab.report.html import Section, Table, write_report

HEADING = "<script>alert(1)</script> escaped"


@pytest.fixture(scope="session")
def chromium() -> tuple[Path, Path]:
    """Chromium and chromedriver, found, never installed; skip (or fail under CI) without them."""
    browser, driver, why_not = find_browser()
    if why_not:
        missing(why_not)
    try:
        import selenium  # noqa: F401 - installed by pip install -e ".[test]"
    except ImportError:
        missing('selenium is not installed: pip install -e ".[test]"')
    return browser, driver


@pytest.fixture
def browser(chromium, tmp_path):
    binary, driver_path = chromium
    options = chrome_options(binary, tmp_path / "chromium-profile", 1280, 1800)
    with headless_chrome(binary, driver_path, options) as driver:
        yield driver


@pytest.fixture
def report(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    steps = np.linspace(0, 4, 300)
    costs = plots.cost_curves(
        {label: [np.exp(-rate * steps) + 0.05 + 0.01 * rng.random(300) for _ in range(3)]
         for label, rate in (("none", 1.5), ("l2", 1.0), ("dropout", 0.8))},
        tmp_path / "figs" / "costs.png")
    hist = plots.weight_histograms({"none": rng.normal(size=500), "l1": rng.laplace(scale=0.1, size=500)},
                                   tmp_path / "figs" / "hist.png")
    table = Table(["setting", "train", "test"], [["none", 0.99, 0.91], ["l2", 0.95, 0.93]],
                  caption="Accuracy")
    return write_report(tmp_path / "report.html", title="Regularization on moons", intro="Three settings.",
                        sections=[Section(HEADING, text="Costs fall.", table=table,
                                          images=[("Training cost", costs)]),
                                  Section("Weights", images=[("Final weights", hist)])])


def test_report_renders_offline_in_chromium(browser, report):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(report.as_uri())
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete")

    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight,"
        " i.currentSrc.slice(0, 22)])")
    assert len(images) == 2
    for complete, width, height, src in images:
        assert complete and width > 0 and height > 0, images
        assert src == "data:image/png;base64,"

    # the escaped heading reads literally and no script ran or exists
    assert browser.find_element("tag name", "h2").text == HEADING
    assert browser.execute_script("return document.scripts.length") == 0

    shot = Image.open(io.BytesIO(browser.get_screenshot_as_png()))
    pixels = np.asarray(shot.convert("RGB"), dtype=float)
    assert shot.width >= 1000 and pixels.std() > 20, f"blank screenshot (std {pixels.std():.1f})"

    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in fetched if u.startswith(("http:", "https:"))], fetched
    navigation = browser.execute_script(
        "return performance.getEntriesByType('navigation').map(e => e.name)")
    assert navigation == [report.as_uri()]


def test_the_compare_report_renders_offline_in_chromium(browser, tmp_path):
    """The report ``reglab compare`` writes: every figure loads, nothing is fetched."""
    from click.testing import CliRunner
    from selenium.webdriver.support.ui import WebDriverWait

    from reglab.cli.main import main

    out = tmp_path / "compare"
    result = CliRunner().invoke(main, ["compare", "--seeds", "2", "--iterations", "200", "--jobs", "1",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = out / "report.html"
    browser.get(report.as_uri())
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    # train/dev cost and accuracy over training, boundaries, cost curves, weight norms, histograms
    assert len(images) == 6
    assert all(complete and width > 0 for complete, width in images), images
    assert "L2 0.7 + dropout keep 0.8" in browser.find_element("tag name", "table").text
    # at 800 px every table fits its column: nothing is cut off or needs a sideways scroll
    browser.set_window_size(800, 1200)
    overflow = browser.execute_script(
        "return Array.from(document.querySelectorAll('.table-wrap'))"
        ".map(w => w.scrollWidth - w.clientWidth)")
    assert overflow and max(overflow) <= 0, overflow
    pixels = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB"), float)
    assert pixels.std() > 20
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in fetched if u.startswith(("http:", "https:"))], fetched
