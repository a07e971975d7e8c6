"""probe.runner and the run-tasks / leaderboard commands, end to end."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from leaderboard.errors import LeaderboardError
from leaderboard.render import render_html
from leaderboard.store import load, load_examples
from probe.builtin_encoders import TfidfSVDEncoder
from probe.cli import app
from probe.runner import run_tasks
from tasks.few_label import FewLabel
from tasks.lm import LanguageModelling
from tasks.registry import DEFAULT_TASKS
from tasks.smoothness import Smoothness
from vae.data.corpus import load_corpus
from probe_common.errors import DataError, ProbeError

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
    # Every task on the run's own corpus, as the paper probes its Yelp VAE on Yelp (Table 8): no Yelp model
    # is scored on SNLI unless --dataset asks.
    assert {r.task: r.dataset for r in results} == {task: "yelp" for task in DEFAULT_TASKS}
    assert not any(r.extra.get("cross_corpus") for r in results)
    assert all(r.extra["max_sentences"] == 150 and r.seconds > 0 for r in results)
    assert all(r.n_examples == 150 for r in results if r.task in ("gmm-cluster", "few-label", "recon-bleu"))

    entry = load(board_path).get_entry("yelp-tiny")
    assert entry.weights_sha256 == hashlib.sha256((trained_run / "model.safetensors").read_bytes()).hexdigest()
    assert entry.method == "pretrain-fb" and entry.training_config["dataset"] == "yelp"
    assert set(entry.dataset_hashes) == {"yelp"}
    assert {"probe", "torch", "transformers", "scikit-learn"} <= set(entry.versions)
    assert set(entry.results) == {f"{r.task}/{r.dataset}" for r in results}
    # One line per result and per encoded split: yelp train/valid/test (the decoders encode on their own).
    assert len(lines) == len(DEFAULT_TASKS) + 3 and sum(line.startswith("encoded ") for line in lines) == 3
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
    board = load(board_path)
    entry = board.get_entry("tfidf-svd")
    reason = entry.results["recon-bleu/snli"].reason
    assert reason == "recon-bleu decodes text: tfidf-svd has no decoder"
    assert f"recon-bleu/snli: not applicable: {reason}" in lines
    smoothness = load_examples(board_path, entry.results["smoothness/snli"])
    assert smoothness.extra["fitted_on"]["sentences"] == 25_609  # fitted on the whole train split


def test_a_builtin_encoder_is_one_entry_with_results_per_dataset(toy_corpus, tmp_path):
    board_path = tmp_path / "board.json"
    other = write_toy_corpus(tmp_path / "other" / "toy2", sizes=(("train", 300), ("valid", 150), ("test", 150)))
    for dataset in (toy_corpus, other):
        run_tasks("tfidf-svd", tasks="gmm-cluster", dataset=str(dataset), leaderboard_path=board_path,
                  cache_dir=tmp_path / "cache")
    board = load(board_path)
    assert list(board.entries) == ["tfidf-svd"]
    entry = board.entries["tfidf-svd"]
    assert set(entry.results) == {"gmm-cluster/toy", "gmm-cluster/toy2"} and set(entry.dataset_hashes) == {
        "toy", "toy2"}
    fits = {key: load_examples(board_path, result).extra["fitted_on"] for key, result in entry.results.items()}
    assert (fits["gmm-cluster/toy"]["sentences"], fits["gmm-cluster/toy2"]["sentences"]) == (400, 300)
    assert fits["gmm-cluster/toy"]["sha256"] != fits["gmm-cluster/toy2"]["sha256"]


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
    assert set(load(tmp_path / "board.json").get_entry("tfidf-svd").results) == {
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
    assert lines[2] == "recon-bleu/toy: not applicable: recon-bleu decodes text: tfidf-svd has no decoder"
    assert runner.invoke(app, ["run-tasks", "--encoder", "random-lstm", "--tasks", "few-label", *common]).exit_code == 0

    shown = runner.invoke(app, ["leaderboard", "show", "--leaderboard", board, "--sort", "few-label/toy"])
    assert shown.exit_code == 0, shown.output
    table = shown.output.splitlines()
    assert re.split(r"\s{2,}", table[0]) == ["entry", "few-label/toy ↑", "gmm-cluster/toy ↑", "recon-bleu/toy ↑"]
    # tf-idf sees the sentiment words; an untrained LSTM's codes barely do.
    assert table[2].startswith("tfidf-svd ") and table[3].startswith("random-lstm ")
    assert float(table[2].split()[1]) > 0.9 and "n/a" in table[2]

    compared = runner.invoke(app, ["leaderboard", "compare", "random-lstm", "tfidf-svd",
                                   "--leaderboard", board])
    assert compared.exit_code == 0, compared.output
    assert compared.output.startswith("A = random-lstm, B = tfidf-svd\nfew-label/toy accuracy ↑: A ")
    assert "paired bootstrap" in compared.output

    page = tmp_path / "report.html"
    rendered = runner.invoke(app, ["leaderboard", "render", "--out", str(page), "--leaderboard", board])
    assert rendered.exit_code == 0 and "tfidf-svd" in page.read_text()

    for args in (["run-tasks", "--encoder", "tfidf-svd", "--tasks", "nope", *common],
                 ["leaderboard", "compare", "tfidf-svd", "missing", "--leaderboard", board]):
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


# ---- which corpus: the encoder's own, the paper's, or --dataset (cross-corpus) ---------------------------

TINY_VOCABULARY_SENTENCES = ["a man is walking .", "two dogs play in the park .", "a woman sings ."]


def export_tiny_vae(folder: Path, dataset: str, data_files: dict | None = None) -> Path:
    """An untrained VAE export whose training record names `dataset` (cheap: the tasks only need its codes)."""
    from vae.configuration_textvae import TextVAEConfig
    from vae.data.tokenizer import build_tokenizer
    from vae.export import export_run
    from vae.modeling_textvae import TextVAEModel

    tokenizer = build_tokenizer(TINY_VOCABULARY_SENTENCES)
    config = TextVAEConfig(vocab_size=len(tokenizer), embed_dim=8, encoder_hidden_size=16, decoder_hidden_size=16,
                           latent_dim=4, method="pretrain-fb",
                           training={"dataset": dataset, "data_files": data_files or {}, "lam": 4.0})
    torch.manual_seed(0)
    export_run(TextVAEModel(config), tokenizer, folder, metrics=None)
    return folder


def quick_tasks() -> list:
    return [FewLabel(sizes=(100,), n_draws=2), Smoothness(n_pairs=2000, n_resamples=20)]


def test_an_snli_vae_is_probed_on_snli_where_labelled_tasks_are_not_applicable(data_dir, tmp_path):
    run = export_tiny_vae(tmp_path / "snli-vae", "snli")
    lines = []
    results = run_tasks(run, tasks=quick_tasks(), data_dir=data_dir, leaderboard_path=tmp_path / "board.json",
                        cache_dir=tmp_path / "cache", max_sentences=200, log=lines.append)
    assert [(r.task, r.dataset, r.status) for r in results] == [("few-label", "snli", "not_applicable"),
                                                                ("smoothness", "snli", "ok")]
    assert results[0].reason.startswith("few-label needs labels: dataset snli is unlabelled")
    assert not any("cross-corpus" in line for line in lines)


def test_a_dataset_other_than_the_training_corpus_is_marked_cross_corpus_with_its_oov_rate(data_dir, tmp_path):
    run = export_tiny_vae(tmp_path / "snli-vae", "snli", {"train": str(data_dir / "snli" / "train.txt.gz")})
    lines = []
    common = dict(data_dir=data_dir, leaderboard_path=tmp_path / "board.json", cache_dir=tmp_path / "cache",
                  max_sentences=200, log=lines.append)
    few_label, smoothness = run_tasks(run, tasks=quick_tasks(), dataset="yelp", **common)
    assert few_label.status == smoothness.status == "ok" and smoothness.dataset == "yelp"
    # The share of evaluated words outside the run's vocabulary, counted here by hand: smoothness reads the test
    # split, few-label the test and valid splits.
    vocabulary = {w for s in TINY_VOCABULARY_SENTENCES for w in s.split()}

    def oov(*splits):
        words = [w for split in splits for s in load_corpus("yelp", split, data_dir).head(200).sentences
                 for w in s.split()]
        return sum(w not in vocabulary for w in words) / len(words)

    assert smoothness.extra["cross_corpus"] is True and smoothness.extra["trained_on"] == "snli"
    assert smoothness.extra["oov_rate"] == pytest.approx(oov("test"))
    assert few_label.extra["oov_rate"] == pytest.approx(oov("test", "valid"))
    assert 0.5 < smoothness.extra["oov_rate"] < 1
    assert lines[-1].startswith("smoothness/yelp: pcc ")
    assert lines[-1].endswith(f"[cross-corpus: encoder trained on snli, {oov('test'):.1%} of words out of its "
                              f"vocabulary]")
    # The training corpus given as a path (or by name) is the same corpus: not cross-corpus.
    lines.clear()
    for same in (str(data_dir / "snli"), "snli"):
        (result,) = run_tasks(run, tasks=[Smoothness(n_pairs=2000, n_resamples=20)], dataset=same, **common)
        assert result.dataset == "snli" and "cross_corpus" not in result.extra
    assert not any("cross-corpus" in line for line in lines)


def test_a_run_trained_on_a_folder_is_probed_on_that_folder(toy_corpus, tmp_path):
    files = {split: str(toy_corpus / f"{split}.tsv.gz") for split in ("train", "valid", "test")}
    run = export_tiny_vae(tmp_path / "toy-vae", "toy", files)
    results = run_tasks(run, tasks=quick_tasks(), leaderboard_path=tmp_path / "board.json",
                        cache_dir=tmp_path / "cache")
    assert [(r.task, r.dataset, r.status) for r in results] == [("few-label", "toy", "ok"), ("smoothness", "toy", "ok")]
    assert not any(r.extra.get("cross_corpus") for r in results)


def single_file_corpus(toy_corpus: Path, folder: Path) -> dict[str, Path]:
    """The toy corpus as one train file plus valid and test files not named after their split."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {"train": "reviews.tsv.gz", "valid": "dev.tsv.gz", "test": "heldout.tsv.gz"}
    for split, name in names.items():
        (folder / name).write_bytes((toy_corpus / f"{split}.tsv.gz").read_bytes())
    return {split: folder / name for split, name in names.items()}


