"""The playground's web server: Starlette on uvicorn, one WebSocket per page.

Routes: ``/`` (the page), ``/static/...`` (its script and style, shipped in the
package), ``/api/options`` (data sets, choices, limits, presets),
``/api/upload`` (a 2-D CSV as the request body, read by
:func:`reglab.data.load_file`) and ``/ws`` (the page's training). Each WebSocket
owns one :class:`~reglab.playground.session.PageSession` and one loop: while
playing it advances every column, then sends a frame (step, figures, boundary,
hidden units, histogram), at most :data:`FPS` frames a second; closing the page
ends the loop. Every bad request is answered with a message, never a crash.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect
from threadpoolctl import threadpool_limits

from .._validation import InputError, ReglabError
from ..data import load_file
from ..nn.activations import ACTIVATIONS
from ..nn.initializers import INITIALIZERS
from .config import (GENERATED, MAX_COLUMNS, MAX_HIDDEN_LAYERS, MAX_SAMPLES, MAX_WIDTH, DataSource,
                     fixed_split)
from .presets import presets
from .session import PageSession, dumps

STATIC = Path(__file__).parent / "static"
FPS = 20  # frames a second at most while training
FRAME_BUDGET = 0.04  # seconds of training per frame at most, so that frames keep coming (>= 10 a second)
MIN_FPS = 12  # a frame's training shrinks (down to 5 ms) when whole frames take longer than 1/MIN_FPS
MAX_UPLOAD = 1 << 20  # bytes
MAX_UPLOADS = 20  # kept at once; the oldest is forgotten first
MAX_STEPS_PER_FRAME = 1000
ACK_WAIT = 1.0  # seconds a frame waits for the page's acknowledgement of the last one, at most


class Page:
    """One WebSocket's state: its session, whether it plays, how fast."""

    def __init__(self):
        self.session: PageSession | None = None
        self.playing = False
        self.steps = 10
        self.budget = FRAME_BUDGET  # seconds of training in the next frame
        self.acks = False  # the page says when it has drawn a frame (the browser page does)
        self.drawing = False  # a frame is sent and not yet acknowledged
        self.sent_at: float | None = None  # when the last frame of this play went out

    def sent(self) -> None:
        """Steer the training budget so that a whole cycle (training, pictures, sending, the
        page drawing) takes about 1/MIN_FPS: a loaded machine keeps the updates coming and
        trains fewer steps between them."""
        now = time.perf_counter()
        if self.sent_at is not None:
            self.budget = min(FRAME_BUDGET, max(0.005, self.budget + 0.5 * (1 / MIN_FPS - (now - self.sent_at))))
        self.sent_at, self.drawing = now, self.acks


def _error(message: str) -> dict:
    return {"type": "error", "message": message}


def _advance_for(session: PageSession, steps: int, budget: float) -> None:
    """Up to ``steps`` steps (at least one) within about ``budget`` seconds.

    One step first, then chunks sized by the time the steps took: a fixed chunk of ten steps
    of four wide columns alone outlasted a loaded machine's budget."""
    start, done = time.perf_counter(), 0
    while done < steps and session.running:
        elapsed = time.perf_counter() - start
        if done and elapsed >= budget:
            break
        # half the time left at the rate so far: a load spike mid-chunk overshoots by little
        n = 1 if not done else max(1, int(0.5 * (budget - elapsed) / (elapsed / done)))
        n = min(n, steps - done)
        session.advance(n)
        done += n


