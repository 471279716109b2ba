"""Cold and warm load + epoch of PhysionetMI: neurodec's paradigm vs MOABB's.

``LeftRightImagery`` with MOABB's defaults (8-32 Hz IIR band-pass, 0-3 s after
the cue, 64 EEG channels, microvolts) on subjects 1-20 (runs 4, 8, 12; 900
epochs). Every variant runs in its own fresh Python process (so imports, page
faults and memory high-water marks do not leak from one to the next), the
same files, machine and run:

* ``moabb``: ``moabb.paradigms.LeftRightImagery().get_data`` on MOABB's own
  ``PhysionetMI`` class read offline (its disk cache off, MOABB's default).
* ``neurodec cold``: ``neurodec.paradigms.LeftRightImagery().get_data`` on
  ``neurodec.datasets.get_dataset("PhysionetMI")`` with an empty epoch cache
  (so it reads, filters, epochs and writes the cache), n_jobs = 1 and 2.
* ``neurodec warm``: the same call again, served from the epoch cache.
* ``neurodec paradigm on MOABB's dataset class``: isolates what the paradigm
  itself saves (no cache).

Times are wall-clock seconds of the ``get_data`` call only (imports excluded),
the minimum over ``--repeats`` runs. Peak memory: ``ru_maxrss`` of the process
(high-water mark of its RSS), and the peak of the summed RSS of the process
and its joblib workers, sampled every 20 ms. Arrays are compared with
``np.array_equal`` against MOABB's (X, y, and the metadata frame).

Run::

    nice .venv/bin/python benchmarks/load_physionet.py --data-root ../shared/data

Writes ``benchmarks/results/load_physionet.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RESULT = REPO / "benchmarks" / "results" / "load_physionet.md"


# --------------------------------------------------------------------------- worker side
def _moabb_dataset(root: Path):
    os.environ["MOABB_DOWNLOAD_PROVIDER"] = "upstream"
    os.environ["MNE_DATA"] = str(root / "PhysionetMI")
    os.environ["MNE_DATASETS_EEGBCI_PATH"] = str(root / "PhysionetMI")
    from moabb.datasets import PhysionetMI

    ds = PhysionetMI(imagined=True, executed=False)
    ds.feet_runs = []  # runs 6/10/14 are not in the offline copy (see its MANIFEST)
    return ds


def worker(args: argparse.Namespace) -> None:
    """Run one variant; print one JSON line with its figures."""
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("mne").setLevel(logging.ERROR)
    import mne
    import numpy as np

    mne.set_log_level("ERROR")
    root = Path(args.data_root)
    subjects = list(range(1, args.n_subjects + 1))
    if args.worker == "moabb":
        from moabb.paradigms import LeftRightImagery

        ds = _moabb_dataset(root)
        call = lambda: LeftRightImagery().get_data(  # noqa: E731
            ds,
            subjects=subjects,
            n_jobs=args.n_jobs,
            cache_config=dict(use=False, save_raw=False, save_epochs=False, save_array=False),
        )
    else:
        from neurodec.paradigms import LeftRightImagery

        if args.worker == "neurodec-on-moabb-dataset":
            ds = _moabb_dataset(root)
            paradigm = LeftRightImagery(cache=False)
        else:
            from neurodec.datasets import get_dataset

            ds = get_dataset("PhysionetMI", data_root=root)
            paradigm = LeftRightImagery(cache_dir=args.cache_dir)
        call = lambda: paradigm.get_data(ds, subjects=subjects, n_jobs=args.n_jobs)  # noqa: E731

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("START", flush=True)
    t0 = time.perf_counter()
    X, y, meta = call()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("TIMED", flush=True)

    ref = Path(args.reference)
    if args.worker == "moabb" and not ref.exists():
        np.save(ref.with_suffix(".X.npy"), X)
        np.save(ref.with_suffix(".y.npy"), np.asarray(y))
        meta.to_pickle(ref.with_suffix(".meta.pkl"))
        ref.write_text("ok")
    equal = None
    if ref.exists():
        import pandas as pd

        X_ref = np.load(ref.with_suffix(".X.npy"), mmap_mode="r")
        y_ref = np.load(ref.with_suffix(".y.npy"))
        meta_ref = pd.read_pickle(ref.with_suffix(".meta.pkl"))
        equal = bool(
            X.dtype == X_ref.dtype
            and X.shape == X_ref.shape
            and np.array_equal(X, X_ref)
            and np.array_equal(np.asarray(y), y_ref)
            and meta.equals(meta_ref)
            and (meta.dtypes == meta_ref.dtypes).all()
        )
    print(
        json.dumps(
            {
                "seconds": seconds,
                "maxrss_kb": peak,
                "maxrss_before_kb": rss_before,
                "shape": list(X.shape),
                "dtype": str(X.dtype),
                "equal": equal,
            }
        ),
        flush=True,
    )


# --------------------------------------------------------------------------- parent side
def _tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_variant(variant: str, args, n_jobs: int, cache_dir: Path, reference: Path) -> dict:
    """Start one worker process, sample its tree's RSS while it times, return its figures."""
    import psutil

    cmd = [
        sys.executable,
        __file__,
        "--worker",
        variant,
        "--data-root",
        str(args.data_root),
        "--n-subjects",
        str(args.n_subjects),
        "--n-jobs",
        str(n_jobs),
        "--cache-dir",
        str(cache_dir),
        "--reference",
        str(reference),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    ps = psutil.Process(proc.pid)
    state = {"sampling": False, "stop": False, "peak": 0}

    def sample():
        while not state["stop"]:
            if state["sampling"]:
                state["peak"] = max(state["peak"], _tree_rss(ps))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = None
    for line in proc.stdout:
        line = line.strip()
        if line == "START":
            state["sampling"] = True
        elif line == "TIMED":
            state["sampling"] = False
        elif line.startswith("{"):
            result = json.loads(line)
    proc.wait()
    state["stop"] = True
    sampler.join()
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"variant {variant} (n_jobs={n_jobs}) failed with code {proc.returncode}")
    result["tree_peak_mb"] = state["peak"] / 2**20
    return result


