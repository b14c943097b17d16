"""The playground's server (Starlette's TestClient) and its page sessions, without a browser."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import require_all

try:
    import starlette  # noqa: F401
except ImportError:  # skipped where the extra is absent, never under REGLAB_REQUIRE_ALL=1 (CI)
    if require_all():
        raise
    pytest.skip("starlette is not installed (pip install 'reglab[playground]')", allow_module_level=True)
from starlette.testclient import TestClient  # noqa: E402

from reglab.cli.main import main  # noqa: E402
from reglab.experiments.course import CIRCLES, FOOTBALL  # noqa: E402
from reglab.io import load_network  # noqa: E402
from reglab.playground.config import DataSource  # noqa: E402
from reglab.playground.presets import presets  # noqa: E402
from reglab.playground.server import MAX_UPLOAD, create_app  # noqa: E402
from reglab.playground.session import PageSession, dumps  # noqa: E402

COLUMN = {"learning_rate": 0.1, "init": "he", "l2": 0.0, "l1": 0.0, "keep_prob": [1.0, 1.0],
          "early_stopping": None, "augment": None}
PAGE = {"dataset": "moons", "n_samples": 300, "noise": 0.2, "data_seed": 1, "dev": True, "train_size": None,
        "layers": [8, 6], "hidden": "relu", "batch_size": None, "seed": 2, "record_every": 10,
        "course_compat": False, "columns": [COLUMN]}
CSV = "x1,x2,label\n" + "".join(f"{np.cos(t):.4f},{np.sin(t) * (1 + k):.4f},{k}\n"
                                for k in (0, 1) for t in np.linspace(0, 6, 40))


def page(**changes):
    cfg = copy.deepcopy(PAGE)
    columns = changes.pop("columns", None)
    cfg.update(changes)
    if columns is not None:
        cfg["columns"] = [{**COLUMN, **c} for c in columns]
    return cfg


@pytest.fixture
def client():
    """The server without ``--data``: what every test but the course file's own needs."""
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def football_client(football_path):
    with TestClient(create_app(football_path)) as c:
        yield c


def receive(ws, kind):
    """The next message of type ``kind`` (frames of a playing page may come first)."""
    for _ in range(200):
        m = ws.receive_json()
        if m["type"] == kind:
            return m
    raise AssertionError(f"no {kind!r} message")


def test_page_and_assets_are_served_from_the_package(client):
    html = client.get("/").text
    assert 'id="step"' in html and 'id="play"' in html
    assert "http" not in html  # no CDN, no web font: every asset is local
    for asset in ("/static/playground.js", "/static/playground.css"):
        r = client.get(asset)
        assert r.status_code == 200 and "://" not in r.text.replace("ws://", "").replace("wss://", "")
    options = client.get("/api/options").json()
    assert options["file"] is None and options["fixed_split"] == ["circles_course"]
    assert [p["name"] for p in options["presets"]] == ["init_circles", "week1_field"]


def test_the_course_file_adds_its_data_set_and_preset(football_client):
    options = football_client.get("/api/options").json()
    assert options["file"] == "football.mat" and options["fixed_split"] == ["circles_course", "file"]
    assert [p["name"] for p in options["presets"]] == ["football", "init_circles", "week1_field"]
    with football_client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "configure", "config": page(dataset="file", n_samples=None, noise=None)})
        assert receive(ws, "data")["summary"] == ("football: 2 features, 2 classes; train 158 [79 79], "
                                                   "dev 53 [26 27], test 200 [113 87]")


def test_play_streams_frames_pause_step_and_reset(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "configure", "config": page()})
        data = receive(ws, "data")
        assert data["n_classes"] == 2 and set(data["points"]) == {"train", "dev", "test"}
        first = receive(ws, "state")["columns"][0]
        assert first["step"] == 0
        boundary = np.frombuffer(base64.b64decode(first["boundary"]), "<u2") / 1000  # p(class 1)
        assert boundary.shape == (48 * 48,) and 0 <= boundary.min() < boundary.max() <= 1
        units = [np.frombuffer(base64.b64decode(layer), "i1") for layer in first["units"]]
        assert [len(u) for u in units] == [8 * 16 * 16, 6 * 16 * 16]
        assert np.abs(units[0]).max() == 127  # each unit scaled to its own largest |value|
        ws.send_json({"type": "speed", "steps": 5})
        ws.send_json({"type": "play"})
        steps = [receive(ws, "state")["columns"][0]["step"] for _ in range(4)]
        assert steps == [5, 10, 15, 20]
        ws.send_json({"type": "pause"})
        paused = receive(ws, "state")["columns"][0]["step"]
        ws.send_json({"type": "step", "n": 3})
        assert receive(ws, "state")["columns"][0]["step"] == paused + 3
        ws.send_json({"type": "reset"})
        again = receive(ws, "state")["columns"][0]
        assert again["step"] == 0 and again["boundary"] == first["boundary"] and again["norms"] == first["norms"]


