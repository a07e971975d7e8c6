"""probe.encoders (VAE runs, Hugging Face folders, built-ins) and probe.cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from probe.builtin_encoders import RandomLSTMEncoder, TfidfSVDEncoder
from probe.cache import CacheKey, EmbeddingCache
from probe.cli import app
from probe.decoder import VAEDecoder
from probe.encoders import HuggingFaceEncoder, TextVAEEncoder, load_encoder, weights_sha256
from vae.configuration_textvae import TextVAEConfig
from vae.data.corpus import Corpus
from vae.data.tokenizer import build_tokenizer
from probe_common.errors import ProbeError
from vae.export import export_run
from vae.modeling_textvae import TextVAEModel

SENTENCES = ["the dog runs .", "a cat sits on the mat .", "the", "a dog and a cat sit on the mat near the door ."]
BERT_WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
              *"the a dog cat runs sits sit on mat . and near door".split()]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def toy_corpus(n: int = 300, seed: int = 0, name: str = "toy") -> Corpus:
    """Sentences over a 60-word vocabulary: enough distinct words for 32 SVD components."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)]
    sentences = [" ".join(rng.choice(words, size=rng.integers(3, 10))) for _ in range(n)]
    return Corpus(name, "train", Path("train.txt"), sentences, None)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A random one-layer BERT with a WordPiece vocabulary, saved as any Hugging Face model folder."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(BERT_WORDS) + "\n")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(BERT_WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    BertModel(config).save_pretrained(folder)
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    return folder


def export_untrained_vae(folder: Path, use_latent: bool = True) -> Path:
    tokenizer = build_tokenizer(SENTENCES)
    config = TextVAEConfig(vocab_size=len(tokenizer), embed_dim=8, encoder_hidden_size=16, decoder_hidden_size=16,
                           latent_dim=4, use_latent=use_latent, method="pretrain-fb" if use_latent else "lm",
                           training={"dataset": "snli", "lam": 4.0})
    torch.manual_seed(0)
    export_run(TextVAEModel(config), tokenizer, folder, metrics=None)
    return folder


def test_hugging_face_folder_encodes_with_mean_pooling_that_ignores_padding(tiny_bert):
    encoder = load_encoder(tiny_bert)
    assert isinstance(encoder, HuggingFaceEncoder) and encoder.decoder is None
    codes = encoder.encode(SENTENCES)
    assert codes.shape == (len(SENTENCES), 16) and codes.dtype == np.float32
    # In the batch every sentence but the longest is padded; alone, none is.
    for sentence, row in zip(SENTENCES, codes):
        np.testing.assert_allclose(encoder.encode([sentence])[0], row, atol=1e-5)
    assert encoder.encoder_id == tiny_bert.name
    assert encoder.weights_sha256 == sha256_of(tiny_bert / "model.safetensors")


def test_vae_export_encodes_with_the_posterior_mean(tmp_path):
    folder = export_untrained_vae(tmp_path / "snli-vae")
    encoder = load_encoder(folder)
    assert isinstance(encoder, TextVAEEncoder) and isinstance(encoder.decoder, VAEDecoder)
    assert (encoder.encoder_id, encoder.method, encoder.training_config["lam"]) == ("snli-vae", "pretrain-fb", 4.0)
    assert encoder.weights_sha256 == sha256_of(folder / "model.safetensors")
    sentences = [*SENTENCES, "the zebra runs ."]  # "zebra" is outside the vocabulary: read as <unk>
    codes = encoder.encode(sentences)
    assert codes.shape == (len(sentences), 4) and codes.dtype == np.float32
    # Independently of the batching/packing helper that encode and the decoder share: each sentence through
    # the raw weights of the embedding, the LSTM cell and the mean half of the Gaussian head, one word at a time.
    np.testing.assert_allclose(codes, [posterior_mean_by_hand(encoder, s) for s in sentences], atol=1e-5)
    np.testing.assert_allclose(encoder.encode([sentences[1]])[0], codes[1], atol=1e-6)


def posterior_mean_by_hand(encoder: TextVAEEncoder, sentence: str) -> np.ndarray:
    """mu of q(z|x) from the raw parameters: <s> words </s> (unknown words as <unk>) through nn.LSTM's equations
    (gates i, f, g, o), the last hidden state through the bias-free linear head, whose first nz outputs are mu."""
    vocab = encoder.tokenizer.get_vocab()
    ids = [vocab["<s>"], *(vocab.get(word, vocab["<unk>"]) for word in sentence.split()), vocab["</s>"]]
    module = encoder.model.encoder
    weights = {name: value.detach().double().numpy() for name, value in module.state_dict().items()}
    hidden = np.zeros(weights["lstm.weight_hh_l0"].shape[1])
    cell = np.zeros_like(hidden)
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
    for token in ids:
        gates = (weights["lstm.weight_ih_l0"] @ weights["embed.weight"][token] + weights["lstm.bias_ih_l0"]
                 + weights["lstm.weight_hh_l0"] @ hidden + weights["lstm.bias_hh_l0"])
        i, f, g, o = np.split(gates, 4)
        cell = sigmoid(f) * cell + sigmoid(i) * np.tanh(g)
        hidden = sigmoid(o) * np.tanh(cell)
    return (weights["to_gaussian.weight"] @ hidden)[: encoder.model.config.latent_dim]


