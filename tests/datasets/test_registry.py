"""Registry and descriptor tests: names, lookup errors, options, YAML validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neurodec.config import descriptors_dir
from neurodec.datasets import dataset_table, get_dataset, list_datasets
from neurodec.datasets.descriptors import load_descriptor, load_descriptors
from neurodec.datasets.registry import get_descriptor
from neurodec.errors import ConfigError, DataNotFoundError, InvalidInputError, UnknownNameError

REQUIRED = {
    "PhysionetMI",
    "BNCI2014_001",
    "BNCI2014_004",
    "Zhou2016",
    "EEGNotebooks_VisualP300",
    "SimulatedMI",
}


def test_list_datasets_has_required_names():
    names = list_datasets()
    assert REQUIRED <= set(names)
    assert names == sorted(names)


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownNameError) as info:
        get_dataset("PhysionetMII")
    msg = str(info.value)
    assert "PhysionetMII" in msg and "Did you mean 'PhysionetMI'" in msg
    for name in REQUIRED:
        assert name in msg


def test_lookup_by_moabb_code():
    assert get_descriptor("BNCI2014-001").name == "BNCI2014_001"
    assert get_descriptor("PhysionetMotorImagery").name == "PhysionetMI"


def test_get_dataset_uses_data_root_subfolder(tmp_path):
    ds = get_dataset("BNCI2014_004", data_root=tmp_path)
    assert ds.data_root == tmp_path.resolve() / "BNCI2014_004"
    assert ds.code == "BNCI2014-004"


def test_get_dataset_default_root_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURODEC_DATA", str(tmp_path))
    assert get_dataset("PhysionetMI").data_root == tmp_path.resolve() / "PhysionetMI"


def test_unknown_option_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown option"):
        get_dataset("PhysionetMI", data_root=tmp_path, imagind=True)


@pytest.mark.parametrize("name", sorted(REQUIRED - {"SimulatedMI"}))
def test_descriptor_matches_dataset_class(name, tmp_path):
    """The YAML descriptor and the class MOABB/neurodec build agree (no drift)."""
    desc = get_descriptor(name)
    ds = get_dataset(name, data_root=tmp_path)
    assert ds.code == desc.code
    assert ds.paradigm == desc.paradigm
    assert list(ds.subject_list) == desc.subjects
    assert dict(ds.event_id) == desc.events
    assert [float(v) for v in ds.interval] == list(desc.interval)
    assert ds.n_sessions == max(desc.sessions.values())


def test_simulated_entry_is_registered_lazily():
    desc = get_descriptor("SimulatedMI")
    assert desc.cls == "neurodec.datasets.simulated:SimulatedMI"
    assert desc.paradigm == "imagery"


def test_simulated_options_pass_through(tmp_path):
    pytest.importorskip("neurodec.datasets.simulated")
    desc = get_descriptor("SimulatedMI")
    default = get_dataset("SimulatedMI", data_root=tmp_path)  # data_root is ignored
    assert default.code == desc.code and default.event_id == desc.events
    assert list(default.subject_list) == desc.subjects
    assert default.n_sessions == max(desc.sessions.values())
    assert [float(v) for v in default.interval] == list(desc.interval)
    small = get_dataset("SimulatedMI", n_subjects=2, n_sessions=2, seed=3)
    assert list(small.subject_list) == [1, 2] and small.n_sessions == 2
    with pytest.raises(InvalidInputError, match="unknown option"):
        get_dataset("SimulatedMI", n_subject=2)


def test_dataset_table_columns_and_local_counts(data_root):
    table = dataset_table(data_root)
    assert list(table.columns) == [
        "name",
        "code",
        "paradigm",
        "subjects",
        "sessions",
        "sfreq",
        "channels",
        "events",
        "local",
    ]
    row = table.set_index("name").loc["PhysionetMI"]
    assert row["local"] == "20/109 subjects"
    assert row["sfreq"] == 160
    assert table.set_index("name").loc["BNCI2014_001", "local"] == "0/9 subjects"


def test_dataset_table_bad_root(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        dataset_table(tmp_path / "nope")


# ----------------------------------------------------------------- descriptor validation
def _good() -> dict:
    return yaml.safe_load((descriptors_dir() / "BNCI2014_004.yml").read_text())


def _write(tmp_path: Path, content, name="BNCI2014_004.yml") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def test_all_shipped_descriptors_are_valid():
    found = load_descriptors()
    assert REQUIRED <= set(found)
    for desc in found.values():
        assert desc.citation and desc.licence and desc.layout


def test_good_descriptor_round_trip(tmp_path):
    desc = load_descriptor(_write(tmp_path, _good()))
    assert desc.name == "BNCI2014_004" and desc.sessions == {s: 5 for s in range(1, 10)}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.pop("licence"), "licence"),
        (lambda d: d.update(sampling_rate="fast"), "sampling_rate"),
        (lambda d: d.update(interval=[3, 1]), "interval"),
        (lambda d: d.update(events={"left": "one"}), "events"),
        (lambda d: d.update(paradigm="telepathy"), "paradigm"),
        (lambda d: d.update(sampling_rte=250), "sampling_rte"),
        (lambda d: d.update(sessions={1: 2}), "sessions"),
        (lambda d: d.update(name="Other"), "name"),
        (lambda d: d.update(subjects=0), "subjects"),
    ],
)
def test_bad_descriptor_names_file_and_key(tmp_path, change, key):
    content = _good()
    change(content)
    path = _write(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        load_descriptor(path)
    assert str(path) in str(info.value)
    assert f"'{key}'" in str(info.value)


def test_invalid_yaml_syntax(tmp_path):
    path = _write(tmp_path, "name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_descriptor(path)


def test_descriptor_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_descriptor(_write(tmp_path, "- just\n- a list\n"))
