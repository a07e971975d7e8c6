"""Baselines that need no download, fitted on the task dataset's train split: tfidf-svd and random-lstm (the floor).

A built-in is a deterministic function of its recipe, its seed and the train sentences. On the leaderboard it is
one entry (`tfidf-svd`) identified by its recipe and seed, with results per dataset: each dataset's hash (which
covers its train split) says what it was fitted on there, and each result records the fit. Its codes are cached
under the hash of recipe, seed and train sentences together, as those determine them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from probe_common.errors import ProbeError
from probe_common.hashing import json_sha256, lines_sha256
from vae.configuration_textvae import TextVAEConfig
from vae.data.corpus import Corpus
from vae.data.tokenizer import build_tokenizer
from vae.modeling_textvae import TextVAEModel
from vae.presets import get_preset, model_size_for

from .encoding import posterior_means


def text_sha256(sentences: list[str]) -> str:
    return lines_sha256(sentences)


class BuiltinEncoder:
    """Shared bookkeeping: the recipe, the fit, the hash; subclasses build the model in `_fit`."""

    name: str
    fits_on_train_split = True
    has_representation = True
    decoder = None  # no built-in decodes text
    text_vae = None
    lm_scorer = None  # ... or scores it
    method = None

    def __init__(self, device: torch.device, seed: int = 0):
        self.device, self.seed = device, seed
        self.source = self.name
        self.encoder_id = self.name
        self.fitted_on: dict | None = None

    def params(self) -> dict:
        raise NotImplementedError

    def fit(self, train: Corpus) -> None:
        self._fit(train.sentences)
        self.fitted_on = {"dataset": train.name, "split": train.split, "sentences": len(train),
                          "sha256": text_sha256(train.sentences)}

    @property
    def entry_sha256(self) -> str:
        """The recipe and seed: the same on every dataset, so the encoder is one leaderboard entry."""
        return json_sha256({"name": self.name, "params": self.params(), "seed": self.seed})

    @property
    def weights_sha256(self) -> str:
        """The fitted encoder: recipe, seed, the dataset's name (random-lstm's size follows it) and its train
        sentences: the key of its cached codes."""
        fitted = self._fitted()
        return json_sha256({"recipe": self.entry_sha256, "dataset": fitted["dataset"], "train": fitted["sha256"]})

    @property
    def training_config(self) -> dict:
        return {"builtin": self.name, "params": self.params(), "seed": self.seed}

    def encode(self, sentences: list[str]) -> np.ndarray:
        self._fitted()
        return self._encode(sentences)

    def _fitted(self) -> dict:
        if self.fitted_on is None:
            raise ProbeError(f"{self.name} is fitted on a train split first: call fit(train_corpus)")
        return self.fitted_on

    def _fit(self, sentences: list[str]) -> None:
        raise NotImplementedError

    def _encode(self, sentences: list[str]) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class TfidfSVDParams:
    n_components: int = 32  # the paper's latent size, so codes are compared at equal width


class TfidfSVDEncoder(BuiltinEncoder):
    """TF-IDF of the words (whitespace tokens: the corpora are pre-tokenised), reduced by truncated SVD (LSA)."""

    name = "tfidf-svd"

    def __init__(self, device: torch.device, seed: int = 0, params: TfidfSVDParams = TfidfSVDParams()):
        super().__init__(device, seed)
        self.config = params

    def params(self) -> dict:
        return dataclasses.asdict(self.config)

    def _fit(self, sentences: list[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer=str.split)
        counts = self.vectorizer.fit_transform(sentences)
        if counts.shape[1] <= self.config.n_components:
            raise ProbeError(f"tfidf-svd: the train split has {counts.shape[1]} distinct words, too few for "
                             f"{self.config.n_components} SVD components")
        self.svd = TruncatedSVD(n_components=self.config.n_components, random_state=self.seed)
        self.svd.fit(counts)

    def _encode(self, sentences: list[str]) -> np.ndarray:
        return self.svd.transform(self.vectorizer.transform(sentences)).astype(np.float32)


@dataclass(frozen=True)
class RandomLSTMParams:
    size_preset: str = "paper"  # Appendix A sizes of the dataset (yelp/snli: 128 / 512 / 32)


class RandomLSTMEncoder(BuiltinEncoder):
    """An untrained TextVAEModel of the paper's size: its posterior mean is the floor any training must beat."""

    name = "random-lstm"

    def __init__(self, device: torch.device, seed: int = 0, params: RandomLSTMParams = RandomLSTMParams()):
        super().__init__(device, seed)
        self.config = params

    def params(self) -> dict:
        return dataclasses.asdict(self.config)

    def fit(self, train: Corpus) -> None:
        self.dataset = train.name  # the model size follows the dataset, as for a trained run
        super().fit(train)

    def _fit(self, sentences: list[str]) -> None:
        self.tokenizer = build_tokenizer(sentences)
        size = model_size_for(self.dataset, get_preset(self.config.size_preset))
        config = TextVAEConfig(vocab_size=len(self.tokenizer), embed_dim=size.embed_dim,
                               encoder_hidden_size=size.encoder_hidden_size,
                               decoder_hidden_size=size.decoder_hidden_size, latent_dim=size.latent_dim)
        with torch.random.fork_rng(devices=[]):  # seeded without disturbing the caller's random state
            torch.manual_seed(self.seed)
            self.model = TextVAEModel(config)
        self.model.to(self.device).eval()

    def _encode(self, sentences: list[str]) -> np.ndarray:
        return posterior_means(self.model, self.tokenizer, sentences, self.device)


BUILTIN_ENCODERS = {encoder.name: encoder for encoder in (TfidfSVDEncoder, RandomLSTMEncoder)}
