"""neurodec's evaluation engine vs MOABB's evaluations on PhysionetMI.

Same machine, same process, same pipelines (TS+SVM, MDM, ACM+TS+SVM with a
fixed order/lag), same random_state; within-session and cross-subject. Reports
wall times, their ratio and the largest score difference; then the resume demo
(SIGKILL a run mid-way, re-run, compare with an uninterrupted run).

Run::

    nice .venv/bin/python benchmarks/evaluation_vs_moabb.py --data-root ../shared/data

Writes ``benchmarks/results/evaluation_vs_moabb.md``.
"""

from __future__ import annotations

import argparse
import os

# Both engines run with single-threaded BLAS (set before numpy loads). neurodec's engine
# pins one BLAS thread per fold anyway; MOABB does not, and on this shared 2-core machine
# multi-threaded eigh of small matrices was ~30x slower, which would dwarf the engine
# differences this benchmark is about. Override with --blas-threads-default.
if "--blas-threads-default" not in os.sys.argv:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from neurodec.config import data_root as default_data_root  # noqa: E402


def make_dataset(root: Path):
    """PhysionetMI (imagined left/right fist, runs 4/8/12) read offline."""
    try:
        from neurodec.datasets import get_dataset

        return get_dataset("PhysionetMI", data_root=root), "neurodec.datasets"
    except Exception as exc:  # noqa: BLE001 - fall back to MOABB's class directly
        print(f"neurodec dataset unavailable ({exc}); using MOABB PhysionetMI", file=sys.stderr)
        os.environ["MOABB_DOWNLOAD_PROVIDER"] = "upstream"
        os.environ["MNE_DATA"] = str(root / "PhysionetMI")
        from moabb.datasets import PhysionetMI

        ds = PhysionetMI(imagined=True, executed=False)
        ds.feet_runs = []
        return ds, "moabb.datasets"


def make_paradigm():
    """MOABB's LeftRightImagery: the same paradigm object drives both engines."""
    from moabb.paradigms import LeftRightImagery

    return LeftRightImagery()


def make_pipelines(order: int, lag: int) -> dict:
    from moabb.pipelines.features import AugmentedDataset
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    return {
        "TS+SVM": make_pipeline(Covariances("oas"), TangentSpace(metric="riemann"), SVC(kernel="linear")),
        "MDM": make_pipeline(Covariances("oas"), MDM(metric="riemann")),
        "ACM+TS+SVM": make_pipeline(AugmentedDataset(order=order, lag=lag), Covariances("cov"),
                                    TangentSpace(metric="riemann"), SVC(kernel="rbf")),
    }


def run_moabb(paradigm, dataset, pipelines, evaluation: str, seed: int, n_jobs: int, tmp: Path):
    from moabb.evaluations import CrossSubjectEvaluation, WithinSessionEvaluation

    cls = {"within-session": WithinSessionEvaluation, "cross-subject": CrossSubjectEvaluation}[evaluation]
    t0 = time.perf_counter()
    res = cls(paradigm=paradigm, datasets=[dataset], random_state=seed, n_jobs=n_jobs,
              overwrite=True, hdf5_path=str(tmp / "moabb")).process(pipelines)
    return res, time.perf_counter() - t0


def run_neurodec(paradigm, dataset, pipelines, evaluation: str, seed: int, n_jobs: int, results: Path):
    from neurodec.evaluation import EVALUATIONS

    t0 = time.perf_counter()
    res = EVALUATIONS[evaluation](paradigm, [dataset], random_state=seed, n_jobs=n_jobs,
                                  results=results, progress=False).process(pipelines)
    return res, time.perf_counter() - t0


def compare(moabb_df: pd.DataFrame, nd_df: pd.DataFrame) -> float:
    m = moabb_df.assign(session=moabb_df["session"].astype(str), subject=moabb_df["subject"].astype(int))
    j = m.merge(nd_df, on=["pipeline", "subject", "session"], suffixes=("_moabb", "_nd"))
    if len(j) != len(m) or len(j) != len(nd_df):
        raise SystemExit(f"row mismatch: moabb {len(m)}, neurodec {len(nd_df)}, matched {len(j)}")
    return float(np.abs(j["score_moabb"] - j["score_nd"]).max())


