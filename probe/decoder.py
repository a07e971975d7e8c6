"""The decoding side of a trained text VAE, as the decoding tasks see it (tasks.base.TextDecoder), and the
language-model scoring of any run of this project, latent or not, as the lm task sees it (tasks.base.LMScorer).

Sentences go in and out as whitespace-tokenised strings and latent codes as numpy arrays; batching by
length, devices and the tokenizer stay in here.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast

from vae.data.batching import EqualLengthBatcher
from vae.data.tokenizer import decode, encode
from vae.device import decoder_token_budget
from vae.precision import resolve_precision
from vae.metrics import LMMetrics, evaluate_lm
from vae.modeling_textvae import TextVAEModel

from .encoding import posteriors

LM_BATCH_SIZE = 32  # as `probe eval-lm`, so the lm task reproduces its numbers for the same seed


def length_batches(model: TextVAEModel, tokenizer: PreTrainedTokenizerFast, sentences: list[str],
                   batch_size: int) -> EqualLengthBatcher:
    return EqualLengthBatcher(encode(tokenizer, sentences), batch_size, pad_id=model.config.pad_token_id)


class LMScorer:
    """The LM metrics of a TextVAEModel, a VAE or a plain LSTM-LM, on given sentences, as `probe eval-lm`."""

    def __init__(self, model: TextVAEModel, tokenizer: PreTrainedTokenizerFast, device: str | torch.device = "cpu"):
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = torch.device(device)

    def lm_metrics(self, sentences: list[str], iw_samples: int, seed: int) -> LMMetrics:
        """IW NLL/PPL, and for a VAE Recon, KL, -ELBO, ELBO PPL, MI and AU of these sentences (Section 2.1)."""
        batcher = length_batches(self.model, self.tokenizer, sentences, LM_BATCH_SIZE)
        return evaluate_lm(self.model, batcher, self.device, iw_samples,
                           max_decoder_tokens=decoder_token_budget(self.device), seed=seed,
                           precision=resolve_precision("auto", self.device))


class VAEDecoder:
    """Posterior, greedy decoding and -log p(x|z) of a TextVAEModel; the model is kept in eval mode (no dropout)."""

    def __init__(self, model: TextVAEModel, tokenizer: PreTrainedTokenizerFast, device: str | torch.device = "cpu",
                 batch_size: int = 256):
        if model.encoder is None:
            raise ValueError("VAEDecoder needs a model with a latent variable; this one is a plain language model")
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.latent_dim = model.config.latent_dim

    def posterior(self, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and log-variance of q(z|x): two float32 [N, nz] arrays in input order."""
        return posteriors(self.model, self.tokenizer, sentences, self.device, self.batch_size)

    def sample_posterior(self, sentences: list[str], rng: np.random.Generator) -> np.ndarray:
        """One z ~ q(z|x) per sentence, the noise drawn from `rng` so results follow its seed: [N, nz]."""
        mean, logvar = self.posterior(sentences)
        noise = rng.standard_normal(mean.shape, dtype=np.float32)
        return mean + noise * np.exp(0.5 * logvar)

    @torch.no_grad()
    def greedy_decode(self, z: np.ndarray, max_length: int = 100) -> list[str]:
        """Greedy decoding from each row of z [N, nz]: whitespace-joined words without <s>/</s>.

        <unk> stays: it is the word the model generates for anything outside its vocabulary."""
        z = self._latent_rows(z, expected_rows=None)
        sentences: list[str] = []
        for start in range(0, z.size(0), self.batch_size):
            ids = self.model.greedy_decode(z[start : start + self.batch_size], max_length=max_length)
            sentences.extend(decode(self.tokenizer, row) for row in ids)
        return sentences

    def as_model_sees(self, sentences: list[str]) -> list[str]:
        """Each sentence as the vocabulary reads it, unknown words as <unk>: the word of each input id, as the
        authors build BLEU references (utils.py:28,35), without <s> and </s>."""
        return [" ".join(self.tokenizer.convert_ids_to_tokens(ids[1:-1])) for ids in encode(self.tokenizer, sentences)]

    def vocabulary(self) -> frozenset[str]:
        """The words the model has ids for (special tokens included)."""
        return frozenset(self.tokenizer.get_vocab())

    @torch.no_grad()
    def reconstruction_nll(self, sentences: list[str], z: np.ndarray) -> np.ndarray:
        """-log p(x_i | z_i) in nats for each sentence and its row of z: float64 [N]."""
        z = self._latent_rows(z, expected_rows=len(sentences))
        nll = np.empty(len(sentences), dtype=np.float64)
        for batch in length_batches(self.model, self.tokenizer, sentences, self.batch_size).epoch():
            rows = batch.index.to(self.device)
            values = self.model.decoder.sentence_nll(batch.input_ids.to(self.device), batch.lengths, z[rows])
            nll[batch.index.numpy()] = values.double().cpu().numpy()
        return nll

    def _latent_rows(self, z: np.ndarray, expected_rows: int | None) -> torch.Tensor:
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape [N, {self.latent_dim}], got {list(z.shape)}")
        if expected_rows is not None and z.shape[0] != expected_rows:
            raise ValueError(f"z has {z.shape[0]} rows for {expected_rows} sentences")
        return torch.as_tensor(z, dtype=torch.float32, device=self.device)
