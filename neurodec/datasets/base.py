"""What every neurodec dataset adds to MOABB's ``BaseDataset`` contract.

A neurodec dataset *is* a :class:`moabb.datasets.base.BaseDataset` (so MOABB's own
paradigms and evaluations accept it) and also knows where its files live locally,
checks them before reading, and has a stable fingerprint used in cache keys.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from moabb.datasets.base import BaseDataset

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError
from neurodec.io.integrity import check_file

__all__ = ["NeurodecDataset", "check_subjects"]

logger = logging.getLogger(__name__)


def _as_subject(value: Any) -> int | None:
    """``value`` as a subject number, or ``None`` when it is not a whole number.

    Python and NumPy integers pass; floats with an integral value (``1.0``, e.g.
    from a float array or a CSV column) become ints. Booleans, strings and
    fractional numbers are refused.
    """
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return None


def check_subjects(dataset: BaseDataset, subjects: Any) -> list[int]:
    """Validate a subject selection against ``dataset.subject_list``.

    The one check of a ``subjects`` argument, used by the datasets and the
    paradigms. ``None`` means every subject; a single number means that subject.
    Subject numbers must be whole numbers: integral floats (``1.0``) are accepted
    and returned as ``int``; ``1.5``, ``"1"`` or ``True`` are refused. A subject
    listed twice is refused rather than silently de-duplicated (reading it twice
    would duplicate its trials, dropping one copy would hide the mistake).

    Returns
    -------
    list of int
        The subjects, in the order given, as Python ints.

    Raises
    ------
    InvalidInputError
        Not a list of whole numbers, a duplicate, or a subject that does not exist
        (the message names it and the valid range).
    """
    available = list(dataset.subject_list)
    if subjects is None:
        return available
    if isinstance(subjects, (numbers.Number, str, bytes)):
        subjects = [subjects]
    try:
        given = list(subjects)
    except TypeError:
        raise InvalidInputError(f"subjects must be a list of subject numbers, got {subjects!r}") from None
    converted = [_as_subject(s) for s in given]
    bad_type = [s for s, c in zip(given, converted) if c is None]
    if bad_type:
        raise InvalidInputError(
            f"{dataset.code}: subjects must be whole numbers (e.g. [1, 2]), got {bad_type!r} in {given!r}"
        )
    repeated = sorted({s for s in converted if converted.count(s) > 1})
    if repeated:
        raise InvalidInputError(
            f"{dataset.code}: subject(s) {repeated} are listed more than once in subjects={given!r}; "
            "list each subject once (their trials would otherwise be returned twice)"
        )
    bad = [s for s in converted if s not in available]
    if bad:
        lo, hi = min(available), max(available)
        raise InvalidInputError(
            f"{dataset.code}: subject(s) {bad} do not exist; this dataset has "
            f"{len(available)} subjects ({lo}..{hi}). Pass subjects from that range."
        )
    return converted


class NeurodecDataset(BaseDataset):
    """MOABB ``BaseDataset`` plus local-file checks and a fingerprint.

    Subclasses set ``self.data_root`` (a :class:`~pathlib.Path`, may be ``None`` for
    generated data), implement :meth:`expected_files` and MOABB's
    ``_get_single_subject_data``; :meth:`fingerprint_params` lists the options that
    change the data.
    """

    data_root: Path | None = None
    #: Read a subject even when some of its run files are missing (a logged warning,
    #: and paradigms add an ``incomplete_session`` metadata column). Datasets that
    #: know their runs take it as an option; otherwise a missing file is an error.
    allow_missing_runs: bool = False

    def expected_files(self, subject: int) -> list[Path]:
        """Files that must exist locally to read ``subject`` (empty for generated data)."""
        return []

    def missing_runs(self, subject: int) -> dict[str, int]:
        """Number of missing run files per session of ``subject`` (only sessions missing some).

        Datasets with ``allow_missing_runs`` override this; by default nothing is
        read when a file is missing, so this is empty.
        """
        return {}

    def local_subjects(self) -> list[int]:
        """Subjects of ``subject_list`` that :meth:`check_local` accepts.

        Their files are all present (or, with ``allow_missing_runs``, at least one
        run) and pass :func:`neurodec.io.integrity.check_file`: a subject with a
        truncated or corrupt file is not local.
        """
        local = []
        for subject in self.subject_list:
            try:
                self.check_local(subject)
            except (DataNotFoundError, InvalidDataError) as exc:
                logger.debug("%s subject %s is not local: %s", self.code, subject, exc)
                continue
            local.append(subject)
        return local

    def check_local(self, subject: int) -> list[Path]:
        """Check every file ``subject`` needs, before anything is read.

        Each expected file must exist and pass :func:`neurodec.io.integrity.check_file`,
        the check :func:`neurodec.io.read_recording` applies (e.g. an EDF file shorter
        than its header promises is refused).

        Returns
        -------
        list of Path
            Missing run files that ``allow_missing_runs=True`` lets through (empty
            otherwise).

        Raises
        ------
        DataNotFoundError
            A file is missing (the message names it), unless ``allow_missing_runs``
            is set and at least one file of the subject is there.
        InvalidDataError
            A file is empty, truncated or corrupt (the message names it).
        """
        expected = [Path(p) for p in self.expected_files(subject)]
        missing = [p for p in expected if not p.is_file()]
        if missing and not self._missing_allowed(subject, expected, missing):
            raise self._missing_error(subject, missing)
        bad = []
        for path in expected:
            if path in missing:
                continue
            try:
                check_file(path)
            except (DataNotFoundError, InvalidDataError) as exc:
                bad.append(str(exc))
        if bad:
            shown = "\n  ".join(bad[:10])
            more = f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""
            raise InvalidDataError(
                f"{self.code}: {len(bad)} file(s) of subject {subject} cannot be used:\n  {shown}{more}\n"
                "Nothing of this subject is read. Restore the file(s) from the dataset's source "
                "(compare sizes/checksums with its MANIFEST)."
            )
        return missing

    def _missing_allowed(self, subject: int, expected: list[Path], missing: list[Path]) -> bool:
        """Whether ``subject`` may be read without ``missing``: ``allow_missing_runs`` and a run left."""
        return self.allow_missing_runs and len(missing) < len(expected)

    def _missing_error(self, subject: int, missing: list[Path]) -> DataNotFoundError:
        """The error for missing files of ``subject`` (override for a dataset-specific hint)."""
        shown = "\n  ".join(str(p) for p in missing[:10])
        more = f"\n  ... and {len(missing) - 10} more" if len(missing) > 10 else ""
        allow = (
            " To read the runs that are there, create the dataset with allow_missing_runs=True."
            if "allow_missing_runs" in inspect.signature(type(self).__init__).parameters
            else ""
        )
        return DataNotFoundError(
            f"{self.code}: {len(missing)} file(s) of subject {subject} are missing:\n  "
            f"{shown}{more}\nPut the dataset in its native layout under the data root "
            f"({self.data_root}), or point data_root= / NEURODEC_DATA at the folder that "
            f"holds a '{Path(self.data_root).name if self.data_root else self.code}' subfolder. "
            f"Nothing is downloaded in offline mode.{allow}"
        )

    def get_data(self, subjects=None, cache_config=None, process_pipeline=None, n_jobs=1):
        """MOABB's ``get_data``, after validating ``subjects`` and checking local files.

        Every requested subject is checked with :func:`check_subjects`
        (:class:`InvalidInputError`) and :meth:`check_local` (:class:`DataNotFoundError`
        for a missing file, :class:`InvalidDataError` for a truncated one) *before* any
        file is read, so a bad request fails at once.

        Returns
        -------
        dict
            ``{subject: {session: {run: mne.io.Raw}}}`` exactly as MOABB.
        """
        subjects = check_subjects(self, subjects)
        for subject in subjects:
            self.check_local(subject)
        return super().get_data(
            subjects=subjects,
            cache_config=cache_config,
            process_pipeline=process_pipeline,
            n_jobs=n_jobs,
        )

    def data_path(self, subject, path=None, force_update=False, update_path=None, verbose=None):
        """MOABB's ``data_path``: the local files of ``subject`` (checked, never downloaded)."""
        check_subjects(self, [subject])
        self.check_local(subject)
        return [str(p) for p in self.expected_files(subject) if Path(p).is_file()]

    def fingerprint_params(self) -> dict[str, Any]:
        """Options that change the data this dataset returns (override to add more)."""
        return {}

    def fingerprint(self, subjects: Sequence[int] | None = None) -> str:
        """Stable hash of the dataset's identity, options and local files.

        Each present file enters with its path, size and modification time (ns), so
        a file that is truncated, rewritten or deleted gives a new fingerprint and the
        epoch cache does not serve epochs computed from the old content.
        ``subjects``: only these subjects' files (default: ``subject_list``), the
        version of one subject's data for the results store.
        """
        files = []
        for subject in self.subject_list if subjects is None else subjects:
            for p in self.expected_files(subject):
                p = Path(p)
                if p.is_file():
                    st = p.stat()
                    files.append((str(p), st.st_size, st.st_mtime_ns))
        payload = {
            "class": type(self).__name__,
            "code": self.code,
            "params": self.fingerprint_params(),
            "files": files,
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
