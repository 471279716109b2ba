"""Import torch through :func:`neurodec.extras.require` (one-line error without it)."""

from __future__ import annotations

from neurodec.extras import require

require("torch", "neurodec.models")
