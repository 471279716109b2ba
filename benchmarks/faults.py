"""Faults end to end: ``neurodec benchmark`` killed, terminated, resumed and run twice at once.

Each run is the real command line (``neurodec.cli.main(["benchmark", ...])``,
bundled ``mdm.yml`` and ``ts_lr.yml``, within- and cross-session, ``--n-jobs`` 1
or 2) in its own process; only the dataset is made small (``SimulatedMI``, 3
subjects x 2 sessions, 32 channels) by handing ``load_datasets`` the configured
object. Scenarios, each with ``n_jobs`` 1 and 2:

- **SIGKILL then resume**: kill the command once a third of the folds are
  stored, run it again;
- **SIGTERM then resume**: the same with SIGTERM (Slurm, ``timeout``);
- **two at once**: two identical commands started together into one folder.

Each is compared with an uninterrupted reference run (same seed): folds lost,
fold rows duplicated, largest score difference. Orphans are the processes of a
run (found by a marker in their environment, which workers and resource
trackers inherit) still alive 10 s after its main process ended; temporary
folders are counted in the run's own ``TMPDIR``. Last, a store holding the
reference plus a run with another seed is read back through ``neurodec results
show`` and :func:`neurodec.evaluation.summary.per_session_scores`, to count
results of two contexts pooled into one number without being asked.

Run::

    nice .venv/bin/python benchmarks/faults.py

Writes ``benchmarks/results/faults.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results" / "faults.md"
MARK = "NEURODEC_FAULTS_RUN"
FOLD = ["dataset", "evaluation", "pipeline", "pipeline_key", "context", "subject", "session", "fold"]
ORPHAN_WAIT_S = 10.0


# --------------------------------------------------------------------------- the child
def child(results: str, seed: int, n_jobs: int, subjects: int, sessions: int, pipes: str) -> int:
    """One ``neurodec benchmark`` command on a small SimulatedMI."""
    import neurodec.evaluation.benchmark as bench
    from neurodec.cli import main
    from neurodec.datasets import get_dataset

    ds = get_dataset(
        "SimulatedMI", n_subjects=subjects, n_sessions=sessions, n_runs=1, n_trials=20, n_eeg_channels=32
    )
    bench.load_datasets = lambda *a, **k: [ds]
    argv = ["benchmark", "--pipelines", pipes, "--datasets", "SimulatedMI", "--results", results]
    argv += ["--evaluations", "within-session", "cross-session", "--n-jobs", str(n_jobs)]
    argv += ["--random-state", str(seed), "--no-plots"]
    return main(argv)


# --------------------------------------------------------------------------- harness
class Run:
    """A child command in its own TMPDIR, with a marker in its environment."""

    def __init__(
        self, base: Path, results: Path, args, seed: int, n_jobs: int, tag: str, tmp: Path | None = None
    ) -> None:
        self.mark = uuid.uuid4().hex
        self.tmp = tmp if tmp is not None else base / f"tmp-{tag}"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.log = base / f"{tag}.log"
        env = dict(os.environ, TMPDIR=str(self.tmp), PYTHONWARNINGS="ignore", **{MARK: self.mark})
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
        cmd = [sys.executable, __file__, "--child", str(results), str(seed), str(n_jobs)]
        cmd += [str(args.subjects), str(args.sessions), str(args.pipes)]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def processes(self) -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter():
            try:
                if p.environ().get(MARK) == self.mark and p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p)
            except psutil.Error:
                continue
        return found

    def workers(self) -> int:
        return len([p for p in self.processes() if p.pid != self.proc.pid])

    def finish(self, timeout: float = 600) -> dict:
        """Wait for the main process; then count what of the run is still alive
        ``ORPHAN_WAIT_S`` later (and kill it)."""
        self.proc.wait(timeout=timeout)
        t0 = time.perf_counter()
        left = self.processes()
        while left and time.perf_counter() - t0 < ORPHAN_WAIT_S:
            time.sleep(0.1)
            left = self.processes()
        gone_s = time.perf_counter() - t0
        for p in left:
            with contextlib.suppress(psutil.Error):
                p.kill()
        return {"rc": self.proc.returncode, "orphans": len(left), "gone_s": gone_s}

    def temp_left(self) -> int:
        return len([p for p in self.tmp.iterdir() if p.name.startswith("neurodec-eval-")])

    def last_line(self) -> str:
        lines = [x for x in self.log.read_text(errors="replace").splitlines() if x.strip()]
        return lines[-1][-160:] if lines else ""


def rows(db: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(db)) as con:
            return int(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return 0


def folds(folder: Path) -> pd.DataFrame:
    from neurodec.evaluation import ResultsStore

    store = ResultsStore(folder)
    try:
        return store.to_frame()
    finally:
        store.close()


def compare(final: pd.DataFrame, ref: pd.DataFrame) -> dict:
    key = [c for c in FOLD if c in final.columns and c in ref.columns]
    a = final.drop_duplicates(key).set_index(key)["score"]
    b = ref.set_index(key)["score"]
    common = a.index.intersection(b.index)
    diff = float(np.max(np.abs(a[common].to_numpy() - b[common].to_numpy()))) if len(common) else float("nan")
    return {
        "lost": int(len(b.index.difference(a.index))),
        "duplicated": int(final.duplicated(key).sum()),
        "extra": int(len(a.index.difference(b.index))),
        "max_diff": diff,
    }


# --------------------------------------------------------------------------- scenarios
def interrupted(sig: int, n_jobs: int, args, ref: pd.DataFrame, base: Path) -> dict:
    name = signal.Signals(sig).name
    tag = f"{name.lower()}-n{n_jobs}"
    res = base / tag
    db = res / "results.sqlite"
    target = max(1, len(ref) // 3)
    run = Run(base, res, args, args.seed, n_jobs, tag)
    t0 = time.perf_counter()
    workers = 0
    while run.proc.poll() is None and time.perf_counter() - t0 < 600:
        if rows(db) >= target:
            workers = run.workers()
            run.proc.send_signal(sig)
            break
        time.sleep(0.02)
    mid_run = run.proc.poll() is None
    signalled = time.perf_counter()
    end = run.finish()
    exit_s = time.perf_counter() - signalled - end["gone_s"]
    stored = rows(db)
    temp_after_signal = run.temp_left()
    message = run.last_line()
    # the next run on this machine: same temporary directory
    again = Run(base, res, args, args.seed, n_jobs, tag + "-resume", tmp=run.tmp)
    end2 = again.finish()
    final = folds(res)
    out = {
        "scenario": f"{name} then resume",
        "n_jobs": n_jobs,
        "mid_run": mid_run,
        "children_at_signal": workers,
        "stored_at_signal": stored,
        "rc": end["rc"],
        "exit_s": exit_s,
        "message": message if sig == signal.SIGTERM else "",
        "orphans": end["orphans"] + end2["orphans"],
        "temp_after_signal": temp_after_signal,
        "temp_after_resume": again.temp_left(),
        "rc_resume": end2["rc"],
        "recomputed": len(final) - stored,
    }
    return out | compare(final, ref)


def concurrent(n_jobs: int, args, ref: pd.DataFrame, base: Path) -> dict:
    tag = f"concurrent-n{n_jobs}"
    res = base / tag
    runs = [Run(base, res, args, args.seed, n_jobs, f"{tag}-{i}") for i in (1, 2)]
    ends = [r.finish() for r in runs]
    final = folds(res)
    csv_rows = len(pd.read_csv(res / "results.csv")) if (res / "results.csv").exists() else -1
    return {
        "scenario": "two at once",
        "n_jobs": n_jobs,
        "rc": "/".join(str(e["rc"]) for e in ends),
        "orphans": sum(e["orphans"] for e in ends),
        "temp_after_resume": sum(r.temp_left() for r in runs),
        "csv_rows": csv_rows,
        "rows": len(final),
    } | compare(final, ref)


def mixed_contexts(args, ref_folder: Path, base: Path) -> dict:
    """A store with the reference (seed ``args.seed``) and a run with another
    seed: does ``results show`` / ``per_session_scores`` pool the two?"""
    from neurodec.cli import main
    from neurodec.evaluation.summary import per_session_scores

    folder = base / "contexts"
    shutil.copytree(ref_folder, folder)
    run = Run(base, folder, args, args.seed + 1, 1, "contexts")
    end = run.finish()
    allrows = folds(folder)
    key = ["dataset", "evaluation", "pipeline"]
    # what each context alone gives, and what the two pooled give, per summary row
    per_ctx = {
        c: per_session_scores(d).groupby(key)["score"].mean()
        for c, d in allrows.groupby("context", sort=True)
    }
    pooled = per_session_scores(allrows).groupby(key)["score"].mean()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = main(["results", str(folder), "show"])
    shown = out.getvalue()
    # rows of the printed summary whose score is the pooled one and no single context's
    pooled_rows, distinguishable = 0, 0
    for line in shown.splitlines():
        parts = line.split()
        hit = [k for k in pooled.index if all(v in parts for v in k)]
        if not hit:
            continue
        k = hit[0]
        singles = {f"{per_ctx[c][k]:.3f}" for c in per_ctx if k in per_ctx[c].index}
        mixed = f"{pooled[k]:.3f}"
        if mixed in singles:
            continue
        distinguishable += 1
        pooled_rows += mixed in parts
    # the API: per-session rows holding more folds than any one context has for them
    sk = [*key, "subject", "session"]
    single = pd.concat(
        [per_session_scores(d).set_index(sk)["n_folds"] for _, d in allrows.groupby("context")], axis=1
    ).max(axis=1)
    merged = per_session_scores(allrows).set_index(sk)["n_folds"]
    per_session = int((merged > single.reindex(merged.index)).sum())
    return {
        "contexts": allrows.groupby("evaluation")["context"].nunique().to_dict(),
        "rc": end["rc"],
        "show_rc": rc,
        "show_rows_pooled": pooled_rows,
        "show_rows_checked": distinguishable,
        "api_sessions_pooled": int(per_session),
        "shown": shown.rstrip(),
    }


# --------------------------------------------------------------------------- report
def versions() -> str:
    from importlib import metadata

    names = ("neurodec", "joblib", "scikit-learn", "pyriemann", "moabb", "mne", "numpy", "psutil")
    return ", ".join(f"{n} {metadata.version(n)}" for n in names)


def report(args, ref_info: dict, table: list[dict], ctx: dict, wall: float, cpu: float) -> str:
    cmd = "nice .venv/bin/python benchmarks/faults.py " + " ".join(sys.argv[1:])
    lines = [
        "# Faults: kill, terminate, resume, concurrent runs (`neurodec benchmark`)",
        "",
        f"Command: `{cmd.strip()}` ({wall:.0f} s wall, {cpu:.0f} CPU s of the runs in all).",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs; run under `nice`), "
        f"Python {platform.python_version()}. Versions: {versions()}.",
        "",
        f"Each run: `neurodec benchmark` (the CLI entry point, in its own process) with the bundled "
        f"`mdm.yml` and `ts_lr.yml`, within-session and cross-session, `--random-state {args.seed}`, "
        f"on SimulatedMI ({args.subjects} subjects x {args.sessions} sessions x 1 run x 20 trials per "
        f"class, 32 EEG channels): {ref_info['rows']} fold rows, {ref_info['seconds']:.0f} s for the "
        "uninterrupted reference with `--n-jobs 1` (mostly imports and simulation). The signal goes to "
        "the main process only, once a third of the rows are stored. "
        f"Orphans: processes of the run (workers, resource trackers) alive {ORPHAN_WAIT_S:.0f} s after "
        "its main process ended. Temp folders: `neurodec-eval-*` in the run's TMPDIR. Lost / duplicated "
        "/ score diff: the final store against the reference, fold by fold.",
        "",
        "| scenario | n_jobs | signalled mid-run | child processes at signal | rows at signal | exit code | "
        "exit s | orphans | temp after signal | temp after resume | resume exit | recomputed | "
        "folds lost | rows duplicated | max score diff |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        if r["scenario"] == "two at once":
            continue
        lines.append(
            f"| {r['scenario']} | {r['n_jobs']} | {'yes' if r['mid_run'] else 'NO'} | "
            f"{r['children_at_signal']} | {r['stored_at_signal']} | {r['rc']} | {r['exit_s']:.1f} | "
            f"{r['orphans']} | {r['temp_after_signal']} | {r['temp_after_resume']} | {r['rc_resume']} | "
            f"{r['recomputed']} | {r['lost']} | {r['duplicated']} | {r['max_diff']:.1g} |"
        )
    lines += [
        "",
        "| scenario | n_jobs | exit codes | orphans | temp left | store rows | results.csv rows | "
        "folds lost | rows duplicated | max score diff |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        if r["scenario"] != "two at once":
            continue
        lines.append(
            f"| {r['scenario']} | {r['n_jobs']} | {r['rc']} | {r['orphans']} | {r['temp_after_resume']} | "
            f"{r['rows']} | {r['csv_rows']} | {r['lost']} | {r['duplicated']} | {r['max_diff']:.1g} |"
        )
    msgs = sorted({r["message"] for r in table if r.get("message")})
    lines += ["", "Last line printed by the SIGTERM'd command: " + "; ".join(f"`{m}`" for m in msgs), ""]
    totals = {
        "folds lost": sum(r["lost"] for r in table),
        "rows duplicated": sum(r["duplicated"] for r in table),
        "orphaned processes": sum(r["orphans"] for r in table),
        "temp folders left after the next run": sum(r["temp_after_resume"] for r in table),
        "results of mixed contexts pooled without being asked (`results show` rows)": ctx["show_rows_pooled"],
        "same, `per_session_scores` rows mixing two contexts": ctx["api_sessions_pooled"],
    }
    lines += ["Totals (goal 0 each):", "", "| what | count |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in totals.items()]
    lines += [
        "",
        f"Mixed contexts: the reference store plus a run with `--random-state {args.seed + 1}` in one "
        f"results folder (contexts per evaluation: {ctx['contexts']}; the cross-session folds do not "
        "depend on the seed, so both runs share them), read back with `neurodec results DIR show` "
        f"(exit code {ctx['show_rc']}). {ctx['show_rows_checked']} printed row(s) could tell pooled from "
        f"per-context scores (pooled mean differs from each context's at 3 decimals); "
        f"{ctx['show_rows_pooled']} of them print the pooled mean. "
        f"`per_session_scores(store.to_frame())` mixes the folds of both contexts in "
        f"{ctx['api_sessions_pooled']} (pipeline, subject, session) row(s). Output of `results show`:",
        "",
        "```",
        ctx["shown"],
        "```",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        a = sys.argv[2:]
        sys.exit(child(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), a[5]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="neurodec-faults-") as tmp:
        base = Path(tmp)
        args.pipes = base / "pipelines"
        args.pipes.mkdir()
        for f in ("mdm.yml", "ts_lr.yml"):
            shutil.copy(REPO / "pipelines" / f, args.pipes / f)
        t0 = time.perf_counter()
        ref_run = Run(base, base / "reference", args, args.seed, 1, "reference")
        end = ref_run.finish()
        if end["rc"] != 0:
            raise SystemExit(f"reference run failed ({end['rc']}): {ref_run.log.read_text()[-3000:]}")
        ref = folds(base / "reference")
        ref_info = {"rows": len(ref), "seconds": time.perf_counter() - t0}
        print(f"reference: {len(ref)} rows in {ref_info['seconds']:.0f} s", flush=True)
        table = []
        for n_jobs in args.n_jobs:
            for sig in (signal.SIGKILL, signal.SIGTERM):
                table.append(interrupted(sig, n_jobs, args, ref, base))
                print(table[-1], flush=True)
            table.append(concurrent(n_jobs, args, ref, base))
            print(table[-1], flush=True)
        ctx = mixed_contexts(args, base / "reference", base)
        print({k: v for k, v in ctx.items() if k != "shown"}, flush=True)
        use = resource.getrusage(resource.RUSAGE_CHILDREN)
        text = report(args, ref_info, table, ctx, time.perf_counter() - t_start, use.ru_utime + use.ru_stime)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
