"""neurodec's brain foundation model (torch; ``pip install neurodec[deep]``).

Part 1, the tokenizer: any montage of EEG, MEG, sEEG or ECoG -> the same grid of
discrete tokens (``n_frames x n_sources x n_levels`` per 2-s window).

* :class:`TokenizerConfig` (``config.py``): sizes and options, named sizes ``tiny``/``base``;
* :class:`SensorEncoder` (``sensors.py``): channel embedding from its sensor;
* :class:`ResidualVQ` (``rvq.py``): EMA codebooks, k-means init, dead-code restart;
* :class:`BrainTokenizer` (``tokenizer.py``), its loss (``losses.py``) and per-window
  normalisation (``normalize.py``);
* corpus batches (``data.py``), training (``pretrain.py``, ``checkpoint.py``) and use on
  recordings (``inference.py``: tokens, bad-channel repair).

Part 2, the backbone: masked-token prediction over that grid.

* :class:`ModelConfig` (``config.py``, sizes ``test``/``tiny``/``base``) and
  :class:`FoundationModel` (``backbone.py``: criss-cross temporal/spatial attention);
* corpus tokens cached once (``tokens.py``), pretraining (``pretrain_backbone.py``, shared
  machinery in ``training.py``, several processes through ``distributed.py``);
* :class:`FoundationClassifier` (``classifier.py``): a scikit-learn estimator over
  ``mne.Epochs`` or arrays, from scratch, fine-tuned or as a frozen-backbone probe.

Importing this package without torch raises a one-line
:class:`~neurodec.errors.MissingExtraError`.
"""

from __future__ import annotations

import neurodec.models._torch  # noqa: F401  (raises without torch, before anything imports it)
from neurodec.models.backbone import FoundationModel
from neurodec.models.classifier import FoundationClassifier
from neurodec.models.config import MODEL_SIZES, SIZES, ModelConfig, TokenizerConfig
from neurodec.models.losses import pearson, tokenizer_loss
from neurodec.models.rvq import ResidualVQ, VectorQuantizer
from neurodec.models.sensors import SensorEncoder
from neurodec.models.tokenizer import BrainTokenizer, TokenizerOutput, random_visible

__all__ = [
    "TokenizerConfig",
    "SIZES",
    "SensorEncoder",
    "ResidualVQ",
    "VectorQuantizer",
    "BrainTokenizer",
    "TokenizerOutput",
    "random_visible",
    "tokenizer_loss",
    "pearson",
    "ModelConfig",
    "MODEL_SIZES",
    "FoundationModel",
    "FoundationClassifier",
]
