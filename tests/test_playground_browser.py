"""The playground page in a real headless Chromium, driven as a learner would drive it.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the extras
``reglab[playground,test]``. Nothing is installed from here: where they are
missing the tests are skipped with the reason, unless ``REGLAB_REQUIRE_ALL=1``
(CI), where a missing piece fails them. One server (uvicorn in a thread, on a
free loopback port) and one browser serve the whole module; each test opens a
fresh page.
"""

from __future__ import annotations

import shlex
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import chrome_options, find_browser, headless_chrome, require_all

CHROMIUM, CHROMEDRIVER, NO_BROWSER = find_browser()
REQUIRE_ALL = require_all()


def _missing() -> str | None:
    if NO_BROWSER:
        return NO_BROWSER
    for module, extra in (("selenium", "test"), ("starlette", "playground"), ("uvicorn", "playground")):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install 'reglab[{extra}]')"
    return None


MISSING = _missing()
if MISSING:
    if REQUIRE_ALL:
        pytest.fail(f"REGLAB_REQUIRE_ALL=1 but {MISSING}", pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)

import uvicorn  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from reglab.cli.main import main  # noqa: E402
from reglab.io import load_network  # noqa: E402
from reglab.playground.server import create_app  # noqa: E402

CSV = "x1,x2,label\n" + "".join(f"{np.cos(t):.4f},{np.sin(t) * (1 + k):.4f},{k}\n"
                                for k in (0, 1) for t in np.linspace(0, 6, 40))


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the playground server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def chrome(tmp_path_factory, downloads):
    options = chrome_options(CHROMIUM, tmp_path_factory.mktemp("profile"), 1400, 1600)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with headless_chrome(CHROMIUM, CHROMEDRIVER, options) as driver:
        yield driver


@pytest.fixture
def page(chrome, server):
    chrome.get("about:blank")
    chrome.get(server)
    wait(chrome, lambda d: js(d, "return window.playground.last && window.playground.last.columns[0].step === 0"))
    return chrome


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def wait(driver, condition, timeout=20):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def step(driver) -> int:
    return int(driver.find_element(By.ID, "step").text)


def set_value(driver, element_id, value):
    js(driver, "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
               "e.dispatchEvent(new Event('change'));", element_id, str(value))


def play_until(driver, at_least):
    driver.find_element(By.ID, "play").click()
    wait(driver, lambda d: step(d) >= at_least)
    driver.find_element(By.ID, "play").click()  # pause
    wait(driver, lambda d: not js(d, "return window.playground.playing"))


def boundary(driver, column=0):
    return js(driver, "return document.querySelector('#card-' + arguments[0] + ' canvas.boundary').toDataURL()",
              column)


def test_page_loads_offline(page, server):
    assert page.find_element(By.ID, "step").text == "0"
    assert page.find_element(By.ID, "play").is_displayed()
    resources = js(page, "return performance.getEntriesByType('resource').map(r => r.name)")
    assert resources and all(r.startswith(server) or r.startswith("ws://127.0.0.1") for r in resources)
    assert js(page, "return [...document.querySelectorAll('link,script')].every("
                    "e => !(e.href || e.src) || (e.href || e.src).startsWith(location.origin) "
                    "|| (e.href || '').startsWith('data:'))")
    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_play_advances_the_step_counter_and_the_boundary(page):
    before = boundary(page)
    play_until(page, 60)
    assert step(page) >= 60
    assert boundary(page) != before
    frames = js(page, "return window.playground.frames")
    assert frames >= 3  # frames arrived while playing, each one a new step


def test_changing_l2_mid_run_takes_effect(page):
    play_until(page, 100)
    at = step(page)
    norms_then = js(page, "return window.playground.last.columns[0].norms")
    set_value(page, "l2", 20)
    page.find_element(By.ID, "play").click()
    wait(page, lambda d: step(d) >= at + 100)
    page.find_element(By.ID, "play").click()
    last = js(page, "return window.playground.last.columns[0]")
    assert last["changed_at"] == at
    assert "settings changed at step" in page.find_element(By.CSS_SELECTOR, "#card-0 .stop").text
    assert sum(last["norms"]) < 0.8 * sum(norms_then)  # the strong penalty shrinks the weights
    assert "l2%22%3A20" in page.current_url  # the URL holds the change


