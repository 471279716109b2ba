"""What a selector returns."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EmbeddingChoice"]


@dataclass
class EmbeddingChoice:
    """Result of a selector: the chosen ``order``/``lag`` and what led to them.

    Attributes
    ----------
    order, lag : int
        The chosen embedding.
    scores : dict
        ``{(order, lag): score}`` for the supervised selectors (inner-fold score).
    details : dict
        Selector-specific curves (e.g. ``"ami"`` and ``"e1"`` arrays).
    """

    order: int
    lag: int
    scores: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def as_tuple(self) -> tuple[int, int]:
        """``(order, lag)`` as plain ints."""
        return int(self.order), int(self.lag)
