"""Cost of ACM (+ tangent space) vs MOABB/pyRiemann as channels and order grow.

Random arrays (n trials, C channels, T samples); neurodec's ``augmented_covariances``
(one batched product for all trials) against MOABB's ``AugmentedDataset`` + pyRiemann's
``Covariances`` (one estimator call per trial). The tangent-space step (pyRiemann's
``TangentSpace``, the same object after either ACM) is timed once per configuration
and added to both. CPU seconds (process time), best of ``--repeats``.

Writes ``benchmarks/results/riemann_scaling.md``.

    nice .venv/bin/python benchmarks/riemann_scaling.py
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _best(func, repeats):
    best = np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        out = func()
        best = min(best, time.process_time() - t0)
    return best, out


def main(argv=None):
    import moabb
    import pyriemann
    import sklearn
    from moabb.pipelines.features import AugmentedDataset
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace

    from neurodec.riemann import augmented_covariances

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="unused (random arrays); kept for a uniform CLI")
    parser.add_argument("--channels", type=int, nargs="+", default=[8, 22, 64, 128])
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--lag", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--times", type=int, default=500)
    parser.add_argument(
        "--max-dim", type=int, default=1024, help="skip order*C above this (tangent space cost explodes)"
    )
    parser.add_argument("--estimator", default="oas")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS / "riemann_scaling.md"))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    lines = [
        "# ACM + tangent space cost: neurodec vs MOABB AugmentedDataset + pyRiemann",
        "",
        f"- Command: `OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} nice .venv/bin/python {' '.join(shlex.quote(a) for a in sys.argv)}`",
        f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs), Python {platform.python_version()}",
        f"- Versions: numpy {np.__version__}, scikit-learn {sklearn.__version__}, pyriemann {pyriemann.__version__}, moabb {moabb.__version__}",
        f"- {args.trials} trials x {args.times} samples, lag {args.lag}, estimator {args.estimator!r}; CPU s, best of {args.repeats}; "
        f"configurations with order*C > {args.max_dim} skipped",
        "",
        "| C | order | dim | ACM neurodec s | ACM MOABB+pyRiemann s | ACM ratio | TS fit+transform s | ACM+TS neurodec s | ACM+TS MOABB+pyRiemann s | ACM+TS ratio | max abs diff |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for C in args.channels:
        X = rng.standard_normal((args.trials, C, args.times))
        for m in args.orders:
            if m * C > args.max_dim:
                continue
            ours_t, ours = _best(
                lambda X=X, m=m: augmented_covariances(X, m, args.lag, args.estimator), args.repeats
            )
            ref_t, ref = _best(
                lambda X=X, m=m: Covariances(args.estimator).transform(
                    AugmentedDataset(order=m, lag=args.lag).transform(X)
                ),
                args.repeats,
            )
            ts_t, _ = _best(lambda ours=ours: TangentSpace(metric="riemann").fit_transform(ours), 1)
            diff = float(np.abs(ours - ref).max())
            lines.append(
                f"| {C} | {m} | {m * C} | {ours_t:.3f} | {ref_t:.3f} | {ref_t / ours_t:.1f}x | {ts_t:.2f} | "
                f"{ours_t + ts_t:.2f} | {ref_t + ts_t:.2f} | {(ref_t + ts_t) / (ours_t + ts_t):.2f}x | {diff:.1e} |"
            )
            print(lines[-1], flush=True)  # noqa: T201 - benchmark script progress
    lines += [
        "",
        "The tangent-space step is pyRiemann's in both columns (neurodec reuses it), so the ACM+TS "
        "ratio is bounded by how much of the time the Riemannian mean takes at that size.",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
