"""``reglab playground``: serve the live training page (needs ``reglab[playground]``).

Starlette and uvicorn are imported only when the verb runs, so ``reglab --help``
and every other verb work without them.
"""

from __future__ import annotations

import click

from .common import CommandError, console, guarded

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option("--data", "data_file", type=click.Path(dir_okay=False), default=None,
              help="A 2-D data file the page may train on (e.g. the course's football.mat).")
@click.option("--port", type=int, default=8050, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this machine's loopback is reachable by others.")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
@guarded
def playground(data_file, port, host, no_browser):
    """Watch a small network train, live, in the browser."""
    if not 1 <= port <= 65535:
        raise CommandError(f"--port must be in [1, 65535], got {port}")
    try:
        from ..playground.server import serve
    except ImportError as exc:
        raise CommandError(f"reglab playground needs starlette and uvicorn ({exc.name} is missing): "
                           f"pip install 'reglab[playground]'") from None
    if data_file is not None:
        from ..data import load_file
        data = load_file(data_file)  # refused now, with the loader's message, not in the page
        if data.n_features != 2:
            raise CommandError(f"--data {data_file} has {data.n_features} features; the playground "
                               f"draws 2-D data")
    if host not in LOCAL_HOSTS:
        console.print(f"warning: --host {host} makes the playground reachable from other "
                      f"machines; it has no login, anyone who reaches it can use this machine's CPU",
                      style="yellow")
    serve(data_file, host=host, port=port, open_browser=not no_browser, log=console.print)
