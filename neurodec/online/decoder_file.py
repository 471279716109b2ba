"""Decoder files: a fitted pipeline plus everything a stream must match.

One file (a zip archive, suffix ``.ndec`` by convention) holds

* ``model.skops``: the fitted estimator written with :mod:`skops.io`, which
  rebuilds objects from a declarative schema instead of running pickle's
  arbitrary code. Loading accepts only skops' default-trusted types (NumPy,
  SciPy, scikit-learn) plus the explicit list :data:`TRUSTED_TYPES` (the
  pyRiemann and neurodec estimators of the bundled pipelines); any other type is
  refused unless the caller names it in ``trusted=``.
* ``decoder.json``: channel names and order, sampling rate, window length,
  band of the training paradigm, unit, classes, provenance, the versions that
  wrote it, and a SHA-256 over the metadata and the model bytes.

On load, a file written by another neurodec version or format is refused (the
estimator's numbers may differ), as is a file whose content no longer matches
its hash. The hash detects corruption and edits made without neurodec; it is
not a signature (whoever edits the file can recompute it): protection against
code execution comes from the trusted-type list.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurodec import __version__
from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError

__all__ = [
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "DecoderFile",
    "DecoderFileError",
    "save_decoder",
    "load_decoder",
]

log = logging.getLogger(__name__)

#: Bump when the layout of decoder files changes.
FORMAT_VERSION = 1
_FORMAT = "neurodec-decoder"
_META = "decoder.json"
_MODEL = "model.skops"

#: Types (beyond skops' NumPy/SciPy/scikit-learn defaults) a decoder file may hold
#: without the caller trusting them explicitly: the estimators of the bundled pipelines.
TRUSTED_TYPES: tuple[str, ...] = (
    "neurodec.features.erp.DecimatedEpochs",
    "neurodec.features.latency.LatencyAlignment",
    "neurodec.riemann.estimators.AugmentedCovariances",
    "neurodec.riemann.estimators.Recentering",
    "neurodec.riemann.selection.result.EmbeddingChoice",
    "neurodec.riemann.svm.TunedSVC",
    "pyriemann.classification.FgMDM",
    "pyriemann.classification.MDM",
    "pyriemann.classification.TSClassifier",
    "pyriemann.estimation.Covariances",
    "pyriemann.estimation.ERPCovariances",
    "pyriemann.estimation.Shrinkage",
    "pyriemann.estimation.XdawnCovariances",
    "pyriemann.spatialfilters.CSP",
    "pyriemann.spatialfilters.Xdawn",
    "pyriemann.tangentspace.FGDA",
    "pyriemann.tangentspace.TangentSpace",
)


class DecoderFileError(InvalidDataError):
    """A decoder file cannot be used: not one, another version, modified, or untrusted content."""


@dataclass(frozen=True)
class DecoderFile:
    """A loaded decoder file.

    Attributes
    ----------
    estimator : fitted estimator
    ch_names : tuple of str
        Channels in the order the estimator expects.
    sfreq : float
        Sampling rate (Hz) of the training data; the stream must match it.
    n_times : int
        Samples per window (the trained epoch length).
    fmin, fmax : float | None
        Band-pass of the training paradigm.
    unit : str
        Unit of the training data (``"uV"`` for neurodec's paradigms).
    classes : tuple
    metadata : dict
        Everything in ``decoder.json`` (paradigm, pipeline, provenance, versions).
    path : Path | None
    """

    estimator: Any
    ch_names: tuple[str, ...]
    sfreq: float
    n_times: int
    fmin: float | None
    fmax: float | None
    unit: str
    classes: tuple
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def window(self) -> float:
        """Window length in seconds."""
        return self.n_times / self.sfreq

    def streaming(self, step: float = 0.1, **kwargs: Any):
        """A :class:`~neurodec.online.StreamingDecoder` set up as the decoder was trained.

        Parameters
        ----------
        step : float
            Seconds between decisions.
        **kwargs
            Other :class:`~neurodec.online.StreamingDecoder` options
            (``max_jitter``, ``settle``, ``scale``, ``adapt``).
        """
        from neurodec.online.decoder import StreamingDecoder

        kwargs.setdefault("unit", self.unit)
        return StreamingDecoder(
            self.estimator,
            window=self.window,
            step=step,
            sfreq=self.sfreq,
            ch_names=list(self.ch_names),
            fmin=self.fmin,
            fmax=self.fmax,
            **kwargs,
        )

    @property
    def tmin(self) -> float:
        """Start of the training epochs relative to their events (the paradigm's ``tmin``, else 0)."""
        value = (self.metadata.get("paradigm") or {}).get("params", {}).get("tmin")
        return 0.0 if value is None else float(value)

    def event_locked(self, **kwargs: Any):
        """A :class:`~neurodec.online.EventLockedDecoder` set up as the decoder was trained:
        one decision per marker, on the epoch from ``tmin`` (the training paradigm's)
        for the trained length.

        Parameters
        ----------
        **kwargs
            Other :class:`~neurodec.online.EventLockedDecoder` options (``codes``,
            ``max_delay``, ``tmin``, ``adapt``...).
        """
        from neurodec.online.events import EventLockedDecoder

        params = (self.metadata.get("paradigm") or {}).get("params", {})
        if params.get("baseline") is not None:
            raise InvalidInputError(
                f"this decoder was trained on baseline-corrected epochs (baseline {params['baseline']}); "
                "event-locked decoding cuts plain epochs: re-fit it with a paradigm without baseline"
            )
        kwargs.setdefault("unit", self.unit)
        kwargs.setdefault("tmin", self.tmin)
        return EventLockedDecoder(
            self.estimator,
            window=self.window,
            sfreq=self.sfreq,
            ch_names=list(self.ch_names),
            fmin=self.fmin,
            fmax=self.fmax,
            **kwargs,
        )


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def _paradigm_meta(paradigm: Any) -> dict:
    """``{"name", "params", "fmin", "fmax"}`` of a paradigm object or mapping."""
    if paradigm is None:
        return {"name": None, "params": {}, "fmin": None, "fmax": None}
    if isinstance(paradigm, Mapping):
        params = dict(paradigm)
        name = params.pop("name", None)
    elif hasattr(paradigm, "get_params"):
        params = dict(paradigm.get_params())
        name = type(paradigm).__name__
    else:
        raise InvalidInputError(
            f"paradigm must be a neurodec paradigm (e.g. LeftRightImagery()), a mapping with fmin/fmax, "
            f"or None; got {type(paradigm).__name__}"
        )
    params.pop("cache_dir", None)  # a local path, not part of the processing
    fmin, fmax = params.get("fmin"), params.get("fmax")
    for key, value in (("fmin", fmin), ("fmax", fmax)):
        if value is not None:
            try:
                float(value)
            except (TypeError, ValueError):
                raise InvalidInputError(
                    f"paradigm {key} must be a number in Hz or None, got {value!r}"
                ) from None
    return {
        "name": name,
        "params": _jsonable(params),
        "fmin": None if fmin is None else float(fmin),
        "fmax": None if fmax is None else float(fmax),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"neurodec": __version__}
    for dist in ("scikit-learn", "pyriemann", "numpy", "scipy", "skops"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover
            out[dist] = "absent"
    return out


def _digest(meta: Mapping[str, Any], model: bytes) -> str:
    body = {k: v for k, v in meta.items() if k != "sha256"}
    h = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    h.update(model)
    return h.hexdigest()


def _skops():
    try:
        import skops.io as sio
    except ImportError:  # pragma: no cover - the extra is missing
        raise InvalidInputError(
            "decoder files need skops: install neurodec's online extra (pip install 'neurodec[online]')"
        ) from None
    return sio


def save_decoder(
    path: str | os.PathLike,
    estimator: Any,
    paradigm: Any,
    ch_names: Sequence[str],
    sfreq: float,
    *,
    window: float | None = None,
    n_times: int | None = None,
    unit: str = "uV",
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write a fitted estimator and what a stream must match into one file.

    Parameters
    ----------
    path : path
        File to write (replaced atomically if it exists); ``.ndec`` by convention.
    estimator : fitted estimator
        Takes ``X`` (n_windows, n_channels, n_times).
    paradigm : paradigm | mapping | None
        The preprocessing of the training data: a neurodec paradigm (its class
        and parameters are stored; its ``fmin``/``fmax`` become the stream's
        causal band-pass) or a mapping with ``fmin``/``fmax``.
    ch_names : list of str
        Channel names, in the order of the training arrays.
    sfreq : float
        Sampling rate of the training arrays (Hz).
    window, n_times : float, int
        Trained epoch length, in seconds or samples (one of them).
    unit : str
        Unit of the training arrays (neurodec's paradigms: microvolts, ``"uV"``).
    metadata : mapping | None
        Extra provenance stored as given (must be JSON-compatible).

    Returns
    -------
    Path
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    sio = _skops()
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise InvalidInputError(
            f"the {type(estimator).__name__} is not fitted; fit it before saving"
        ) from None
    except TypeError:
        raise InvalidInputError(
            f"estimator must be a scikit-learn estimator, got {type(estimator).__name__}"
        ) from None
    ch_names = [str(c) for c in ch_names]
    if not ch_names or len(set(ch_names)) != len(ch_names):
        raise InvalidInputError("ch_names must be a non-empty list of unique channel names")
    sfreq = float(sfreq)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise InvalidInputError(f"sfreq must be a positive number in Hz, got {sfreq}")
    if (window is None) == (n_times is None):
        raise InvalidInputError(
            "give the trained epoch length: window= (seconds) or n_times= (samples, X.shape[-1])"
        )
    n = int(n_times) if n_times is not None else int(round(float(window) * sfreq))
    if n < 2:
        raise InvalidInputError(f"the window must be at least two samples, got {n}")
    par = _paradigm_meta(paradigm)
    classes = getattr(estimator, "classes_", None)
    try:
        model = sio.dumps(estimator)
    except Exception as exc:  # skops cannot express every object
        raise InvalidInputError(
            f"cannot write this {type(estimator).__name__} with skops ({type(exc).__name__}: {exc})"
        ) from exc
    types = sio.get_untrusted_types(data=model)
    meta = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "ch_names": ch_names,
        "sfreq": sfreq,
        "n_times": n,
        "fmin": par["fmin"],
        "fmax": par["fmax"],
        "unit": str(unit),
        "classes": None if classes is None else _jsonable(list(classes)),
        "paradigm": {"name": par["name"], "params": par["params"]},
        "estimator": type(estimator).__name__,
        "types": types,
        "metadata": _jsonable(dict(metadata or {})),
    }
    meta["sha256"] = _digest(meta, model)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_META, json.dumps(meta, indent=1, sort_keys=True))
        zf.writestr(_MODEL, model)
    from neurodec.atomic import atomic_write

    path = Path(path)
    atomic_write(path, lambda p: Path(p).write_bytes(buf.getvalue()))
    log.info(
        "decoder written to %s (%d bytes, %d channels, %g Hz)",
        path,
        len(buf.getvalue()),
        len(ch_names),
        sfreq,
    )
    return path


def _read(path: Path) -> tuple[dict, bytes]:
    if not path.is_file():
        raise DataNotFoundError(f"decoder file {path} does not exist; write one with `neurodec fit`")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {_META, _MODEL} <= names:
                raise DecoderFileError(
                    f"{path} is not a neurodec decoder file (it lacks {sorted({_META, _MODEL} - names)}); "
                    "write one with `neurodec fit` or neurodec.online.save_decoder"
                )
            meta = json.loads(zf.read(_META).decode("utf-8"))
            model = zf.read(_MODEL)
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
        raise DecoderFileError(
            f"{path} is not a readable neurodec decoder file ({type(exc).__name__}: {exc}); "
            "write one with `neurodec fit` or neurodec.online.save_decoder"
        ) from exc
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise DecoderFileError(f"{path} is not a neurodec decoder file (no '{_FORMAT}' header)")
    return meta, model


def load_decoder(path: str | os.PathLike, *, trusted: Iterable[str] = ()) -> DecoderFile:
    """Read a decoder file written by :func:`save_decoder` (or ``neurodec fit``).

    Parameters
    ----------
    path : path
    trusted : list of str
        Extra fully qualified type names to accept (e.g. a braindecode model's),
        beyond skops' defaults and :data:`TRUSTED_TYPES`. Only name types from a
        file you created.

    Returns
    -------
    DecoderFile

    Raises
    ------
    DataNotFoundError
        No such file.
    DecoderFileError
        Not a decoder file; written by another neurodec version or file format;
        content modified since it was written (hash mismatch); holds types that
        are not trusted.
    """
    sio = _skops()
    path = Path(path)
    meta, model = _read(path)
    fmt = meta.get("format_version")
    if fmt != FORMAT_VERSION:
        raise DecoderFileError(
            f"{path} uses decoder file format {fmt}, this neurodec reads format {FORMAT_VERSION}; "
            "re-create it with `neurodec fit`"
        )
    written_by = (meta.get("versions") or {}).get("neurodec")
    if written_by != __version__:
        raise DecoderFileError(
            f"{path} was written by neurodec {written_by}, this is neurodec {__version__}: its estimator "
            "may decode differently here; re-create it with this version (`neurodec fit`)"
        )
    if meta.get("sha256") != _digest(meta, model):
        raise DecoderFileError(
            f"{path} was modified after it was written (its SHA-256 does not match its content); "
            "refusing to load it. Re-create it with `neurodec fit`"
        )
    allowed = set(TRUSTED_TYPES) | {str(t) for t in trusted}
    try:
        found = sio.get_untrusted_types(data=model)
    except Exception as exc:
        raise DecoderFileError(
            f"{path}: the model part cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    refused = sorted(set(found) - allowed)
    if refused:
        raise DecoderFileError(
            f"{path} holds types neurodec does not trust: {refused}. If you created this file, "
            "pass them to load_decoder(trusted=[...]) (CLI: --trust NAME)"
        )
    try:
        estimator = sio.loads(model, trusted=sorted(allowed & set(found)))
    except Exception as exc:
        raise DecoderFileError(f"{path}: the model cannot be loaded ({type(exc).__name__}: {exc})") from exc
    ours = _versions()
    for dist, v in (meta.get("versions") or {}).items():
        if dist != "neurodec" and ours.get(dist) not in (None, v):
            log.warning("%s was written with %s %s; %s is installed", path, dist, v, ours.get(dist))
    try:
        ch_names = tuple(str(c) for c in meta["ch_names"])
        sfreq = float(meta["sfreq"])
        n_times = int(meta["n_times"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DecoderFileError(f"{path}: decoder.json lacks a valid {exc}") from None
    classes = meta.get("classes")
    return DecoderFile(
        estimator=estimator,
        ch_names=ch_names,
        sfreq=sfreq,
        n_times=n_times,
        fmin=meta.get("fmin"),
        fmax=meta.get("fmax"),
        unit=str(meta.get("unit", "uV")),
        classes=tuple(classes) if classes is not None else tuple(getattr(estimator, "classes_", ())),
        metadata=meta,
        path=path,
    )
