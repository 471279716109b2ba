"""braindecode's deep models as pipeline steps (torch; ``pip install neurodec[deep]``).

The reference decoders beside neurodec's own models, trained from scratch (braindecode
ships no pretrained weights and nothing is downloaded here):

* :class:`TorchSeed` (``callbacks.py``): a skorch callback that seeds torch before
  braindecode's ``EEGClassifier`` builds its network, so a pipeline file's EEGNet or
  ShallowFBCSPNet is the same network, trained the same way, on every run;
* :class:`LUNAClassifier` (``luna.py``): braindecode's sensor-aware LUNA, given each
  channel's position from the epochs' ``mne.Info`` (``requires_info``: the evaluation
  engine passes it at fit).

Importing this package without torch or braindecode raises a one-line
:class:`~neurodec.errors.MissingExtraError`.
"""

from __future__ import annotations

from neurodec.extras import require

require("torch", "neurodec.deep")
require("braindecode", "neurodec.deep")

from neurodec.deep.callbacks import TorchSeed  # noqa: E402
from neurodec.deep.luna import LUNAClassifier, channel_positions  # noqa: E402

__all__ = ["TorchSeed", "LUNAClassifier", "channel_positions"]
