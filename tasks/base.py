"""The task contract, after MTEB: each task declares its metadata (TaskInfo) and returns plain scores
(TaskOutput); the runner (probe.runner) times it and turns the two into a leaderboard record. Tasks never
import leaderboard/: what a record needs from a task is in TaskInfo and TaskOutput.

Three task types share the work of the seven tasks: RepresentationTask (probes of the codes an encoder gives,
read through TaskData.embed), DecodingTask (tasks that decode text with a VAE's latent decoder) and
ScoringTask (tasks that score text with a language model, latent or not: lm).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol

import numpy as np

from probe_common.hashing import lines_sha256
from tasks.dataset_choice import training_corpus
from vae.data.corpus import Corpus

if TYPE_CHECKING:
    from vae.metrics import LMMetrics

# How a task's result is drawn in the report (leaderboard.render draws each kind from extra):
# "label-curve": extra["curve"] {number of labels: score}; "k-curve": extra["curve"] {k word swaps: score};
# "smoothness-scatter": extra["scatter"] [[code distance, edit distance], ...];
# "interpolations": extra["interpolations"], decoded paths shown as text.
PlotKind = Literal["label-curve", "k-curve", "smoothness-scatter", "interpolations"]
PLOT_KINDS: tuple[str, ...] = ("label-curve", "k-curve", "smoothness-scatter", "interpolations")

DEFAULT_BOOTSTRAP_UNIT = "examples"  # a bootstrap over the test examples, each drawn alone


@dataclass(frozen=True, kw_only=True)
class TaskInfo:
    """What a task is, declared once: the runner copies it into every record of the task."""

    name: str  # "few-label"
    paper_ref: str  # where the paper defines it, e.g. "Table 8, Section 3.3"
    default_dataset: str  # the paper's dataset for this task (encoders without a training corpus of their own)
    split: str  # the split the main score is measured on
    main_score: str  # key of TaskOutput.scores that the leaderboard shows
    # True: higher is better; False: lower is better; None: a descriptive score, neither better nor worse.
    higher_is_better: bool | None
    main_score_label: str  # the main score for a human: axis labels, table headers
    needs_decoder: bool = False  # a DecodingTask; otherwise it probes the encoder's representation ...
    needs_lm_scorer: bool = False  # ... or, a ScoringTask, scores text with the encoder's language model
    needs_labels: bool = False
    needs_splits: tuple[str, ...] = ()  # splits besides `split` that the task reads (e.g. train to fit a probe)
    plot: PlotKind | None = None  # how the report draws the result; None: the table only
    per_seed_unit: str = "seeds"  # what TaskOutput.per_seed repeats, for readers: "label draws", "GMM fits"
    bootstrap_unit: str = DEFAULT_BOOTSTRAP_UNIT  # what a bootstrap ci95 resamples (n_examples of them)

    def __post_init__(self) -> None:
        # Declarations are code: a typo here is a bug, so it fails on import rather than in a report.
        if self.higher_is_better not in (True, False, None):
            raise ValueError(f"{self.name}: higher_is_better must be True, False or None")
        if self.needs_decoder and self.needs_lm_scorer:
            raise ValueError(f"{self.name}: a task needs a decoder or an LM scorer, not both")
        if self.plot is not None and self.plot not in PLOT_KINDS:
            raise ValueError(f"{self.name}: plot must be one of {', '.join(PLOT_KINDS)} or None, got {self.plot!r}")


@dataclass
class TaskOutput:
    """What a task's run returns: plain numbers, no leaderboard record (the runner builds that).

    `per_seed` and `per_example` are keyed by score name (a subset of `scores`). The runner keeps the main
    score's per-example values and bootstraps its 95% interval from them (their mean must be the main score);
    a main score that is not such a mean (corpus BLEU, a correlation) brings its own `ci95`.
    """

    scores: dict[str, float]  # every score, the main one (TaskInfo.main_score) included
    n_examples: int  # examples the main score is measured on
    per_seed: dict[str, list[float]] | None = None  # score name -> its value for each seed
    per_example: dict[str, list[float]] | None = None  # score name -> its value for each example
    examples_hash: str | None = None  # example_ids_hash of the evaluated examples: equal hashes can be paired
    ci95: tuple[float, float] | None = None  # the task's own interval of the main score, if it computes one
    extra: dict[str, Any] = field(default_factory=dict)  # plot data and details, JSON-serialisable


@dataclass(frozen=True)
class NotApplicable:
    """Why a task cannot run on an encoder and dataset: recorded on the leaderboard, never skipped silently."""

    reason: str


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


class LMScorer(Protocol):
    """What a scoring task needs from a language model, with or without a latent variable (implemented by
    probe.decoder.LMScorer)."""

    def lm_metrics(self, sentences: list[str], iw_samples: int, seed: int) -> LMMetrics:
        """The language-modelling metrics of Section 2.1 of these sentences: IW NLL/PPL, and for a latent model
        Recon, KL, -ELBO, MI, AU (None for an LSTM-LM, whose NLL is exact)."""


class Encoder(Protocol):
    """Any sentence encoder the probe can evaluate."""

    encoder_id: str  # the leaderboard's entry id
    source: str  # path or built-in name
    weights_sha256: str  # what its codes are cached under
    entry_sha256: str  # what identifies its leaderboard entry: the weights, or a built-in's recipe and seed
    method: str | None  # training method, for VAE runs
    training_config: dict  # a VAE run's records its corpus: "dataset" (a name) and "data_files" (split -> path)
    decoder: TextDecoder | None  # VAE runs only
    lm_scorer: LMScorer | None  # VAE runs and LSTM-LM runs
    has_representation: bool  # False for a language model without a latent variable (decoder only)
    text_vae: tuple | None  # (model, tokenizer) of a VAE run with an encoder, for tasks that train it further
    fits_on_train_split: bool  # built-in baselines are fitted on the task dataset's train split first
    fitted_on: dict | None  # ... and then describe that split (dataset, split, sentences, sha256)

    def fit(self, train: Corpus) -> None:
        """Fit on a dataset's train split (a no-op for pretrained encoders)."""

    def encode(self, sentences: list[str]) -> np.ndarray:
        """Sentence representations: [N, d] float32 (the posterior mean for a VAE)."""


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
    return lines_sha256(examples)


