"""ELBO terms, free bits and KL-weight schedules.

The functions return per-example tensors or plain floats. Below them, the typed objectives (ELBO, FreeBits(lam,
per), FreeBitsTotal(lam), IWAE(k), Autoencoder, LanguageModel) give the loss of a batch, and the KL-weight
schedules (ConstantWeight, LinearAnneal, CyclicWeight) give the weight of an update: both are frozen values
built once, with a run's settings, by the Trainer (vae/train.py).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import torch

if TYPE_CHECKING:
    from .data.batching import Batch
    from .modeling_textvae import TextVAEModel


def gaussian_kl_per_dim(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) per example and dimension, in nats: [B, nz]."""
    return 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1.0)


def free_bits_kl(kl_per_dim: torch.Tensor, lam: float, batch_mean: bool = False) -> torch.Tensor:
    """Paper Eq. 1: sum_i max(lam / nz, KL_i), with `lam` the total target rate in nats. Returns [B].

    A dimension under its threshold gets no gradient. `batch_mean=False` thresholds each example's KL_i,
    as the authors' code does (and so reproduces the paper); `batch_mean=True` thresholds the batch mean of
    KL_i (Kingma et al. 2016's free bits over a minibatch) and gives every example the same value.
    """
    threshold_per_dim = lam / kl_per_dim.size(-1)
    if batch_mean:
        per_dim = torch.clamp(kl_per_dim.mean(dim=0), min=threshold_per_dim)
        return per_dim.sum().expand(kl_per_dim.size(0))
    return torch.clamp(kl_per_dim, min=threshold_per_dim).sum(dim=-1)


def free_bits_total_kl(kl: torch.Tensor, lam: float) -> torch.Tensor:
    """FBP (Pelsmaeker and Aziz 2019): max(lam, KL) on the whole KL of each example. Returns [B]."""
    return torch.clamp(kl, min=lam)


