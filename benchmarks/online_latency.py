"""Live decoding over LSL: decision latency, CPU per stream, streams per process.

A separate process plays each stream: an LSL outlet (float32, 250 Hz) pushing a
chunk of ``--chunk`` samples every ``chunk / 250`` s, stamping the chunk's last
sample with the push time (``local_clock()``). This process opens the stream
(:func:`neurodec.online.open_stream`), decodes it with
:meth:`StreamingDecoder.run` (1-s windows every 0.1 s, one BLAS thread) and
publishes every decision on a :class:`DecisionOutlet`. Latency is from the push
of the chunk holding a window's last sample to the decision's publication (same
machine, same clock); CPU is this process's CPU time over the run divided by
its wall time. The throughput section decodes N 64-channel TS+LR streams in
one process (one thread per stream) and counts missed deadlines (a decision
later than one step after its last sample arrived, or a step of data already
waiting).

All LSL traffic stays on the loopback interface (``lsl_loopback_only``); run it
inside ``unshare -rn`` for a network namespace of its own as well:

    unshare -rn sh -c 'ip link set lo up; nice .venv/bin/python benchmarks/online_latency.py'

Writes ``benchmarks/results/online_latency.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import shlex
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SFREQ = 250.0


def _push(names, n_channels, chunk, duration, created, seed=0):
    """Child process: one outlet per name, a chunk every chunk/SFREQ s on each."""
    from neurodec.online.lsl import lsl_loopback_only

    lsl_loopback_only()
    from mne_lsl.lsl import StreamInfo, StreamOutlet, local_clock

    rng = np.random.default_rng(seed)
    block = (rng.standard_normal((int(10 * SFREQ), n_channels)) * 10).astype(np.float32)
    outlets = []
    for name in names:
        info = StreamInfo(name, "EEG", n_channels, SFREQ, "float32", name)
        info.set_channel_names([f"ch{i}" for i in range(n_channels)])
        info.set_channel_units("microvolts")
        outlets.append(StreamOutlet(info))  # each push_chunk goes out at once (pushThrough)
    created.set()
    for outlet in outlets:
        outlet.wait_for_consumers(60)
    period = chunk / SFREQ
    t_next = local_clock()
    stop = t_next + duration
    pos = 0
    while t_next < stop:
        t_next += period
        while local_clock() < t_next:
            time.sleep(min(0.0005, max(0.0, t_next - local_clock())))
        data = block[pos : pos + chunk]
        pos = (pos + chunk) % (block.shape[0] - chunk)
        for outlet in outlets:
            outlet.push_chunk(data, timestamp=local_clock())
    time.sleep(0.5)
    for outlet in outlets:
        outlet._del()


def _fit(pipeline, n_channels, seed=0):
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines

    files = {"TS+LR": "ts_lr.yml", "ACM-fast+TS+SVM": "acm_fast_ts_svm.yml", "ACM+TS+SVM": "acm_ts_svm.yml"}
    est = load_pipelines(pipelines_dir() / files[pipeline])[pipeline]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, n_channels, int(SFREQ))) * 10
    y = np.array(["left_hand", "right_hand"] * 20)
    X[y == "right_hand", 0] *= 1.5
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        est.fit(X, y)
    return est


class _Timed:
    """DecisionOutlet wrapper recording push->publication latency."""

    def __init__(self, outlet, clock):
        self.outlet, self.clock, self.latency = outlet, clock, []

    def publish(self, d):
        self.outlet.publish(d)
        self.latency.append(self.clock() - d.timestamp)


def _decode(est, name, n_channels, duration, results, key):
    from mne_lsl.lsl import local_clock

    from neurodec.online import StreamingDecoder
    from neurodec.online.lsl import DecisionOutlet, open_stream

    dec = StreamingDecoder(
        est,
        window=1.0,
        step=0.1,
        sfreq=SFREQ,
        ch_names=[f"ch{i}" for i in range(n_channels)],
        fmin=8,
        fmax=30,
        unit="uV",
    )
    outlet = DecisionOutlet(f"{name}-out", dec.classes_, source_id=uuid.uuid4().hex)
    timed = _Timed(outlet, local_clock)
    try:
        with open_stream(source_id=name, timeout=10, data_timeout=3) as src:
            for _ in dec.run(src, outlet=timed, duration=duration):
                pass
    finally:
        outlet.close()
    lat = np.array(timed.latency[int(2 / 0.1) :])  # skip the first 2 s (filter start-up, connection)
    results[key] = {"latency": lat, "monitor": dec.monitor, "decoder": dec}


def run_config(pipeline, n_channels, n_streams, duration, chunk, ctx):
    ests = [_fit(pipeline, n_channels, seed=i) for i in range(n_streams)]
    names = [f"nd-bench-{uuid.uuid4().hex[:12]}" for _ in range(n_streams)]
    created = ctx.Event()
    pusher = ctx.Process(target=_push, args=(names, n_channels, chunk, duration + 3, created), daemon=True)
    pusher.start()
    if not created.wait(180):
        raise RuntimeError("the pushing process did not create its outlets within 180 s")
    results = {}
    threads = [
        threading.Thread(target=_decode, args=(est, name, n_channels, duration, results, i), daemon=True)
        for i, (est, name) in enumerate(zip(ests, names))
    ]
    cpu0, wall0 = time.process_time(), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    pusher.join(30)
    if pusher.is_alive():
        pusher.terminate()
    lat = np.concatenate([r["latency"] for r in results.values()]) if results else np.zeros(0)
    missed = sum(r["monitor"].n_missed for r in results.values())
    decisions = sum(r["monitor"].n_decisions for r in results.values())
    extra = ""
    if pipeline.startswith("ACM") and ests:
        extra = f"order {ests[0][0].order_}, lag {ests[0][0].lag_}"
        if pipeline.startswith("ACM-fast"):
            extra += " (selected on the random training windows)"
    return {
        "pipeline": pipeline,
        "channels": n_channels,
        "streams": n_streams,
        "decisions": decisions,
        "p50": float(np.percentile(lat, 50)) * 1e3 if lat.size else float("nan"),
        "p99": float(np.percentile(lat, 99)) * 1e3 if lat.size else float("nan"),
        "max": float(lat.max()) * 1e3 if lat.size else float("nan"),
        "cpu": 100 * cpu / wall / max(n_streams, 1),
        "missed": missed,
        "arrival_p50": float(np.median(np.concatenate([r["monitor"].latencies for r in results.values()])))
        * 1e3
        if results
        else float("nan"),
        "complete": len(results) == n_streams,
        "extra": extra,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds decoded per configuration")
    parser.add_argument("--chunk", type=int, default=25, help="samples per pushed chunk (25 = one step)")
    parser.add_argument("--channels", type=int, nargs="+", default=[8, 22, 64])
    parser.add_argument("--pipelines", nargs="+", default=["TS+LR", "ACM-fast+TS+SVM", "ACM+TS+SVM"])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4, 6, 8, 12])
    parser.add_argument("--out", default=str(RESULTS / "online_latency.md"))
    parser.add_argument(
        "--append-throughput",
        action="store_true",
        help="only the streams-per-process rows, appended to --out (to extend a finished run)",
    )
    args = parser.parse_args(argv)

    from neurodec.online.lsl import lsl_loopback_only

    lsl_loopback_only()
    import mne_lsl
    import pyriemann
    import sklearn

    ctx = mp.get_context("spawn")
    rows = []
    for pipeline in [] if args.append_throughput else args.pipelines:
        for n_ch in args.channels:
            r = run_config(pipeline, n_ch, 1, args.duration, args.chunk, ctx)
            print(r, flush=True)
            rows.append(r)
    through = []
    for n in args.streams:
        r = run_config("TS+LR", 64, n, args.duration, args.chunk, ctx)
        print(r, flush=True)
        through.append(r)
        if r["missed"] > 0.01 * max(r["decisions"], 1) or not r["complete"]:
            break

    if args.append_throughput:
        lines = [
            "",
            f"More streams: `{' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}`",
            "",
            "| streams | decisions | latency p50 (ms) | p99 (ms) | CPU per stream | missed deadlines |",
            "|---|---|---|---|---|---|",
        ]
        for r in through:
            lines.append(
                f"| {r['streams']} | {r['decisions']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['cpu']:.1f} % | "
                f"{r['missed']} |"
            )
        with open(args.out, "a") as fh:
            fh.write("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    lines = [
        "# Online decoding latency and CPU (LSL, loopback)",
        "",
        f"`{' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}`",
        "",
        f"{platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs), Python "
        f"{platform.python_version()}, mne-lsl {mne_lsl.__version__}, scikit-learn {sklearn.__version__}, "
        f"pyriemann {pyriemann.__version__}. Streams at {SFREQ:g} Hz, float32, a chunk of {args.chunk} samples "
        f"every {args.chunk / SFREQ * 1e3:g} ms from a separate process; 1-s windows every 0.1 s (10 decisions/s), "
        f"8-30 Hz causal band-pass, one BLAS thread; {args.duration:g} s per configuration (first 2 s skipped).",
        "",
        "Latency: from the push of the chunk holding a window's last sample to the decision's publication on the "
        "decision outlet. CPU: this process's CPU time / wall time, per stream (one core = 100 %).",
        "",
        "| pipeline | channels | decisions | latency p50 (ms) | p99 (ms) | max (ms) | CPU per stream | missed deadlines | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['pipeline']} | {r['channels']} | {r['decisions']} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['max']:.1f} | {r['cpu']:.1f} % | {r['missed']} | {r['extra']} |"
        )
    lines += [
        "",
        "## Streams per process (64 channels, TS+LR, one thread per stream)",
        "",
        "| streams | decisions | latency p50 (ms) | p99 (ms) | CPU per stream | missed deadlines |",
        "|---|---|---|---|---|---|",
    ]
    for r in through:
        lines.append(
            f"| {r['streams']} | {r['decisions']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['cpu']:.1f} % | "
            f"{r['missed']} |"
        )
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
