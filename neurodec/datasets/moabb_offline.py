"""MOABB datasets read from a local data root with no network access at all.

Each class here subclasses MOABB's own dataset class (so its ``code``, events,
interval, channel handling and ``_get_single_subject_data`` are MOABB's) and adds
:class:`~neurodec.datasets.base.NeurodecDataset` behaviour:

* the files live under ``<data_root>/<name>`` in MOABB's native download layout;
* every expected file of the requested subjects is checked **before** MOABB is
  called, so a missing file fails at once with :class:`DataNotFoundError` naming
  the paths (MOABB 1.7 would otherwise query NEMAR and retry for minutes);
* while MOABB reads, the download provider is pinned to ``upstream`` (no NEMAR),
  MNE's dataset path points at the dataset folder, and any socket connection or
  DNS lookup from the reading thread raises instead of reaching the network.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from moabb.datasets import BNCI2014_001 as _MoabbBNCI2014_001
from moabb.datasets import BNCI2014_004 as _MoabbBNCI2014_004
from moabb.datasets import PhysionetMI as _MoabbPhysionetMI
from moabb.datasets import Zhou2016 as _MoabbZhou2016

from neurodec.datasets.base import NeurodecDataset, check_subjects
from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError, NeurodecError

__all__ = [
    "OfflineMoabbDataset",
    "PhysionetMI",
    "BNCI2014_001",
    "BNCI2014_004",
    "Zhou2016",
    "offline_moabb",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- network guard
class NetworkBlockedError(DataNotFoundError):
    """A read in offline mode tried to open a network connection."""


_guard_state = threading.local()
#: Guards everything below: the socket patches, the environment variables and their counts.
_guard_lock = threading.Condition(threading.Lock())
_guard_users = 0
_originals: dict[str, Any] = {}
#: Environment variable -> [value set while in use, number of users inside].
_env_users: dict[str, list] = {}
#: Environment variable -> its value before the first user entered (None: unset).
_env_saved: dict[str, str | None] = {}


def _blocked(*args: Any, **kwargs: Any) -> None:
    raise NetworkBlockedError(
        "offline mode: MOABB/MNE tried to reach the network while reading local files "
        f"(call arguments {args!r:.120}). A file it needs "
        "is probably missing from the data root; check the dataset's layout in datasets/<name>.yml."
    )


def _guarded(name: str):
    original = _originals[name]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if getattr(_guard_state, "depth", 0):
            _blocked(*args, **kwargs)
        return original(*args, **kwargs)

    wrapper.__name__ = getattr(original, "__name__", name)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    return wrapper


def _install_guard() -> None:
    """Patch the socket functions if nobody is inside yet (call with ``_guard_lock`` held)."""
    global _guard_users
    if _guard_users == 0:
        _originals["connect"] = socket.socket.connect
        _originals["connect_ex"] = socket.socket.connect_ex
        _originals["getaddrinfo"] = socket.getaddrinfo
        socket.socket.connect = _guarded("connect")  # type: ignore[method-assign]
        socket.socket.connect_ex = _guarded("connect_ex")  # type: ignore[method-assign]
        socket.getaddrinfo = _guarded("getaddrinfo")  # type: ignore[assignment]
    _guard_users += 1


def _remove_guard() -> None:
    """Restore the socket functions when the last user leaves (call with ``_guard_lock`` held)."""
    global _guard_users
    _guard_users -= 1
    if _guard_users == 0:
        socket.socket.connect = _originals["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = _originals["connect_ex"]  # type: ignore[method-assign]
        socket.getaddrinfo = _originals["getaddrinfo"]  # type: ignore[assignment]


def _env_conflicts(env: dict[str, str]) -> list[str]:
    return [key for key, value in env.items() if key in _env_users and _env_users[key][0] != value]


def _enter(env: dict[str, str]) -> None:
    """Count one more user of ``env`` and of the network guard.

    The first user of a variable saves its value and sets it; later users with the
    same value only count. A user needing another value for a variable in use
    (two data roots for one dataset family at once) waits until it is released.
    """
    held = getattr(_guard_state, "env", None)
    if held is None:
        held = _guard_state.env = {}
    with _guard_lock:
        while _env_conflicts(env):
            mine = [key for key in _env_conflicts(env) if held.get(key)]
            if mine:
                raise InvalidInputError(
                    f"offline mode: this thread is already reading with {mine[0]}="
                    f"{_env_users[mine[0]][0]!r} and now asks for {env[mine[0]]!r}; read one data "
                    "root of a dataset at a time (nested reads from two roots are not supported)"
                )
            _guard_lock.wait()
        for key, value in env.items():
            if key in _env_users:
                _env_users[key][1] += 1
            else:
                _env_saved[key] = os.environ.get(key)
                os.environ[key] = value
                _env_users[key] = [value, 1]
            held[key] = held.get(key, 0) + 1
        _install_guard()
    _guard_state.depth = getattr(_guard_state, "depth", 0) + 1


def _exit(env: dict[str, str]) -> None:
    """Count one user less; the last one restores the environment and the socket functions."""
    _guard_state.depth -= 1
    held = _guard_state.env
    with _guard_lock:
        _remove_guard()
        for key in env:
            held[key] -= 1
            if not held[key]:
                del held[key]
            _env_users[key][1] -= 1
            if _env_users[key][1] == 0:
                del _env_users[key]
                value = _env_saved.pop(key)
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        _guard_lock.notify_all()


@contextlib.contextmanager
def offline_moabb(folder: Path, mne_sign: str) -> Iterator[None]:
    """Let MOABB read ``folder`` as its dataset path, with the network blocked.

    While any caller is inside the block, in this process: ``MOABB_DOWNLOAD_PROVIDER``
    is ``upstream`` (MOABB skips NEMAR), ``MNE_DATASETS_<SIGN>_PATH`` is ``folder`` (so
    MOABB neither asks for nor writes an MNE config), and socket connections and DNS
    lookups made from a thread that is inside raise :class:`NetworkBlockedError`;
    other threads are not affected.

    Safe to use from several threads at once (paradigms read subjects in threads):
    users are counted under one lock, the first to enter sets the variables and
    patches the socket functions, the last to leave restores what was there before.
    A thread that needs another ``folder`` for the same ``mne_sign`` waits until
    the variable is free.

    Parameters
    ----------
    folder : Path
        The dataset folder (``<data_root>/<name>``).
    mne_sign : str
        MNE/MOABB signifier of the dataset (``"EEGBCI"``, ``"BNCI"``, ...).
    """
    env = {
        "MOABB_DOWNLOAD_PROVIDER": "upstream",
        f"MNE_DATASETS_{mne_sign.upper()}_PATH": str(folder),
    }
    _enter(env)
    try:
        yield
    finally:
        _exit(env)


# --------------------------------------------------------------------------- shared behaviour
class OfflineMoabbDataset(NeurodecDataset):
    """What every offline MOABB dataset adds to MOABB's class (a mixin placed first).

    Subclasses set :attr:`name` (registry name and folder under the data root) and
    :attr:`mne_sign`, and implement :meth:`expected_files`.
    """

    #: Registry name; also the dataset's folder under the data root.
    name: ClassVar[str] = ""
    #: MNE/MOABB signifier used in ``MNE_DATASETS_<SIGN>_PATH``.
    mne_sign: ClassVar[str] = ""
    #: Never use MOABB's NEMAR mirror.
    nemar_id = None

    def _set_data_root(self, data_root: str | os.PathLike | None) -> None:
        # <root>/<name>, or the root itself when it is an MNE data folder (~/mne_data);
        # without an explicit root, MNE's data folder when it holds the dataset
        from neurodec.datasets.moabb_generic import is_mne_data_folder, locate_dataset_folder

        self.data_root = locate_dataset_folder(data_root, self.name, is_mne_data_folder)

    def get_data(
        self,
        subjects: list[int] | None = None,
        cache_config: Any = None,
        process_pipeline: Any = None,
        n_jobs: int = 1,
    ) -> dict:
        """MOABB's ``get_data`` from local files only.

        Subjects are validated (:class:`InvalidInputError`) and all their files
        checked (:class:`DataNotFoundError` naming the missing paths,
        :class:`InvalidDataError` naming truncated ones) before any file is read.

        Returns
        -------
        dict
            ``{subject: {session: {run: mne.io.Raw}}}`` exactly as MOABB.
        """
        subjects = check_subjects(self, subjects)
        try:
            return super().get_data(
                subjects=subjects,
                cache_config=cache_config,
                process_pipeline=process_pipeline,
                n_jobs=n_jobs,
            )
        except NeurodecError:
            raise
        except Exception as exc:
            files = [str(p) for s in subjects for p in self.expected_files(s)]
            shown = ", ".join(files[:6]) + (f" and {len(files) - 6} more" if len(files) > 6 else "")
            raise InvalidDataError(
                f"{self.code}: reading subject(s) {subjects} from {self.data_root} failed "
                f"({type(exc).__name__}: {exc}). The files exist but could not be read; "
                "check that they are complete (compare sizes/checksums with the source). "
                f"Files: {shown}"
            ) from exc

    def _get_single_subject_data(self, subject: int) -> dict:
        # Runs in joblib workers too, so the checks and the guard live here.
        self.check_local(subject)
        logger.debug("%s: reading subject %s from %s (offline)", self.code, subject, self.data_root)
        with offline_moabb(self.data_root, self.mne_sign):
            return super()._get_single_subject_data(subject)

    def fingerprint_params(self) -> dict[str, Any]:
        return {"name": self.name}


# --------------------------------------------------------------------------- PhysionetMI
_PHYSIONET_RUN_LABELS = {
    1: "baseline, eyes open",
    2: "baseline, eyes closed",
    3: "executed left/right fist",
    4: "imagined left/right fist",
    5: "executed both fists/feet",
    6: "imagined both fists/feet",
}


def _physionet_run_label(run: int) -> str:
    return _PHYSIONET_RUN_LABELS[run if run <= 2 else 3 + (run - 3) % 4]


class PhysionetMI(OfflineMoabbDataset, _MoabbPhysionetMI):
    """PhysioNet EEG Motor Movement/Imagery, read offline through MOABB's ``PhysionetMI``.

    Parameters
    ----------
    data_root : path-like, optional
        Folder holding a ``PhysionetMI`` subfolder in MNE's ``eegbci`` layout
        (``MNE-eegbci-data/files/eegmmidb/1.0.0/SNNN/SNNNRKK.edf``). Default:
        :func:`neurodec.config.data_root`.
    imagined : bool
        Read the imagined left/right fist runs 4, 8, 12 (MOABB's default).
    executed : bool
        Also read the executed runs (3, 7, 11; with ``include_feet`` also 5, 9, 13).
    include_feet : bool
        Also read the both-fists/feet runs (6, 10, 14 imagined). MOABB always reads
        them; the default here is ``False`` (MOABB's ``feet_runs = []``) so that a
        copy holding only the left/right runs is complete. Left/right imagery
        arrays are identical either way, since those runs hold no left/right events.
    allow_missing_runs : bool
        ``False`` (default): a subject with a missing run file is not read
        (:class:`DataNotFoundError` naming the file). ``True``: its other runs are
        read, a warning names the missing files, run names keep their place in
        MOABB's order (run ``"2"`` is always the third run), and paradigms add an
        ``incomplete_session`` metadata column.
    subjects, sessions : list, optional
        Passed to MOABB (``selected_subjects`` / ``selected_sessions``).

    Notes
    -----
    ``subject_list`` is MOABB's full 1..109; :meth:`local_subjects` lists the ones on
    disk with intact files. A request needing absent runs fails before reading with
    a message naming the runs and files.
    """

    name = "PhysionetMI"
    mne_sign = "EEGBCI"
    #: Layout under the dataset folder (MNE's eegbci download layout).
    RUN_FILE = "MNE-eegbci-data/files/eegmmidb/1.0.0/S{subject:03d}/S{subject:03d}R{run:02d}.edf"

    def __init__(
        self,
        data_root: str | os.PathLike | None = None,
        imagined: bool = True,
        executed: bool = False,
        include_feet: bool = False,
        allow_missing_runs: bool = False,
        subjects: list[int] | None = None,
        sessions: list[str] | None = None,
    ) -> None:
        if not (imagined or executed):
            raise InvalidInputError(
                "PhysionetMI: imagined=False and executed=False select no runs; "
                "set imagined=True (runs 4, 8, 12) and/or executed=True (runs 3, 7, 11)."
            )
        super().__init__(imagined=imagined, executed=executed, subjects=subjects, sessions=sessions)
        self.include_feet = include_feet
        self.allow_missing_runs = bool(allow_missing_runs)
        if not include_feet:
            self.feet_runs = []
        self._set_data_root(data_root)

    @property
    def runs(self) -> list[int]:
        """PhysioNet run numbers this instance reads, in MOABB's run order."""
        return list(self.hand_runs) + list(self.feet_runs)

    def run_file(self, subject: int, run: int) -> Path:
        """Local path of one run's EDF file."""
        return Path(self.data_root) / self.RUN_FILE.format(subject=subject, run=run)

    def expected_files(self, subject: int) -> list[Path]:
        return [self.run_file(subject, run) for run in self.runs]

    def missing_runs(self, subject: int) -> dict[str, int]:
        n = sum(not self.run_file(subject, r).is_file() for r in self.runs)
        return {"0": n} if n else {}

    def _missing_error(self, subject: int, missing: list[Path]) -> DataNotFoundError:
        absent = [r for r in self.runs if self.run_file(subject, r) in missing]
        present = [r for r in self.runs if r not in absent]
        kinds = sorted({_physionet_run_label(r) for r in absent})
        paths = "\n  ".join(str(self.run_file(subject, r)) for r in absent)
        defaults = "the defaults imagined=True, executed=False, include_feet=False read runs 4, 8, 12"
        if present:
            advice = (
                f"Runs {present} of subject {subject} are on disk: choose options that read only runs "
                f"you have ({defaults}), or pass allow_missing_runs=True to read the runs that are there"
            )
        else:
            advice = (
                f"No run of subject {subject} is on disk; dataset.local_subjects() lists the subjects "
                f"that are ({defaults})"
            )
        return DataNotFoundError(
            f"PhysionetMI subject {subject}: this request needs runs {absent} "
            f"({'; '.join(kinds)}) which are not on disk under {self.data_root}:\n  {paths}\n"
            f"{advice}. Otherwise put those EDF files in that layout. Nothing is downloaded "
            "in offline mode."
        )

    def _get_single_subject_data(self, subject: int) -> dict:
        missing = self.check_local(subject)
        if not missing:
            return super()._get_single_subject_data(subject)
        # allow_missing_runs: MOABB reads the runs that are there (on a copy, so other
        # threads keep this object's run lists) and its run names are put back in
        # their place among all runs.
        absent = [r for r in self.runs if self.run_file(subject, r) in missing]
        logger.warning(
            "PhysionetMI subject %s: run(s) %s missing, read without them (allow_missing_runs=True): %s",
            subject,
            absent,
            ", ".join(str(p) for p in missing),
        )
        view = copy.copy(self)
        view.hand_runs = [r for r in self.hand_runs if r not in absent]
        view.feet_runs = [r for r in self.feet_runs if r not in absent]
        place = [str(self.runs.index(r)) for r in view.runs]
        data = super(PhysionetMI, view)._get_single_subject_data(subject)
        return {session: {place[int(k)]: raw for k, raw in runs.items()} for session, runs in data.items()}

    def _load_data(self, subject, runs, path=None, force_update=False, verbose=None):
        """Local paths of the given runs (MOABB's downloader is never used)."""
        if not hasattr(runs, "__iter__"):
            runs = [runs]
        paths = [self.run_file(subject, run) for run in runs]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise DataNotFoundError(
                f"PhysionetMI subject {subject}: missing run file(s): {', '.join(missing)}"
            )
        return [str(p) for p in paths]

    def fingerprint_params(self) -> dict[str, Any]:
        return {"name": self.name, "runs": self.runs}


# --------------------------------------------------------------------------- BNCI
class _OfflineBNCI(OfflineMoabbDataset):
    mne_sign = "BNCI"
    #: ``{subject}``/``{session}`` pattern under the dataset folder.
    FILE: ClassVar[str] = ""
    SESSION_LETTERS: ClassVar[tuple[str, ...]] = ("T", "E")

    def expected_files(self, subject: int) -> list[Path]:
        return [
            Path(self.data_root) / self.FILE.format(subject=subject, session=letter)
            for letter in self.SESSION_LETTERS
        ]


class BNCI2014_001(_OfflineBNCI, _MoabbBNCI2014_001):
    """BCI Competition IV 2a (4-class MI), read offline through MOABB's ``BNCI2014_001``.

    Parameters
    ----------
    data_root : path-like, optional
        Folder holding a ``BNCI2014_001`` subfolder in MOABB's layout
        (``MNE-bnci-data/~bci/database/001-2014/A01T.mat`` ...).
    **kwargs
        Passed to MOABB's class (``subjects``, ``sessions``, ``artifact_handling``,
        ``return_all_modalities``).
    """

    name = "BNCI2014_001"
    FILE = "MNE-bnci-data/~bci/database/001-2014/A{subject:02d}{session}.mat"

    def __init__(self, data_root: str | os.PathLike | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._set_data_root(data_root)

    def fingerprint_params(self) -> dict[str, Any]:
        return {"name": self.name, "artifact_handling": self.artifact_handling}


class BNCI2014_004(_OfflineBNCI, _MoabbBNCI2014_004):
    """BCI Competition 2008 Graz B (2-class MI), read offline through MOABB's ``BNCI2014_004``.

    Parameters
    ----------
    data_root : path-like, optional
        Folder holding a ``BNCI2014_004`` subfolder in MOABB's layout
        (``MNE-bnci-data/~bci/database/004-2014/B01T.mat`` ...).
    **kwargs
        Passed to MOABB's class (``subjects``, ``sessions``, ``return_all_modalities``).
    """

    name = "BNCI2014_004"
    FILE = "MNE-bnci-data/~bci/database/004-2014/B{subject:02d}{session}.mat"

    def __init__(self, data_root: str | os.PathLike | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._set_data_root(data_root)


# --------------------------------------------------------------------------- Zhou2016
class Zhou2016(OfflineMoabbDataset, _MoabbZhou2016):
    """Zhou et al. 2016 (3-class MI, BIDS), read offline through MOABB's ``Zhou2016``.

    Parameters
    ----------
    data_root : path-like, optional
        Folder holding a ``Zhou2016`` subfolder in MOABB's layout:
        ``MNE-BIDS-zhou2016/16534752.json`` (the Zenodo record) and the extracted
        ``MNE-BIDS-zhou2016/sub-<N>/`` BIDS folders.
    **kwargs
        Passed to MOABB's class (``subjects``, ``sessions``).
    """

    name = "Zhou2016"
    mne_sign = "ZHOU2016"
    BIDS_DIR = "MNE-BIDS-zhou2016"

    def __init__(self, data_root: str | os.PathLike | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._set_data_root(data_root)

    @property
    def bids_root(self) -> Path:
        """Root of the BIDS tree MOABB extracts."""
        return Path(self.data_root) / self.BIDS_DIR

    def expected_files(self, subject: int) -> list[Path]:
        root = self.bids_root
        record = root / f"{self.zenodo_record_id}.json"
        files = [record]
        if record.is_file():
            try:
                listing = json.loads(record.read_text())["files"]
                files += [root / f["key"] for f in listing if "sub" not in f["key"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidDataError(
                    f"Zhou2016: the Zenodo record {record} is not valid JSON with a 'files' "
                    f"list ({exc}); restore it from MOABB's download."
                ) from exc
        sub = root / f"sub-{subject}"
        for pattern in ("*_eeg.edf", "*_events.tsv"):
            found = sorted(sub.rglob(pattern)) if sub.is_dir() else []
            files += found or [sub / "**" / pattern]
        return files

    def _download_subject(self, subject, path, force_update, update_path, verbose) -> str:
        # MOABB's version writes lock files and may download; offline we only
        # return the BIDS root, whose files check_local has verified.
        self.check_local(subject)
        return self.bids_root