def test_language_model_run_has_no_representation(tmp_path):
    encoder = load_encoder(export_untrained_vae(tmp_path / "lm", use_latent=False))
    assert not encoder.has_representation and encoder.decoder is None
    with pytest.raises(ProbeError, match="no sentence representation"):
        encoder.encode(SENTENCES)


def test_weights_hash_covers_every_weight_file_without_model_safetensors(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"weights")
    first = weights_sha256(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"other weights")
    assert len(first) == 64 and weights_sha256(tmp_path) != first


def test_tfidf_svd_is_fitted_seeded_and_identified_by_its_training_data():
    train = toy_corpus()
    encoder = load_encoder("tfidf-svd")
    with pytest.raises(ProbeError, match="fitted on a train split first"):
        encoder.encode(SENTENCES)
    encoder.fit(train)
    codes = encoder.encode(train.sentences[:20])
    assert codes.shape == (20, 32) and codes.dtype == np.float32
    assert encoder.encoder_id == "tfidf-svd" and encoder.fitted_on["sentences"] == 300
    again = TfidfSVDEncoder(torch.device("cpu"))
    again.fit(train)
    np.testing.assert_array_equal(again.encode(train.sentences[:20]), codes)
    assert again.weights_sha256 == encoder.weights_sha256
    other = TfidfSVDEncoder(torch.device("cpu"))
    other.fit(toy_corpus(seed=1))
    assert other.weights_sha256 != encoder.weights_sha256  # other codes: another cache key
    assert other.entry_sha256 == encoder.entry_sha256  # ... but the same leaderboard entry
    assert TfidfSVDEncoder(torch.device("cpu"), seed=1).entry_sha256 != encoder.entry_sha256


def test_random_lstm_is_a_paper_size_untrained_vae_without_decoder():
    train = toy_corpus(name="snli")
    state = torch.random.get_rng_state()
    encoder = load_encoder("random-lstm")
    encoder.fit(train)
    assert torch.equal(torch.random.get_rng_state(), state)  # seeded on its own generator state
    config = encoder.model.config
    assert (config.embed_dim, config.encoder_hidden_size, config.latent_dim) == (128, 512, 32)
    assert encoder.decoder is None and encoder.encoder_id == "random-lstm"
    codes = encoder.encode(train.sentences[:10])
    assert codes.shape == (10, 32) and np.isfinite(codes).all() and codes.std(axis=0).min() > 0
    again = RandomLSTMEncoder(torch.device("cpu"))
    again.fit(train)
    np.testing.assert_array_equal(again.encode(train.sentences[:10]), codes)
    assert again.weights_sha256 == encoder.weights_sha256


def test_a_path_that_is_not_an_encoder_is_a_one_line_error(tmp_path):
    with pytest.raises(ProbeError, match=r"not an encoder \(expected a probe run dir, a Hugging Face model folder"):
        load_encoder(tmp_path)
    result = CliRunner().invoke(app, ["run-tasks", "--encoder", str(tmp_path / "missing"), "--no-progress"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (f"error: {tmp_path / 'missing'}: not an encoder (expected a probe run dir, a Hugging Face "
                        "model folder with config.json, or one of: tfidf-svd, random-lstm)")


def test_cache_computes_each_key_once_and_keeps_no_temporary_files(tmp_path):
    cache = EmbeddingCache(tmp_path)
    key = CacheKey("a" * 64, "b" * 64, "test", 3)
    calls = []

    def compute():
        calls.append(1)
        return np.arange(6, dtype=np.float64).reshape(3, 2)

    first = cache.get_or_compute(key, compute)
    second = EmbeddingCache(tmp_path).get_or_compute(key, compute)
    assert len(calls) == 1 and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["b" * 32 + "-test-3.npy"]
    with pytest.raises(ProbeError, match="codes of shape \\(4, 2\\) for 5 sentences"):
        cache.get_or_compute(CacheKey("a" * 64, "b" * 64, "test", 5), lambda: np.zeros((4, 2)))
    np.save(cache.path(key), np.zeros((2, 2)))  # a file that does not match its key
    with pytest.raises(ProbeError, match="expected 3 rows; delete the file"):
        cache.get_or_compute(key, compute)


def test_cache_dir_defaults_to_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_CACHE_DIR", str(tmp_path))
    assert EmbeddingCache().root == tmp_path
