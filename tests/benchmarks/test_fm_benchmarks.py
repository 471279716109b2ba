"""The foundation-model benchmark scripts: fm_cross_session's whole path on tiny settings, and
building fm_cross_subject / fm_cross_session tables from several saved rows files."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")


@pytest.mark.slow  # ~20 s on one core: corpus, 2 pretraining steps, 3 modalities x 3 rows x 2 folds
def test_cross_session_pretrains_one_checkpoint_and_evaluates_every_modality(
    bench, tiny_tokenizer_path, tmp_path, monkeypatch
):
    fm = bench("fm_cross_session")
    seen = []
    evaluate = fm.evaluate

    def spy(args, rows, datasets, *rest):
        seen.append((rows, datasets))
        return evaluate(args, rows, datasets, *rest)

    monkeypatch.setattr(fm, "evaluate", spy)
    out, rows_file = tmp_path / "fm.md", tmp_path / "rows.json"
    # one evaluation subject, one pretraining subject, 2 trials per class per session, the "test" backbone
    fm.main(
        [
            *("--tokenizer", str(tiny_tokenizer_path), "--work", str(tmp_path / "work")),
            *("--subjects", "2", "--pretrain-subjects", "1", "--trials", "2"),
            *(
                "--eeg-channels",
                "32",
                "--meg-sensors",
                "mag",
                "--size",
                "test",
                "--model",
                "context_windows=2",
            ),
            *("--steps", "2", "--batch", "2", "--epochs", "1"),
            *("--skip", "FgMDM:meg", "FgMDM:seeg", "--out", str(out), "--save-rows", str(rows_file)),
        ]
    )
    saved = json.loads(rows_file.read_text())
    checkpoint = saved["pretraining"]["checkpoint"]
    assert checkpoint.endswith("foundation.pt") and saved["pretraining"]["steps"] == 2
    assert saved["pretraining"]["recordings"] == {"eeg": 2, "meg": 2, "seeg": 2}  # subject 1, 2 sessions
    # one call, the three modalities' datasets, one set of rows: the pretrained row holds that checkpoint
    ((rows, datasets),) = seen
    assert {m: d.modality for m, d in datasets.items()} == {"eeg": "eeg", "meg": "meg", "seeg": "seeg"}
    assert all(d.subject_list == [2] for d in datasets.values())
    assert rows["FM pretrained+fine-tuned"].steps[-1][1].checkpoint == checkpoint
    scratch = rows["FM from scratch"].steps[-1][1]
    assert scratch.checkpoint is None and scratch.tokenizer == str(tiny_tokenizer_path)
    got = {(r["modality"], r["pipeline"]) for r in saved["rows"]}
    assert got == {
        *(
            (m, p)
            for m in ("eeg", "meg", "seeg")
            for p in ("FM pretrained+fine-tuned", "FM from scratch", "TS+SVM")
        ),
        ("eeg", "FgMDM"),
    }
    assert all(0 <= r["score"] <= 1 and r["fit_s"] > 0 for r in saved["rows"])
    assert {r["session"] for r in saved["rows"]} == {"0", "1"}  # leave one session out: both tested
    text = out.read_text()
    assert "| pipeline | EEG ROC-AUC | fit s / fold | predict s / fold | MEG ROC-AUC" in text
    assert "| FgMDM |" in text and "not run" in text  # FgMDM on MEG/sEEG skipped, said so
    assert "Not run: FgMDM on MEG, FgMDM on SEEG" in text


def _cross_subject_record(command, scores, fm=False):
    rows = [
        dict(protocol="cv", fraction=1.0, pipeline=name, subject=s, score=v, fit_s=1.0, predict_s=0.5, fold=i)
        for name, v in scores.items()
        for i, s in enumerate((1, 2))
    ]
    return dict(
        command=command,
        rows=rows,
        notes=[f"note of {command}"],
        epochs={"FM": 10} if fm else {"EEGNet": 3},
        elapsed=60.0,
        load="1.0/1.0/1.0",
    )


def test_cross_subject_table_from_several_rows_files(bench, tmp_path):
    fm = bench("fm_cross_subject")
    first = _cross_subject_record("run A", {"TS+SVM": 0.7, "FM from scratch": 0.4})
    second = _cross_subject_record(
        "run B", {"FM from scratch": 0.6, "FM pretrained+fine-tuned": 0.65}, fm=True
    )
    merged = fm.merge_saved([first, second])
    pairs = {(r["pipeline"], r["score"]) for r in merged["rows"]}
    assert pairs == {("TS+SVM", 0.7), ("FM from scratch", 0.6), ("FM pretrained+fine-tuned", 0.65)}
    assert len(merged["rows"]) == 6 and merged["elapsed"] == 120.0
    assert merged["epochs"] == {"EEGNet": 3, "FM": 10}
    files = []
    for i, record in enumerate((first, second)):
        files.append(tmp_path / f"{i}.json")
        files[-1].write_text(json.dumps(record))
    out = tmp_path / "table.md"
    fm.main(["--load-rows", *map(str, files), "--out", str(out)])
    text = out.read_text()
    assert "`run A`, then `run B`" in text and "note of run A" in text and "note of run B" in text
    assert "| FM from scratch | 0.600 ± 0.000 | 2 |" in text  # the later file's row
    assert "| TS+SVM | 0.700 ± 0.000 | 2 |" in text  # kept from the first file
    assert "FM pretrained+fine-tuned 0.650 is above FM from scratch 0.600" in text
    # the former single-file spelling still reads one file
    fm.main(["--from-rows", str(files[0]), "--out", str(out)])
    assert "| FM from scratch | 0.400 ± 0.000 | 2 |" in out.read_text()


def test_cross_session_table_from_several_rows_files(bench, tmp_path):
    fm = bench("fm_cross_session")
    setup = dict(
        modalities=["eeg", "meg", "seeg"],
        subjects=[8, 9],
        pretrain_subjects=[5],
        sessions=2,
        runs=1,
        trials=30,
        eeg_channels=64,
        meg_sensors="both",
        sim_seed=42,
        epochs=10,
        seed=42,
        threads=1,
        skip=[],
    )

    def record(command, scores, pretraining=None):
        rows = [
            dict(modality=m, pipeline=p, subject=s, session="0", score=v, fit_s=2.0, predict_s=1.0, fold=0)
            for (m, p), v in scores.items()
            for s in (8, 9)
        ]
        return dict(
            command=command,
            machine="test machine",
            versions="test versions",
            setup=setup,
            pretraining=pretraining,
            rows=rows,
            notes=[],
            epochs={"FM": 10},
            elapsed=30.0,
            load=None,
        )

    pre = dict(
        checkpoint="/x/foundation.pt",
        tokenizer="/x/tokenizer.pt",
        tokenizer_size="base, 4 levels x 512 codes",
        backbone="d=96",
        steps=300,
        batch=8,
        lr=0.002,
        recordings={"eeg": 6},
        hours=2.0,
        windows=3600,
        wall_s=420.0,
        first_loss=6.2,
        last_loss=5.9,
        last_acc=[0.01, 0.01, 0.01, 0.01],
    )
    first = record("run A", {("eeg", "FM pretrained+fine-tuned"): 0.6, ("meg", "TS+SVM"): 0.9}, pre)
    second = record("run B", {("eeg", "FM pretrained+fine-tuned"): 0.8, ("eeg", "TS+SVM"): 0.7})
    files = []
    for i, r in enumerate((first, second)):
        files.append(tmp_path / f"{i}.json")
        files[-1].write_text(json.dumps(r))
    saved = fm.load_rows(files)
    pairs = {(r["modality"], r["pipeline"], r["score"]) for r in saved["rows"]}
    assert pairs == {
        ("eeg", "FM pretrained+fine-tuned", 0.8),
        ("meg", "TS+SVM", 0.9),
        ("eeg", "TS+SVM", 0.7),
    }
    assert saved["pretraining"] == pre  # from the file that ran the pretraining
    out = tmp_path / "table.md"
    fm.main(["--load-rows", *map(str, files), "--out", str(out)])
    text = out.read_text()
    assert "| FM pretrained+fine-tuned | 0.800 ± 0.000 | 2.0 | 1.0 | not run |" in text
    assert "EEG: FM pretrained+fine-tuned 0.800 is above TS+SVM 0.700." in text
    assert "300 steps of 8 30-s segments" in text and "`run A`, then `run B`" in text
