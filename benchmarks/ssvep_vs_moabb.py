"""MOABB's SSVEP classifiers (they take ``mne.Epochs``) on ``SimulatedSSVEP``: neurodec vs MOABB.

The pipelines are MOABB's upstream files for its 1.7 classifiers (``SSVEP_CCA(n_harmonics=3)``,
``SSVEP_TRCA(n_fbands=5)``, ``SSVEP_MsetCCA(n_filters=1)``; optionally also itCCA, eCCA,
TRCA-R, TDCA). Within-session 5-fold accuracy, random_state=42, one job, scored three ways:

* MOABB's ``WithinSessionEvaluation(return_epochs=True, mne_labels=True)`` with ``SSVEP()``
  (what ``moabb.benchmark`` builds for these pipelines), default BLAS threads;
* the same with BLAS pinned to one thread (neurodec's engine runs each fold so);
* neurodec's ``run_benchmark`` on the same files (``neurodec benchmark``).

Usage::

    nice -n 10 .venv/bin/python benchmarks/ssvep_vs_moabb.py --subjects 2
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

FILES = {
    "SSVEP CCA": ("SSVEP_CCA", "moabb.pipelines.classification", {"n_harmonics": 3}),
    "TRCA-SSVEP": ("SSVEP_TRCA", "moabb.pipelines", {"n_fbands": 5}),
    "MsetCCA-SSVEP": ("SSVEP_MsetCCA", "moabb.pipelines.classification", {"n_filters": 1, "n_jobs": 1}),
}
MORE = {
    "itCCA-SSVEP": ("SSVEP_itCCA", "moabb.pipelines.classification", {}),
    "eCCA-SSVEP": ("SSVEP_eCCA", "moabb.pipelines.classification", {"n_harmonics": 3}),
    "TRCA-R-SSVEP": (
        "SSVEP_TRCA_R",
        "moabb.pipelines.classification",
        {"n_fbands": 5, "n_harmonics": 3, "is_ensemble": True},
    ),
    "TDCA-SSVEP": (
        "SSVEP_TDCA",
        "moabb.pipelines.classification",
        {"n_fbands": 5, "n_components": 1, "n_delay": 6, "is_ensemble": True},
    ),
}


def write_files(folder: Path, files: dict) -> None:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for name, (cls, module, params) in files.items():
        step = {"name": cls, "from": module, **({"parameters": params} if params else {})}
        text = yaml.safe_dump({"name": name, "paradigms": ["SSVEP"], "pipeline": [step]}, sort_keys=False)
        (folder / f"{name}.yml").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=2, help="SimulatedSSVEP subjects")
    parser.add_argument("--trials", type=int, default=5, help="trials per frequency and run")
    parser.add_argument("--channels", type=int, default=32, choices=(32, 64))
    parser.add_argument("--all", action="store_true", help="also itCCA, eCCA, TRCA-R, TDCA")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ssvep_vs_moabb.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.getLogger("moabb").setLevel(logging.ERROR)
    os.environ.setdefault("MOABB_DOWNLOAD_PROVIDER", "upstream")

    import mne
    import moabb
    import sklearn
    from moabb.evaluations import WithinSessionEvaluation as MoabbWithin
    from moabb.paradigms import SSVEP as MoabbSSVEP
    from threadpoolctl import threadpool_limits

    import neurodec
    from neurodec.datasets import get_dataset
    from neurodec.evaluation.benchmark import run_benchmark
    from neurodec.evaluation.data import clear_memory_cache
    from neurodec.evaluation.pipelines import load_pipelines

    mne.set_log_level("ERROR")
    files = {**FILES, **(MORE if args.all else {})}
    folder = Path(tempfile.mkdtemp(prefix="ssvep_pipes_"))
    write_files(folder, files)
    sim = get_dataset(
        "SimulatedSSVEP",
        n_subjects=args.subjects,
        n_sessions=1,
        n_runs=1,
        n_trials=args.trials,
        frequencies=(9.0, 11.0, 13.0, 15.0, 17.0),
        n_eeg_channels=args.channels,
    )
    sim.get_data(list(sim.subject_list))  # simulate once: every timed run reads the same raw
    rows, walls = [], {}
    for name in files:
        one = {name: load_pipelines(folder / f"{name}.yml")[name]}
        for run, limit in (("MOABB, default BLAS threads", None), ("MOABB, 1 BLAS thread", 1)):
            t0 = time.perf_counter()
            with threadpool_limits(limits=limit):
                res = MoabbWithin(
                    paradigm=MoabbSSVEP(),
                    datasets=[sim],
                    random_state=42,
                    hdf5_path=tempfile.mkdtemp(),
                    return_epochs=True,
                    mne_labels=True,
                    n_jobs=1,
                    overwrite=True,
                ).process(one)
            walls[(name, run)] = time.perf_counter() - t0
            rows += [(name, run, int(s), float(v)) for s, v in zip(res["subject"], res["score"])]
        clear_memory_cache()
        t0 = time.perf_counter()
        res = run_benchmark(folder / f"{name}.yml", [sim], progress=False).scores
        walls[(name, "neurodec")] = time.perf_counter() - t0
        rows += [(name, "neurodec", int(s), float(v)) for s, v in zip(res["subject"], res["score"])]
        print(name, {k[1]: round(v, 1) for k, v in walls.items() if k[0] == name}, flush=True)

    table = pd.DataFrame(rows, columns=["pipeline", "run", "subject", "score"])
    wide = table.pivot_table(index=["pipeline", "run"], columns="subject", values="score").round(3)
    wide.columns = [f"S{c}" for c in wide.columns]
    wide["mean"] = wide.mean(axis=1).round(3)
    wide["wall s"] = [round(walls[k], 1) for k in wide.index]
    nd = table[table.run == "neurodec"].set_index(["pipeline", "subject"])["score"]
    one = table[table.run == "MOABB, 1 BLAS thread"].set_index(["pipeline", "subject"])["score"]
    multi = table[table.run == "MOABB, default BLAS threads"].set_index(["pipeline", "subject"])["score"]
    lines = [
        "# MOABB's SSVEP classifiers (mne.Epochs input) on SimulatedSSVEP: neurodec vs MOABB",
        "",
        f"Command: `nice -n 10 .venv/bin/python benchmarks/ssvep_vs_moabb.py --subjects {args.subjects} "
        f"--trials {args.trials} --channels {args.channels}{' --all' if args.all else ''}`.",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs; run under `nice`), "
        f"Python {platform.python_version()}. Versions: neurodec {neurodec.__version__}, moabb "
        f"{moabb.__version__}, mne {mne.__version__}, scikit-learn {sklearn.__version__}.",
        "",
        f"SimulatedSSVEP: {args.subjects} subjects, 1 session, 1 run, {args.trials} trials per frequency, "
        f"5 frequencies (9-17 Hz, chance 0.2), {args.channels} EEG channels, 4-s epochs at 256 Hz; "
        "paradigm SSVEP (7-45 Hz). Within-session 5-fold accuracy, random_state=42, n_jobs=1. MOABB: "
        "`WithinSessionEvaluation(return_epochs=True, mne_labels=True)`, what `moabb.benchmark` builds "
        "for these files; neurodec: `run_benchmark` on the same YAML files (`neurodec benchmark`).",
        "",
        wide.reset_index().to_markdown(index=False),
        "",
        f"Max |MOABB (1 BLAS thread) - neurodec|: **{np.abs(one - nd).max():.2e}**; with MOABB's default "
        f"BLAS threads: {np.abs(multi - nd).max():.2e}. See docs/moabb_pipelines.md for what differs.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
