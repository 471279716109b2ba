"""Event-locked P300 decoding, pseudo-online on the Muse recordings (EEGNotebooks_VisualP300).

For every session with at least two runs: the decoder is fitted on all runs but the last; the
last run is replayed through the EventLockedDecoder (plain numpy path, chunks of 12 samples as
the Muse sends them, each marker pushed 40 ms after its onset, as the stimulus PC's markers lag
the Bluetooth EEG) and scored by ROC-AUC over its decoded markers, beside the offline score of
the same model on the run's epochs. Two ways of training:

* ``zero-phase``: the P300 paradigm's epochs (1-24 Hz zero-phase IIR over the whole run), what
  ``neurodec fit`` writes by default; online the stream can only be filtered causally;
* ``causal``: epochs of runs filtered with the stream's own causal filter
  (``neurodec fit --causal``, ``neurodec.online.causal``); offline = those epochs.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/online_events_p300.py --out benchmarks/results/online_events_p300.md
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from importlib.metadata import version

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

log = logging.getLogger("online_events_p300")

PIPELINES = ["p300_xdawncov_ts_lr.yml", "p300_xdawncov_mdm.yml"]


def _auc(y, p):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y) == "Target", p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/online_events_p300.md")
    parser.add_argument("--subjects", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("neurodec").setLevel(logging.WARNING)

    from threadpoolctl import threadpool_limits

    import neurodec
    from neurodec.config import pipelines_dir
    from neurodec.datasets import get_dataset
    from neurodec.evaluation.pipelines import load_pipelines
    from neurodec.online.causal import causal_run_epochs, run_events
    from neurodec.online.events import EventLockedDecoder, replay_events
    from neurodec.paradigms import P300

    t_all = time.perf_counter()
    ds = get_dataset("EEGNotebooks_VisualP300")
    par = P300()
    spec = par.epoching_spec(ds)
    rows = []
    for subject in args.subjects:
        X0, y0, meta0 = par.get_data(ds, [subject])
        sessions = ds.get_data(subjects=[subject])[subject]
        for session, runs in sessions.items():
            names = sorted(runs, key=str)
            if len(names) < 2:
                continue
            train, test = names[:-1], names[-1]
            causal = [causal_run_epochs(runs[r], spec) for r in train]
            Xc, yc = np.concatenate([c[0] for c in causal]), np.concatenate([c[1] for c in causal])
            Xt_c, yt_c, _ = causal_run_epochs(runs[test], spec)
            in_session = (meta0["session"] == str(session)).to_numpy()
            tr = in_session & meta0["run"].isin([str(r) for r in train]).to_numpy()
            te = in_session & (meta0["run"] == str(test)).to_numpy()
            data, onsets, labels, ch_names, sfreq, n_times = run_events(runs[test], spec)
            for fname in PIPELINES:
                for training in ("zero-phase", "causal"):
                    ((pname, est),) = load_pipelines(pipelines_dir() / fname).items()
                    with threadpool_limits(limits=1):
                        if training == "causal":
                            est.fit(Xc, yc)
                            offline = _auc(
                                yt_c, est.predict_proba(Xt_c)[:, list(est.classes_).index("Target")]
                            )
                        else:
                            est.fit(X0[tr], y0[tr])
                            offline = _auc(
                                y0[te], est.predict_proba(X0[te])[:, list(est.classes_).index("Target")]
                            )
                    dec = EventLockedDecoder(
                        est,
                        window=n_times / sfreq,
                        tmin=spec.tmin,
                        sfreq=sfreq,
                        ch_names=ch_names,
                        fmin=spec.fmin,
                        fmax=spec.fmax,
                        scale=float(ds.unit_factor),
                    )
                    t0 = time.perf_counter()
                    out = replay_events(dec, data, onsets, labels, chunk_size=12, delay=0.04)
                    wall = time.perf_counter() - t0
                    ok = [d for d in out if d.ok]
                    k = list(est.classes_).index("Target")
                    online = _auc([d.code for d in ok], [d.probabilities[k] for d in ok])
                    rows.append(
                        {
                            "subject": subject,
                            "session": str(session),
                            "test run": str(test),
                            "pipeline": pname,
                            "training": training,
                            "offline": offline,
                            "online": online,
                            "markers": len(out),
                            "decoded": len(ok),
                            "flagged": ", ".join(sorted({d.quality for d in out if not d.ok})) or "-",
                            "ms per marker": 1e3 * wall / max(len(out), 1),
                        }
                    )
                    log.info("%s", rows[-1])
    df = pd.DataFrame(rows)
    elapsed = time.perf_counter() - t_all
    summary = (
        df.groupby(["pipeline", "training"])
        .agg(
            runs=("online", "size"),
            offline=("offline", "mean"),
            online=("online", "mean"),
            markers=("markers", "sum"),
            decoded=("decoded", "sum"),
            ms_per_marker=("ms per marker", "mean"),
        )
        .reset_index()
    )
    summary["online - offline"] = summary["online"] - summary["offline"]
    versions = ", ".join(f"{p} {version(p)}" for p in ("numpy", "scipy", "scikit-learn", "pyriemann", "mne"))
    text = [
        "# Event-locked P300 decoding, pseudo-online (Muse, EEGNotebooks_VisualP300)",
        "",
        f"Command: `OMP_NUM_THREADS=1 nice -n 10 python benchmarks/online_events_p300.py` ({elapsed / 60:.1f} min).",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs shared with other jobs (under `nice`, one BLAS "
        f"thread), Python {platform.python_version()}; neurodec {neurodec.__version__}, {versions}.",
        "",
        "Per session with >= 2 runs (subjects " + ", ".join(map(str, args.subjects)) + "): fit on every run "
        "but the last, replay the last through `EventLockedDecoder` (numpy path, 12-sample chunks, markers "
        "40 ms after their onset; the first ~1.5 s are the filter's settling and flagged). `offline`: ROC-AUC "
        "of the same model on the held-out run's epochs (zero-phase: the P300 paradigm's epochs, which also "
        "drop epochs touching amplifier saturation; causal: epochs of the causally filtered run). `online`: "
        "ROC-AUC over the decoded markers. `ms per marker`: replay wall time per marker (pushes included).",
        "",
        summary.round(3).to_markdown(index=False),
        "",
        "## Per held-out run",
        "",
        df.round(3).to_markdown(index=False),
        "",
    ]
    with open(args.out, "w") as fh:
        fh.write("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
