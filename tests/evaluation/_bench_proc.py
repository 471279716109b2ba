"""A small benchmark on the simulator, run as a subprocess by the process tests.

``python _bench_proc.py RESULTS N_JOBS DELAY``: within-session, 2 subjects x 2
sessions x 5 folds of Covariances + TangentSpace + SlowLogReg(DELAY) through
:func:`neurodec.evaluation.benchmark.run_benchmark`.
"""

from __future__ import annotations

import sys
import warnings

warnings.filterwarnings("ignore")

from _slow_steps import SlowLogReg  # noqa: E402  (this folder is sys.path[0] of the script)
from pyriemann.estimation import Covariances  # noqa: E402
from pyriemann.tangentspace import TangentSpace  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from neurodec.datasets import get_dataset  # noqa: E402
from neurodec.evaluation.benchmark import run_benchmark  # noqa: E402


def main(results: str, n_jobs: int, delay: float) -> None:
    ds = get_dataset(
        "SimulatedMI", n_subjects=2, n_sessions=2, n_runs=1, n_trials=20, n_eeg_channels=32, seed=3
    )
    pipe = {"slow": make_pipeline(Covariances("oas"), TangentSpace(), SlowLogReg(delay=delay))}
    run_benchmark(pipe, [ds], ["within-session"], results, n_jobs=n_jobs, plots=False, progress=False)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
