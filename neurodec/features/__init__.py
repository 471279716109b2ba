"""Hand-made feature extractors for epochs (scikit-learn transformers).

:class:`~neurodec.features.erp.DecimatedEpochs` turns ERP epochs into the
block-averaged, flattened amplitude vectors that shrinkage-LDA P300 decoders use;
:class:`~neurodec.features.latency.LatencyAlignment` crops each session's epochs at
that session's own stimulus-to-EEG delay, estimated without labels.
"""

from neurodec.features.erp import DecimatedEpochs, decimate_epochs
from neurodec.features.latency import LatencyAlignment, estimate_lag, shifted_crop

__all__ = ["DecimatedEpochs", "LatencyAlignment", "decimate_epochs", "estimate_lag", "shifted_crop"]
