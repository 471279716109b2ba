"""EEGNotebooks_VisualP300: the eeg-notebooks v0.1 visual P300 recordings (Muse 2016).

Five subjects, 1-3 sessions each on different days, 1-6 two-minute runs per session,
stored as muse-lsl CSV files under ``<data_root>/EEGNotebooks_VisualP300/subjectN/sessionM/``.
The dataset's facts (subjects, sessions, events, interval, ...) come from
``datasets/EEGNotebooks_VisualP300.yml``; files are read by
:func:`neurodec.io.muse.read_muse_csv`.

Sessions are named ``"0"``, ``"1"``, ``"2"`` in date order and runs ``"0"``, ``"1"``, ...
in file order (the file names hold the UTC start time). The descriptor's ``run_files``
lists every run file of the complete dataset: a missing one is an error naming it
(unless ``allow_missing_runs=True``), and every file passes
:func:`neurodec.io.integrity.check_file` before anything is read.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mne
import numpy as np

from neurodec.config import data_root as _resolve_data_root
from neurodec.config import descriptors_dir
from neurodec.datasets.base import NeurodecDataset
from neurodec.datasets.descriptors import DatasetDescriptor, load_descriptor
from neurodec.errors import DataNotFoundError, InvalidDataError
from neurodec.io.muse import read_muse_csv

__all__ = ["EEGNotebooks_VisualP300", "CLIP_UV"]

logger = logging.getLogger(__name__)

#: Muse ADC saturation: values at or beyond this magnitude (µV) are clipped.
CLIP_UV = 999.5
_FILE_TIME = re.compile(r"data_(\d{4})-(\d{2})-(\d{2})-(\d{2})[._](\d{2})[._](\d{2})\.csv(\.gz)?$")
#: (subject, session folder) whose Right AUX is a real electrode near Oz.
_OZ_SESSIONS = {(3, "session3")}


def _file_time(path: Path) -> datetime:
    match = _FILE_TIME.search(path.name)
    if match is None:
        raise InvalidDataError(
            f"{path}: unexpected file name; muse-lsl files are named data_<YYYY-MM-DD-HH.MM.SS>.csv[.gz]"
        )
    y, mo, d, h, mi, s = (int(v) for v in match.groups()[:6])
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def _stem(path: Path) -> str:
    """``data_<time>`` of a run file (its name without ``.csv`` / ``.csv.gz``)."""
    return re.sub(r"\.csv(\.gz)?$", "", path.name)


def _run_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if _FILE_TIME.search(p.name)] if folder.is_dir() else []
    return sorted(files, key=lambda p: (_file_time(p), p.name))


class EEGNotebooks_VisualP300(NeurodecDataset):
    """Muse visual P300 (cats vs dogs oddball) from NeuroTechX eeg-notebooks v0.1.

    A MOABB P300 dataset: ``moabb.paradigms.P300`` and MOABB's evaluations accept it.

    Parameters
    ----------
    data_root : path-like, optional
        Folder holding an ``EEGNotebooks_VisualP300`` subfolder. Default
        :func:`neurodec.config.data_root`.
    oz_electrode : bool
        In subject 3's third session the ``Right AUX`` input carried an extra dry
        electrode near Oz. ``False`` (default): AUX is a ``misc`` channel in every
        session, so every session has the same four EEG channels (what cross-session
        evaluation needs; MOABB's paradigms keep EEG channels only). ``True``: that
        session's AUX becomes an EEG channel ``"Oz"`` with a position (five EEG
        channels there; pick channels explicitly when mixing sessions).
    annotate_clipping : bool
        ``True``: mark every stretch where an EEG channel is at the Muse's
        saturation (|x| >= 999.5 µV) as a ``BAD_clipping`` annotation, which MOABB's
        epoching keeps and ``reject_by_annotation`` uses to drop overlapping epochs.
        ``False`` (default): data untouched, as MOABB would read it.
    allow_missing_runs : bool
        ``False`` (default): a run file listed in the descriptor but not on disk
        stops the subject from being read (:class:`DataNotFoundError` naming it).
        ``True``: the runs that are there are read, a warning names the missing
        ones, and paradigms add an ``incomplete_session`` metadata column. Every
        session still needs at least one run file (files the descriptor does not
        list are read too, with a warning).
    subjects, sessions : list, optional
        MOABB's ``selected_subjects`` / ``selected_sessions``.

    Notes
    -----
    Events: ``NonTarget`` = 1, ``Target`` = 2; interval ``[0, 0.8]`` s (the P300 is
    ~350 ms late at the Muse electrodes; onsets are 0.5-0.74 s apart, so epochs
    overlap). Data are in volts (``unit_factor`` 1e6 gives µV arrays, as MOABB).
    """

    name = "EEGNotebooks_VisualP300"

    def __init__(
        self,
        data_root: str | os.PathLike | None = None,
        oz_electrode: bool = False,
        annotate_clipping: bool = False,
        allow_missing_runs: bool = False,
        subjects: list[int] | None = None,
        sessions: list[str] | None = None,
    ) -> None:
        desc = self.descriptor()
        super().__init__(
            subjects=desc.subjects,
            sessions_per_subject=max(desc.sessions.values()),
            events=dict(desc.events),
            code=desc.code,
            interval=list(desc.interval),
            paradigm=desc.paradigm,
            doi=desc.doi,
            selected_subjects=subjects,
            selected_sessions=sessions,
        )
        self.oz_electrode = oz_electrode
        self.annotate_clipping = annotate_clipping
        self.allow_missing_runs = bool(allow_missing_runs)
        self.sessions_per_subject = dict(desc.sessions)
        self.run_files: dict[int, dict[str, list[str]]] = dict(desc.extra.get("run_files", {}))
        self.data_root = _resolve_data_root(data_root) / self.name

    @classmethod
    def descriptor(cls) -> DatasetDescriptor:
        """The dataset's descriptor (``datasets/EEGNotebooks_VisualP300.yml``)."""
        return load_descriptor(descriptors_dir() / f"{cls.name}.yml")

    # ------------------------------------------------------------------ layout
    def session_folders(self, subject: int) -> list[Path]:
        """The subject's session folders, in date order (MOABB sessions "0", "1", ...)."""
        base = Path(self.data_root) / f"subject{subject}"
        folders = [f for f in base.glob("session*") if f.is_dir() and _run_files(f)]
        return sorted(folders, key=lambda f: (_file_time(_run_files(f)[0]), f.name))

    def _found_runs(self, subject: int) -> dict[str, Path]:
        """Run files on disk of ``subject`` by stem (``data_<time>``, without ``.csv[.gz]``)."""
        base = Path(self.data_root) / f"subject{subject}"
        folders = [f for f in base.glob("session*") if f.is_dir()] if base.is_dir() else []
        return {_stem(p): p for folder in folders for p in _run_files(folder)}

    def expected_files(self, subject: int) -> list[Path]:
        base = Path(self.data_root) / f"subject{subject}"
        listed = self.run_files.get(subject)
        if listed is None:  # no list in the descriptor: whatever is on disk
            files = [p for folder in self.session_folders(subject) for p in _run_files(folder)]
            return files or [base / "session*" / "data_*.csv.gz"]
        found = self._found_runs(subject)
        return [
            found.get(stem, base / folder / f"{stem}.csv.gz")
            for folder, stems in listed.items()
            for stem in stems
        ]

    def missing_runs(self, subject: int) -> dict[str, int]:
        listed = self.run_files.get(subject, {})
        found = self._found_runs(subject)
        names = {f.name: str(i) for i, f in enumerate(self.session_folders(subject))}
        counts: dict[str, int] = {}
        for folder, stems in listed.items():
            n = sum(stem not in found for stem in stems)
            if n:
                counts[names.get(folder, folder)] = n
        return counts

    def check_local(self, subject: int) -> list[Path]:
        expected = self.sessions_per_subject[subject]
        found = self.session_folders(subject)
        if len(found) < expected:
            base = Path(self.data_root) / f"subject{subject}"
            raise DataNotFoundError(
                f"{self.name}: subject {subject} should have {expected} session folder(s) with "
                f"muse-lsl CSV files ({base}/session*/data_*.csv.gz), found {len(found)}: "
                f"{[f.name for f in found]}. Restore the missing session folders."
            )
        return super().check_local(subject)

    def _missing_allowed(self, subject: int, expected: list[Path], missing: list[Path]) -> bool:
        # check_local has seen a run file in every session folder (listed or not)
        return self.allow_missing_runs

    def _unlisted_runs(self, subject: int) -> list[Path]:
        """Run files on disk that the descriptor's ``run_files`` does not list."""
        listed = {stem for stems in self.run_files.get(subject, {}).values() for stem in stems}
        if not listed:
            return []
        return sorted(p for stem, p in self._found_runs(subject).items() if stem not in listed)

    # ------------------------------------------------------------------ reading
    def _read_run(self, subject: int, folder: Path, path: Path) -> mne.io.BaseRaw:
        oz = self.oz_electrode and (subject, folder.name) in _OZ_SESSIONS
        raw = read_muse_csv(path, aux="eeg" if oz else "misc", aux_name="Oz" if oz else None, verbose=False)
        if raw.info["meas_date"] is None:
            raw.set_meas_date(_file_time(path))
        raw.info["subject_info"] = {"his_id": f"subject{subject}"}
        if self.annotate_clipping:
            _annotate_clipping(raw)
        return raw

    def _get_single_subject_data(self, subject: int) -> dict[str, dict[str, mne.io.BaseRaw]]:
        missing = self.check_local(subject)
        if missing:
            logger.warning(
                "%s subject %s: %d run file(s) missing, read without them (allow_missing_runs=True): %s",
                self.name,
                subject,
                len(missing),
                ", ".join(str(p) for p in missing),
            )
        extra = self._unlisted_runs(subject)
        if extra:
            logger.warning(
                "%s subject %s: %d file(s) that the dataset's run list does not hold are read too: %s",
                self.name,
                subject,
                len(extra),
                ", ".join(str(p) for p in extra),
            )
        data: dict[str, dict[str, mne.io.BaseRaw]] = {}
        for s, folder in enumerate(self.session_folders(subject)):
            data[str(s)] = {
                str(r): self._read_run(subject, folder, path) for r, path in enumerate(_run_files(folder))
            }
        return data

    def fingerprint_params(self) -> dict[str, Any]:
        return {"oz_electrode": self.oz_electrode, "annotate_clipping": self.annotate_clipping}


def _annotate_clipping(raw: mne.io.BaseRaw) -> None:
    """Add ``BAD_clipping`` annotations where any EEG channel is saturated."""
    picks = mne.pick_types(raw.info, eeg=True)
    clipped = (np.abs(raw.get_data(picks)) >= CLIP_UV * 1e-6).any(axis=0)
    if not clipped.any():
        return
    edges = np.diff(np.concatenate([[0], clipped.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    sfreq = raw.info["sfreq"]
    onsets = starts / sfreq
    durations = np.maximum(stops - starts, 1) / sfreq
    raw.annotations.append(onsets, durations, ["BAD_clipping"] * len(onsets))
    logger.info(
        "%s: %d clipped stretch(es), %.2f s in all, annotated BAD_clipping",
        raw.filenames[0] if raw.filenames and raw.filenames[0] else "raw",
        len(onsets),
        float(durations.sum()),
    )