class Playground:
    """The server's shared state: the ``--data`` file and the uploads."""

    def __init__(self, data_file: Path | None = None):
        self.sources: dict[str, DataSource] = {}
        if data_file is not None:
            self.sources["file"] = DataSource(Path(data_file).resolve(), Path(data_file).name)
        self._uploads = tempfile.TemporaryDirectory(prefix="reglab-playground-")
        self._ids = itertools.count(1)
        self.active = 0  # training loops running (one per open page)

    def close(self) -> None:
        self._uploads.cleanup()

    # -- HTTP -------------------------------------------------------------------------------
    async def index(self, request: Request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def options(self, request: Request):
        file = self.sources.get("file")
        return JSONResponse({
            "datasets": list(GENERATED), "file": None if file is None else file.label,
            # data sets with their own test set: the page offers reglab's rule only, as `--split` does
            "fixed_split": ["circles_course"] + (["file"] if file and fixed_split("file", self.sources) else []),
            "activations": sorted(ACTIVATIONS), "inits": sorted(INITIALIZERS),
            "limits": {"samples": MAX_SAMPLES, "hidden_layers": MAX_HIDDEN_LAYERS, "width": MAX_WIDTH,
                       "columns": MAX_COLUMNS, "upload_bytes": MAX_UPLOAD},
            "presets": presets(file is not None)})

    async def upload(self, request: Request):
        """A CSV in the body (``X-Filename`` names it): validated by reglab's CSV loader."""
        name = request.headers.get("x-filename", "upload.csv")
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).name)[:80] or "upload.csv"
        if not stem.lower().endswith(".csv"):
            return JSONResponse({"error": f"upload a .csv file (a header row, two numeric feature "
                                          f"columns, the label last), got {name!r}"}, status_code=400)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD:
            return JSONResponse({"error": f"{name} is {int(declared)} bytes; the playground takes "
                                          f"files up to {MAX_UPLOAD} bytes"}, status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_UPLOAD:
                return JSONResponse({"error": f"{name} is larger than {MAX_UPLOAD} bytes, the most "
                                              f"the playground takes"}, status_code=413)
        upload_id = f"upload:{next(self._ids)}"
        folder = Path(self._uploads.name) / upload_id.split(":")[1]
        folder.mkdir()
        path = folder / stem
        path.write_bytes(body)
        try:
            data = await asyncio.to_thread(load_file, path)
            if data.n_features != 2:
                raise ReglabError(f"{name} has {data.n_features} feature columns; the playground "
                                  f"draws 2-D data: two feature columns and a label column")
        except (ReglabError, ValueError, TypeError, UnicodeDecodeError) as exc:
            path.unlink()
            folder.rmdir()
            reason = str(exc).replace(str(path), name)  # the page need not see the server's folders
            return JSONResponse({"error": f"{name} cannot be used: {reason}"}, status_code=400)
        uploads = [k for k in self.sources if k.startswith("upload:")]
        for old in uploads[:max(0, len(uploads) - MAX_UPLOADS + 1)]:
            del self.sources[old]
        self.sources[upload_id] = DataSource(path, stem)
        return JSONResponse({"id": upload_id, "name": stem, "summary": data.summary()})

    # -- the page's WebSocket ---------------------------------------------------------------
    async def websocket(self, ws: WebSocket):
        origin = ws.headers.get("origin")
        if origin and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=1008)  # another site's page may not drive this server
            return
        await ws.accept()
        inbox: asyncio.Queue = asyncio.Queue()

        async def read():
            try:
                while True:
                    await inbox.put(await ws.receive_text())
            except (WebSocketDisconnect, RuntimeError):
                await inbox.put(None)

        reader = asyncio.create_task(read())
        page = Page()
        self.active += 1
        try:
            while True:
                if page.playing and page.session is not None and page.session.running:
                    start = time.perf_counter()
                    while not inbox.empty():
                        if not await self._handle(ws, page, inbox.get_nowait()):
                            return
                    if not page.playing or page.session is None:
                        continue
                    session = page.session
                    await asyncio.to_thread(_advance_for, session, page.steps, page.budget)
                    # Never more frames than the page can draw (no backlog, no lag): the next
                    # frame's steps were trained while the page drew the last one; now wait for it.
                    deadline = time.perf_counter() + ACK_WAIT
                    while page.drawing and page.playing and page.session is session:
                        try:
                            text = await asyncio.wait_for(inbox.get(), max(0.0, deadline - time.perf_counter()))
                        except asyncio.TimeoutError:
                            page.drawing = False
                            break
                        if not await self._handle(ws, page, text):
                            return
                    if not page.playing or page.session is not session:
                        continue
                    await ws.send_text(await asyncio.to_thread(lambda: dumps(session.state())))
                    page.sent()
                    if not session.running:
                        page.playing = False
                    await asyncio.sleep(max(0.0, 1 / FPS - (time.perf_counter() - start)))
                else:
                    page.playing, page.drawing, page.sent_at = False, False, None
                    if not await self._handle(ws, page, await inbox.get()):
                        return
        except (WebSocketDisconnect, OSError):
            return  # the page went away while a frame was being sent
        finally:
            self.active -= 1
            reader.cancel()

    async def _handle(self, ws: WebSocket, page: Page, text: str | None) -> bool:
        """Act on one message; False when the page has gone."""
        if text is None:
            return False
        try:
            try:
                message = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"a message must be JSON, got {text[:40]!r} ({exc})") from None
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                raise ValueError("a message must be a JSON object with a 'type'")
            reply = await self._reply(page, message)
        except (ReglabError, ValueError, TypeError) as exc:
            reply = [_error(str(exc))]
        for item in reply:
            await ws.send_text(item if isinstance(item, str) else dumps(item))
        return True

    async def _reply(self, page: Page, message: dict) -> list:
        kind = message["type"]
        if kind == "configure":
            page.session = await asyncio.to_thread(PageSession, message.get("config"), self.sources)
            page.playing = False
            return [page.session.data_message(), page.session.state()]
        if kind == "ack":  # the page has drawn a frame: the next may go
            page.acks, page.drawing = True, False
            return []
        if kind == "speed":
            steps = message.get("steps")
            if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS_PER_FRAME:
                raise ValueError(f"steps must be an integer in [1, {MAX_STEPS_PER_FRAME}], got {steps!r}")
            page.steps = steps
            return []
        session = page.session
        if session is None:
            raise ValueError(f"send a 'configure' message before {kind!r}")
        column = message.get("column", 0)
        if kind == "play":
            page.playing = session.running
            return [] if page.playing else [_error("training has stopped; press reset to start again")]
        if kind == "pause":
            page.playing = False
            return [session.state()]
        if kind == "step":
            n = message.get("n", 1)
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10_000:
                raise ValueError(f"n must be an integer in [1, 10000], got {n!r}")
            await asyncio.to_thread(session.advance, n)
            return [session.state()]
        if kind == "reset":
            session.reset()
            page.playing = False
            return [session.state()]
        if kind == "update":
            changes = message.get("changes")
            if not isinstance(changes, dict):
                raise ValueError(f"changes must be a JSON object, got {changes!r}")
            session.update(column, changes)
            return [{"type": "updated", "column": column, "config": session.cfg}]
        if kind == "export":
            return [session.export(column)]
        if kind == "model":
            data = await asyncio.to_thread(session.model_file, column)
            step = session.trainers[column].step
            return [{"type": "model", "column": column, "filename": f"reglab-playground-step{step}.npz",
                     "base64": base64.b64encode(data).decode()}]
        if kind == "gradcheck":
            return [await asyncio.to_thread(session.gradcheck, column)]
        raise ValueError(f"unknown message type {kind!r}; known: configure, play, pause, step, reset, "
                         f"update, speed, export, model, gradcheck, ack")


