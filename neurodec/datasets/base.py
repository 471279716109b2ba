"""What every neurodec dataset adds to MOABB's ``BaseDataset`` contract.

A neurodec dataset *is* a :class:`moabb.datasets.base.BaseDataset` (so MOABB's own
paradigms and evaluations accept it) and also knows where its files live locally,
checks them before reading, and has a stable fingerprint used in cache keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moabb.datasets.base import BaseDataset

from neurodec.errors import DataNotFoundError, InvalidInputError

__all__ = ["NeurodecDataset", "check_subjects"]


def check_subjects(dataset: BaseDataset, subjects: Any) -> list[int]:
    """Validate a subject selection against ``dataset.subject_list``.

    ``None`` means every subject. Raises :class:`InvalidInputError` naming the
    subjects that do not exist and the valid range.
    """
    available = list(dataset.subject_list)
    if subjects is None:
        return available
    if isinstance(subjects, (int, str)):
        subjects = [subjects]
    try:
        subjects = list(subjects)
    except TypeError:
        raise InvalidInputError(f"subjects must be a list of subject numbers, got {subjects!r}") from None
    bad = [s for s in subjects if s not in available]
    if bad:
        lo, hi = min(available), max(available)
        raise InvalidInputError(
            f"{dataset.code}: subject(s) {bad} do not exist; this dataset has "
            f"{len(available)} subjects ({lo}..{hi}). Pass subjects from that range."
        )
    return subjects


class NeurodecDataset(BaseDataset):
    """MOABB ``BaseDataset`` plus local-file checks and a fingerprint.

    Subclasses set ``self.data_root`` (a :class:`~pathlib.Path`, may be ``None`` for
    generated data), implement :meth:`expected_files` and MOABB's
    ``_get_single_subject_data``; :meth:`fingerprint_params` lists the options that
    change the data.
    """

    data_root: Path | None = None

    def expected_files(self, subject: int) -> list[Path]:
        """Files that must exist locally to read ``subject`` (empty for generated data)."""
        return []

    def local_subjects(self) -> list[int]:
        """Subjects of ``subject_list`` whose expected files are all present."""
        return [s for s in self.subject_list if all(Path(p).is_file() for p in self.expected_files(s))]

    def check_local(self, subject: int) -> None:
        """Raise :class:`DataNotFoundError` if any expected file of ``subject`` is missing."""
        missing = [p for p in self.expected_files(subject) if not Path(p).is_file()]
        if missing:
            shown = "\n  ".join(str(p) for p in missing[:10])
            more = f"\n  ... and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise DataNotFoundError(
                f"{self.code}: {len(missing)} file(s) of subject {subject} are missing:\n  "
                f"{shown}{more}\nPut the dataset in its native layout under the data root "
                f"({self.data_root}), or point data_root= / NEURODEC_DATA at the folder that "
                f"holds a '{Path(self.data_root).name if self.data_root else self.code}' subfolder. "
                "Nothing is downloaded in offline mode."
            )

    def get_data(self, subjects=None, cache_config=None, process_pipeline=None, n_jobs=1):
        """MOABB's ``get_data``, after validating ``subjects`` and checking local files.

        Every requested subject is checked with :func:`check_subjects`
        (:class:`InvalidInputError`) and :meth:`check_local` (:class:`DataNotFoundError`)
        *before* any file is read, so a bad request fails at once.

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
        return [str(p) for p in self.expected_files(subject)]

    def fingerprint_params(self) -> dict[str, Any]:
        """Options that change the data this dataset returns (override to add more)."""
        return {}

    def fingerprint(self, subjects: Sequence[int] | None = None) -> str:
        """Stable hash of the dataset's identity, options and local file sizes/mtimes.

        ``subjects``: only these subjects' files (default: ``subject_list``), the
        version of one subject's data for the results store.
        """
        files = []
        for subject in self.subject_list if subjects is None else subjects:
            for p in self.expected_files(subject):
                p = Path(p)
                if p.is_file():
                    st = p.stat()
                    files.append((str(p), st.st_size, int(st.st_mtime)))
        payload = {
            "class": type(self).__name__,
            "code": self.code,
            "params": self.fingerprint_params(),
            "files": files,
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
