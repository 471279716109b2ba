"""``read_recording``: any file MNE reads -> a :class:`Recording` (raw, events, sensor table)."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import mne

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError, NeurodecError
from neurodec.io.bids import BIDS_ENTITIES, ON_CH_MISMATCH, read_bids, read_channel_types, read_electrodes
from neurodec.io.events import extract_events
from neurodec.io.formats import SUPPORTED_FORMATS, detect_format, read_raw_native
from neurodec.io.integrity import check_file
from neurodec.io.quality import check_finite, handle_flat_channels
from neurodec.io.recording import Recording
from neurodec.sensors import channels_without_position, fill_positions, load_montage, sensor_table

__all__ = ["read_recording"]

logger = logging.getLogger(__name__)

_POSITIONED_TYPES = ("eeg", "seeg", "ecog", "dbs")


@contextmanager
def _mne_warnings_to_log() -> Iterator[None]:
    """Route the warnings MNE/MNE-BIDS emit while reading to neurodec's log (INFO)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for item in caught:
        if issubclass(item.category, DeprecationWarning):
            continue
        logger.info("MNE: %s", str(item.message).strip())


def _read_raw(
    path: Path,
    fmt: str,
    *,
    preload: bool,
    verbose: Any,
    entities: dict,
    on_ch_mismatch: str | None,
    kwargs: dict,
) -> mne.io.BaseRaw:
    desc = SUPPORTED_FORMATS[fmt][1]
    try:
        if fmt == "bids":
            raw = read_bids(
                path, entities=entities, verbose=verbose, on_ch_mismatch=on_ch_mismatch or "raise", **kwargs
            )
            if preload:
                raw.load_data(verbose=verbose)
            return raw
        if any(v is not None for v in entities.values()):
            raise InvalidInputError(
                f"BIDS entities {sorted(k for k, v in entities.items() if v is not None)} only apply to BIDS "
                f"datasets, but {path.name} is read as {desc}"
            )
        if on_ch_mismatch is not None:
            raise InvalidInputError(
                f"on_ch_mismatch= applies to recordings inside a BIDS tree (their channels.tsv), but "
                f"{path.name} is read as {desc}; to set channel types from a channels.tsv pass ch_types="
            )
        check_file(path)
        return read_raw_native(path, fmt, preload=preload, verbose=verbose, **kwargs)
    except NeurodecError:
        raise
    except ModuleNotFoundError as exc:
        raise InvalidInputError(
            f"reading {desc} needs the package {exc.name!r}: pip install {exc.name}"
        ) from exc
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"a file needed to read {path} is missing: {exc}") from exc
    except TypeError as exc:
        if "unexpected keyword" in str(exc) or "got an unexpected" in str(exc):
            raise InvalidInputError(f"option not understood by the {desc} reader: {exc}") from exc
        raise InvalidDataError(f"could not read {path} as {desc}: {exc}") from exc
    except Exception as exc:  # MNE readers raise ValueError, RuntimeError, struct.error, AssertionError...
        raise InvalidDataError(
            f"could not read {path} as {desc} ({type(exc).__name__}: {str(exc).strip() or 'no message'}); "
            "the file is truncated, corrupt or not in that format. Check the file (re-copy or re-export it)"
        ) from exc


def _apply_ch_types(raw: mne.io.BaseRaw, ch_types: Mapping[str, str] | str | os.PathLike) -> None:
    bads: list[str] = []
    if isinstance(ch_types, (str, os.PathLike)):
        mapping, bads = read_channel_types(ch_types)
        source = str(ch_types)
    elif isinstance(ch_types, Mapping):
        mapping, source = {str(k): str(v) for k, v in ch_types.items()}, "ch_types"
    else:
        raise InvalidInputError(
            f"ch_types must be a dict {{channel: type}} or a channels.tsv path, got {type(ch_types).__name__}"
        )
    unknown = [name for name in mapping if name not in raw.ch_names]
    if unknown:
        raise InvalidInputError(
            f"{source} names {len(unknown)} channel(s) that are not in the recording: {unknown[:20]}; "
            f"the recording has {raw.ch_names[:10]}{' ...' if len(raw.ch_names) > 10 else ''}"
        )
    valid = set(mne.io.get_channel_type_constants())
    wrong = sorted({t for t in mapping.values() if t not in valid})
    if wrong:
        raise InvalidInputError(
            f"{source} uses unknown channel type(s) {wrong}; valid MNE types: {sorted(valid)}"
        )
    changes = {n: t for n, t in mapping.items() if raw.get_channel_types(picks=[n])[0] != t}
    if changes:
        with mne.utils.use_log_level("error"):
            raw.set_channel_types(changes, on_unit_change="ignore")
    if bads:
        raw.info["bads"] = list(dict.fromkeys([*raw.info["bads"], *bads]))