def test_a_page_that_acknowledges_frames_gets_no_more_than_it_draws(client, monkeypatch):
    import reglab.playground.server as server
    monkeypatch.setattr(server, "ACK_WAIT", 0.5)
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "configure", "config": page()})
        receive(ws, "state")
        ws.send_json({"type": "ack"})  # the browser's page acknowledges every frame it has drawn
        ws.send_json({"type": "speed", "steps": 5})
        ws.send_json({"type": "play"})
        first = receive(ws, "state")["columns"][0]["step"]
        t0 = time.monotonic()
        second = receive(ws, "state")["columns"][0]["step"]  # not acknowledged: sent after ACK_WAIT
        waited = time.monotonic() - t0
        steps = []
        for _ in range(3):
            ws.send_json({"type": "ack"})
            steps.append(receive(ws, "state")["columns"][0]["step"])
        ws.send_json({"type": "pause"})
    assert (first, second, steps) == (5, 10, [15, 20, 25])  # still 5 steps an update, none skipped
    assert waited >= 0.45


def test_l2_changed_mid_run_takes_effect(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "configure", "config": page()})
        receive(ws, "state")
        ws.send_json({"type": "step", "n": 20})
        before = receive(ws, "state")["columns"][0]
        ws.send_json({"type": "update", "column": 0, "changes": {"l2": 5.0}})
        assert receive(ws, "updated")["config"]["columns"][0]["l2"] == 5.0
        ws.send_json({"type": "step", "n": 1})
        after = receive(ws, "state")["columns"][0]
    assert after["changed_at"] == 20
    # the train cost now carries the penalty lambd/(2m) sum ||W||^2
    m = 180
    penalty = 5.0 / (2 * m) * sum(n ** 2 for n in after["norms"])
    assert after["figures"]["train_cost"] - penalty == pytest.approx(before["figures"]["train_cost"], abs=0.02)
    assert after["figures"]["train_cost"] > before["figures"]["train_cost"] + 0.5 * penalty


def test_closing_a_playing_page_ends_its_loop(client):
    playground = client.app.state.playground
    for _ in range(2):  # a reload: the old page closes, a new one opens
        with client.websocket_connect("/ws") as ws:
            ws.send_json({"type": "configure", "config": page()})
            ws.send_json({"type": "play"})
            receive(ws, "state")
            receive(ws, "state")
            assert playground.active == 1
    deadline = time.monotonic() + 10
    while playground.active and time.monotonic() < deadline:
        time.sleep(0.02)
    assert playground.active == 0
    with client.websocket_connect("/ws") as ws:  # and the server still serves
        ws.send_json({"type": "step", "n": 10**6})
        assert receive(ws, "error")["message"] == "send a 'configure' message before 'step'"


@pytest.mark.parametrize("message, error", [
    ("not json", "a message must be JSON, got 'not json'"),
    ('{"type": "fly"}', "send a 'configure' message before 'fly'"),
    ('{"type": "configure", "config": {"dataset": "moons"}}', "n_samples must be an integer, got None"),
    ('[1, 2]', "a message must be a JSON object with a 'type'"),
])
def test_bad_messages_are_answered_and_the_page_keeps_working(client, message, error):
    with client.websocket_connect("/ws") as ws:
        ws.send_text(message)
        assert receive(ws, "error")["message"].startswith(error)
        ws.send_json({"type": "configure", "config": page()})
        assert receive(ws, "state")["columns"][0]["step"] == 0
        ws.send_json({"type": "fly"})
        assert receive(ws, "error")["message"].startswith("unknown message type 'fly'; known: configure")


@pytest.mark.parametrize("changes, error", [
    (dict(layers=[8] * 7), "layers must list 1 to 6 hidden layer widths"),
    (dict(layers=[65]), r"layers must be in \[1, 64\], got 65"),
    (dict(layers=[64] * 6, columns=[{"keep_prob": [1.0] * 6}]),
     r"a network of 21122 parameters is too large for the playground \(at most 20000\)"),
    (dict(layers=[64] * 6), r"keep_prob must have one value per hidden layer \(6\), got 2"),
    (dict(n_samples=10**6), r"n_samples must be in \[20, 5000\], got 1000000"),
    (dict(columns=[{}] * 5), "columns must list 1 to 4 configurations"),
    (dict(dataset="digits"), "dataset must be one of field, moons"),
    (dict(columns=[{"keep_prob": [1.5, 1]}]), r"keep_prob must be in \[0, 1\], got 1.5"),
    (dict(columns=[{"augment": "spin:3"}]), "augmentation must be one of 'jitter', .*got 'spin'"),
    (dict(columns=[{"bogus": 1}]), "unknown column key"),
])
def test_configurations_too_large_or_wrong_are_refused(changes, error):
    with pytest.raises(ValueError, match=error):
        PageSession(page(**changes), {})


