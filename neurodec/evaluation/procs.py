"""Worker processes, termination signals and temporary folders of a run.

Three guarantees for a benchmark that runs folds in worker processes:

- **SIGTERM (and SIGHUP) end a run as Ctrl-C does.** :func:`terminate_gracefully`
  turns the signal into :class:`~neurodec.errors.Terminated` in the main thread,
  so every ``with``/``finally`` runs: joblib kills its workers, the run's
  temporary folder is removed, the stored rows stay. Uncaught, the exception ends
  the process with status ``128 + signum`` (143 for SIGTERM), as a shell reports.
  Only signals whose handler is the default one are taken over (``nohup``'s
  ignored SIGHUP or a handler of the application are left alone).
- **Workers die with their parent**, even when the parent is killed with SIGKILL
  and runs no cleanup: :func:`watch_parent` (the worker initializer given to
  loky by :func:`neurodec.evaluation.backends.parallel_backend`) starts a daemon
  thread in each worker that polls its parent every :data:`PARENT_POLL_S` seconds
  and ends the worker once the parent is gone. Polling ``os.getppid()`` was
  chosen over ``prctl(PR_SET_PDEATHSIG)``: the death signal fires when the
  *thread* that spawned the worker exits (loky spawns from whichever thread
  submits or from its manager thread), it is Linux-only, and it needs the same
  ``getppid`` check anyway for a parent that died before the call. Once the
  workers are gone, loky's resource tracker sees its last pipe close and exits
  (removing joblib's own memmap folders).
- **Temporary folders are owned.** :func:`run_tempdir` names its folder
  ``neurodec-eval-<host>-<pid>-<random>`` (``<host>``: the host name and, on
  Linux, the pid namespace) and, before creating it, removes the folders of this
  host whose owner process is dead (left by a SIGKILL or a power cut); a folder
  of a live process, of another host or container sharing the temporary
  directory, or without an owner in its name, is never touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from neurodec.errors import Terminated

__all__ = [
    "PARENT_POLL_S",
    "TEMP_PREFIX",
    "terminate_gracefully",
    "watch_parent",
    "pid_alive",
    "run_tempdir",
    "clean_stale_tempdirs",
]

log = logging.getLogger(__name__)

#: seconds between two checks of a worker's parent
PARENT_POLL_S = 0.5
#: exit status of a worker whose parent died
EXIT_PARENT_DIED = 75
#: name prefix of the run folders
TEMP_PREFIX = "neurodec-eval-"
#: the signals handled as Ctrl-C
TERMINATION_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


# --------------------------------------------------------------------------- signals
class _Handler:
    """Raises :class:`Terminated` once; later signals arrive during the cleanup
    the first one started and are ignored so they cannot interrupt it."""

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, signum: int, frame) -> None:
        if self.fired:
            return
        self.fired = True
        log.info("received %s: stopping; the results stored so far are kept", signal.Signals(signum).name)
        raise Terminated(signum)


@contextlib.contextmanager
def terminate_gracefully(signals: tuple[int, ...] = TERMINATION_SIGNALS) -> Iterator[None]:
    """Handle ``signals`` (default SIGTERM, SIGHUP) like Ctrl-C inside the block.

    The first signal raises :class:`~neurodec.errors.Terminated` in the main
    thread. Handlers other than the default one are kept, and outside the main
    thread (where Python cannot install handlers) this does nothing. The previous
    handlers are restored on exit; nested uses are harmless.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _Handler()
    previous = {}
    for sig in signals:
        current = signal.getsignal(sig)
        if current is signal.SIG_DFL:
            previous[sig] = current
            signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# --------------------------------------------------------------------------- workers
def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a zombie counts as alive)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - os.kill would terminate the process on Windows
        try:
            import psutil
        except ImportError:
            return True
        return psutil.pid_exists(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def watch_parent(parent_pid: int, interval: float = PARENT_POLL_S) -> threading.Thread:
    """Start a daemon thread that ends this process when ``parent_pid`` dies.

    Meant as a worker initializer (``initializer=watch_parent,
    initargs=(os.getpid(),)``). When the watching process is a direct child of
    ``parent_pid`` the check is ``os.getppid() != parent_pid`` (the child is
    re-parented when its parent dies, whatever the pid is reused for);
    otherwise the pid's existence is checked.
    """
    direct = os.getppid() == parent_pid

    def gone() -> bool:
        return os.getppid() != parent_pid if direct else not pid_alive(parent_pid)

    def run() -> None:
        while not gone():
            time.sleep(interval)
        # nothing can receive this worker's results any more: leave now, without cleanup
        # that could block on pipes or locks shared with the dead parent
        os._exit(EXIT_PARENT_DIED)

    thread = threading.Thread(target=run, name=f"neurodec-watch-{parent_pid}", daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- temp folders
def _host() -> str:
    """This host and, on Linux, this pid namespace: a pid means something only within
    both (containers may share a temporary directory, and even a host name)."""
    name = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"
    try:
        name += f"_ns{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:  # not Linux
        pass
    return name


def _owner(name: str) -> tuple[str, int] | None:
    """``(host, pid)`` of a run folder name, ``None`` for other names."""
    if not name.startswith(TEMP_PREFIX):
        return None
    parts = name[len(TEMP_PREFIX) :].rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def clean_stale_tempdirs(root: str | os.PathLike | None = None) -> list[Path]:
    """Remove the run folders in ``root`` (default: the temporary directory)
    whose owner process on this host is dead; return the removed paths."""
    root = Path(root if root is not None else tempfile.gettempdir())
    host = _host()
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for path in entries:
        owner = _owner(path.name)
        if owner is None or owner[0] != host or pid_alive(owner[1]) or not path.is_dir():
            continue
        shutil.rmtree(path, ignore_errors=True)  # another run may be removing it too
        if not path.exists():
            removed.append(path)
            log.info("removed %s, left by process %d which is gone", path, owner[1])
    return removed


@contextlib.contextmanager
def run_tempdir() -> Iterator[str]:
    """A temporary folder owned by this process, removed on exit; stale folders
    of dead processes are removed first (:func:`clean_stale_tempdirs`)."""
    clean_stale_tempdirs()
    with tempfile.TemporaryDirectory(
        prefix=f"{TEMP_PREFIX}{_host()}-{os.getpid()}-", ignore_cleanup_errors=True
    ) as tmp:
        yield tmp
