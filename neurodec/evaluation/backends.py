"""Where the folds run: joblib locally, or a Dask cluster through joblib.

No scheduler of our own: tasks go through :class:`joblib.Parallel`, whose
backend is ``loky`` (processes, default), ``threading``, ``sequential``, or
``dask`` (``distributed``'s joblib backend; give a scheduler address or a
``distributed.Client``, else a local cluster of ``n_jobs`` worker processes is
started for the run).

loky workers are started with :func:`neurodec.evaluation.procs.watch_parent`
as initializer, so they end on their own when this process dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from joblib import parallel_config

from neurodec.errors import InvalidInputError
from neurodec.evaluation.procs import watch_parent
from neurodec.extras import require

__all__ = ["BACKENDS", "parallel_backend"]

log = logging.getLogger(__name__)

BACKENDS = ("loky", "threading", "sequential", "dask")


@contextlib.contextmanager
def parallel_backend(
    backend: str = "loky", n_jobs: int = 1, scheduler: Any = None, scatter: list | None = None
) -> Iterator[int]:
    """Context in which :class:`joblib.Parallel` uses ``backend``.

    Parameters
    ----------
    backend : {"loky", "threading", "sequential", "dask"}
    n_jobs : int
        Local workers (``-1``: all cores); for ``dask`` without a scheduler,
        the number of worker processes of the local cluster.
    scheduler : str | distributed.Client | None
        Dask only: scheduler address (``"tcp://host:8786"``) or a client.
    scatter : list | None
        Dask only: large arguments shared by many tasks (the epochs, the shared
        features), sent to the workers once instead of with every task.

    Yields
    ------
    int
        The ``n_jobs`` to give :class:`joblib.Parallel`.
    """
    if backend not in BACKENDS:
        raise InvalidInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if scheduler is not None and backend != "dask":
        raise InvalidInputError("a scheduler address only applies to backend='dask'")
    if backend != "dask":
        if backend == "sequential" or n_jobs == 1:
            with parallel_config(backend="sequential"):
                yield 1
        else:
            # workers that outlive a killed parent hold memory for minutes (loky's idle timeout)
            extra = dict(initializer=watch_parent, initargs=(os.getpid(),)) if backend == "loky" else {}
            with parallel_config(backend=backend, n_jobs=n_jobs, **extra):
                yield n_jobs
        return
    distributed = require("distributed", "backend='dask'")
    with contextlib.ExitStack() as stack:
        if isinstance(scheduler, distributed.Client):
            client = scheduler
        elif scheduler is not None:
            try:
                client = stack.enter_context(distributed.Client(scheduler, timeout="20s"))
            except OSError as exc:
                raise InvalidInputError(
                    f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); check the address "
                    "(e.g. tcp://host:8786) and that the scheduler is running"
                ) from exc
        else:
            workers = max(1, n_jobs if n_jobs > 0 else 2)
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
        log.info("running folds on Dask scheduler %s", client.scheduler.address)
        with parallel_config(
            backend="dask", client=client, wait_for_workers_timeout=60, scatter=scatter or None
        ):
            yield -1
