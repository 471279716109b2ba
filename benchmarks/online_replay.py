"""Pseudo-online replay of PhysionetMI and what an LSL replay of a run delivers.

1. Pseudo-online (``neurodec.online.pseudo_online_scores``): for each subject,
   each imagery run is held out, the pipeline is fitted on the other two runs,
   and the held-out run is scored offline (its epochs) and pseudo-online (its
   continuous signal pushed in chunks of 16 through the StreamingDecoder, 1 s
   decision step 0.1 s, causal 8-32 Hz filter; each trial scored with the first
   window ending at or after the end of its offline epoch).
2. LSL replay of one run (20,000 samples, a multiple of the chunk size 16) played
   twice: with neurodec's ``Replay`` and with mne-lsl's ``PlayerLSL`` as is;
   samples received vs in the file, repeated timestamps, and whether the data
   arrive bit-exact.

LSL traffic stays on the loopback interface; run inside ``unshare -rn``:

    unshare -rn sh -c 'ip link set lo up; nice .venv/bin/python benchmarks/online_replay.py'

Writes ``benchmarks/results/online_replay.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _receive(source_id, limit_s):
    from neurodec.online.lsl import open_stream
    from neurodec.online.source import StreamLostError

    data, stamps = [], []
    with open_stream(source_id=source_id, timeout=20, data_timeout=3.0) as src:
        stop = time.monotonic() + limit_s
        while time.monotonic() < stop:
            try:
                d, ts = src.read(512, timeout=0.5)
            except StreamLostError:
                break
            data.append(d)
            stamps.append(ts)
    return np.concatenate(data, axis=1), np.concatenate(stamps)


def lsl_replay(raw, repeat, chunk, native):
    from mne_lsl.player import PlayerLSL

    from neurodec.online.replay import Replay

    sid = uuid.uuid4().hex
    name = f"nd-bench-replay-{sid[:8]}"
    expected = np.tile(raw.get_data(), repeat)
    if native:
        player = PlayerLSL(
            raw.copy(), chunk_size=chunk, n_repeat=repeat, name=name, source_id=sid, annotations=False
        )
        player.start()  # pushes at once: the consumer misses what comes before it connects

        def stop():
            if player.running:  # it stops by itself at the end of the file
                player.stop()

    else:
        rep = Replay(
            raw,
            chunk_size=chunk,
            repeat=repeat,
            name=name,
            source_id=sid,
            annotations=False,
            wait_for_consumer=60,
        )
        rep.start()
        stop = rep.stop
    try:
        got, ts = _receive(sid, limit_s=raw.n_times * repeat / raw.info["sfreq"] + 60)
    finally:
        stop()
    back = int(np.sum(np.diff(ts) <= 0))
    exact = got.shape == expected.shape and np.array_equal(got, expected)
    return {
        "player": "mne-lsl PlayerLSL" if native else "neurodec Replay",
        "file": raw.n_times * repeat,
        "received": got.shape[1],
        "non_increasing": back,
        "exact": exact,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--subjects", type=int, nargs="+", default=list(range(1, 21)))
    parser.add_argument("--pipelines", nargs="+", default=["ts_lr.yml"])
    parser.add_argument("--step", type=float, default=0.1)
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument(
        "--lsl-repeat", type=int, default=2, help="plays of the run in the LSL part (0: skip)"
    )
    parser.add_argument("--out", default=str(RESULTS / "online_replay.md"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    from neurodec.online.lsl import lsl_loopback_only

    lsl_loopback_only()
    import mne
    import mne_lsl

    from neurodec.config import pipelines_dir
    from neurodec.datasets import get_dataset
    from neurodec.evaluation.pipelines import load_pipelines
    from neurodec.online.pseudo_online import pseudo_online_scores
    from neurodec.paradigms import LeftRightImagery

    mne.set_log_level("ERROR")
    ds = get_dataset("PhysionetMI", data_root=args.data_root)
    pipes = {}
    for f in args.pipelines:
        pipes.update(load_pipelines(pipelines_dir() / f))
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    table = pseudo_online_scores(
        pipes, ds, LeftRightImagery(), args.subjects, step=args.step, chunk_size=args.chunk
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    table.to_csv(Path(args.out).with_suffix(".csv"), index=False)

    lsl_rows = []
    if args.lsl_repeat:
        raw = ds.get_data(subjects=[1])[1]["0"]["0"]
        raw = raw.copy().pick("eeg").load_data()
        for native in (False, True):
            r = lsl_replay(raw, args.lsl_repeat, args.chunk, native)
            print(r, flush=True)
            lsl_rows.append(r)

    lines = [
        "# Pseudo-online replay (PhysionetMI) and LSL replay of a run",
        "",
        f"`{' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}`",
        "",
        f"{platform.platform()}, {os.cpu_count()} CPUs (shared), mne-lsl {mne_lsl.__version__}. "
        f"Subjects {args.subjects[0]}-{args.subjects[-1]}, LeftRightImagery (8-32 Hz, 0-3 s), leave-one-run-out; "
        f"decisions every {args.step:g} s from {args.chunk}-sample chunks. Wall {wall:.0f} s, CPU {cpu:.0f} s.",
        "",
        "## Pseudo-online vs offline (ROC-AUC of the held-out run, same fitted model)",
        "",
        "| pipeline | runs | offline | pseudo-online | online - offline | runs online < offline | trials scored online | samples file / decoded | dropped | ms per decision |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, part in table.groupby("pipeline"):
        diff = part["online"] - part["offline"]
        lines.append(
            f"| {name} | {len(part)} | {part['offline'].mean():.3f} ± {part['offline'].std():.3f} | "
            f"{part['online'].mean():.3f} ± {part['online'].std():.3f} | {diff.mean():+.3f} | "
            f"{int((diff < 0).sum())} | {int(part['n_online'].sum())}/{int(part['n_trials'].sum())} | "
            f"{int(part['samples_file'].sum())} / {int(part['samples_decoded'].sum())} | {int(part['dropped'].sum())} | "
            f"{part['decode_ms'].mean():.1f} |"
        )
    per_subject = table.groupby(["pipeline", "subject"])[["offline", "online"]].mean().reset_index()
    lines += [
        "",
        "Per subject (mean of its 3 runs):",
        "",
        "| pipeline | subject | offline | pseudo-online |",
        "|---|---|---|---|",
    ]
    for r in per_subject.itertuples(index=False):
        lines.append(f"| {r.pipeline} | {r.subject} | {r.offline:.3f} | {r.online:.3f} |")
    if lsl_rows:
        lines += [
            "",
            f"## LSL replay of subject 1's first imagery run ({raw.n_times} samples, {len(raw.ch_names)} EEG channels, "
            f"chunk {args.chunk}, played {args.lsl_repeat}x, received with `open_stream`)",
            "",
            "| player | samples in the file(s) | received | non-increasing timestamps | bit-exact |",
            "|---|---|---|---|---|",
        ]
        for r in lsl_rows:
            lines.append(
                f"| {r['player']} | {r['file']} | {r['received']} | {r['non_increasing']} | {r['exact']} |"
            )
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
