"""Where corpus recordings come from: registry datasets, folders of files, BIDS folders.

A source becomes a list of :class:`Job` objects. A job has a stable ``key`` (so an
interrupted build skips the jobs it finished) and a ``load()`` that reads its
recordings only when the job runs. Accepted source specifications (:func:`jobs_for`):

* a registered dataset name (``"PhysionetMI"``) or dataset object
  (``get_dataset("SimulatedMI", modality="meg")``): one job per subject;
* a dict ``{"dataset": name, "subjects": [...], **dataset options}``;
* a path: a BIDS root (``dataset_description.json``), a folder (searched recursively;
  BIDS roots inside it are read as BIDS) or a single recording file: one job per file;
  a dict ``{"path": ..., "subject": ..., "session": ...}`` sets the subject/session of
  files outside BIDS (default: guessed from the folders, see :func:`path_jobs`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mne

from neurodec.errors import DataNotFoundError, InvalidInputError

__all__ = ["Job", "RecordingInfo", "jobs_for", "dataset_jobs", "path_jobs", "parse_source"]

logger = logging.getLogger(__name__)

#: File endings read as recordings when a folder is searched.
RECORDING_ENDINGS = (
    ".fif",
    ".fif.gz",
    ".edf",
    ".bdf",
    ".gdf",
    ".vhdr",
    ".set",
    ".cnt",
    ".sqd",
    ".con",
    ".csv.gz",
)
_BIDS_SUFFIXES = ("_eeg", "_meg", "_ieeg")
_SKIP_NAMES = re.compile(r"(_mrk\.sqd$|-eve\.|_events\.|_channels\.|_electrodes\.)", re.IGNORECASE)


@dataclass
class RecordingInfo:
    """Identity of one recording in the corpus manifest."""

    source: str
    subject: str
    session: str = ""
    run: str = ""
    path: str | None = None

    def recording_id(self, salt: str) -> str:
        """A readable, unique id: source, subject, session, run, and a short hash of ``salt``."""
        parts = [self.source, f"sub-{self.subject}"]
        parts += [f"ses-{self.session}"] if self.session else []
        parts += [f"run-{self.run}"] if self.run else []
        text = re.sub(r"[^A-Za-z0-9._-]+", "-", "_".join(parts)).strip("-")
        return f"{text}_{hashlib.sha256(salt.encode()).hexdigest()[:8]}"


@dataclass
class Job:
    """A unit of corpus building: ``load()`` returns ``[(RecordingInfo, raw), ...]``.

    ``key`` names this version of the job's data (it changes when the files change);
    ``identity`` names what it reads (a dataset's subject with the options that change its
    data, or a file), so a corpus keeps one version of each.
    """

    key: str
    identity: str
    description: str
    load: Callable[[], list[tuple[RecordingInfo, mne.io.BaseRaw]]]


def _key(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- datasets
def dataset_jobs(dataset: Any, subjects: Any = None, data_root: Any = None, **options: Any) -> list[Job]:
    """One job per subject of a registry dataset (name) or dataset object.

    Parameters
    ----------
    dataset : str | NeurodecDataset
        A name for :func:`neurodec.datasets.get_dataset` or a dataset object.
    subjects : list of int | None
        Default: the subjects whose files are present (all, for generated datasets).
    data_root : path-like | None
        Passed to ``get_dataset``.
    **options
        Dataset options (e.g. ``modality="meg"`` for SimulatedMI).
    """
    from neurodec.datasets import get_dataset
    from neurodec.datasets.base import check_subjects

    if isinstance(dataset, str):
        dataset = get_dataset(dataset, data_root=data_root, **options)
    elif options:
        raise InvalidInputError(f"dataset options {sorted(options)} only apply to a dataset name")
    if not hasattr(dataset, "get_data") or not hasattr(dataset, "subject_list"):
        raise InvalidInputError(f"not a dataset: {type(dataset).__name__}")
    if subjects is None:
        subjects = dataset.local_subjects() if hasattr(dataset, "local_subjects") else dataset.subject_list
        if not subjects:
            raise DataNotFoundError(
                f"{dataset.code}: no subject's files are present under {getattr(dataset, 'data_root', None)}"
            )
    subjects = check_subjects(dataset, subjects)
    version = dataset.fingerprint() if hasattr(dataset, "fingerprint") else dataset.code
    params = sorted(dataset.fingerprint_params().items()) if hasattr(dataset, "fingerprint_params") else []

    def loader(subject: int) -> Callable[[], list[tuple[RecordingInfo, mne.io.BaseRaw]]]:
        def load() -> list[tuple[RecordingInfo, mne.io.BaseRaw]]:
            out = []
            with mne.utils.use_log_level("error"):
                data = dataset.get_data(subjects=[subject])
            for session, runs in data[subject].items():
                for run, raw in runs.items():
                    out.append((RecordingInfo(dataset.code, str(subject), str(session), str(run)), raw))
            return out

        return load

    return [
        Job(
            _key("dataset", dataset.code, version, s),
            _key("dataset", dataset.code, params, s),
            f"{dataset.code} subject {s}",
            loader(s),
        )
        for s in subjects
    ]


# ---------------------------------------------------------------- files
def _is_bids_root(path: Path) -> bool:
    return path.is_dir() and (path / "dataset_description.json").is_file()


def _bids_recordings(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("sub-*")):
        name = path.name.lower()
        if path.is_file() and any(name.endswith(e) for e in RECORDING_ENDINGS if e != ".csv.gz"):
            stem = name.split(".")[0]
            if stem.endswith(_BIDS_SUFFIXES) and "sourcedata" not in path.relative_to(root).parts:
                yield path


def _plain_recordings(folder: Path) -> Iterator[Path]:
    """Recording files under ``folder``, not descending into BIDS roots."""
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            if not _is_bids_root(entry) and not entry.name.startswith("."):
                yield from _plain_recordings(entry)
        elif any(entry.name.lower().endswith(e) for e in RECORDING_ENDINGS) and not _SKIP_NAMES.search(
            entry.name
        ):
            yield entry


def _bids_roots(folder: Path) -> Iterator[Path]:
    if _is_bids_root(folder):
        yield folder
        return
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            yield from _bids_roots(entry)


def _file_job(path: Path, info: RecordingInfo, read_options: dict[str, Any]) -> Job:
    st = path.stat()

    def load() -> list[tuple[RecordingInfo, mne.io.BaseRaw]]:
        from neurodec.io import read_recording

        return [(info, read_recording(path, **read_options).raw)]

    options = sorted(read_options.items())
    key = _key("file", path.resolve(), st.st_size, options)
    return Job(key, _key("file", path.resolve(), options), str(path), load)


def _subject_session(relative: Path) -> tuple[str, str]:
    """Subject and session of a file outside BIDS, from its folders below the source folder:
    ``sub-X``/``ses-Y`` folders if any, else the first folder is the subject and the
    others the session (a file directly in the source folder is its own subject)."""
    folders = relative.parent.parts
    sub = [f[4:] for f in folders if f.startswith("sub-")]
    ses = [f[4:] for f in folders if f.startswith("ses-")]
    if sub:
        return sub[0], ses[0] if ses else ""
    if not folders:
        return relative.name.split(".")[0], ""
    return folders[0], "-".join(folders[1:])


def path_jobs(
    path: str | os.PathLike, *, subject: str | None = None, session: str | None = None, **read_options: Any
) -> list[Job]:
    """One job per recording file under ``path`` (a file, a folder or a BIDS root).

    BIDS recordings take subject/session/run from their file name; other files take
    ``subject`` and ``session`` if given, else guess them from their folders (``sub-*`` /
    ``ses-*`` folders, or first folder = subject, deeper folders = session).
    ``read_options`` go to :func:`neurodec.io.read_recording`.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFoundError(f"corpus source {path} does not exist")
    jobs: list[Job] = []
    if path.is_file():
        info = RecordingInfo(
            path.parent.name or "files", subject or path.parent.name or "0", session or "", "", str(path)
        )
        return [_file_job(path, info, read_options)]
    for root in _bids_roots(path):
        for rec in _bids_recordings(root):
            ent = mne_bids_entities(rec)
            info = RecordingInfo(
                root.name, ent.get("subject") or "0", ent.get("session") or "", ent.get("run") or "", str(rec)
            )
            jobs.append(_file_job(rec, info, read_options))
    if not _is_bids_root(path):
        for rec in _plain_recordings(path):
            guess_subject, guess_session = _subject_session(rec.relative_to(path))
            info = RecordingInfo(path.name, subject or guess_subject, session or guess_session, "", str(rec))
            jobs.append(_file_job(rec, info, read_options))
    if not jobs:
        raise DataNotFoundError(
            f"no recording file found under {path} (looked for {', '.join(RECORDING_ENDINGS)})"
        )
    return jobs


