"""EEGNotebooks_VisualP300: the eeg-notebooks v0.1 visual P300 recordings (Muse 2016).

Five subjects, 1-3 sessions each on different days, 1-6 two-minute runs per session,
stored as muse-lsl CSV files under ``<data_root>/EEGNotebooks_VisualP300/subjectN/sessionM/``.
The dataset's facts (subjects, sessions, events, interval, ...) come from
``datasets/EEGNotebooks_VisualP300.yml``; files are read by
:func:`neurodec.io.muse.read_muse_csv`.

Sessions are named ``"0"``, ``"1"``, ``"2"`` in date order and runs ``"0"``, ``"1"``, ...
in file order (the file names hold the UTC start time).
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
        self.sessions_per_subject = dict(desc.sessions)
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

    def expected_files(self, subject: int) -> list[Path]:
        base = Path(self.data_root) / f"subject{subject}"
        files = [p for folder in self.session_folders(subject) for p in _run_files(folder)]
        return files or [base / "session*" / "data_*.csv.gz"]

    def check_local(self, subject: int) -> None:
        super().check_local(subject)
        expected = self.sessions_per_subject[subject]
        found = self.session_folders(subject)
        if len(found) < expected:
            base = Path(self.data_root) / f"subject{subject}"
            raise DataNotFoundError(
                f"{self.name}: subject {subject} should have {expected} session folder(s) with "
                f"muse-lsl CSV files under {base}, found {len(found)}: "
                f"{[f.name for f in found]}. Restore the missing session folders."
            )

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
        self.check_local(subject)
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
