"""``--scheduler ADDRESS``: ``reglab sweep`` and ``reglab compare`` on a Dask cluster.

Dask is imported only when the option is given (:mod:`reglab.experiments.distributed`).
"""

from __future__ import annotations

import logging

import click
from click.core import ParameterSource

from .common import CommandError, console

scheduler_option = click.option(
    "--scheduler", metavar="ADDRESS", default=None,
    help="Run on a Dask cluster: its scheduler's address (tcp://host:8786) or scheduler file; "
         "this machine writes the results (see docs/distributed.md).")


def open_cluster(scheduler):
    """None without ``--scheduler``; else a connected ``distributed.Client`` (versions checked),
    closed when the command ends, with its workers and dashboard printed."""
    if scheduler is None:
        return None
    ctx = click.get_current_context()
    if ctx.get_parameter_source("jobs") in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
        raise CommandError("--jobs sets this machine's worker processes; with --scheduler the "
                           "cluster's workers run the runs (one at a time per worker thread), so "
                           "--jobs cannot be combined with it")
    from ..experiments.distributed import close, connect, describe

    _quiet_dask()
    client = connect(scheduler)
    ctx.call_on_close(lambda: close(client))
    console.print(f"on the Dask cluster {describe(client)}", soft_wrap=True)  # a link stays whole
    return client


def _quiet_dask() -> None:
    """Dask logs each lost connection and reconnection attempt with a traceback; the command's
    own ``Error:`` line says what happened. Its loggers set their own levels (Dask's logging
    config), so each is quietened, once Dask has created them."""
    try:
        import distributed  # noqa: F401 - creates Dask's loggers
    except ImportError:
        return  # connect() says how to install it
    for name in list(logging.root.manager.loggerDict):
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)
