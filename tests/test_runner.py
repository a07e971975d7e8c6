"""probe.runner and the run-tasks / leaderboard commands, end to end."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from leaderboard.render import render_html
from leaderboard.store import load
from probe.builtin_encoders import TfidfSVDEncoder
from probe.cli import app
from probe.runner import run_tasks
from tasks.lm import LanguageModelling
from tasks.registry import DEFAULT_TASKS
from vae.errors import ProbeError

POSITIVE = ["good", "great", "tasty"]
NEGATIVE = ["bad", "awful", "rude"]
NEUTRAL = [f"w{i}" for i in range(40)]


def write_toy_corpus(folder: Path, sizes=(("train", 400), ("valid", 150), ("test", 150))) -> Path:
    """A labelled corpus in the yelp format, whose labels show in the words (tf-idf can find them)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in sizes:
        lines = []
        for i in range(n):
            label = i % 2
            sentiment = rng.choice(POSITIVE if label else NEGATIVE, size=2)
            words = [*rng.choice(NEUTRAL, size=rng.integers(3, 8)), *sentiment]
            lines.append(f"{label}\t{' '.join(rng.permutation(words))}\n")
        with gzip.open(folder / f"{split}.tsv.gz", "wt") as handle:
            handle.writelines(lines)
    return folder


@pytest.fixture(scope="module")
def toy_corpus(tmp_path_factory) -> Path:
    return write_toy_corpus(tmp_path_factory.mktemp("corpora") / "toy")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, data_dir) -> Path:
    """A tiny pretrain-fb VAE trained for one epoch per stage on 500 Yelp sentences."""
    from vae.train import TrainConfig, train_vae

    run_dir = tmp_path_factory.mktemp("runs") / "yelp-tiny"
    train_vae(TrainConfig(dataset="yelp", preset="tiny", epochs=1, max_train_sentences=500, iw_samples=5,
                          run_dir=str(run_dir), progress=False, data_dir=str(data_dir), device="cpu"),
              log=lambda message: None)
    return run_dir


def test_run_tasks_end_to_end_on_a_trained_vae(trained_run, data_dir, tmp_path):
    board_path = tmp_path / "leaderboard.json"
    lines = []
    # The registry's tasks, but lm with 10 importance samples instead of the paper's 1000 (minutes on a CPU).
    tasks = [LanguageModelling(iw_samples=10) if name == "lm" else name for name in DEFAULT_TASKS]
    results = run_tasks(trained_run, tasks=tasks, data_dir=data_dir, leaderboard_path=board_path,
                        cache_dir=tmp_path / "cache", max_sentences=150, log=lines.append)
    assert [r.task for r in results] == list(DEFAULT_TASKS)
    assert all(r.status == "ok" for r in results), [r.reason for r in results]
    datasets = {r.task: r.dataset for r in results}
    assert datasets["gmm-cluster"] == datasets["few-label"] == datasets["lm"] == "yelp"  # lm: the run's own corpus
    assert datasets["smoothness"] == datasets["recon-bleu"] == "snli"
    assert all(r.extra["max_sentences"] == 150 and r.seconds > 0 for r in results)
    assert all(r.n_examples == 150 for r in results if r.task in ("gmm-cluster", "few-label", "recon-bleu"))

    entry = load(board_path).get_entry("yelp-tiny")
    assert entry.weights_sha256 == hashlib.sha256((trained_run / "model.safetensors").read_bytes()).hexdigest()
    assert entry.method == "pretrain-fb" and entry.training_config["dataset"] == "yelp"
    assert set(entry.dataset_hashes) == {"yelp", "snli"}
    assert {"probe", "torch", "transformers", "scikit-learn"} <= set(entry.versions)
    assert set(entry.results) == {f"{r.task}/{r.dataset}" for r in results}
    # One line per result and per encoded split: yelp train/valid/test, snli test (the decoders encode on their own).
    assert len(lines) == len(DEFAULT_TASKS) + 4 and sum(line.startswith("encoded ") for line in lines) == 4
    assert any(line.startswith("few-label/yelp: accuracy ") for line in lines)
    # The report reads what every task wrote: curves, the smoothness scatter, the interpolation paths.
    page = render_html(load(board_path), tmp_path / "report.html").read_text()
    assert page.count("<img") == 3 and "posterior" in page


def test_decoding_tasks_are_recorded_not_applicable_for_tfidf_svd(data_dir, tmp_path):
    board_path = tmp_path / "leaderboard.json"
    lines = []
    results = run_tasks("tfidf-svd", tasks="smoothness,recon-bleu,noisy-recon,interpolation", data_dir=data_dir,
                        leaderboard_path=board_path, cache_dir=tmp_path / "cache", max_sentences=200, log=lines.append)
    status = {r.task: r.status for r in results}
    assert status == {"smoothness": "ok", "recon-bleu": "not_applicable", "noisy-recon": "not_applicable",
                      "interpolation": "not_applicable"}
    entry = load(board_path).get_entry("tfidf-svd-snli")
    reason = entry.results["recon-bleu/snli"].reason
    assert reason == "recon-bleu decodes text: tfidf-svd-snli has no decoder"
    assert f"recon-bleu/snli: not applicable: {reason}" in lines
    assert entry.training_config["fitted_on"]["sentences"] == 25_609  # fitted on the whole train split