def test_a_run_trained_on_a_file_with_valid_and_test_files_is_probed_on_them(toy_corpus, tmp_path):
    files = single_file_corpus(toy_corpus, tmp_path / "data")
    run = export_tiny_vae(tmp_path / "reviews-vae", "reviews", {split: str(path) for split, path in files.items()})
    results = run_tasks(run, tasks=quick_tasks(), leaderboard_path=tmp_path / "board.json",
                        cache_dir=tmp_path / "cache")
    assert [(r.task, r.dataset, r.status) for r in results] == [("few-label", "reviews", "ok"),
                                                                ("smoothness", "reviews", "ok")]
    assert not any(r.extra.get("cross_corpus") for r in results)
    files["test"].unlink()  # the recorded test file is gone: an error naming it, not a "not applicable" task
    with pytest.raises(ProbeError, match=f"^{files['test']}: the test file the model was trained with"):
        run_tasks(run, tasks=quick_tasks(), leaderboard_path=tmp_path / "board.json", cache_dir=tmp_path / "cache")


def test_run_tasks_valid_and_test_files_replace_the_datasets_and_a_bad_one_is_an_error(toy_corpus, tmp_path,
                                                                                       encode_calls):
    from probe.runner import load_dataset_splits

    files = single_file_corpus(toy_corpus, tmp_path / "data")
    short_test = tmp_path / "short.tsv"
    with gzip.open(toy_corpus / "test.tsv.gz", "rt") as handle:
        short_test.write_text("".join(handle.readlines()[:40]))
    loaded = load_dataset_splits(str(toy_corpus), None, None, {"test": short_test})
    test, valid = loaded.splits["test"], loaded.splits["valid"]
    assert (test.path, len(test), len(valid)) == (short_test, 40, 150)  # the given test file, the folder's valid
    # A split named on purpose must load; a split the dataset merely lacks is skipped (its tasks not applicable).
    assert set(load_dataset_splits(str(files["train"]), None, None).splits) == {"train"}
    (tmp_path / "plain.txt").write_text("a test sentence without a label\n")
    for bad in (tmp_path / "absent.tsv", tmp_path / "plain.txt"):
        with pytest.raises(DataError, match=f"^{bad}: "):
            load_dataset_splits(str(files["train"]), None, None, {"valid": files["valid"], "test": bad})

    board, cache = str(tmp_path / "board.json"), str(tmp_path / "cache")
    common = ["--encoder", "tfidf-svd", "--tasks", "smoothness", "--leaderboard", board, "--cache-dir", cache,
              "--no-progress"]
    given = ["--dataset", str(toy_corpus), "--valid", str(files["valid"]), "--test", str(short_test)]
    result = CliRunner().invoke(app, ["run-tasks", *common, *given])
    assert result.exit_code == 0 and result.output.startswith("smoothness/toy: pcc "), result.output
    assert encode_calls == [40]  # the given test file, not the folder's own (150 sentences)
    missing = CliRunner().invoke(app, ["run-tasks", *common, *given[:-1], str(tmp_path / "absent.tsv")])
    assert missing.exit_code == 2 and missing.output == f"error: {tmp_path / 'absent.tsv'}: test file not found\n"
    # Files of one dataset, while the tasks would run on yelp and snli (the paper's defaults):
    unplaced = CliRunner().invoke(app, ["run-tasks", "--encoder", "tfidf-svd", "--leaderboard", board, "--test",
                                        str(short_test)])
    assert unplaced.exit_code == 2 and "pass --dataset too" in unplaced.output, unplaced.output


