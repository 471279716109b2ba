"""Hand-made feature extractors for epochs (scikit-learn transformers).

:class:`~neurodec.features.erp.DecimatedEpochs` turns ERP epochs into the
block-averaged, flattened amplitude vectors that shrinkage-LDA P300 decoders use.
"""

from neurodec.features.erp import DecimatedEpochs, decimate_epochs

__all__ = ["DecimatedEpochs", "decimate_epochs"]
