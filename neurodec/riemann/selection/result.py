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

    # Dicts keyed by (order, lag) are stored as [order, lag, value] rows, so the
    # state holds only string-keyed mappings: skops (decoder files) can write it,
    # and pickle round-trips it unchanged.
    def __getstate__(self) -> dict:
        details = {}
        pair_keyed = []
        for k, v in self.details.items():
            if _pair_keyed(v):
                details[k] = _rows(v)
                pair_keyed.append(k)
            else:
                details[k] = v
        return {
            "order": self.order,
            "lag": self.lag,
            "scores": _rows(self.scores),
            "details": details,
            "pair_keyed_details": pair_keyed,
        }

    def __setstate__(self, state: dict) -> None:
        pair_keyed = set(state.get("pair_keyed_details", ()))
        self.order = state["order"]
        self.lag = state["lag"]
        self.scores = _pairs(state["scores"])
        self.details = {k: (_pairs(v) if k in pair_keyed else v) for k, v in state["details"].items()}


def _pair_keyed(obj) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(isinstance(k, tuple) and len(k) == 2 for k in obj)


def _rows(mapping: dict) -> list:
    return [[k[0], k[1], v] for k, v in mapping.items()]


def _pairs(rows) -> dict:
    if isinstance(rows, dict):  # state written before rows were used
        return dict(rows)
    return {(r[0], r[1]): r[2] for r in rows}
