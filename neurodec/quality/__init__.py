"""Signal-quality checks on recordings (amplifier saturation, ...).

:mod:`neurodec.quality.clipping` finds samples at an amplifier's rails and the
epochs they touch, with the same rule the P300 evaluation applies.
"""

from neurodec.quality.clipping import (
    clipped_epochs,
    clipped_samples,
    clipped_spans,
    clipping_report,
)

__all__ = ["clipped_epochs", "clipped_samples", "clipped_spans", "clipping_report"]
