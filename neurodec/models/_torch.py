"""Import torch through :func:`neurodec.optional.require` (one-line error without it)."""

from __future__ import annotations

from neurodec.optional import require

require("torch", "neurodec.models")
