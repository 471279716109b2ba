"""The tokenizer's pretraining corpus: recordings preprocessed once into windows on disk.

>>> corpus = build_corpus("corpus/", ["PhysionetMI", {"dataset": "SimulatedMI", "modality": "meg"},
...                                   "../shared/data/iEEG"])              # doctest: +SKIP
>>> corpus.recordings                                                       # doctest: +SKIP

* ``preprocess.py``: band-pass, notch, resample, common average, per-type scaling, windows;
* ``sources.py``: registry datasets, folders, BIDS roots -> resumable jobs;
* ``build.py``: :func:`build_corpus` (sharded float16 ``.npy`` + JSON manifest, resumable);
* ``reader.py``: :class:`Corpus` (memory-mapped windows, sensor tables, selection).

No torch here: the torch ``Dataset`` over a corpus is :mod:`neurodec.models.data`.
"""

from __future__ import annotations

from neurodec.corpus.build import build_corpus
from neurodec.corpus.preprocess import (
    Preprocessed,
    PreprocessOptions,
    modality_of,
    preprocess_raw,
    to_windows,
)
from neurodec.corpus.reader import CORPUS_FORMAT, CORPUS_VERSION, Corpus
from neurodec.corpus.sources import jobs_for

__all__ = [
    "build_corpus",
    "Corpus",
    "PreprocessOptions",
    "Preprocessed",
    "preprocess_raw",
    "to_windows",
    "modality_of",
    "jobs_for",
    "CORPUS_FORMAT",
    "CORPUS_VERSION",
]
