"""Runs on a Dask cluster instead of this machine's processes (``--scheduler``).

:func:`run_on_cluster` is what :func:`~reglab.experiments.runner.run_all` does
with ``scheduler=``: the data go to every worker once (``scatter(broadcast=True)``),
the runs go as chunks of :func:`~reglab.experiments.runner.group_specs` groups
(so the engine's many-runs path steps a chunk together) to
:func:`~reglab.experiments.runner.execute_many` on the workers, and the records
come back as they finish. Only this process calls ``on_done`` (which appends
``runs.jsonl``): the folder lock, ``--resume`` and every-run-once hold as they do
locally.

Faults: a worker that dies has its chunk run again elsewhere (the scheduler
reschedules the tasks of a lost worker; ``retries=`` re-runs a chunk whose task
raised), and a run key seen once is never handed to ``on_done`` again; a lost
scheduler ends the batch with a :class:`ClusterError` naming what was kept;
Ctrl-C or SIGTERM returns what finished, as locally. Workers whose Python,
NumPy, reglab or numba differ from this process's are refused before any run starts.

Dask is imported here only, and this module only when ``scheduler=`` is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import platform
import signal
import socket
from concurrent.futures import CancelledError
from pathlib import Path

from .._validation import InputError, ReglabError
from . import runner

#: Seconds to wait for the scheduler to answer before giving up (a wrong address).
CONNECT_TIMEOUT = 10.0
#: Seconds to wait for a first worker when the scheduler has none yet (workers of a batch
#: queue may start after the scheduler).
WORKER_WAIT = 60.0
#: How often a chunk whose task raised is run again (a worker lost mid-task is rescheduled
#: by the scheduler itself, up to its ``distributed.scheduler.allowed-failures``).
RETRIES = 2
#: Chunks per worker thread: more than one keeps every worker busy while the last ones run.
CHUNKS_PER_THREAD = 2


class ClusterError(ReglabError):
    """The cluster could not be reached, lost, or refused (versions, dead workers)."""


def versions() -> dict:
    """What must match between the client and every worker for identical numbers."""
    from importlib.metadata import version

    import numpy

    try:
        reglab_version = version("reglab")
    except Exception:  # noqa: BLE001 - a source tree without installed metadata
        reglab_version = "unknown (not installed)"
    try:  # engine "auto" is the numba engine where numba is installed, the reference elsewhere
        numba_version = version("numba")
    except Exception:  # noqa: BLE001
        numba_version = "not installed"
    return {"Python": ".".join(platform.python_version_tuple()[:2]), "NumPy": numpy.__version__,
            "reglab": reglab_version, "numba": numba_version}


def _describe(found: dict, keys) -> str:
    return " and ".join(f"{k} {found.get(k, 'unknown')}" for k in keys)


def _worker_versions(client) -> dict:
    """``{worker address: versions()}`` as each worker reports them."""
    return client.run(versions)


def check_versions(client) -> None:
    """Refuse (ClusterError naming both) a worker whose :func:`versions` differ from ours."""
    mine = versions()
    for address, theirs in sorted(_worker_versions(client).items()):
        differ = [k for k in mine if theirs.get(k) != mine[k]]
        if differ:
            raise ClusterError(
                f"the Dask worker {address} has {_describe(theirs, differ)}, this client has "
                f"{_describe(mine, differ)}; install the same versions on the workers (the numbers "
                f"of a run depend on them), nothing was run")


def _is_address(text: str) -> bool:
    if "://" in text:
        return True
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit()


def _read_scheduler_file(path: Path) -> str:
    try:
        address = json.loads(path.read_text())["address"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a Dask scheduler file (JSON with an \"address\", as "
                         f"`dask scheduler --scheduler-file` writes; {type(exc).__name__}: {exc})") from None
    if not isinstance(address, str):
        raise InputError(f"{path} is not a Dask scheduler file: its address is {address!r}")
    return address


def _probe(address: str, where: str, timeout: float) -> None:
    """Refuse quickly an address where nothing listens (a TCP connection, for tcp:// only)."""
    protocol, _, rest = address.rpartition("://")
    if protocol not in ("", "tcp"):
        return  # tls://, ucx://...: the Client's own timeout applies
    host, _, port = rest.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        raise ClusterError(f"cannot reach {where} ({exc}); is `dask scheduler` running "
                           f"there?") from None


def connect(scheduler, *, timeout: float = CONNECT_TIMEOUT, worker_wait: float = WORKER_WAIT):
    """A ``distributed.Client`` of ``scheduler``, with at least one worker whose versions match.

    Parameters
    ----------
    scheduler : str or path, ``tcp://host:port`` (``host:port``) or the path of a
        scheduler file (``dask scheduler --scheduler-file``, read for its address)
    timeout : seconds to reach the scheduler before a :class:`ClusterError`
    worker_wait : seconds to wait for a first worker before a :class:`ClusterError`
    """
    if not isinstance(scheduler, (str, Path)) or not str(scheduler).strip():
        raise InputError(f"scheduler must be an address (tcp://host:8786) or a scheduler file, "
                         f"got {scheduler!r}")
    try:
        from distributed import Client
    except ImportError:
        raise InputError("running on a Dask cluster needs dask.distributed, which is not installed: "
                         "pip install 'reglab[distributed]'") from None
    text = str(scheduler).strip()
    if Path(text).is_file():
        address, where = _read_scheduler_file(Path(text)), f"the scheduler of {text}"
    elif _is_address(text):
        address, where = text, "the Dask scheduler"
    else:
        raise InputError(f"scheduler {text!r} is neither an address (tcp://host:8786) nor an "
                         f"existing scheduler file")
    where = f"{where} at {address}"
    _probe(address, where, timeout)  # a wrong address fails here, before a Client exists
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach {where} within {timeout:g} s ({exc}); is `dask scheduler` "
                           f"running there?") from None
    try:
        ready(client, worker_wait)
    except BaseException:
        close(client)
        raise
    return client


