"""Batched, length-ordered encoding shared by the encoders: little padding, rows back in input order."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from probe_common.errors import ProbeError
from vae.data.batching import EqualLengthBatcher
from vae.data.tokenizer import encode as encode_words
from vae.metrics import encode_posteriors
from vae.modeling_textvae import TextVAEModel

ENCODE_BATCH_SIZE = 256


@torch.no_grad()
def posteriors(model: TextVAEModel, tokenizer, sentences: list[str], device,
               batch_size: int = ENCODE_BATCH_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Mean and log-variance of q(z|x) per sentence in input order, batched by length: two float32 [N, nz]."""
    token_ids = encode_words(tokenizer, sentences)
    batcher = EqualLengthBatcher(token_ids, batch_size, pad_id=model.config.pad_token_id)
    means, logvars = encode_posteriors(model.encoder, batcher, device)
    return means.numpy(), logvars.numpy()


def posterior_means(model: TextVAEModel, tokenizer, sentences: list[str], device) -> np.ndarray:
    """mu of q(z|x), the representation of a VAE (Sections 3.2-3.3): float32 [N, nz]."""
    return posteriors(model, tokenizer, sentences, device)[0]


def encode_in_length_order(sentences: list[str], batch_size: int,
                           encode_batch: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Encode batches of similar length (little padding), then put the rows back in input order."""
    if not sentences:
        raise ProbeError("no sentences to encode")
    order = np.argsort([len(s) for s in sentences], kind="stable")
    rows = [encode_batch([sentences[i] for i in order[start : start + batch_size]])
            for start in range(0, len(order), batch_size)]
    codes = np.empty((len(sentences), rows[0].shape[1]), dtype=np.float32)
    codes[order] = np.concatenate(rows)
    return codes