def test_the_cache_spares_a_second_run_from_encoding(toy_corpus, tmp_path, monkeypatch):
    calls = []
    original = TfidfSVDEncoder._encode
    monkeypatch.setattr(TfidfSVDEncoder, "_encode", lambda self, sentences: calls.append(len(sentences))
                        or original(self, sentences))
    common = dict(dataset=str(toy_corpus), leaderboard_path=tmp_path / "board.json", cache_dir=tmp_path / "cache")
    run_tasks("tfidf-svd", tasks="gmm-cluster", **common)
    assert calls == [400, 150, 150]
    run_tasks("tfidf-svd", tasks="few-label,smoothness", **common)
    assert calls == [400, 150, 150]  # same codes, read back from the cache
    run_tasks("tfidf-svd", tasks="smoothness", max_sentences=100, **common)
    assert calls == [400, 150, 150, 100]  # another subset is another cache file
    assert set(load(tmp_path / "board.json").get_entry("tfidf-svd-toy").results) == {
        "gmm-cluster/toy", "few-label/toy", "smoothness/toy"}


def test_unknown_tasks_and_datasets_are_errors(toy_corpus, tmp_path):
    with pytest.raises(ProbeError, match="unknown task 'nope'; choose from gmm-cluster, few-label"):
        run_tasks("tfidf-svd", tasks="nope", leaderboard_path=tmp_path / "b.json")
    with pytest.raises(ProbeError, match="not a known dataset"):
        run_tasks("tfidf-svd", tasks="smoothness", dataset=str(tmp_path / "absent"), leaderboard_path=tmp_path / "b.json")


def test_command_line_runs_tasks_and_shows_compares_and_renders_the_leaderboard(toy_corpus, tmp_path):
    runner = CliRunner()
    board = str(tmp_path / "board.json")
    common = ["--dataset", str(toy_corpus), "--leaderboard", board, "--cache-dir", str(tmp_path / "cache"),
              "--no-progress"]
    tasks = "gmm-cluster,few-label,recon-bleu"
    result = runner.invoke(app, ["run-tasks", "--encoder", "tfidf-svd", "--tasks", tasks, *common])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["gmm-cluster/toy", "few-label/toy", "recon-bleu/toy"]
    assert lines[2] == "recon-bleu/toy: not applicable: recon-bleu decodes text: tfidf-svd-toy has no decoder"
    assert runner.invoke(app, ["run-tasks", "--encoder", "random-lstm", "--tasks", "few-label", *common]).exit_code == 0

    shown = runner.invoke(app, ["leaderboard", "show", "--leaderboard", board, "--sort", "few-label/toy"])
    assert shown.exit_code == 0, shown.output
    table = shown.output.splitlines()
    assert table[0].split() == ["entry", "few-label/toy", "gmm-cluster/toy", "recon-bleu/toy"]
    # tf-idf sees the sentiment words; an untrained LSTM's codes barely do.
    assert table[2].startswith("tfidf-svd-toy") and table[3].startswith("random-lstm-toy")
    assert float(table[2].split()[1]) > 0.9 and "n/a" in table[2]

    compared = runner.invoke(app, ["leaderboard", "compare", "random-lstm-toy", "tfidf-svd-toy",
                                   "--leaderboard", board])
    assert compared.exit_code == 0, compared.output
    assert compared.output.startswith("few-label/toy accuracy: A ") and "paired bootstrap" in compared.output

    page = tmp_path / "report.html"
    rendered = runner.invoke(app, ["leaderboard", "render", "--out", str(page), "--leaderboard", board])
    assert rendered.exit_code == 0 and "tfidf-svd-toy" in page.read_text()

    for args in (["run-tasks", "--encoder", "tfidf-svd", "--tasks", "nope", *common],
                 ["leaderboard", "compare", "tfidf-svd-toy", "missing", "--leaderboard", board]):
        failed = runner.invoke(app, args)
        assert failed.exit_code == 2 and len(failed.output.strip().splitlines()) == 1, failed.output


def test_command_line_one2one_and_lm_samples_reach_the_tasks(trained_run, data_dir, tmp_path):
    board = tmp_path / "board.json"
    result = CliRunner().invoke(app, [
        "run-tasks", "--encoder", str(trained_run), "--tasks", "gmm-cluster,lm", "--one2one", "--iw-samples", "3",
        "--max-sentences", "100", "--data-dir", str(data_dir), "--leaderboard", str(board),
        "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    assert result.exit_code == 0, result.output
    results = load(board).get_entry("yelp-tiny").results
    assert set(results) == {"gmm-cluster-one2one/yelp", "lm/yelp"}
    assert results["lm/yelp"].scores["iw_samples"] == 3
