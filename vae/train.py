"""The training loop: one loop for every method, read top to bottom.

A method is a sequence of stages (vae/methods.py). A "plateau" stage trains with SGD under the authors' schedule
(text_anneal_fb.py:376-401): keep the best-validation weights; count the epochs whose validation loss is worse
than the last not-worse one; after `decay_patience` of them, and never within the first `decay_floor_epochs`
epochs, halve the learning rate and reload the best weights; stop after `max_decays` decays or `max_epochs`.
A "cosine-cycles" stage (Liu et al.'s cyclic annealing) uses Adam with a cosine lr per KL cycle and no early stop.
A checkpoint is written after every epoch; `resume=True` continues from it with optimiser, schedule and RNG.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import atomic
from .autoencoder_stage import AutoencoderStageKey, copy_snapshot, save_snapshot
from .configuration_textvae import TextVAEConfig
from .data import EqualLengthBatcher, build_tokenizer, load_corpus
from .data.corpus import locate
from .data.tokenizer import encode
from .device import (configure_backends, decoder_token_budget, device_description, resolve_device, rng_state,
                     seed_everything, set_rng_state)
from probe_common.errors import ProbeError, TrainingDiverged, one_line
from probe_common.hashing import lines_sha256
from .export import export_run
from .loading import CHECKPOINT
from .losses import validation_loss
from .methods import DEFAULT_METHOD, Method, Stage, get_method
from .metrics import evaluate_lm, format_metrics, posterior_statistics
from .modeling_textvae import TextVAEModel
from .objectives import (
    FREE_BITS_PER,
    Autoencoder,
    BatchLoss,
    ConstantWeight,
    CyclicWeight,
    KLSchedule,
    LinearAnneal,
    Objective,
    cosine_cycle_lr,
)
from .precision import PRECISIONS, autocast, resolve_precision
from .presets import DEFAULT_SEED, PAPER_LAM, Preset, get_preset, model_size_for
from .progress import progress_bar

BEST_WEIGHTS = "checkpoints/best-stage{stage}.pt"
TRAIN_CONFIG = "train_config.json"


@dataclass
class TrainConfig:
    """What to train. None means "not given": the stored run's value on --resume, otherwise the default."""

    dataset: str
    method: str | None = None  # default DEFAULT_METHOD
    lam: float | None = None  # total target rate in nats; per-dimension threshold is lam / nz
    preset: str | None = None  # default "paper" on a GPU, "cpu" otherwise
    data_dir: str | None = None
    valid: str | None = None  # explicit split files (--valid/--test): a dataset given as one file needs both
    test: str | None = None
    run_dir: str | None = None
    device: str = "auto"
    seed: int | None = None  # default DEFAULT_SEED
    epochs: int | None = None  # overrides the preset's max_epochs (per stage)
    max_train_sentences: int | None = None
    min_word_count: int | None = None  # overrides the preset's
    iw_samples: int | None = None
    free_bits_per: str | None = None  # "example" (default: authors' code, reproduces the paper) or "batch"
    precision: str | None = None  # "auto" (default), "bf16" or "fp32": see vae/precision.py
    # A run whose autoencoder stage this run starts from (vae/autoencoder_stage.py); ignored when resuming.
    autoencoder_stage_from: str | None = None
    resume: bool = False
    progress: bool = True

    def validate(self) -> None:
        """Bad values stop with one line naming the option, before any work."""
        if self.method is not None:
            get_method(self.method)
        if self.preset is not None:
            get_preset(self.preset)
        for option, value in (("--epochs", self.epochs), ("--max-train-sentences", self.max_train_sentences),
                              ("--min-word-count", self.min_word_count), ("--iw-samples", self.iw_samples)):
            if value is not None and value < 1:
                raise ProbeError(f"{option} must be at least 1, got {value}")
        if self.lam is not None and not 0 < self.lam < math.inf:
            raise ProbeError(f"--lam must be a positive number of nats, got {self.lam}")
        if self.seed is not None and not 0 <= self.seed < 2**32:  # what numpy's seeding accepts
            raise ProbeError(f"--seed must be between 0 and {2**32 - 1}, got {self.seed}")
        if self.precision is not None and self.precision not in PRECISIONS:
            raise ProbeError(f"--precision {self.precision}: choose one of {', '.join(PRECISIONS)}")
        if self.free_bits_per is not None and self.free_bits_per not in FREE_BITS_PER:
            raise ProbeError(f"--free-bits-per {self.free_bits_per}: choose one of {', '.join(FREE_BITS_PER)}")