def test_uploads_are_validated_and_limited(client, tmp_path):
    ok = client.post("/api/upload", content=CSV.encode(), headers={"X-Filename": "rings.csv"})
    assert ok.status_code == 200 and ok.json()["summary"].startswith("rings: 2 features, 2 classes")
    cases = [("notes.txt", b"a,b\n1,2\n", 400, "upload a .csv file"),
             ("three.csv", b"a,b,c,label\n1,2,3,0\n2,3,4,1\n3,4,5,0\n4,5,6,1\n", 400,
              "three.csv cannot be used: three.csv has 3 feature columns"),
             ("words.csv", b"a,b,label\nx,y,0\n", 400, "words.csv cannot be used: "),
             ("big.csv", b"0" * (MAX_UPLOAD + 1), 413,
              f"big.csv is {MAX_UPLOAD + 1} bytes; the playground takes files up to {MAX_UPLOAD} bytes")]
    for name, body, status, error in cases:
        r = client.post("/api/upload", content=body, headers={"X-Filename": name})
        assert (r.status_code, r.json()["error"][:len(error)]) == (status, error)
        assert "/tmp" not in r.json()["error"]
    assert client.get("/api/options").status_code == 200  # still serving
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "configure", "config": page(dataset=ok.json()["id"], n_samples=None, noise=None)})
        ws.send_json({"type": "step", "n": 50})
        state = receive(ws, "state")
        while state["columns"][0]["step"] < 50:
            state = receive(ws, "state")
        assert state["columns"][0]["figures"]["train_accuracy"] > 0.5


def test_another_sites_page_cannot_connect(client):
    from starlette.websockets import WebSocketDisconnect
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
            ws.receive_json()


def test_gradient_check_and_model_download(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "configure", "config": page(columns=[{"l2": 0.5, "keep_prob": [0.8, 1.0]}])})
        ws.send_json({"type": "step", "n": 30})
        receive(ws, "state")
        ws.send_json({"type": "gradcheck", "column": 0})
        check = receive(ws, "gradcheck")
        ws.send_json({"type": "model", "column": 0})
        model = receive(ws, "model")
        ws.send_json({"type": "gradcheck", "column": 3})
        assert receive(ws, "error")["message"] == "column must be an integer in [0, 0], got 3"
    assert check["status"] == "pass" and check["difference"] < 1e-7 and "W1" in check["text"]
    assert model["filename"] == "reglab-playground-step30.npz"
    path = tmp_path / model["filename"]
    path.write_bytes(base64.b64decode(model["base64"]))
    net, meta = load_network(path)
    assert net.layer_sizes == (2, 8, 6, 1) and meta["config"]["l2"] == 0.5 and meta["extra"]["steps"] == 30


def run_cli(argv, tmp_path):
    out = tmp_path / "model.npz"
    argv = [str(out) if a == "model.npz" else a for a in argv]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    return load_network(out)[0]


def same_network(a, b):
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("cfg, steps", [
    (page(columns=[{"l2": 0.3, "l1": 0.01, "keep_prob": [0.8, 0.9]}]), 120),
    (page(dev=False, train_size=100, columns=[{"early_stopping": 3, "init": "xavier"}], record_every=5), 150),
    (page(batch_size=32, columns=[{"augment": "jitter:0.05", "keep_prob": [0.9, 0.9]}]), 6 * 4),
    (page(dataset="circles_course", n_samples=None, noise=None, course_compat=True, hidden="tanh",
          columns=[{"init": "random", "learning_rate": 0.01}]), 80),
], ids=["l2-l1-dropout", "early-stopping-train-size", "mini-batch-augment", "course-circles"])
def test_exported_command_line_reproduces_the_page(cfg, steps, tmp_path):
    session = PageSession(cfg, {})
    session.advance(steps)
    exported = session.export(0)
    assert exported["notes"] == []
    path = tmp_path / "page.npz"
    path.write_bytes(session.model_file(0))
    same_network(load_network(path)[0], run_cli(exported["argv"], tmp_path))


