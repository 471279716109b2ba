"""The brain tokenizer: held-out reconstruction vs MNE interpolation, codebooks, speed, montages.

1. Trains (or resumes, or finds finished) the run of ``--config`` (default
   ``benchmarks/configs/tokenizer_physionet.yml``: base size, PhysionetMI subjects 1-15
   plus simulated MEG/sEEG subjects 1-4).
2. Held-out PhysionetMI subjects 16-20 (every 2-s window of runs 4, 8, 12 in the corpus):
   for 0 %, 25 % and 50 % of the channels hidden (one random set per recording, the same
   for the model and for MNE), the Pearson r over each 2-s window between the hidden
   channels' signal and (a) the tokenizer's reconstruction from the visible channels,
   (b) MNE's spherical-spline interpolation (``interpolate_bads``) of the same channels
   from the same visible channels. Both are scored in the visible channels' average
   reference (the reference a repair can know). At 0 %, r of every channel (plain
   reconstruction through the tokens).
3. Codebook use on the held-out windows: codes used, perplexity and unused codes per level.
4. Speed and memory, each measured in a fresh process: training windows/s and peak RSS over
   ``--probe-steps`` steps of the same configuration; encoding (tokens) windows/s and peak RSS.
5. The same checkpoint on every montage of ``--data-root`` (EEG 4/30/60/64/125 ch, KIT 157 and
   Neuromag 306 MEG, 3-ch TRIUX, 88 sEEG, 64 ECoG) and on simulated MEG/sEEG subjects 5-6
   (never trained on): r per modality with MNE's interpolation beside it (spline for EEG,
   sEEG and ECoG; MNE's minimum-norm field mapping for MEG).

Run::

    nice .venv/bin/python benchmarks/tokenizer.py --data-root ../shared/data

Writes ``benchmarks/results/tokenizer.md`` (and ``tokenizer.json`` with every number).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RESULT = REPO / "benchmarks" / "results" / "tokenizer.md"
CONFIG = REPO / "benchmarks" / "configs" / "tokenizer_physionet.yml"
FRACTIONS = (0.0, 0.25, 0.5)
ELECTRODES = ("eeg", "seeg", "ecog")


# --------------------------------------------------------------------------- helpers
def _peak_rss_mib() -> float:
    """Peak RSS of this process's address space (VmHWM; ru_maxrss survives fork + exec, so a
    probe started from a big parent would report the parent's size)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """r over the last axis."""
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    denom = np.sqrt((a * a).sum(-1)) * np.sqrt((b * b).sum(-1))  # any units (teslas too)
    return np.where(denom > 0, (a * b).sum(-1) / np.where(denom > 0, denom, 1.0), np.nan)