def _versions() -> str:
    import mne
    import moabb
    import numpy
    import scipy

    import neurodec

    return (
        f"neurodec {neurodec.__version__}, moabb {moabb.__version__}, mne {mne.__version__}, "
        f"numpy {numpy.__version__}, scipy {scipy.__version__}, Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> None:
    from neurodec.config import data_root as default_data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder holding PhysionetMI/ (default: neurodec.config.data_root())",
    )
    parser.add_argument("--n-subjects", type=int, default=20)
    parser.add_argument(
        "--repeats",
        type=int,
        default=2,
        help="runs per variant (after one MOABB run that makes the reference arrays); "
        "the minimum is reported",
    )
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n-jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--reference", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.data_root = default_data_root(args.data_root)
    if args.worker:
        return worker(args)

    folder = args.data_root / "PhysionetMI"
    if not folder.is_dir():
        sys.exit(f"PhysionetMI not found under {args.data_root}; pass --data-root")
    # Same starting point for everyone: the EDF files in the page cache.
    for f in sorted(folder.rglob("*.edf")):
        f.read_bytes()

    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="neurodec-bench-") as tmp:
        tmp = Path(tmp)
        reference = tmp / "moabb_ref"
        # Groups run in turn (a warm run right after its cold run); odd repeats
        # reverse the group order so slow drifts of the machine's load even out.
        groups = [
            [("moabb", "moabb", 1)],
            [("moabb n_jobs=2", "moabb", 2)],
            [("neurodec cold", "neurodec", 1), ("neurodec warm", "neurodec", 1)],
            [("neurodec cold n_jobs=2", "neurodec", 2), ("neurodec warm n_jobs=2", "neurodec", 2)],
            [("neurodec paradigm on MOABB's dataset class (no cache)", "neurodec-on-moabb-dataset", 1)],
        ]
        if not reference.exists():  # MOABB's arrays are the reference: produce them first
            run_variant("moabb", args, 1, tmp / "unused", reference)
        for rep in range(args.repeats):
            caches = {1: tmp / f"cache-{rep}-j1", 2: tmp / f"cache-{rep}-j2"}
            order = [v for g in (groups if rep % 2 == 0 else groups[::-1]) for v in g]
            for label, variant, n_jobs in order:
                res = run_variant(variant, args, n_jobs, caches[n_jobs], reference)
                rows.setdefault(label, []).append(res)
                print(
                    f"[{rep + 1}/{args.repeats}] {label:55s} {res['seconds']:7.2f} s  "
                    f"maxrss {res['maxrss_kb'] / 1024:7.0f} MB  tree {res['tree_peak_mb']:7.0f} MB  "
                    f"equal={res['equal']}",
                    flush=True,
                )
    write_table(args, rows)


