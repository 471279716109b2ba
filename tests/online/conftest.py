"""Online tests: LSL traffic stays on this machine.

The loopback-only liblsl configuration must be in place before the first LSL
object of the process; it is applied when this folder's tests are collected and
again (no-op) by a session fixture every LSL test depends on.
"""

from __future__ import annotations

import importlib.util
import uuid

import pytest

HAS_LSL = importlib.util.find_spec("mne_lsl") is not None

if HAS_LSL:
    from neurodec.online.lsl import lsl_loopback_only

    lsl_loopback_only()


@pytest.fixture(scope="session", autouse=True)
def _loopback_only():
    """Loopback-only discovery for every test of this folder (idempotent)."""
    if HAS_LSL:
        lsl_loopback_only()


@pytest.fixture()
def unique_name(request) -> str:
    """A stream name (and source_id) no other test uses."""
    return f"nd-test-{request.node.name[:20]}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(autouse=True)
def _deadline(request):
    """Fail an LSL test that runs past its limit instead of hanging (SIGALRM)."""
    marker = request.node.get_closest_marker("lsl")
    if marker is None:
        yield
        return
    import faulthandler
    import signal

    limit = int(marker.kwargs.get("timeout", 60))

    def expired(signum, frame):
        raise TimeoutError(f"LSL test ran past {limit} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    # A call stuck inside liblsl never returns to Python for the alarm: then dump every
    # thread's stack and end the process rather than hang.
    faulthandler.dump_traceback_later(limit + 30, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture()
def recording(tmp_path):
    """A small FIF recording: 4 EEG channels (volts), 250 Hz, 500 samples, 3 annotations."""
    import mne
    import numpy as np

    rng = np.random.default_rng(7)
    info = mne.create_info(["C3", "Cz", "C4", "Pz"], 250.0, "eeg")
    data = rng.standard_normal((4, 500)) * 1e-5
    raw = mne.io.RawArray(data, info, verbose=False)
    raw.set_annotations(
        mne.Annotations([0.4, 1.2, 1.8], [0.0, 0.0, 0.0], ["left_hand", "right_hand", "left_hand"])
    )
    path = tmp_path / "rec_raw.fif"
    raw.save(path, verbose=False)
    return path, mne.io.read_raw_fif(path, verbose=False).get_data()  # as stored (float32 in FIF)


@pytest.fixture()
def replay_factory(unique_name):
    """Build Replays with unique names/source_ids; every one is stopped at the end."""
    from neurodec.online.replay import Replay

    made = []

    def make(source, **kw):
        kw.setdefault("name", f"{unique_name}-{len(made)}")
        kw.setdefault("source_id", f"{unique_name}-{len(made)}-{uuid.uuid4().hex[:8]}")
        rep = Replay(source, **kw)
        made.append(rep)
        return rep

    try:
        yield make
    finally:
        for rep in made:
            rep.stop()