def _hidden_sets(n_channels: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    n_hide = int(np.floor(fraction * n_channels))
    n_hide = min(n_hide, n_channels - 1)
    hidden = np.zeros(n_channels, bool)
    hidden[rng.choice(n_channels, n_hide, replace=False)] = True
    return hidden


def _visible_reference(x: np.ndarray, types: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Electrodes re-referenced to the average of the visible electrodes of their type."""
    out = x.copy()
    for kind in ELECTRODES:
        rows = types == kind
        vis = rows & ~hidden
        if vis.any():
            out[:, rows] -= x[:, vis].mean(1, keepdims=True)
    return out


@np.errstate(all="ignore")
def model_scores(model, windows, sensors, hidden, n_real, batch_size=32):
    """r per (window, scored channel): hidden channels, or every channel when none is hidden."""
    import torch

    from neurodec.models.losses import pearson
    from neurodec.sensors import sensor_features

    feats, types = sensor_features(sensors)
    f, t = torch.from_numpy(feats), torch.from_numpy(types)
    scored = hidden if hidden.any() else np.ones_like(hidden)
    out = []
    with torch.no_grad():
        for start in range(0, len(windows), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(windows[start : start + batch_size], dtype=np.float32))
            b = len(x)
            valid = torch.ones(b, len(t), dtype=torch.bool)
            visible = valid & ~torch.from_numpy(hidden)
            res = model(x, f.expand(b, -1, -1), t.expand(b, -1), valid, visible)
            rec, tgt = res.reconstruction[..., :n_real], res.target[..., :n_real]
            out.append(pearson(rec, tgt)[:, torch.from_numpy(scored)].numpy())
    return np.concatenate(out)


def mne_scores(windows_phys, info, hidden, n_real):
    """r per (window, hidden channel) of MNE's interpolate_bads (spline / minimum norm)."""
    import mne

    names = info["ch_names"]
    types = np.array(info.get_channel_types())
    ref = _visible_reference(windows_phys, types, hidden)
    epochs = mne.EpochsArray(ref.copy(), info, verbose="error")  # interpolated in place: keep ref intact
    epochs.info["bads"] = [n for n, h in zip(names, hidden) if h]
    method = {"meg": "MNE", "eeg": "spline", "ecog": "spline", "seeg": "spline"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            epochs.interpolate_bads(reset_bads=False, method=method, origin="auto", verbose="error")
        except Exception:  # no head digitisation: a sphere centred at the head origin
            epochs = mne.EpochsArray(ref.copy(), info, verbose="error")
            epochs.info["bads"] = [n for n, h in zip(names, hidden) if h]
            epochs.interpolate_bads(reset_bads=False, method=method, origin=(0.0, 0.0, 0.04), verbose="error")
    got = epochs.get_data()[:, hidden, :n_real]
    return _pearson(got, ref[:, hidden, :n_real])


def _eeg_info(sensors, sfreq):
    import mne

    info = mne.create_info(sensors["name"].tolist(), sfreq, "eeg")
    pos = {n: (x, y, z) for n, x, y, z in sensors[["name", "x", "y", "z"]].itertuples(index=False)}
    with mne.utils.use_log_level("error"):
        info.set_montage(mne.channels.make_dig_montage(ch_pos=pos, coord_frame="head"))
    return info


def _model_info(raw, sensors, sfreq):
    """raw.info reduced to the model's channels, at the model's rate (coil definitions kept)."""
    import mne

    info = mne.pick_info(raw.info, [raw.ch_names.index(n) for n in sensors["name"]])
    with info._unlock():
        info["sfreq"] = sfreq
        info["lowpass"] = min(info["lowpass"], sfreq / 2)
        info["bads"] = []
    return info


def _summary(values):
    values = np.asarray([v for v in np.ravel(values) if np.isfinite(v)])
    return (
        (float(values.mean()), float(values.std()), int(values.size))
        if values.size
        else (float("nan"), 0.0, 0)
    )


# --------------------------------------------------------------------------- probes (own process)
def probe_train(config_path: str, steps: int) -> dict:
    import tempfile

    from neurodec.models.pretrain import load_pretrain_config, pretrain

    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_pretrain_config(config_path, out=tmp, steps=steps, progress=False)
        cfg = cfg.replace(sources=None, checkpoint_every=steps, log_every=steps, vq_warmup_steps=1)
        t0 = time.perf_counter()
        result = pretrain(cfg)
        wall = time.perf_counter() - t0
    return {
        "steps": steps,
        "windows_per_s": float(result.metrics["windows_per_s"].iloc[-1]),
        "wall_s": wall,
        "peak_rss_mib": _peak_rss_mib(),
    }


def probe_encode(checkpoint: str, corpus: str, subjects: list[int]) -> dict:
    import torch

    from neurodec.corpus import Corpus
    from neurodec.models.checkpoint import load_model
    from neurodec.sensors import sensor_features

    model = load_model(checkpoint)
    c = Corpus(corpus)
    ids = [r for r in c.select(subjects=subjects) if c.entry(r)["modality"] == "eeg"]
    n, elapsed = 0, 0.0
    for rid in ids:
        w = torch.from_numpy(c.windows(rid))
        feats, types = sensor_features(c.sensors(rid))
        f, t = torch.from_numpy(feats), torch.from_numpy(types)
        t0 = time.perf_counter()
        for start in range(0, len(w), 32):
            x = w[start : start + 32]
            model.tokenize(x, f.expand(len(x), -1, -1), t.expand(len(x), -1))
        elapsed += time.perf_counter() - t0
        n += len(w)
    return {"windows": n, "windows_per_s": n / elapsed, "peak_rss_mib": _peak_rss_mib()}


def _run_probe(args: list[str], repeats: int) -> dict:
    """Best throughput (and the largest peak RSS) over ``repeats`` fresh processes: other jobs share
    the machine, and the fastest repeat is the one they disturbed least."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = max(runs, key=lambda r: r["windows_per_s"])
    return {
        **best,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "repeats": repeats,
        "all_windows_per_s": [r["windows_per_s"] for r in runs],
    }


# --------------------------------------------------------------------------- evaluations
def held_out(model, corpus, subjects, seed):
    rows = []
    ids = [
        r for r in corpus.select(subjects=subjects) if corpus.entry(r)["source"] == "PhysionetMotorImagery"
    ]
    for k, rid in enumerate(sorted(ids)):
        entry = corpus.entry(rid)
        windows = corpus.windows(rid)
        sensors = corpus.sensors(rid)
        info = _eeg_info(sensors, corpus.options.sfreq)
        for frac in FRACTIONS:
            hidden = _hidden_sets(len(sensors), frac, np.random.default_rng([seed, k, int(frac * 100)]))
            r_model = model_scores(model, windows, sensors, hidden, windows.shape[-1])
            r_mne = (
                mne_scores(windows.astype(np.float64), info, hidden, windows.shape[-1])
                if hidden.any()
                else None
            )
            rows.append(
                {
                    "subject": int(entry["subject"]),
                    "run": entry["run"],
                    "fraction": frac,
                    "n_windows": len(windows),
                    "n_hidden": int(hidden.sum()),
                    "model": _summary(r_model),
                    "mne": _summary(r_mne) if r_mne is not None else None,
                }
            )
    return rows


def codebook_use(model, corpus, subjects):
    import torch

    from neurodec.models.rvq import perplexity
    from neurodec.sensors import sensor_features

    codes = []
    ids = [
        r for r in corpus.select(subjects=subjects) if corpus.entry(r)["source"] == "PhysionetMotorImagery"
    ]
    for rid in ids:
        w = torch.from_numpy(corpus.windows(rid))
        feats, types = sensor_features(corpus.sensors(rid))
        f, t = torch.from_numpy(feats), torch.from_numpy(types)
        for start in range(0, len(w), 64):
            x = w[start : start + 64]
            codes.append(
                model.tokenize(x, f.expand(len(x), -1, -1), t.expand(len(x), -1)).reshape(
                    -1, model.config.n_levels
                )
            )
    codes = torch.cat(codes)
    size = model.config.codebook_size
    return [
        {
            "level": i,
            "used": int(torch.unique(codes[:, i]).numel()),
            "perplexity": float(perplexity(codes[:, i], size)),
            "unused": size - int(torch.unique(codes[:, i]).numel()),
            "dead_at_end_of_training": model.quantizer.dead_codes()[i],
            "restarts_in_training": int(model.quantizer.levels[i].restarts),
        }
        for i in range(model.config.n_levels)
    ], int(codes.shape[0])


def _montages(root: Path, config):
    """(label, loader) of every other montage."""
    from neurodec.datasets import get_dataset
    from neurodec.io import read_recording

    def reader(path, **kw):
        return lambda: [read_recording(root / path, **kw).raw]

    def simulated(modality):
        spec = next(s for s in config.sources if s.startswith(f"SimulatedMI:modality={modality}"))
        opts = dict(kv.split("=") for kv in spec.split(":", 1)[1].split(","))
        opts = {k: (v if k == "modality" else int(v)) for k, v in opts.items()}
        opts["n_subjects"] = 6
        ds = get_dataset("SimulatedMI", **opts)

        def load():
            data = ds.get_data(subjects=[5, 6])
            return [raw for s in (5, 6) for ses in data[s].values() for raw in ses.values()]

        return load

    muse = sorted((root / "EEGNotebooks_VisualP300" / "subject1" / "session1").glob("*.csv.gz"))[0]
    return [
        ("Muse EEG 4 ch (P300, subject 1)", reader(muse.relative_to(root))),
        ("BIDS EEG 30 ch (formats)", reader("formats/BIDS_EEG/sub-01/eeg/sub-01_task-attention_eeg.edf")),
        ("Neuroscan EEG 125 ch (formats CNT)", reader("formats/CNT/scan41_short.cnt")),
        ("Neuromag 306 MEG + 60 EEG (1 s, SSS)", reader("MEG/neuromag/sample_audvis_trunc_raw_sss.fif")),
        ("TRIUX MEG 3 ch", reader("MEG/neuromag/test_elekta_3ch_raw.fif")),
        (
            "KIT MEG 157",
            reader(
                "MEG/kit/test.sqd",
                mrk=root / "MEG/kit/test_mrk.sqd",
                elp=root / "MEG/kit/test_elp.txt",
                hsp=root / "MEG/kit/test_hsp.txt",
            ),
        ),
        ("sEEG 88 contacts (iEEG sub-01)", reader("iEEG/sub-01/ieeg/sub-01_task-clinical_ieeg.edf")),
        ("ECoG 64 contacts (iEEG sub-02)", reader("iEEG/sub-02/ieeg/sub-02_task-clinical_ieeg.edf")),
        ("Simulated MEG 306 (subjects 5-6)", simulated("meg")),
        ("Simulated sEEG 64 (subjects 5-6)", simulated("seeg")),
    ]


def montages(model, root, config, seed, max_windows):
    from neurodec.corpus import preprocess_raw, to_windows
    from neurodec.models.inference import preprocess_options

    options = preprocess_options(model)
    rows = []
    for label, load in _montages(root, config):
        try:
            raws = load()
        except Exception as exc:  # a missing file: say so in the table
            rows.append({"montage": label, "error": f"{type(exc).__name__}: {exc}"})
            continue
        per_frac: dict[float, dict[str, list]] = {f: {} for f in FRACTIONS}
        n_windows, channels, seconds = 0, None, 0.0
        for k, raw in enumerate(raws):
            pre = preprocess_raw(raw, options)
            n = pre.data.shape[1]
            full = n // options.window_samples
            windows = to_windows(pre.data, options.window_samples, pad=full == 0)[:max_windows]
            n_real = min(n, options.window_samples)
            groups = np.minimum(
                np.arange(len(windows)) * options.window_samples // pre.group_samples, len(pre.scales) - 1
            )
            phys = windows * pre.scales[groups][:, pre.type_ids][..., None]  # back to each type's units
            info = _model_info(raw, pre.sensors, options.sfreq)
            types = pre.sensors["type"].to_numpy()
            kinds = ["meg" if t in ("mag", "grad") else t for t in types]
            channels = dict(zip(*np.unique(kinds, return_counts=True)))
            n_windows += len(windows)
            seconds += len(windows) * min(options.window_s, n_real / options.sfreq)
            for frac in FRACTIONS:
                hidden = _hidden_sets(
                    len(types), frac, np.random.default_rng([seed, 1000 + k, int(frac * 100)])
                )
                r_model = model_scores(model, windows, pre.sensors, hidden, n_real)
                scored = hidden if hidden.any() else np.ones_like(hidden)
                r_mne = None
                if hidden.any():
                    try:
                        r_mne = mne_scores(phys.astype(np.float64), info, hidden, n_real)
                    except Exception as exc:
                        r_mne = exc
                for kind in sorted(set(kinds)):
                    sel = np.asarray(kinds)[scored] == kind
                    if not sel.any():
                        continue
                    slot = per_frac[frac].setdefault(kind, [[], [], None])
                    slot[0].append(r_model[:, sel])
                    if isinstance(r_mne, np.ndarray):
                        slot[1].append(r_mne[:, sel])
                    elif r_mne is not None:
                        slot[2] = f"{type(r_mne).__name__}: {str(r_mne)[:80]}"
        for kind in sorted({k for f in per_frac.values() for k in f}):
            row = {
                "montage": label,
                "modality": kind,
                "channels": int(channels.get(kind, 0)),
                "windows": n_windows,
            }
            row["seconds"] = seconds
            for frac in FRACTIONS:
                slot = per_frac[frac].get(kind)
                if slot is None:
                    row[f"model_{frac}"] = row[f"mne_{frac}"] = None
                    continue
                row[f"model_{frac}"] = _summary(np.concatenate([a.ravel() for a in slot[0]]))
                row[f"mne_{frac}"] = (
                    _summary(np.concatenate([a.ravel() for a in slot[1]])) if slot[1] else (slot[2] or None)
                )
            rows.append(row)
    return rows


# --------------------------------------------------------------------------- report
def _fmt(s):
    if s is None:
        return "–"
    if isinstance(s, str):
        return "n/a"
    mean, std, n = s
    return "–" if not n else f"{mean:.3f} ± {std:.3f}"


def write_report(path, info):
    import mne
    import torch

    import neurodec

    lines = ["# Brain tokenizer: held-out reconstruction, codebooks, speed, montages", ""]
    lines.append(f"Command: `{info['command']}`")
    lines.append("")
    lines.append(
        f"Machine: {info['machine']} (shared with other jobs while measured). Packages: neurodec "
        f"{neurodec.__version__}, torch {torch.__version__}, mne {mne.__version__}, numpy {np.__version__}."
    )
    lines.append("")
    tr = info["training"]
    lines.append(
        f"Model: `{tr['size']}` ({tr['parameters']:,} parameters; {tr['levels']} RVQ levels x {tr['codebook']} codes, "
        f"16 sources x 8 frames per 2-s window; frame encoder: {tr.get('frame_encoder', 'conv')}, spatial "
        f"mixing: {tr.get('spatial_mixing', 'attention')}). Trained {tr['steps']} steps of {tr['batch_size']} windows "
        f"(~{tr['epochs']:.1f} epochs of {tr['train_windows']} windows: PhysionetMI subjects 1-15 "
        f"and simulated MEG/sEEG subjects 1-4), 25 % of channels hidden, noise 0.1, quantiser warm-up "
        f"{tr['vq_warmup']} steps, peak learning rate {tr.get('lr', 0.001):g}; loss L1 + exp(-r) + commitment + "
        f"{tr.get('loss', {}).get('amplitude_weight', 1.0):g} x amplitude-spectrum L1 + "
        f"{tr.get('loss', {}).get('phase_weight', 0.5):g} x phase L1 "
        f"(bins weighted: {tr.get('loss', {}).get('phase_weighting', 'uniform')}; "
        f"per-channel z-scored: {'yes' if tr.get('loss', {}).get('standardize_loss') else 'no'}); "
        f"training wall time {tr['wall_min']:.1f} min (CPU, 2 shared cores). "
        f"Last logged training batch: r {tr['last_r']:.3f}, r on its hidden channels {tr['last_r_hidden']:.3f}."
    )
    lines.append("")
    lines.append("## Held-out subjects 16-20 (PhysionetMI, 64 EEG channels, every window of runs 4, 8, 12)")
    lines.append("")
    lines.append(
        "Pearson r per 2-s window between each hidden channel and its reconstruction from the visible "
        "channels (mean ± std over windows x hidden channels; both methods get the same hidden channels and "
        "are scored in the visible channels' average reference). 0 %: r of every channel reconstructed "
        "through the tokens."
    )
    lines.append("")
    lines.append("| hidden | channels hidden | windows | tokenizer r | MNE spherical spline r |")
    lines.append("|---|---|---|---|---|")
    for frac in FRACTIONS:
        rows = [r for r in info["held_out"] if r["fraction"] == frac]
        nw = sum(r["n_windows"] for r in rows)
        model_all = [r["model"][0] for r in rows for _ in range(r["n_windows"])]
        mne_rows = [r["mne"][0] for r in rows if r["mne"]] if frac else []
        agg = info["held_out_summary"][str(frac)]
        lines.append(
            f"| {int(frac * 100)} % | {rows[0]['n_hidden']} of 64 | {nw} | {_fmt(agg['model'])} | "
            f"{_fmt(agg['mne']) if frac else '–'} |"
        )
        del model_all, mne_rows
    lines.append("")
    lines.append("Per subject (tokenizer / spline, mean r over that subject's windows and hidden channels):")
    lines.append("")
    lines.append("| subject | " + " | ".join(f"{int(f * 100)} % hidden" for f in FRACTIONS) + " |")
    lines.append("|---|" + "---|" * len(FRACTIONS))
    for subject in sorted({r["subject"] for r in info["held_out"]}):
        cells = []
        for frac in FRACTIONS:
            s = info["held_out_by_subject"][str(subject)][str(frac)]
            cells.append(f"{s['model']:.3f}" + (f" / {s['mne']:.3f}" if frac else ""))
        lines.append(f"| {subject} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"## Codebooks (tokens of the {info['codebook_windows']:,} held-out latent vectors)")
    lines.append("")
    lines.append(
        "| level | codes used | perplexity | never used on held-out data | dead at end of training | restarts during training |"
    )
    lines.append("|---|---|---|---|---|---|")
    for c in info["codebook"]:
        lines.append(
            f"| {c['level']} | {c['used']} / {info['training']['codebook']} | {c['perplexity']:.1f} | {c['unused']} | "
            f"{c['dead_at_end_of_training']} | {c['restarts_in_training']} |"
        )
    lines.append("")
    lines.append(
        f"## Speed and memory (CPU, fresh processes; best of {info['probe_train']['repeats']} runs, largest peak RSS)"
    )
    lines.append("")
    p_train, p_enc = info["probe_train"], info["probe_encode"]
    lines.append("| what | windows/s | peak RSS |")
    lines.append("|---|---|---|")
    lines.append(
        f"| training, batch {info['training']['batch_size']}, ≤ {info['training']['max_channels']} channels "
        f"({p_train['steps']} steps) | {p_train['windows_per_s']:.1f} | {p_train['peak_rss_mib']:.0f} MiB |"
    )
    lines.append(
        f"| training, the whole benchmark run (from metrics.csv) | {info['training']['windows_per_s']:.1f} | – |"
    )
    lines.append(
        f"| encoding (tokens), 64 channels, batch 32 | {p_enc['windows_per_s']:.1f} | {p_enc['peak_rss_mib']:.0f} MiB |"
    )
    lines.append("")
    lines.append("## The same checkpoint on other montages")
    lines.append("")
    lines.append(
        f"Up to {info['max_windows']} windows per recording (recordings shorter than 2 s: one zero-padded "
        "window, scored on its real samples). MNE: `interpolate_bads` with spline (EEG, sEEG, ECoG) or "
        "minimum-norm field mapping (MEG), same hidden channels, in the recording's own units."
    )
    lines.append("")
    lines.append(
        "| montage | modality | channels | windows | r, 0 % hidden | r, 25 % hidden (MNE) | r, 50 % hidden (MNE) |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for r in info["montages"]:
        if "error" in r:
            lines.append(f"| {r['montage']} | – | – | – | not run: {r['error'][:80]} | | |")
            continue
        cells = [_fmt(r["model_0.0"])]
        for frac in (0.25, 0.5):
            cells.append(f"{_fmt(r[f'model_{frac}'])} ({_fmt(r[f'mne_{frac}'])})")
        lines.append(
            f"| {r['montage']} | {r['modality']} | {r['channels']} | {r['windows']} | "
            + " | ".join(cells)
            + " |"
        )
    failures = sorted(
        {
            f"{r['montage']}, {r['modality']}, {int(frac * 100)} %: {r[f'mne_{frac}']}"
            for r in info["montages"]
            if "error" not in r
            for frac in (0.25, 0.5)
            if isinstance(r.get(f"mne_{frac}"), str)
        }
    )
    if failures:
        lines.append("")
        lines.append("n/a: MNE's `interpolate_bads` refused (" + "; ".join(failures) + ").")
    lines.append("")
    lines.append("## Reading these figures")
    lines.append("")
    lines.extend(info["notes"])
    lines.append("")
    lines.append("## Diagnosis: why the first design stayed at r 0.6, and what changed")
    lines.append("")
    lines.extend(DIAGNOSIS)
    lines.append("")
    path.write_text("\n".join(lines))


def _training_settings(config, model):
    """Learning rate, architecture and loss options of the run (for the report)."""
    return {
        "lr": config.lr,
        "frame_encoder": model.config.frame_encoder,
        "spatial_mixing": model.config.spatial_mixing,
        "loss": {
            "amplitude_weight": model.config.amplitude_weight,
            "phase_weight": model.config.phase_weight,
            "phase_weighting": model.config.phase_weighting,
            "standardize_loss": model.config.standardize_loss,
        },
    }


def _held_out_summary(rows):
    summary, by_subject = {}, {}
    for frac in FRACTIONS:
        sel = [r for r in rows if r["fraction"] == frac]

        def pooled(key, sel=sel):
            parts = [(r[key][0], r[key][1], r[key][2]) for r in sel if r[key]]
            if not parts:
                return None
            n = sum(p[2] for p in parts)
            mean = sum(p[0] * p[2] for p in parts) / n
            var = sum(p[2] * (p[1] ** 2 + (p[0] - mean) ** 2) for p in parts) / n
            return (mean, float(np.sqrt(var)), n)

        summary[str(frac)] = {"model": pooled("model"), "mne": pooled("mne")}
        for subject in sorted({r["subject"] for r in sel}):
            sub = [r for r in sel if r["subject"] == subject]
            by_subject.setdefault(str(subject), {})[str(frac)] = {
                "model": float(
                    np.average([r["model"][0] for r in sub], weights=[r["model"][2] for r in sub])
                ),
                "mne": float(np.average([r["mne"][0] for r in sub], weights=[r["mne"][2] for r in sub]))
                if frac
                else None,
            }
    return summary, by_subject


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--test-subjects", default="16-20")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-windows", type=int, default=30)
    parser.add_argument("--probe-steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="Fresh processes per speed probe (best kept).")
    parser.add_argument(
        "--reuse-json",
        action="store_true",
        help="Keep the evaluations of the existing JSON, re-run the probes.",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="Rewrite the report from the existing JSON (training settings refreshed from --config).",
    )
    parser.add_argument("--out", default=str(RESULT))
    parser.add_argument("--probe", choices=["train", "encode"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    lo, hi = (int(v) for v in args.test_subjects.split("-"))
    test_subjects = list(range(lo, hi + 1))

    if args.probe == "train":
        print(json.dumps(probe_train(args.config, args.probe_steps)))
        return
    from neurodec.models.pretrain import load_pretrain_config

    config = load_pretrain_config(args.config)
    if args.probe == "encode":
        print(json.dumps(probe_encode(args.checkpoint, config.corpus, test_subjects)))
        return

    import torch

    from neurodec.config import data_root
    from neurodec.corpus import Corpus
    from neurodec.models.checkpoint import load_model
    from neurodec.models.pretrain import pretrain

    out = Path(args.out)
    if args.report_only:
        info = json.loads(out.with_suffix(".json").read_text())
        model = load_model(Path(config.out) / "tokenizer.pt")
        info["training"].update(_training_settings(config, model))
        info["notes"] = NOTES
        out.with_suffix(".json").write_text(json.dumps(info, indent=1, default=str))
        write_report(out, info)
        print(f"wrote {out}")
        return

    torch.set_num_threads(max(1, torch.get_num_threads()))
    t0 = time.perf_counter()
    result = pretrain(config)
    metrics = result.metrics
    checkpoint = Path(config.out) / "tokenizer.pt"
    model = load_model(checkpoint)
    corpus = Corpus(config.corpus)
    train_windows = sum(corpus.entry(r)["n_windows"] for r in corpus.select(subjects=config.subjects))
    print(f"training ready ({time.perf_counter() - t0:.0f} s); evaluating", flush=True)

    if args.reuse_json:
        old = json.loads(out.with_suffix(".json").read_text())
        rows, summary, by_subject = old["held_out"], old["held_out_summary"], old["held_out_by_subject"]
        codebook, n_vectors, other = old["codebook"], old["codebook_windows"], old["montages"]
    else:
        rows = held_out(model, corpus, test_subjects, args.seed)
        summary, by_subject = _held_out_summary(rows)
        print("held-out:", json.dumps(summary), flush=True)
        codebook, n_vectors = codebook_use(model, corpus, test_subjects)
        other = montages(model, data_root(args.data_root), config, args.seed, args.max_windows)
    probe_t = _run_probe(
        ["--probe", "train", "--config", args.config, "--probe-steps", str(args.probe_steps)], args.repeats
    )
    probe_e = _run_probe(
        ["--probe", "encode", "--config", args.config, "--checkpoint", str(checkpoint)], args.repeats
    )

    last = metrics.iloc[-1]
    wall_min = float(last["elapsed_s"]) / 60
    command = "nice .venv/bin/python benchmarks/tokenizer.py " + " ".join(sys.argv[1:])
    if args.reuse_json:  # evaluations from the earlier run, speed probes from this one
        command = f"{old['command'].split('`; speed probes')[0]}`; speed probes re-run with `{command}"
    info = {
        "command": command,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, {platform.platform()}, "
        f"Python {platform.python_version()}",
        "training": {
            "size": model.config.name,
            "parameters": model.n_parameters(),
            "levels": model.config.n_levels,
            "codebook": model.config.codebook_size,
            "steps": int(result.step),
            "batch_size": config.batch_size,
            "max_channels": config.max_channels,
            "train_windows": train_windows,
            "epochs": result.step * config.batch_size / train_windows,
            "vq_warmup": config.vq_warmup_steps,
            **_training_settings(config, model),
            "wall_min": wall_min,
            "windows_per_s": float(last["windows_per_s"]),
            "last_r": float(last["r"]),
            "last_r_hidden": float(last["r_hidden"]),
        },
        "held_out": rows,
        "held_out_summary": summary,
        "held_out_by_subject": by_subject,
        "codebook": codebook,
        "codebook_windows": n_vectors,
        "probe_train": probe_t,
        "probe_encode": probe_e,
        "montages": other,
        "max_windows": args.max_windows,
        "notes": NOTES,
    }
    out.with_suffix(".json").write_text(json.dumps(info, indent=1, default=str))
    write_report(out, info)
    print(f"wrote {out}")


NOTES = [
    "* The goal (beat spherical splines at 50 % hidden) is **not met, by 0.013**: r 0.748 against 0.761 (25 %: "
    "0.781 against 0.811). The tokenizer is ahead on subject 20 (0.681 against 0.649) and behind on the other "
    "four. It loses less than the spline as more channels are hidden (25 -> 50 %: -0.033 against -0.050). The "
    "first design reached 0.637 / 0.611 / 0.589 (0 / 25 / 50 % hidden), 0.17 below the spline at 50 %; what "
    "changed is in the diagnosis below: one linear map per frame and a learned spatial basis fitted by least "
    "squares replace the strided convolutions and the softmax source attention.",
    "* What limits now is the quantiser: in probes the continuous latents reach about 0.775 at 50 % hidden and "
    "the 4 x 512 tokens about 0.753; nothing probed within the issue's 4 levels of 512 codes closed that gap "
    "(diagnosis). Codes used: 497-512 of 512 per level on held-out data (perplexity 340-489).",
    "* The corpus is small for a foundation model (1.5 h of 64-channel EEG from 15 subjects plus ~19 min of "
    "simulated MEG/sEEG; 1,200 steps are ~6 epochs). Training is 6x faster than the first design's (53 "
    "against 8.7 windows/s), so this run took 4.9 min on one core.",
    "* The spline figures here are not comparable to a spline r measured another way (e.g. 0.907 / 0.883 quoted "
    "for subjects 17-20): they are per 2-s window, on 0.1 Hz high-passed, notched, 256-Hz signals, in the "
    "visible channels' average reference, with random hidden sets.",
    "* Spherical-spline interpolation is a strong baseline on a dense 64-channel cap: most of a hidden channel "
    "is explained by its neighbours. The tokenizer must carry every channel through 16 x 8 latents x 4 codes, "
    "so its r at 0 % hidden (0.804) bounds what it can reconstruct at all.",
    "* Recordings other than PhysionetMI and the simulator were never seen in training (zero-shot): other "
    "caps, amplifiers, references, and modalities the model saw only in simulation (MEG, sEEG) or never "
    "(ECoG). Several are only 1-20 s long, so their rows average few windows. At 0 % hidden every montage "
    "gained on the first design (e.g. Muse 4 ch 0.42 -> 0.80, 30-ch BIDS EEG 0.60 -> 0.91, KIT 0.72 -> 0.86, "
    "ECoG 0.10 -> 0.39), but real sEEG (0.24) and ECoG stay far below the spline: iEEG needs real iEEG in "
    "the corpus. With 3 or 4 channels, hiding half leaves too little for any interpolation (both methods).",
    "* Speed: another job shared the 2 cores (this run: 1 torch thread, OMP_NUM_THREADS=1, nice 10), so "
    "throughput varies from minute to minute (the JSON lists every repeat); the best repeat is reported, and "
    "the whole run's figure is its average.",
]

DIAGNOSIS = [
    "The first design (per-channel strided convolutions, 16 source queries cross-attending over the channels) "
    "reached held-out r 0.608 / 0.587 / 0.567 at 0 / 25 / 50 % hidden with the issue's loss, and 0.637 / 0.611 / "
    "0.589 with the loss below. Probes that are not part of this script (scratch code, figures quoted here; "
    "180 held-out windows, 12 per recording of subjects 16-20, continuous latents unless said, base size, "
    "batch 16, lr 3e-3, 1 torch thread) found why, and what this run's design changed.",
    "",
    "* **The two limits were the convolutions and the softmax pooling.** Feeding each channel's convolution "
    "features straight to its transposed-convolution decoder (no sources; a diagnostic) reached r 0.817 after "
    "100 steps, so the spatial pooling lost most; but replacing only the pooling by the spatial basis gave "
    "0.713 / 0.650 (0 / 50 % hidden, 300 steps), replacing only the convolutions by one linear map per frame "
    "0.811 / 0.745, and both (this run's design) 0.876 / 0.783, against 0.63 / 0.59 for the first design. A "
    "softmax over channels makes every source a convex mix of channel features, and the convolutions kept "
    "the frame's slow part; a signed least-squares fit of learned spatial functions and a linear frame code "
    "keep what a spline and a PCA keep. For scale: 16 global spatial PCA components (fitted on subjects "
    "1-15) reconstruct the held-out windows at r 0.900 (24: 0.930, 32: 0.951).",
    "* **Quantising costs ~0.02-0.03 r.** 600 steps with the quantiser from step 100: continuous latents "
    "0.838 / 0.774, tokens 0.813 / 0.753. Nothing probed closed that gap: 1,200 steps 0.817 / 0.757; code "
    "dimension 16 0.800 / 0.741 and 64 0.820 / 0.753; commitment weight 0.25 0.818 / 0.753; no LayerNorm "
    "before the code projection 0.820 / 0.744; 40 % or 50 % of channels hidden in training 0.813 / 0.756 "
    "and 0.806 / 0.754; the rotation trick instead of the straight-through estimator 0.802 / 0.744; "
    "4 instead of 2 encoder and decoder layers 0.808 / 0.749; a per-channel MLP after the spatial read-out "
    "0.805 / 0.751; a quantiser warm-up of 300 or 450 steps instead of 100 0.825 / 0.711 and 0.821 / 0.695.",
    "* **The first design's latents were nearly 3-dimensional** (69 / 23 / 8 % of the variance about each "
    "(frame, source) slot's mean, participation ratio 1.9), so its quantiser was lossless and not the limit "
    "(r 0.613 with tokens and with continuous latents); its reconstruction was that of the window's 8 frame "
    "means linearly interpolated (r 0.63; coherence 0.77-0.87 below 4 Hz and 0.09-0.43 above). Eight other "
    "changes to it (8 attention heads, signed values, pre-emphasis, a linear decoder, no LayerNorm on the "
    "values, no hidden channels or noise, batch 8, lr) all stayed at 0.63 / 0.59 after 100 steps.",
    "* **The loss slowed learning** (first design). The plain phase L1 averages the phase error over every bin up to 96 Hz, "
    "most of which hold noise whose phase cannot be predicted, and the gradient of a bin's phase is 1 / its "
    "predicted amplitude, largest where the prediction is smallest; the amplitude-spectrum L1 rewards "
    "putting power at the right frequencies even with the wrong phase, which lowers r. 100-step probes "
    "(batch 16, continuous latents, base size), r at 0 % / 50 % hidden: loss as issued 0.512 / 0.482 and "
    "without both spectral terms 0.623 / 0.590 (these two without the LayerNorm on the source attention's "
    "values, which changed nothing; the original model with the issued loss: 0.575 / 0.542 after 150 "
    "steps); phase weighted by the target's "
    "amplitude 0.592 / 0.558; the same with lr 3e-3 0.606 / 0.568; amplitude weight 0.1 as well 0.629 / 0.591; "
    "per-channel z-scored terms as well (this run's loss) 0.632 / 0.593; without spectral terms at lr 3e-3 "
    "0.634 / 0.596. So the kept spectral terms, amplitude-weighted and down-weighted, cost nothing measurable. "
    "The gain shrinks with training: the full run gains +0.02-0.03 over the first one (in fewer steps).",
]


if __name__ == "__main__":
    main()
