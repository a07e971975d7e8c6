"""The validation loss of a stage: what model selection and lr decay watch."""

from __future__ import annotations

import torch

from .modeling_textvae import TextVAEModel
from .objectives import Objective


@torch.no_grad()
def validation_loss(model: TextVAEModel, batches, objective: Objective, device) -> dict:
    """Per-sentence averages over a validation set; `loss` is what the stage's objective is selected on
    (Objective.selected_on): Recon (AE, LM), its own bound (IWAE, with the training k), -ELBO otherwise."""
    model.eval()
    scorer = objective.validation_scorer()
    total = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    n = 0
    for batch in batches:
        result = scorer.loss(model, batch.to(device))
        total["loss"] += float(result.loss) * batch.input_ids.size(0)
        total["recon"] += float(result.recon.sum())
        total["kl"] += float(result.kl.sum()) if result.kl is not None else 0.0
        n += batch.input_ids.size(0)
    recon, kl = total["recon"] / n, total["kl"] / n
    loss = {"recon": recon, "bound": total["loss"] / n, "elbo": recon + kl}[objective.selected_on]
    return {"loss": loss, "recon": recon, "kl": kl}
