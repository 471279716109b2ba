"""Evaluation engine: MOABB protocols as splitters, a shared-work engine, a
durable results store, pipelines from YAML, statistics and plots.

Public API::

    WithinSessionEvaluation, CrossSessionEvaluation, CrossSubjectEvaluation,
    PseudoOnlineEvaluation (held-out runs replayed through the streaming decoder)
    WithinSessionSplitter, CrossSessionSplitter, CrossSubjectSplitter,
    CalibratedCrossSubjectSplitter, LeaveOneRunOutSplitter
    ResultsStore, load_pipelines, get_metric
"""

from __future__ import annotations

from neurodec.evaluation.evaluations import (
    EVALUATIONS,
    CrossSessionEvaluation,
    CrossSubjectEvaluation,
    WithinSessionEvaluation,
)
from neurodec.evaluation.metrics import get_metric
from neurodec.evaluation.splitters import (
    CalibratedCrossSubjectSplitter,
    CrossSessionSplitter,
    CrossSubjectSplitter,
    LeaveOneRunOutSplitter,
    WithinSessionSplitter,
)
from neurodec.evaluation.store import ResultsStore

__all__ = [
    "EVALUATIONS",
    "WithinSessionEvaluation",
    "CrossSessionEvaluation",
    "CrossSubjectEvaluation",
    "PseudoOnlineEvaluation",
    "WithinSessionSplitter",
    "CrossSessionSplitter",
    "CrossSubjectSplitter",
    "CalibratedCrossSubjectSplitter",
    "LeaveOneRunOutSplitter",
    "ResultsStore",
    "get_metric",
    "load_pipelines",
]


def __getattr__(name: str):
    if name == "load_pipelines":
        from neurodec.evaluation.pipelines import load_pipelines

        return load_pipelines
    if name == "PseudoOnlineEvaluation":  # lives in neurodec.online, imported on first use
        return EVALUATIONS["pseudo-online"]
    raise AttributeError(name)
