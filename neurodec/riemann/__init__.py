"""Riemannian decoders: augmented covariances, embedding selection, re-centering.

Pure array functions live in :mod:`~neurodec.riemann.acm`, :mod:`~neurodec.riemann.selection`
and :mod:`~neurodec.riemann.alignment`; :mod:`~neurodec.riemann.estimators` wraps them as
scikit-learn estimators.
"""

from neurodec.riemann.acm import augmented_covariances, covariances, embed
from neurodec.riemann.alignment import recenter
from neurodec.riemann.estimators import AugmentedCovariances, Recentering
from neurodec.riemann.selection import EmbeddingChoice, select_embedding

__all__ = [
    "AugmentedCovariances",
    "Recentering",
    "EmbeddingChoice",
    "augmented_covariances",
    "covariances",
    "embed",
    "recenter",
    "select_embedding",
]
