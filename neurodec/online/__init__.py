"""Online decoding: a fitted decoder applied to a live stream.

:class:`StreamingDecoder` is the transport-independent core (push chunks of
samples, get decisions). Around it: decoder files (:func:`save_decoder`,
:func:`load_decoder`), LSL in and out through mne-lsl (:func:`open_stream`,
:class:`DecisionOutlet`, :func:`lsl_loopback_only`), file replay as a live
device (:class:`Replay`), BrainFlow boards (:class:`BrainFlowSource`), the
pseudo-online evaluation (:class:`PseudoOnlineEvaluation`, a protocol of the
evaluation engine; :func:`pseudo_online_scores` in memory) and online re-centering of
covariance decoders (:class:`OnlineRecentering`). :class:`EventLockedDecoder` decodes
the epoch after each stimulus marker (ERP/P300 decoders; LSL markers through
:func:`open_markers`). LSL and BrainFlow are
imported only when used (extras ``neurodec[online]``, ``neurodec[brainflow]``).
"""

from __future__ import annotations

import importlib
from typing import Any

from neurodec.online.decoder import QUALITY_OK, Decision, StreamingDecoder

__all__ = [
    "QUALITY_OK",
    "Decision",
    "StreamingDecoder",
    "DecoderFile",
    "DecoderFileError",
    "save_decoder",
    "load_decoder",
    "fit_decoder",
    "lsl_loopback_only",
    "find_stream",
    "open_stream",
    "LSLSource",
    "DecisionOutlet",
    "Replay",
    "StreamLostError",
    "StreamMonitor",
    "pseudo_online_scores",
    "PseudoOnlineEvaluation",
    "BrainFlowSource",
    "OnlineRecentering",
    "EventLockedDecoder",
    "EventDecision",
    "open_markers",
]

# name -> module; imported on first access so `import neurodec.online` needs no LSL/skops.
_LAZY: dict[str, str] = {
    "DecoderFile": "neurodec.online.decoder_file",
    "DecoderFileError": "neurodec.online.decoder_file",
    "save_decoder": "neurodec.online.decoder_file",
    "load_decoder": "neurodec.online.decoder_file",
    "fit_decoder": "neurodec.online.training",
    "lsl_loopback_only": "neurodec.online.lsl",
    "find_stream": "neurodec.online.lsl",
    "open_stream": "neurodec.online.lsl",
    "LSLSource": "neurodec.online.lsl",
    "DecisionOutlet": "neurodec.online.lsl",
    "Replay": "neurodec.online.replay",
    "StreamLostError": "neurodec.online.source",
    "StreamMonitor": "neurodec.online.source",
    "pseudo_online_scores": "neurodec.online.pseudo_online",
    "PseudoOnlineEvaluation": "neurodec.online.evaluation",
    "BrainFlowSource": "neurodec.online.brainflow",
    "OnlineRecentering": "neurodec.online.adapt",
    "EventLockedDecoder": "neurodec.online.events",
    "EventDecision": "neurodec.online.events",
    "open_markers": "neurodec.online.markers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'neurodec.online' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