RESUME_SCRIPT = """
import sys, warnings; warnings.filterwarnings("ignore")
sys.path.insert(0, {repo!r})
sys.path.insert(0, {bench!r})
from evaluation_vs_moabb import make_dataset, make_paradigm, make_pipelines
from pathlib import Path
from neurodec.evaluation import WithinSessionEvaluation
ds, _ = make_dataset(Path({root!r}))
ds.subject_list = ds.subject_list[:{n}]
pipes = make_pipelines({order}, {lag})
pipes = {{k: pipes[k] for k in ("TS+SVM", "MDM")}}
WithinSessionEvaluation(make_paradigm(), [ds], random_state=42, results={results!r},
                        progress=False).process_folds(pipes)
"""


def resume_demo(root: Path, n_subjects: int, order: int, lag: int, tmp: Path) -> dict:
    """SIGKILL a run once some folds are stored, re-run, compare with a clean run."""
    from neurodec.evaluation import ResultsStore

    def script(results):
        return RESUME_SCRIPT.format(repo=str(REPO), bench=str(REPO / "benchmarks"), root=str(root),
                                    n=n_subjects, order=order, lag=lag, results=str(results))

    clean, killed = tmp / "clean", tmp / "killed"
    subprocess.run([sys.executable, "-c", script(clean)], check=True)
    total = len(ResultsStore(clean))

    proc = subprocess.Popen([sys.executable, "-c", script(killed)])
    db = killed / "results.sqlite"
    target = max(1, total // 2)
    while proc.poll() is None:
        try:
            n = sqlite3.connect(str(db)).execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.Error:
            n = 0
        if n >= target:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    after_kill = len(ResultsStore(killed))
    subprocess.run([sys.executable, "-c", script(killed)], check=True)
    final = ResultsStore(killed).to_frame()
    ref = ResultsStore(clean).to_frame()
    cols = ["dataset", "subject", "session", "pipeline_key", "evaluation", "fold", "score"]
    a = final[cols].sort_values(cols[:-1]).reset_index(drop=True)
    b = ref[cols].sort_values(cols[:-1]).reset_index(drop=True)
    return {
        "folds_total": total,
        "folds_stored_at_kill": after_kill,
        "folds_recomputed": len(final) - after_kill,
        "rows_final": len(final),
        "duplicates": int(final.duplicated(cols[:-1]).sum()),
        "equal": bool(a.equals(b)),
    }


def versions() -> str:
    import joblib
    import moabb
    import pyriemann
    import sklearn

    import neurodec

    return (f"neurodec {neurodec.__version__}, moabb {moabb.__version__}, pyriemann {pyriemann.__version__}, "
            f"scikit-learn {sklearn.__version__}, joblib {joblib.__version__}, numpy {np.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=default_data_root())
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--order", type=int, default=2)
    parser.add_argument("--lag", type=int, default=1)
    parser.add_argument("--resume-subjects", type=int, default=5)
    parser.add_argument("--blas-threads-default", action="store_true",
                        help="leave BLAS threading at its default (MOABB then runs multi-threaded BLAS)")
    parser.add_argument("--evaluations", nargs="+", default=["within-session", "cross-subject"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "evaluation_vs_moabb.md")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("moabb").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="nd-bench-eval-"))
    os.environ["NEURODEC_CACHE"] = str(tmp / "epoch-cache")  # cold cache for neurodec
    dataset, source = make_dataset(args.data_root)
    dataset.subject_list = list(dataset.subject_list)[: args.subjects]
    paradigm = make_paradigm()
    pipelines = make_pipelines(args.order, args.lag)

    moabb_res, nd_res = {}, {}
    for ev in args.evaluations:
        moabb_res[ev] = run_moabb(paradigm, dataset, pipelines, ev, 42, args.n_jobs, tmp)
        print(f"MOABB {ev}: {moabb_res[ev][1]:.1f}s", flush=True)
    from neurodec.evaluation.data import clear_memory_cache

    clear_memory_cache()  # neurodec starts cold: epochs loaded from the EDF files again
    for ev in args.evaluations:
        nd_res[ev] = run_neurodec(paradigm, dataset, pipelines, ev, 42, args.n_jobs, tmp / "nd")
        print(f"neurodec {ev}: {nd_res[ev][1]:.1f}s", flush=True)

    table = ["| evaluation | rows | MOABB (s) | neurodec (s) | speed-up | max abs score diff |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for ev in args.evaluations:
        (m, tm), (n, tn) = moabb_res[ev], nd_res[ev]
        table.append(f"| {ev} | {len(n)} | {tm:.1f} | {tn:.1f} | {tm / tn:.2f}x | {compare(m, n):.1e} |")
    tm_all = sum(v[1] for v in moabb_res.values())
    tn_all = sum(v[1] for v in nd_res.values())
    table.append(f"| **total** | | **{tm_all:.1f}** | **{tn_all:.1f}** | **{tm_all / tn_all:.2f}x** | |")

    per_pipe = ["| evaluation | pipeline | mean score (MOABB) | mean score (neurodec) |", "| --- | --- | ---: | ---: |"]
    for ev in args.evaluations:
        m, n = moabb_res[ev][0], nd_res[ev][0]
        for p in pipelines:
            per_pipe.append(f"| {ev} | {p} | {m[m.pipeline == p].score.mean():.4f} | "
                            f"{n[n.pipeline == p].score.mean():.4f} |")

    resume = resume_demo(args.data_root, args.resume_subjects, args.order, args.lag, tmp / "resume")
    print("resume:", resume, flush=True)
    shutil.rmtree(tmp, ignore_errors=True)

    cmd = ("nice .venv/bin/python benchmarks/evaluation_vs_moabb.py --data-root DATA "
           f"--subjects {args.subjects} --n-jobs {args.n_jobs} --order {args.order} --lag {args.lag} "
           f"--resume-subjects {args.resume_subjects}")
    text = f"""# Evaluation engine: neurodec vs MOABB

PhysionetMI (imagined left/right fist, runs 4/8/12, offline from the data root; dataset class from
`{source}`), subjects 1-{len(dataset.subject_list)}, MOABB `LeftRightImagery()` paradigm object given
to both engines, `random_state=42`, `n_jobs={args.n_jobs}`, metric ROC-AUC. Pipelines: TS+SVM
(`Covariances("oas")`, `TangentSpace`, linear `SVC`), MDM (`Covariances("oas")`, `MDM`), ACM+TS+SVM
(`AugmentedDataset(order={args.order}, lag={args.lag})`, `Covariances("cov")`, `TangentSpace`, rbf `SVC`),
no grid search. Both engines ran in the same process, one after the other, each starting from the
EDF files (MOABB epochs once per evaluation; neurodec once for both, in memory). Score differences
are at float32 precision because MOABB stores its scores as float32 in its HDF5 results.

{chr(10).join(table)}

Mean score per pipeline (same numbers in both engines):

{chr(10).join(per_pipe)}

## Resume after SIGKILL

Within-session, TS+SVM and MDM, subjects 1-{args.resume_subjects}: one uninterrupted run; one run
killed with SIGKILL once half of its folds were stored, then re-run with the same command.

| folds in full run | folds stored when killed | folds recomputed on re-run | final rows | duplicate rows | final table equals uninterrupted |
| ---: | ---: | ---: | ---: | ---: | --- |
| {resume["folds_total"]} | {resume["folds_stored_at_kill"]} | {resume["folds_recomputed"]} | {resume["rows_final"]} | {resume["duplicates"]} | {resume["equal"]} |

Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs; run under `nice`),
Python {platform.python_version()}. Versions: {versions()}.

Reproduce: `{cmd}`
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
