"""Model input from the sensor table: usable channels, 6-vectors, type ids."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from neurodec.datasets.simulated.arrays import make_info, meg_array, seeg_array
from neurodec.datasets.simulated.head import template_head
from neurodec.errors import InvalidInputError
from neurodec.sensors import SENSOR_TYPES, model_channels, sensor_features, sensor_table


def test_meg_features_use_normal_for_mag_and_gradient_direction_for_grad():
    table = sensor_table(make_info(meg_array(template_head(), n_locations=10), 256.0))
    usable = model_channels(table)
    assert (
        table.loc[usable, "type"].tolist() == table.loc[table["type"].isin(["mag", "grad"]), "type"].tolist()
    )
    feats, types = sensor_features(table[usable])
    names = table.loc[usable, "type"].to_numpy()
    assert feats.shape == (len(names), 6) and feats.dtype == np.float32
    np.testing.assert_allclose(feats[:, :3], table.loc[usable, ["xn", "yn", "zn"]], rtol=1e-6)
    mag, grad = names == "mag", names == "grad"
    np.testing.assert_allclose(feats[mag, 3:], table.loc[usable].loc[mag, ["nx", "ny", "nz"]], rtol=1e-6)
    np.testing.assert_allclose(feats[grad, 3:], table.loc[usable].loc[grad, ["gx", "gy", "gz"]], rtol=1e-6)
    # the two gradiometers of a triplet share the position and differ by direction
    g = np.flatnonzero(grad)[:2]
    np.testing.assert_allclose(feats[g[0], :3], feats[g[1], :3])
    assert abs(float(feats[g[0], 3:] @ feats[g[1], 3:])) < 1e-3
    assert set(types.tolist()) == {SENSOR_TYPES.index("mag"), SENSOR_TYPES.index("grad")}


def test_electrodes_have_zero_orientation_and_bads_or_unpositioned_are_left_out():
    info = make_info(seeg_array(template_head()), 256.0)
    info["bads"] = [info["ch_names"][0]]
    table = sensor_table(info)
    usable = model_channels(table)
    assert not usable[0] and usable.sum() == (table["type"] == "seeg").sum() - 1
    assert model_channels(table, include_bads=True)[0]
    feats, types = sensor_features(table[usable])
    assert (feats[:, 3:] == 0).all() and (types == SENSOR_TYPES.index("seeg")).all()
    eeg = mne.create_info(["Cz", "EOG"], 256.0, ["eeg", "eog"])
    t = sensor_table(eeg)
    assert not model_channels(t).any()  # no position, not a sensor type
    with pytest.raises(InvalidInputError, match="no model embedding"):
        sensor_features(t)
    with pytest.raises(InvalidInputError, match="no position"):
        sensor_features(t.iloc[:1])
