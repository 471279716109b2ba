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