def write_table(args, rows: dict[str, list[dict]]) -> None:
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in rows.items()}
    moabb_s = best["moabb"]["seconds"]
    shape = best["moabb"]["shape"]
    lines = [
        "# Load + epoch PhysionetMI: neurodec vs MOABB",
        "",
        f"`LeftRightImagery` (MOABB defaults: 8-32 Hz IIR, 0-3 s, all EEG channels) on subjects "
        f"1-{args.n_subjects} (runs 4/8/12), X = {shape[0]} x {shape[1]} x {shape[2]} float64 "
        f"({shape[0] * shape[1] * shape[2] * 8 / 2**20:.0f} MiB). Each variant in a fresh process; time = "
        f"wall seconds of the `get_data` call (imports excluded), minimum of {args.repeats} run(s); "
        "'cold' starts from an empty epoch cache and fills it, 'warm' reads it. Peak RSS = `ru_maxrss` "
        "of the process (includes the ~interpreter + imports baseline shown in brackets); tree peak = summed "
        "RSS of the process and its joblib workers, sampled every 20 ms during the call. "
        "'equal to MOABB' = `np.array_equal` on X and y and `DataFrame.equals` on the metadata.",
        "",
        "| variant | n_jobs | time (s) | all runs (s) | MOABB time / this | peak RSS MiB (before call) | tree peak MiB | equal to MOABB |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for label, res in best.items():
        n_jobs = 2 if "n_jobs=2" in label else 1
        ratio = moabb_s / res["seconds"]
        runs = ", ".join(f"{r['seconds']:.2f}" for r in rows[label])
        equal = "reference" if label == "moabb" else ("yes" if res["equal"] else "NO")
        lines.append(
            f"| {label} | {n_jobs} | {res['seconds']:.2f} | {runs} | {ratio:.2f}x | "
            f"{res['maxrss_kb'] / 1024:.0f} ({res['maxrss_before_kb'] / 1024:.0f}) | "
            f"{res['tree_peak_mb']:.0f} | {equal} |"
        )
    cold = best["neurodec cold"]["seconds"]
    warm = best["neurodec warm"]["seconds"]
    lines += [
        "",
        f"Cold: MOABB / neurodec = {moabb_s / cold:.2f}x at n_jobs=1 "
        f"({moabb_s / best['neurodec cold n_jobs=2']['seconds']:.2f}x at n_jobs=2). "
        f"Warm (epoch cache): MOABB cold / neurodec warm = {moabb_s / warm:.1f}x "
        f"(slowest warm run: {moabb_s / max(r['seconds'] for r in rows['neurodec warm']):.1f}x).",
        "",
        "Notes: a warm call never starts workers, so the two warm rows run the same code; their "
        "spread is this VM's cost of faulting in the fresh 211 MiB output buffer. neurodec's n_jobs "
        "uses threads (no worker start-up); MOABB's n_jobs=2 uses joblib's loky processes, each of "
        "which imports MOABB/MNE/torch again before it reads anything. Peak RSS includes ~740 MiB "
        "of imports (MOABB pulls in torch); subtract the bracketed value for the call's own memory.",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU(s) (shared with other jobs while "
        f"measured; load average at the end {os.getloadavg()[0]:.1f}), "
        f"{_mem_total()}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"Versions: {_versions()}.",
        "",
        "Reproduce: `nice .venv/bin/python benchmarks/load_physionet.py --data-root ../shared/data`",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


def _mem_total() -> str:
    try:
        import psutil

        return f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:  # pragma: no cover
        return "RAM unknown"


if __name__ == "__main__":
    main()
