"""Riemannian decoders: augmented covariances, embedding selection, re-centering.

Pure array functions live in :mod:`~neurodec.riemann.acm`, :mod:`~neurodec.riemann.selection`
and :mod:`~neurodec.riemann.alignment`; :mod:`~neurodec.riemann.estimators` wraps them as
scikit-learn estimators; :mod:`~neurodec.riemann.svm` holds the ACM pipelines' tuned SVM step.
"""

from neurodec.riemann.acm import augmented_covariances, covariances, embed
from neurodec.riemann.alignment import recenter
from neurodec.riemann.estimators import AugmentedCovariances, Recentering
from neurodec.riemann.selection import EmbeddingChoice, select_embedding
from neurodec.riemann.svm import TunedSVC

__all__ = [
    "AugmentedCovariances",
    "Recentering",
    "TunedSVC",
    "EmbeddingChoice",
    "augmented_covariances",
    "covariances",
    "embed",
    "recenter",
    "select_embedding",
]
