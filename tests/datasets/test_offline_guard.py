"""``offline_moabb`` from several threads: users are counted, the last one restores everything."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from neurodec.datasets.moabb_offline import NetworkBlockedError, offline_moabb
from neurodec.errors import InvalidInputError

KEY = "MNE_DATASETS_XTEST_PATH"
TIMEOUT = 10


@pytest.fixture()
def env(monkeypatch):
    monkeypatch.setenv("MOABB_DOWNLOAD_PROVIDER", "nemar")
    monkeypatch.delenv(KEY, raising=False)
    original = (socket.socket.connect, socket.getaddrinfo)
    yield
    assert (socket.socket.connect, socket.getaddrinfo) == original


class _User(threading.Thread):
    """Enters ``offline_moabb`` and stays inside until told to leave."""

    def __init__(self, folder):
        super().__init__(daemon=True)
        self.folder = folder
        self.inside = threading.Event()
        self.leave = threading.Event()
        self.blocked_before_leaving = None
        self.seen = None
        self.errors: list[BaseException] = []

    def run(self):
        try:
            with offline_moabb(self.folder, "XTEST"):
                self.inside.set()
                assert self.leave.wait(TIMEOUT)
                try:
                    socket.getaddrinfo("example.org", 443)
                except NetworkBlockedError:
                    self.blocked_before_leaving = True
                self.seen = os.environ.get(KEY)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)


def test_interleaved_users_leave_the_environment_as_it_was(env, tmp_path):
    first, second = _User(tmp_path), _User(tmp_path)
    first.start()
    assert first.inside.wait(TIMEOUT)
    second.start()
    assert second.inside.wait(TIMEOUT)
    first.leave.set()  # first out while second is still inside
    first.join(TIMEOUT)
    # Before: the first user restored the environment under the second one's feet.
    assert os.environ["MOABB_DOWNLOAD_PROVIDER"] == "upstream" and os.environ[KEY] == str(tmp_path)
    assert socket.getaddrinfo.__module__ == "neurodec.datasets.moabb_offline"  # guard still on
    second.leave.set()
    second.join(TIMEOUT)
    assert not first.errors and not second.errors
    assert first.blocked_before_leaving and second.blocked_before_leaving
    assert os.environ["MOABB_DOWNLOAD_PROVIDER"] == "nemar" and KEY not in os.environ


def test_another_folder_waits_until_the_variable_is_free(env, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    first, second = _User(a), _User(b)
    first.start()
    assert first.inside.wait(TIMEOUT)
    second.start()
    assert not second.inside.wait(0.3)  # would read with first's folder
    assert os.environ[KEY] == str(a)
    first.leave.set()
    assert second.inside.wait(TIMEOUT)
    second.leave.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)
    assert not first.errors and not second.errors
    assert first.seen == str(a) and second.seen == str(b)
    assert os.environ["MOABB_DOWNLOAD_PROVIDER"] == "nemar" and KEY not in os.environ


def test_nested_reads_of_two_folders_in_one_thread_are_refused(env, tmp_path):
    with offline_moabb(tmp_path / "a", "XTEST"):
        with offline_moabb(tmp_path / "a", "XTEST"):  # same folder nests
            assert os.environ[KEY] == str(tmp_path / "a")
        assert os.environ[KEY] == str(tmp_path / "a")
        with pytest.raises(InvalidInputError, match="one data root of a dataset at a time"):
            with offline_moabb(tmp_path / "b", "XTEST"):
                pass
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo("example.org", 443)
    assert KEY not in os.environ and os.environ["MOABB_DOWNLOAD_PROVIDER"] == "nemar"
