"""Fit a pipeline on a dataset and write the decoder file a stream will use."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurodec.errors import ConfigError, InvalidInputError

__all__ = ["channel_names", "fit_decoder"]

log = logging.getLogger(__name__)


def channel_names(paradigm: Any, dataset: Any, subject: int) -> tuple[list[str], float]:
    """Names (in the order of ``paradigm.get_data``'s arrays) and sampling rate of
    the channels ``paradigm`` picks from ``dataset``'s first run of ``subject``."""
    from neurodec.paradigms.raw_to_epochs import pick_run_channels

    spec = paradigm.epoching_spec(dataset)
    sessions = dataset.get_data(subjects=[subject])[subject]
    raw = next(iter(next(iter(sessions.values())).values()))
    picks = pick_run_channels(raw, spec)
    sfreq = float(spec.resample) if spec.resample is not None else float(raw.info["sfreq"])
    return [raw.ch_names[i] for i in picks], sfreq


def fit_decoder(
    pipeline: str | os.PathLike,
    dataset: Any,
    out: str | os.PathLike,
    *,
    subjects: Sequence[int] | None = None,
    paradigm: str | None = None,
    name: str | None = None,
    causal: bool = False,
) -> Path:
    """Fit a YAML pipeline on ``subjects`` of ``dataset`` and write a decoder file.

    Parameters
    ----------
    pipeline : path
        A pipeline YAML file, or a folder of them (then ``name`` picks one).
    dataset : dataset
        A MOABB-compatible dataset (``neurodec.datasets.get_dataset``).
    out : path
        Decoder file to write.
    subjects : list of int | None
        Training subjects (default: every subject of ``dataset``).
    paradigm : str | None
        ``LeftRightImagery``, ``MotorImagery`` or ``P300`` (default: the dataset's).
    name : str | None
        Pipeline name, when ``pipeline`` holds several.
    causal : bool
        Fit on epochs cut from runs filtered causally, as the stream will be
        (:func:`neurodec.online.causal.causal_epochs`), instead of the paradigm's
        zero-phase epochs: what event-locked ERP (P300) decoders need, since the
        causal filter's delay shifts the waveform they learn.

    Steps that take domains (``Recentering``) get one domain per subject and session.

    Returns
    -------
    Path
        The decoder file.
    """
    import numpy as np

    from neurodec.evaluation.benchmark import paradigm_for
    from neurodec.evaluation.pipelines import read_pipeline_specs
    from neurodec.online.decoder_file import save_decoder

    specs = read_pipeline_specs(pipeline)
    if name is not None:
        specs = [s for s in specs if s.name == name]
        if not specs:
            names = [s.name for s in read_pipeline_specs(pipeline)]
            raise InvalidInputError(f"no pipeline named {name!r} in {pipeline}; it has {names}")
    if len(specs) != 1:
        raise InvalidInputError(
            f"{pipeline} holds {len(specs)} pipelines ({[s.name for s in specs]}); pick one with --name"
        )
    spec = specs[0]
    par = paradigm_for(dataset, paradigm)
    pname = type(par).__name__
    if pname not in spec.paradigms:
        raise ConfigError(
            f"pipeline {spec.name!r} is for {list(spec.paradigms)}, not {pname} ({dataset.code})"
        )
    subjects = list(subjects) if subjects else list(dataset.subject_list)
    if causal:
        from neurodec.online.causal import causal_epochs

        X, y, meta = causal_epochs(dataset, par, subjects)
    else:
        X, y, meta = par.get_data(dataset, subjects)
    if len(np.unique(y)) < 2:
        raise InvalidInputError(
            f"{dataset.code} subjects {subjects}: one class only ({np.unique(y)}); cannot fit"
        )
    ch_names, sfreq = channel_names(par, dataset, subjects[0])
    if len(ch_names) != X.shape[1]:
        raise InvalidInputError(
            f"{dataset.code}: {len(ch_names)} channel names for arrays of {X.shape[1]} channels"
        )
    log.info("fitting %s on %s subjects %s: X %s", spec.name, dataset.code, subjects, X.shape)
    from threadpoolctl import threadpool_limits

    from neurodec.evaluation.engine import domain_steps

    estimator = spec.build()
    domains = (meta["subject"].astype(str) + "/" + meta["session"].astype(str)).to_numpy()
    fit_params = {("domains" if n is None else f"{n}__domains"): domains for n in domain_steps(estimator)}
    with threadpool_limits(limits=1):  # the folds' convention: results do not depend on the BLAS threads
        estimator.fit(X, y, **fit_params)
    return save_decoder(
        out,
        estimator,
        par,
        ch_names,
        sfreq,
        n_times=X.shape[-1],
        unit="uV" if float(getattr(dataset, "unit_factor", 1e6)) == 1e6 else f"x{dataset.unit_factor} V",
        metadata={
            "pipeline": spec.name,
            "pipeline_hash": spec.content_hash,
            "pipeline_file": str(spec.path.name) if spec.path else None,
            "dataset": dataset.code,
            "subjects": subjects,
            "n_trials": int(len(y)),
            "sessions": sorted(str(s) for s in meta["session"].unique()),
            "causal": bool(causal),
        },
    )