# What a resumed run must share with the run it continues: (TrainConfig field, the option as typed).
RUN_DEFINING = (("dataset", "dataset"), ("method", "--method"), ("lam", "--lam"), ("preset", "--preset"),
                ("seed", "--seed"), ("free_bits_per", "--free-bits-per"),
                ("max_train_sentences", "--max-train-sentences"), ("min_word_count", "--min-word-count"),
                ("valid", "--valid"), ("test", "--test"), ("precision", "--precision"))
# Preset fields that options set (--epochs, --iw-samples; --max-train-sentences is checked as an option): a resumed
# run may change them.
OPTION_FIELDS = ("max_epochs", "cyclic_max_epochs", "pretrain_epochs", "iw_samples", "max_train_sentences")
# Preset fields added after runs began to record their settings, with the value that reproduces what those runs did.
ADDED_PRESET_FIELDS = {"budget_in_updates": False, "min_word_count": 1}


def preset_changes(stored: dict, preset: Preset, method: Method) -> list[str]:
    """The settings of `preset` that differ from a run's stored ones ("name old → new"), leaving out what options set
    and what cannot change this method's training (an update budget without encoder-only updates is its epochs)."""
    current = dataclasses.asdict(preset)
    ignored = set(OPTION_FIELDS)
    if not any(stage.aggressive for stage in method.stages):
        ignored |= {"budget_in_updates", "aggressive_max_inner_steps"}
    return [f"{name} {stored.get(name, ADDED_PRESET_FIELDS.get(name))!r} → {value!r}" for name, value in current.items()
            if name not in ignored and stored.get(name, ADDED_PRESET_FIELDS.get(name)) != value]


# Options that --resume takes from the stored run when they are not given.
INHERITED = ("method", "lam", "preset", "data_dir", "valid", "test", "seed", "epochs", "max_train_sentences",
             "min_word_count", "iw_samples", "free_bits_per", "precision")


def continue_stored_run(given: TrainConfig, stored_path: Path) -> TrainConfig:
    """--resume: the stored run's options where none is given; a given option that differs stops the run."""
    if not stored_path.is_file():
        raise ProbeError(f"cannot resume: {stored_path} is missing; choose another --run-dir")
    stored = json.loads(stored_path.read_text(encoding="utf-8"))
    for name, option in RUN_DEFINING:
        mine, theirs = getattr(given, name), stored.get(name)
        if mine is None or mine == theirs:
            continue
        if name == "dataset":
            raise ProbeError(f"dataset {mine} differs from the run's dataset {theirs} ({stored_path}); "
                             f"choose another --run-dir")
        raise ProbeError(f"{option} {_shown(mine)} differs from the run's {name} {_shown(theirs)} ({stored_path}); "
                         f"drop it or choose another --run-dir")
    return dataclasses.replace(given, **{name: stored.get(name) for name in INHERITED if getattr(given, name) is None})


def _shown(value) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def with_defaults(config: TrainConfig, device: torch.device) -> TrainConfig:
    return dataclasses.replace(
        config,
        method=config.method or DEFAULT_METHOD,
        preset=config.preset or ("paper" if device.type == "cuda" else "cpu"),
        seed=DEFAULT_SEED if config.seed is None else config.seed,
        free_bits_per=config.free_bits_per or "example",
        # Resolved here, so the run records (and a resume reuses) the precision actually used.
        precision=resolve_precision(config.precision or "auto", device, training=True),
    )


@dataclass
class TrainingState:
    """Everything a resumed run needs besides the weights and optimiser."""

    stage: int = 0
    epoch: int = 0  # next epoch to run within the stage
    step: int = 0  # decoder updates done within the stage (the KL schedules count these, or `updates` with a budget)
    updates: int = 0  # all updates done within the stage, encoder-only ones included
    lr: float = 0.5
    decays: int = 0
    best_loss: float = math.inf  # best validation loss of the stage: its weights are kept
    # The authors' opt_dict["best_loss"] and ["not_improved"]: the last validation loss that was not worse than
    # its predecessor (or the loss at the last decay), and the epochs since then that were worse.
    last_good_loss: float = math.inf
    epochs_worse: int = 0
    aggressive: bool = False
    previous_mi: float = 0.0
    finished: bool = False
    log: list[dict] = field(default_factory=list)


def default_run_dir(dataset_name: str, method: Method, lam: float | None) -> Path:
    suffix = f"-lam{lam:g}" if method.uses_lam else ""
    return Path("runs") / f"{dataset_name}-{method.name}{suffix}"


