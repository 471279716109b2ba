"""One BLAS/OpenMP thread around the decoder's own calls.

A limit set before NumPy/SciPy/scikit-learn load their BLAS does nothing, so the
limit is applied at call time to the libraries loaded then. The
:class:`threadpoolctl.ThreadpoolController` is built once, at the first call (a
fresh ``threadpool_limits`` scans the loaded libraries each time: ~4.5 ms here,
against ~20 µs for a cached controller's ``limit``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["OneThread"]


class OneThread:
    """Reusable context manager: every loaded BLAS/OpenMP pool at one thread inside."""

    def __init__(self) -> None:
        self._controller: Any = None
        self._active: list[Any] = []

    def __enter__(self) -> OneThread:
        if self._controller is None:
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController()
        self._active.append(self._controller.limit(limits=1))
        return self

    def __exit__(self, *exc: Any) -> None:
        self._active.pop().restore_original_limits()
