"""The loss of one batch under a stage's objective: what the training loop minimises."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .data.batching import Batch
from .methods import Stage
from .modeling_textvae import TextVAEModel
from .objectives import (
    free_bits_kl,
    free_bits_total_kl,
    gaussian_kl_per_dim,
    importance_log_weights,
    iwae_log_likelihood,
)


@dataclass
class BatchLoss:
    loss: torch.Tensor  # scalar to minimise: mean over sentences
    recon: torch.Tensor  # [B] -log p(x|z), one sample (mean over samples for IWAE)
    kl: torch.Tensor | None  # [B] KL(q(z|x) || p(z)), None for the LM


def batch_loss(
    model: TextVAEModel,
    batch: Batch,
    objective: str,
    kl_weight: float = 1.0,
    lam: float | None = None,
    free_bits_batch_mean: bool = False,
    iwae_samples: int = 10,
) -> BatchLoss:
    if objective == "lm":
        nll = model.decoder.sentence_nll(batch.input_ids, batch.lengths, None)
        return BatchLoss(nll.mean(), nll, None)
    mean, logvar = model.encoder(batch.input_ids, batch.lengths)
    mean, logvar = mean.float(), logvar.float()
    kl_per_dim = gaussian_kl_per_dim(mean, logvar)
    kl = kl_per_dim.sum(dim=-1)
    if objective == "iwae":
        z = model.sample_latent(mean, logvar, iwae_samples)
        recon_samples = model.reconstruction_nll(batch.input_ids, batch.lengths, z)
        log_weights = importance_log_weights(recon_samples, z.float(), mean, logvar)
        return BatchLoss(-iwae_log_likelihood(log_weights).mean(), recon_samples.mean(dim=1), kl)
    z = model.sample_latent(mean, logvar, 1)
    recon = model.reconstruction_nll(batch.input_ids, batch.lengths, z).squeeze(1)
    if objective == "ae":  # the KL term is dropped: weight 0
        kl_term = torch.zeros_like(kl)
    elif objective == "elbo":
        kl_term = kl
    elif objective == "free-bits":
        kl_term = free_bits_kl(kl_per_dim, lam, batch_mean=free_bits_batch_mean)
    elif objective == "free-bits-total":
        kl_term = free_bits_total_kl(kl, lam)
    else:
        raise ValueError(f"unknown objective {objective!r}")
    return BatchLoss((recon + kl_weight * kl_term).mean(), recon, kl)


@torch.no_grad()
def validation_loss(model: TextVAEModel, batches, stage: Stage, device, iwae_samples: int = 10) -> dict:
    """Per-sentence averages over a validation set; `loss` is what model selection and lr decay watch:
    Recon (AE), NLL (LM), the IWAE bound with the training k (IWAE), -ELBO otherwise."""
    model.eval()
    watched = stage.validation_objective
    objective = watched if watched in ("lm", "iwae") else "elbo"
    total = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    n = 0
    for batch in batches:
        result = batch_loss(model, batch.to(device), objective, iwae_samples=iwae_samples)
        total["loss"] += float(result.loss) * batch.input_ids.size(0)
        total["recon"] += float(result.recon.sum())
        total["kl"] += float(result.kl.sum()) if result.kl is not None else 0.0
        n += batch.input_ids.size(0)
    recon, kl = total["recon"] / n, total["kl"] / n
    loss = {"ae": recon, "lm": recon, "iwae": total["loss"] / n}.get(watched, recon + kl)
    return {"loss": loss, "recon": recon, "kl": kl}
