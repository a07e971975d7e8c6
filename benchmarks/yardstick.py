"""The yardstick: a textbook fp32 PyTorch implementation of the same LSTM VAE and loop.

Batches of one length, `nn.LSTM`, `nn.CrossEntropyLoss`, SGD with gradient clipping; importance-weighted
NLL scored one sentence per call with 100 samples per chunk, as the authors' evaluation does. Speed
benchmarks time the project against this, in the same process.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TextbookVAE(nn.Module):
    def __init__(self, vocab: int, embed: int = 128, hidden: int = 512, nz: int = 32):
        super().__init__()
        self.enc_embed, self.dec_embed = nn.Embedding(vocab, embed), nn.Embedding(vocab, embed)
        self.enc_lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.to_gaussian = nn.Linear(hidden, 2 * nz, bias=False)
        self.dec_lstm = nn.LSTM(embed + nz, hidden, batch_first=True)
        self.to_state = nn.Linear(nz, hidden, bias=False)
        self.out = nn.Linear(hidden, vocab, bias=False)
        self.xent = nn.CrossEntropyLoss(reduction="none")

    def posterior(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, (h, _) = self.enc_lstm(self.enc_embed(ids))
        return self.to_gaussian(h[-1]).chunk(2, dim=-1)

    def recon(self, ids: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per row, ids [N, T] of one length, z [N, nz]."""
        inputs, targets = ids[:, :-1], ids[:, 1:]
        x = torch.cat([self.dec_embed(inputs), z.unsqueeze(1).expand(-1, inputs.size(1), -1)], dim=-1)
        c = self.to_state(z).unsqueeze(0)
        h, _ = self.dec_lstm(x, (torch.tanh(c), c))
        logits = self.out(h)
        return self.xent(logits.reshape(-1, logits.size(-1)), targets.reshape(-1)).view(ids.size(0), -1).sum(1)

    def loss(self, ids: torch.Tensor, lam_per_dim: float, kl_weight: float = 1.0) -> torch.Tensor:
        """The free-bits objective of pretrain-fb's second stage, per example and dimension."""
        mean, logvar = self.posterior(ids)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        kl = 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1)
        return (self.recon(ids, z) + kl_weight * kl.clamp(min=lam_per_dim).sum(1)).mean()

    @torch.no_grad()
    def iw_nll(self, ids: torch.Tensor, samples: int = 1000, chunk: int = 100) -> float:
        """-log p(x) of ONE sentence ids [1, T]: log mean_k p(x, z_k) / q(z_k|x), chunks of 100 samples."""
        mean, logvar = self.posterior(ids)
        log_weights = []
        for _ in range(samples // chunk):
            eps = torch.randn(chunk, mean.size(1))
            z = mean + eps * (0.5 * logvar).exp()
            log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)
            log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(1)
            log_weights.append(-self.recon(ids.expand(chunk, -1), z) + log_pz - log_qz)
        return -float(torch.logsumexp(torch.cat(log_weights), 0) - math.log(samples))


def train_step(model: TextbookVAE, optimizer: torch.optim.Optimizer, ids: torch.Tensor, lam_per_dim: float) -> float:
    loss = model.loss(ids, lam_per_dim)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    return float(loss)