def _set_montage_checked(raw: mne.io.BaseRaw, montage: mne.channels.DigMontage, source: str) -> None:
    lower = {n.lower() for n in raw.ch_names}
    if not any(n.lower() in lower for n in montage.ch_names):
        if len(montage.ch_names) == len(raw.ch_names):
            # EEGLAB .set files without labels: the .locs lists the channels in file order.
            logger.warning(
                "no channel name of %s matches the recording; renaming the %d channels by position "
                "(%s -> %s, ...)",
                source,
                len(raw.ch_names),
                raw.ch_names[0],
                montage.ch_names[0],
            )
            raw.rename_channels(dict(zip(raw.ch_names, montage.ch_names)))
        else:
            raise InvalidInputError(
                f"no channel name in {source} ({montage.ch_names[:5]} ...) matches the recording "
                f"({raw.ch_names[:5]} ...), and the counts differ "
                f"({len(montage.ch_names)} vs {len(raw.ch_names)}); "
                "rename the channels or pass the matching position file"
            )
    with mne.utils.use_log_level("error"):
        raw.set_montage(montage, match_case=False, on_missing="ignore")
    missing = channels_without_position(raw.info, _POSITIONED_TYPES)
    if missing:
        logger.info("%d electrode channel(s) have no position in %s: %s", len(missing), source, missing[:20])


def _apply_montage(raw: mne.io.BaseRaw, montage: Any) -> None:
    if montage is None:
        return
    if isinstance(montage, str) and montage == "auto":
        if channels_without_position(raw.info, ("eeg",)):
            fill_positions(raw, "standard_1005", on_missing="ignore")
        return
    if isinstance(montage, str) and not Path(montage).suffix and not Path(montage).exists():
        fill_positions(raw, montage, on_missing="warn")  # a built-in montage name
        return
    mont = load_montage(montage)
    _set_montage_checked(
        raw, mont, str(montage) if isinstance(montage, (str, os.PathLike)) else "the montage"
    )