def mne_bids_entities(path: Path) -> dict[str, str | None]:
    """BIDS entities (subject, session, run, task...) of a file name."""
    from mne_bids import get_entities_from_fname

    return {k: v for k, v in get_entities_from_fname(path.name, on_error="ignore").items() if v is not None}


# ---------------------------------------------------------------- any source
def jobs_for(source: Any, data_root: Any = None) -> list[Job]:
    """Jobs of one source specification (see the module docstring)."""
    from neurodec.datasets import list_datasets

    if isinstance(source, dict):
        spec = dict(source)
        if "dataset" in spec:
            name = spec.pop("dataset")
            return dataset_jobs(name, spec.pop("subjects", None), spec.pop("data_root", data_root), **spec)
        if "path" in spec:
            return path_jobs(spec.pop("path"), **spec)
        raise InvalidInputError(f"a corpus source dict needs a 'dataset' or a 'path' key, got {sorted(spec)}")
    if isinstance(source, str) and source in list_datasets():
        return dataset_jobs(source, data_root=data_root)
    if isinstance(source, (str, os.PathLike)):
        if isinstance(source, str) and not Path(source).exists() and os.sep not in source:
            raise InvalidInputError(
                f"corpus source {source!r} is neither a registered dataset ({', '.join(list_datasets())}) "
                "nor an existing path"
            )
        return path_jobs(source)
    if hasattr(source, "get_data") and hasattr(source, "subject_list"):
        return dataset_jobs(source)
    raise InvalidInputError(
        f"unsupported corpus source {source!r}: pass a dataset name or object, a path, "
        "or a dict with 'dataset' or 'path'"
    )


def _parse_value(text: str) -> Any:
    if re.fullmatch(r"\d+-\d+", text):
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    if "+" in text and all(p.isdigit() for p in text.split("+")):
        return [int(p) for p in text.split("+")]
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_source(text: str) -> Any:
    """A source from command-line text: a path, a dataset name, or ``name:key=value,...``.

    Values: ``1-15`` is a range of subjects, ``1+3+5`` a list, numbers become numbers::

        parse_source("PhysionetMI:subjects=1-15")
        parse_source("SimulatedMI:modality=meg,n_subjects=4")
    """
    if Path(text).exists() or ":" not in text:
        return text
    name, _, rest = text.partition(":")
    spec: dict[str, Any] = {"dataset": name}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"cannot read {item!r} in source {text!r}: write key=value")
        spec[key.strip()] = _parse_value(value.strip())
    return spec
