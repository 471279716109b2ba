"""Bad session folders at the dataset level: a truncated CSV, a missing marker
column, timestamps going backwards. Each stops the load with an InvalidDataError
naming the file, in the dataset and in both paradigms; no run is silently skipped."""

from __future__ import annotations

import gzip

import pytest
from moabb.paradigms import P300 as MoabbP300

from neurodec.datasets import get_dataset
from neurodec.errors import InvalidDataError
from neurodec.paradigms import P300

from .conftest import NAME, SUBJECT4_RUN, place

pytestmark = pytest.mark.data
RUN = "data_2018-04-22-21.41.19.csv"


@pytest.fixture(scope="module")
def real_text(data_root) -> str:
    return gzip.decompress((data_root / NAME / SUBJECT4_RUN).read_bytes()).decode()


def _truncated(text: str) -> str:
    cut = len(text) // 2
    return text[: text.index(",", cut) + 3]  # ends mid-row, no line end


def _no_marker(text: str) -> str:
    return "\n".join(line.rsplit(",", 1)[0] for line in text.splitlines()) + "\n"


def _backwards(text: str) -> str:
    lines = text.splitlines()
    lines[5001], lines[5002] = lines[5002], lines[5001]  # two samples swapped
    return "\n".join(lines) + "\n"


CASES = {
    "truncated": (_truncated, "truncated"),
    "no-marker": (_no_marker, "marker column is missing"),
    "backwards": (_backwards, "timestamps go backwards at data row 5002 "),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_run_raises_everywhere(case, real_text, tmp_root):
    corrupt, match = CASES[case]
    bad = place(tmp_root, 4, 1, RUN + ".gz", corrupt(real_text))
    dataset = get_dataset(NAME, data_root=tmp_root)
    with pytest.raises(InvalidDataError, match=match) as info:
        dataset.get_data(subjects=[4])
    assert bad.name in str(info.value)
    with pytest.raises(InvalidDataError, match=match):
        P300(cache=False).get_data(dataset, subjects=[4])
    with pytest.raises(InvalidDataError, match=match):
        MoabbP300().get_data(dataset, subjects=[4])


def test_bad_run_next_to_good_one_is_not_skipped(real_text, tmp_root):
    place(tmp_root, 4, 1, RUN + ".gz", real_text)
    place(tmp_root, 4, 1, "data_2018-04-22-21.45.00.csv.gz", _backwards(real_text))
    dataset = get_dataset(NAME, data_root=tmp_root)
    with pytest.raises(InvalidDataError, match="21.45.00.*timestamps go backwards"):
        P300(cache=False).get_data(dataset, subjects=[4])