# ---- the leaderboard is checked before any work; --entry-id -------------------------------------------


@pytest.fixture
def encode_calls(monkeypatch) -> list[int]:
    calls = []
    original = TfidfSVDEncoder._encode
    monkeypatch.setattr(TfidfSVDEncoder, "_encode", lambda self, sentences: calls.append(len(sentences))
                        or original(self, sentences))
    return calls


def test_a_corrupted_leaderboard_fails_before_any_encoding(toy_corpus, tmp_path, encode_calls):
    board = tmp_path / "board.json"
    board.write_text('{"format": "probe-leaderboard", "entries": ')
    with pytest.raises(LeaderboardError, match=r"board\.json: invalid JSON"):
        run_tasks("tfidf-svd", tasks="gmm-cluster,smoothness", dataset=str(toy_corpus), leaderboard_path=board,
                  cache_dir=tmp_path / "cache")
    assert encode_calls == []
    assert board.read_text() == '{"format": "probe-leaderboard", "entries": '


def test_an_entry_id_clash_fails_before_any_encoding_and_entry_id_names_another_entry(toy_corpus, tmp_path,
                                                                                       encode_calls):
    board = tmp_path / "board.json"
    other_toy = write_toy_corpus(tmp_path / "elsewhere" / "toy", sizes=(("train", 300), ("valid", 150),
                                                                        ("test", 150)))
    run_tasks("tfidf-svd", tasks="smoothness", dataset=str(other_toy), leaderboard_path=board,
              cache_dir=tmp_path / "cache")
    assert encode_calls == [150]
    # Same entry (tfidf-svd), another corpus under the same dataset name: another dataset hash.
    with pytest.raises(LeaderboardError, match=r"entry 'tfidf-svd' was evaluated on dataset 'toy' with hash") as clash:
        run_tasks("tfidf-svd", tasks="gmm-cluster,smoothness", dataset=str(toy_corpus), leaderboard_path=board,
                  cache_dir=tmp_path / "cache")
    assert encode_calls == [150]  # nothing was encoded for the refused run
    assert "--entry-id" in str(clash.value) and "no task was run" in str(clash.value)
    run_tasks("tfidf-svd", tasks="smoothness", dataset=str(toy_corpus), leaderboard_path=board,
              cache_dir=tmp_path / "cache", entry_id="tfidf-svd-2")
    board_now = load(board)
    assert set(board_now.entries) == {"tfidf-svd", "tfidf-svd-2"}
    result = board_now.entries["tfidf-svd-2"].results["smoothness/toy"]
    assert load_examples(board, result).extra["fitted_on"]["sentences"] == 400


