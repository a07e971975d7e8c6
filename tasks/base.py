"""The interface every evaluation task implements, and the data a task is given."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from tasks.dataset_choice import training_corpus
from vae.data.corpus import Corpus

if TYPE_CHECKING:
    from vae.metrics import LMMetrics


@dataclass(frozen=True)
class TaskInfo:
    name: str  # "few-label"
    paper_ref: str  # where the paper defines it, e.g. "Table 8, Section 3.3"
    default_dataset: str  # the paper's dataset for this task
    split: str  # the split the main score is measured on
    main_score: str  # key of TaskResult.scores that the leaderboard shows
    needs_decoder: bool = False
    needs_labels: bool = False
    needs_splits: tuple[str, ...] = ()  # splits besides `split` that the task reads (e.g. train to fit a probe)


class TextDecoder(Protocol):
    """What a decoding task needs from a VAE (implemented by probe.decoder.VAEDecoder)."""

    latent_dim: int

    def posterior(self, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and log-variance of q(z|x): two [N, nz] arrays."""

    def sample_posterior(self, sentences: list[str], rng: np.random.Generator) -> np.ndarray:
        """One z ~ q(z|x) per sentence: [N, nz]."""

    def greedy_decode(self, z: np.ndarray, max_length: int = 100) -> list[str]:
        """Greedy decoding from each row of z: whitespace-joined words, no special tokens."""

    def as_model_sees(self, sentences: list[str]) -> list[str]:
        """The sentences as the model's vocabulary reads them: words outside it become <unk>."""

    def reconstruction_nll(self, sentences: list[str], z: np.ndarray) -> np.ndarray:
        """-log p(x | z) per sentence in nats, for the given z rows: [N]."""

    def lm_metrics(self, sentences: list[str], iw_samples: int, seed: int) -> LMMetrics:
        """The language-modelling metrics of Section 2.1 (IW NLL/PPL, Recon, KL, -ELBO, MI, AU) of these sentences."""


class Encoder(Protocol):
    """Any sentence encoder the probe can evaluate."""

    encoder_id: str  # the leaderboard's entry id
    source: str  # path or built-in name
    weights_sha256: str
    method: str | None  # training method, for VAE runs
    training_config: dict  # a VAE run's records its corpus: "dataset" (a name) and "data_files" (split -> path)
    decoder: TextDecoder | None  # VAE runs only
    has_representation: bool  # False for a language model without a latent variable (decoder only)
    fits_on_train_split: bool  # built-in baselines are fitted on the task dataset's train split first

    def fit(self, train: Corpus) -> None:
        """Fit on a dataset's train split (a no-op for pretrained encoders); may change encoder_id."""

    def encode(self, sentences: list[str]) -> np.ndarray:
        """Sentence representations: [N, d] float32 (the posterior mean for a VAE)."""

    def identity_for(self, train: Corpus) -> tuple[str, str]:
        """Encoders that fit on a train split only: the encoder_id and weights_sha256 fitting on `train` gives."""


@dataclass
class TaskData:
    """The corpora of one dataset and cached representations of each split."""

    dataset: str
    splits: dict[str, Corpus]  # "train" / "valid" / "test"; a split may be missing
    embed: Callable[[str], np.ndarray]  # split name -> [N, d] codes of that split, cached by the runner
    files_hash: str  # hash of the dataset's files, recorded with every result
    # Codes of a corpus read from another file of the dataset's folder (few-label's train.100.tsv ...), cached by
    # the runner; None: the task encodes it itself.
    embed_file: Callable[[Corpus], np.ndarray] | None = None

    def corpus(self, split: str) -> Corpus:
        if split not in self.splits:
            raise KeyError(f"dataset {self.dataset} has no {split} split")
        return self.splits[split]


def example_ids_hash(examples: list[str]) -> str:
    """sha256 of the evaluated examples in order: equal hashes mean per-example values can be paired."""
    return hashlib.sha256("\n".join(examples).encode("utf-8")).hexdigest()


class Task(ABC):
    info: TaskInfo

    def dataset_for(self, encoder: Encoder) -> str:
        """The dataset to run on when none is asked for: the encoder's own training corpus when it records one
        (the paper probes each VAE on its corpus: Table 8 on Yelp, Tables 4-7 on SNLI), the paper's otherwise."""
        corpus = training_corpus(encoder)
        return corpus.dataset if corpus is not None else self.info.default_dataset

    def not_applicable_reason(self, encoder: Encoder, data: TaskData) -> str | None:
        """Why this task cannot run on this encoder and dataset, or None when it can."""
        if self.info.needs_decoder and encoder.decoder is None:
            return f"{self.info.name} decodes text: {encoder.encoder_id} has no decoder"
        if not self.info.needs_decoder and not encoder.has_representation:
            return f"{self.info.name} probes sentence representations: {encoder.encoder_id} has none"
        missing = [s for s in (self.info.split, *self.info.needs_splits) if s not in data.splits]
        if missing:
            return f"{self.info.name} needs the {' and '.join(missing)} split(s): dataset {data.dataset} has none"
        if self.info.needs_labels and any(c.labels is None for c in data.splits.values()):
            return (f"{self.info.name} needs labels: dataset {data.dataset} is unlabelled (--dataset can name a "
                    f"labelled corpus, e.g. {self.info.default_dataset})")
        return None

    def decoder_of(self, encoder: Encoder, data: TaskData) -> TextDecoder:
        """The encoder's decoder; a decoding task run on an encoder without one is a caller's error."""
        if encoder.decoder is None:
            raise ValueError(self.not_applicable_reason(encoder, data))
        return encoder.decoder

    @abstractmethod
    def run(self, encoder: Encoder, data: TaskData, seed: int = 0):
        """Evaluate and return a leaderboard.schema.TaskResult."""