def resolve_lam(lam: float | None, dataset_name: str, method: Method) -> float | None:
    if not method.uses_lam:
        if lam is not None:
            raise ProbeError(f"--lam is not used by method {method.name!r} (only by free-bits methods)")
        return None
    if lam is not None:
        return float(lam)
    paper = PAPER_LAM.get(method.name, {})
    if dataset_name in paper:
        return paper[dataset_name]
    raise ProbeError(f"method {method.name!r} needs --lam (the total target rate in nats) for {dataset_name}: "
                     f"the paper has no {method.name} row for it")


def resolve_preset(config: TrainConfig) -> Preset:
    preset = get_preset(config.preset)
    if config.epochs is not None:  # --epochs N: N epochs in every stage, whatever the preset's split
        preset = dataclasses.replace(preset, pretrain_epochs=None)
    return preset.with_overrides(
        max_epochs=config.epochs, cyclic_max_epochs=config.epochs, max_train_sentences=config.max_train_sentences,
        min_word_count=config.min_word_count, iw_samples=config.iw_samples,
    )


def load_weights(path: Path) -> dict:
    """Tensors and plain values only: torch.load(weights_only=True) never runs code stored in the file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ProbeError(f"{path}: refused to load: it holds Python objects, not only tensors and plain values "
                         f"(it was not written by this version of probe, or was altered)") from None
    except (RuntimeError, EOFError) as error:
        raise ProbeError(f"{path}: not a readable checkpoint ({one_line(error)})") from None


class Trainer:
    def __init__(self, config: TrainConfig, log=print):
        config.validate()
        self.say = log
        self.device = resolve_device(config.device)
        configure_backends(self.device)
        self.dataset_name = locate(config.dataset, "train", config.data_dir)[0].name  # "yelp", or a folder's name
        self.run_dir = Path(config.run_dir) if config.run_dir else self._default_run_dir(config)
        has_checkpoint = (self.run_dir / CHECKPOINT).exists()
        if has_checkpoint and not config.resume:
            raise ProbeError(f"{self.run_dir} already holds a run: pass --resume to continue it or choose --run-dir")
        self.resuming = config.resume and has_checkpoint
        if self.resuming:
            config = continue_stored_run(config, self.run_dir / TRAIN_CONFIG)
        preset_chosen = config.preset is not None
        config = with_defaults(config, self.device)
        self.method = get_method(config.method)
        if config.autoencoder_stage_from and not self.method.starts_with_autoencoder:
            raise ProbeError(f"--autoencoder-stage-from: method {self.method.name} does not start with an "
                             f"autoencoder stage (ae, pretrain-fb, pretrain and pretrain-anneal do)")
        self.preset = resolve_preset(config)
        self.lam = resolve_lam(config.lam, self.dataset_name, self.method)
        seed_everything(config.seed)
        self._load_data(config)
        self.max_train_sentences_option = config.max_train_sentences  # None: the preset's own cap
        # As resolved: what train_config.json records and --resume continues.
        self.config = dataclasses.replace(config, lam=self.lam, max_train_sentences=self.preset.max_train_sentences)
        self.precision = self.config.precision
        self.say(f"preset {self.preset.name} on {self.device} in {self.precision} "
                 f"({'chosen' if preset_chosen else 'default for this device'})"
                 f"; method {self.method.name}{f', lam {self.lam:g}' if self.lam is not None else ''}; run dir {self.run_dir}")
        self._build_model()
        if self.resuming:
            self._check_model_size()
            self._check_preset_settings()
        self.saved_at: dict | None = None  # stage and epoch of the last checkpoint written or loaded
        # The loop's state, set by fit() (fresh, or from the checkpoint on --resume); the checkpoint holds them all.
        self.state = TrainingState()
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.batch_rng: np.random.Generator | None = None  # the order of the training batches
        # What the current stage trains with, built once when it starts (_enter_stage).
        self.stage: Stage | None = None
        self.objective: Objective | None = None
        self.kl_schedule: KLSchedule | None = None

    def _default_run_dir(self, config: TrainConfig) -> Path:
        method = get_method(config.method or DEFAULT_METHOD)
        return default_run_dir(self.dataset_name, method, resolve_lam(config.lam, self.dataset_name, method))

    # ---- set-up ---------------------------------------------------------------------------------------
    def _load_data(self, config: TrainConfig) -> None:
        preset = self.preset
        files = {"valid": config.valid, "test": config.test}
        train = load_corpus(config.dataset, "train", config.data_dir, files).head(preset.max_train_sentences)
        valid = load_corpus(config.dataset, "valid", config.data_dir, files).head(preset.max_eval_sentences)
        test = load_corpus(config.dataset, "test", config.data_dir, files).head(preset.max_eval_sentences)
        self.tokenizer = build_tokenizer(train.sentences, preset.min_word_count)
        self.splits = {
            split.split: EqualLengthBatcher(encode(self.tokenizer, split.sentences), preset.batch_size)
            for split in (train, valid, test)
        }
        self.data_files = {split.split: str(split.path) for split in (train, valid, test)}
        self.sentences_sha256 = {split.split: lines_sha256(split.sentences) for split in (train, valid)}
        self.say(f"{self.dataset_name}: {len(train)} train / {len(valid)} valid / {len(test)} test sentences, "
                 f"vocabulary {len(self.tokenizer)}")

    def _build_model(self) -> None:
        size = model_size_for(self.dataset_name, self.preset)
        self.model_config = TextVAEConfig(
            vocab_size=len(self.tokenizer),
            embed_dim=size.embed_dim,
            encoder_hidden_size=size.encoder_hidden_size,
            decoder_hidden_size=size.decoder_hidden_size,
            latent_dim=size.latent_dim,
            use_latent=self.method.has_latent,
            method=self.method.name,
            training=self.training_record(),
        )
        self.model = TextVAEModel(self.model_config).to(self.device)

    def model_size(self) -> dict:
        return {name: getattr(self.model_config, name) for name in (
            "vocab_size", "embed_dim", "encoder_hidden_size", "decoder_hidden_size", "latent_dim", "use_latent")}

    def _check_model_size(self) -> None:
        """A resumed run must build the model it stored: another corpus gives another vocabulary."""
        stored_path = self.run_dir / TRAIN_CONFIG
        stored = json.loads(stored_path.read_text(encoding="utf-8")).get("model_size")
        if stored is not None and stored != self.model_size():
            def shown(size):
                return ", ".join(f"{name} {value}" for name, value in size.items())
            raise ProbeError(f"the model built now ({shown(self.model_size())}) differs from the run's "
                             f"({shown(stored)}) in {stored_path}: the corpus files changed; choose another --run-dir")

    def _check_preset_settings(self) -> None:
        """A resumed run continues under the settings it started with: a preset redefined since (another version
        of probe) would change its recipe midway. What options set may differ (OPTION_FIELDS)."""
        stored_path = self.run_dir / TRAIN_CONFIG
        stored = json.loads(stored_path.read_text(encoding="utf-8")).get("preset_settings")
        if stored is None:  # written before the settings were recorded
            return
        changed = preset_changes(stored, self.preset, self.method)
        if changed:
            shown = ", ".join(changed)
            raise ProbeError(f"preset {self.preset.name} has changed since this run started ({shown}; "
                             f"{stored_path}): finish it with the probe version that started it, or choose another "
                             f"--run-dir")

    def training_record(self) -> dict:
        """What the export and the leaderboard record about how the model was trained."""
        return {
            "dataset": self.dataset_name,
            "data_files": self.data_files,
            "method": self.method.name,
            "lam": self.lam,
            "free_bits_per": self.config.free_bits_per,
            "precision": self.config.precision,
            "seed": self.config.seed,
            # The options that shortened the preset (None: its own budget); the preset below has them applied.
            "epochs": self.config.epochs,
            "max_train_sentences": self.max_train_sentences_option,
            "preset": dataclasses.asdict(self.preset),
        }

    def optimizer_settings(self, stage: Stage) -> tuple[str, float]:
        """(optimiser, initial lr) of a stage."""
        if stage.lr_schedule == "cosine-cycles":
            return "adam", self.preset.cyclic_lr
        if stage.objective is Autoencoder:
            return self.preset.pretrain_optimizer, self.preset.pretrain_lr
        return "sgd", self.preset.lr

    def initial_lr(self, stage: Stage) -> float:
        return self.optimizer_settings(stage)[1]

    def _optimizers(self, stage: Stage, lr: float) -> dict[str, torch.optim.Optimizer]:
        # Separate encoder and decoder optimisers: aggressive training steps them apart (He et al. 2019).
        parts = {"decoder": self.model.decoder}
        if self.model.encoder is not None:
            parts["encoder"] = self.model.encoder
        if self.optimizer_settings(stage)[0] == "adam":
            return {name: torch.optim.Adam(part.parameters(), lr=lr, foreach=True) for name, part in parts.items()}
        # foreach: one fused update over all tensors instead of a Python loop (also on the CPU).
        return {name: torch.optim.SGD(part.parameters(), lr=lr, momentum=0.0, foreach=True)
                for name, part in parts.items()}

    def objective_for(self, stage: Stage) -> Objective:
        """The stage's objective with this run's lam, free-bits granularity and IWAE k."""
        return stage.objective.for_run(self.lam, self.config.free_bits_per, self.preset.iwae_train_samples)

    def kl_schedule_for(self, stage: Stage) -> KLSchedule:
        """The stage's KL weight per update (Stage checked the kind when it was defined)."""
        train = self.splits["train"]
        if stage.kl_schedule is LinearAnneal:
            # The authors' rate counts sentences / batch size updates per epoch (text_anneal_fb.py:273).
            return LinearAnneal(stage.kl_start, self.preset.anneal_epochs, train.n_sentences / self.preset.batch_size)
        if stage.kl_schedule is CyclicWeight:
            # Liu et al.'s rate counts batches per epoch (train_text_cyc_ptb.py:178).
            return CyclicWeight(len(train), self.preset.cycle_epochs, self.preset.cycle_rise_epochs,
                                self.preset.cycle_start)
        return ConstantWeight()

    def _enter_stage(self) -> None:
        """Build what the current stage trains with, once: its objective, KL schedule and optimisers at state.lr."""
        self.stage = self.method.stages[self.state.stage]
        self.objective = self.objective_for(self.stage)
        self.kl_schedule = self.kl_schedule_for(self.stage)
        self.optimizers = self._optimizers(self.stage, self.state.lr)

    def stage_epochs(self, stage: Stage) -> int:
        """The most epochs a stage runs: with the preset's pretrain_epochs, the stages of a method share one budget."""
        budget = self.preset.cyclic_max_epochs if stage.lr_schedule == "cosine-cycles" else self.preset.max_epochs
        split = self.preset.pretrain_epochs
        if split is None or len(self.method.stages) == 1:
            return budget
        return split if stage is self.method.stages[0] else budget - split

    def updates_left(self) -> float:
        """With the preset's budget_in_updates, the current stage's epochs in updates of one batch each, less those
        done; without it, no limit."""
        if not self.preset.budget_in_updates:
            return math.inf
        return self.stage_epochs(self.stage) * len(self.splits["train"]) - self.state.updates

    # ---- checkpoints ----------------------------------------------------------------------------------
    def _checkpoint(self) -> dict:
        # Tensors and plain values only (the RNG states included), so it loads with weights_only=True.
        return {
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "state": dataclasses.asdict(self.state),
            "batch_rng": self.batch_rng.bit_generator.state,  # plain ints and strings
            "rng": rng_state(),
        }

    def _save_checkpoint(self) -> None:
        atomic.torch_save(self.run_dir / CHECKPOINT, self._checkpoint())
        atomic.write_jsonl(self.run_dir / "log.jsonl", self.state.log)
        self.saved_at = self.state.log[-1] if self.state.log else None

    # ---- the autoencoder stage shared by the runs that start with one (vae/autoencoder_stage.py) ---------
    def autoencoder_stage_epochs(self) -> int:
        """Where a two-stage method's autoencoder stage ends at the latest (stage_epochs of its first stage)."""
        return self.preset.pretrain_epochs or self.preset.max_epochs

    def autoencoder_stage_key(self) -> AutoencoderStageKey:
        return AutoencoderStageKey(
            dataset=self.dataset_name, train_sha256=self.sentences_sha256["train"],
            valid_sha256=self.sentences_sha256["valid"], model_size=self.model_size(),
            preset_settings=json.loads(json.dumps(dataclasses.asdict(self.preset))),  # as its JSON record reads
            seed=self.config.seed, precision=self.precision, device=device_description(self.device))

    def _start_from_autoencoder_stage(self, donor: Path) -> None:
        copy_snapshot(donor, self.autoencoder_stage_key(), self.run_dir / CHECKPOINT, self._best_path(0))
        self._restore_checkpoint()
        self.say(f"stage 1 taken from {donor} after its epoch {self.state.epoch}: the same settings and seed train "
                 f"the same autoencoder to the bit")

    def _save_autoencoder_stage(self) -> None:
        save_snapshot(self.run_dir, self._checkpoint(), self._best_path(0), self.autoencoder_stage_key())

    def _load_checkpoint(self) -> None:
        self._restore_checkpoint()
        self.say(f"{self.run_dir} has finished training: its final weights are evaluated again" if self.state.finished
                 else f"resumed {self.run_dir} at stage {self.state.stage + 1}, epoch {self.state.epoch + 1}")

    def _restore_checkpoint(self) -> None:
        checkpoint = load_weights(self.run_dir / CHECKPOINT)
        self.model.load_state_dict(checkpoint["model"])
        self.state = TrainingState(**checkpoint["state"])
        self._enter_stage()
        for name, opt in self.optimizers.items():
            opt.load_state_dict(checkpoint["optimizers"][name])
        self.batch_rng = np.random.default_rng()
        self.batch_rng.bit_generator.state = checkpoint["batch_rng"]
        set_rng_state(checkpoint["rng"])
        self.saved_at = self.state.log[-1] if self.state.log else None

    def _best_path(self, stage: int) -> Path:
        return self.run_dir / BEST_WEIGHTS.format(stage=stage)

    def _reload_best(self, stage: int) -> None:
        self.model.load_state_dict(load_weights(self._best_path(stage)))

    # ---- training -------------------------------------------------------------------------------------
    def _loss(self, batch, kl_weight: float) -> BatchLoss:
        with autocast(self.device, self.precision):
            return self.objective.loss(self.model, batch.to(self.device), kl_weight)

    def _update(self, loss: torch.Tensor, names, where: str) -> None:
        if not torch.isfinite(loss):
            raise TrainingDiverged(f"loss became {float(loss.detach())} at {where}; the last good checkpoint is kept in "
                                   f"{self.run_dir / CHECKPOINT} (try a smaller learning rate or another seed)")
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.preset.clip_grad_norm, foreach=True)
        for name in names:
            self.optimizers[name].step()
        self.state.updates += 1

    def epoch_bar_total(self) -> int:
        """What the epoch's progress bar counts to. Without an update budget, the epoch's batches. With one, updates:
        those of the epoch's batches (up to 1 + the inner steps each while aggressive), or those left in the budget
        if fewer, so that its ETA holds for an aggressive epoch that the budget ends part-way."""
        batches = len(self.splits["train"])
        if not self.preset.budget_in_updates:
            return batches
        per_batch = 1 + (self.preset.aggressive_max_inner_steps if self.state.aggressive else 0)
        return int(min(batches * per_batch, self.updates_left()))

    def kl_weight_for_next_batch(self) -> float:
        """The KL weight of the next batch's updates. He et al. set it once per batch, before the encoder's inner
        loop (vae-lagging-encoder text.py:364). Their schedules count batches; with an update budget they count
        updates, so that annealing spends the same share of every row's budget (the two agree without an inner loop)."""
        done = self.state.updates if self.preset.budget_in_updates else self.state.step
        return self.kl_schedule(done + 1)

    def _aggressive_encoder_steps(self, batch, weight: float, where: str) -> None:
        """He et al. 2019: update only the encoder, first on this batch then on random ones, until the loss per
        word stops improving (checked every 15 steps) or after the preset's maximum (vae-lagging-encoder
        text.py:366-400)."""
        train = self.splits["train"]
        previous, current, words = math.inf, 0.0, 0
        for inner in range(1, self.preset.aggressive_max_inner_steps + 1):
            if self.updates_left() <= 1:  # keep the last update of the budget for the decoder
                break
            result = self._loss(batch, weight)
            self._update(result.loss, ["encoder"], where)
            current += float(result.loss.detach()) * batch.input_ids.size(0)
            words += batch.n_predicted_tokens
            batch = train.batch(int(self.batch_rng.integers(len(train))))
            if inner % 15 == 0:  # the authors' check interval
                if current / words > previous:
                    break
                previous, current, words = current / words, 0.0, 0

    def run_epoch(self) -> dict:
        state, train = self.state, self.splits["train"]
        self.model.train()
        totals = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "sentences": 0}
        counts_updates = self.preset.budget_in_updates
        with progress_bar(total=self.epoch_bar_total(), enabled=self.config.progress, leave=False,
                          unit="update" if counts_updates else "it",
                          desc=f"stage {state.stage + 1}/{len(self.method.stages)} epoch {state.epoch + 1}") as bar:
            all_parts = list(self.optimizers)
            started = time.perf_counter()
            for batch in train.epoch(self.batch_rng):
                if self.updates_left() <= 0:
                    break
                updates_before = state.updates
                where = f"stage {state.stage + 1}, epoch {state.epoch + 1}, step {state.step + 1}"
                weight = self.kl_weight_for_next_batch()
                if state.aggressive:
                    self._aggressive_encoder_steps(batch, weight, where)
                result = self._loss(batch, weight)
                self._update(result.loss, ["decoder"] if state.aggressive else all_parts, where)
                state.step += 1
                n = batch.input_ids.size(0)
                totals["sentences"] += n
                totals["loss"] += float(result.loss.detach()) * n
                totals["recon"] += float(result.recon.detach().sum())
                totals["kl"] += float(result.kl.detach().sum()) if result.kl is not None else 0.0
                bar.set_postfix(loss=f"{totals['loss'] / totals['sentences']:.2f}", kl_weight=f"{weight:.2f}")
                bar.update(state.updates - updates_before if counts_updates else 1)
        seconds = time.perf_counter() - started  # the training loop alone, without validation
        n = totals.pop("sentences")
        return {key: value / n for key, value in totals.items()} | {
            "kl_weight": weight, "seconds": round(seconds, 3), "sentences_per_s": round(n / seconds, 2)}

    def validate(self) -> tuple[dict, dict]:
        """Validation loss (Recon, KL) of the stage's objective and the posterior's AU and MI (VAEs only)."""
        with autocast(self.device, self.precision):
            valid = validation_loss(self.model, self.splits["valid"].epoch(), self.objective, self.device)
            latent = posterior_statistics(self.model, self.splits["valid"], self.device) if self.model.encoder else {}
        return valid, latent

    def run_stage(self) -> None:
        state, stage = self.state, self.stage
        max_epochs = self.stage_epochs(stage)
        # Resumed with fewer --epochs than the stage has run, at the end of its update budget, or (started from an
        # autoencoder stage that its lr decays ended) after its last decay: it is over.
        if state.epoch >= max_epochs or self.updates_left() <= 0 or state.decays >= self.preset.max_decays:
            self._next_stage()
            self._save_checkpoint()
            return
        for epoch in range(state.epoch, max_epochs):
            started = time.time()
            if stage.lr_schedule == "cosine-cycles":
                self._set_lr(cosine_cycle_lr(epoch, self.preset.cyclic_lr, self.preset.cycle_epochs))
            train_stats = self.run_epoch()
            valid, latent = self.validate()
            if valid["loss"] < state.best_loss:
                state.best_loss = valid["loss"]
                atomic.torch_save(self._best_path(state.stage), self.model.state_dict())
            row = {"stage": state.stage + 1, "objective": self.objective.name, "epoch": epoch + 1, "step": state.step,
                   "updates": state.updates, "lr": state.lr, **{f"train_{k}": v for k, v in train_stats.items()},
                   **{f"valid_{k}": v for k, v in valid.items()}, **{f"valid_{k}": v for k, v in latent.items()},
                   "aggressive": state.aggressive, "seconds": round(time.time() - started, 2)}
            state.log.append(row)
            self.say(f"stage {row['stage']} epoch {row['epoch']}: train loss {train_stats['loss']:.3f}, valid loss "
                     f"{valid['loss']:.3f} (recon {valid['recon']:.2f}, kl {valid['kl']:.2f}"
                     + (f", AU {latent['au']}, MI {latent['mi']:.2f}" if latent else "") + f"), lr {state.lr:g}")
            if state.aggressive and latent and latent["mi"] < state.previous_mi:
                state.aggressive = False  # He et al.: leave the aggressive phase when validation MI stops rising
                self.say("validation MI stopped rising: aggressive phase over")
            state.previous_mi = latent.get("mi", 0.0)
            if stage.lr_schedule == "plateau":
                self._plateau_schedule(valid["loss"], epoch)
            state.epoch = epoch + 1
            stop = state.decays >= self.preset.max_decays
            spent = self.updates_left() <= 0 and state.epoch < max_epochs
            if spent:
                self.say(f"update budget spent after {state.updates} updates, {state.step} of them the decoder's: "
                         f"stage over")
            shared_end = self.autoencoder_stage_epochs()
            if state.stage == 0 and self.method.starts_with_autoencoder and (
                    state.epoch == shared_end or stop and state.epoch < shared_end):
                self._save_autoencoder_stage()  # where a two-stage method's autoencoder stage ends
            if stop or spent or state.epoch >= max_epochs:
                self._next_stage()
            self._save_checkpoint()
            if stop or spent:
                return

    def _set_lr(self, lr: float) -> None:
        self.state.lr = lr
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr

    def _plateau_schedule(self, loss: float, epoch: int) -> None:
        """The authors' decay rule (text_anneal_fb.py:384-398, text_beta.py:356-370): an epoch worse than the last
        not-worse one counts; after `decay_patience` such epochs, but not before the 0-based epoch
        `decay_floor_epochs`, halve the lr, reload the best weights and compare with this epoch's loss from now on."""
        state = self.state
        if loss <= state.last_good_loss:
            state.last_good_loss, state.epochs_worse = loss, 0
            return
        state.epochs_worse += 1
        if state.epochs_worse < self.preset.decay_patience or epoch < self.preset.decay_floor_epochs:
            return
        state.last_good_loss, state.epochs_worse = loss, 0
        state.lr *= self.preset.lr_decay
        state.decays += 1
        self._reload_best(state.stage)
        self.optimizers = self._optimizers(self.stage, state.lr)  # fresh: the authors rebuild their SGD
        self.say(f"validation loss worse for {self.preset.decay_patience} epochs: lr -> {state.lr:g} "
                 f"(decay {state.decays}/{self.preset.max_decays}), best weights reloaded")

    def _next_stage(self) -> None:
        """Finish a stage: keep its best weights; set up the next stage (new decoder where it asks)."""
        state = self.state
        self._reload_best(state.stage)
        if state.stage + 1 == len(self.method.stages):
            state.finished = True
            return
        next_stage = self.method.stages[state.stage + 1]
        if next_stage.reset_decoder:
            self.model.reset_decoder()
        state.stage += 1
        state.epoch = state.step = state.updates = state.decays = state.epochs_worse = 0
        state.lr, state.best_loss, state.last_good_loss = self.initial_lr(next_stage), math.inf, math.inf
        state.aggressive, state.previous_mi = next_stage.aggressive, 0.0
        self._enter_stage()
        self.say(f"stage {state.stage + 1}: {self.objective.name}"
                 + (" with a re-initialised decoder" if next_stage.reset_decoder else ""))

    def fit(self) -> TrainingState:
        if self.resuming:
            self._load_checkpoint()
        else:
            first = self.method.stages[0]
            self.state = TrainingState(lr=self.initial_lr(first), aggressive=first.aggressive)
            self._enter_stage()
            self.batch_rng = np.random.default_rng(self.config.seed)
            atomic.write_json(self.run_dir / TRAIN_CONFIG, dataclasses.asdict(self.config) | {
                "model_size": self.model_size(), "preset_settings": dataclasses.asdict(self.preset)})
            if self.config.autoencoder_stage_from:  # after the config: a copied checkpoint resumes like any other
                self._start_from_autoencoder_stage(Path(self.config.autoencoder_stage_from))
        try:
            while not self.state.finished:
                self.run_stage()
        except KeyboardInterrupt:
            self.say(self.interrupted_message())
            raise
        return self.state

    def interrupted_message(self) -> str:
        command = f"probe train-vae {shlex.quote(self.config.dataset)} --run-dir {shlex.quote(str(self.run_dir))}"
        if self.saved_at is None:
            return f"interrupted before the first checkpoint: nothing to resume; start again with: {command}"
        where = f"epoch {self.saved_at['epoch']}"
        if len(self.method.stages) > 1:
            where = f"stage {self.saved_at['stage']} {where}"
        return (f"interrupted: the last checkpoint (end of {where}) is in {self.run_dir / CHECKPOINT}; "
                f"continue with: {command} --resume")

    def evaluate(self) -> dict:
        """Test-set LM metrics of the final weights, written to metrics.json."""
        bar = lambda it, total: progress_bar(it, total=total, desc="test metrics", enabled=self.config.progress, leave=False)
        metrics = evaluate_lm(self.model, self.splits["test"], self.device, self.preset.iw_samples,
                              max_decoder_tokens=decoder_token_budget(self.device), seed=self.config.seed,
                              progress=bar, precision=self.precision)
        result = {"split": "test", "dataset": self.dataset_name, "method": self.method.name, "lam": self.lam,
                  **metrics.to_dict()}
        atomic.write_json(self.run_dir / "metrics.json", result)
        return result


def train_vae(config: TrainConfig, log=print) -> dict:
    """Train, evaluate on the test split, export; returns the test metrics."""
    trainer = Trainer(config, log)
    trainer.fit()
    metrics = trainer.evaluate()
    export_run(trainer.model, trainer.tokenizer, trainer.run_dir, metrics)
    log(format_metrics(metrics))
    return metrics