def test_command_line_entry_id_names_the_entry(toy_corpus, tmp_path):
    board = tmp_path / "board.json"
    result = CliRunner().invoke(app, ["run-tasks", "--encoder", "tfidf-svd", "--tasks", "smoothness", "--dataset",
                                      str(toy_corpus), "--leaderboard", str(board), "--cache-dir",
                                      str(tmp_path / "cache"), "--entry-id", "my-baseline", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert set(load(board).entries) == {"my-baseline"}
    assert set(load(board).get_entry("my-baseline").results) == {"smoothness/toy"}


def test_released_label_subsets_in_the_dataset_folder_are_encoded_once_and_used(tmp_path, encode_calls):
    folder = write_toy_corpus(tmp_path / "toy")
    released = gzip.open(folder / "valid.tsv.gz", "rt").readlines()[:100]  # any 100 labelled sentences
    (folder / "train.100.tsv").write_text("".join(released))
    common = dict(dataset=str(folder), leaderboard_path=tmp_path / "board.json", cache_dir=tmp_path / "cache")
    (result,) = run_tasks("tfidf-svd", tasks=[FewLabel(sizes=(100, 200), n_draws=2)], **common)
    assert result.status == "ok", result.reason
    assert result.extra["label_subsets"] == {"100": "train.100.tsv", "200": "drawn"}
    assert sorted(encode_calls) == [100, 150, 150, 400]  # the subset file, valid, test, train (for 200)
    run_tasks("tfidf-svd", tasks=[FewLabel(sizes=(100, 200), n_draws=2)], **common)
    assert sorted(encode_calls) == [100, 150, 150, 400]  # the subset's codes come from the cache too


def test_an_lstm_lm_run_gets_its_lm_result_with_exact_nll_and_no_latent_metrics(data_dir, tmp_path):
    """The lm task needs LM scoring only: the `lm` baseline has no latent variable and no decoder, but a PPL."""
    from vae.evaluate import evaluate_run
    from vae.train import TrainConfig, train_vae

    run_dir = tmp_path / "yelp-lm"
    train_vae(TrainConfig(dataset="yelp", method="lm", preset="tiny", epochs=1, max_train_sentences=300, iw_samples=5,
                          run_dir=str(run_dir), progress=False, data_dir=str(data_dir), device="cpu"),
              log=lambda message: None)
    results = run_tasks(run_dir, tasks=[LanguageModelling(iw_samples=10), "recon-bleu", "gmm-cluster"],
                        data_dir=data_dir, leaderboard_path=tmp_path / "leaderboard.json", cache_dir=tmp_path / "cache",
                        max_sentences=100, log=lambda message: None)
    status = {r.task: r.status for r in results}
    assert status == {"lm": "ok", "recon-bleu": "not_applicable", "gmm-cluster": "not_applicable"}
    lm = results[0]
    reference = evaluate_run(run_dir, split="test", data_dir=data_dir, iw_samples=10, max_sentences=100,
                             device="cpu", seed=0, progress=False)
    assert lm.dataset == "yelp" and lm.n_examples == 100
    assert lm.main_score == pytest.approx(reference["ppl"], rel=1e-6) and lm.main_score > 1
    assert lm.scores["nll"] == pytest.approx(reference["nll"], rel=1e-6)
    # Exact likelihood, no latent variable: Recon, KL, -ELBO, ELBO PPL, MI and AU are absent (None in eval-lm).
    assert set(lm.scores) == {"nll", "ppl", "iw_samples"}
    assert all(reference[name] is None for name in ("recon", "kl", "neg_elbo", "elbo_ppl", "mi", "au"))