def test_football_and_upload_commands_reproduce_the_page(football_path, tmp_path):
    upload = tmp_path / "ring.csv"
    upload.write_text(CSV)
    sources = {"file": DataSource(football_path, "football.mat"), "upload:1": DataSource(upload, "ring.csv")}
    for dataset, fix in (("file", {}), ("upload:1", {"ring.csv": str(upload)})):
        session = PageSession(page(dataset=dataset, n_samples=None, noise=None, course_compat=True,
                                   columns=[{"init": "course", "keep_prob": [0.86, 0.86]}]), sources)
        session.advance(40)
        argv = [fix.get(a, a) for a in session.export(0)["argv"]]
        assert ("--data" in argv) and (str(football_path) in argv or str(upload) in argv)
        page_model = tmp_path / "page.npz"
        page_model.write_bytes(session.model_file(0))
        same_network(load_network(page_model)[0], run_cli(argv, tmp_path))


def test_a_diverged_column_stops_alone_and_still_draws():
    session = PageSession(page(columns=[{}, {"init": "random"}]), {})
    session.trainers[1].update(learning_rate=1e300)  # beyond the page's limit, to force overflow
    session.advance(20)
    state = json.loads(dumps(session.state()))  # valid JSON: no NaN, no infinity
    ok, bad = state["columns"]
    assert ok["step"] == 20 and ok["stop_reason"] is None
    assert bad["stop_reason"].startswith("training diverged at step 1:") and None in bad["norms"]
    assert session.running


def test_export_says_when_the_command_differs_from_the_run():
    session = PageSession(page(batch_size=32), {})
    session.advance(7)
    session.update(0, {"l2": 0.1})
    notes = session.export(0)["notes"]
    assert notes[0].startswith("the command trains whole epochs: 2 epochs are 12 steps, the page is at step 7")
    assert notes[1].startswith("settings changed at step 7")


@pytest.mark.parametrize("name, published", [
    ("football", [FOOTBALL[k] for k in ("no_regularization", "l2", "dropout")]),
    ("init_circles", [CIRCLES[k] for k in ("zeros", "random", "he")]),
])
def test_course_presets_reach_the_published_figures(request, name, published):
    # only the football preset needs the course's file (and skips without it)
    sources = ({"file": DataSource(request.getfixturevalue("football_path"), "football.mat")}
               if name == "football" else {})
    preset = next(p for p in presets(bool(sources)) if p["name"] == name)
    session = PageSession(preset["config"], sources)
    session.advance(preset["steps"])
    figures = [c["figures"] for c in session.state()["columns"]]
    for want, got in zip(published, figures, strict=True):
        assert got["train_accuracy"] == pytest.approx(want["train_accuracy"], abs=1e-12)
        assert got["test_accuracy"] == pytest.approx(want["test_accuracy"], abs=1e-12)


def test_cli_playground_refuses_bad_input_and_help_does_not_import_starlette(tmp_path):
    bad = tmp_path / "three.csv"
    bad.write_text("a,b,c,label\n1,2,3,0\n2,3,4,1\n3,4,5,0\n4,5,6,1\n")
    for argv, error in ((["--data", str(bad)], "has 3 features; the playground draws 2-D data"),
                        (["--port", "0"], "--port must be in [1, 65535], got 0"),
                        (["--data", str(tmp_path / "none.csv")], "not found")):
        result = CliRunner().invoke(main, ["playground", "--no-browser", *argv])
        assert result.exit_code == 2 and error in result.output, result.output
    code = ("import sys; from reglab.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('starlette' in sys.modules, 'uvicorn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "playground" in out and out.strip().endswith("False False")


def test_cli_on_a_busy_port_says_so_before_pointing_a_browser_there(monkeypatch):
    import socket
    import webbrowser
    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["playground", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: --host 127.0.0.1 --port {port}: cannot listen there (")
    assert "choose another with --port" in result.output and "reglab playground at" not in result.output
    assert opened == []


def test_cli_binds_loopback_and_warns_for_another_host(monkeypatch):
    import reglab.playground.server as server
    calls = []
    monkeypatch.setattr(server, "serve", lambda data, **kw: calls.append(kw))
    quiet = CliRunner().invoke(main, ["playground", "--no-browser"])
    loud = CliRunner().invoke(main, ["playground", "--no-browser", "--host", "0.0.0.0", "--port", "9001"])
    assert quiet.exit_code == loud.exit_code == 0, (quiet.output, loud.output)
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8050 and calls[0]["open_browser"] is False
    assert "warning" not in quiet.output
    assert calls[1]["host"] == "0.0.0.0" and calls[1]["port"] == 9001
    assert "warning: --host 0.0.0.0 makes the playground reachable from other machines" in loud.output
