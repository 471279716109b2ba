"""One BLAS/OpenMP thread around the decoders' own calls.

A limit set before NumPy/SciPy/scikit-learn load their BLAS does nothing, so the
limit is applied at call time to the libraries loaded then. The
:class:`threadpoolctl.ThreadpoolController` is built once, at the first call (a
fresh ``threadpool_limits`` scans the loaded libraries each time: ~4.5 ms here,
against ~20 µs for a cached controller's ``limit``).

BLAS thread counts are global to the process, so the limit is shared: several
decoders running in threads of one process hold it together, and the original
counts come back only when the last one leaves (a per-call limit/restore would
let one decoder restore two threads while another is computing).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["OneThread"]

_lock = threading.Lock()
_state: dict[str, Any] = {"controller": None, "limiter": None, "depth": 0}


class OneThread:
    """Reusable context manager: every loaded BLAS/OpenMP pool at one thread inside."""

    def __enter__(self) -> OneThread:
        with _lock:
            if _state["depth"] == 0:
                if _state["controller"] is None:
                    from threadpoolctl import ThreadpoolController

                    _state["controller"] = ThreadpoolController()
                _state["limiter"] = _state["controller"].limit(limits=1)
            _state["depth"] += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None
