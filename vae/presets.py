"""The one table of model sizes and optimisation settings (paper Appendix A, Table 9)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSize:
    embed_dim: int
    encoder_hidden_size: int
    decoder_hidden_size: int
    latent_dim: int = 32


# Appendix A / Table 9; yelp uses the SNLI sizes (the authors' short-yelp config).
PAPER_MODEL_SIZES: dict[str, ModelSize] = {
    "yelp": ModelSize(128, 512, 512),
    "snli": ModelSize(128, 512, 512),
    "ptb": ModelSize(256, 256, 256),
    "yahoo": ModelSize(512, 1024, 1024),
}
# Corpora given as a path (not a registered name) get the yelp/snli sizes.
DEFAULT_MODEL_SIZE = PAPER_MODEL_SIZES["yelp"]


@dataclass(frozen=True)
class Preset:
    """How long and on how much data to train; the paper's optimisation settings by default."""

    name: str
    batch_size: int = 32
    lr: float = 0.5  # SGD without momentum
    # The autoencoder stage may use Adam (the authors' code offers it): with SGD the encoder of a small or briefly
    # trained model carries no information for many epochs. Later stages keep SGD, whose step size follows the
    # gradient scale, which is what makes the KL-weight annealing of Section 2.4 work (Adam would undo it).
    pretrain_optimizer: str = "sgd"  # "sgd" or "adam"
    pretrain_lr: float = 0.5
    clip_grad_norm: float = 5.0
    lr_decay: float = 0.5
    decay_patience: int = 2  # epochs without validation improvement before halving the lr
    max_decays: int = 5
    max_epochs: int = 100  # per stage
    anneal_epochs: int = 10  # linear KL-weight warm-up 0 -> 1 (Section 2.4)
    cycle_epochs: int = 10  # cyclic annealing: one cycle
    cycle_rise_epochs: int = 5  # ... rising from cycle_start to 1 over these epochs
    cycle_start: float = 0.1
    aggressive_max_inner_steps: int = 100  # He et al. 2019
    iwae_train_samples: int = 10  # IWAE baseline, k = 10
    iw_samples: int = 1000  # importance samples for NLL/PPL (Section 2.1)
    max_train_sentences: int | None = None
    max_eval_sentences: int | None = None  # cap on validation and test sentences
    model_size: ModelSize | None = None  # None: the paper size of the dataset

    def with_overrides(self, **overrides) -> "Preset":
        """A copy with the non-None overrides applied (command-line flags)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


_CPU = Preset(
    # Same architecture and method, sized so `probe train-vae yelp --preset cpu` ends in < 40 min on 2 cores.
    name="cpu",
    pretrain_optimizer="adam",
    pretrain_lr=3e-3,
    max_epochs=10,
    anneal_epochs=5,
    cycle_epochs=4,
    cycle_rise_epochs=2,
    max_train_sentences=16_000,
    max_eval_sentences=1_000,
    iw_samples=100,
)

PRESETS: dict[str, Preset] = {
    "paper": Preset(name="paper"),
    "cpu": _CPU,
    # For tests: the cpu schedule on a small model and a few thousand sentences.
    "tiny": dataclasses.replace(
        _CPU,
        name="tiny",
        aggressive_max_inner_steps=10,
        max_train_sentences=5_000,
        max_eval_sentences=300,
        iw_samples=20,
        model_size=ModelSize(32, 64, 64, 32),
    ),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def model_size_for(dataset_name: str, preset: Preset) -> ModelSize:
    return preset.model_size or PAPER_MODEL_SIZES.get(dataset_name, DEFAULT_MODEL_SIZE)


# The target rate lambda (total, nats) the paper reports for its method per dataset:
# yelp Table 8, snli Tables 4-6, ptb and yahoo Table 3. Methods that use lam default to these.
PAPER_LAM: dict[str, float] = {"yelp": 6.0, "snli": 4.0, "ptb": 6.0, "yahoo": 6.0}
