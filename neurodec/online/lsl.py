"""LSL in and out through mne-lsl (which bundles liblsl).

The first function here, :func:`lsl_loopback_only`, keeps every LSL packet
of the process on this machine; tests and rehearsals call it before creating
any LSL object, labs leave it off and keep their own ``lsl_api.cfg``.
"""

from __future__ import annotations

import logging

__all__ = ["LOOPBACK_CONFIG", "lsl_loopback_only"]

log = logging.getLogger(__name__)

#: liblsl configuration that keeps discovery and data on the loopback interface.
LOOPBACK_CONFIG = """[ports]
IPv6 = disable
PortRange = 128

[multicast]
ResolveScope = machine
AddressesOverride = {127.0.0.1}

[lab]
KnownPeers = {127.0.0.1}

[tuning]
MulticastMinRTT = 0.05
UnicastMinRTT = 0.05
TimeProbeInterval = 0.005
"""

_applied = False


def lsl_loopback_only() -> None:
    """Keep this process's LSL traffic on the loopback interface (127.0.0.1).

    Discovery is limited to this machine (``ResolveScope = machine``, known peer
    and address override 127.0.0.1, no IPv6), so several outlets of one machine
    are all found quickly and nothing is sent to the lab network. liblsl reads
    its configuration once, at the first LSL object: call this before creating
    any stream, inlet, outlet or player (later calls are ignored by liblsl).
    Idempotent.
    """
    global _applied
    if _applied:
        return
    from mne_lsl.lsl import set_config_content

    set_config_content(LOOPBACK_CONFIG)
    _applied = True
    log.info("liblsl configured for loopback-only discovery")