def read_recording(
    path: str | os.PathLike,
    *,
    electrodes: str | os.PathLike | None = None,
    ch_types: Mapping[str, str] | str | os.PathLike | None = None,
    montage: str | os.PathLike | mne.channels.DigMontage | None = "auto",
    preload: bool = True,
    on_flat: Literal["warn", "raise", "ignore"] = "warn",
    on_ch_mismatch: Literal["raise", "warn", "reorder", "rename"] | None = None,
    verbose: bool | str | int | None = None,
    **reader_kwargs: Any,
) -> Recording:
    """Read any recording MNE can read into a :class:`Recording`.

    Dispatch is by extension (see :data:`SUPPORTED_FORMATS`): FIF, EDF/EDF+, BDF, GDF,
    BrainVision (``.vhdr``), EEGLAB (``.set``), Neuroscan CNT, KIT (``.sqd``/``.con``),
    muse-lsl CSV (``.csv``/``.csv.gz``), and BIDS: a dataset root (select the recording
    with ``subject=``, ``task=``, ``session=``, ``run=``...) or a ``sub-*`` file inside a
    BIDS tree, read with :func:`mne_bids.read_raw_bids` so that ``channels.tsv`` and
    ``electrodes.tsv`` set channel types and positions (iEEG exported as generic EEG).

    Parameters
    ----------
    path : path-like
        A recording file or a BIDS root folder.
    electrodes : path-like | None
        A BIDS-style ``*_electrodes.tsv`` with contact/electrode positions (units and frame
        from the ``*_coordsystem.json`` next to it), applied after ``ch_types``.
    ch_types : dict | path-like | None
        Channel types to set, ``{name: mne_type}`` or a BIDS ``*_channels.tsv`` (its
        ``status == 'bad'`` channels are also marked bad). Names must exist.
    montage : 'auto' | str | path-like | DigMontage | None
        ``'auto'`` (default): EEG channels without positions get those of ``standard_1005``
        when their names match (others stay without position). A built-in montage name:
        the same, warning about unmatched channels. A montage file (``.locs``, CapTrak
        ``.bvct``, ``.elc``, ``.sfp``...) or DigMontage: set as the recording's montage;
        if no name matches but the counts are equal (EEGLAB files without labels), the
        channels are renamed in order. None: positions as in the file.
    preload : bool
        Load the data into memory (needed for the NaN and flat checks, which are skipped
        otherwise).
    on_flat : {'warn', 'raise', 'ignore'}
        Flat data channels: mark bad and log a warning, raise InvalidDataError, or ignore.
    on_ch_mismatch : {'raise', 'warn', 'reorder', 'rename'} | None
        BIDS only: what to do when the names in ``*_channels.tsv`` differ from the
        recording's, passed to :func:`mne_bids.read_raw_bids`. ``None`` (default) is
        ``'raise'`` (InvalidDataError); ``'reorder'`` matches the same names in another
        order, ``'rename'`` takes the sidecar's names in order, ``'warn'`` ignores the
        sidecar. Channels the sidecar does not list at all keep the reader's type and
        are named in a logged warning.
    verbose : bool | str | int | None
        MNE's verbosity while reading (default: MNE quiet; its warnings go to neurodec's log).
    **reader_kwargs
        Passed to the format's reader (e.g. KIT ``mrk=, elp=, hsp=, stim=``; CNT
        ``data_format=``), or BIDS entities for a BIDS root.

    Returns
    -------
    Recording
        ``raw``, ``events`` (from the trigger channel, else the annotations), ``event_id``,
        ``sensors`` (:func:`neurodec.sensors.sensor_table`), ``path`` and ``format``.

    Raises
    ------
    DataNotFoundError
        The file (or a companion file) does not exist.
    InvalidInputError
        Unsupported extension, unknown option, channel names in ``ch_types`` that the
        recording lacks, unknown channel types.
    InvalidDataError
        Truncated, corrupt or unreadable file; NaN samples; flat channels with
        ``on_flat='raise'``; BIDS ``channels.tsv`` names that differ from the
        recording's (with ``on_ch_mismatch`` None or ``'raise'``).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidInputError(f"path must be a file path, got {type(path).__name__}")
    if on_flat not in ("warn", "raise", "ignore"):
        raise InvalidInputError(f"on_flat must be 'warn', 'raise' or 'ignore', got {on_flat!r}")
    if on_ch_mismatch is not None and on_ch_mismatch not in ON_CH_MISMATCH:
        raise InvalidInputError(
            f"on_ch_mismatch must be one of {list(ON_CH_MISMATCH)} or None, got {on_ch_mismatch!r}"
        )
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            f"recording {path} does not exist; check the path (relative paths start at {Path.cwd()})"
        )
    entities = {key: reader_kwargs.pop(key, None) for key in BIDS_ENTITIES}
    bids_flag = reader_kwargs.pop("bids", None)
    fmt = detect_format(path, bids=bids_flag)
    mne_verbose = verbose if verbose is not None else "error"
    logger.info("reading %s as %s", path, SUPPORTED_FORMATS[fmt][1])

    with _mne_warnings_to_log():
        raw = _read_raw(
            path,
            fmt,
            preload=preload,
            verbose=mne_verbose,
            entities=entities,
            on_ch_mismatch=on_ch_mismatch,
            kwargs=reader_kwargs,
        )
        if ch_types is not None:
            _apply_ch_types(raw, ch_types)
        if electrodes is not None:
            _set_montage_checked(raw, read_electrodes(electrodes), str(electrodes))
        _apply_montage(raw, montage)
        if preload:
            check_finite(raw)
            handle_flat_channels(raw, on_flat)
        else:
            logger.debug("preload=False: NaN and flat-channel checks skipped")
        events, event_id = extract_events(raw)
    return Recording(
        raw=raw,
        events=events,
        event_id=event_id,
        sensors=sensor_table(raw.info),
        path=path,
        format=fmt,
    )