def test_side_by_side_renders_and_trains_two_configurations(page):
    page.find_element(By.ID, "add-column").click()  # B starts as a copy of A
    wait(page, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#columns .card")) == 2
         and js(d, "return window.playground.last.columns.length") == 2)
    keep = page.find_elements(By.CSS_SELECTOR, "#keep input")
    js(page, "arguments[0].value = 0.5; arguments[0].dispatchEvent(new Event('change'));", keep[0])
    wait(page, lambda d: js(d, "return window.playground.cfg.columns[1].keep_prob[0]") == 0.5)
    assert boundary(page, 0) == boundary(page, 1)  # same initial weights, same picture
    first = js(page, "return window.playground.last.columns.map(c => c.norms)")
    assert first[0] == first[1]
    play_until(page, 80)
    columns = js(page, "return window.playground.last.columns")
    assert columns[0]["step"] == columns[1]["step"] >= 80
    assert boundary(page, 0) != boundary(page, 1)
    assert "keep 0.5" in page.find_element(By.CSS_SELECTOR, "#card-1 h3").text


def rect(driver, selector):
    return js(driver, "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                      "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width};", selector)


def test_the_curves_fill_the_space_the_cards_leave(page):
    # 1400 px: one card, the curves take the rest of its row, one chart under another
    card, charts, views = rect(page, "#card-0"), rect(page, ".charts"), rect(page, "#views")
    assert charts["top"] == card["top"] and abs(charts["right"] - views["right"]) < 1
    assert charts["width"] > views["width"] - card["width"] - 20
    cost, acc = rect(page, "#cost-chart"), rect(page, "#acc-chart")
    assert acc["top"] >= cost["bottom"] and cost["width"] > 800
    # four cards fill the row: the curves go under them, full width, three charts side by side
    for _ in range(3):
        page.find_element(By.ID, "add-column").click()
    wait(page, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#columns .card")) == 4)
    charts, last = rect(page, ".charts"), rect(page, "#card-3")
    assert charts["top"] > last["bottom"] and abs(charts["width"] - views["width"]) < 1
    cost, acc, norm = (rect(page, f"#{c}-chart") for c in ("cost", "acc", "norm"))
    assert cost["top"] == acc["top"] == norm["top"] and cost["right"] <= acc["left"] < acc["right"] <= norm["left"]
    assert js(page, "return document.getElementById('norm-chart').width") == round(norm["width"])  # drawn sharp


def test_layer_buttons_reshape_the_network_and_l1_piles_weights_at_zero(page):
    page.find_element(By.ID, "add-layer").click()  # [8, 8] -> [8, 8, 4]: one unit picture per hidden unit
    layers = "return [...document.querySelectorAll('#card-0 .units canvas')].map(c => Number(c.dataset.units))"
    wait(page, lambda d: js(d, layers) == [8, 8, 4] and js(d, "return window.playground.last.columns[0].units.length") == 3)
    # each layer's canvas holds its units' pictures, 16 x 16 each, in rows of eight, one pixel apart
    assert js(page, "return [...document.querySelectorAll('#card-0 .units canvas')].map(c => [c.width, c.height])") == [
        [8 * 17 - 1, 16], [8 * 17 - 1, 16], [4 * 17 - 1, 16]]
    assert len(page.find_elements(By.CSS_SELECTOR, "#layers input")) == 3
    assert len(page.find_elements(By.CSS_SELECTOR, "#keep input")) == 3
    for _ in range(2):
        page.find_element(By.ID, "remove-layer").click()
    wait(page, lambda d: js(d, "return window.playground.data.config.layers") == [8] and js(d, layers) == [8])
    set_value(page, "l1", 2)
    play_until(page, 300)
    counts = js(page, "return window.playground.last.columns[0].histogram.counts")
    assert len(counts) == 41 and counts[20] == max(counts) and counts[20] > 0.5 * sum(counts)  # the spike at 0


def test_the_configuration_export_is_the_page_and_its_train_config(page, downloads):
    set_value(page, "l2", 0.25)
    play_until(page, 30)
    n = step(page)
    saved = downloads / "reglab-playground-config.json"
    saved.unlink(missing_ok=True)
    page.find_element(By.ID, "export-config").click()
    wait(page, lambda d: saved.is_file() and saved.stat().st_size > 0)
    time.sleep(0.3)  # let Chromium finish writing
    import json
    exported = json.loads(saved.read_text())
    assert exported["page"] == js(page, "return window.playground.cfg")
    assert exported["train_config"]["iterations"] == n and exported["train_config"]["l2"] == 0.25
    assert exported["train_config"]["layers"] == [8, 8] and exported["train_config"]["engine"] == "reference"


def test_reset_restores_the_same_initial_weights(page):
    start = js(page, "return window.playground.last.columns[0]")
    picture = boundary(page)
    play_until(page, 50)
    page.find_element(By.ID, "reset").click()
    wait(page, lambda d: step(d) == 0)
    again = js(page, "return window.playground.last.columns[0]")
    for key in ("norms", "boundary", "histogram", "units", "figures"):
        assert again[key] == start[key], key
    assert boundary(page) == picture


def test_an_uploaded_csv_trains(page, tmp_path):
    path = tmp_path / "rings.csv"
    path.write_text(CSV)
    page.find_element(By.ID, "upload").send_keys(str(path))
    wait(page, lambda d: d.find_element(By.ID, "dataset").get_attribute("value").startswith("upload:")
         and "rings" in d.find_element(By.ID, "data-summary").text)
    wait(page, lambda d: js(d, "return window.playground.last.columns[0].step === 0"))
    play_until(page, 100)
    assert js(page, "return window.playground.last.columns[0].figures.train_accuracy") > 0.6


def test_an_uploaded_three_class_csv_trains_a_softmax_and_draws_three_regions(page, tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    X = rng.normal(scale=0.6, size=(150, 2)) + np.repeat(centres, 50, axis=0)
    path = tmp_path / "blobs.csv"
    path.write_text("a,b,label\n" + "".join(f"{a:.4f},{b:.4f},{k}\n" for (a, b), k in zip(X, np.repeat([0, 1, 2], 50))))
    page.find_element(By.ID, "upload").send_keys(str(path))
    wait(page, lambda d: "blobs: 2 features, 3 classes" in d.find_element(By.ID, "data-summary").text)
    wait(page, lambda d: js(d, "return window.playground.data.n_classes === 3 && window.playground.last.columns[0].step === 0"))
    play_until(page, 150)
    state = js(page, "return window.playground.last.columns[0]")
    assert state["figures"]["train_accuracy"] > 0.95 and state["figures"]["test_accuracy"] > 0.9
    code = np.frombuffer(__import__("base64").b64decode(state["boundary"]), "<u2")
    assert set(np.unique(code // 1000)) == {0, 1, 2}  # softmax: 1000 class + 999 confidence per cell
    # the canvas shows the three classes' colours (orange, blue, green tints of white)
    shares = js(page, """
        const c = document.querySelector('#card-0 canvas.boundary'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const n = [0, 0, 0];
        for (let i = 0; i < d.length; i += 4) {
          const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
          if (r > g + 10 && g > b + 10) n[0]++; else if (b > g + 10 && g > r + 10) n[1]++;
          else if (g > r + 10 && Math.abs(r - b) < 12) n[2]++;
        }
        return n.map((k) => k / (c.width * c.height));""")
    assert min(shares) > 0.1, shares


def test_a_bad_upload_shows_a_clear_message_and_the_server_keeps_serving(page, tmp_path):
    path = tmp_path / "three.csv"
    path.write_text("a,b,c,label\n1,2,3,0\n2,3,4,1\n3,4,5,0\n4,5,6,1\n")
    page.find_element(By.ID, "upload").send_keys(str(path))
    msg = page.find_element(By.ID, "upload-msg")
    wait(page, lambda d: "error" in msg.get_attribute("class"))
    assert msg.text == ("three.csv cannot be used: three.csv has 3 feature columns; the playground draws "
                        "2-D data: two feature columns and a label column")
    assert page.find_element(By.ID, "message").text == msg.text
    page.find_element(By.ID, "one-step").click()  # the same page still trains
    wait(page, lambda d: step(d) == 1)
    page.refresh()  # and the server serves a new page
    wait(page, lambda d: js(d, "return window.playground.last && window.playground.last.columns[0].step === 0"))


def test_the_page_network_equals_reglab_train_with_the_exported_command(page, downloads, tmp_path):
    set_value(page, "split_mode", "custom")  # a train/dev/test ratio of its own: 60/10/30
    assert page.find_element(By.ID, "split-custom").is_displayed()
    set_value(page, "split_test", 30)
    set_value(page, "split_dev", 10)
    wait(page, lambda d: js(d, "return window.playground.data.config.split") == [0.6, 0.1, 0.3]
         and js(d, "return window.playground.last.columns[0].step") == 0)
    assert "train 240" in page.find_element(By.ID, "data-summary").text and "#c=" in page.current_url
    set_value(page, "speed", 20)
    keep = page.find_elements(By.CSS_SELECTOR, "#keep input")
    js(page, "arguments[0].value = 0.8; arguments[0].dispatchEvent(new Event('change'));", keep[0])
    set_value(page, "l1", 0.05)
    play_until(page, 120)
    n = step(page)
    page.find_element(By.ID, "export-command").click()
    wait(page, lambda d: d.find_element(By.ID, "tool-out").text.startswith("reglab train"))
    argv = shlex.split(page.find_element(By.ID, "tool-out").text)
    assert argv[argv.index("--iterations") + 1] == str(n)
    assert argv[argv.index("--keep-prob") + 1] == "0.8,1.0" and argv[argv.index("--l1") + 1] == "0.05"
    assert argv[argv.index("--split") + 1] == "0.6,0.1,0.3" and "--dev" not in argv
    for old in downloads.glob("*.npz"):
        old.unlink()
    page.find_element(By.ID, "export-model").click()
    saved = downloads / f"reglab-playground-step{n}.npz"
    wait(page, lambda d: saved.is_file() and saved.stat().st_size > 0)
    time.sleep(0.3)  # let Chromium finish writing
    out = tmp_path / "cli.npz"
    result = CliRunner().invoke(main, [str(out) if a == "model.npz" else a for a in argv[1:]])
    assert result.exit_code == 0, result.output
    page_net, cli_net = load_network(saved)[0], load_network(out)[0]
    for a, b in zip(page_net.weights + page_net.biases, cli_net.weights + cli_net.biases):
        np.testing.assert_array_equal(a, b)


def test_a_link_reproduces_the_configuration(chrome, server):
    import json
    import urllib.parse
    cfg = {"dataset": "xor", "n_samples": 200, "noise": 0.3, "data_seed": 4, "dev": True, "split": [0.7, 0.1, 0.2],
           "train_size": None,
           "layers": [5, 3, 2], "hidden": "tanh", "batch_size": None, "seed": 7, "record_every": 10,
           "course_compat": False,
           "columns": [{"learning_rate": 0.05, "init": "xavier", "l2": 0.3, "l1": 0.0, "keep_prob": [1, 1, 1],
                        "early_stopping": None, "augment": None},
                       {"learning_rate": 0.05, "init": "xavier", "l2": 0.0, "l1": 0.0, "keep_prob": [0.7, 1, 1],
                        "early_stopping": None, "augment": None}]}
    chrome.get("about:blank")  # else a change of the hash alone would not load the page
    chrome.get(server + "#c=" + urllib.parse.quote(json.dumps(cfg)))
    wait(chrome, lambda d: js(d, "return !!(window.playground.last && window.playground.last.columns.length === 2)"))
    assert js(chrome, "return window.playground.data.config") == cfg
    assert chrome.find_element(By.ID, "l2").get_attribute("value") == "0.3"
    assert chrome.find_element(By.ID, "split_mode").get_attribute("value") == "custom"
    assert chrome.find_element(By.ID, "split_test").get_attribute("value") == "20"
    assert chrome.find_element(By.ID, "split_dev").get_attribute("value") == "10"
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#layers input")) == 3
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#columns .card")) == 2
    chrome.get("about:blank")
    chrome.get(server + "#c=%7Bbroken")
    wait(chrome, lambda d: "not one the playground can read" in d.find_element(By.ID, "message").text)
