"""Worker processes, signals and temporary folders: nothing outlives a stopped run.

The subprocess tests run ``_bench_proc.py`` (a small SimulatedMI benchmark with a
slow classifier, ``n_jobs=2``), wait for its loky workers, signal it, and find
every process of the run by a marker in its environment (workers inherit it), so
a worker spawned after the signal would be found too. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from neurodec.errors import Terminated
from neurodec.evaluation import ResultsStore, WithinSessionEvaluation
from neurodec.evaluation.procs import (
    TEMP_PREFIX,
    _host,
    clean_stale_tempdirs,
    pid_alive,
    terminate_gracefully,
)

psutil = pytest.importorskip("psutil")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _run_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(TEMP_PREFIX))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


# --------------------------------------------------------------------------- in-process
def test_sigterm_raises_terminated_once_and_restores_the_handler():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with pytest.raises(Terminated) as info:
        with terminate_gracefully():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted by the handler
    assert info.value.code == 143 and info.value.signum == signal.SIGTERM
    assert str(info.value) == "terminated by SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    # a second signal during the cleanup the first one started does not interrupt it
    with pytest.raises(Terminated):
        with terminate_gracefully():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            finally:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                cleaned = True
    assert cleaned


def test_a_handler_set_by_the_application_is_left_alone():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
    try:
        with terminate_gracefully():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_stale_temp_folders_of_dead_processes_are_removed_on_the_next_run(
    fake_dataset, paradigm, pipelines, tmp_path, monkeypatch
):
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        host = _host()
        dead = root / f"{TEMP_PREFIX}{host}-{_dead_pid()}-abc_123"
        alive = root / f"{TEMP_PREFIX}{host}-{live.pid}-def_456"
        other_host = root / f"{TEMP_PREFIX}elsewhere-{_dead_pid()}-ghi_789"
        unowned = root / f"{TEMP_PREFIX}kyspeico"  # older name without owner: left alone
        for d in (dead, alive, other_host, unowned):
            d.mkdir()
            (d / "feat0.npy").write_bytes(b"x" * 100)
        WithinSessionEvaluation(paradigm, [fake_dataset], random_state=1, progress=False).process(
            {"MDM": pipelines["MDM"]}
        )
        assert not dead.exists()
        assert alive.exists() and other_host.exists() and unowned.exists()
        assert _run_dirs(root) == sorted([alive.name, other_host.name, unowned.name])
    finally:
        live.kill()
        live.wait(timeout=60)
    assert clean_stale_tempdirs(root) == [alive]  # its owner is gone now
    assert not pid_alive(_dead_pid()) and pid_alive(os.getpid())


def test_cli_sigterm_mid_run_one_line_exit_143_rows_kept(tmp_path, monkeypatch, capsys):
    from moabb.datasets.fake import FakeDataset

    import neurodec.evaluation.benchmark as bench
    from neurodec.cli import main

    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    ds = FakeDataset(
        ["left_hand", "right_hand"], n_subjects=2, n_sessions=1, n_runs=1, duration=30, n_events=30, seed=3
    )
    monkeypatch.setattr(bench, "load_datasets", lambda *a, **k: [ds])
    real_add = ResultsStore.add
    calls = []

    def add_then_terminate(self, rows):
        n = real_add(self, rows)
        calls.append(n)
        if len(calls) == 3:
            # without a handler SIGTERM would end the test process: fail instead
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL, "SIGTERM not handled in a run"
            assert _run_dirs(root), "the run has a temporary folder"
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        return n

    monkeypatch.setattr(ResultsStore, "add", add_then_terminate)
    out = tmp_path / "res"
    pipes = HERE / "pipelines_moabb" / "TS_LR.yml"
    args = ["benchmark", "--pipelines", str(pipes), "--datasets", "FakeMI", "--results", str(out)]
    assert main(args) == 143
    err = capsys.readouterr().err.strip().splitlines()  # the progress bar, closed, then one line
    assert [line for line in err if "fold/s]" not in line] == [
        "terminated by SIGTERM: results stored so far are kept; run the same command again to resume"
    ]
    assert len(ResultsStore(out)) == sum(calls) == 3  # one row per within-session task
    assert _run_dirs(root) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    monkeypatch.setattr(ResultsStore, "add", real_add)
    assert main(args) == 0  # resumes
    assert len(ResultsStore(out)) == 2 * 5


# loads procs.py alone (not the neurodec.evaluation package, which takes seconds to import)
WATCHER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("procs", {path!r})
procs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(procs)
procs.watch_parent({pid}, 0.05)
print("watching", flush=True)
time.sleep(60)
"""

