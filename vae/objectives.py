"""ELBO terms, free bits and KL-weight schedules. Every function returns per-example tensors or plain floats."""

from __future__ import annotations

import math

import torch


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