def ready(client, worker_wait: float = WORKER_WAIT) -> None:
    """Wait up to ``worker_wait`` seconds for a first worker, then :func:`check_versions`."""
    try:
        client.wait_for_workers(1, timeout=worker_wait)
    except TimeoutError:
        address = client.scheduler.address
        raise ClusterError(f"the Dask scheduler at {address} has no worker (waited {worker_wait:g} s); "
                           f"start some with `dask worker {address} --nthreads 1`") from None
    check_versions(client)


def close(client) -> None:
    """Close ``client`` without hanging on a scheduler that is gone."""
    with contextlib.suppress(Exception):
        client.close(timeout=5)


def describe(client) -> str:
    """``"2 worker(s), 2 thread(s); dashboard http://..."`` (no dashboard when it has none)."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    text = f"{client.scheduler.address}: {len(workers)} worker(s), {threads} thread(s)"
    if "dashboard" in info.get("services", {}):
        text += f"; dashboard {client.dashboard_link}"
    return text


def chunks(specs, base, threads: int) -> list[list]:
    """The local pool's work units (:func:`runner.work_units`: groups dealt round-robin,
    at most ``runner.MAX_TOGETHER`` runs each) for :data:`CHUNKS_PER_THREAD` chunks per
    worker thread (when there are that many runs)."""
    return runner.work_units(specs, base, CHUNKS_PER_THREAD * threads)


def _work(chunk, data, base, client_versions):
    """The task: one chunk through :func:`runner.execute_many`, one BLAS thread (a worker's
    threads share its cores). A worker that joined later with other versions refuses."""
    mine = versions()
    if mine != client_versions:
        return ("versions", mine)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return runner.execute_many(chunk, data, base)


def _outcome_key(outcome) -> str:
    return outcome[0].key if isinstance(outcome, tuple) else outcome.key


def run_on_cluster(specs, data, base, scheduler, *, on_done) -> None:
    """Run every spec on the Dask cluster ``scheduler``; ``on_done(outcome)`` in this process
    for each finished run (a RunRecord or ``(spec, message)``, as from ``execute_many``), once.

    Parameters
    ----------
    specs : list of RunSpec
    data : Dataset, scattered to every worker once
    base : TrainConfig
    scheduler : a ``distributed.Client`` (left open), or an address / scheduler file
        (see :func:`connect`; closed at the end)
    on_done : callable ``(outcome) -> None``

    Ctrl-C (or SIGTERM, see :func:`runner.interrupted_by`) cancels the rest and returns.
    A lost scheduler or a chunk that keeps killing its workers raises :class:`ClusterError`
    after every run finished before it was handed to ``on_done``.
    """
    if not specs:
        return
    own = not hasattr(scheduler, "submit")
    client = connect(scheduler) if own else scheduler
    from distributed import as_completed

    seen: set[str] = set()
    futures = []
    try:
        if not own:
            ready(client)
        threads = sum(client.nthreads().values())
        data_future = client.scatter(data, broadcast=True, hash=False)
        futures = [client.submit(_work, chunk, data_future, base, versions(), retries=RETRIES,
                                 pure=False) for chunk in chunks(specs, base, threads)]
        def record(outcome):
            key = _outcome_key(outcome)
            if key not in seen:  # a chunk run twice (retried) is logged once
                seen.add(key)
                on_done(outcome)

        for future in as_completed(futures, loop=client.loop):
            # A bug in a run, after its retries: what its chunk finished is kept.
            runner.record_unit(lambda: _result(future, client, len(seen), len(specs)),  # noqa: B023
                               record)
    except KeyboardInterrupt:
        runner._interrupted_by = runner._interrupted_by or signal.SIGINT
    finally:
        with contextlib.suppress(Exception):
            client.cancel(futures)
        if own:
            close(client)


def _result(future, client, n_done: int, n_total: int) -> list:
    from distributed import KilledWorker
    from distributed.comm import CommClosedError

    kept = (f"the {n_done} of {n_total} run(s) that finished are kept (reglab sweep --resume runs "
            f"the rest)")
    if future.status == "cancelled" or client.status not in ("running", "connecting"):
        raise ClusterError(f"lost the connection to the Dask scheduler "
                           f"{getattr(client.scheduler, 'address', '')}; {kept}")
    try:
        outcome = future.result()
    except KilledWorker as exc:
        raise ClusterError(f"the workers running some runs kept dying (killed, or out of memory; "
                           f"{exc}); {kept}") from None
    except (CancelledError, asyncio.CancelledError, CommClosedError):  # the scheduler went away
        raise ClusterError(f"lost the connection to the Dask scheduler; {kept}") from None
    if isinstance(outcome, tuple) and outcome and outcome[0] == "versions":
        mine = versions()
        differ = [k for k in mine if outcome[1].get(k) != mine[k]]
        raise ClusterError(f"a Dask worker that joined later has {_describe(outcome[1], differ)}, "
                           f"this client has {_describe(mine, differ)}; {kept}")
    return outcome