PARENT = """
import os, subprocess, sys, time
code = {watcher!r}.replace("PARENT_PID", str(os.getpid()))
child = subprocess.Popen([sys.executable, "-c", code])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_watch_parent_ends_a_process_whose_parent_died():
    path = str(REPO / "neurodec" / "evaluation" / "procs.py")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # a direct child: its parent is SIGKILLed, it is re-parented, it leaves
    watcher = WATCHER.format(path=path, pid="PARENT_PID")
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(watcher=watcher)], env=env, stdout=subprocess.PIPE, text=True
    )
    child = None
    try:
        child = psutil.Process(int(parent.stdout.readline()))
        time.sleep(1.0)
        assert child.is_running() and child.status() != psutil.STATUS_ZOMBIE  # parent alive: it stays
        parent.kill()
        parent.wait(timeout=60)
        psutil.wait_procs([child], timeout=10)
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    finally:
        parent.kill()
        with contextlib.suppress(psutil.Error, AttributeError):
            child.kill()
    # not a child of the watched process: the pid's existence is checked
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER.format(path=path, pid=other.pid)], env=env, stdout=subprocess.PIPE
    )
    try:
        assert watcher.stdout.readline().strip() == b"watching"
        time.sleep(0.5)
        assert watcher.poll() is None
        other.kill()
        other.wait(timeout=60)  # reaped: the pid is gone
        assert watcher.wait(timeout=10) == 75
    finally:
        other.kill()
        watcher.kill()
        watcher.wait(timeout=60)


# --------------------------------------------------------------------------- subprocess
def _marked(mark: str) -> list:
    """Every live process whose environment carries ``mark``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("NEURODEC_TEST_RUN") == mark and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _rows(db: Path) -> int:
    try:
        with sqlite3.connect(db) as con:
            return int(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return 0


def _start_and_wait_for_workers(tmp_path: Path, delay: float = 1.0):
    """Start the benchmark with 2 workers; return once >= 2 rows are stored and the
    workers are alive."""
    mark = uuid.uuid4().hex
    (tmp_path / "tmp").mkdir()
    env = dict(
        os.environ,
        TMPDIR=str(tmp_path / "tmp"),
        NEURODEC_TEST_RUN=mark,
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        PYTHONWARNINGS="ignore",
    )
    log = open(tmp_path / "out.txt", "w")  # noqa: SIM115 - closed by the caller's process end
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_bench_proc.py"), str(tmp_path / "res"), "2", str(delay)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    db = tmp_path / "res" / "results.sqlite"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        workers = [p for p in _marked(mark) if p.pid != proc.pid and "loky" in " ".join(p.cmdline())]
        if len(workers) >= 2 and _rows(db) >= 2:
            return proc, mark, db
        time.sleep(0.1)
    proc.kill()
    proc.wait(timeout=60)
    raise AssertionError(f"no workers and rows in time: {(tmp_path / 'out.txt').read_text()[-2000:]}")


def _wait_gone(mark: str, timeout: float) -> list:
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = _marked(mark)
        if not left:
            return []
        time.sleep(0.1)
    return _marked(mark)


def _kill_all(mark: str) -> None:
    for proc in _marked(mark):
        try:
            proc.kill()
        except psutil.Error:
            pass


@pytest.mark.slow
def test_sigterm_with_two_workers_leaves_nothing_behind_and_keeps_rows(tmp_path):
    proc, mark, db = _start_and_wait_for_workers(tmp_path)
    try:
        before = _rows(db)
        assert len(_run_dirs(tmp_path / "tmp")) == 1
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert proc.returncode == 143, (tmp_path / "out.txt").read_text()[-2000:]
        assert _wait_gone(mark, 10) == []  # workers and resource trackers
        assert _run_dirs(tmp_path / "tmp") == []
        rows = ResultsStore(db).to_frame()
        assert len(rows) >= before and not rows.duplicated(["subject", "session", "fold"]).any()
    finally:
        if proc.poll() is None:
            proc.kill()
        _kill_all(mark)


@pytest.mark.slow
def test_sigkill_workers_exit_with_their_parent(tmp_path):
    proc, mark, db = _start_and_wait_for_workers(tmp_path)
    try:
        before = _rows(db)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        # each worker polls its parent every 0.5 s; loky's resource tracker follows
        assert _wait_gone(mark, 15) == []
        assert _rows(db) == before
        left = _run_dirs(tmp_path / "tmp")
        assert len(left) == 1 and f"-{proc.pid}-" in left[0]  # no cleanup on SIGKILL...
        assert [p.name for p in clean_stale_tempdirs(tmp_path / "tmp")] == left  # ...done next time
    finally:
        if proc.poll() is None:
            proc.kill()
        _kill_all(mark)