class Task(ABC):
    """A task: declared metadata (`info`) and `run`. Options are the fields of a task's dataclass, given by
    value: tasks.registry.get_task("lm", iw_samples=100)."""

    info: TaskInfo
    # Bootstrap resamples of the 95% interval the runner computes from the main score's per-example values.
    n_resamples: int = 1000

    def dataset_for(self, encoder: Encoder) -> str:
        """The dataset to run on when none is asked for: the encoder's own training corpus when it records one
        (the paper probes each VAE on its corpus: Table 8 on Yelp, Tables 4-7 on SNLI), the paper's otherwise."""
        corpus = training_corpus(encoder)
        return corpus.dataset if corpus is not None else self.info.default_dataset

    def not_applicable_reason(self, encoder: Encoder, data: TaskData) -> str | None:
        """Why this task cannot run on this encoder and dataset, or None when it can."""
        if self.info.needs_lm_scorer:
            if encoder.lm_scorer is None:
                return f"{self.info.name} scores text with a language model: {encoder.encoder_id} is none"
        elif self.info.needs_decoder:
            if encoder.decoder is None:
                return f"{self.info.name} decodes text: {encoder.encoder_id} has no decoder"
        elif not encoder.has_representation:
            return f"{self.info.name} probes sentence representations: {encoder.encoder_id} has none"
        missing = [s for s in (self.info.split, *self.info.needs_splits) if s not in data.splits]
        if missing:
            return f"{self.info.name} needs the {' and '.join(missing)} split(s): dataset {data.dataset} has none"
        if self.info.needs_labels and any(c.labels is None for c in data.splits.values()):
            return (f"{self.info.name} needs labels: dataset {data.dataset} is unlabelled (--dataset can name a "
                    f"labelled corpus, e.g. {self.info.default_dataset})")
        return None

    @abstractmethod
    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        """Evaluate: scores, per-seed and per-example values. Untimed: the runner times every task."""

    def sentences(self, data: TaskData, limit: int | None = None) -> list[str]:
        """The sentences of the task's split, the first `limit` of them when given."""
        return data.corpus(self.info.split).head(limit).sentences


class RepresentationTask(Task):
    """A probe of sentence representations: it reads the codes of each split through TaskData.embed (cached
    by the runner) and never the decoder. TaskInfo.needs_decoder and needs_lm_scorer are False."""

    def codes(self, data: TaskData, split: str) -> np.ndarray:
        """[N, d] codes of a split of the task's dataset."""
        return data.embed(split)


class DecodingTask(Task):
    """A task that decodes text, or scores it given z, with a VAE's latent decoder (TaskInfo.needs_decoder is
    True); encoders without one (Hugging Face folders, built-ins, the LSTM-LM) are recorded as not applicable."""

    def decoder_of(self, encoder: Encoder, data: TaskData) -> TextDecoder:
        """The encoder's decoder; a decoding task run on an encoder without one is a caller's error."""
        if encoder.decoder is None:
            raise ValueError(self.not_applicable_reason(encoder, data))
        return encoder.decoder


class ScoringTask(Task):
    """A task that scores text with a language model (TaskInfo.needs_lm_scorer is True): VAE runs and LSTM-LM
    runs have one; other encoders are recorded as not applicable."""

    def scorer_of(self, encoder: Encoder, data: TaskData) -> LMScorer:
        """The encoder's LM scorer; a scoring task run on an encoder without one is a caller's error."""
        if encoder.lm_scorer is None:
            raise ValueError(self.not_applicable_reason(encoder, data))
        return encoder.lm_scorer
