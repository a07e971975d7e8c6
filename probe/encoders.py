"""Load any sentence encoder the probe can evaluate: a VAE run of this project, a Hugging Face encoder
folder, or a built-in baseline (tfidf-svd, random-lstm). Each one implements tasks.base.Encoder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from probe_common.errors import ProbeError, one_line
from probe_common.hashing import bytes_sha256, file_sha256
from vae.data.corpus import Corpus
from vae.device import resolve_device
from vae.loading import claims_textvae, read_config

from .builtin_encoders import BUILTIN_ENCODERS
from .encoding import encode_in_length_order, posterior_means

HF_BATCH_SIZE = 64
# Weight files of a Hugging Face folder, hashed together when there is no single model.safetensors.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack")


class PretrainedEncoder:
    """What every encoder loaded from a folder shares: nothing to fit, a representation, maybe a decoder."""

    fits_on_train_split = False
    fitted_on = None
    has_representation = True
    decoder = None
    lm_scorer = None
    text_vae = None
    method: str | None = None

    def fit(self, train: Corpus) -> None:
        """Pretrained encoders are not fitted on task data."""


class TextVAEEncoder(PretrainedEncoder):
    """A text VAE of this project: the representation is the posterior mean mu (as the paper, Section 3.2-3.3)."""

    def __init__(self, path: Path, device: torch.device):
        from vae.loading import load_textvae
        from probe.decoder import LMScorer, VAEDecoder  # lazy: only decoding and scoring tasks need them

        self.model, self.tokenizer = load_textvae(path, device)  # checked: a broken run is one line
        self.device = device
        self.encoder_id = path.resolve().name
        self.source = str(path)
        self.weights_sha256 = self.entry_sha256 = weights_sha256(path)
        self.method = self.model.config.method
        self.training_config = dict(self.model.config.training or {})
        # A plain LSTM language model (`lm` method) has no latent variable: it can only be scored as an LM.
        self.has_representation = self.model.encoder is not None
        self.decoder = VAEDecoder(self.model, self.tokenizer, device) if self.has_representation else None
        self.text_vae = (self.model, self.tokenizer) if self.has_representation else None
        self.lm_scorer = LMScorer(self.model, self.tokenizer, device)

    def encode(self, sentences: list[str]) -> np.ndarray:
        if not self.has_representation:
            raise ProbeError(f"{self.source}: a language model without a latent variable has no sentence "
                             "representation")
        return posterior_means(self.model, self.tokenizer, sentences, self.device)


class HuggingFaceEncoder(PretrainedEncoder):
    """Any Hugging Face encoder folder, offline: the mean of the last hidden states over real tokens."""

    def __init__(self, path: Path, device: torch.device):
        from safetensors import SafetensorError
        from transformers import AutoModel, AutoTokenizer

        try:
            # trust_remote_code=False: a folder's own code never runs (and transformers does not stop to ask).
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
            model = AutoModel.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
        except (OSError, ValueError, SafetensorError) as error:
            raise ProbeError(f"{path}: cannot load as a Hugging Face encoder: {one_line(error)}") from None
        # Encoder-decoder models (T5, BART): the encoder half gives the sentence states.
        self.model = (model.get_encoder() if model.config.is_encoder_decoder else model).to(device).eval()
        if self.tokenizer.pad_token is None:
            # Padding is masked out of the mean, so any token id serves as padding.
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.max_length = max_input_length(self.tokenizer, model.config)
        self.device = device
        self.encoder_id = path.resolve().name
        self.source = str(path)
        self.weights_sha256 = self.entry_sha256 = weights_sha256(path)
        self.training_config = {"model_type": model.config.model_type, "pooling": "mean over non-padding tokens",
                                "max_length": self.max_length}

    def encode(self, sentences: list[str]) -> np.ndarray:
        return encode_in_length_order(sentences, HF_BATCH_SIZE, self._encode_batch)

    @torch.no_grad()
    def _encode_batch(self, sentences: list[str]) -> np.ndarray:
        batch = self.tokenizer(sentences, padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt").to(self.device)
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return ((hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)).float().cpu().numpy()


def load_encoder(spec: str | os.PathLike, device: str = "cpu", seed: int = 0):
    """An Encoder from a probe run dir / export, a Hugging Face model folder, or a built-in name."""
    device = resolve_device(device)
    path = Path(spec)
    config_file = path / "config.json"
    if path.is_dir() and config_file.is_file():
        if claims_textvae(read_config(path)):  # a folder that says it is a text VAE loads as one, or fails
            return TextVAEEncoder(path, device)
        return HuggingFaceEncoder(path, device)
    if str(spec) in BUILTIN_ENCODERS:
        return BUILTIN_ENCODERS[str(spec)](device=device, seed=seed)
    raise ProbeError(f"{spec}: not an encoder (expected a probe run dir, a Hugging Face model folder with "
                     f"config.json, or one of: {', '.join(BUILTIN_ENCODERS)})")


# ---- helpers shared by the encoders ------------------------------------------------------------------------

def max_input_length(tokenizer, config) -> int:
    """The longest input the model takes: the tokenizer's limit, capped by the position embeddings."""
    limits = [tokenizer.model_max_length, getattr(config, "max_position_embeddings", None) or 512]
    return int(min(limit for limit in limits if limit))


def weights_sha256(folder: Path) -> str:
    """sha256 of model.safetensors, or of every weight file (names and contents) when there is none."""
    if (folder / "model.safetensors").is_file():
        return file_sha256(folder / "model.safetensors")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    if not files:
        raise ProbeError(f"{folder}: no weight files ({', '.join(WEIGHT_SUFFIXES)}) to identify the encoder by")
    return bytes_sha256("".join(f"{file.relative_to(folder)}\0{file_sha256(file)}\n" for file in files).encode())