def log_normal(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (((z - mean) ** 2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(dim=-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(dim=-1)


def importance_log_weights(
    recon_nll: torch.Tensor, z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor
) -> torch.Tensor:
    """log p(x|z) + log p(z) - log q(z|x) for z: [B, S, nz], recon_nll: [B, S]. Returns [B, S]."""
    return -recon_nll + log_standard_normal(z) - log_normal(z, mean.unsqueeze(1), logvar.unsqueeze(1))


def iwae_log_likelihood(log_weights: torch.Tensor) -> torch.Tensor:
    """Burda et al. 2016: log p(x) >= log (1/k) sum_k w_k, per example: [B]."""
    return torch.logsumexp(log_weights, dim=-1) - math.log(log_weights.size(-1))


def linear_anneal_weight(step: int, steps_per_epoch: float, anneal_epochs: int, start: float = 0.0) -> float:
    """Section 2.4: KL weight rises linearly from `start` to 1 over the first `anneal_epochs` epochs.

    `step` counts updates from 1: the weight grows by a constant step before every update, so the first update
    already has a weight above `start` (text_anneal_fb.py:273,306; vae-lagging-encoder text.py:338,364).
    """
    if anneal_epochs <= 0:
        return 1.0
    return min(1.0, start + (1.0 - start) * step / (anneal_epochs * steps_per_epoch))


def cyclic_weight(step: int, steps_per_epoch: int, cycle_epochs: int = 10, rise_epochs: int = 5, start: float = 0.1) -> float:
    """Liu et al. 2019's text code: each cycle of `cycle_epochs` restarts the weight at `start`, and every update
    (from the first of the cycle on) first adds 1/(rise_epochs * steps_per_epoch), capped at 1
    (cyclical_annealing language_model/train_text_cyc_ptb.py:172-178). `step` counts updates from 1."""
    step_in_cycle = (step - 1) % (cycle_epochs * steps_per_epoch) + 1
    return min(1.0, start + step_in_cycle / (rise_epochs * steps_per_epoch))


def cosine_cycle_lr(epoch: int, base_lr: float, cycle_epochs: int) -> float:
    """Liu et al.'s lr for the 0-based `epoch`: a half cosine from base_lr towards 0 within each cycle, restarting
    with the KL weight (train_text_cyc_ptb.py:167-170)."""
    position = (epoch % cycle_epochs) / cycle_epochs
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * position))


# ---- typed objectives -----------------------------------------------------------------------------------------


@dataclass
class BatchLoss:
    loss: torch.Tensor  # scalar to minimise: mean over sentences
    recon: torch.Tensor  # [B] -log p(x|z), one sample (mean over samples for IWAE)
    kl: torch.Tensor | None  # [B] KL(q(z|x) || p(z)), None for the LM


FREE_BITS_PER = ("example", "batch")


@dataclass(frozen=True)
class Objective(ABC):
    """What a stage minimises. A method's stage names the class (its kind); `for_run` builds the value once
    with the run's settings, since the method table cannot know lam or k."""

    name: ClassVar[str]  # as log.jsonl records it
    uses_lam: ClassVar[bool] = False
    has_latent: ClassVar[bool] = True
    # What model selection and lr decay watch on the validation set: Recon for the AE and the LM, the
    # objective's own bound for the IWAE (text_beta.py:129-132), -ELBO otherwise.
    selected_on: ClassVar[Literal["recon", "bound", "elbo"]] = "elbo"

    @classmethod
    def for_run(cls, lam: float | None, free_bits_per: str, iwae_samples: int) -> Objective:
        return cls()

    @abstractmethod
    def loss(self, model: TextVAEModel, batch: Batch, kl_weight: float = 1.0) -> BatchLoss:
        """The loss of one batch (already on the model's device)."""

    def validation_scorer(self) -> Objective:
        """The objective whose per-sentence terms the validation set is scored with: the ELBO (it gives Recon
        and KL), or the objective itself where its bound differs (IWAE, LM)."""
        return ELBO()


def _posterior(model: TextVAEModel, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    mean, logvar = model.encoder(batch.input_ids, batch.lengths)
    return mean.float(), logvar.float()


def _one_sample_recon(model: TextVAEModel, batch: Batch, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    z = model.sample_latent(mean, logvar, 1)
    return model.reconstruction_nll(batch.input_ids, batch.lengths, z).squeeze(1)


@dataclass(frozen=True)
class _KLTermObjective(Objective):
    """Recon of one z ~ q(z|x) plus kl_weight times a KL term: the AE, ELBO and free-bits objectives."""

    def loss(self, model: TextVAEModel, batch: Batch, kl_weight: float = 1.0) -> BatchLoss:
        mean, logvar = _posterior(model, batch)
        kl_per_dim = gaussian_kl_per_dim(mean, logvar)
        kl = kl_per_dim.sum(dim=-1)
        recon = _one_sample_recon(model, batch, mean, logvar)
        return BatchLoss((recon + kl_weight * self.kl_term(kl_per_dim, kl)).mean(), recon, kl)

    @abstractmethod
    def kl_term(self, kl_per_dim: torch.Tensor, kl: torch.Tensor) -> torch.Tensor:
        """[B] the KL term the weight multiplies."""


@dataclass(frozen=True)
class Autoencoder(_KLTermObjective):
    name: ClassVar[str] = "ae"
    selected_on: ClassVar[str] = "recon"

    def kl_term(self, kl_per_dim, kl):
        return torch.zeros_like(kl)  # the KL term is dropped: weight 0


@dataclass(frozen=True)
class ELBO(_KLTermObjective):
    name: ClassVar[str] = "elbo"

    def kl_term(self, kl_per_dim, kl):
        return kl


@dataclass(frozen=True)
class FreeBits(_KLTermObjective):
    """Per-dimension free bits (paper Eq. 1): `lam` is the total target rate in nats, lam / nz per dimension;
    `per` "example" thresholds each example's KL_i (authors' code), "batch" the batch mean (Kingma et al.)."""

    lam: float
    per: str = "example"
    name: ClassVar[str] = "free-bits"
    uses_lam: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_lam(self.lam)
        if self.per not in FREE_BITS_PER:
            raise ValueError(f"FreeBits per must be one of {', '.join(FREE_BITS_PER)}, got {self.per!r}")

    @classmethod
    def for_run(cls, lam, free_bits_per, iwae_samples):
        return cls(lam, free_bits_per)

    def kl_term(self, kl_per_dim, kl):
        return free_bits_kl(kl_per_dim, self.lam, batch_mean=self.per == "batch")


@dataclass(frozen=True)
class FreeBitsTotal(_KLTermObjective):
    """FBP (Pelsmaeker and Aziz 2019): max(lam, KL) on the whole KL, `lam` in nats."""

    lam: float
    name: ClassVar[str] = "free-bits-total"
    uses_lam: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_lam(self.lam)

    @classmethod
    def for_run(cls, lam, free_bits_per, iwae_samples):
        return cls(lam)

    def kl_term(self, kl_per_dim, kl):
        return free_bits_total_kl(kl, self.lam)


def _check_lam(lam) -> None:
    if lam is None or not 0 < lam < math.inf:
        raise ValueError(f"lam must be a positive number of nats, got {lam!r}")


@dataclass(frozen=True)
class IWAE(Objective):
    """Burda et al. 2016's k-sample bound; `recon` is the mean -log p(x|z) over the k samples."""

    k: int = 10
    name: ClassVar[str] = "iwae"
    selected_on: ClassVar[str] = "bound"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"IWAE needs k >= 1 samples, got {self.k}")

    @classmethod
    def for_run(cls, lam, free_bits_per, iwae_samples):
        return cls(iwae_samples)

    def loss(self, model, batch, kl_weight=1.0):
        mean, logvar = _posterior(model, batch)
        kl = gaussian_kl_per_dim(mean, logvar).sum(dim=-1)
        z = model.sample_latent(mean, logvar, self.k)
        recon_samples = model.reconstruction_nll(batch.input_ids, batch.lengths, z)
        log_weights = importance_log_weights(recon_samples, z.float(), mean, logvar)
        return BatchLoss(-iwae_log_likelihood(log_weights).mean(), recon_samples.mean(dim=1), kl)

    def validation_scorer(self) -> Objective:
        return self


@dataclass(frozen=True)
class LanguageModel(Objective):
    """The LSTM-LM baseline: -log p(x), no latent variable."""

    name: ClassVar[str] = "lm"
    has_latent: ClassVar[bool] = False
    selected_on: ClassVar[str] = "recon"

    def loss(self, model, batch, kl_weight=1.0):
        nll = model.decoder.sentence_nll(batch.input_ids, batch.lengths, None)
        return BatchLoss(nll.mean(), nll, None)

    def validation_scorer(self) -> Objective:
        return self


OBJECTIVES: tuple[type[Objective], ...] = (Autoencoder, ELBO, FreeBits, FreeBitsTotal, IWAE, LanguageModel)


# ---- KL-weight schedules --------------------------------------------------------------------------------------


class KLSchedule(ABC):
    """The KL weight of the `step`-th update of a stage (counted from 1)."""

    @abstractmethod
    def __call__(self, step: int) -> float: ...


@dataclass(frozen=True)
class ConstantWeight(KLSchedule):
    weight: float = 1.0

    def __call__(self, step: int) -> float:
        return self.weight


@dataclass(frozen=True)
class LinearAnneal(KLSchedule):
    """linear_anneal_weight: from `start` to 1 over `epochs` epochs of `steps_per_epoch` updates."""

    start: float
    epochs: int
    steps_per_epoch: float

    def __call__(self, step: int) -> float:
        return linear_anneal_weight(step, self.steps_per_epoch, self.epochs, self.start)


@dataclass(frozen=True)
class CyclicWeight(KLSchedule):
    """cyclic_weight: Liu et al.'s cycles of `cycle_epochs`, rising from `start` over `rise_epochs`."""

    steps_per_epoch: int
    cycle_epochs: int = 10
    rise_epochs: int = 5
    start: float = 0.1

    def __call__(self, step: int) -> float:
        return cyclic_weight(step, self.steps_per_epoch, self.cycle_epochs, self.rise_epochs, self.start)


KL_SCHEDULES: tuple[type[KLSchedule], ...] = (ConstantWeight, LinearAnneal, CyclicWeight)
