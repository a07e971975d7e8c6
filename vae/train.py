"""The training loop: one loop for every method, read top to bottom.

A method is a sequence of stages (vae/methods.py). Each stage trains with SGD under the paper's schedule:
halve the learning rate (reloading the best weights) when the validation loss has not improved for
`decay_patience` epochs, stop after `max_decays` decays or `max_epochs`, keep the best-validation weights.
A checkpoint is written after every epoch; `resume=True` continues from it with optimiser, schedule and RNG.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import atomic
from .configuration_textvae import TextVAEConfig
from .data import LengthBucketBatcher, build_tokenizer, load_corpus
from .data.tokenizer import encode
from .device import autocast, configure_backends, decoder_token_budget, resolve_device, rng_state, seed_everything, set_rng_state
from .errors import ProbeError, TrainingDiverged
from .export import export_run
from .losses import batch_loss, validation_loss
from .methods import Method, Stage, get_method
from .metrics import evaluate_lm, posterior_statistics
from .modeling_textvae import TextVAEModel
from .objectives import cyclic_weight, linear_anneal_weight
from .presets import PAPER_LAM, Preset, get_preset, model_size_for

CHECKPOINT = "checkpoints/last.pt"
BEST_WEIGHTS = "checkpoints/best-stage{stage}.pt"


@dataclass
class TrainConfig:
    dataset: str
    method: str = "pretrain-fb"
    lam: float | None = None  # total target rate in nats; per-dimension threshold is lam / nz
    preset: str | None = None  # None: "paper" on a GPU, "cpu" otherwise
    data_dir: str | None = None
    run_dir: str | None = None
    device: str = "auto"
    seed: int = 783435  # the authors' default seed
    epochs: int | None = None  # overrides the preset's max_epochs (per stage)
    max_train_sentences: int | None = None
    iw_samples: int | None = None
    free_bits_per: str = "example"  # "example" (authors' code, reproduces the paper) or "batch"
    resume: bool = False
    progress: bool = True


@dataclass
class TrainingState:
    """Everything a resumed run needs besides the weights and optimiser."""

    stage: int = 0
    epoch: int = 0  # next epoch to run within the stage
    step: int = 0  # updates done within the stage
    lr: float = 0.5
    decays: int = 0
    best_loss: float = math.inf
    epochs_without_improvement: int = 0
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
        if lam <= 0:
            raise ProbeError(f"--lam must be positive, got {lam}")
        return float(lam)
    if dataset_name in PAPER_LAM:
        return PAPER_LAM[dataset_name]
    raise ProbeError(f"method {method.name!r} needs --lam (the total target rate in nats) for {dataset_name}")


def resolve_preset(config: TrainConfig, device: torch.device) -> Preset:
    name = config.preset or ("paper" if device.type == "cuda" else "cpu")
    return get_preset(name).with_overrides(
        max_epochs=config.epochs, max_train_sentences=config.max_train_sentences, iw_samples=config.iw_samples
    )


class Trainer:
    def __init__(self, config: TrainConfig, log=print):
        self.config, self.say = config, log
        self.device = resolve_device(config.device)
        configure_backends(self.device)
        self.method = get_method(config.method)
        self.preset = resolve_preset(config, self.device)
        seed_everything(config.seed)
        self._load_data()
        self.lam = resolve_lam(config.lam, self.dataset_name, self.method)
        self.run_dir = Path(config.run_dir) if config.run_dir else default_run_dir(self.dataset_name, self.method, self.lam)
        self.say(f"preset {self.preset.name} on {self.device} ({'chosen' if config.preset else 'default for this device'})"
                 f"; method {self.method.name}{f', lam {self.lam:g}' if self.lam is not None else ''}; run dir {self.run_dir}")
        if (self.run_dir / CHECKPOINT).exists() and not config.resume:
            raise ProbeError(f"{self.run_dir} already holds a run: pass --resume to continue it or choose --run-dir")
        self._build_model()

    # ---- set-up ---------------------------------------------------------------------------------------
    def _load_data(self) -> None:
        preset, config = self.preset, self.config
        train = load_corpus(config.dataset, "train", config.data_dir).head(preset.max_train_sentences)
        valid = load_corpus(config.dataset, "valid", config.data_dir).head(preset.max_eval_sentences)
        test = load_corpus(config.dataset, "test", config.data_dir).head(preset.max_eval_sentences)
        self.dataset_name = train.name
        self.tokenizer = build_tokenizer(train.sentences)
        self.splits = {
            split.split: LengthBucketBatcher(encode(self.tokenizer, split.sentences), preset.batch_size)
            for split in (train, valid, test)
        }
        self.data_files = {split.split: str(split.path) for split in (train, valid, test)}
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

    def training_record(self) -> dict:
        """What the export and the leaderboard record about how the model was trained."""
        return {
            "dataset": self.dataset_name,
            "data_files": self.data_files,
            "method": self.method.name,
            "lam": self.lam,
            "free_bits_per": self.config.free_bits_per,
            "seed": self.config.seed,
            "preset": dataclasses.asdict(self.preset),
        }

    def _optimizers(self, stage: Stage, lr: float) -> dict[str, torch.optim.Optimizer]:
        # Separate encoder and decoder optimisers: aggressive training steps them apart (He et al. 2019).
        parts = {"decoder": self.model.decoder}
        if self.model.encoder is not None:
            parts["encoder"] = self.model.encoder
        if stage.objective == "ae" and self.preset.pretrain_optimizer == "adam":
            return {name: torch.optim.Adam(part.parameters(), lr=lr) for name, part in parts.items()}
        return {name: torch.optim.SGD(part.parameters(), lr=lr, momentum=0.0) for name, part in parts.items()}

    def initial_lr(self, stage: Stage) -> float:
        return self.preset.pretrain_lr if stage.objective == "ae" else self.preset.lr

    # ---- checkpoints ----------------------------------------------------------------------------------
    def _save_checkpoint(self, state: TrainingState, optimizers, batch_rng: np.random.Generator) -> None:
        atomic.torch_save(self.run_dir / CHECKPOINT, {
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()},
            "state": dataclasses.asdict(state),
            "batch_rng": batch_rng.bit_generator.state,
            "rng": rng_state(),
        })
        atomic.write_jsonl(self.run_dir / "log.jsonl", state.log)

    def _load_checkpoint(self):
        checkpoint = torch.load(self.run_dir / CHECKPOINT, map_location=self.device, weights_only=False)
        self.model.load_state_dict(checkpoint["model"])
        state = TrainingState(**checkpoint["state"])
        optimizers = self._optimizers(self.method.stages[state.stage], state.lr)
        for name, opt in optimizers.items():
            opt.load_state_dict(checkpoint["optimizers"][name])
        batch_rng = np.random.default_rng()
        batch_rng.bit_generator.state = checkpoint["batch_rng"]
        set_rng_state(checkpoint["rng"])
        self.say(f"resumed {self.run_dir} at stage {state.stage + 1}, epoch {state.epoch + 1}")
        return state, optimizers, batch_rng

    def _best_path(self, stage: int) -> Path:
        return self.run_dir / BEST_WEIGHTS.format(stage=stage)

    # ---- training -------------------------------------------------------------------------------------
    def kl_weight(self, stage: Stage, step: int) -> float:
        steps_per_epoch = len(self.splits["train"])
        if stage.kl_schedule == "anneal":
            return linear_anneal_weight(step, steps_per_epoch, self.preset.anneal_epochs)
        if stage.kl_schedule == "cyclic":
            return cyclic_weight(step, steps_per_epoch, self.preset.cycle_epochs, self.preset.cycle_rise_epochs,
                                 self.preset.cycle_start)
        return 1.0

    def _loss(self, batch, stage: Stage, kl_weight: float):
        with autocast(self.device):
            return batch_loss(self.model, batch.to(self.device), stage.objective, kl_weight, self.lam,
                              self.config.free_bits_per == "batch", self.preset.iwae_train_samples)

    def _update(self, loss: torch.Tensor, optimizers, names, where: str) -> None:
        if not torch.isfinite(loss):
            raise TrainingDiverged(f"loss became {float(loss.detach())} at {where}; the last good checkpoint is kept in "
                                   f"{self.run_dir / CHECKPOINT} (try a smaller learning rate or another seed)")
        for opt in optimizers.values():
            opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.preset.clip_grad_norm)
        for name in names:
            optimizers[name].step()

    def _aggressive_encoder_steps(self, stage, state, optimizers, batch_rng, where) -> None:
        """He et al. 2019: update only the encoder on fresh batches until the loss stops improving."""
        train = self.splits["train"]
        previous, current, words = math.inf, 0.0, 0
        for inner in range(1, self.preset.aggressive_max_inner_steps + 1):
            batch = train.batch(int(batch_rng.integers(len(train))))
            result = self._loss(batch, stage, self.kl_weight(stage, state.step + 1))
            self._update(result.loss, optimizers, ["encoder"], where)
            current += float(result.loss.detach()) * batch.input_ids.size(0)
            words += batch.n_predicted_tokens
            if inner % 15 == 0:  # the authors' check interval
                if current / words > previous:
                    break
                previous, current, words = current / words, 0.0, 0

    def run_epoch(self, stage: Stage, state: TrainingState, optimizers, batch_rng) -> dict:
        self.model.train()
        train = self.splits["train"]
        totals = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "sentences": 0}
        bar = tqdm(train.epoch(batch_rng), total=len(train), disable=not self.config.progress, leave=False,
                   desc=f"stage {state.stage + 1}/{len(self.method.stages)} epoch {state.epoch + 1}")
        all_parts = list(optimizers)
        for batch in bar:
            where = f"stage {state.stage + 1}, epoch {state.epoch + 1}, step {state.step + 1}"
            if state.aggressive:
                self._aggressive_encoder_steps(stage, state, optimizers, batch_rng, where)
            weight = self.kl_weight(stage, state.step + 1)
            result = self._loss(batch, stage, weight)
            self._update(result.loss, optimizers, ["decoder"] if state.aggressive else all_parts, where)
            state.step += 1
            n = batch.input_ids.size(0)
            totals["sentences"] += n
            totals["loss"] += float(result.loss.detach()) * n
            totals["recon"] += float(result.recon.detach().sum())
            totals["kl"] += float(result.kl.detach().sum()) if result.kl is not None else 0.0
            bar.set_postfix(loss=f"{totals['loss'] / totals['sentences']:.2f}", kl_weight=f"{weight:.2f}")
        n = totals.pop("sentences")
        return {key: value / n for key, value in totals.items()} | {"kl_weight": weight}

    def run_stage(self, state: TrainingState, optimizers, batch_rng) -> None:
        stage = self.method.stages[state.stage]
        for epoch in range(state.epoch, self.preset.max_epochs):
            started = time.time()
            train_stats = self.run_epoch(stage, state, optimizers, batch_rng)
            valid = validation_loss(self.model, self.splits["valid"].epoch(), stage, self.device)
            latent = posterior_statistics(self.model, self.splits["valid"], self.device) if self.model.encoder else {}
            improved = valid["loss"] < state.best_loss
            if improved:
                state.best_loss, state.epochs_without_improvement = valid["loss"], 0
                atomic.torch_save(self._best_path(state.stage), self.model.state_dict())
            else:
                state.epochs_without_improvement += 1
            row = {"stage": state.stage + 1, "objective": stage.objective, "epoch": epoch + 1, "step": state.step,
                   "lr": state.lr, **{f"train_{k}": v for k, v in train_stats.items()},
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
            if state.epochs_without_improvement >= self.preset.decay_patience:
                state.lr *= self.preset.lr_decay
                state.decays += 1
                state.epochs_without_improvement = 0
                self.model.load_state_dict(torch.load(self._best_path(state.stage), map_location=self.device))
                optimizers.clear()
                optimizers.update(self._optimizers(stage, state.lr))
                self.say(f"validation loss has not improved for {self.preset.decay_patience} epochs: "
                         f"lr -> {state.lr:g} (decay {state.decays}/{self.preset.max_decays}), best weights reloaded")
            state.epoch = epoch + 1
            stop = state.decays >= self.preset.max_decays
            if stop or state.epoch >= self.preset.max_epochs:
                self._next_stage(state, optimizers)
            self._save_checkpoint(state, optimizers, batch_rng)
            if stop:
                break

    def _next_stage(self, state: TrainingState, optimizers) -> None:
        """Finish a stage: keep its best weights; set up the next stage (new decoder where it asks)."""
        self.model.load_state_dict(torch.load(self._best_path(state.stage), map_location=self.device))
        if state.stage + 1 == len(self.method.stages):
            state.finished = True
            return
        next_stage = self.method.stages[state.stage + 1]
        if next_stage.reset_decoder:
            self.model.reset_decoder()
        state.stage += 1
        state.epoch = state.step = state.decays = state.epochs_without_improvement = 0
        state.lr, state.best_loss = self.initial_lr(next_stage), math.inf
        state.aggressive, state.previous_mi = next_stage.aggressive, 0.0
        optimizers.clear()
        optimizers.update(self._optimizers(next_stage, state.lr))
        self.say(f"stage {state.stage + 1}: {next_stage.objective}"
                 + (" with a re-initialised decoder" if next_stage.reset_decoder else ""))

    def fit(self) -> TrainingState:
        if self.config.resume and (self.run_dir / CHECKPOINT).exists():
            state, optimizers, batch_rng = self._load_checkpoint()
        else:
            first = self.method.stages[0]
            state = TrainingState(lr=self.initial_lr(first), aggressive=first.aggressive)
            optimizers = self._optimizers(first, state.lr)
            batch_rng = np.random.default_rng(self.config.seed)
            atomic.write_json(self.run_dir / "train_config.json", dataclasses.asdict(self.config))
        while not state.finished:
            self.run_stage(state, optimizers, batch_rng)
        return state

    def evaluate(self) -> dict:
        """Test-set LM metrics of the final weights, written to metrics.json."""
        bar = (lambda it, total: tqdm(it, total=total, desc="test metrics", leave=False)) if self.config.progress else None
        metrics = evaluate_lm(self.model, self.splits["test"], self.device, self.preset.iw_samples,
                              max_decoder_tokens=decoder_token_budget(self.device), seed=self.config.seed,
                              progress=bar)
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


def format_metrics(metrics: dict) -> str:
    def show(key, fmt="{:.2f}"):
        value = metrics.get(key)
        return "-" if value is None else fmt.format(value)
    return (f"test ({metrics['n_sentences']} sentences, {metrics['iw_samples']} importance samples): "
            f"NLL {show('nll')} PPL {show('ppl')} Recon {show('recon')} KL {show('kl')} -ELBO {show('neg_elbo')} "
            f"ELBO-PPL {show('elbo_ppl')} MI {show('mi')} AU {show('au', '{}')}")
