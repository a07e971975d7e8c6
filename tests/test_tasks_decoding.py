"""The decoding tasks (recon-bleu, noisy-recon, interpolation, lm) and probe.decoder.VAEDecoder."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
import torch

from leaderboard.bootstrap import bootstrap_ci
from probe.decoder import LMScorer, VAEDecoder
from probe.runner import run_one  # runs a task and builds its leaderboard record
from tasks.base import TaskData
from tasks.interpolation import Interpolation
from tasks.lm import LanguageModelling
from tasks.noisy_recon import NoisyReconstruction, swap_words
from tasks.recon_bleu import ReconstructionBLEU, bleu_statistics, corpus_bleu_from_statistics
from vae.data import Corpus, collate, load_corpus
from vae.data.tokenizer import decode, encode

SENTENCES = [
    "a man is walking his dog .",
    "two women are sitting on a bench in the park .",
    "the children play soccer .",
    "a dog runs .",
    "people are waiting for the bus at night .",
    "a woman in a red dress sings on stage .",
    "hello",
    "an old man reads the newspaper .",
]


@dataclass
class FakeEncoder:
    decoder: object
    training_config: dict = field(default_factory=dict)
    lm_scorer: object = None
    encoder_id: str = "fake"
    source: str = "fake"
    weights_sha256: str = "0" * 64
    entry_sha256: str = "0" * 64
    method: str | None = None
    fits_on_train_split: bool = False

    def encode(self, sentences: list[str]) -> np.ndarray:
        return no_cached_codes("encode")


def no_cached_codes(split: str) -> np.ndarray:
    raise AssertionError("decoding tasks use the decoder only")


def task_data(sentences: list[str], dataset: str = "fake") -> TaskData:
    corpus = Corpus(dataset, "test", Path("test.txt"), list(sentences), None)
    return TaskData(dataset=dataset, splits={"test": corpus}, embed=no_cached_codes, files_hash="0" * 64)


class EchoDecoder:
    """z is the index of the sentence; decoding gives the sentence back as its vocabulary reads it (or garbage).

    Without a vocabulary every word is known."""

    latent_dim = 1

    def __init__(self, sentences: list[str], garbage: bool = False, vocabulary: set[str] | None = None):
        self.sentences, self.garbage, self.words = sentences, garbage, vocabulary

    def sample_posterior(self, sentences, rng):
        return np.array([[self.sentences.index(s)] for s in sentences], dtype=np.float32)

    def greedy_decode(self, z, max_length=100):
        if self.garbage:
            return ["xyzzy plugh"] * len(z)
        return self.as_model_sees([self.sentences[int(round(row[0]))] for row in z])

    def as_model_sees(self, sentences):
        return [" ".join(w if self.words is None or w in self.words else "<unk>" for w in s.split()) for s in sentences]


# ---- recon-bleu -------------------------------------------------------------------------------------


def test_identical_reconstructions_score_bleu_100():
    result = run_one(ReconstructionBLEU(n_bootstrap=50), FakeEncoder(EchoDecoder(SENTENCES)), task_data(SENTENCES))
    assert result.main_score == pytest.approx(100.0)
    assert result.ci95 == pytest.approx((100.0, 100.0))
    assert result.n_examples == len(SENTENCES) and result.per_example is None
    assert result.extra["examples"][0] == {"input": SENTENCES[0], "reference": SENTENCES[0],
                                           "reconstruction": SENTENCES[0]}


def test_bleu_references_are_the_inputs_as_the_vocabulary_reads_them():
    # "dog" is outside the vocabulary: a model that reconstructs its input perfectly says <unk> there, which the
    # authors' reference (the input's ids mapped back to words, utils.py:28,35) also holds.
    vocabulary = {w for s in SENTENCES for w in s.split()} - {"dog"}
    decoder = EchoDecoder(SENTENCES, vocabulary=vocabulary)
    result = run_one(ReconstructionBLEU(n_bootstrap=50), FakeEncoder(decoder), task_data(SENTENCES))
    assert result.main_score == pytest.approx(100.0)
    assert result.extra["examples"][0] == {"input": "a man is walking his dog .",
                                           "reference": "a man is walking his <unk> .",
                                           "reconstruction": "a man is walking his <unk> ."}
    # The paper's wording ("the original one as the reference") is an option: every unknown word is then a miss.
    as_written = run_one(ReconstructionBLEU(n_bootstrap=50, references="as-written"), FakeEncoder(decoder),
                         task_data(SENTENCES))
    assert 0 < as_written.main_score < 100 and as_written.extra["references"] == "as-written"


def test_garbage_reconstructions_score_bleu_0():
    result = run_one(ReconstructionBLEU(n_bootstrap=50), FakeEncoder(EchoDecoder(SENTENCES, garbage=True)),
                     task_data(SENTENCES))
    assert result.main_score == pytest.approx(0.0, abs=1e-9)


def test_bleu_from_statistics_equals_sacrebleu_corpus_bleu():
    hypotheses = [" ".join(s.split()[:-1]) for s in SENTENCES[:3]] + SENTENCES[3:6] + ["a b c", ""]
    expected = sacrebleu.corpus_bleu(hypotheses, [SENTENCES], tokenize="none", smooth_method="none", force=True)
    assert corpus_bleu_from_statistics(bleu_statistics(hypotheses, SENTENCES)) == pytest.approx(expected.score)


# ---- noisy-recon ------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_swaps_keep_the_words(k):
    rng = np.random.default_rng(0)
    for sentence in SENTENCES:
        assert Counter(swap_words(sentence, k, rng).split()) == Counter(sentence.split())


def test_swaps_follow_the_seed():
    first = [swap_words(s, 3, np.random.default_rng(7)) for s in SENTENCES]
    again = [swap_words(s, 3, np.random.default_rng(7)) for s in SENTENCES]
    assert first == again
    assert first != SENTENCES


def test_one_swap_of_two_words_exchanges_them_and_one_word_is_left_alone():
    rng = np.random.default_rng(0)
    assert swap_words("hello world", 1, rng) == "world hello"
    assert swap_words("hello", 4, rng) == "hello"


class BagOfWordsDecoder:
    """z depends only on the bag of words (so swaps do not move it); -log p(x|z) depends on the word order of x."""

    latent_dim = 2

    def __init__(self):
        self.encoded: list[list[str]] = []

    def sample_posterior(self, sentences, rng):
        self.encoded.append(list(sentences))
        return np.array([[len(s.split()), sum(map(len, s.split()))] for s in sentences], dtype=np.float32)

    def reconstruction_nll(self, sentences, z):
        order = np.array([sum((i + 1) * len(w) for i, w in enumerate(s.split())) for s in sentences], dtype=float)
        return order + z[:, 0] * z[:, 1]


def test_noisy_recon_scores_the_clean_sentence_given_the_noisy_code():
    decoder = BagOfWordsDecoder()
    result = run_one(NoisyReconstruction(), FakeEncoder(decoder), task_data(SENTENCES), seed=3)
    by_hand = [sum((i + 1) * len(w) for i, w in enumerate(s.split())) + len(s.split()) * sum(map(len, s.split()))
               for s in SENTENCES]
    for k in (1, 2, 3, 4):
        assert result.scores[f"k{k}"] == pytest.approx(np.mean(by_hand))
        assert result.extra["curve"][str(k)] == pytest.approx(np.mean(by_hand))
    assert result.main_score == pytest.approx(np.mean(by_hand))
    assert result.per_example == pytest.approx(by_hand)
    # Each k column has its own interval, a bootstrap of its sentences' losses (here the same losses for every k).
    expected = bootstrap_ci(by_hand, n_resamples=NoisyReconstruction().n_resamples, seed=3)
    assert sorted(result.score_ci95) == ["k1", "k2", "k3", "k4"]
    assert all(result.score_ci95[f"k{k}"] == pytest.approx(expected) for k in (1, 2, 3, 4))
    # The encoder saw the noisy sentences, one call per k: same words, another order for most.
    assert len(decoder.encoded) == 4
    for noisy in decoder.encoded:
        assert [Counter(s.split()) for s in noisy] == [Counter(s.split()) for s in SENTENCES]
        assert noisy != SENTENCES and noisy[SENTENCES.index("hello")] == "hello"


# ---- interpolation ----------------------------------------------------------------------------------


class CodeEchoDecoder:
    """Decodes z into the text of its numbers, so a decoded sentence shows exactly which z was decoded."""

    latent_dim = 3

    def sample_posterior(self, sentences, rng):
        return np.array([[len(s.split()), len(s), ord(s[0])] for s in sentences], dtype=np.float32)

    def greedy_decode(self, z, max_length=100):
        return [" ".join(repr(float(v)) for v in row) for row in np.asarray(z, dtype=np.float32)]


def parse_code(sentence: str) -> np.ndarray:
    return np.array([float(v) for v in sentence.split()])


def test_interpolation_paths_run_exactly_from_z0_to_z1():
    decoder = CodeEchoDecoder()
    result = run_one(Interpolation(), FakeEncoder(decoder), task_data(SENTENCES * 3), seed=5)
    paths = result.extra["interpolations"]
    assert [p["kind"] for p in paths] == ["prior"] * 10 + ["posterior"] * 10
    # 11 points, t = 0, 0.1, ..., 1: the 11 sentences of each example in Tables 7, 12 and 13.
    assert all(len(p["sentences"]) == 11 for p in paths)
    assert result.extra["t"] == pytest.approx([i / 10 for i in range(11)])
    t = np.linspace(0, 1, 11)[:, None]
    for path in paths:
        points = np.stack([parse_code(s) for s in path["sentences"]])
        np.testing.assert_allclose(points, (1 - t) * points[0] + t * points[-1], rtol=1e-5, atol=1e-5)
        if path["kind"] == "posterior":
            source, target = decoder.sample_posterior([path["source"], path["target"]], None)
            assert path["sentences"][0] == decoder.greedy_decode(source[None])[0]
            assert path["sentences"][-1] == decoder.greedy_decode(target[None])[0]
        else:
            assert path["source"] is None and path["target"] is None
    assert result.n_examples == 20
    assert result.main_score == pytest.approx(np.mean([len(set(p["sentences"])) for p in paths]))


# ---- end to end on a tiny trained model -------------------------------------------------------------


@pytest.fixture(scope="module")
def snli_dir(data_dir):
    if not (data_dir / "snli").is_dir():
        pytest.skip(f"the snli corpus is not in {data_dir} (set PROBE_DATA_DIR)")
    return data_dir


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, snli_dir):
    from vae.loading import load_textvae
    from vae.train import TrainConfig, train_vae

    run_dir = tmp_path_factory.mktemp("tiny-snli")
    train_vae(TrainConfig(dataset="snli", preset="tiny", epochs=1, max_train_sentences=500, run_dir=str(run_dir),
                          progress=False, data_dir=str(snli_dir)), log=lambda message: None)
    model, tokenizer = load_textvae(run_dir, "cpu")
    return run_dir, model, tokenizer


@pytest.fixture(scope="module")
def snli_test(snli_dir):
    return load_corpus("snli", "test", snli_dir)


@pytest.fixture(scope="module")
def vae_encoder(tiny_run):
    _, model, tokenizer = tiny_run
    return FakeEncoder(VAEDecoder(model, tokenizer, "cpu", batch_size=16), training_config=model.config.training,
                       lm_scorer=LMScorer(model, tokenizer, "cpu"))


def test_vae_decoder_matches_the_model(tiny_run, vae_encoder, snli_test):
    _, model, tokenizer = tiny_run
    decoder = vae_encoder.decoder
    sentences = snli_test.sentences[:40]
    batch = collate(encode(tokenizer, sentences), range(len(sentences)))
    with torch.no_grad():
        mean, logvar = model.encoder(batch.input_ids, batch.lengths)
        ours_mean, ours_logvar = decoder.posterior(sentences)
        np.testing.assert_allclose(ours_mean, mean.numpy(), atol=1e-5)
        np.testing.assert_allclose(ours_logvar, logvar.numpy(), atol=1e-5)

        z = decoder.sample_posterior(sentences, np.random.default_rng(1))
        np.testing.assert_array_equal(z, decoder.sample_posterior(sentences, np.random.default_rng(1)))
        expected = model.reconstruction_nll(batch.input_ids, batch.lengths, torch.from_numpy(z)[:, None, :])[:, 0]
        np.testing.assert_allclose(decoder.reconstruction_nll(sentences, z), expected.numpy(), rtol=1e-5)

        decoded = [decode(tokenizer, ids) for ids in model.greedy_decode(torch.from_numpy(z), max_length=30)]
        assert decoder.greedy_decode(z, max_length=30) == decoded


def test_vae_decoder_reads_unknown_words_as_unk(vae_encoder):
    decoder = vae_encoder.decoder
    assert "zyxwvut" not in decoder.vocabulary() and {"a", "man"} <= decoder.vocabulary()
    assert decoder.as_model_sees(["a man zyxwvut .", "a man"]) == ["a man <unk> .", "a man"]


def test_lm_task_reports_the_eval_lm_metrics(tiny_run, vae_encoder, snli_test, snli_dir):
    from vae.evaluate import evaluate_run

    task = LanguageModelling(iw_samples=10, max_sentences=100)
    assert task.dataset_for(vae_encoder) == "snli"
    result = run_one(task, vae_encoder, task_data(snli_test.sentences, "snli"), seed=0)
    assert math.isfinite(result.main_score) and result.main_score > 1
    assert 0 <= result.scores["au"] <= 32 and result.scores["iw_samples"] == 10
    run_dir = tiny_run[0]
    reference = evaluate_run(run_dir, split="test", data_dir=snli_dir, iw_samples=10, max_sentences=100,
                             device="cpu", seed=0, progress=False)
    assert result.scores["ppl"] == pytest.approx(reference["ppl"], rel=1e-6)


def test_lm_task_needs_an_lm_scorer_not_a_decoder(tiny_run, vae_encoder, snli_test):
    from tasks.base import ScoringTask

    task, data = LanguageModelling(), task_data(snli_test.sentences[:10], "snli")
    assert isinstance(task, ScoringTask) and task.info.needs_lm_scorer and not task.info.needs_decoder
    scorer_only = FakeEncoder(None, training_config=vae_encoder.training_config, lm_scorer=vae_encoder.lm_scorer)
    assert task.not_applicable_reason(scorer_only, data) is None
    decoder_only = FakeEncoder(vae_encoder.decoder)
    assert task.not_applicable_reason(decoder_only, data) == "lm scores text with a language model: fake is none"
    assert not hasattr(vae_encoder.decoder, "lm_metrics")  # decoding tasks do not score


def test_decoding_tasks_run_on_a_trained_model_and_follow_the_seed(vae_encoder, snli_test):
    data = task_data(snli_test.sentences[:40], "snli")
    # An undertrained model rarely says </s>: a short max_length keeps greedy decoding cheap.
    bleu = run_one(ReconstructionBLEU(max_length=30, n_bootstrap=50), vae_encoder, data, seed=0)
    assert 0 <= bleu.main_score <= 100 and bleu.ci95[0] <= bleu.main_score <= bleu.ci95[1]
    noisy = NoisyReconstruction()
    first, again = run_one(noisy, vae_encoder, data, seed=0), run_one(noisy, vae_encoder, data, seed=0)
    assert first.scores == again.scores and first.example_ids_hash == again.example_ids_hash
    assert run_one(noisy, vae_encoder, data, seed=1).scores != first.scores
    interpolation = run_one(Interpolation(max_length=30), vae_encoder, data, seed=0)
    assert 1 <= interpolation.main_score <= 11
    assert all(isinstance(s, str) for p in interpolation.extra["interpolations"] for s in p["sentences"])
