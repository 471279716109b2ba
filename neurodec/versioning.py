"""The neurodec version in pickled estimators, checked when they are loaded.

scikit-learn records its version in the pickles of its own estimators and warns
(``sklearn.exceptions.InconsistentVersionWarning``) when one is loaded under another
version; it does that only for classes defined in ``sklearn``. :class:`VersionedStateMixin`
does the same for neurodec's estimators with neurodec's version: ``__getstate__`` adds
``_neurodec_version``, ``__setstate__`` removes it and warns with
:class:`~neurodec.errors.InconsistentVersionWarning` when it differs from the running
version (or is missing: pickled before versions were recorded).
"""

from __future__ import annotations

import warnings
from typing import Any

from neurodec.errors import InconsistentVersionWarning

__all__ = ["VersionedStateMixin", "STATE_KEY"]

#: The key holding the neurodec version in a pickled estimator's state.
STATE_KEY = "_neurodec_version"


def _current() -> str:
    import neurodec

    return neurodec.__version__


class VersionedStateMixin:
    """Record the neurodec version in pickles and warn when loading another version's.

    Put it first in the bases, before scikit-learn's: ``class X(VersionedStateMixin,
    TransformerMixin, BaseEstimator)``.
    """

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()  # type: ignore[misc]
        return {**state, STATE_KEY: _current()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        original = state.pop(STATE_KEY, "unknown")
        current = _current()
        if original != current:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__, current_version=current, original_version=original
                ),
                stacklevel=2,
            )
        super().__setstate__(state)  # type: ignore[misc]
