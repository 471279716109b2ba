"""FBCSP on PhysionetMI: why MOABB's score differs from neurodec's (issue 18).

MOABB 1.7.2's evaluations load a paradigm's data with
``paradigm.make_process_pipelines(dataset)[0]``: for a filter-bank paradigm that is the
first band's processing only, so ``X`` reaching the pipeline is ``(n, ch, t, 1)`` (8-12
Hz for ``FilterBankMotorImagery``), not the whole bank that ``paradigm.get_data``
returns. This script scores MOABB's FBCSP pipeline (``FilterBank(Covariances(oas) +
CSP(4))``, ``SelectKBest(mutual_info_classif, k=10)``, ``GridSearchCV`` of a linear SVM
over C) three ways, within-session 5-fold ROC-AUC with the same seed:

* MOABB's ``WithinSessionEvaluation`` with ``FilterBankMotorImagery()``;
* neurodec's ``WithinSessionEvaluation`` on the whole bank (``FilterBankMotorImagery``);
* neurodec's on the first band only (what MOABB's evaluation feeds the pipeline).

Usage::

    nice .venv/bin/python benchmarks/fbcsp_first_band.py --data-root ../shared/data --subjects 1 2 3 4 5
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def fbcsp():
    from moabb.pipelines.utils import FilterBank
    from pyriemann.estimation import Covariances
    from pyriemann.spatialfilters import CSP
    from sklearn.feature_selection import SelectKBest, mutual_info_classif
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    svm = GridSearchCV(SVC(kernel="linear"), {"C": np.logspace(-2, 2, 10)})
    bank = FilterBank(make_pipeline(Covariances(estimator="oas"), CSP(nfilter=4)))
    return {"FBCSP + optSVM": make_pipeline(bank, SelectKBest(score_func=mutual_info_classif, k=10), svm)}


class FirstBand:
    """neurodec's filter-bank paradigm, keeping only the first band (MOABB's evaluations)."""

    def __init__(self, paradigm):
        self.paradigm = paradigm
        self.scoring = paradigm.scoring

    def get_data(self, dataset, subjects):
        X, y, meta = self.paradigm.get_data(dataset, subjects)
        return X[..., :1], y, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--subjects", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "fbcsp_first_band.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.getLogger("moabb").setLevel(logging.ERROR)
    os.environ.setdefault("MOABB_DOWNLOAD_PROVIDER", "upstream")

    import mne
    import moabb
    import sklearn
    from moabb.datasets import PhysionetMI
    from moabb.evaluations import WithinSessionEvaluation as MoabbWithin
    from moabb.paradigms import FilterBankMotorImagery as MoabbFB

    import neurodec
    from neurodec.config import data_root
    from neurodec.datasets import get_dataset
    from neurodec.evaluation import WithinSessionEvaluation
    from neurodec.paradigms import FilterBankMotorImagery

    mne.set_log_level("ERROR")
    root = data_root(args.data_root)
    os.environ["MNE_DATASETS_EEGBCI_PATH"] = str(root / "PhysionetMI")
    ref = PhysionetMI(imagined=True, executed=False)
    ref.feet_runs = []
    ref.subject_list = list(args.subjects)
    ours_ds = get_dataset("PhysionetMI", data_root=root)
    ours_ds.subject_list = list(args.subjects)

    rows, times = {}, {}
    t0 = time.perf_counter()
    m = MoabbWithin(
        paradigm=MoabbFB(), datasets=[ref], random_state=42, hdf5_path=tempfile.mkdtemp()
    ).process(fbcsp())
    times["MOABB"] = time.perf_counter() - t0
    rows["MOABB WithinSessionEvaluation"] = m.assign(subject=m["subject"].astype(int)).set_index("subject")[
        "score"
    ]
    for label, par in [
        ("neurodec, whole bank (6 bands)", FilterBankMotorImagery()),
        ("neurodec, first band only (8-12 Hz)", FirstBand(FilterBankMotorImagery())),
    ]:
        t0 = time.perf_counter()
        table = WithinSessionEvaluation(par, [ours_ds], random_state=42, progress=False).process(fbcsp())
        times[label] = time.perf_counter() - t0
        rows[label] = table.set_index("subject")["score"]
    scores = pd.DataFrame(rows).T.sort_index(axis=1)
    scores["mean"] = scores.mean(axis=1)
    diff = (
        scores.loc["MOABB WithinSessionEvaluation"] - scores.loc["neurodec, first band only (8-12 Hz)"]
    ).abs()

    lines = [
        "# FBCSP on PhysionetMI: MOABB's evaluation scores the first band of the bank only",
        "",
        f"Command: `nice .venv/bin/python benchmarks/fbcsp_first_band.py --subjects {' '.join(map(str, args.subjects))}`"
        " (random_state=42, n_jobs=1).",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs; run under `nice`), "
        f"Python {platform.python_version()}. Versions: neurodec {neurodec.__version__}, moabb {moabb.__version__}, "
        f"mne {mne.__version__}, scikit-learn {sklearn.__version__}.",
        "",
        "Pipeline: MOABB's `FBCSP.py` (FilterBank(Covariances(oas) + CSP(nfilter=4)), SelectKBest(mutual_info_classif, "
        "k=10), GridSearchCV(SVC(kernel=linear), C in logspace(-2, 2, 10))), built in code. Within-session 5-fold "
        "ROC-AUC, imagined left/right fist runs 4, 8, 12.",
        "",
        "| run | " + " | ".join(f"S{s}" for s in scores.columns[:-1]) + " | mean | wall s |",
        "|---|" + "---|" * (len(scores.columns) + 1),
    ]
    for label, row in scores.iterrows():
        key = "MOABB" if label.startswith("MOABB") else label
        lines.append(
            f"| {label} | "
            + " | ".join(f"{v:.3f}" for v in row)
            + f" | {times.get(key, times.get(label)):.0f} |"
        )
    lines += [
        "",
        f"Max |MOABB - neurodec first band| over subjects: **{diff.max():.2e}**. MOABB 1.7.2's evaluations call "
        "`paradigm.make_process_pipelines(dataset)[0]` and pass that single process pipeline to `get_data`, so a "
        "filter-bank paradigm's pipelines see only its first band (`X[..., :1]`); `paradigm.get_data(dataset)` itself "
        "returns all six. neurodec evaluates the whole bank (what the paradigm defines and FBCSP is designed for).",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
