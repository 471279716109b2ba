"""Dataset descriptors: the facts about each dataset, kept as data in ``datasets/*.yml``.

A descriptor names the dataset, the class that reads it and what it holds (subjects,
sessions, sampling rate, channels, events, epoch interval, paradigm) plus where it
comes from (citation, licence, DOI) and how its files are laid out locally. The
registry builds its table and its list of names from these files only.

Each YAML file is read with :func:`yaml.safe_load` and checked here; any problem is
a :class:`~neurodec.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from neurodec.config import descriptors_dir
from neurodec.errors import ConfigError

__all__ = ["DatasetDescriptor", "load_descriptor", "load_descriptors", "parse_descriptor"]

_REQUIRED: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "code": (str,),
    "class": (str,),
    "paradigm": (str,),
    "subjects": (int, list),
    "sessions": (int, dict),
    "sampling_rate": (int, float),
    "channels": (list, str),
    "events": (dict,),
    "interval": (list,),
    "citation": (str,),
    "licence": (str,),
    "doi": (str, type(None)),
    "layout": (str,),
}
_OPTIONAL: dict[str, tuple[type, ...]] = {
    "description": (str,),
    "runs": (str, int, dict),
    "notes": (str, list),
    "local_subjects": (list, str),
    "run_files": (dict,),
}
_PARADIGMS = {"imagery", "p300", "ssvep", "rstate", "cvep"}


@dataclass(frozen=True)
class DatasetDescriptor:
    """The validated content of one ``datasets/<name>.yml`` file.

    Attributes
    ----------
    name : str
        Registry name, also the dataset's folder under the data root.
    code : str
        MOABB ``code`` of the dataset (what MOABB's evaluations report).
    cls : str
        ``"module:Class"`` of the class that reads the dataset.
    paradigm : str
        MOABB paradigm family (``"imagery"``, ``"p300"``, ...).
    subjects : list of int
        Subject numbers of the complete dataset.
    sessions : dict of int to int
        Number of sessions of each subject.
    sampling_rate : float
        Sampling rate in Hz.
    channels : list of str or str
        Channel names, or a sentence describing them when they vary.
    events : dict of str to int
        Event names and codes (MOABB's ``event_id``).
    interval : tuple of float
        Epoch window in seconds relative to the event (MOABB's ``interval``).
    citation, licence : str
        Whom to cite and the data licence.
    doi : str or None
        DOI of the reference publication.
    layout : str
        Where the files are expected under ``<data_root>/<name>``.
    extra : dict
        Optional keys (``description``, ``runs``, ``notes``, ``local_subjects``,
        ``run_files``: ``{subject: {session folder: [file stems]}}``, the run files
        the complete dataset holds, checked by datasets that support it).
    path : Path or None
        The YAML file this came from.
    """

    name: str
    code: str
    cls: str
    paradigm: str
    subjects: list[int]
    sessions: dict[int, int]
    sampling_rate: float
    channels: list[str] | str
    events: dict[str, int]
    interval: tuple[float, float]
    citation: str
    licence: str
    doi: str | None
    layout: str
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def n_channels(self) -> int | None:
        """Number of channels, when the descriptor lists them by name."""
        return len(self.channels) if isinstance(self.channels, list) else None

    @property
    def sessions_summary(self) -> str:
        """Sessions per subject as text: ``"2"`` or ``"1-3"`` when they differ."""
        values = sorted(set(self.sessions.values()))
        return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def _fail(source: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"dataset descriptor {source}: key '{key}' {problem}")


def parse_descriptor(content: Any, source: str = "<descriptor>") -> DatasetDescriptor:
    """Validate the loaded YAML mapping of one descriptor.

    Parameters
    ----------
    content : Any
        What :func:`yaml.safe_load` returned.
    source : str
        File name used in error messages.

    Returns
    -------
    DatasetDescriptor

    Raises
    ------
    ConfigError
        The content is not a mapping, a required key is missing, a key is unknown,
        or a value has the wrong type or an impossible value.
    """
    if not isinstance(content, dict):
        raise ConfigError(
            f"dataset descriptor {source}: expected a mapping of keys "
            f"({', '.join(_REQUIRED)}), got {type(content).__name__}"
        )
    unknown = sorted(set(map(str, content)) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise _fail(
            source,
            unknown[0],
            f"is not a descriptor key; known keys: {', '.join([*_REQUIRED, *_OPTIONAL])}",
        )
    for key, types in _REQUIRED.items():
        if key not in content:
            raise _fail(source, key, "is missing (required)")
        if not isinstance(content[key], types) or isinstance(content[key], bool):
            raise _fail(
                source,
                key,
                f"must be {' or '.join(t.__name__ for t in types)}, "
                f"got {type(content[key]).__name__} ({content[key]!r})",
            )
    for key, types in _OPTIONAL.items():
        if key in content and not isinstance(content[key], types):
            raise _fail(source, key, f"must be {' or '.join(t.__name__ for t in types)}")

    if ":" not in content["class"]:
        raise _fail(source, "class", f"must be 'module:Class', got {content['class']!r}")
    if content["paradigm"] not in _PARADIGMS:
        raise _fail(source, "paradigm", f"must be one of {sorted(_PARADIGMS)}, got {content['paradigm']!r}")

    subjects = content["subjects"]
    if isinstance(subjects, int):
        if subjects < 1:
            raise _fail(source, "subjects", f"must be a positive count, got {subjects}")
        subjects = list(range(1, subjects + 1))
    elif not subjects or not all(isinstance(s, int) and not isinstance(s, bool) for s in subjects):
        raise _fail(source, "subjects", "must be a count or a non-empty list of integers")

    sessions = content["sessions"]
    if isinstance(sessions, int):
        if sessions < 1:
            raise _fail(source, "sessions", f"must be >= 1, got {sessions}")
        sessions = {s: sessions for s in subjects}
    else:
        if set(sessions) != set(subjects) or not all(
            isinstance(n, int) and n >= 1 for n in sessions.values()
        ):
            raise _fail(
                source,
                "sessions",
                f"as a mapping must give a count >= 1 for every subject ({subjects[0]}..{subjects[-1]})",
            )
        sessions = {int(s): int(n) for s, n in sessions.items()}

    if content["sampling_rate"] <= 0:
        raise _fail(source, "sampling_rate", f"must be > 0 Hz, got {content['sampling_rate']}")
    channels = content["channels"]
    if isinstance(channels, list) and not all(isinstance(c, str) for c in channels):
        raise _fail(source, "channels", "must be a list of channel names (strings)")

    events = content["events"]
    if not events or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in events.items()
    ):
        raise _fail(source, "events", "must map event names (str) to integer codes")

    interval = content["interval"]
    if (
        len(interval) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in interval)
        or interval[0] >= interval[1]
    ):
        raise _fail(source, "interval", f"must be [tmin, tmax] with tmin < tmax, got {interval!r}")

    name = content["name"]
    stem = Path(source).stem
    if Path(source).suffix in {".yml", ".yaml"} and stem != name:
        raise _fail(source, "name", f"is {name!r} but the file is named {stem!r}.yml; make them equal")

    extra = {k: content[k] for k in _OPTIONAL if k in content}
    if "run_files" in extra:
        extra["run_files"] = _parse_run_files(source, extra["run_files"], sessions)
    return DatasetDescriptor(
        name=name,
        code=content["code"],
        cls=content["class"],
        paradigm=content["paradigm"],
        subjects=list(subjects),
        sessions=sessions,
        sampling_rate=float(content["sampling_rate"]),
        channels=channels,
        events=dict(events),
        interval=(float(interval[0]), float(interval[1])),
        citation=content["citation"].strip(),
        licence=content["licence"],
        doi=content["doi"],
        layout=content["layout"].strip(),
        extra=extra,
        path=Path(source) if source != "<descriptor>" else None,
    )


def _parse_run_files(source: str, value: dict, sessions: dict[int, int]) -> dict[int, dict[str, list[str]]]:
    """``run_files``: for each subject, one list of run-file stems per session folder."""
    out: dict[int, dict[str, list[str]]] = {}
    for subject, folders in value.items():
        if subject not in sessions:
            raise _fail(source, "run_files", f"names subject {subject!r}, which is not in 'subjects'")
        if (
            not isinstance(folders, dict)
            or not all(isinstance(f, str) for f in folders)
            or not all(
                isinstance(stems, list) and stems and all(isinstance(x, str) for x in stems)
                for stems in folders.values()
            )
        ):
            raise _fail(
                source, "run_files", f"subject {subject}: must map session folders to lists of file stems"
            )
        if len(folders) != sessions[subject]:
            raise _fail(
                source,
                "run_files",
                f"subject {subject}: lists {len(folders)} session folder(s) but 'sessions' says "
                f"{sessions[subject]}",
            )
        out[int(subject)] = {str(f): list(stems) for f, stems in folders.items()}
    return out


def load_descriptor(path: str | os.PathLike) -> DatasetDescriptor:
    """Read and validate one descriptor file.

    Raises
    ------
    ConfigError
        The file cannot be read, is not valid YAML, or fails validation.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"dataset descriptor {path}: cannot be read ({exc})") from exc
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"dataset descriptor {path}: not valid YAML ({exc})") from exc
    return parse_descriptor(content, str(path))


def load_descriptors(folder: str | os.PathLike | None = None) -> dict[str, DatasetDescriptor]:
    """Read every ``*.yml`` descriptor of ``folder`` (default :func:`descriptors_dir`).

    Returns
    -------
    dict of str to DatasetDescriptor
        Keyed by ``name``, sorted by name.
    """
    folder = Path(folder) if folder is not None else descriptors_dir()
    if not folder.is_dir():
        raise ConfigError(
            f"dataset descriptor folder {folder} does not exist; it should hold one "
            "<Name>.yml per dataset (the repository's datasets/ folder)"
        )
    found: dict[str, DatasetDescriptor] = {}
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        desc = load_descriptor(path)
        if desc.name in found:
            raise _fail(str(path), "name", f"{desc.name!r} is already used by {found[desc.name].path}")
        found[desc.name] = desc
    return dict(sorted(found.items()))