def create_app(data_file=None) -> Starlette:
    """The playground's Starlette application (``data_file``: the ``--data`` file, if any)."""
    playground = Playground(data_file)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # One BLAS thread: the playground's matrices are small, and BLAS threads that
        # spin against each other (and against other programs on the cores) made frames
        # 4 times slower on a loaded 2-core machine.
        limits = threadpool_limits(1)
        try:
            yield
        finally:
            limits.restore_original_limits()
            playground.close()  # the uploads' folder goes with the server

    app = Starlette(routes=[
        Route("/", playground.index),
        Route("/api/options", playground.options),
        Route("/api/upload", playground.upload, methods=["POST"]),
        WebSocketRoute("/ws", playground.websocket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], lifespan=lifespan)
    app.state.playground = playground
    return app


def serve(data_file=None, *, host: str = "127.0.0.1", port: int = 8050, open_browser: bool = True,
          log=print) -> None:
    """Run the playground until Ctrl-C."""
    import threading
    import webbrowser

    import uvicorn

    # Bind before saying where the page is: on a busy port uvicorn would log the error and
    # exit 3 itself, after the browser had been sent to whatever listens there.
    try:
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise InputError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}); "
                         f"another program may hold the port: choose another with --port") from None
    with sock:
        app = create_app(data_file)
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
        log(f"reglab playground at {url} (Ctrl-C stops it)")
        if open_browser:
            threading.Timer(1.0, webbrowser.open, args=(url,)).start()
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
